// kitty-parse-tasks as users run it: the built binary on files, directories and stdin.
#include <gtest/gtest.h>

#include "kitty/json.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

ProcessResult parse_tasks(std::vector<std::string> args, const std::string& input = "",
                          const fs::path& cwd = {}) {
    args.insert(args.begin(), kitty::test::tool_path("kitty-parse-tasks"));
    return run_process(args, {input, cwd, {}});
}

Json document(const ProcessResult& r) {
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    return Json::parse(r.out);
}

const char* kTasks = "# Work Packages\n\n## WP01 — Setup\n\n- [ ] T001 Create core\n\n"
                     "## WP02 — API\n\n**Dependencies**: WP01\n";

// A mission whose tasks.md and WP frontmatter disagree about WP02.
void make_mission(const fs::path& dir, const std::string& wp02_deps) {
    write_fixture(dir / "tasks.md", kTasks);
    write_fixture(dir / "tasks/WP01-setup.md", "---\nwork_package_id: WP01\ntitle: Setup\n---\n");
    write_fixture(dir / "tasks/WP02-api.md",
                  "---\nwork_package_id: WP02\ntitle: API\ndependencies: " + wp02_deps +
                      "\n---\nbody\n");
}

} // namespace

TEST(ParseTasksCli, DepsOnlyFromStdinIsThe311Map) {
    const auto r = parse_tasks({"--deps-only", "-"}, kTasks);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "{\"WP01\": [], \"WP02\": [\"WP01\"]}\n");
    EXPECT_EQ(r.err, "");
}

TEST(ParseTasksCli, CrlfAndCrReadAsLf) {
    EXPECT_EQ(parse_tasks({"--deps-only"}, "## WP01\r\n## WP02\r\nDepends on WP01\r\n").out,
              "{\"WP01\": [], \"WP02\": [\"WP01\"]}\n");
    EXPECT_EQ(parse_tasks({"--deps-only"}, "## WP01\r## WP02\rDepends on WP01\r").out,
              "{\"WP01\": [], \"WP02\": [\"WP01\"]}\n");
}

