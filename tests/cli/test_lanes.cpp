// kitty-lanes as users run it: the built binary on a mission in a real project and git
// repository (made with libgit2), on stdin, and in a pipe from kitty-parse-tasks.
#include <sys/stat.h>

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

const std::map<std::string, std::string> kPinned{{"SOURCE_DATE_EPOCH", "1767225600"}};

ProcessResult lanes(std::vector<std::string> args, const fs::path& cwd = {},
                    const std::string& input = "") {
    args.insert(args.begin(), kitty::test::tool_path("kitty-lanes"));
    return run_process(args, {input, cwd, kPinned});
}

Json document(const ProcessResult& r) {
    return Json::parse(r.out);
}

std::string wp_file(const std::string& id, const std::string& title, const std::string& mode,
                    const std::string& glob, const std::string& body = "Work.\n") {
    return "---\nwork_package_id: " + id + "\ntitle: " + title +
           "\ndependencies: []\nexecution_mode: " + mode + "\nowned_files:\n- " + glob + "\n---\n" +
           body;
}

// A project (git repository on `branch`) with mission 001-demo: WP02 and WP03 both need
// WP01 (so all three share a lane), WP04 is a planning artifact.
struct Project {
    TempDir tmp;
    fs::path root = tmp.path();
    fs::path mission = root / "kitty-specs/001-demo";

    explicit Project(const std::string& branch = "develop") {
        kitty::test::make_project(root);
        kitty::test::make_git_repo(root, branch);
        write_fixture(mission / "meta.json",
                      "{\"mission_id\": \"01KN2371WVZGM3C5Y7Y3AV5G6W\", \"mission_slug\": "
                      "\"demo\", \"slug\": \"001-demo\"}\n");
        write_fixture(mission / "tasks.md",
                      "# Tasks\n\n## Work Package WP01: Model\n\n**Dependencies**: None\n\n"
                      "## Work Package WP02: API\n\n**Dependencies**: WP01\n\n"
                      "## Work Package WP03: CLI\n\n**Dependencies**: WP01\n\n"
                      "## Work Package WP04: Spec\n\n**Dependencies**: None\n");
        write_fixture(mission / "tasks/WP01-model.md",
                      wp_file("WP01", "Model", "code_change", "src/model/**"));
        write_fixture(mission / "tasks/WP02-api.md",
                      wp_file("WP02", "API", "code_change", "src/api/**", "The endpoint.\n"));
        write_fixture(mission / "tasks/WP03-cli.md",
                      wp_file("WP03", "CLI", "code_change", "src/cli/**"));
        write_fixture(mission / "tasks/WP04-spec.md",
                      wp_file("WP04", "Spec", "planning_artifact", "kitty-specs/001-demo/**"));
    }
};

} // namespace

