// finalize-tasks and the spec-kitty command set end to end, as a new user types it
// (the acceptance bar of the command-set issue), plus the dependency precedence rules.
#include <gtest/gtest.h>

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
    kitty::test::make_project(tmp.path());
    const fs::path m = tmp / "kitty-specs/001-x";
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
    kitty::test::make_project(tmp.path());
    const fs::path m = tmp / "kitty-specs/001-x";
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
    kitty::test::make_project(tmp.path());
    const fs::path m = tmp / "kitty-specs/001-x";
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

// --validate-only over every corpus mission: never a crash; where 3.1.1 wrote lanes and
// kitty's earlier checks pass, the lanes it would write are the expected ones.
TEST(Finalize, ValidateOnlyOverTheCorpus) {
    const fs::path corpus = kitty::test::shared_dir();
    if (corpus.empty()) {
        GTEST_SKIP() << "no corpus at KITTY_SHARED_DIR";
    }
    TempDir tmp;
    int compared = 0;
    for (const auto& e : fs::directory_iterator(corpus / "corpus/missions")) {
        const fs::path copy = tmp / "kitty-specs" / e.path().filename();
        fs::create_directories(copy);
        for (const auto& f : fs::directory_iterator(e.path())) {
            if (f.path().filename() != "expected" && f.path().filename() != "lanes.json") {
                fs::copy(f.path(), copy / f.path().filename(), fs::copy_options::recursive);
            }
        }
        const auto r = run_process({kitty::test::tool_path("kitty-parse-tasks"), "finalize",
                                    copy.string(), "--validate-only", "--target-branch", "main"});
        ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << e.path() << r.out << r.err;
        const Json doc = Json::parse(r.out);
        EXPECT_TRUE(doc.contains(r.exit_code == 0 ? "result" : "error")) << e.path();
        const fs::path expected = e.path() / "expected/lanes.json";
        if (r.exit_code == 0 && fs::exists(expected)) {
            const Json want = Json::parse(slurp(expected));
            const Json& got = doc["validation"]["lanes_preview"];
            std::vector<std::string> ids;
            for (const Json& lane : want["lanes"]) {
                ids.push_back(lane["lane_id"]);
            }
            EXPECT_EQ(got["lane_ids"], Json(ids)) << e.path();
            EXPECT_EQ(got["planning_artifact_wps"], want["planning_artifact_wps"]) << e.path();
            ++compared;
        }
        EXPECT_FALSE(fs::exists(copy / "lanes.json")) << e.path();
    }
    std::cerr << compared << " missions compared with 3.1.1's lanes\n";
}
