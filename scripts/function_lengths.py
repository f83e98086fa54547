#!/usr/bin/env python3
"""Lists the C++ functions longer than --max lines in the given files or directories, and
exits 1 when there is one. A function is a brace block opened outside any other function
(at namespace or class scope) after a parameter list; lambdas and blocks inside it count as
its lines. Comments, string, character and raw string literals are skipped, so braces in
them count for nothing. --self-test checks the scanner on small sources first.

Used by the test suite to keep common/workflow's functions short (issue 20 §1: a function
reads as one step of the loop, not as the whole command)."""

import argparse
import pathlib
import re
import sys

SCOPES = re.compile(r"^\s*(?:template\s*<[^>]*>\s*)?(namespace|struct|class|union|enum|extern)\b")


def code_only(text):
    """The text with comments and literals blanked (newlines kept, so lines still count)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = ")" + text[i + 2:open_paren] + '"'
            j = text.find(delimiter, open_paren)
            j = n if j < 0 else j + len(delimiter)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            # a digit separator (1'000) is not a character literal
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(first line, line count, head) of each function of `text`."""
    code = code_only(text)
    found = []
    stack = []  # "scope", "block" or (start line, head) for a function
    head_start = 0  # where the text before the next brace starts
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";{}":
            if c == "{":
                head = code[head_start:i]
                in_function = any(isinstance(s, tuple) for s in stack)
                if in_function:
                    stack.append("block")
                elif SCOPES.match(head) or ")" not in head or re.search(r"=\s*$", head):
                    stack.append("scope")  # a namespace, a class, an initializer
                else:
                    stack.append((line, " ".join(head.split())[-70:]))
            elif c == "}" and stack:
                top = stack.pop()
                if isinstance(top, tuple):
                    found.append((top[0], line - top[0] + 1, top[1]))
            head_start = i + 1
    return found


def self_test():
    long_body = "    x();\n" * 90
    source = (
        'namespace a {\nstruct S {\n    int f() {\n        return 1;\n    }\n};\n'
        'const char* r = R"(}}}{{{)";\n'
        "// } a comment {\n"
        "void g() {\n" + long_body + "    auto l = [] { return '}'; };\n}\n"
        "int h(int v) {\n    return v > 1'000 ? 0 : 1;\n}\n} // namespace a\n")
    got = {head.split("(")[0].split()[-1]: count for _, count, head in functions(source)}
    expected = {"f": 3, "g": 93, "h": 3}
    if got != expected:
        sys.exit("function_lengths self-test: got %r, expected %r" % (got, expected))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", type=pathlib.Path)
    p.add_argument("--max", type=int, default=80)
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args()
    if args.self_test:
        self_test()
    files = []
    for path in args.paths:
        files += sorted(path.rglob("*.[ch]pp")) if path.is_dir() else [path]
    if not files:
        sys.exit("function_lengths: no C++ files under " + " ".join(map(str, args.paths)))
    long = []
    for f in files:
        for start, count, head in functions(f.read_text()):
            if count > args.max:
                long.append("%s:%d: %d lines (over %d): %s" % (f, start, count, args.max, head))
    for entry in long:
        print(entry, file=sys.stderr)
    return 1 if long else 0


if __name__ == "__main__":
    sys.exit(main())
