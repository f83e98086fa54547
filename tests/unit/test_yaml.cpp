// The YAML reader's typing and the ruamel-style emitter, against the quoting table of
// spec/parse-tasks.md §2.4 (verified there against ruamel.yaml).
#include <gtest/gtest.h>

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
