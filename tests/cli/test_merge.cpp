// kitty-merge through the built binaries (issue 15, ../shared/spec/next-loop.md §8, §12.13-14):
// missions taken to approval with the real loop commands, merged, and the repository read
// back with libgit2 independently of kitty; refusals compared before and after; conflicts,
// --resume, --abort, and SIGKILL at random points of a merge.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::approve;
using kitty::test::do_work;
using kitty::test::every_file;
using kitty::test::git_commit_all;
using kitty::test::GitView;
using kitty::test::keys;
using kitty::test::kThreeWps;
using kitty::test::Project;
using kitty::test::run_and_kill;
using kitty::test::slurp;
using kitty::test::tool_path;
using kitty::test::write_fixture;

namespace {

const std::string kMission = "kitty/mission-001-demo";

// implement, a line appended to the shared README.md, an approval.
void approve_touching_readme(const Project& p, const std::string& wp) {
    const Json claim = p.sk_json({"agent", "action", "implement", wp, "--agent", "claude"});
    const fs::path ws = claim["workspace_path"].get<std::string>();
    write_fixture(ws / "README.md", slurp(ws / "README.md") + wp + " was here\n");
    git_commit_all(ws, wp + " touches the README");
    p.sk_json(
        {"agent", "tasks", "move-task", wp, "--to", "approved", "--agent", "claude", "--force"});
}

// A mission with two code lanes and a planning WP, every WP approved.
void approved_mission(const Project& p) {
    p.finalized_mission(kThreeWps);
    for (const std::string wp : {"WP01", "WP02", "WP03"}) {
        approve(p, wp);
    }
}

// WP01 and WP02, in two lanes, both append a line to README.md; all three WPs approved.
void readme_conflict_mission(const Project& p) {
    write_fixture(p.root / "README.md", "readme\n");
    p.commit("a README");
    p.finalized_mission(kThreeWps);
    approve_touching_readme(p, "WP01");
    approve_touching_readme(p, "WP02");
    approve(p, "WP03");
}

// Everything a refused merge must leave as it was.
struct Snapshot {
    std::map<std::string, std::string> refs;
    std::set<std::string> worktrees;
    std::vector<std::string> dirty;
    std::string events;
    bool merge_state = false;
    bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const Project& p) {
    GitView git(p.root);
    Snapshot s;
    for (const std::string& b : git.branches()) {
        s.refs[b] = git.tip(b);
    }
    s.worktrees = git.worktrees();
    s.dirty = git.dirty();
    s.events = slurp(p.root / "kitty-specs/001-demo/status.events.jsonl");
    s.merge_state = fs::exists(p.root / ".kittify/runtime/merge/001-demo");
    return s;
}

Json merge(const Project& p, std::vector<std::string> args, int expect_exit = 0) {
    args.insert(args.begin(), "merge");
    return p.sk_json(args, expect_exit);
}

std::set<std::string> problem_codes(const Json& doc) {
    std::set<std::string> out;
    for (const Json& problem : doc["problems"]) {
        out.insert(problem["code"].get<std::string>());
    }
    return out;
}

// Every WP's last event is merge's approved -> done (§8.4's shape).
void expect_all_done(const Project& p, const std::string& target = "main") {
    std::map<std::string, Json> last;
    for (const Json& e : p.events()) {
        last[e["wp_id"].get<std::string>()] = e;
    }
    ASSERT_FALSE(last.empty());
    for (const auto& [wp, e] : last) {
        EXPECT_EQ(e["to_lane"], "done") << wp;
        EXPECT_EQ(e["from_lane"], "approved") << wp;
        EXPECT_EQ(e["actor"], "merge") << wp;
        EXPECT_EQ(e["reason"], "Merged " + wp + " into " + target) << wp;
        EXPECT_EQ(e["evidence"], Json::parse(R"({"review": {"reference": "lane-approved:)" + wp +
                                             R"(", "reviewer": "claude", "verdict": "approved"}})"))
            << wp;
        EXPECT_EQ(e["execution_mode"], "worktree");
        EXPECT_EQ(e["force"], false);
    }
}

// The end state of every successful merge: one branch, no worktree, a clean checkout, no
// merge state or context files.
void expect_cleaned_up(const Project& p) {
    GitView git(p.root);
    EXPECT_EQ(git.branches(), std::set<std::string>{"main"});
    EXPECT_EQ(git.worktrees(), std::set<std::string>{});
    EXPECT_EQ(git.dirty(), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(p.root / ".kittify/runtime/merge/001-demo/kitty-state.json"));
    EXPECT_TRUE(fs::is_empty(p.root / ".kittify/workspaces"));
}

} // namespace

// §12.13: the default squash, the done events, the status commit, the cleanup, and the main
// checkout true to the new target (#1826: no staged deletions after the merge).
TEST(Merge, SquashesTheLanesOntoTheTargetAndMarksEveryWorkPackageDone) {
    Project p;
    approved_mission(p);
    GitView before(p.root);
    const std::string main_before = before.tip("main");
    const std::string lane_a = before.tip(kMission + "-lane-a");

    const Json out = merge(p, {});
    EXPECT_EQ(out["result"], "merged");
    EXPECT_EQ(out["strategy"], "squash");
    EXPECT_EQ(out["merged_lanes"], Json::array({"lane-a", "lane-b", "lane-planning"}));
    EXPECT_EQ(out["done_wps"], Json::array({"WP01", "WP02", "WP03"}));

    GitView git(p.root);
    const auto subjects = git.subjects("main");
    ASSERT_GE(subjects.size(), 3u);
    EXPECT_EQ(subjects[0], "chore(001-demo): record done transitions for merged WPs");
    EXPECT_EQ(subjects[1], "feat(" + kMission + "): squash merge of mission");
    EXPECT_EQ(git.parent_count("main~1"), 1) << "a squash has one parent";
    EXPECT_TRUE(git.is_ancestor(main_before, git.tip("main")));
    EXPECT_FALSE(git.is_ancestor(lane_a, git.tip("main")));
    for (const std::string path : {"src/alpha/work.txt", "src/beta/work.txt", "docs/notes.md"}) {
        EXPECT_TRUE(git.has_file("main", path)) << path;
        EXPECT_TRUE(fs::exists(p.root / path)) << path << " is not in the main checkout";
    }
    expect_all_done(p);
    expect_cleaned_up(p);

    // Nothing is left to merge; the mission is no longer open.
    const auto again = p.sk({"merge", "--mission", "001-demo"});
    EXPECT_EQ(again.exit_code, 0) << again.out;
    EXPECT_EQ(kitty::parse_json(again.out, "out")["result"], "nothing_to_merge");
}

