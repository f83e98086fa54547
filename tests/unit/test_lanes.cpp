// compute_lanes, the overlap test, surfaces and lanes.json bytes against the reference
// behaviour of ../shared/spec/lanes.md (section numbers below), and the lanes.json reader.
#include <random>

#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/lanes.hpp"
#include "process.hpp"

using kitty::compute_lanes;
using kitty::ExecutionMode;
using kitty::LaneInputs;
using kitty::LanesManifest;

namespace {

constexpr const char* kAt = "2026-01-01T00:00:00+00:00";

// Inputs for code WPs: each (id, deps, globs), all code_change unless listed in planning.
struct Wp {
    std::string id;
    std::vector<std::string> deps;
    std::vector<std::string> globs;
    bool planning = false;
};

LaneInputs inputs(const std::vector<Wp>& wps) {
    LaneInputs in;
    in.mission_slug = "m";
    in.computed_at = kAt;
    for (const Wp& wp : wps) {
        in.graph.emplace_back(wp.id, wp.deps);
        in.manifests[wp.id] = {
            wp.planning ? ExecutionMode::planning_artifact : ExecutionMode::code_change, wp.globs};
    }
    return in;
}

std::vector<std::string> lane_ids(const LanesManifest& m) {
    std::vector<std::string> out;
    for (const auto& lane : m.lanes) {
        out.push_back(lane.lane_id);
    }
    return out;
}

kitty::Error compute_error(const LaneInputs& in) {
    try {
        compute_lanes(in);
    } catch (const kitty::Error& e) {
        return e;
    }
    ADD_FAILURE() << "compute_lanes did not fail";
    return kitty::Error(kitty::Exit::ok, "NONE", "");
}

} // namespace

// §2.3, the verified truth table of _globs_overlap.
TEST(GlobsOverlap, ReferenceTruthTable) {
    struct Row {
        const char* a;
        const char* b;
        bool overlap;
    };
    const Row rows[] = {
        {"src/**", "src/context/**", true},
        {"src/core/**", "src/merge/**", false},
        {"src/core/**", "src/core_utils/**", true},
        {"src/a/**", "src/ab.py", true},
        {"src/foo.py", "src/foo.pyc", true},
        {"README.md", "README.md.bak", true},
        {"kitty-specs/079/**", "kitty-specs/0790/**", true},
        {"src/*.py", "src/sub/a.py", true},
        {"*.md", "docs/x.md", true},
        {"*", "src/a.py", true},
        {"**", "*", true},
        {"tests/test_*.py", "tests/unit/**", false},
        {"src/**/test_*.py", "src/a/**", false},
        {"src/*/x.py", "src/*/y.py", false},
        {"src/A/**", "src/a/**", false},
        {"src/[ab]/x.py", "src/a/x.py", true},
        {"", "src/a", false},
        {"/", "src/a", false},
    };
    for (const Row& r : rows) {
        EXPECT_EQ(kitty::globs_overlap(r.a, r.b), r.overlap) << r.a << " vs " << r.b;
        EXPECT_EQ(kitty::globs_overlap(r.b, r.a), r.overlap) << r.b << " vs " << r.a;
    }
}

// §2.4: substring keywords on the Unicode-lowercased body, the result sorted.
TEST(InferSurfaces, KeywordTableOnLowercasedBody) {
    using V = std::vector<std::string>;
    EXPECT_EQ(kitty::infer_surfaces(""), V{});
    EXPECT_EQ(kitty::infer_surfaces("Please review this"), V{"api"});
    EXPECT_EQ(kitty::infer_surfaces("runs async"), V{"tracker-integration"});
    EXPECT_EQ(kitty::infer_surfaces("a rapid fix"), V{"api"});
    EXPECT_EQ(kitty::infer_surfaces("Dashboard LAYOUT and the Test Suite"),
              (V{"app-shell", "dashboard", "tests"}));
    EXPECT_EQ(kitty::infer_surfaces("Remove the deprecated WORKSPACE template"),
              (V{"artifact-rendering", "legacy-cleanup", "workspace"}));
    // U+212A KELVIN SIGN lower-cases to "k"; U+0130 to "i" + U+0307.
    EXPECT_EQ(kitty::infer_surfaces("TRAC\u212AER"), V{"tracker-integration"});
    EXPECT_EQ(kitty::infer_surfaces("AP\u0130"), V{"api"});
    EXPECT_EQ(kitty::infer_surfaces("\u00c4PI"), V{});
}

