#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"
#include "process.hpp"

using kitty::first_invalid_utf8;

TEST(Utf8, AcceptsValidText) {
    EXPECT_FALSE(first_invalid_utf8("plain ascii"));
    EXPECT_FALSE(first_invalid_utf8("caf\xc3\xa9 \xe2\x94\x9c \xf0\x9f\x98\x80"));
    EXPECT_FALSE(first_invalid_utf8(""));
}

TEST(Utf8, ReportsOffsetOfFirstBadByte) {
    EXPECT_EQ(first_invalid_utf8("ab\xffz"), 2u);
    EXPECT_EQ(first_invalid_utf8("ab\xc3"), 2u);           // truncated sequence
    EXPECT_EQ(first_invalid_utf8("x\xc0\xaf"), 1u);        // overlong '/'
    EXPECT_EQ(first_invalid_utf8("xy\xed\xa0\x80"), 2u);   // UTF-16 surrogate
    EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u); // above U+10FFFF
    EXPECT_EQ(first_invalid_utf8("ok\xe2\x28\xa1"), 2u);   // bad continuation
}

// The check reads eight ASCII bytes at a time: a bad byte at every offset around those
// words is found where it is, and a valid sequence across a word's end passes.
TEST(Utf8, BadByteFoundAtEveryOffsetOfTheAsciiFastPath) {
    for (std::size_t at = 0; at < 40; ++at) {
        std::string text(48, 'a');
        text[at] = '\xff';
        EXPECT_EQ(first_invalid_utf8(text), at) << at;
        std::string valid(48, 'a');
        valid.replace(at, 4, "\xf0\x9f\x98\x80"); // U+1F600
        EXPECT_FALSE(first_invalid_utf8(valid)) << at;
        std::string truncated(at, 'a');
        truncated += "\xe2\x94";
        EXPECT_EQ(first_invalid_utf8(truncated), at) << at;
    }
}

TEST(Newlines, CrLfAndLoneCrBecomeLf) {
    EXPECT_EQ(kitty::normalize_newlines("a\r\nb\rc\n\r\n\r"), "a\nb\nc\n\n\n");
}

TEST(ReadTextFile, BomPolicyAndNormalisation) {
    kitty::test::TempDir dir;
    kitty::test::write_fixture(dir / "bom.md", "\xEF\xBB\xBF# Title\r\nbody\r");
    EXPECT_EQ(kitty::read_text_file(dir / "bom.md", kitty::Bom::strip), "# Title\nbody\n");
    EXPECT_EQ(kitty::read_text_file(dir / "bom.md", kitty::Bom::keep),
              "\xEF\xBB\xBF# Title\nbody\n");
}

TEST(ReadTextFile, InvalidUtf8IsInputErrorWithOffsetAndLine) {
    kitty::test::TempDir dir;
    kitty::test::write_fixture(dir / "bad.md", "line one\nline \xfe two\n");
    try {
        kitty::read_text_file(dir / "bad.md", kitty::Bom::keep);
        FAIL() << "no error";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        EXPECT_EQ(e.code(), "INVALID_UTF8");
        EXPECT_EQ(e.line(), 2);
        EXPECT_NE(std::string(e.what()).find("byte offset 14"), std::string::npos) << e.what();
    }
}

TEST(ReadTextFile, MissingFileIsNotFound) {
    try {
        kitty::read_file_bytes("/nonexistent/kitty/file");
        FAIL() << "no error";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        EXPECT_EQ(e.code(), "NOT_FOUND");
    }
}

TEST(ReadTextFile, DirectoriesLargeFilesAndFilesOfNoSize) {
    kitty::test::TempDir dir;
    try {
        kitty::read_file_bytes(dir.path());
        ADD_FAILURE() << "a directory was read";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "NOT_A_FILE");
    }
    std::string big;
    for (int i = 0; big.size() < 300000; ++i) {
        big += std::to_string(i) + "\n";
    }
    kitty::test::write_fixture(dir / "big.txt", big);
    EXPECT_EQ(kitty::read_file_bytes(dir / "big.txt"), big);
    kitty::test::write_fixture(dir / "empty.txt", "");
    EXPECT_EQ(kitty::read_file_bytes(dir / "empty.txt"), "");
    // A file whose size says 0 though it has content.
    const std::string status = kitty::read_file_bytes("/proc/self/status");
    EXPECT_NE(status.find("Name:"), std::string::npos);
}