// --strategy merge keeps the lanes' commits on the target; a lane can fast-forward the
// mission branch (3.1.1's documented choice, spec §10.18).
TEST(Merge, MergeStrategyKeepsTheLanesHistory) {
    Project p;
    approved_mission(p);
    GitView before(p.root);
    const std::string lane_a = before.tip(kMission + "-lane-a");
    const std::string lane_b = before.tip(kMission + "-lane-b");
    const Json out = merge(p, {"--strategy", "merge", "--keep-branches"});
    EXPECT_EQ(out["strategy"], "merge");
    GitView git(p.root);
    EXPECT_TRUE(git.is_ancestor(lane_a, git.tip("main")));
    EXPECT_TRUE(git.is_ancestor(lane_b, git.tip("main")));
    const auto subjects = git.subjects("main");
    EXPECT_NE(std::find(subjects.begin(), subjects.end(),
                        "Merge " + kMission + "-lane-b into " + kMission),
              subjects.end());
    // --keep-branches: the lanes and the mission branch stay; worktrees go.
    EXPECT_EQ(git.branches(), (std::set<std::string>{"main", kMission, kMission + "-lane-a",
                                                     kMission + "-lane-b"}));
    EXPECT_EQ(git.worktrees(), std::set<std::string>{});
    EXPECT_EQ(git.dirty(), std::vector<std::string>{});
    expect_all_done(p);
}

// §8.1: --dry-run prints 3.1.1's keys first, then kitty's, and changes nothing.
TEST(Merge, DryRunPrintsThePlanAndChangesNothing) {
    Project p;
    approved_mission(p);
    const Snapshot before = snapshot(p);
    const Json plan = merge(p, {"--dry-run"});
    const std::vector<std::string> k = keys(plan);
    const std::vector<std::string> first = {
        "spec_kitty_version", "mission_slug", "target_branch",  "strategy", "delete_branch",
        "remove_worktree",    "push",         "mission_branch", "lanes"};
    ASSERT_GE(k.size(), first.size());
    EXPECT_EQ(std::vector<std::string>(k.begin(), k.begin() + first.size()), first);
    EXPECT_EQ(plan["mission_slug"], "001-demo");
    EXPECT_EQ(plan["target_branch"], "main");
    EXPECT_EQ(plan["strategy"], "squash");
    EXPECT_EQ(plan["mission_branch"], kMission);
    EXPECT_EQ(plan["lanes"][0], Json::parse(R"({"lane_id": "lane-a", "wp_ids": ["WP01"],
        "write_scope": ["src/alpha/**"], "predicted_surfaces": [], "depends_on_lanes": [],
        "parallel_group": 0})"));
    EXPECT_EQ(plan["ready"], true);
    EXPECT_EQ(plan["merge_order"].size(), 3u);
    EXPECT_EQ(snapshot(p), before);
    const auto keep = p.sk({"merge", "--dry-run", "--keep-worktrees", "--keep-branches"});
    const Json kept = kitty::parse_json(keep.out, "out");
    EXPECT_EQ(kept["delete_branch"], false);
    EXPECT_EQ(kept["remove_worktree"], false);
}

std::size_t object_count(const std::map<std::string, std::string>& files) {
    return static_cast<std::size_t>(std::count_if(files.begin(), files.end(), [](const auto& f) {
        return f.first.starts_with(".git/objects/") && f.first.size() == 13 + 2 + 1 + 38;
    }));
}

// The forecast's steps as lane id -> action.
std::map<std::string, std::string> forecast_actions(const Json& doc) {
    std::map<std::string, std::string> out;
    for (const Json& step : doc["forecast"]["steps"]) {
        out[step["lane_id"].get<std::string>()] = step["action"].get<std::string>();
    }
    return out;
}

// Issue 21 §1: the forecast merges every lane in memory and the target as the strategy
// would; nothing in the project changes, not one object.
TEST(MergeForecast, ACleanMissionWouldCompleteAndNothingIsWritten) {
    Project p;
    approved_mission(p);
    merge(p, {"--dry-run"}); // the status lock's file exists from here on
    const auto before = every_file(p);
    const Json plan = merge(p, {"--dry-run"});
    EXPECT_EQ(every_file(p), before);
    EXPECT_GT(object_count(before), 10u);
    const Json& f = plan["forecast"];
    EXPECT_EQ(f["completes"], true);
    EXPECT_EQ(f["stops_at"], nullptr);
    EXPECT_EQ(f["conflicts"], 0);
    EXPECT_EQ(f["target_moves"], true);
    // lane-a fast-forwards the mission branch; lane-b is merged onto it; lane-planning and
    // the target bring main's planning commits, which the mission branch has from its start.
    EXPECT_EQ(forecast_actions(plan),
              (std::map<std::string, std::string>{
                  {"lane-a", "fast_forward"}, {"lane-b", "merge"}, {"lane-planning", "merge"}}))
        << f.dump();
    for (const Json& step : f["steps"]) {
        EXPECT_EQ(step["stale"], false) << step.dump();
        EXPECT_EQ(step["conflicts"], Json::array());
    }
    const auto text = p.run({tool_path("spec-kitty"), "merge", "--dry-run"});
    EXPECT_NE(text.out.find("the merge would complete"), std::string::npos) << text.out;
}

// Two lanes change one line of README.md: the forecast says lane-b stops the merge with a
// content conflict in README.md, exit 1, nothing written; the real merge then stops there.
TEST(MergeForecast, AConflictBetweenLanesIsForetoldWithItsPathAndKind) {
    Project p;
    readme_conflict_mission(p);
    merge(p, {"--dry-run"}, 1);
    const auto before = every_file(p);
    const Json plan = merge(p, {"--dry-run"}, 1);
    EXPECT_EQ(every_file(p), before);
    EXPECT_EQ(plan["code"], "MERGE_REFUSED");
    EXPECT_EQ(plan["ready"], false);
    EXPECT_EQ(problem_codes(plan), std::set<std::string>{"MERGE_CONFLICT_FORECAST"});
    EXPECT_EQ(plan["problems"][0]["lane_id"], "lane-b");
    EXPECT_EQ(plan["problems"][0]["paths"], Json::array({"README.md"}));
    const Json& f = plan["forecast"];
    EXPECT_EQ(f["completes"], false);
    EXPECT_EQ(f["stops_at"], "lane-b");
    EXPECT_EQ(f["target_moves"], false);
    EXPECT_EQ(forecast_actions(plan)["lane-a"], "fast_forward");
    EXPECT_EQ(forecast_actions(plan)["lane-b"], "stop");
    EXPECT_EQ(forecast_actions(plan)["lane-planning"], "not_reached");
    EXPECT_EQ(f["steps"][1]["conflicts"],
              Json::parse(R"([{"path": "README.md", "kind": "content"}])"));
    // The 3.1.1 keys still come first.
    EXPECT_EQ(keys(plan)[0], "error"); // a refusal's document leads with the error
    EXPECT_EQ(plan["spec_kitty_version"], "3.1.1");

    const Json stop = merge(p, {}, 1);
    EXPECT_EQ(stop["code"], "MERGE_CONFLICT");
    EXPECT_EQ(stop["lane_id"], "lane-b");
    EXPECT_EQ(stop["conflicting_paths"], Json::array({"README.md"}));
}

