// The YAML reader's typing and the ruamel-style emitter, against the quoting table of
// spec/parse-tasks.md §2.4 (verified there against ruamel.yaml).
#include <gtest/gtest.h>

#include <re2/re2.h>

#include <map>
#include <random>
#include <string_view>
#include <vector>

#include "kitty/yaml.hpp"
#include "process.hpp"

using kitty::YamlNode;
using Kind = YamlNode::Kind;

namespace {

std::string emit_one(const YamlNode& value) {
    YamlNode map;
    map.kind = Kind::mapping;
    map.entries.push_back({"k", value});
    return kitty::emit_yaml_mapping(map);
}

std::string emit_string(const std::string& s) {
    return emit_one(YamlNode::string(s));
}

} // namespace

TEST(YamlEmitter, QuotingTable) {
    for (const char* plain : {"WP01", "Setup", "src/**", "P1", "yes", "on", "a b",
                              "\xC3\xBC"
                              "n\xC3\xAF",
                              "a:b", "x#c", "-y", "Track 4 \xE2\x80\x94 X"}) {
        EXPECT_EQ(emit_string(plain), std::string("k: ") + plain + "\n") << plain;
    }
    for (const char* single : {"Fix: the thing",
                               "a: b",
                               "x #c",
                               "#x",
                               "- y",
                               "*star",
                               "@at",
                               "null",
                               "true",
                               "1.0",
                               "079",
                               "1",
                               "",
                               "  leading space",
                               "2026-04-01T00:00:00Z",
                               "trailing ",
                               "~",
                               "2026-04-01",
                               "<<",
                               "0x1F",
                               "1_000",
                               ".inf",
                               "False"}) {
        EXPECT_EQ(emit_string(single), std::string("k: '") + single + "'\n") << single;
    }
    EXPECT_EQ(emit_string("'q'"), "k: \"'q'\"\n");
    EXPECT_EQ(emit_string("\"dq\""), "k: '\"dq\"'\n");
    EXPECT_EQ(emit_string("line1\nline2: x\n"), "k: \"line1\\nline2: x\\n\"\n");
    EXPECT_EQ(emit_string("tab\there"), "k: \"tab\\there\"\n");
    EXPECT_EQ(emit_string("bom\xEF\xBB\xBFx"), "k: \"bom\\uFEFFx\"\n");
    EXPECT_EQ(emit_string("emoji \xF0\x9F\x98\x80"), "k: emoji \xF0\x9F\x98\x80\n");
}

TEST(YamlEmitter, BlockLayout) {
    const YamlNode doc = kitty::parse_yaml("a: []\nb:\n- x\n- y\nh:\n- at: '1'\n  who: me\n"
                                           "- - p\n  - q\nm:\n  n: 1\n  o: {}\nz:\n");
    EXPECT_EQ(kitty::emit_yaml_mapping(doc), "a: []\nb:\n- x\n- y\nh:\n- at: '1'\n  who: me\n"
                                             "- - p\n  - q\nm:\n  n: 1\n  o: {}\nz:\n");
}

TEST(YamlReader, TypesPlainScalarsLikeRuamel12) {
    EXPECT_EQ(kitty::resolve_plain_scalar("079"), Kind::integer);
    EXPECT_EQ(kitty::resolve_plain_scalar("0o17"), Kind::integer);
    EXPECT_EQ(kitty::resolve_plain_scalar("1_000"), Kind::integer);
    EXPECT_EQ(kitty::resolve_plain_scalar("1.0"), Kind::floating);
    EXPECT_EQ(kitty::resolve_plain_scalar("1e3"), Kind::floating);
    EXPECT_EQ(kitty::resolve_plain_scalar(".NaN"), Kind::floating);
    EXPECT_EQ(kitty::resolve_plain_scalar("True"), Kind::boolean);
    EXPECT_EQ(kitty::resolve_plain_scalar("yes"), Kind::string); // YAML 1.2: not a boolean
    EXPECT_EQ(kitty::resolve_plain_scalar("Null"), Kind::null);
    EXPECT_EQ(kitty::resolve_plain_scalar(""), Kind::null);
    EXPECT_EQ(kitty::resolve_plain_scalar("2026-04-01T00:00:00Z"), Kind::timestamp);
    EXPECT_EQ(kitty::resolve_plain_scalar("2026-04-01"), Kind::timestamp);
    EXPECT_EQ(kitty::resolve_plain_scalar("2026-4-1"), Kind::string);
    EXPECT_EQ(kitty::resolve_plain_scalar("WP01"), Kind::string);

    const YamlNode doc = kitty::parse_yaml("a: '079'\nb: 079\nc: \"x\"\nd:\ne: !!str 5\n");
    EXPECT_EQ(doc.entries[0].second.kind, Kind::string);
    EXPECT_EQ(doc.entries[1].second.kind, Kind::integer);
    EXPECT_EQ(doc.entries[2].second.kind, Kind::string);
    EXPECT_EQ(doc.entries[3].second.kind, Kind::null);
    EXPECT_EQ(doc.entries[4].second.kind, Kind::string);
    EXPECT_EQ(doc.key_lines[4], 5);
}