TEST(FileHolds, TrueOnlyForTheSameBytesOfARegularFile) {
    kitty::test::TempDir dir;
    std::string big;
    for (int i = 0; big.size() < 300000; ++i) {
        big += std::to_string(i) + "\n";
    }
    kitty::test::write_fixture(dir / "big.txt", big);
    EXPECT_TRUE(kitty::file_holds(dir / "big.txt", big));
    // A byte changed past the first piece read, the same size.
    std::string changed = big;
    changed[200000] = changed[200000] == 'x' ? 'y' : 'x';
    EXPECT_FALSE(kitty::file_holds(dir / "big.txt", changed));
    EXPECT_FALSE(kitty::file_holds(dir / "big.txt", big + "1\n")); // appended to
    EXPECT_FALSE(kitty::file_holds(dir / "big.txt", big.substr(0, big.size() - 1)));
    kitty::test::write_fixture(dir / "empty.txt", "");
    EXPECT_TRUE(kitty::file_holds(dir / "empty.txt", ""));
    EXPECT_FALSE(kitty::file_holds(dir / "missing.txt", ""));
    EXPECT_FALSE(kitty::file_holds(dir.path(), ""));
}

// Python's repr(): each expectation is what CPython 3.11 prints for the same string.
TEST(PythonRepr, QuotesEscapesAndNonPrintables) {
    EXPECT_EQ(kitty::python_repr("it's"), "\"it's\"");
    EXPECT_EQ(kitty::python_repr("a'b\"c"), "'a\\'b\"c'");
    EXPECT_EQ(kitty::python_repr("say \"hi\""), "'say \"hi\"'");
    EXPECT_EQ(kitty::python_repr("tab\there\nnl\r"), "'tab\\there\\nnl\\r'");
    EXPECT_EQ(kitty::python_repr("\\"), "'\\\\'");
    EXPECT_EQ(kitty::python_repr(std::string("\0", 1)), "'\\x00'");
    EXPECT_EQ(kitty::python_repr("\x7f"), "'\\x7f'");
    EXPECT_EQ(kitty::python_repr("\u00a0"), "'\\xa0'");
    EXPECT_EQ(kitty::python_repr("\u200b"), "'\\u200b'");
    EXPECT_EQ(kitty::python_repr("\u2028"), "'\\u2028'");
    EXPECT_EQ(kitty::python_repr("\ue000"), "'\\ue000'");
    EXPECT_EQ(kitty::python_repr("\U0010ffff"), "'\\U0010ffff'");
    EXPECT_EQ(kitty::python_repr("a b \u00e9"), "'a b \u00e9'");
}

TEST(PyStrip, StripsUnicodeWhitespace) {
    EXPECT_EQ(kitty::py_strip("\u00a0 x y\t\u3000\n"), "x y");
    EXPECT_EQ(kitty::py_strip("\u200bx"), "\u200bx"); // ZERO WIDTH SPACE is not isspace()
    EXPECT_EQ(kitty::py_strip(" \x1c"), "");
    EXPECT_EQ(kitty::py_strip(""), "");
}