TEST(LanesCli, ComputeReadsTheMissionAndTheCheckedOutBranch) {
    Project p;
    const auto r = lanes({"compute", p.mission.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const Json doc = document(r);
    EXPECT_EQ(doc["target_branch"], "develop");
    EXPECT_EQ(doc["mission_slug"], "001-demo");
    EXPECT_EQ(doc["mission_id"], "01KN2371WVZGM3C5Y7Y3AV5G6W");
    EXPECT_EQ(doc["computed_at"], "2026-01-01T00:00:00+00:00");
    ASSERT_EQ(doc["lanes"].size(), 2u);
    EXPECT_EQ(doc["lanes"][0]["wp_ids"], Json({"WP01", "WP02", "WP03"}));
    EXPECT_EQ(doc["lanes"][0]["predicted_surfaces"], Json({"api"}));
    EXPECT_EQ(doc["lanes"][1]["lane_id"], "lane-planning");
    EXPECT_EQ(doc["planning_artifact_wps"], Json({"WP04"}));
    EXPECT_EQ(doc["collapse_report"]["total_merges"], 2);
    // The lanes.json layout: indent 2, one trailing newline.
    EXPECT_EQ(r.out.substr(0, 16), "{\n  \"version\": 1");
    EXPECT_EQ(r.out.back(), '\n');

    const auto flags =
        lanes({"compute", p.mission.string(), "--target-branch", "release", "--mission-slug",
               "demo", "--mission-id", "X", "--computed-at", "2026-02-03T04:05:06.000007+00:00"});
    const Json d2 = document(flags);
    EXPECT_EQ(d2["target_branch"], "release");
    EXPECT_EQ(d2["mission_branch"], "kitty/mission-demo");
    EXPECT_EQ(d2["mission_id"], "X");
    EXPECT_EQ(d2["computed_at"], "2026-02-03T04:05:06.000007+00:00");
}

TEST(LanesCli, OutsideARepositoryTheTargetIsMain) {
    TempDir tmp;
    Project p;
    fs::copy(p.mission, tmp / "001-demo", fs::copy_options::recursive);
    const auto r = lanes({"compute", (tmp / "001-demo").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(document(r)["target_branch"], "main");
}

TEST(LanesCli, SelectorFromInsideTheProject) {
    Project p;
    const auto by_path = lanes({"compute", p.mission.string()});
    fs::create_directories(p.root / "src");
    for (const char* selector : {"demo", "001-demo", "01KN2371"}) {
        const auto r = lanes({"compute", selector}, p.root / "src");
        EXPECT_EQ(r.exit_code, 0) << selector << r.err;
        EXPECT_EQ(r.out, by_path.out) << selector;
    }
}

TEST(LanesCli, WriteIsAtomicAndIdempotent) {
    Project p;
    const auto printed = lanes({"compute", p.mission.string()});
    const auto w = lanes({"compute", p.mission.string(), "--write"});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    const Json doc = document(w);
    EXPECT_EQ(doc["changed"], true);
    EXPECT_EQ(doc["written"], (p.mission / "lanes.json").string());
    EXPECT_EQ(doc["lane_ids"], Json({"lane-a", "lane-planning"}));
    EXPECT_EQ(slurp(p.mission / "lanes.json"), printed.out);
    const auto again = lanes({"compute", p.mission.string(), "--write"});
    EXPECT_EQ(document(again)["changed"], false);
    for (const auto& e : fs::directory_iterator(p.mission)) {
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    }
}

TEST(LanesCli, FailuresWriteNothing) {
    Project p;
    write_fixture(p.mission / "lanes.json", "sentinel\n");

    // A laned WP without a manifest: exit 1 naming the WP and the missing field.
    write_fixture(p.mission / "tasks/WP03-cli.md",
                  "---\nwork_package_id: WP03\ntitle: CLI\nexecution_mode: code_change\n---\n");
    auto r = lanes({"compute", p.mission.string(), "--write"});
    EXPECT_EQ(r.exit_code, 1);
    Json err = document(r);
    EXPECT_EQ(err["code"], "MISSING_MANIFEST");
    EXPECT_NE(err["error"].get<std::string>().find("'WP03'"), std::string::npos);
    EXPECT_NE(err["error"].get<std::string>().find("owned_files"), std::string::npos);
    EXPECT_EQ(slurp(p.mission / "lanes.json"), "sentinel\n");

    // An execution_mode that is not one of the two: exit 3 at its file and line.
    write_fixture(p.mission / "tasks/WP03-cli.md", wp_file("WP03", "CLI", "review", "src/cli/**"));
    r = lanes({"compute", p.mission.string(), "--write"});
    EXPECT_EQ(r.exit_code, 3);
    err = document(r);
    EXPECT_EQ(err["code"], "INVALID_EXECUTION_MODE");
    EXPECT_EQ(err["path"], (p.mission / "tasks/WP03-cli.md").string());
    EXPECT_EQ(err["line"], 5);
    EXPECT_NE(r.err.find("WP03"), std::string::npos);
    EXPECT_EQ(slurp(p.mission / "lanes.json"), "sentinel\n");

    // A cycle: exit 1 with the path.
    write_fixture(p.mission / "tasks/WP03-cli.md", wp_file("WP03", "CLI", "code_change", "x/**"));
    write_fixture(p.mission / "tasks.md",
                  "## WP01\nDepends on WP02\n## WP02\nDepends on WP01\n## WP03\n");
    r = lanes({"compute", p.mission.string(), "--write"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(document(r)["code"], "DEPENDENCY_CYCLE");
    EXPECT_NE(document(r)["error"].get<std::string>().find("WP01 -> WP02 -> WP01"),
              std::string::npos);
    EXPECT_EQ(slurp(p.mission / "lanes.json"), "sentinel\n");
}

// A WP file 3.1.1 cannot read is skipped with a warning on stderr; stdout stays lanes.json.
TEST(LanesCli, UnreadableWpFileIsSkippedWithAWarning) {
    Project p;
    write_fixture(p.mission / "tasks/WP05-extra.md",
                  "---\nwork_package_id: WP05\nscope: codebase-wide\n---\n");
    const auto r = lanes({"compute", p.mission.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(document(r)["lanes"].size(), 2u);
    EXPECT_NE(r.err.find("WP05-extra.md:3: warning: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("scope"), std::string::npos);
}

TEST(LanesCli, ParseTasksPipeAndStdinSchema) {
    Project p;
    const auto direct = lanes({"compute", p.mission.string()});
    const auto parsed = run_process({kitty::test::tool_path("kitty-parse-tasks"), p.mission});
    const auto piped = lanes({"compute", "-"}, {}, parsed.out);
    ASSERT_EQ(piped.exit_code, 0) << piped.err;
    EXPECT_EQ(piped.out, direct.out);

    const std::string native = R"({
      "mission_slug": "x", "target_branch": "trunk", "computed_at": "2026-01-01T00:00:00+00:00",
      "dependency_graph": {"WP02": ["WP01"], "WP01": [], "WP03": []},
      "ownership_manifests": {
        "WP01": {"execution_mode": "code_change", "owned_files": "src/a/**"},
        "WP02": {"execution_mode": "code_change", "owned_files": ["src/b/**"]},
        "WP03": {"execution_mode": "planning_artifact", "owned_files": ["kitty-specs/x/**"]}},
      "wp_bodies": {"WP01": "a dashboard"}})";
    auto r = lanes({"compute"}, {}, native);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json doc = document(r);
    EXPECT_EQ(doc["target_branch"], "trunk");
    EXPECT_EQ(doc["mission_id"], "x");
    EXPECT_EQ(doc["lanes"][0]["wp_ids"], Json({"WP01", "WP02"}));
    EXPECT_EQ(doc["lanes"][0]["write_scope"], Json({"src/a/**", "src/b/**"}));
    EXPECT_EQ(doc["lanes"][0]["predicted_surfaces"], Json({"dashboard"}));
    r = lanes({"compute", "-", "--target-branch", "main"}, {}, native);
    EXPECT_EQ(document(r)["target_branch"], "main");

    r = lanes({"compute", "-"}, {}, R"({"dependency_graph": {"WP01": 3}, "mission_slug": "x"})");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(document(r)["code"], "INVALID_LANES_INPUT");
    r = lanes({"compute", "-"}, {}, R"({"WP01": []})");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(document(r)["error"].get<std::string>().find("--deps-only"), std::string::npos);
    r = lanes({"compute", "-"}, {}, "{not json");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(document(r)["code"], "INVALID_JSON");
    r = lanes({"compute", "-", "--write"}, {}, native);
    EXPECT_EQ(r.exit_code, 2);
}

TEST(LanesCli, ResolveGivesOneUniformAnswer) {
    Project p;
    ASSERT_EQ(lanes({"compute", p.mission.string(), "--write"}).exit_code, 0);
    const std::string root = fs::canonical(p.root).string();

    auto r = lanes({"resolve", p.mission.string(), "WP04"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, kitty::dump_python(Json{{"wp_id", "WP04"},
                                             {"lane_id", "lane-planning"},
                                             {"branch", "develop"},
                                             {"workspace", root},
                                             {"is_planning_lane", true}}) +
                         "\n");
    r = lanes({"resolve", p.mission.string(), "WP02"});
    Json doc = document(r);
    EXPECT_EQ(doc["lane_id"], "lane-a");
    EXPECT_EQ(doc["branch"], "kitty/mission-001-demo-lane-a");
    EXPECT_EQ(doc["workspace"], root + "/.worktrees/001-demo-lane-a");
    EXPECT_EQ(doc["is_planning_lane"], false);

    r = lanes({"resolve", p.mission.string(), "WP09"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(document(r)["code"], "WP_NOT_IN_LANE");
    EXPECT_EQ(lanes({"resolve", p.mission.string(), "wp2"}).exit_code, 2);
    fs::remove(p.mission / "lanes.json");
    r = lanes({"resolve", p.mission.string(), "WP02"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(document(r)["code"], "MISSING_LANES");
}

// Two WPs with no dependency between them in one lane: the parallelism users lose.
TEST(LanesCli, ExplainShowsMergesAndLostParallelism) {
    Project p;
    auto r = lanes({"explain", p.mission.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json doc = document(r);
    EXPECT_EQ(doc["merges"].size(), 2u);
    EXPECT_EQ(doc["merges"][0]["evidence"], "WP02 depends on WP01");
    EXPECT_EQ(doc["parallelism_lost_total"], 1);
    EXPECT_EQ(doc["parallelism_lost"][0],
              Json({{"lane_id", "lane-a"}, {"wp_a", "WP02"}, {"wp_b", "WP03"}}));
    EXPECT_EQ(doc["findings"][0]["code"], "PARALLELISM_LOST");
    EXPECT_NE(r.err.find("warning: lane-a: 1 pair of WPs"), std::string::npos) << r.err;

    r = lanes({"compute", p.mission.string(), "--format", "text"});
    EXPECT_NE(r.out.find("runs:   WP01 -> WP02 -> WP03"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("merged WP02 + WP01 (dependency): WP02 depends on WP01"),
              std::string::npos);
    EXPECT_NE(r.out.find("parallelism lost: WP02 and WP03"), std::string::npos);
    EXPECT_NE(r.out.find("lane-planning  (planning artifacts: main checkout, branch develop)"),
              std::string::npos);
}

TEST(LanesCli, ShowValidatesExistingFiles) {
    Project p;
    ASSERT_EQ(lanes({"compute", p.mission.string(), "--write"}).exit_code, 0);
    auto r = lanes({"show", p.mission.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(document(r)["shape"], "3.1.1");
    EXPECT_EQ(kitty::dump_python(document(r)["manifest"], {.indent = 2}) + "\n",
              slurp(p.mission / "lanes.json"));

    // A WP added to tasks.md after lanes were computed is in no lane.
    const std::string tasks = slurp(p.mission / "tasks.md");
    write_fixture(p.mission / "tasks.md", tasks + "\n## Work Package WP05: Late\n");
    r = lanes({"show", p.mission.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(document(r)["findings"][0]["code"], "WP_NOT_IN_LANE");
    write_fixture(p.mission / "tasks.md", tasks);

    write_fixture(p.mission / "lanes.json",
                  R"({"version": 1, "mission_slug": "d", "mission_branch": "b", "target_branch":
"main", "computed_at": "t", "computed_from": "manual", "lanes": [{"lane_id": "lane-a", "wp_ids":
["WP01"]}, {"lane_id": "lane-b", "wp_ids": ["WP01"]}]})");
    r = lanes({"show", (p.mission / "lanes.json").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(document(r)["ok"], false);
    EXPECT_NE(r.err.find("WP01 is in lane-a and in lane-b"), std::string::npos);

    write_fixture(p.mission / "lanes.json", "{\"version\": 1,\n");
    r = lanes({"show", p.mission.string()});
    EXPECT_EQ(r.exit_code, 3);
}

TEST(LanesCli, UsageErrors) {
    EXPECT_EQ(lanes({}).exit_code, 2);
    EXPECT_EQ(lanes({"frobnicate"}).exit_code, 2);
    Project p;
    const auto r = lanes({"compute", p.mission.string(), "--computed-at", "yesterday"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(document(r)["code"], "INVALID_TIMESTAMP");
    const auto help = lanes({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* verb : {"compute", "explain", "resolve", "show"}) {
        EXPECT_NE(help.out.find(verb), std::string::npos) << verb;
    }
}

// D02-D04 on the lanes readers: untrusted JSON is exit 3 naming the problem, never an
// internal error (70) or a crash (139).
TEST(LanesCli, HostileJsonIsInputError) {
    Project p;
    // D03: a number out of range on stdin.
    auto r = lanes({"compute", "-"}, {}, "1e999999");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(document(r)["code"], "INVALID_JSON");

    // D04: a kitty-parse-tasks document whose readable is not a boolean.
    const auto parsed = run_process({kitty::test::tool_path("kitty-parse-tasks"), p.mission});
    for (const Json& readable : {Json(nullptr), Json("yes"), Json(1)}) {
        Json doc = Json::parse(parsed.out);
        doc["wp_files"][0]["readable"] = readable;
        r = lanes({"compute", "-"}, {}, doc.dump());
        EXPECT_EQ(r.exit_code, 3) << readable.dump() << ": " << r.err;
        EXPECT_EQ(document(r)["code"], "INVALID_LANES_INPUT");
        EXPECT_NE(r.err.find("wp_files[0].readable must be true or false"), std::string::npos)
            << r.err;
    }

    // D02: a lanes.json nested 100,000 deep, read by show and by kitty-status.
    ASSERT_EQ(lanes({"compute", p.mission.string(), "--write"}).exit_code, 0);
    std::string text = slurp(p.mission / "lanes.json");
    text.insert(text.rfind('}'), ", \"x\": " + std::string(100000, '[') + std::string(100000, ']'));
    write_fixture(p.mission / "lanes.json", text);
    r = lanes({"show", p.mission.string()});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(document(r)["code"], "INVALID_JSON");
    EXPECT_NE(r.err.find("nested deeper than 512 levels"), std::string::npos) << r.err;
    r = run_process({kitty::test::tool_path("kitty-status"), p.mission.string()});
    EXPECT_EQ(r.exit_code, 3) << r.err;
}

// §2.6: "2026-+1-+1T+0:+0:+0Z" passed the old sscanf parser and was written into lanes.json.
TEST(LanesCli, ComputedAtMustBeAStrictTimestamp) {
    Project p;
    for (const char* bad : {"2026-+1-+1T+0:+0:+0Z", "2026-01-01T00:00:00", "2026-1-1T0:0:0Z"}) {
        const auto r = lanes({"compute", p.mission.string(), "--computed-at", bad});
        EXPECT_EQ(r.exit_code, 2) << bad;
        EXPECT_EQ(document(r)["code"], "INVALID_TIMESTAMP") << bad;
    }
    const auto r =
        lanes({"compute", p.mission.string(), "--computed-at", "2026-01-01T00:00:00.5+01:00"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(document(r)["computed_at"], "2026-01-01T00:00:00.5+01:00");
}

// D12: the lost pairs were all materialised (10,000 WPs sharing src/** are 50 million
// pairs, 8.6 GB). Counting no longer keeps them; what is shown stays the same.
TEST(LanesCli, ExplainCountsPairsItDoesNotList) {
    Json graph = Json::object(), manifests = Json::object();
    for (int i = 1; i <= 60; ++i) {
        const std::string id = (i < 10 ? "WP0" : "WP") + std::to_string(i);
        graph[id] = i == 60 ? Json({"WP59"}) : Json::array();
        manifests[id] = {{"execution_mode", "code_change"}, {"owned_files", {"src/**"}}};
    }
    const Json input = {{"mission_slug", "s"},
                        {"target_branch", "main"},
                        {"dependency_graph", graph},
                        {"ownership_manifests", manifests}};
    const auto r = lanes({"explain", "-"}, {}, input.dump());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json doc = document(r);
    // 60 WPs in one lane: C(60, 2) = 1770 pairs, less WP59/WP60, which depend.
    EXPECT_EQ(doc["parallelism_lost_total"], 1769);
    ASSERT_EQ(doc["parallelism_lost"].size(), 1000u);
    EXPECT_EQ(doc["parallelism_lost"][0],
              Json({{"lane_id", "lane-a"}, {"wp_a", "WP01"}, {"wp_b", "WP02"}}));
    EXPECT_EQ(doc["parallelism_lost"][999],
              Json({{"lane_id", "lane-a"}, {"wp_a", "WP21"}, {"wp_b", "WP31"}}));
    EXPECT_NE(r.err.find("lane-a: 1769 pairs of WPs with no dependency between them in one lane, "
                         "run one after the other (WP01/WP02, WP01/WP03, WP01/WP04, WP01/WP05, "
                         "WP01/WP06, …)"),
              std::string::npos)
        << r.err;
    const auto text = lanes({"explain", "-", "--format", "text"}, {}, input.dump());
    EXPECT_NE(text.out.find("  parallelism lost: WP01 and WP11 do not depend on each other but "
                            "run one after the other\n  parallelism lost: 1759 more pairs\n"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("1 lane, "), std::string::npos);
    EXPECT_NE(text.out.find("1769 pairs of independent WPs sharing a lane"), std::string::npos);
}