// §2.6: the lexicographically smallest topological order inside a lane, §2.2 Rule 1 events.
TEST(ComputeLanes, DependencyLaneOrderAndEvents) {
    const LanesManifest m = compute_lanes(inputs({{"WP01", {"WP05"}, {"a/**"}},
                                                  {"WP02", {}, {"b/**"}},
                                                  {"WP03", {"WP02"}, {"c/**"}},
                                                  {"WP04", {"WP01", "WP03"}, {"d/**"}},
                                                  {"WP05", {}, {"e/**"}}}));
    ASSERT_EQ(m.lanes.size(), 1u);
    EXPECT_EQ(m.lanes[0].wp_ids,
              (std::vector<std::string>{"WP02", "WP03", "WP05", "WP01", "WP04"}));
    EXPECT_EQ(m.lanes[0].write_scope,
              (std::vector<std::string>{"a/**", "b/**", "c/**", "d/**", "e/**"}));
    ASSERT_EQ(m.events.size(), 4u);
    EXPECT_EQ(m.events[0].evidence, "WP01 depends on WP05");
    EXPECT_EQ(m.events[1].evidence, "WP03 depends on WP02");
    EXPECT_EQ(m.events[2].evidence, "WP04 depends on WP01");
    EXPECT_EQ(m.events[3].evidence, "WP04 depends on WP03");
    EXPECT_EQ(m.independent_wps_collapsed, 0);
    const kitty::Json doc = kitty::lanes_json(m);
    EXPECT_EQ(doc["collapse_report"]["by_rule"].dump(), R"({"dependency":4})");
    EXPECT_EQ(doc["collapse_report"]["total_merges"], 4);
}

// §2.5: groups ordered by their smallest WP; ids run past "z" without wrapping, and JSON
// escapes 0x7F.
TEST(ComputeLanes, LaneIdsFollowCodePointsPastZ) {
    std::vector<Wp> wps;
    for (int i = 31; i >= 1; --i) {
        const std::string id = (i < 10 ? "WP0" : "WP") + std::to_string(i);
        wps.push_back({id, {}, {"dir" + std::to_string(i) + "/x"}});
    }
    const LanesManifest m = compute_lanes(inputs(wps));
    ASSERT_EQ(m.lanes.size(), 31u);
    EXPECT_EQ(m.lanes[0].lane_id, "lane-a");
    EXPECT_EQ(m.lanes[0].wp_ids, std::vector<std::string>{"WP01"});
    EXPECT_EQ(m.lanes[25].lane_id, "lane-z");
    EXPECT_EQ(m.lanes[26].lane_id, "lane-{");
    EXPECT_EQ(m.lanes[30].lane_id, "lane-\x7f");
    EXPECT_NE(kitty::serialize_lanes(m).find("\"lane-\\u007f\""), std::string::npos);
    EXPECT_TRUE(m.events.empty());
}

// §2.9: every planning WP in the one canonical lane, listed last, sorted, surfaces
// ["planning"], never merged with code WPs even when globs overlap.
TEST(ComputeLanes, PlanningArtifactsShareTheCanonicalLane) {
    LaneInputs in = inputs({{"WP01", {}, {"src/**"}},
                            {"WP02", {"WP01"}, {"kitty-specs/m/b.md", "src/x.py"}, true},
                            {"WP03", {}, {"kitty-specs/m/a.md"}, true},
                            {"WP04", {}, {"tests/**"}}});
    in.bodies = {{"WP01", "an endpoint"}, {"WP02", "the dashboard"}};
    const LanesManifest m = compute_lanes(in);
    EXPECT_EQ(lane_ids(m), (std::vector<std::string>{"lane-a", "lane-b", "lane-planning"}));
    const auto& planning = m.lanes.back();
    EXPECT_TRUE(planning.is_planning());
    EXPECT_EQ(planning.wp_ids, (std::vector<std::string>{"WP02", "WP03"}));
    EXPECT_EQ(planning.write_scope,
              (std::vector<std::string>{"kitty-specs/m/a.md", "kitty-specs/m/b.md", "src/x.py"}));
    EXPECT_EQ(planning.predicted_surfaces, std::vector<std::string>{"planning"});
    EXPECT_EQ(m.planning_artifact_wps(), planning.wp_ids);
    EXPECT_EQ(m.lanes[0].predicted_surfaces, std::vector<std::string>{"api"});
    EXPECT_EQ(m.lanes[1].predicted_surfaces, std::vector<std::string>{});
    EXPECT_TRUE(m.events.empty());
    EXPECT_FALSE(kitty::lanes_json(m).contains("collapse_report"));
    EXPECT_EQ(m.lane_for_wp("WP03")->lane_id, "lane-planning");
    EXPECT_EQ(kitty::lane_branch_name("m", planning, "develop"), "develop");
    EXPECT_EQ(kitty::lane_branch_name("m", m.lanes[0], "develop"), "kitty/mission-m-lane-a");
}