// The issue's case: every lane approved, then someone commits to main a file lane-b also
// created. 3.1.1 and kitty before the forecast said "ready"; the forecast names the add/add
// conflict at the step that brings the target in (lane-planning, whose branch is main), and
// the target's commit survives.
TEST(MergeForecast, ATargetCommitThatConflictsWithALaneIsForetold) {
    Project p;
    approved_mission(p);
    write_fixture(p.root / "src/beta/work.txt", "main's own\n");
    p.commit("main gets src/beta/work.txt too");
    const std::string main_tip = GitView(p.root).tip("main");
    merge(p, {"--dry-run"}, 1);
    const auto before = every_file(p);
    const Json plan = merge(p, {"--dry-run"}, 1);
    EXPECT_EQ(every_file(p), before);
    EXPECT_EQ(problem_codes(plan), std::set<std::string>{"MERGE_CONFLICT_FORECAST"});
    const Json& f = plan["forecast"];
    EXPECT_EQ(f["stops_at"], "lane-planning");
    EXPECT_EQ(f["steps"].back()["branch"], "main");
    EXPECT_EQ(forecast_actions(plan)["lane-a"], "fast_forward");
    EXPECT_EQ(forecast_actions(plan)["lane-b"], "merge");
    EXPECT_EQ(forecast_actions(plan)["lane-planning"], "stop");
    EXPECT_EQ(f["steps"].back()["conflicts"],
              Json::parse(R"([{"path": "src/beta/work.txt", "kind": "add/add"}])"));
    const auto text = p.run({tool_path("spec-kitty"), "merge", "--dry-run"});
    EXPECT_EQ(text.exit_code, 1);
    EXPECT_NE(text.out.find("CONFLICT in src/beta/work.txt (add/add)"), std::string::npos)
        << text.out;

    const Json stop = merge(p, {}, 1);
    EXPECT_EQ(stop["code"], "MERGE_CONFLICT");
    EXPECT_EQ(stop["conflicting_paths"], Json::array({"src/beta/work.txt"}));
    EXPECT_EQ(GitView(p.root).tip("main"), main_tip);
    EXPECT_EQ(slurp(p.root / "src/beta/work.txt"), "main's own\n");
}

// lane-a depends on lane-b (lanes.json edited and committed); WP02 approved in lane-b, then
// WP01 claimed by claude, its lane cut from lane-b's tip; then lane-b gets one more commit,
// touching `path`, so lane-a is behind its upstream lane.
void lane_behind_its_upstream(const Project& p, const std::string& path) {
    p.finalized_mission(kThreeWps);
    const fs::path lanes_file = p.root / "kitty-specs/001-demo/lanes.json";
    Json lanes = kitty::read_json_file(lanes_file);
    lanes["lanes"][0]["depends_on_lanes"] = Json::array({"lane-b"});
    write_fixture(lanes_file, kitty::dump_python(lanes, {.indent = 2}) + "\n");
    p.commit("lane-a after lane-b");
    approve(p, "WP02");
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    do_work(p, claim, "first");
    const fs::path lane_b = p.root / ".worktrees/001-demo-lane-b";
    write_fixture(lane_b / path, "more from lane-b\n");
    git_commit_all(lane_b, "lane-b again");
}

// Issue 21 §2: a lane behind the lane it depends on is brought up to date by a merge commit
// (never a rebase: the lane's own commits stay), its worktree follows, and nothing happens
// while another agent works in it or its worktree has changes.
TEST(LaneSync, ALaneBehindItsUpstreamIsMergedUpOnlyForItsHolderAndWhenClean) {
    Project p;
    lane_behind_its_upstream(p, "src/beta/more.txt");
    const std::string lane_a = kMission + "-lane-a";
    const std::string lane_b = kMission + "-lane-b";
    const fs::path ws = p.root / ".worktrees/001-demo-lane-a";
    const std::string a_before = GitView(p.root).tip(lane_a);
    const std::string b_tip = GitView(p.root).tip(lane_b);

    // claude holds lane-a (WP01 in progress): nobody else syncs it.
    const Json held = p.sk_json({"lanes", "sync", "lane-a"}, 4);
    EXPECT_EQ(held["code"], "LANE_BUSY");
    EXPECT_EQ(held["lanes"][0]["result"], "held");
    EXPECT_EQ(held["lanes"][0]["held_by"], Json::parse(R"({"agent": "claude", "wp_id": "WP01"})"));
    const Json other = p.sk_json({"lanes", "sync", "lane-a", "--agent", "codex"}, 4);
    EXPECT_EQ(other["lanes"][0]["result"], "held");
    // Every lane at once: a held lane is skipped and reported, not an error.
    const Json all = p.sk_json({"lanes", "sync"});
    EXPECT_EQ(all["synced"], Json::array());
    EXPECT_EQ(GitView(p.root).tip(lane_a), a_before);

    // Uncommitted work in the worktree is never touched.
    write_fixture(ws / "src/alpha/draft.txt", "half done\n");
    const Json dirty = p.sk_json({"lanes", "sync", "lane-a", "--agent", "claude"}, 4);
    EXPECT_EQ(dirty["lanes"][0]["result"], "dirty");
    EXPECT_EQ(dirty["lanes"][0]["paths"], Json::array({"src/alpha/draft.txt"}));
    EXPECT_EQ(GitView(p.root).tip(lane_a), a_before);
    fs::remove(ws / "src/alpha/draft.txt");

    const Json synced = p.sk_json({"lanes", "sync", "lane-a", "--agent", "claude"});
    EXPECT_EQ(synced["synced"], Json::array({"lane-a"}));
    EXPECT_EQ(synced["lanes"][0]["sources"], Json::array({lane_b}));
    EXPECT_EQ(synced["lanes"][0]["from"], a_before);
    GitView git(p.root);
    const std::string a_after = git.tip(lane_a);
    EXPECT_EQ(synced["lanes"][0]["to"], a_after);
    EXPECT_EQ(git.parents(a_after), (std::vector<std::string>{a_before, b_tip}));
    EXPECT_EQ(git.tip(lane_b), b_tip);
    EXPECT_EQ(slurp(ws / "src/beta/more.txt"), "more from lane-b\n");
    EXPECT_EQ(slurp(ws / "src/alpha/first.txt"), "first\n");
    EXPECT_EQ(GitView(ws).dirty(), std::vector<std::string>{});

    // Up to date now; a second sync changes nothing.
    const Json again = p.sk_json({"lanes", "sync", "--agent", "claude"});
    EXPECT_EQ(again["synced"], Json::array());
    for (const Json& lane : again["lanes"]) {
        EXPECT_EQ(lane["result"], "up_to_date") << lane.dump();
    }
    EXPECT_EQ(GitView(p.root).tip(lane_a), a_after);
    // The holder then hands off as before: the merge commit is no planning change.
    p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "claude",
               "--force"});
}

