// finalize-tasks and the spec-kitty command set end to end, as a new user types it
// (the acceptance bar of the command-set issue), plus the dependency precedence rules.
#include <gtest/gtest.h>

#include <sstream>

#include "kitty/json.hpp"
#include "kitty/ulid.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

ProcessResult sk(std::vector<std::string> args, const fs::path& cwd, const fs::path& home) {
    args.insert(args.begin(), kitty::test::tool_path("spec-kitty"));
    return run_process(args, {"", cwd, {{"HOME", home.string()}}});
}

std::string wp_file(const std::string& id, const std::string& deps, const std::string& refs,
                    const std::string& mode, const std::string& glob) {
    return "---\nwork_package_id: " + id + "\ntitle: Task " + id + "\ndependencies: " + deps +
           "\nrequirement_refs: [" + refs + "]\nexecution_mode: " + mode +
           "\nauthoritative_surface: " + glob.substr(0, glob.size() - 2) + "\nowned_files:\n- " +
           glob + "\n---\n\n# " + id + "\n";
}

std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file()) {
            files[fs::relative(e.path(), root).string()] = slurp(e.path());
        }
    }
    return files;
}

// A project in `tmp`; returns the path of its mission 001-x (not written yet).
fs::path project_mission(const TempDir& tmp) {
    kitty::test::make_project(tmp.path());
    return tmp / "kitty-specs/001-x";
}

// A mission with WP01 (code), WP02 and WP03 (code, disjoint, parallel), WP04 depending on
// WP02, WP05 a planning artifact; spec.md with FR-001..FR-003.
void write_mission(const fs::path& m, const std::string& tasks_tail = "") {
    write_fixture(m / "spec.md", "# Spec\n\n- FR-001 one\n- FR-002 two\n- FR-003 three\n");
    write_fixture(m / "tasks.md",
                  "# Tasks\n\n## Work Package WP01: Core\n\n**Dependencies**: None\n\n"
                  "## Work Package WP02: API\n\n**Dependencies**: None\n\n"
                  "## Work Package WP03: CLI\n\n**Dependencies**: None\n\n"
                  "## Work Package WP04: API docs\n\n**Dependencies**: WP02\n\n"
                  "## Work Package WP05: Spec update\n\n**Dependencies**: None\n" +
                      tasks_tail);
    write_fixture(m / "tasks/WP01-core.md",
                  wp_file("WP01", "[]", "FR-001", "code_change", "src/core/**"));
    write_fixture(m / "tasks/WP02-api.md",
                  wp_file("WP02", "[]", "FR-002", "code_change", "src/api/**"));
    write_fixture(m / "tasks/WP03-cli.md",
                  wp_file("WP03", "[]", "FR-003", "code_change", "src/cli/**"));
    write_fixture(m / "tasks/WP04-docs.md",
                  wp_file("WP04", "[WP02]", "FR-002", "code_change", "docs/api/**"));
    write_fixture(m / "tasks/WP05-spec.md",
                  wp_file("WP05", "[]", "FR-001", "planning_artifact", "kitty-specs/x/**"));
}

} // namespace

// The acceptance bar, in order, as a new user would type it.
TEST(CommandSet, NewUserJourney) {
    TempDir tmp;
    const fs::path home = tmp / "home";
    fs::create_directories(home);
    auto r = sk({"--version"}, tmp.path(), home);
    ASSERT_EQ(r.exit_code, 0);
    r = sk({"init", "demo", "--ai", "codex", "--non-interactive"}, tmp.path(), home);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const fs::path project = tmp / "demo";
    r = sk({"agent", "mission", "create", "demo-feature", "--json"}, project, home);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const Json created = Json::parse(r.out);
    const std::string mission_id = created["mission_id"];
    EXPECT_TRUE(kitty::looks_like_ulid(mission_id)) << mission_id;
    const fs::path m = project / "kitty-specs" / created["mission_slug"].get<std::string>();
    write_mission(m);

    r = sk({"agent", "mission", "finalize-tasks", "--mission", "demo-feature", "--json"}, project,
           home);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const Json fin = Json::parse(r.out);
    EXPECT_EQ(fin["result"], "success");
    EXPECT_EQ(fin["lanes"]["lane_ids"], Json({"lane-a", "lane-b", "lane-c", "lane-planning"}));
    EXPECT_EQ(fin["lanes"]["planning_artifact_wps"], Json({"WP05"}));
    const Json lanes = Json::parse(slurp(m / "lanes.json"));
    EXPECT_EQ(lanes["mission_id"], mission_id);
    EXPECT_EQ(lanes["lanes"][1]["wp_ids"], Json({"WP02", "WP04"}));
    EXPECT_EQ(lanes["lanes"][2]["wp_ids"], Json({"WP03"}));

    r = sk({"agent", "tasks", "status", "--mission", "demo-feature", "--json"}, project, home);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const Json status = Json::parse(r.out);
    EXPECT_EQ(status["mission_id"], mission_id);
    EXPECT_EQ(status["total_wps"], 5);
    EXPECT_EQ(status["by_lane"], Json({{"planned", 5}}));

    r = sk({"lanes", "resolve", "demo-feature", "WP05", "--json"}, project, home);
    EXPECT_EQ(Json::parse(r.out)["workspace"], fs::canonical(project).string());
    EXPECT_FALSE(fs::exists(project / ".git"));
}