// §2.1: only planning WPs gives one lane and no collapse report, whatever their graph.
TEST(ComputeLanes, PlanningOnlyMissionIgnoresItsGraph) {
    const LanesManifest m = compute_lanes(
        inputs({{"WP02", {"WP01"}, {"k/**"}, true}, {"WP01", {"WP01"}, {"k/a"}, true}}));
    EXPECT_EQ(lane_ids(m), std::vector<std::string>{"lane-planning"});
    EXPECT_EQ(m.lanes[0].wp_ids, (std::vector<std::string>{"WP01", "WP02"}));
}

// §3.4 (verified example): every overlapping glob pair in Python repr, escaped by JSON.
TEST(ComputeLanes, OverlapEvidenceUsesPythonRepr) {
    const LanesManifest m = compute_lanes(
        inputs({{"WP01", {}, {"src/it's/**"}}, {"WP02", {}, {"src/it's/\u00fcn\u00ef/**"}}}));
    ASSERT_EQ(m.events.size(), 1u);
    EXPECT_EQ(m.events[0].rule, "write_scope_overlap");
    EXPECT_EQ(m.independent_wps_collapsed, 1);
    EXPECT_NE(
        kitty::serialize_lanes(m).find(
            R"("evidence": "overlapping globs: \"src/it's/**\" vs \"src/it's/\u00fcn\u00ef/**\"")"),
        std::string::npos);
}

// §2.2 Rule 2 lists every pair (a's globs outer, duplicates kept); §2.10 by_rule keeps
// first-occurrence order and independence is judged over the full graph.
TEST(ComputeLanes, CollapseReportOrderAndIndependence) {
    LaneInputs in = inputs({{"WP01", {"WP09"}, {"src/a/**", "src/a/**", "docs/x"}},
                            {"WP02", {}, {"src/a/b.py", "docs/**"}},
                            {"WP03", {"WP04"}, {"lib/**"}},
                            {"WP04", {}, {"web/**"}},
                            {"WP09", {"WP02"}, {"k/**"}, true}});
    const LanesManifest m = compute_lanes(in);
    ASSERT_EQ(m.events.size(), 2u);
    EXPECT_EQ(m.events[0].rule, "dependency");
    EXPECT_EQ(m.events[0].evidence, "WP03 depends on WP04");
    EXPECT_EQ(m.events[1].rule, "write_scope_overlap");
    EXPECT_EQ(m.events[1].evidence,
              "overlapping globs: 'src/a/**' vs 'src/a/b.py', 'src/a/**' vs 'src/a/b.py', "
              "'docs/x' vs 'docs/**'");
    // WP01 depends on WP02 through the planning WP09, so the merge was not independent.
    EXPECT_EQ(m.independent_wps_collapsed, 0);
    EXPECT_EQ(kitty::lanes_json(m)["collapse_report"]["by_rule"].dump(),
              R"({"dependency":1,"write_scope_overlap":1})");
}