// A sync whose merge conflicts names the files and their kind and changes nothing at all.
TEST(LaneSync, AConflictingSyncNamesTheFilesAndChangesNothing) {
    Project p;
    // lane-b's new commit adds src/alpha/first.txt, which WP01's work in lane-a added too.
    lane_behind_its_upstream(p, "src/alpha/first.txt");
    const auto before = every_file(p);
    const Json out = p.sk_json({"lanes", "sync", "lane-a", "--agent", "claude"}, 1);
    EXPECT_EQ(out["code"], "LANE_SYNC_CONFLICT");
    EXPECT_EQ(out["lanes"][0]["result"], "conflict");
    EXPECT_EQ(out["lanes"][0]["conflicting_source"], kMission + "-lane-b");
    EXPECT_EQ(out["lanes"][0]["conflicts"],
              Json::parse(R"([{"path": "src/alpha/first.txt", "kind": "add/add"}])"));
    const auto after = every_file(p);
    // Refs, the index, reflogs, work-tree files: as they were (merged blobs may remain as
    // loose objects nothing refers to, as after a conflicting git merge).
    std::map<std::string, std::string> a, b;
    for (const auto& [k, v] : before) {
        if (!k.starts_with(".git/objects/")) {
            a[k] = v;
        }
    }
    for (const auto& [k, v] : after) {
        if (!k.starts_with(".git/objects/")) {
            b[k] = v;
        }
    }
    EXPECT_EQ(a, b);
    const Json unknown = p.sk_json({"lanes", "sync", "lane-z"}, 2);
    EXPECT_EQ(unknown["code"], "UNKNOWN_LANE");
    const Json planning = p.sk_json({"lanes", "sync", "lane-planning"}, 2);
    EXPECT_EQ(planning["code"], "PLANNING_LANE");
}

// Issue 21 §2: the loop brings a lane up to date itself before it hands out the lane's next
// WP: WP04 follows WP01 in lane-a, which depends on lane-b; lane-b moved on meanwhile.
TEST(LaneSync, TheLoopMergesAStaleLaneUpBeforeItsNextWorkPackage) {
    Project p;
    const std::vector<kitty::test::WpSpec> wps = {
        {"WP01", "alpha", {}, "code_change", "src/alpha/**"},
        {"WP02", "beta", {}, "code_change", "src/beta/**"},
        {"WP04", "gamma", {"WP01"}, "code_change", "src/gamma/**"},
    };
    p.finalized_mission(wps);
    const fs::path lanes_file = p.root / "kitty-specs/001-demo/lanes.json";
    Json lanes = kitty::read_json_file(lanes_file);
    ASSERT_EQ(lanes["lanes"][0]["wp_ids"], Json::array({"WP01", "WP04"}));
    lanes["lanes"][0]["depends_on_lanes"] = Json::array({"lane-b"});
    write_fixture(lanes_file, kitty::dump_python(lanes, {.indent = 2}) + "\n");
    p.commit("lane-a after lane-b");
    approve(p, "WP02");
    approve(p, "WP01");
    const fs::path lane_b = p.root / ".worktrees/001-demo-lane-b";
    write_fixture(lane_b / "src/beta/more.txt", "more from lane-b\n");
    git_commit_all(lane_b, "lane-b again");
    const Json claim = p.sk_json({"agent", "action", "implement", "WP04", "--agent", "claude"});
    EXPECT_EQ(claim["lane_synced_from"], Json::array({kMission + "-lane-b"}));
    const fs::path ws = claim["workspace_path"].get<std::string>();
    EXPECT_EQ(slurp(ws / "src/beta/more.txt"), "more from lane-b\n");
    EXPECT_EQ(GitView(ws).dirty(), std::vector<std::string>{});
    GitView git(p.root);
    EXPECT_EQ(git.parents(kMission + "-lane-a").back(), git.tip(kMission + "-lane-b"));
    // The WP is handed off as usual afterwards, and the mission merges cleanly.
    do_work(p, claim, "fourth");
    p.sk_json({"agent", "tasks", "move-task", "WP04", "--to", "approved", "--agent", "claude",
               "--force"});
    EXPECT_EQ(merge(p, {"--dry-run"})["forecast"]["completes"], true);
}

// Reports each step done until `next` answers something else than a step without an action.
Json next_until_action(const Project& p, const std::string& agent) {
    Json d = p.next(agent);
    for (int i = 0; i < 6 && d["kind"] == "step" && d["action"].is_null(); ++i) {
        d = p.next(agent, "success");
    }
    return d;
}

// Issue 21 §3 and §4: the issue's case in the loop. Once every WP is approved, `next` does
// not answer accept or terminal while the forecast finds the conflict with main's commit: it
// hands claude a resolve step in lane-b's worktree, with the merge started there; others
// wait; a report before the merge is committed is answered with what is missing; the
// resolved lane lets the loop go on, and the merge keeps main's change as resolved.
TEST(ResolveStep, AConflictWithTheTargetIsResolvedInTheLanesWorktree) {
    Project p;
    approved_mission(p);
    write_fixture(p.root / "src/beta/work.txt", "main's own\n");
    write_fixture(p.root / "src/main-only.txt", "untouched by any lane\n");
    p.commit("main gets src/beta/work.txt too");
    const Json d = next_until_action(p, "claude");
    ASSERT_EQ(d["action"], "resolve") << d.dump();
    EXPECT_EQ(d["kind"], "step");
    EXPECT_EQ(d["lane_id"], "lane-b");
    EXPECT_EQ(d["other_branch"], "main");
    EXPECT_EQ(d["conflicts"], Json::parse(R"([{"path": "src/beta/work.txt", "kind": "add/add"}])"));
    const fs::path ws = d["workspace_path"].get<std::string>();
    EXPECT_EQ(ws, p.root / ".worktrees/001-demo-lane-b");
    EXPECT_NE(slurp(ws / "src/beta/work.txt").find("<<<<<<<"), std::string::npos);
    EXPECT_TRUE(fs::exists(p.root / ".git/worktrees/001-demo-lane-b/MERGE_HEAD"));
    const std::string prompt = slurp(d["prompt_file"].get<std::string>());
    EXPECT_NE(prompt.find("src/beta/work.txt` (add/add)"), std::string::npos) << prompt;
    EXPECT_NE(prompt.find(kMission + "-lane-b"), std::string::npos);
    EXPECT_NE(prompt.find("Their side"), std::string::npos);

    // Asked again, the same step; another agent waits for it.
    EXPECT_EQ(p.next("claude")["lane_id"], "lane-b");
    const Json other = p.next("codex", "", 1);
    EXPECT_EQ(other["kind"], "blocked");
    EXPECT_NE(other["reason"].get<std::string>().find("claude resolves"), std::string::npos);

    // Reported done before the merge is committed: the step again, saying what is missing.
    const Json early = p.next("claude", "success");
    EXPECT_EQ(early["action"], "resolve");
    ASSERT_FALSE(early["problems"].empty());
    EXPECT_NE(early["problems"].dump().find("not committed"), std::string::npos);

    write_fixture(ws / "src/beta/work.txt", "main's own\nwork\n");
    git_commit_all(ws, "Merge main into lane-b");
    // Done: the run's own step (accept) is answered again, the forecast clean now.
    const Json after = p.next("claude", "success");
    EXPECT_EQ(after["action"], "accept") << after.dump();
    EXPECT_FALSE(fs::exists(p.root / ".kittify/runtime/resolve/001-demo.json"));
    EXPECT_EQ(merge(p, {"--dry-run"})["forecast"]["completes"], true);
    const Json merged = merge(p, {});
    EXPECT_EQ(merged["result"], "merged");
    EXPECT_EQ(slurp(p.root / "src/beta/work.txt"), "main's own\nwork\n");
    EXPECT_EQ(slurp(p.root / "src/main-only.txt"), "untouched by any lane\n");
    EXPECT_EQ(slurp(p.root / "src/alpha/work.txt"), "work\n");
}