// Python's \s and \d inside a character class: the ownership path pattern of 3.1.1's
// infer_ownership, whose [^\s...] once became a nested class RE2 rejects.
TEST(PythonRegex, ClassEscapesExpandInsideACharacterClass) {
    const kitty::Regex path(
        kitty::python_regex(R"(((?:src|tests?|kitty-specs|docs)/[^\s`'")\]>]+))"));
    std::string token;
    EXPECT_TRUE(RE2::PartialMatch("see `src/specify_cli/cli/init.py` now", path, &token));
    EXPECT_EQ(token, "src/specify_cli/cli/init.py");
    // U+3000 is Python whitespace, so it ends the token as a space does.
    EXPECT_TRUE(RE2::PartialMatch("docs/a.md\u3000docs/b.md", path, &token));
    EXPECT_EQ(token, "docs/a.md");
    EXPECT_TRUE(RE2::PartialMatch("tests/x]y", path, &token));
    EXPECT_EQ(token, "tests/x");

    // \d in a class is category Nd (here ARABIC-INDIC DIGIT ONE), a ']' first is a member.
    const kitty::Regex digits(kitty::python_regex(R"(^[\d]+$)"));
    EXPECT_TRUE(RE2::FullMatch("12\u0661", digits));
    const kitty::Regex bracket(kitty::python_regex(R"(^[]\s]+$)"));
    EXPECT_TRUE(RE2::FullMatch("] ]", bracket));
    EXPECT_FALSE(RE2::FullMatch("]x", bracket));
    // Outside a class \s is still a class of its own.
    const kitty::Regex spaced(kitty::python_regex(R"(^a\s+b$)"));
    EXPECT_TRUE(RE2::FullMatch("a \u2028\tb", spaced));
}

TEST(Regex, ABadPatternIsAnInternalErrorNamingIt) {
    try {
        const kitty::Regex bad("[[:nope:]");
        FAIL() << "no error";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::internal);
        EXPECT_EQ(e.code(), "BAD_PATTERN");
        EXPECT_NE(std::string(e.what()).find("'[[:nope:]'"), std::string::npos) << e.what();
    }
}

TEST(Text, StrippedLinesAreNumberedAndBlankOnesSkipped) {
    std::vector<std::pair<int, std::string>> seen;
    kitty::for_each_stripped_line("  a \n\n\t\r\nb\r\n  c", [&](int n, std::string_view line) {
        seen.emplace_back(n, std::string(line));
    });
    EXPECT_EQ(seen, (std::vector<std::pair<int, std::string>>{{1, "a"}, {4, "b"}, {5, "c"}}));
    int calls = 0;
    kitty::for_each_stripped_line("", [&](int, std::string_view) { ++calls; });
    kitty::for_each_stripped_line("\n \n", [&](int, std::string_view) { ++calls; });
    EXPECT_EQ(calls, 0);
}

TEST(Text, JoinPutsTheSeparatorBetweenItems) {
    EXPECT_EQ(kitty::join({}), "");
    EXPECT_EQ(kitty::join({"a"}), "a");
    EXPECT_EQ(kitty::join({"a", "", "c"}), "a, , c");
    EXPECT_EQ(kitty::join({"", "b"}), ", b");
    EXPECT_EQ(kitty::join({"src", "api"}, "/"), "src/api");
}

// Python's str.splitlines (its results, printed by Python 3.11, as the table), for the line
// breaks it knows, CRLF, non-ASCII text and a byte that is not UTF-8.
TEST(PythonSplitlines, SplitsWherePythonDoes) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {"a\nb", {"a", "b"}},
        {"a\r\nb\r", {"a", "b"}},
        {"a\rb", {"a", "b"}},
        {"\n", {""}},
        {"", {}},
        {"a\x0b"
         "b\x0c"
         "c\x1c"
         "d\x1d"
         "e\x1e"
         "f",
         {"a", "b", "c", "d", "e", "f"}},
        {"a\u0085b", {"a", "b"}},
        {"a\u2028b\u2029c", {"a", "b", "c"}},
        {"\u00e9\nx", {"\u00e9", "x"}},
        {"\x1f", {"\x1f"}},
        {"a\n\nb", {"a", "", "b"}},
        {"x\r\n\r\ny", {"x", "", "y"}},
        {"tab\there  \n", {"tab\there  "}},
        {"a\x80\nb", {"a\x80", "b"}},
    };
    for (const auto& [text, want] : cases) {
        const auto got = kitty::python_splitlines(text);
        EXPECT_EQ(std::vector<std::string>(got.begin(), got.end()), want) << "'" << text << "'";
    }
}