// §1.1: manifests outside the graph are ignored; unknown and duplicate dependencies are
// tolerated; an empty mission_id falls back to the slug.
TEST(ComputeLanes, InputsAreTakenAsTheReferenceTakesThem) {
    LaneInputs in = inputs({{"WP01", {"WP07", "WP02", "WP02"}, {"a"}}, {"WP02", {}, {"b"}}});
    in.manifests["WP05"] = {ExecutionMode::code_change, {"a"}};
    const LanesManifest m = compute_lanes(in);
    EXPECT_EQ(m.mission_id, "m");
    EXPECT_EQ(m.mission_branch, "kitty/mission-m");
    ASSERT_EQ(m.lanes.size(), 1u);
    EXPECT_EQ(m.lanes[0].wp_ids, (std::vector<std::string>{"WP02", "WP01"}));
    EXPECT_EQ(m.events.size(), 1u);
}

// §3.2/§3.3: the exact bytes of an empty manifest.
TEST(ComputeLanes, EmptyGraphBytes) {
    LaneInputs in;
    in.mission_slug = "m";
    in.mission_id = "01KN2371WVZGM3C5Y7Y3AV5G6W";
    in.computed_at = kAt;
    EXPECT_EQ(kitty::serialize_lanes(compute_lanes(in)),
              "{\n"
              "  \"version\": 1,\n"
              "  \"mission_slug\": \"m\",\n"
              "  \"mission_id\": \"01KN2371WVZGM3C5Y7Y3AV5G6W\",\n"
              "  \"mission_branch\": \"kitty/mission-m\",\n"
              "  \"target_branch\": \"main\",\n"
              "  \"lanes\": [],\n"
              "  \"computed_at\": \"2026-01-01T00:00:00+00:00\",\n"
              "  \"computed_from\": \"dependency_graph+ownership\",\n"
              "  \"planning_artifact_wps\": []\n"
              "}\n");
}