// The resolver skips a pattern when a quick check of the text says it cannot match; the
// oracle here is ruamel's patterns alone, tried in ruamel's order, on every text of a few
// characters drawn from what the patterns are made of, and on random longer ones.
TEST(YamlReader, QuickChecksNeverChangeTheResolvedTag) {
    const RE2 boolean("^(?:true|True|TRUE|false|False|FALSE)$");
    const RE2 floating("^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                       "|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
                       "|[-+]?\\.[0-9_]+(?:[eE][-+][0-9]+)?"
                       "|[-+]?\\.(?:inf|Inf|INF)"
                       "|\\.(?:nan|NaN|NAN))$");
    const RE2 integer("^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$");
    const RE2 null("^(?:~|null|Null|NULL|)$");
    const RE2 timestamp("^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                        "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                        "(?:[Tt]|[ \\t]+)[0-9][0-9]?"
                        ":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
                        "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$");
    for (const RE2* re : {&boolean, &floating, &integer, &null, &timestamp}) {
        ASSERT_TRUE(re->ok()) << re->pattern();
    }
    const auto oracle = [&](const std::string& t) {
        const auto first_in = [&](std::string_view set) {
            return !t.empty() && set.find(t[0]) != std::string_view::npos;
        };
        if (first_in("tTfF") && RE2::FullMatch(t, boolean)) {
            return Kind::boolean;
        }
        if (first_in("-+0123456789.") && RE2::FullMatch(t, floating)) {
            return Kind::floating;
        }
        if (first_in("-+0123456789") && RE2::FullMatch(t, integer)) {
            return Kind::integer;
        }
        if ((t.empty() || first_in("~nN")) && RE2::FullMatch(t, null)) {
            return Kind::null;
        }
        if (first_in("0123456789") && RE2::FullMatch(t, timestamp)) {
            return Kind::timestamp;
        }
        return Kind::string;
    };
    std::map<Kind, int> typed;
    const auto check = [&](const std::string& t) {
        const Kind want = oracle(t);
        ++typed[want];
        ASSERT_EQ(kitty::resolve_plain_scalar(t), want) << "'" << t << "'";
    };
    for (const std::string& t : kitty::test::every_text(
             {"0", "9", "-", "+", ".", "_", "e", "E", "x", "b", "o", "~", "n", "N", "t", "T"}, 4)) {
        check(t);
    }
    // Longer texts from pieces of every pattern, so that each tag is hit often.
    const std::vector<std::string> pieces{
        "0",   "1",   "7",   "9",    "_",     "-",    "+",    ".",    "e",    "E",
        "x",   "o",   "b",   "a",    "F",     "T",    "t",    "Z",    ":",    " ",
        "\t",  "inf", "NaN", "true", "False", "null", "NULL", "2026", "-04-", "01",
        "T12", ":00", "~",   "WP",   "1e3",   ".5",   "0x1f"};
    std::mt19937 random(20261206);
    for (int i = 0; i < 200000; ++i) {
        std::string t;
        const int n = 1 + static_cast<int>(random() % 8);
        for (int k = 0; k < n; ++k) {
            t += pieces[random() % pieces.size()];
        }
        check(t);
    }
    // Timestamps need a date first: a date, then pieces of the time part.
    const std::vector<std::string> dates{"2026-04-01", "2026-4-1", "2026-04-1x", "20260401"};
    const std::vector<std::string> times{"T",  "t", " ", "\t",  "1",  "12",  ":00", ":0",
                                         ".5", ".", "Z", "+01", "-1", ":30", "x"};
    for (int i = 0; i < 50000; ++i) {
        std::string t = dates[random() % dates.size()];
        const int n = static_cast<int>(random() % 7);
        for (int k = 0; k < n; ++k) {
            t += times[random() % times.size()];
        }
        check(t);
    }
    // The walk reached every tag, many times.
    for (Kind k : {Kind::boolean, Kind::floating, Kind::integer, Kind::null, Kind::timestamp}) {
        EXPECT_GT(typed[k], 50) << static_cast<int>(k);
    }
}

TEST(YamlReader, Errors) {
    try {
        kitty::parse_yaml("a: 1\na: 2\n");
        FAIL() << "duplicate key accepted";
    } catch (const kitty::YamlError& e) {
        EXPECT_EQ(e.line, 2);
        EXPECT_NE(e.message.find("duplicate"), std::string::npos);
    }
    EXPECT_THROW(kitty::parse_yaml("a: [1, 2\n"), kitty::YamlError);
    EXPECT_THROW(kitty::parse_yaml(std::string(1000, '[')), kitty::YamlError);
}

// The escapes of Latin-1 code points in double-quoted scalars decode to UTF-8, as in
// ruamel (yaml-cpp 0.7 alone produces single bytes for them); found by the fuzzer.
TEST(Yaml, LatinOneEscapesAreUtf8) {
    const kitty::YamlNode doc = kitty::parse_yaml("t: \"a\\N b\\_c\\xe9\"\n\"k\\xe9\": 1\n");
    ASSERT_EQ(doc.entries.size(), 2u);
    EXPECT_EQ(doc.entries[0].second.text, "a\u0085 b\u00a0c\u00e9");
    EXPECT_EQ(doc.entries[1].first, "k\u00e9");
}

// D01: the tree copies an aliased node at every alias; without a budget this document
// grew to 24 GB. It is an error naming the budget, and an ordinary use of anchors is not.
TEST(YamlReader, AliasExpansionIsBounded) {
    try {
        kitty::parse_yaml(kitty::test::yaml_alias_bomb());
        FAIL() << "the alias bomb was expanded";
    } catch (const kitty::YamlError& e) {
        EXPECT_NE(e.message.find("aliases expand to more than"), std::string::npos) << e.message;
    }
    // A big scalar repeated by aliases counts by its length too.
    std::string repeated = "a: &a " + std::string(100000, 'x') + "\nb: [";
    for (int i = 0; i < 50; ++i) {
        repeated += "*a, ";
    }
    EXPECT_THROW(kitty::parse_yaml(repeated + "*a]\n"), kitty::YamlError);

    const kitty::YamlNode doc =
        kitty::parse_yaml("base: &base [src/a/**, src/b/**]\nowned_files: *base\nalso: *base\n");
    ASSERT_EQ(doc.entries.size(), 3u);
    EXPECT_EQ(doc.entries[2].second.items.size(), 2u);
}
