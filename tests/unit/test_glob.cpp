// fnmatch against CPython 3.11's fnmatch.fnmatch: every expectation below is what
// Python returns for the same (name, pattern), checked with the interpreter.
#include <gtest/gtest.h>

#include "kitty/glob.hpp"

namespace {

struct Case {
    const char* name;
    const char* pattern;
    bool matches;
};

} // namespace

TEST(Glob, MatchesAsPythonFnmatch) {
    const Case cases[] = {
        {"abc", "a*c", true},
        {"a/b/c", "a*c", true},
        {"a\nb", "a*b", true},
        {"", "*", true},
        {"", "**", true},
        {"x", "?", true},
        {"é", "?", true},
        {"ab", "?", false},
        {"b", "[abc]", true},
        {"d", "[!abc]", true},
        {"a", "[!abc]", false},
        {"]", "[]]", true},
        {"]", "[!]]", false},
        {"x", "[!]]", true},
        {"[", "[", true},
        {"[a", "[a", true},
        {"a", "[a", false},
        {"-", "[a-]", true},
        {"b", "[a-c]", true},
        {"-", "[-a]", true},
        {"-", "[!-a]", false},
        {"b", "[c-a]", false},
        {"x", "[!c-a]", true},
        {"c", "[a-c-e]", true},
        {"-", "[a-c-e]", true},
        {"d", "[a-c-e]", false},
        {"e", "[a-c-e]", true},
        {"\\", "[\\]", true},
        {"\\x", "\\x", true},
        {"^", "[^a]", true},
        {"b", "[^a]", false},
        {"src/a.py", "src/*.py", true},
        {"SRC/a.py", "src/*.py", false},
        {"ab", "a[]b", false},
        {"a]b", "a[]]b", true},
        {"é", "[a-ź]", true},
        {"aXbXc", "a*b*c", true},
        {"abcabd", "*abd", true},
        {"a\nb", "a?b", true},
        {"&", "[&&]", true},
        {"~", "[a~]", true},
        {"b", "[!b-a]", true},
        {"!", "[!]", false},
        {"[!]", "[!]", true},
        {"x", "[!b-ac-e]", true},
        {"d", "[!b-ac-e]", false},
        {"a", "[b-a]", false},
        {"src/foo.pyc", "src/foo.py*", true},
        {"aaa", "a*a*a*a", false},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(kitty::fnmatch(c.name, c.pattern), c.matches)
            << "fnmatch(" << c.name << ", " << c.pattern << ")";
    }
}

TEST(Glob, LiteralHeadStopsAtTheFirstWildcard) {
    EXPECT_EQ(kitty::glob_literal_head("src/*.py"), "src/");
    EXPECT_EQ(kitty::glob_literal_head("src/[ab]/x"), "src/");
    EXPECT_EQ(kitty::glob_literal_head("a?b"), "a");
    EXPECT_EQ(kitty::glob_literal_head("README.md"), "README.md");
    EXPECT_EQ(kitty::glob_literal_head("**"), "");
}

// Many stars against a long name that lacks the final "b" (a backtracking trap).
TEST(Glob, ManyStarsWithoutTheSuffixDoNotMatch) {
    const std::string name(5000, 'a');
    std::string pattern;
    for (int i = 0; i < 50; ++i) {
        pattern += "*a";
    }
    pattern += "b";
    EXPECT_FALSE(kitty::fnmatch(name, pattern));
}