// Two lanes change one line: the second lane in merge order resolves it against the first;
// a step given up (--result failed) leaves the lane as it was and is handed out again.
TEST(ResolveStep, AConflictBetweenLanesGivenUpLeavesTheLaneAsItWas) {
    Project p;
    readme_conflict_mission(p);
    const std::string lane_b = kMission + "-lane-b";
    const std::string b_tip = GitView(p.root).tip(lane_b);
    const Json d = next_until_action(p, "claude");
    ASSERT_EQ(d["action"], "resolve") << d.dump();
    EXPECT_EQ(d["lane_id"], "lane-b");
    EXPECT_EQ(d["other_branch"], kMission + "-lane-a");
    EXPECT_EQ(d["conflicts"], Json::parse(R"([{"path": "README.md", "kind": "content"}])"));
    const fs::path ws = d["workspace_path"].get<std::string>();

    const Json given_up = p.next("claude", "failed", 1);
    EXPECT_EQ(given_up["kind"], "blocked");
    EXPECT_EQ(GitView(p.root).tip(lane_b), b_tip);
    EXPECT_EQ(GitView(ws).dirty(), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(p.root / ".git/worktrees/001-demo-lane-b/MERGE_HEAD"));
    EXPECT_EQ(slurp(ws / "README.md"), "readme\nWP02 was here\n");

    // Handed out again, to whoever asks next; resolved, the mission merges.
    const Json again = p.next("codex");
    ASSERT_EQ(again["action"], "resolve") << again.dump();
    write_fixture(ws / "README.md", "readme\nWP01 was here\nWP02 was here\n");
    git_commit_all(ws, "Merge lane-a into lane-b");
    EXPECT_EQ(p.next("codex", "success")["action"], "accept");
    // accept, issued to claude, reported done by claude once the subtasks are ticked (the
    // accept gate): terminal, the merge would complete.
    p.sk_json({"agent", "tasks", "mark-status", "T001", "T002", "T003", "--status", "done"});
    EXPECT_EQ(p.next("claude", "success")["kind"], "terminal");
    EXPECT_EQ(merge(p, {})["result"], "merged");
    EXPECT_EQ(slurp(p.root / "README.md"), "readme\nWP01 was here\nWP02 was here\n");
}

// The forecast's answer is cached under a key naming every input: a cached answer for other
// inputs, or a damaged cache file, changes no answer; the same inputs read the answer back.
TEST(ResolveStep, TheForecastCacheNeverAnswersForOtherInputs) {
    Project p;
    readme_conflict_mission(p);
    const fs::path cache = p.root / ".kittify/runtime/cache/001-demo/forecast.tsv";
    ASSERT_EQ(next_until_action(p, "claude")["action"], "resolve");
    ASSERT_TRUE(fs::exists(cache));
    const std::string saved = slurp(cache);
    EXPECT_NE(saved.find("conflict\t"), std::string::npos) << saved;
    EXPECT_EQ(p.next("claude", "failed", 1)["kind"], "blocked"); // given up: the ticket is gone
    for (const std::string& text :
         {std::string("kitty forecast cache 1\nkey\tother inputs\nclean\nend\n"),
          std::string("kitty forecast cache 1\nkey\t"), std::string("\x01\x02 not a cache")}) {
        write_fixture(cache, text);
        const Json d = p.next("codex");
        EXPECT_EQ(d["action"], "resolve") << d.dump();
        EXPECT_EQ(d["lane_id"], "lane-b");
        EXPECT_EQ(d["conflicts"], Json::parse(R"([{"path": "README.md", "kind": "content"}])"));
        EXPECT_EQ(slurp(cache), saved) << "made again from the repository";
        EXPECT_EQ(p.next("codex", "failed", 1)["kind"], "blocked");
    }
    // Read back for the same inputs: a hand-made answer under the real key is what is used,
    // as git trusts its index (a crafted cache is as trusted as the files it stands for).
    std::string forged = saved;
    forged.replace(forged.find("conflict\t"), forged.find("end\n") - forged.find("conflict\t"),
                   "clean\n");
    write_fixture(cache, forged);
    EXPECT_EQ(p.next("claude")["action"], "accept") << "the cached answer was read back";
}

// A resolve step whose lane worktree is removed by hand does not hold the mission: the
// forecast decides again, and says what is missing; nobody waits for the step.
TEST(ResolveStep, ARemovedWorktreeDropsTheStep) {
    Project p;
    readme_conflict_mission(p);
    ASSERT_EQ(next_until_action(p, "claude")["action"], "resolve");
    p.sk_json({"workspace", "remove", "lane-b", "--force"});
    const Json d = p.next("codex", "", 1);
    EXPECT_EQ(d["kind"], "blocked");
    EXPECT_EQ(d["reason"].get<std::string>().find("claude resolves"), std::string::npos);
    EXPECT_NE(d["reason"].get<std::string>().find("missing"), std::string::npos) << d.dump();
    EXPECT_FALSE(fs::exists(p.root / ".kittify/runtime/resolve/001-demo.json"));
}

// Issue 21 §4: main changes a file lane-a deleted (modify/delete). The resolve step says so;
// the agent keeps main's change, and after the merge main's version is there as decided.
TEST(ResolveStep, AFileTheTargetChangedAndALaneDeletedSurvivesAsDecided) {
    Project p;
    write_fixture(p.root / "README.md", "readme\n");
    p.commit("a README");
    p.finalized_mission(kThreeWps);
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    const fs::path ws = claim["workspace_path"].get<std::string>();
    fs::remove(ws / "README.md");
    write_fixture(ws / "src/alpha/work.txt", "work\n");
    git_commit_all(ws, "WP01 drops the README");
    p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "approved", "--agent", "claude",
               "--force"});
    approve(p, "WP02");
    approve(p, "WP03");
    write_fixture(p.root / "README.md", "readme, version 2\n");
    p.commit("main improves the README");
    const Json d = next_until_action(p, "claude");
    ASSERT_EQ(d["action"], "resolve") << d.dump();
    EXPECT_EQ(d["lane_id"], "lane-a");
    EXPECT_EQ(d["conflicts"], Json::parse(R"([{"path": "README.md", "kind": "modify/delete"}])"));
    write_fixture(ws / "README.md", "readme, version 2\n");
    git_commit_all(ws, "Merge main into lane-a, keeping the README");
    EXPECT_EQ(p.next("claude", "success")["action"], "accept");
    EXPECT_EQ(merge(p, {})["result"], "merged");
    EXPECT_EQ(slurp(p.root / "README.md"), "readme, version 2\n");
    EXPECT_EQ(slurp(p.root / "src/alpha/work.txt"), "work\n");
}

