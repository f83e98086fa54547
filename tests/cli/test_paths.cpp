// Paths from input never escape the project (findings D05-D08, D15): every write goes
// through the Mission handle's one guard, whatever the tool.
#include <gtest/gtest.h>

#include "kitty/json.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::make_project;
using kitty::test::ProcessOptions;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::tool_path;
using kitty::test::write_fixture;

namespace {

// The 2-WP mission of the findings' common.sh.
void make_mission(const fs::path& dir) {
    write_fixture(dir / "spec.md", "# Spec\n\n- FR-001 do it\n");
    write_fixture(dir / "tasks.md",
                  "## WP01 One\n\nDependencies: None\n\n## WP02 Two\n\nDependencies: WP01\n");
    write_fixture(dir / "meta.json", "{\n  \"mission_number\": \"001\",\n  \"mission_slug\": "
                                     "\"001-demo\",\n  \"slug\": \"001-demo\"\n}\n");
    for (const std::string n : {"1", "2"}) {
        write_fixture(dir / "tasks" / ("WP0" + n + "-x.md"),
                      "---\nwork_package_id: WP0" + n + "\ntitle: T" + n +
                          "\nrequirement_refs: [FR-001]\nexecution_mode: code_change\n"
                          "authoritative_surface: src/m" +
                          n + "/\nowned_files:\n- src/m" + n + "/**\n---\nbody\n");
    }
}

ProcessResult run(const std::string& tool, std::vector<std::string> args, const fs::path& cwd,
                  const std::string& input = {}) {
    args.insert(args.begin(), tool_path(tool));
    ProcessOptions options;
    options.cwd = cwd;
    options.input = input;
    return run_process(args, options);
}

// Every file under `dir` with its bytes, to compare before and after.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        out[e.path().string()] = e.is_regular_file() ? slurp(e.path()) : "<dir>";
    }
    return out;
}

} // namespace

TEST(Paths, SymlinkedMissionDirIsRefusedBySelector) {
    TempDir t;
    make_project(t / "p");
    make_mission(t / "outside" / "mission");
    fs::create_directories(t / "p" / "kitty-specs");
    fs::create_directory_symlink(t / "outside" / "mission", t / "p" / "kitty-specs" / "002-evil");
    const auto before = snapshot(t / "outside");
    auto r =
        run("kitty-status", {"move", "evil", "WP01", "--to", "claimed", "--actor", "a"}, t / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "OUTSIDE_PROJECT");
    r = run("kitty-lanes", {"compute", "evil", "--write", "--target-branch", "main"}, t / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    r = run("kitty-mint-id", {"stamp", "evil"}, t / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(snapshot(t / "outside"), before);
}

TEST(Paths, SymlinkedEventLogIsNeverAppendedThrough) {
    TempDir t;
    make_project(t / "p");
    const fs::path m = t / "p" / "kitty-specs" / "001-demo";
    make_mission(m);
    write_fixture(t / "outside" / "victim.jsonl", "");
    fs::create_symlink(t / "outside" / "victim.jsonl", m / "status.events.jsonl");
    const auto r = run("kitty-status",
                       {"move", "001-demo", "WP01", "--to", "claimed", "--actor", "a"}, t / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "OUTSIDE_PROJECT");
    EXPECT_EQ(slurp(t / "outside" / "victim.jsonl"), "");
    EXPECT_FALSE(fs::exists(m / "status.json"));
}

TEST(Paths, SymlinkedTasksDirIsNotWrittenByFinalize) {
    TempDir t;
    make_project(t / "p");
    const fs::path m = t / "p" / "kitty-specs" / "001-demo";
    make_mission(m);
    fs::rename(m / "tasks", t / "outside-tasks");
    fs::create_directory_symlink(t / "outside-tasks", m / "tasks");
    const auto before = snapshot(t / "outside-tasks");
    const auto r = run("kitty-parse-tasks", {"finalize", "001-demo"}, t / "p");
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_EQ(snapshot(t / "outside-tasks"), before);
}

TEST(Paths, BareDotDotIsASelector) {
    TempDir t;
    const fs::path parent = t / "a" / "parent";
    make_project(parent / "p");
    make_mission(parent / "p" / "kitty-specs" / "001-demo");
    make_mission(parent); // a mission-shaped directory above the project
    const auto before = snapshot(parent);
    auto r =
        run("kitty-lanes", {"compute", "..", "--write", "--target-branch", "main"}, parent / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "MISSION_NOT_FOUND");
    r = run("kitty-status", {"move", "..", "WP01", "--to", "claimed", "--actor", "a"},
            parent / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    r = run("kitty-parse-tasks", {".."}, parent / "p");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(snapshot(parent), before);
}

TEST(Paths, AStrayMissionNeverTurnsItsGrandparentIntoAProject) {
    TempDir t;
    const fs::path m = t / "home" / "user" / "m";
    make_mission(m);
    const auto before = snapshot(t.path());
    auto r = run("kitty-status", {"move", m.string(), "WP01", "--to", "claimed", "--actor", "a"},
                 t.path());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "NO_PROJECT");
    r = run("kitty-status", {"bootstrap", m.string()}, t.path());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    r = run("kitty-lanes", {"compute", m.string(), "--write", "--target-branch", "main"}, t.path());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(snapshot(t.path()), before);
    EXPECT_FALSE(fs::exists(t / "home" / ".kittify"));
    // Reading it stays possible.
    r = run("kitty-parse-tasks", {m.string()}, t.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = run("kitty-status", {m.string()}, t.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Paths, StdinMissionDirIsNeverAWriteTarget) {
    TempDir t;
    make_project(t / "p");
    make_mission(t / "p" / "kitty-specs" / "001-demo");
    fs::create_directories(t / "anywhere");
    auto parsed = run("kitty-parse-tasks", {"kitty-specs/001-demo"}, t / "p");
    ASSERT_EQ(parsed.exit_code, 0) << parsed.err;
    Json doc = Json::parse(parsed.out);
    doc["mission_dir"] = (t / "anywhere").string();
    const auto r = run("kitty-lanes", {"compute", "-", "--write"}, t / "p", doc.dump());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "NO_MISSION_DIR");
    EXPECT_TRUE(fs::is_empty(t / "anywhere"));
}

TEST(Paths, ResolveNeverNamesAWorkspaceOutsideTheProject) {
    TempDir t;
    make_project(t / "p");
    const fs::path m = t / "p" / "kitty-specs" / "001-demo";
    make_mission(m);
    ASSERT_EQ(
        run("kitty-lanes", {"compute", "001-demo", "--write", "--target-branch", "main"}, t / "p")
            .exit_code,
        0);
    Json lanes = Json::parse(slurp(m / "lanes.json"));
    lanes["mission_slug"] = "../../../../etc/cron.d/x";
    write_fixture(m / "lanes.json", lanes.dump(2));
    const auto r = run("kitty-lanes", {"resolve", "001-demo", "WP01"}, t / "p");
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(Json::parse(r.out)["code"], "UNSAFE_NAME");
}

TEST(Paths, SymlinkedKittySpecsIsNotCreatedInto) {
    TempDir t;
    make_project(t / "p");
    fs::create_directories(t / "elsewhere");
    fs::create_directory_symlink(t / "elsewhere", t / "p" / "kitty-specs");
    const auto r = run("kitty-mint-id", {"create", "demo"}, t / "p");
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(Json::parse(r.out)["code"], "OUTSIDE_PROJECT");
    EXPECT_TRUE(fs::is_empty(t / "elsewhere"));
}