TEST(ParseTasksCli, ExplainsEveryEdge) {
    TempDir dir;
    write_fixture(dir / "tasks.md", kTasks);
    const auto r = parse_tasks({(dir / "tasks.md").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json doc = document(r);
    EXPECT_EQ(doc["dependencies"], Json::parse(R"({"WP01": [], "WP02": ["WP01"]})"));
    const Json& wp2 = doc["work_packages"][1];
    EXPECT_EQ(wp2["title"], "API");
    EXPECT_EQ(wp2["lines"]["first"], 7);
    EXPECT_EQ(
        wp2["dependencies"][0],
        Json::parse(R"({"id": "WP01", "pattern": "dependencies_colon", "line": 9, "column": 19})"));
    EXPECT_EQ(doc["work_packages"][0]["subtasks"][0]["id"], "T001");
    EXPECT_EQ(doc["summary"]["dependencies"], 1);
    EXPECT_EQ(doc["ok"], true);
}

TEST(ParseTasksCli, WarningsByDefaultErrorsWithStrict) {
    const std::string tasks = "## WP01\n## WP02\n**Depends on**: WP01\n";
    const auto lax = parse_tasks({"-"}, tasks);
    EXPECT_EQ(lax.exit_code, 0);
    EXPECT_NE(lax.err.find("<stdin>:3: warning: WP02: \"**Depends on**:\""), std::string::npos)
        << lax.err;
    EXPECT_EQ(document(lax)["findings"][0]["code"], "IGNORED_DEPENDENCY_PHRASE");

    const auto strict = parse_tasks({"--strict", "-"}, tasks);
    EXPECT_EQ(strict.exit_code, 1);
    EXPECT_NE(strict.err.find("<stdin>:3: error:"), std::string::npos);
    EXPECT_EQ(document(strict)["ok"], false);
}

TEST(ParseTasksCli, CyclesAreAlwaysErrors) {
    const auto r = parse_tasks({"-"}, "## WP01\nDepends on WP02\n## WP02\nDepends on WP01\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("dependency cycle WP01 → WP02 → WP01"), std::string::npos) << r.err;
}

TEST(ParseTasksCli, TextFormatForPeople) {
    const auto r = parse_tasks({"--format", "text", "-"}, kTasks);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("WP02  API    ← WP01 (line 9:19 dependencies_colon)"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("2 work packages, 1 dependencies, 0 errors, 0 warnings"),
              std::string::npos);
}

TEST(ParseTasksCli, MissionDirectoryReadsFrontmatterAndFlagsDisagreement) {
    TempDir dir;
    make_mission(dir.path(), "[WP01]");
    const auto agree = parse_tasks({dir.path().string()});
    ASSERT_EQ(agree.exit_code, 0) << agree.err;
    const Json doc = document(agree);
    EXPECT_EQ(doc["wp_files"].size(), 2U);
    EXPECT_EQ(doc["wp_files"][1]["frontmatter"]["dependencies"], Json::parse(R"(["WP01"])"));
    EXPECT_EQ(doc["work_packages"][1]["file"], "tasks/WP02-api.md");

    TempDir other;
    make_mission(other.path(), "[WP09]");
    const std::string before = slurp(other / "tasks/WP02-api.md");
    const auto disagree = parse_tasks({other.path().string()});
    EXPECT_EQ(disagree.exit_code, 1);
    EXPECT_NE(disagree.err.find("WP02: frontmatter has ['WP09'], tasks.md parsed ['WP01']. "
                                "Resolve the disagreement in tasks.md or WP frontmatter before "
                                "finalizing."),
              std::string::npos)
        << disagree.err;
    EXPECT_EQ(slurp(other / "tasks/WP02-api.md"), before); // nothing written
}

TEST(ParseTasksCli, UnreadableWpFileIsAWarningNamingKeyAndLine) {
    TempDir dir;
    make_mission(dir.path(), "[WP01]");
    write_fixture(dir / "tasks/WP01-setup.md",
                  "---\nwork_package_id: WP01\ntracker_refs: []\n---\n");
    const auto r = parse_tasks({dir.path().string()});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("WP01-setup.md:3: warning: unknown WP frontmatter key 'tracker_refs'"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(document(r)["wp_files"][0]["readable"], false);
}

TEST(ParseTasksCli, MissionSelectorInAProject) {
    TempDir dir;
    kitty::test::make_project(dir.path());
    make_mission(dir / "kitty-specs/007-demo", "[WP01]");
    write_fixture(dir / "kitty-specs/007-demo/meta.json", "{\"mission_slug\": \"007-demo\"}\n");
    const auto r = parse_tasks({"--deps-only", "007-demo"}, "", dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "{\"WP01\": [], \"WP02\": [\"WP01\"]}\n");
}

TEST(ParseTasksCli, BadInput) {
    TempDir dir;
    const auto missing = parse_tasks({(dir / "nope/tasks.md").string()});
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_EQ(document(missing)["code"], "MISSION_NOT_FOUND");

    const auto no_tasks = parse_tasks({dir.path().string()});
    EXPECT_EQ(no_tasks.exit_code, 3);
    EXPECT_EQ(document(no_tasks)["code"], "NOT_FOUND");

    const auto utf8 = parse_tasks({"-"}, "## WP01\nab\xFF\n");
    EXPECT_EQ(utf8.exit_code, 3);
    EXPECT_NE(document(utf8)["error"].get<std::string>().find("offset 10"), std::string::npos)
        << utf8.out;

    EXPECT_EQ(parse_tasks({"--no-such-flag"}).exit_code, 2);
}

TEST(ParseTasksCli, TenMegabytes) {
    std::string big;
    for (int i = 0; big.size() < 10 * 1024 * 1024; ++i) {
        big += "## WP" + std::to_string(10 + i % 90) + " — Part\n\nDepends on WP10\n" +
               std::string(2000, 'x') + "\n";
    }
    const auto r = parse_tasks({"--deps-only", "-"}, big);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out).size(), 90U);
}

// D01: 600 bytes of YAML anchors and aliases in a WP file stand for 9^10 nodes; converting
// them grew the process to 24 GB. The expansion budget makes the file unreadable, with a
// warning, and the rest of the mission is parsed as usual.
TEST(ParseTasksCli, YamlAliasBombIsAnUnreadableWpFile) {
    TempDir dir;
    make_mission(dir.path(), "[WP01]");
    write_fixture(dir / "tasks/WP01-setup.md",
                  "---\n" + kitty::test::yaml_alias_bomb() + "---\nbody\n");
    const auto r = parse_tasks({dir.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("WP01-setup.md"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("aliases expand to more than"), std::string::npos) << r.err;
    const Json doc = document(r);
    EXPECT_EQ(doc["wp_files"][0]["readable"], false);
    EXPECT_EQ(doc["wp_files"][1]["readable"], true);
}