// Trailing prose after the final WP (3.1.1's regression case) adds no dependency, so the
// final WP keeps its own parallel lane.
TEST(Finalize, TrailingProseAfterTheFinalWp) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m,
                  "\n## Dependency & Execution Summary\n\nWP05 could also wait: it Depends on WP01 "
                  "in spirit only.\n");
    const auto r = run_process({kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string(),
                                "--target-branch", "main"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["dependencies_parsed"]["WP05"], Json::array());
    EXPECT_EQ(doc["lanes"]["planning_artifact_wps"], Json({"WP05"}));
}

// §3.3: preserve a frontmatter list tasks.md does not contradict; refuse a contradiction.
TEST(Finalize, DependencyPrecedence) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m, "\n## Notes\n\nEverything here Depends on WP01.\n");
    // WP03 declares WP01 in frontmatter while tasks.md declares nothing for it.
    write_fixture(m / "tasks/WP03-cli.md",
                  wp_file("WP03", "[WP01]", "FR-003", "code_change", "src/cli/**"));
    auto r = run_process({kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string(),
                          "--target-branch", "main"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["preserved_wps"], Json({"WP03"}));
    EXPECT_NE(slurp(m / "tasks/WP03-cli.md").find("dependencies:\n- WP01\n"), std::string::npos);
    // The final WP declared [] and keeps [] despite the trailing prose.
    EXPECT_NE(slurp(m / "tasks/WP05-spec.md").find("dependencies: []\n"), std::string::npos);

    // Both non-empty and different: exit 1 naming the WP and both lists, nothing written.
    write_fixture(m / "tasks/WP04-docs.md",
                  wp_file("WP04", "[WP01]", "FR-002", "code_change", "docs/api/**"));
    const auto before = snapshot(m);
    r = run_process({kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string()});
    EXPECT_EQ(r.exit_code, 1);
    doc = Json::parse(r.out);
    EXPECT_EQ(doc["code"], "DEPENDENCY_DISAGREEMENT");
    EXPECT_EQ(doc["dependency_conflicts"][0],
              "WP04: frontmatter has ['WP01'], tasks.md parsed ['WP02']. Resolve the disagreement "
              "in tasks.md or WP frontmatter before finalizing.");
    EXPECT_EQ(snapshot(m), before);
}

