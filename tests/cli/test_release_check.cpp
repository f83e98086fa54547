// kitty-release-check on real git repositories made with libgit2 in temp directories:
// the messages and outcomes of ../shared/spec/release.md §1 and §3.
#include <gtest/gtest.h>

#include "kitty/json.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

// A repository at release 3.1.1: pyproject, metadata.yaml and CHANGELOG agree.
struct Repo {
    TempDir tmp;
    fs::path root = tmp.path();

    explicit Repo(const std::string& version = "3.1.1") {
        kitty::test::make_git_repo(root);
        write_fixture(root / "pyproject.toml",
                      "[project]\nname = \"demo\"\nversion = \"" + version + "\"\n");
        write_fixture(root / ".kittify/metadata.yaml",
                      "# header\n\nspec_kitty:\n  version: " + version + "\n");
        write_fixture(root / "CHANGELOG.md", "# Changelog\n\n## [Unreleased]\n\n## [" + version +
                                                 "] - 2026-04-09\n\n### Fixed\n- a bug\n\n"
                                                 "## [3.1.0] - 2026-04-07\n- older\n");
        kitty::test::git_commit_all(root, "release");
    }

    ProcessResult check(std::vector<std::string> args,
                        std::map<std::string, std::string> env = {}) const {
        args.insert(args.begin(), kitty::test::tool_path("kitty-release-check"));
        env.emplace("GITHUB_REF_NAME", "");
        env.emplace("GITHUB_REF", "");
        return run_process(args, {"", root, env});
    }
};

std::vector<std::string> messages(const ProcessResult& r) {
    std::vector<std::string> out;
    const Json doc = Json::parse(r.out);
    for (const Json& i : doc["issues"]) {
        out.push_back(i["message"]);
    }
    return out;
}

} // namespace