// Issue §1/§3: every refusal names what stops the merge and changes nothing (refs,
// worktrees, files, the event log).
TEST(Merge, RefusalsNameEveryProblemAndChangeNothing) {
    {
        // A WP not approved, and a target that does not exist.
        Project p;
        p.finalized_mission(kThreeWps);
        approve(p, "WP01");
        const Json c = p.sk_json({"agent", "action", "implement", "WP02", "--agent", "claude"});
        do_work(p, c, "unfinished");
        const Snapshot before = snapshot(p);
        const Json out = merge(p, {"--target", "nosuch"}, 4); // TARGET_NOT_CHECKED_OUT
        EXPECT_EQ(out["code"], "MERGE_REFUSED");
        EXPECT_TRUE(problem_codes(out).count("WP_NOT_APPROVED")) << out.dump();
        EXPECT_TRUE(problem_codes(out).count("TARGET_MISSING")) << out.dump();
        bool named = false;
        for (const Json& problem : out["problems"]) {
            named =
                named || (problem.value("wp_id", "") == "WP02" && problem["lane"] == "in_progress");
        }
        EXPECT_TRUE(named) << out.dump();
        EXPECT_EQ(snapshot(p), before);
        const Json only_wp = merge(p, {}, 1);
        EXPECT_EQ(problem_codes(only_wp), std::set<std::string>{"WP_NOT_APPROVED"});
        EXPECT_EQ(snapshot(p), before);
    }
    {
        // A dirty lane worktree and a dirty main checkout: conflicts with existing state.
        Project p;
        approved_mission(p);
        write_fixture(p.root / ".worktrees/001-demo-lane-b/src/beta/uncommitted.txt", "x\n");
        write_fixture(p.root / "README.local", "mine\n");
        const Snapshot before = snapshot(p);
        const Json out = merge(p, {}, 4);
        EXPECT_EQ(problem_codes(out), (std::set<std::string>{"LANE_DIRTY", "MAIN_CHECKOUT_DIRTY"}));
        EXPECT_EQ(snapshot(p), before);
    }
    {
        // A lane branch that is gone.
        Project p;
        approved_mission(p);
        p.sk_json({"workspace", "remove", "lane-b", "--mission", "001-demo", "--delete-branch"});
        const Snapshot before = snapshot(p);
        const Json out = merge(p, {}, 1);
        EXPECT_EQ(problem_codes(out), std::set<std::string>{"LANE_BRANCH_MISSING"});
        EXPECT_EQ(snapshot(p), before);
    }
    {
        // A lock a dead git process left on the target: exit 75 naming it, before the merge
        // starts (no merge state to resume).
        Project p;
        approved_mission(p);
        const fs::path lock = p.root / ".git/refs/heads/main.lock";
        write_fixture(lock, "");
        const Snapshot before = snapshot(p);
        const Json out = merge(p, {}, 75);
        EXPECT_EQ(out["code"], "GIT_LOCKED");
        EXPECT_EQ(out["path"], lock.string());
        EXPECT_EQ(snapshot(p), before);
        fs::remove(lock);
        EXPECT_EQ(merge(p, {})["result"], "merged");
    }
    {
        // A stale lane (spec §8.2): the mission branch changed a file lane-a changes.
        Project p;
        approved_mission(p);
        GitView(p.root).commit_on(kMission, "src/alpha/work.txt", "someone else's\n");
        const Snapshot before = snapshot(p);
        const Json out = merge(p, {}, 1);
        ASSERT_EQ(problem_codes(out), std::set<std::string>{"LANE_STALE"}) << out.dump();
        EXPECT_EQ(out["problems"][0]["lane_id"], "lane-a");
        EXPECT_EQ(out["problems"][0]["paths"], Json::array({"src/alpha/work.txt"}));
        EXPECT_EQ(snapshot(p), before);
        // --dry-run reports the same, and its forecast the add/add conflict the stale lane
        // would meet, also changing nothing.
        const Json plan = merge(p, {"--dry-run"}, 1);
        EXPECT_EQ(plan["ready"], false);
        EXPECT_EQ(problem_codes(plan),
                  (std::set<std::string>{"LANE_STALE", "MERGE_CONFLICT_FORECAST"}));
        EXPECT_EQ(plan["forecast"]["steps"][0]["stale_paths"], Json::array({"src/alpha/work.txt"}));
        EXPECT_EQ(plan["forecast"]["steps"][0]["conflicts"],
                  Json::parse(R"([{"path": "src/alpha/work.txt", "kind": "add/add"}])"));
        EXPECT_EQ(snapshot(p), before);
    }
}

// 3.1.1's --strategy rebase moved nothing and reported success (#1473): kitty refuses it,
// and --resume / --abort need a merge in progress.
TEST(Merge, UsageErrors) {
    Project p;
    approved_mission(p);
    const Snapshot before = snapshot(p);
    const auto rebase = p.sk({"merge", "--strategy", "rebase"});
    EXPECT_EQ(rebase.exit_code, 2) << rebase.out;
    EXPECT_EQ(kitty::parse_json(rebase.out, "out")["code"], "UNSUPPORTED_STRATEGY");
    const auto both = p.sk({"merge", "--resume", "--abort"});
    EXPECT_EQ(both.exit_code, 2);
    const auto resume = p.sk({"merge", "--resume"});
    EXPECT_EQ(resume.exit_code, 3) << resume.out;
    EXPECT_EQ(kitty::parse_json(resume.out, "out")["code"], "NO_MERGE_IN_PROGRESS");
    const Json abort = merge(p, {"--abort"});
    EXPECT_EQ(abort["result"], "nothing_to_abort");
    EXPECT_EQ(snapshot(p), before);
}

// §12.14 and issue §3: two lanes change one file. The merge stops with the conflicting
// path, the target untouched; --resume before resolving is refused; after resolving in the
// merge worktree it finishes.
TEST(Merge, AConflictStopsBeforeTheTargetAndResumeFinishesIt) {
    Project p;
    readme_conflict_mission(p);
    const std::string main_before = GitView(p.root).tip("main");
    const std::string mission_before = GitView(p.root).tip(kMission);

    const Json stop = merge(p, {}, 1);
    EXPECT_EQ(stop["code"], "MERGE_CONFLICT");
    EXPECT_EQ(stop["conflicting_paths"], Json::array({"README.md"}));
    EXPECT_EQ(stop["lane_id"], "lane-b");
    const fs::path worktree = stop["worktree"].get<std::string>();
    EXPECT_EQ(worktree, p.root / ".worktrees/001-demo-merge");
    const std::string conflicted = slurp(worktree / "README.md");
    EXPECT_NE(conflicted.find("<<<<<<<"), std::string::npos) << conflicted;
    {
        GitView git(p.root);
        EXPECT_EQ(git.tip("main"), main_before) << "the target moved before the lanes merged";
        EXPECT_NE(git.tip(kMission), mission_before) << "lane-a is on the mission branch";
        EXPECT_EQ(git.dirty(), std::vector<std::string>{});
    }
    // A plain merge now is refused: one is in progress.
    const auto again = p.sk({"merge"});
    EXPECT_EQ(again.exit_code, 4);
    EXPECT_EQ(kitty::parse_json(again.out, "out")["code"], "MERGE_IN_PROGRESS");
    const Json unresolved = merge(p, {"--resume"}, 1);
    EXPECT_EQ(unresolved["code"], "MERGE_CONFLICT");
    EXPECT_EQ(GitView(p.root).tip("main"), main_before);

    write_fixture(worktree / "README.md", "readme\nWP01 was here\nWP02 was here\n");
    const Json done = merge(p, {"--resume"});
    EXPECT_EQ(done["result"], "merged");
    EXPECT_EQ(slurp(p.root / "README.md"), "readme\nWP01 was here\nWP02 was here\n");
    expect_all_done(p);
    expect_cleaned_up(p);
}