// Every check runs before any write: an ownership overlap found late leaves every file as
// it was (3.1.1 had already rewritten the frontmatter by then).
TEST(Finalize, FailuresWriteNothing) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m);
    write_fixture(m / "tasks/WP03-cli.md",
                  wp_file("WP03", "[]", "FR-003", "code_change", "src/api/**"));
    const auto before = snapshot(m);
    auto r = run_process({kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string()});
    EXPECT_EQ(r.exit_code, 1);
    Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["code"], "OWNERSHIP");
    EXPECT_EQ(doc["ownership_errors"][0],
              "Overlap: WP02 ('src/api/**') and WP03 ('src/api/**') claim overlapping paths.");
    EXPECT_EQ(snapshot(m), before);

    write_mission(m);
    write_fixture(m / "spec.md",
                  "# Spec\n\n- FR-001\n- FR-002\n- FR-003\n- FR-004 nobody does it\n");
    r = run_process({kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string()});
    EXPECT_EQ(r.exit_code, 1);
    doc = Json::parse(r.out);
    EXPECT_EQ(doc["code"], "REQUIREMENT_MAPPING");
    EXPECT_EQ(doc["unmapped_functional_requirements"], Json({"FR-004"}));

    write_fixture(m / "spec.md", "# Spec\n\n- FR-001\n- FR-002\n- FR-003\n");
    r = run_process(
        {kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string(), "--validate-only"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    doc = Json::parse(r.out);
    EXPECT_EQ(doc["result"], "validation_passed");
    EXPECT_EQ(doc["validation"]["lanes_preview"]["count"], 4);
    EXPECT_FALSE(fs::exists(m / "lanes.json"));
    EXPECT_FALSE(fs::exists(m / "status.events.jsonl"));
}

namespace {

ProcessResult finalize(const fs::path& mission, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {kitty::test::tool_path("kitty-parse-tasks"), "finalize",
                                     mission.string(), "--target-branch", "main"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(args);
}

} // namespace

// One error channel: every finalize failure is the error document on stdout in JSON (with
// 3.1.1's detail keys), nothing on stdout in text, and the message on stderr either way.
TEST(Finalize, ErrorsGoToStderrLikeEveryTool) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m);
    write_fixture(m / "tasks/WP03-cli.md",
                  wp_file("WP03", "[]", "FR-003", "code_change", "src/api/**"));
    const std::string overlap =
        "Overlap: WP02 ('src/api/**') and WP03 ('src/api/**') claim overlapping paths.";
    auto r = finalize(m);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(Json::parse(r.out)["ownership_errors"], Json({overlap}));
    EXPECT_NE(r.err.find("error: Ownership validation failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(overlap), std::string::npos) << r.err;

    r = finalize(m, {"--format", "text"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("error: Ownership validation failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(overlap), std::string::npos) << r.err;
}

// One code, one exit status: a missing tasks/ is exit 3 (input not found) in finalize as in
// kitty-status, an unknown execution_mode exit 3 (malformed input) as in kitty-lanes.
TEST(Finalize, ACodeHasOneExitStatusInEveryTool) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_fixture(m / "spec.md", "# Spec\n");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string()},
             {kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string(), "--format",
              "text"},
             {kitty::test::tool_path("kitty-status"), m.string()}}) {
        const auto r = run_process(args);
        EXPECT_EQ(r.exit_code, 3) << args[0] << r.out;
        EXPECT_NE(r.err.find("Tasks directory not found: " + (m / "tasks").string()),
                  std::string::npos)
            << args[0] << r.err;
        if (args.back() == "text") {
            EXPECT_EQ(r.out, "");
        } else {
            EXPECT_EQ(Json::parse(r.out)["code"], "NO_TASKS_DIR");
        }
    }

    write_mission(m);
    std::string wp = wp_file("WP03", "[]", "FR-003", "code_change", "src/cli/**");
    wp.replace(wp.find("code_change"), 11, "review");
    write_fixture(m / "tasks/WP03-cli.md", wp);
    const auto before = snapshot(m);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {kitty::test::tool_path("kitty-parse-tasks"), "finalize", m.string()},
             {kitty::test::tool_path("kitty-lanes"), "compute", m.string()}}) {
        const auto r = run_process(args);
        EXPECT_EQ(r.exit_code, 3) << args[0] << r.out;
        const Json doc = Json::parse(r.out);
        EXPECT_EQ(doc["code"], "INVALID_EXECUTION_MODE");
        EXPECT_EQ(doc["path"], (m / "tasks/WP03-cli.md").string());
        EXPECT_EQ(doc["line"], 6);
        EXPECT_NE(r.err.find("WP03: execution_mode 'review' is neither"), std::string::npos)
            << r.err;
    }
    EXPECT_EQ(snapshot(m), before);
}

// meta.json's mission_id: null is no id (3.1.1 reads it so; lanes.json takes the slug), and
// any other non-string is exit 4 as everywhere else, with nothing written.
TEST(Finalize, MissionIdNullIsAbsentOtherNonStringsAreConflicts) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m);
    write_fixture(m / "meta.json", "{\"mission_id\": null, \"slug\": \"001-x\"}\n");
    auto r = finalize(m);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(Json::parse(slurp(m / "lanes.json"))["mission_id"], "001-x");

    for (const std::string value : {"7", "[\"01KNRK4RNP4PV7HV6JC0P509F9\"]", "true"}) {
        write_mission(m);
        fs::remove(m / "lanes.json");
        write_fixture(m / "meta.json", "{\"mission_id\": " + value + "}\n");
        const auto before = snapshot(m);
        r = finalize(m);
        EXPECT_EQ(r.exit_code, 4) << value << r.out << r.err;
        EXPECT_EQ(Json::parse(r.out)["code"], "BAD_MISSION_ID") << value;
        EXPECT_EQ(snapshot(m), before) << value;
    }
}