TEST(ReleaseCheckCli, PassesAConsistentRelease) {
    Repo repo;
    kitty::test::git_tag(repo.root, "v3.1.0");
    auto r = repo.check({"--format", "text"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "Release Validator Summary\n-------------------------\nMode: branch\n"
                     "pyproject.toml: " +
                         (repo.root / "pyproject.toml").string() +
                         "\nCHANGELOG.md: " + (repo.root / "CHANGELOG.md").string() +
                         "\nVersion: 3.1.1\nTag: N/A\n\nAll required checks passed.\n");
    EXPECT_EQ(r.err, "");
    r = repo.check({"--mode", "tag", "--tag", "v3.1.1", "--tag-pattern", "v*.*.*"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["ok"], true);
    EXPECT_EQ(doc["tag"], "v3.1.1");
    EXPECT_EQ(doc["version"], "3.1.1");
}

TEST(ReleaseCheckCli, VersionMismatchNamesBothFiles) {
    Repo repo;
    write_fixture(repo.root / ".kittify/metadata.yaml", "spec_kitty:\n  version: 3.1.1a3\n");
    const auto r = repo.check({"--format", "text"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("  1. Version mismatch detected: pyproject.toml='3.1.1' vs "
                         ".kittify/metadata.yaml='3.1.1a3' (Hint: Update .kittify/metadata.yaml "
                         "spec_kitty.version to '3.1.1' so both files agree before cutting the "
                         "release.)\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.err, "ERROR: Version mismatch detected: pyproject.toml='3.1.1' vs "
                     ".kittify/metadata.yaml='3.1.1a3' (Hint: Update .kittify/metadata.yaml "
                     "spec_kitty.version to '3.1.1' so both files agree before cutting the "
                     "release.)\n");
    // Quoted and flow-style values are the same version.
    write_fixture(repo.root / ".kittify/metadata.yaml", "spec_kitty: {version: \"3.1.1\"}\n");
    EXPECT_EQ(repo.check({}).exit_code, 0);
}

// §1.5: missing and empty sections; the hint keeps its literal {version}.
TEST(ReleaseCheckCli, ChangelogSections) {
    Repo repo;
    write_fixture(repo.root / "CHANGELOG.md", "## [3.1.1] - d\n\n   \n## [3.1.0]\n- x\n");
    auto r = repo.check({});
    EXPECT_EQ(r.exit_code, 1);
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["issues"][0]["message"], "CHANGELOG.md lacks a populated section for 3.1.1.");
    EXPECT_EQ(doc["issues"][0]["hint"], "Add release notes under a '## {version}' heading.");
    write_fixture(repo.root / "CHANGELOG.md", "## 3.1.1 \n- trailing space on the heading\n");
    EXPECT_EQ(repo.check({}).exit_code, 1);
    write_fixture(repo.root / "CHANGELOG.md", "## [3.1.1-rc1]\n- counts as 3.1.1\n");
    EXPECT_EQ(repo.check({}).exit_code, 0);
    write_fixture(repo.root / "CHANGELOG.md", "## [3.1.1]\n## [Unreleased]\n");
    EXPECT_EQ(repo.check({}).exit_code, 0);
}

// §1.7: branch mode fails once the version is tagged; tag mode excludes its own tag;
// the highest tag by version decides; vv and A1 quirks.
TEST(ReleaseCheckCli, TagProgression) {
    Repo repo;
    kitty::test::git_tag(repo.root, "v3.1.1");
    auto r = repo.check({});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(messages(r),
              std::vector<std::string>{"Version 3.1.1 does not advance beyond latest tag v3.1.1."});
    EXPECT_EQ(repo.check({"--mode", "tag", "--tag", "v3.1.1"}).exit_code, 0);

    kitty::test::git_tag(repo.root, "vv3.1.2");
    kitty::test::git_tag(repo.root, "V9.9.9");     // capital V is not a release tag
    kitty::test::git_tag(repo.root, "v9.0.0-foo"); // matches the glob, not the version
    r = repo.check({"--mode", "tag", "--tag", "v3.1.1"});
    EXPECT_EQ(messages(r), std::vector<std::string>{
                               "Version 3.1.1 does not advance beyond latest tag vv3.1.2."});
}

TEST(ReleaseCheckCli, TagFromEnvironment) {
    Repo repo;
    auto r = repo.check({"--mode", "tag"});
    EXPECT_EQ(messages(r),
              std::vector<std::string>{"No tag supplied and none detected from environment."});
    r = repo.check({"--mode", "tag"},
                   {{"GITHUB_REF_NAME", "main"}, {"GITHUB_REF", "refs/tags/v3.1.1"}});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(Json::parse(r.out)["tag"], "v3.1.1");
    r = repo.check({"--mode", "tag", "--tag", "release-1"});
    EXPECT_EQ(messages(r),
              std::vector<std::string>{"Tag release-1 does not match project version 3.1.1."});
    // Branch mode shows no tag, even when one is given.
    r = repo.check({"--tag", "v3.1.1", "--format", "text"});
    EXPECT_NE(r.out.find("\nTag: N/A\n"), std::string::npos);
}

// Version progression: a version lower than a tag fails in both modes.
TEST(ReleaseCheckCli, NonProgressingVersion) {
    Repo repo("3.1.0a2");
    write_fixture(repo.root / "CHANGELOG.md", "## [3.1.0a2]\n- x\n");
    kitty::test::git_tag(repo.root, "v3.1.0a3");
    EXPECT_EQ(
        messages(repo.check({})),
        std::vector<std::string>{"Version 3.1.0a2 does not advance beyond latest tag v3.1.0a3."});
}

// Malformed inputs are issues with exit 1 and a summary, never a crash.
TEST(ReleaseCheckCli, MalformedFilesAreIssues) {
    Repo repo;
    fs::remove(repo.root / "pyproject.toml");
    auto r = repo.check({"--format", "text"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("\nVersion: N/A\n"), std::string::npos);
    EXPECT_NE(r.err.find("pyproject.toml not found at " + (repo.root / "pyproject.toml").string() +
                         " \xE2\x80\x93 ensure you run from repository root."),
              std::string::npos);

    const std::pair<const char*, const char*> pyprojects[] = {
        {"[project\nversion = 1", "pyproject.toml is not valid TOML"},
        {"project = \"x\"\n", "[project] in pyproject.toml is not a table."},
        {"version = \"3.1.1\"\n", "Unable to locate [project].version in pyproject.toml."},
        {"[project]\nversion = 3\n", "pyproject version must be a string."},
        {"[project]\nversion = \"v3.1.1\"\n", "Version 'v3.1.1' is not a supported release"},
    };
    for (const auto& [text, message] : pyprojects) {
        write_fixture(repo.root / "pyproject.toml", text);
        r = repo.check({});
        EXPECT_EQ(r.exit_code, 1) << text;
        const auto m = messages(r);
        ASSERT_EQ(m.size(), 1u) << text;
        EXPECT_NE(m[0].find(message), std::string::npos) << m[0];
    }
    write_fixture(repo.root / "pyproject.toml", "[project]\nversion = \"3.1.1\"\n");

    const std::pair<const char*, const char*> metadata[] = {
        {"", ".kittify/metadata.yaml missing spec_kitty.version"},
        {"- a list\n", ".kittify/metadata.yaml missing spec_kitty.version"},
        {"spec_kitty: 3\n", ".kittify/metadata.yaml missing spec_kitty.version"},
        {"spec_kitty:\n  version:\n", ".kittify/metadata.yaml missing spec_kitty.version"},
        {"spec_kitty: [\n", ".kittify/metadata.yaml is not valid YAML"},
    };
    for (const auto& [text, message] : metadata) {
        write_fixture(repo.root / ".kittify/metadata.yaml", text);
        r = repo.check({});
        EXPECT_EQ(r.exit_code, 1) << text;
        const auto m = messages(r);
        ASSERT_EQ(m.size(), 1u) << text << r.out;
        EXPECT_NE(m[0].find(message), std::string::npos) << m[0];
    }
    fs::remove(repo.root / ".kittify/metadata.yaml");
    EXPECT_EQ(messages(repo.check({}))[0], ".kittify/metadata.yaml not found at " +
                                               (repo.root / ".kittify/metadata.yaml").string());
    fs::remove(repo.root / "CHANGELOG.md");
    EXPECT_EQ(messages(repo.check({})),
              std::vector<std::string>{"CHANGELOG not found at " +
                                       (repo.root / "CHANGELOG.md").string() + "."});
}

TEST(ReleaseCheckCli, NotARepository) {
    TempDir dir;
    write_fixture(dir / "pyproject.toml", "[project]\nversion = \"1.0.0\"\n");
    write_fixture(dir / ".kittify/metadata.yaml", "spec_kitty:\n  version: 1.0.0\n");
    write_fixture(dir / "CHANGELOG.md", "## [1.0.0]\n- first\n");
    const auto r =
        run_process({kitty::test::tool_path("kitty-release-check")}, {"", dir.path(), {}});
    EXPECT_EQ(r.exit_code, 1);
    const auto m = messages(r);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_NE(m[0].find("Unable to locate git repository root"), std::string::npos);
}

TEST(ReleaseCheckCli, UsageAndExtract) {
    Repo repo;
    EXPECT_EQ(repo.check({"--mode", "release"}).exit_code, 2);
    auto r = repo.check({"extract-changelog", "3.1.1", "--format", "text"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "### Fixed\n- a bug\n");
    r = repo.check({"extract-changelog", "9.9.9"});
    EXPECT_EQ(Json::parse(r.out)["found"], false);
    EXPECT_EQ(Json::parse(r.out)["section"],
              "Release 9.9.9\n\nNo changelog entry found for this version.");
}

// kitty checks itself: its own meson.build version, with a metadata.yaml and a CHANGELOG
// entry for it, passes the gate.
TEST(ReleaseCheckCli, DogfoodKittysOwnVersion) {
    const std::string meson = kitty::test::slurp(fs::path(KITTY_SOURCE_DIR) / "meson.build");
    const std::size_t at = meson.find("version : '");
    ASSERT_NE(at, std::string::npos);
    const std::string version = meson.substr(at + 11, meson.find('\'', at + 11) - at - 11);
    Repo repo(version);
    const auto r = repo.check({"--mode", "tag", "--tag", "v" + version});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(Json::parse(r.out)["version"], version);
}

// §3: the draft lists WPs accepted after the latest release tag's commit.
TEST(ReleaseCheckCli, PrepDraftsSinceTheLatestTag) {
    Repo repo;
    const fs::path m = repo.root / "kitty-specs/001-search";
    write_fixture(m / "meta.json", "{\"friendly_name\": \"Search\"}");
    write_fixture(m / "tasks/WP01-index.md",
                  "---\nwork_package_id: WP01\nstatus: done\n---\n# Build the index\n");
    write_fixture(m / "tasks/WP02-api.md", "---\nwork_package_id: WP02\n---\n## Query API\n");
    write_fixture(m / "tasks/WP03-cli.md", "---\nwork_package_id: WP03\n---\n# CLI\n");
    write_fixture(
        m / "status.events.jsonl",
        "{\"wp_id\": \"WP02\", \"to_lane\": \"done\", \"at\": \"2026-03-01T00:00:00+00:00\"}\n"
        "not json\n"
        "{\"wp_id\": \"WP03\", \"to_lane\": \"approved\", \"at\": "
        "\"2026-01-01T00:00:00+00:00\"}\n");

    auto r = repo.check({"prep", "--channel", "beta"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["proposed_version"], "3.1.1b1");
    EXPECT_EQ(doc["changelog_block"],
              "### Search (`001-search`)\n\n- WP01: Build the index\n- WP02: Query API\n"
              "- WP03: CLI\n");
    EXPECT_EQ(doc["proposed_changelog_block"], doc["changelog_block"]);
    EXPECT_EQ(doc["structured_inputs"]["tag_name"], "v3.1.1b1");
    EXPECT_EQ(doc["structured_inputs"]["mission_slug_list"], "001-search");
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc.items()) {
        keys.push_back(k);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"channel", "current_version", "proposed_version",
                                              "changelog_block", "proposed_changelog_block",
                                              "mission_slug_list", "target_branch",
                                              "structured_inputs", "since_tag"}));

    // A release tagged on 2026-02-01: only WP02's acceptance (March) is newer.
    kitty::test::git_commit_all(repo.root, "release 3.1.0", 1769904000);
    kitty::test::git_tag(repo.root, "v3.1.0");
    r = repo.check({"prep", "--channel", "stable"});
    doc = Json::parse(r.out);
    EXPECT_EQ(doc["since_tag"]["name"], "v3.1.0");
    EXPECT_EQ(doc["changelog_block"], "### Search (`001-search`)\n\n- WP02: Query API\n");
    EXPECT_EQ(doc["proposed_version"], "3.1.2");

    EXPECT_EQ(repo.check({"prep", "--channel", "rc"}).exit_code, 2);
    write_fixture(repo.root / "pyproject.toml", "[project]\nversion = \"3.1.1b2\"\n");
    EXPECT_EQ(repo.check({"prep", "--channel", "alpha"}).exit_code, 3);
}