// Adversarial finding E12: a merge stopped on a conflict while someone commits on main.
// --resume used to fail with BRANCH_MOVED forever (only --abort and resolving again worked);
// it now merges onto the moved target, keeping both the resolution and that commit.
TEST(Merge, ResumeAfterTheTargetMovedMergesOntoItAndKeepsItsCommits) {
    Project p;
    readme_conflict_mission(p);
    const Json stop = merge(p, {}, 1);
    ASSERT_EQ(stop["code"], "MERGE_CONFLICT");
    const fs::path worktree = stop["worktree"].get<std::string>();
    write_fixture(p.root / "NOTES.md", "notes\n");
    const auto add = kitty::test::run_process({"/usr/bin/git", "add", "NOTES.md"},
                                              {"", p.root, {{"HOME", p.home.string()}}});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    const auto commit = kitty::test::run_process({"/usr/bin/git", "-c", "user.name=A Person", "-c",
                                                  "user.email=p@example.invalid", "commit", "-q",
                                                  "-m", "someone commits on main meanwhile"},
                                                 {"", p.root, {{"HOME", p.home.string()}}});
    ASSERT_EQ(commit.exit_code, 0) << commit.err;
    const std::string moved = GitView(p.root).tip("main");

    write_fixture(worktree / "README.md", "readme\nWP01 was here\nWP02 was here\n");
    const Json done = merge(p, {"--resume"});
    ASSERT_EQ(done.value("result", ""), "merged") << done;
    GitView git(p.root);
    EXPECT_TRUE(git.is_ancestor(moved, git.tip("main"))) << "the person's commit is kept";
    EXPECT_TRUE(git.has_file("main", "NOTES.md"));
    EXPECT_EQ(git.files("main").at("README.md"), "readme\nWP01 was here\nWP02 was here\n");
    EXPECT_EQ(slurp(p.root / "README.md"), "readme\nWP01 was here\nWP02 was here\n");
    EXPECT_EQ(slurp(p.root / "NOTES.md"), "notes\n");
    expect_all_done(p);
    expect_cleaned_up(p);
}

// Adversarial finding E13: a merge killed while it removed a lane worktree leaves the
// directory without git's record or its .git file, part of its files still there. --resume
// used to report success and leave it; it removes it and says so.
TEST(Merge, ResumeRemovesALaneDirectoryAKilledCleanupLeftHalfDeleted) {
    Project p;
    readme_conflict_mission(p);
    const Json stop = merge(p, {}, 1);
    ASSERT_EQ(stop["code"], "MERGE_CONFLICT");
    write_fixture(stop["worktree"].get<std::string>() + "/README.md",
                  "readme\nWP01 was here\nWP02 was here\n");
    // The state a kill inside the removal of lane-a's worktree leaves.
    const fs::path lane_a = p.root / ".worktrees/001-demo-lane-a";
    ASSERT_TRUE(fs::is_directory(lane_a));
    fs::remove_all(p.root / ".git/worktrees/001-demo-lane-a");
    fs::remove(lane_a / ".git");
    ASSERT_TRUE(fs::exists(lane_a / "README.md"));
    const Json done = merge(p, {"--resume"});
    ASSERT_EQ(done.value("result", ""), "merged") << done;
    EXPECT_FALSE(fs::exists(lane_a));
    EXPECT_NE(done.dump().find("lane-a"), std::string::npos) << done;
    expect_cleaned_up(p);
}

// Adversarial finding E03: a lane adds a file at a path that is ignored in the main checkout
// and exists there. The dry run said ready and the merge moved main, then the checkout could
// not follow (3.1.1's #1826 state: the merge as staged deletions). Now both name the file and
// nothing moves; with the file moved away, --resume finishes.
TEST(Merge, AnIgnoredLocalFileInTheWayStopsTheMergeBeforeTheTargetMoves) {
    Project p;
    p.finalized_mission(kThreeWps);
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    const fs::path ws = claim["workspace_path"].get<std::string>();
    write_fixture(ws / ".claude/settings.local.json", "{\"lane\": 1}\n");
    write_fixture(ws / "src/alpha/a.txt", "a\n");
    const auto add = kitty::test::run_process(
        {"/usr/bin/git", "add", "-f", ".claude/settings.local.json", "src/alpha/a.txt"},
        {"", ws, {{"HOME", p.home.string()}}});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    kitty::test::git_commit_all(ws, "WP01");
    p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "approved", "--agent", "claude",
               "--force"});
    approve(p, "WP02");
    approve(p, "WP03");
    write_fixture(p.root / ".claude/settings.local.json", "my local settings\n"); // ignored
    const std::string main_before = GitView(p.root).tip("main");

    const Json dry = merge(p, {"--dry-run"}, 4);
    EXPECT_NE(dry.dump().find("CHECKOUT_CONFLICT"), std::string::npos) << dry.dump(2);
    EXPECT_EQ(dry["forecast"]["in_the_way"], Json::array({".claude/settings.local.json"}));
    const Json stop = merge(p, {}, 4);
    EXPECT_EQ(stop["code"], "CHECKOUT_CONFLICT") << stop;
    EXPECT_EQ(stop["paths"], Json::array({".claude/settings.local.json"}));
    {
        GitView git(p.root);
        EXPECT_EQ(git.tip("main"), main_before) << "the target moved";
        EXPECT_EQ(git.dirty(), std::vector<std::string>{}) << "staged deletions";
    }
    EXPECT_EQ(slurp(p.root / ".claude/settings.local.json"), "my local settings\n");
    fs::rename(p.root / ".claude/settings.local.json", p.tmp / "settings.saved");
    const Json done = merge(p, {"--resume"});
    ASSERT_EQ(done.value("result", ""), "merged") << done;
    EXPECT_EQ(slurp(p.root / "src/alpha/a.txt"), "a\n");
    expect_all_done(p);
    expect_cleaned_up(p);
}