// An existing branch_strategy naming the same planning and merge branches is kept, whoever
// worded it (here 3.1.1), so a file that needs nothing else is left byte for byte.
TEST(Finalize, KeepsABranchStrategyThatNamesTheSameBranches) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m);
    ASSERT_EQ(finalize(m).exit_code, 0);
    const fs::path wp01 = m / "tasks/WP01-core.md";
    std::string text = slurp(wp01);
    const std::size_t at = text.find("branch_strategy: ") + 17;
    const std::string theirs =
        "Planning artifacts for this feature were generated on main. During "
        "/spec-kitty.implement this WP may branch from a dependency-specific base, but "
        "completed changes must merge back into main unless the human explicitly redirects the "
        "landing branch.";
    text.replace(at, text.find('\n', at) - at, theirs);
    write_fixture(wp01, text);
    auto r = finalize(m);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(Json::parse(r.out)["modified_wps"], Json::array());
    EXPECT_EQ(slurp(wp01), text);

    // Another branch named: the note is rewritten for main.
    std::string other = text;
    other.replace(other.find("merge back into main"), 20, "merge back into develop");
    write_fixture(wp01, other);
    r = finalize(m);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(Json::parse(r.out)["modified_wps"], Json({"WP01"}));
    EXPECT_EQ(slurp(wp01).find("develop"), std::string::npos);
}

// The status bootstrap seeds only the WP files 3.1.1 can read; when it can read none, no
// status file is written at all. (#### headers: requirement refs but no graph, so no lanes.)
TEST(Finalize, UnreadableWpFilesGetNoStatus) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_fixture(m / "spec.md", "# Spec\n\n- FR-001 one\n- FR-002 two\n");
    write_fixture(m / "tasks.md", "# Tasks\n\n#### WP01 One\n\nRequirement Refs: FR-001\n\n"
                                  "#### WP02 Two\n\nRequirement Refs: FR-002\n");
    write_fixture(m / "tasks/WP01-one.md",
                  wp_file("WP01", "[]", "FR-001", "code_change", "src/one/**"));
    const std::string unreadable =
        "---\nwork_package_id: WP02\ntitle: Two\ntracker_refs: []\n---\n";
    write_fixture(m / "tasks/WP02-two.md", unreadable);
    auto r = finalize(m);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(Json::parse(r.out)["bootstrap"]["newly_seeded"], 1);
    std::istringstream events(slurp(m / "status.events.jsonl"));
    std::string seeded;
    for (std::string line; std::getline(events, line);) {
        seeded += Json::parse(line)["wp_id"].get<std::string>() + " ";
    }
    EXPECT_EQ(seeded, "WP01 ");
    EXPECT_EQ(slurp(m / "tasks/WP02-two.md"), unreadable);

    fs::remove(m / "status.events.jsonl");
    fs::remove(m / "status.json");
    write_fixture(m / "tasks/WP01-one.md", "---\nwork_package_id: WP01\ncreate_intent: x\n---\n");
    r = finalize(m);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(Json::parse(r.out)["bootstrap"]["total_wps"], 0);
    EXPECT_FALSE(fs::exists(m / "status.events.jsonl"));
    EXPECT_FALSE(fs::exists(m / "status.json"));
}

// Requirement mapping covers the WP files only: a tasks.md section without a file is not
// "missing requirement_refs" (3.1.1, missions 023 and 062); lanes then name it instead.
TEST(Finalize, RequirementMappingCountsOnlyWpFiles) {
    TempDir tmp;
    const fs::path m = project_mission(tmp);
    write_mission(m, "\n## Work Package WP06: Ghost\n\n**Dependencies**: None\n");
    const auto before = snapshot(m);
    const auto r = finalize(m);
    EXPECT_EQ(r.exit_code, 1);
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["code"], "MISSING_MANIFEST") << r.out;
    EXPECT_NE(doc["error"].get<std::string>().find("WP06"), std::string::npos) << r.out;
    EXPECT_EQ(snapshot(m), before);
}
