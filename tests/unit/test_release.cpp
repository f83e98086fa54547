// Versions, CHANGELOG headings and sections, and version proposals, against the verified
// tables of ../shared/spec/release.md (section numbers below).
#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/release.hpp"

using kitty::parse_release_version;
using kitty::ReleaseVersion;

// §1.2 verified tuples and what is not a release version.
TEST(ReleaseVersion, ParsesThePep440Subset) {
    EXPECT_EQ(parse_release_version("1.0.0"), (ReleaseVersion{1, 0, 0, 3, 0}));
    EXPECT_EQ(parse_release_version("1.0.0a"), (ReleaseVersion{1, 0, 0, 0, 0}));
    EXPECT_EQ(parse_release_version("1.0.0a0"), (ReleaseVersion{1, 0, 0, 0, 0}));
    EXPECT_EQ(parse_release_version("1.0.0alpha1"), (ReleaseVersion{1, 0, 0, 0, 1}));
    EXPECT_EQ(parse_release_version("1.0.0RC1"), (ReleaseVersion{1, 0, 0, 2, 1}));
    EXPECT_EQ(parse_release_version("1.0.0Beta2"), (ReleaseVersion{1, 0, 0, 1, 2}));
    EXPECT_EQ(parse_release_version("01.2.3"), (ReleaseVersion{1, 2, 3, 3, 0}));
    for (const char* bad : {"3.1", "3.1.1.dev1", "v3.1.1", "3.1.1-rc1", "3.1.1.a1", "3.1.1c1",
                            "3.1.1.1", "", "3.1.1 "}) {
        EXPECT_FALSE(parse_release_version(bad)) << bad;
    }
    EXPECT_LT(*parse_release_version("1.0.0a9"), *parse_release_version("1.0.0b1"));
    EXPECT_LT(*parse_release_version("1.0.0rc3"), *parse_release_version("1.0.0"));
    EXPECT_LT(*parse_release_version("1.0.9"), *parse_release_version("1.0.10"));
    EXPECT_EQ(*parse_release_version("1.0.1A1"), *parse_release_version("1.0.1alpha1"));
}

// §1.5 heading recognition table.
TEST(Changelog, HeadingRecognition) {
    const std::pair<const char*, const char*> rows[] = {
        {"## [3.1.1] - 2026-04-09", "3.1.1"},
        {"## 3.1.1", "3.1.1"},
        {"##3.1.1", "3.1.1"},
        {"## [3.1.1]", "3.1.1"},
        {"## [ 3.1.1 ]", "3.1.1"},
        {"## [3.1.1", "3.1.1"},
        {"## 3.1.1]", "3.1.1"},
        {"## [3.1.1]-x", "3.1.1"},
        {"## [3.1.1] - 2025-12-14 [YANKED]", "3.1.1"},
        {"## [3.1.1-rc1]", "3.1.1"},
        {"## [3.1.1alpha]", "3.1.1alpha"},
        {"## [3.1.1beta2]", "3.1.1beta2"},
        {"## [3.1.1RC1]", "3.1.1RC1"},
        {"## [3.1.1] 2026", nullptr},
        {"## 3.1.1 ", nullptr},
        {"## [3.1.1]  ", nullptr},
        {"## [3.1.1] \xE2\x80\x93 2026", nullptr},
        {"## v3.1.1", nullptr},
        {"### 3.1.1", nullptr},
        {" ## 3.1.1", nullptr},
        {"## [3.1.1a]", nullptr},
        {"## [3.1.1rc]", nullptr},
        {"## 3.1.1.1", nullptr},
        {"## [Unreleased]", nullptr},
    };
    for (const auto& [line, version] : rows) {
        const auto got = kitty::changelog_heading_version(line);
        if (version == nullptr) {
            EXPECT_FALSE(got) << line;
        } else {
            EXPECT_EQ(got.value_or("<none>"), version) << line;
        }
    }
}