// --abort discards the merge worktree and puts the mission branch back; the target never
// moved. A new merge meets the same conflict.
TEST(Merge, AbortRestoresTheMissionBranch) {
    Project p;
    readme_conflict_mission(p);
    const Snapshot before = snapshot(p);
    merge(p, {}, 1);
    const Json aborted = merge(p, {"--abort"});
    EXPECT_EQ(aborted["result"], "aborted");
    EXPECT_EQ(aborted["mission_branch_restored"], true);
    EXPECT_EQ(snapshot(p), before);
    EXPECT_FALSE(fs::exists(p.root / ".worktrees/001-demo-merge"));
    const Json stop = merge(p, {}, 1);
    EXPECT_EQ(stop["code"], "MERGE_CONFLICT");
}

// A lane that depends on another is merged after it, whatever lanes.json's order.
TEST(Merge, ADependentLaneIsMergedAfterItsUpstream) {
    Project p;
    p.finalized_mission(kThreeWps);
    const fs::path lanes_file = p.root / "kitty-specs/001-demo/lanes.json";
    Json lanes = kitty::read_json_file(lanes_file);
    ASSERT_EQ(lanes["lanes"][0]["lane_id"], "lane-a");
    lanes["lanes"][0]["depends_on_lanes"] = Json::array({"lane-b"});
    write_fixture(lanes_file, kitty::dump_python(lanes, {.indent = 2}) + "\n");
    p.commit("lane-a after lane-b");
    approve(p, "WP02");
    approve(p, "WP01"); // cut from lane-b's tip
    approve(p, "WP03");
    const Json plan = merge(p, {"--dry-run"});
    ASSERT_EQ(plan["merge_order"].size(), 3u);
    EXPECT_EQ(plan["merge_order"][0]["lane_id"], "lane-b");
    EXPECT_EQ(plan["merge_order"][1]["lane_id"], "lane-a");
    EXPECT_EQ(plan["merge_order"][2]["lane_id"], "lane-planning");
    const Json out = merge(p, {"--strategy", "merge"});
    EXPECT_EQ(out["merged_lanes"], Json::array({"lane-b", "lane-a", "lane-planning"}));
    GitView git(p.root);
    EXPECT_TRUE(git.has_file("main", "src/alpha/work.txt"));
    EXPECT_TRUE(git.has_file("main", "src/beta/work.txt"));
    expect_all_done(p);
    expect_cleaned_up(p);
}

// Issue §3: SIGKILL at random points of a merge, then --resume or --abort. Never a moved
// target without every lane in it; afterwards the mission is merged and everything clean.
TEST(Merge, KilledAtAnyPointResumeOrAbortRecovers) {
    std::mt19937 random(std::random_device{}());
    // Kill points spread over a merge (about 75 ms here), each shifted by a random jitter.
    for (int i = 0; i < 14; ++i) {
        Project p;
        approved_mission(p);
        const std::string main_before = GitView(p.root).tip("main");
        const int delay_us = 6000 * i + static_cast<int>(random() % 6000);
        run_and_kill({tool_path("kitty-merge")}, p.root, p.home,
                     std::chrono::microseconds(delay_us));
        std::string when = "killed after " + std::to_string(delay_us) + " us";
        {
            GitView git(p.root);
            if (git.tip("main") != main_before) {
                for (const std::string path : {"src/alpha/work.txt", "src/beta/work.txt"}) {
                    EXPECT_TRUE(git.has_file("main", path)) << when << ": " << path;
                }
            }
        }
        // A lock the killed merge left is exit 75 naming it; removed, the command is run
        // again, as --resume when the merge had started (its note says so).
        const auto run = [&](std::vector<std::string> args) {
            kitty::test::ProcessResult r = p.sk(args);
            for (int locks = 0; r.exit_code == 75 && locks < 3; ++locks) {
                const Json err = kitty::parse_json(r.out, "out");
                if (err["code"] != "GIT_LOCKED" || !err["path"].is_string()) {
                    ADD_FAILURE() << r.out << r.err;
                    break;
                }
                fs::remove(err["path"].get<std::string>());
                if (fs::exists(p.root / ".kittify/runtime/merge/001-demo/kitty-state.json") &&
                    args.size() > 1 && args[1].starts_with("--mission")) {
                    when += ", a lock, then --resume";
                    args = {"merge", "--resume"};
                }
                r = p.sk(args);
            }
            return r;
        };
        if (fs::exists(p.root / ".kittify/runtime/merge/001-demo/kitty-state.json")) {
            when += ", then " + std::string(i % 2 == 1 ? "--abort" : "--resume");
            if (i % 2 == 1) {
                const auto abort = run({"merge", "--abort"});
                when += " (exit " + std::to_string(abort.exit_code) + ")";
                if (abort.exit_code == 4) {
                    EXPECT_EQ(kitty::parse_json(abort.out, "out")["code"], "MERGE_PAST_TARGET")
                        << when;
                    const auto resumed = run({"merge", "--resume"});
                    ASSERT_EQ(resumed.exit_code, 0) << when << ": " << resumed.out << resumed.err;
                } else {
                    ASSERT_EQ(abort.exit_code, 0) << when << ": " << abort.out << abort.err;
                    EXPECT_EQ(GitView(p.root).tip("main"), main_before) << when;
                }
            } else {
                const auto resumed = run({"merge", "--resume"});
                ASSERT_EQ(resumed.exit_code, 0) << when << ": " << resumed.out << resumed.err;
            }
        }
        if (!fs::exists(p.root / ".kittify/workspaces") ||
            !fs::is_empty(p.root / ".kittify/workspaces") ||
            GitView(p.root).branches().size() > 1) {
            const auto fresh = run({"merge", "--mission", "001-demo"});
            ASSERT_EQ(fresh.exit_code, 0) << when << ": " << fresh.out << fresh.err;
        }
        expect_all_done(p);
        expect_cleaned_up(p);
        GitView git(p.root);
        for (const std::string path :
             {"src/alpha/work.txt", "src/beta/work.txt", "docs/notes.md"}) {
            EXPECT_TRUE(git.has_file("main", path)) << when << ": " << path;
        }
    }
}

// Two merges of one mission started together (real processes): one merges, the other
// waits for the status lock and then finds nothing left to merge; every WP is done once.
TEST(Merge, ConcurrentMergesMergeOnce) {
    Project p;
    approved_mission(p);
    kitty::test::ProcessResult results[2];
    std::thread first([&] { results[0] = p.sk({"merge", "--mission", "001-demo"}); });
    std::thread second([&] { results[1] = p.sk({"merge", "--mission", "001-demo"}); });
    first.join();
    second.join();
    std::multiset<std::string> outcomes;
    for (const auto& r : results) {
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        outcomes.insert(kitty::parse_json(r.out, "out")["result"].get<std::string>());
    }
    EXPECT_EQ(outcomes, (std::multiset<std::string>{"merged", "nothing_to_merge"}));
    int done = 0;
    for (const Json& e : p.events()) {
        done += e["to_lane"] == "done";
    }
    EXPECT_EQ(done, 3);
    expect_all_done(p);
    expect_cleaned_up(p);
}