// §2.12: the failure modes.
TEST(ComputeLanes, FailureModes) {
    LaneInputs missing = inputs({{"WP01", {}, {"a"}}});
    missing.graph.emplace_back("WP02", std::vector<std::string>{});
    missing.manifest_gaps["WP02"] = {"tasks/WP02-x.md has no owned_files", "tasks/WP02-x.md"};
    kitty::Error e = compute_error(missing);
    EXPECT_EQ(e.code(), "MISSING_MANIFEST");
    EXPECT_EQ(e.exit(), kitty::Exit::check_failed);
    EXPECT_NE(std::string(e.what()).find("'WP02'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("has no owned_files"), std::string::npos);
    EXPECT_EQ(e.path(), "tasks/WP02-x.md");

    e = compute_error(inputs({{"WP01", {"WP02"}, {"a"}}, {"WP02", {"WP01"}, {"b"}}}));
    EXPECT_EQ(e.code(), "DEPENDENCY_CYCLE");
    EXPECT_NE(std::string(e.what()).find("WP01 -> WP02 -> WP01"), std::string::npos);

    EXPECT_EQ(compute_error(inputs({{"WP01", {"WP01"}, {"a"}}})).code(), "DEPENDENCY_CYCLE");
    // A cycle through a planning WP: 3.1.1's closure recursion fails on it.
    EXPECT_EQ(compute_error(inputs({{"WP01", {}, {"a"}}, {"WP02", {"WP02"}, {"k"}, true}})).code(),
              "DEPENDENCY_CYCLE");
}

// Rule 2 looks only at candidate pairs from an index; the events must be exactly those of
// §2.2's all-pairs loop, which this test runs itself on random globs.
TEST(ComputeLanes, IndexedOverlapMatchesAllPairs) {
    std::mt19937 rng(20261124);
    const std::vector<std::string> parts{"src", "src/a", "src/ab", "tests", "docs", "a", ""};
    const std::vector<std::string> tails{"/**", "/*", "**", "*", ".py", "/x.py", "/[ab]*", "?", ""};
    for (int round = 0; round < 200; ++round) {
        std::vector<Wp> wps;
        const int n = 2 + static_cast<int>(rng() % 12);
        for (int i = 1; i <= n; ++i) {
            Wp wp{(i < 10 ? "WP0" : "WP") + std::to_string(i), {}, {}};
            for (unsigned g = 0; g < 1 + rng() % 3; ++g) {
                wp.globs.push_back(parts[rng() % parts.size()] + tails[rng() % tails.size()]);
            }
            wps.push_back(wp);
        }
        const LanesManifest m = compute_lanes(inputs(wps));

        std::vector<int> root(n);
        for (int i = 0; i < n; ++i) {
            root[i] = i;
        }
        const auto find = [&](int x) {
            while (root[x] != x) {
                x = root[x];
            }
            return x;
        };
        std::vector<std::pair<std::string, std::string>> expected;
        for (int a = 0; a < n; ++a) {
            for (int b = a + 1; b < n; ++b) {
                bool overlap = false;
                for (const auto& ga : wps[a].globs) {
                    for (const auto& gb : wps[b].globs) {
                        overlap = overlap || kitty::globs_overlap(ga, gb);
                    }
                }
                if (overlap && find(a) != find(b)) {
                    expected.emplace_back(wps[a].id, wps[b].id);
                    root[find(b)] = find(a);
                }
            }
        }
        std::vector<std::pair<std::string, std::string>> actual;
        for (const auto& e : m.events) {
            actual.emplace_back(e.wp_a, e.wp_b);
        }
        ASSERT_EQ(actual, expected) << "round " << round;
    }
}

TEST(LanesFile, ReadsOlderShapesAndValidates) {
    kitty::test::TempDir tmp;
    const auto path = tmp / "lanes.json";
    kitty::test::write_fixture(
        path, R"({"version": 1, "feature_slug": "064-x", "mission_branch": "kitty/mission-064-x",
"target_branch": "main", "lanes": [{"lane_id": "lane-a", "wp_ids": ["WP01", "WP02"]},
{"lane_id": "lane-b", "wp_ids": ["WP02"]}], "computed_at": "x", "computed_from": "manual"})");
    const kitty::LanesFile file = kitty::read_lanes_file(path);
    EXPECT_EQ(file.manifest.mission_slug, "064-x");
    EXPECT_EQ(file.manifest.mission_id, "064-x");
    EXPECT_NE(file.shape.find("feature_slug"), std::string::npos);
    ASSERT_EQ(file.findings.size(), 2u);
    EXPECT_EQ(file.findings[0].code, "LEGACY_LANES_SHAPE");
    EXPECT_EQ(file.findings[1].code, "WP_IN_SEVERAL_LANES");
    EXPECT_EQ(file.findings[1].severity, "error");
    EXPECT_EQ(file.manifest.lane_for_wp("WP02")->lane_id, "lane-a");
    // Without the shape (as the loop reads it): the same manifest and findings.
    const kitty::LanesFile quick = kitty::read_lanes_file(path, kitty::LanesShape::skipped);
    EXPECT_EQ(quick.shape, "");
    EXPECT_EQ(kitty::serialize_lanes(quick.manifest), kitty::serialize_lanes(file.manifest));
    ASSERT_EQ(quick.findings.size(), 2u);
    EXPECT_EQ(quick.findings[1].code, "WP_IN_SEVERAL_LANES");

    kitty::test::write_fixture(path, R"({"version": 1, "mission_slug": "m"})");
    try {
        kitty::read_lanes_file(path);
        FAIL() << "accepted a file without lanes";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "INVALID_LANES_JSON");
        EXPECT_EQ(e.exit(), kitty::Exit::input);
    }
    try {
        kitty::read_lanes_file(tmp / "none.json");
        FAIL() << "accepted a missing file";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "MISSING_LANES");
    }
}

// What compute writes, the reader reads back unchanged and calls the 3.1.1 shape.
TEST(LanesFile, RoundTripsComputedManifest) {
    kitty::test::TempDir tmp;
    const LanesManifest m = compute_lanes(inputs(
        {{"WP01", {}, {"src/**"}}, {"WP02", {}, {"src/a.py"}}, {"WP03", {}, {"k/**"}, true}}));
    kitty::test::write_fixture(tmp / "lanes.json", kitty::serialize_lanes(m));
    const kitty::LanesFile file = kitty::read_lanes_file(tmp / "lanes.json");
    EXPECT_EQ(file.shape, "3.1.1");
    EXPECT_TRUE(file.findings.empty());
    EXPECT_EQ(kitty::serialize_lanes(file.manifest), kitty::serialize_lanes(m));
}