// §1.5 consequences.
TEST(Changelog, EntryDetection) {
    using kitty::changelog_has_entry;
    EXPECT_TRUE(changelog_has_entry("# C\n## [3.1.1] - d\n\n- fix\n## [3.1.0]\n", "3.1.1"));
    EXPECT_FALSE(changelog_has_entry("## [3.1.1] - d\n\n   \n## [3.1.0]\n- x\n", "3.1.1"));
    // Only the first matching heading counts.
    EXPECT_FALSE(changelog_has_entry("## [3.1.1]\n## [3.1.1]\n- x\n", "3.1.1"));
    // Unrecognised headings are content.
    EXPECT_TRUE(changelog_has_entry("## [3.1.1] - d\n## [Unreleased]\n", "3.1.1"));
    EXPECT_TRUE(changelog_has_entry("## [3.1.1] - d\n### Fixed\n", "3.1.1"));
    // Exact, case-sensitive version match; CRLF, CR and a BOM are fine.
    EXPECT_FALSE(changelog_has_entry("## [3.1.1a3]\n- x\n", "3.1.1"));
    EXPECT_FALSE(changelog_has_entry("## [3.1.1RC1]\n- x\n", "3.1.1rc1"));
    EXPECT_TRUE(changelog_has_entry("\xEF\xBB\xBF## [3.1.1]\r\n- x\r\n", "3.1.1"));
    EXPECT_TRUE(changelog_has_entry("## [3.1.1]\r- x\r", "3.1.1"));
    // A trailing space defeats the heading; "-rc1" is swallowed into 3.1.1.
    EXPECT_FALSE(changelog_has_entry("## 3.1.1 \n- x\n", "3.1.1"));
    EXPECT_TRUE(changelog_has_entry("## [3.1.1-rc1]\n- x\n", "3.1.1"));
    // Whitespace-only by Python's rules (U+3000) is empty.
    EXPECT_FALSE(changelog_has_entry("## [3.1.1]\n\xE3\x80\x80\n", "3.1.1"));
}

// §1.10.
TEST(Changelog, ExtractSection) {
    const std::string text =
        "# C\n## [1.2.0] - d\n\n### Added\n  - a thing  \n\n## [1.1.0]\n- old\n"
        "## [0.9.0]\n\n  \n## [0.8.0]\n";
    EXPECT_EQ(kitty::extract_changelog_section(text, "1.2.0"), "### Added\n  - a thing  ");
    EXPECT_EQ(kitty::extract_changelog_section(text, "1.1.0"), "- old");
    EXPECT_EQ(kitty::extract_changelog_section(text, "0.9.0"), "");
    EXPECT_EQ(kitty::extract_changelog_section(text, "0.8.0"),
              "Release 0.8.0\n\nNo changelog entry found for this version.");
    EXPECT_EQ(kitty::extract_changelog_section(text, "2.0.0"),
              "Release 2.0.0\n\nNo changelog entry found for this version.");
}

// §3.2 table.
TEST(ProposeVersion, ChannelTable) {
    using kitty::propose_version;
    EXPECT_EQ(propose_version("3.1.1a3", "alpha"), "3.1.1a4");
    EXPECT_EQ(propose_version("3.1.1a3", "beta"), "3.1.1b1");
    EXPECT_EQ(propose_version("3.1.1a3", "stable"), "3.1.1");
    EXPECT_EQ(propose_version("3.1.1b2", "beta"), "3.1.1b3");
    EXPECT_EQ(propose_version("3.1.1b2", "stable"), "3.1.1");
    EXPECT_EQ(propose_version("3.1.1", "alpha"), "3.1.1a1");
    EXPECT_EQ(propose_version("3.1.1", "beta"), "3.1.1b1");
    EXPECT_EQ(propose_version("3.1.1", "stable"), "3.1.2");
    EXPECT_EQ(propose_version("3.1.1a07", "alpha"), "3.1.1a8");
    EXPECT_EQ(propose_version("03.01.009", "stable"), "3.1.10");
    EXPECT_THROW(propose_version("3.1.1b2", "alpha"), kitty::Error);
    for (const char* bad : {"3.1.1rc1", "3.1.1.dev1", "3.1.1a", "3.1.1alpha1", "3.1"}) {
        EXPECT_THROW(propose_version(bad, "stable"), kitty::Error) << bad;
    }
}
