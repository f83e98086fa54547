// The agent loop through the built binaries (issue 14, ../shared/spec/next-loop.md §12): a
// scripted agent takes a mission from creation to terminal through `spec-kitty`; git state
// is made and inspected with libgit2 on real repositories in temp dirs; concurrency with
// real processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::do_work;
using kitty::test::git_commit_all;
using kitty::test::GitView;
using kitty::test::keys;
using kitty::test::kThreeWps;
using kitty::test::ProcessResult;
using kitty::test::Project;
using kitty::test::run_and_kill;
using kitty::test::set_identity;
using kitty::test::slurp;
using kitty::test::tasks_md;
using kitty::test::TempDir;
using kitty::test::tool_path;
using kitty::test::WpSpec;
using kitty::test::write_fixture;

namespace {

// The 24 keys of 3.1.1's decision document, in order, then kitty's two.
const std::vector<std::string> kDecisionKeys = {
    "kind",           "agent",         "mission_slug", "mission_number", "mission_type",
    "mission",        "mission_state", "timestamp",    "action",         "wp_id",
    "workspace_path", "prompt_file",   "reason",       "guard_failures", "progress",
    "origin",         "run_id",        "step_id",      "decision_id",    "input_key",
    "question",       "options",       "is_query",     "preview_step",   "mission_id",
    "next_command"};

} // namespace

// §12.1-3: a fresh mission, the planning steps with their guards, through the dispatcher.
TEST(Loop, PlanningStepsIssueInOrderAndGuardsHoldTheStep) {
    Project p;
    ASSERT_EQ(p.sk({"agent", "mission", "create", "demo"}).exit_code, 0);
    const Json query = p.next("");
    EXPECT_EQ(keys(query), kDecisionKeys);
    EXPECT_TRUE(query["progress"].is_null()) << "no WP files yet";
    EXPECT_EQ(query["kind"], "query");
    EXPECT_EQ(query["mission_state"], "not_started");
    EXPECT_EQ(query["preview_step"], "discovery");
    EXPECT_TRUE(query["run_id"].is_null());
    EXPECT_TRUE(query["is_query"].get<bool>());
    EXPECT_FALSE(fs::exists(p.root / ".kittify/runtime/feature-runs.json"))
        << "a query writes nothing";

    // The bare call issues the first step; repeated, it returns the same step.
    const Json first = p.next("claude");
    EXPECT_EQ(keys(first), kDecisionKeys);
    EXPECT_EQ(first["kind"], "step");
    EXPECT_EQ(first["mission_state"], "discovery");
    EXPECT_EQ(first["action"], "research");
    EXPECT_EQ(first["next_command"],
              "spec-kitty next --agent claude --mission 001-demo --result success");
    ASSERT_TRUE(first["prompt_file"].is_string());
    EXPECT_TRUE(fs::exists(first["prompt_file"].get<std::string>()));
    EXPECT_EQ(fs::path(first["prompt_file"].get<std::string>()).parent_path(),
              p.root / ".kittify/runtime/prompts/001-demo");
    EXPECT_EQ(p.next("claude")["mission_state"], "discovery")
        << "the bare call never completes a step";
    EXPECT_EQ(p.next("claude")["run_id"], first["run_id"]);

    const fs::path dir = p.root / "kitty-specs/001-demo";
    fs::remove(dir / "spec.md");
    EXPECT_EQ(p.next("claude", "success")["mission_state"], "specify");
    const Json held = p.next("claude", "success");
    EXPECT_EQ(held["mission_state"], "specify");
    EXPECT_EQ(held["kind"], "step");
    EXPECT_EQ(held["guard_failures"], Json::array({"Required artifact missing: spec.md"}));
    write_fixture(dir / "spec.md", "# Spec\n\n- FR-001 The feature works.\n");
    EXPECT_EQ(p.next("claude", "success")["mission_state"], "plan");
    EXPECT_EQ(p.next("claude", "success")["guard_failures"],
              Json::array({"Required artifact missing: plan.md"}));
    write_fixture(dir / "plan.md", "# Plan\n");
    const Json outline = p.next("claude", "success");
    EXPECT_EQ(outline["mission_state"], "tasks_outline");
    EXPECT_EQ(outline["action"], "tasks-outline");
    EXPECT_EQ(p.next("claude", "success")["guard_failures"],
              Json::array({"Required artifact missing: tasks.md"}));
    write_fixture(dir / "tasks.md", tasks_md(kThreeWps));
    EXPECT_EQ(p.next("claude", "success")["mission_state"], "tasks_packages");
    EXPECT_EQ(p.next("claude", "success")["guard_failures"],
              Json::array({"Required: at least one tasks/WP*.md file"}));
    for (const WpSpec& wp : kThreeWps) {
        write_fixture(dir / "tasks" / (wp.id + "-" + wp.title + ".md"),
                      "---\nwork_package_id: " + wp.id + "\ntitle: " + wp.title + "\n---\n\n# " +
                          wp.id + "\n");
    }
    const Json finalize = p.next("claude", "success");
    EXPECT_EQ(finalize["mission_state"], "tasks_finalize");
    EXPECT_EQ(finalize["action"], "tasks-finalize");
    EXPECT_TRUE(finalize["prompt_file"].is_string()) << "kitty ships a prompt for every step";
    EXPECT_EQ(p.next("claude", "success")["guard_failures"],
              Json::array({"WP WP01-alpha missing 'dependencies' in frontmatter (run 'spec-kitty "
                           "agent mission finalize-tasks')"}));
    Project::write_mission_files(dir, kThreeWps);
    const Json unfinalized = p.next("claude", "success");
    EXPECT_EQ(unfinalized["mission_state"], "tasks_finalize");
    EXPECT_EQ(
        unfinalized["guard_failures"][0].get<std::string>().rfind("Canonical status not found", 0),
        0u);
    ASSERT_EQ(p.sk({"agent", "mission", "finalize-tasks", "--mission", "001-demo"}).exit_code, 0);
    const Json implement = p.next("claude", "success");
    EXPECT_EQ(implement["mission_state"], "implement");
    EXPECT_EQ(implement["action"], "implement");
    EXPECT_EQ(implement["wp_id"], "WP01");
    EXPECT_EQ(implement["progress"]["total_wps"], 3);
    EXPECT_TRUE(implement["progress"]["weighted_percentage"].is_number_float());

    // The run state is 3.1.1's: index, state.json with the completed steps, frozen template.
    const Json index = kitty::read_json_file(p.root / ".kittify/runtime/feature-runs.json");
    const fs::path run_dir = index["001-demo"]["run_dir"].get<std::string>();
    const Json state = kitty::read_json_file(run_dir / "state.json");
    EXPECT_EQ(state["completed_steps"],
              Json::array({"discovery", "specify", "plan", "tasks_outline", "tasks_packages",
                           "tasks_finalize"}));
    EXPECT_EQ(state["issued_step_id"], "implement");
    EXPECT_EQ(state["run_id"], implement["run_id"]);
    EXPECT_TRUE(fs::exists(run_dir / "mission_template_frozen.yaml"));
    EXPECT_FALSE(fs::exists(dir / "mission-events.jsonl"))
        << "next writes nothing else under kitty-specs/";
}

// §12.4-13 and issue §5: a scripted agent takes a finalized mission to terminal, with one
// rejection; worktrees, branches, events and commits checked with libgit2.
TEST(Loop, ScriptedAgentTakesTheMissionFromCreationToTerminalWithOneRejection) {
    Project p;
    ASSERT_EQ(p.sk({"agent", "mission", "create", "demo"}).exit_code, 0);
    p.commit("mission created");
    const fs::path dir = p.root / "kitty-specs/001-demo";
    std::set<std::string> implemented, reviewed;
    std::vector<std::string> planning_actions;
    bool rejected = false;
    std::string last_kind;
    for (int turn = 0; turn < 60; ++turn) {
        // The agent reports each step done; the first call issues the first step.
        const Json d = p.next("claude", turn == 0 ? "" : "success");
        EXPECT_EQ(keys(d), kDecisionKeys);
        last_kind = d["kind"].get<std::string>();
        ASSERT_NE(last_kind, "blocked") << d.dump();
        ASSERT_TRUE(d["guard_failures"].empty()) << d.dump();
        if (last_kind == "terminal") {
            break;
        }
        if (d["action"].is_null()) {
            continue; // a WP step whose work is all handed on: report it done
        }
        const std::string action = d["action"].get<std::string>();
        if (d["wp_id"].is_null()) {
            // A planning step: the agent writes what the step asks for.
            planning_actions.push_back(action);
            if (action == "specify") {
                write_fixture(dir / "spec.md", "# Spec\n\n- FR-001 The feature works.\n");
            } else if (action == "plan") {
                write_fixture(dir / "plan.md", "# Plan\n");
            } else if (action == "tasks-outline") {
                write_fixture(dir / "tasks.md", tasks_md(kThreeWps));
            } else if (action == "tasks-packages") {
                Project::write_mission_files(dir, kThreeWps);
            } else if (action == "tasks-finalize") {
                p.sk_json({"agent", "mission", "finalize-tasks", "--mission", "001-demo"});
                p.commit("finalized");
            }
            continue;
        }
        const std::string wp = d["wp_id"].get<std::string>();
        ASSERT_EQ(d["next_command"], "spec-kitty agent action " + action + " " + wp +
                                         " --agent claude --mission 001-demo");
        if (action == "implement") {
            const Json claim = p.sk_json({"agent", "action", "implement", wp, "--agent", "claude"});
            EXPECT_EQ(claim["lane"], "in_progress");
            if (wp == "WP03") {
                EXPECT_EQ(claim["workspace_path"], p.root.string()) << "planning work: the root";
                EXPECT_TRUE(claim["branch"].is_null());
                EXPECT_EQ(claim["execution_mode"], "planning_artifact");
            }
            EXPECT_EQ(claim["workspace_path"], d["workspace_path"]);
            do_work(p, claim, implemented.count(wp) ? "fix" : "first");
            implemented.insert(wp);
            const std::string task = wp == "WP01" ? "T001" : wp == "WP02" ? "T002" : "T003";
            p.sk_json({"agent", "tasks", "mark-status", task, "--status", "done"});
            const Json moved = p.sk_json({"agent", "tasks", "move-task", wp, "--to", "for_review",
                                          "--agent", "claude", "--note", "done"});
            EXPECT_EQ(moved["new_lane"], "for_review");
        } else {
            const Json claim = p.sk_json({"agent", "action", "review", wp, "--agent", "claude"});
            EXPECT_EQ(claim["lane"], "in_review");
            if (wp == "WP02" && !rejected) {
                // The feedback on standard input.
                const auto r = kitty::test::run_process(
                    {tool_path("spec-kitty"), "agent", "tasks", "move-task", wp, "--to", "planned",
                     "--agent", "claude", "--review-feedback-file", "-", "--json"},
                    {"Add a test for beta.\n", p.root, {{"HOME", p.home.string()}}});
                ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
                const Json back = kitty::parse_json(r.out, "stdout");
                EXPECT_EQ(back["review_feedback"],
                          "review-cycle://001-demo/WP02-beta/review-cycle-1.md");
                rejected = true;
            } else {
                p.sk_json(
                    {"agent", "tasks", "move-task", wp, "--to", "approved", "--agent", "claude"});
                reviewed.insert(wp);
            }
        }
    }
    EXPECT_EQ(last_kind, "terminal");
    EXPECT_EQ(planning_actions,
              (std::vector<std::string>{"research", "specify", "plan", "tasks-outline",
                                        "tasks-packages", "tasks-finalize", "accept"}));
    EXPECT_TRUE(rejected);
    EXPECT_EQ(reviewed, (std::set<std::string>{"WP01", "WP02", "WP03"}));
    EXPECT_EQ(p.lanes(), (std::map<std::string, std::string>{
                             {"WP01", "approved"}, {"WP02", "approved"}, {"WP03", "approved"}}));
    const Json again = p.next("claude");
    EXPECT_EQ(again["kind"], "terminal") << "terminal stays terminal";
    EXPECT_EQ(again["next_command"], "spec-kitty merge --mission 001-demo");
    EXPECT_EQ(p.next("")["mission_state"], "done");

    // Lanes: two worktrees on their branches from the mission branch; planning in the root.
    GitView git(p.root);
    const auto branches = git.branches();
    EXPECT_TRUE(branches.count("kitty/mission-001-demo"));
    EXPECT_TRUE(branches.count("kitty/mission-001-demo-lane-a"));
    EXPECT_TRUE(branches.count("kitty/mission-001-demo-lane-b"));
    EXPECT_EQ(git.worktrees(), (std::set<std::string>{"001-demo-lane-a", "001-demo-lane-b"}));
    EXPECT_TRUE(git.is_ancestor(git.tip("kitty/mission-001-demo"),
                                git.tip("kitty/mission-001-demo-lane-a")));
    const auto main_subjects = git.subjects("main");
    for (const std::string s :
         {"chore: Start WP01 implementation [claude]", "chore: Start WP02 review [claude]",
          "chore: Move WP02 to planned on spec 001 [claude]",
          "chore: Move WP01 to approved on spec 001 [claude]",
          "chore: Mark T001 as done on spec 001"}) {
        EXPECT_NE(std::find(main_subjects.begin(), main_subjects.end(), s), main_subjects.end())
            << s;
    }
    const auto lane_b = git.subjects("kitty/mission-001-demo-lane-b");
    EXPECT_EQ(lane_b[0], "work on WP02 by fix");
    EXPECT_EQ(lane_b[1], "work on WP02 by first");
    // The rejection's feedback is one committed file; nothing is left uncommitted but the
    // ignored runtime files.
    EXPECT_TRUE(fs::exists(p.root / "kitty-specs/001-demo/tasks/WP02-beta/review-cycle-1.md"));
    EXPECT_FALSE(fs::exists(p.root / "kitty-specs/001-demo/tasks/WP02-beta/review-cycle-2.md"));
    EXPECT_EQ(git.dirty(), std::vector<std::string>{});
    // The context file of lane-a, 3.1.1's keys in its order.
    const Json ctx = kitty::read_json_file(p.root / ".kittify/workspaces/001-demo-lane-a.json");
    EXPECT_EQ(keys(ctx), (std::vector<std::string>{
                             "wp_id", "mission_slug", "worktree_path", "branch_name", "base_branch",
                             "base_commit", "dependencies", "created_at", "created_by",
                             "vcs_backend", "lane_id", "lane_wp_ids", "current_wp"}));
    EXPECT_EQ(ctx["worktree_path"], ".worktrees/001-demo-lane-a");
    EXPECT_EQ(ctx["branch_name"], "kitty/mission-001-demo-lane-a");
    // Events: the claim walk, the review claim, the rejection with its pointer, approval
    // evidence naming the agent.
    bool saw_reject = false, saw_evidence = false;
    for (const Json& e : p.events()) {
        if (e["wp_id"] == "WP02" && e["to_lane"] == "planned" && e["from_lane"] == "in_review") {
            saw_reject = true;
            EXPECT_EQ(e["review_ref"], "review-cycle://001-demo/WP02-beta/review-cycle-1.md");
        }
        if (e["to_lane"] == "approved") {
            saw_evidence = true;
            EXPECT_EQ(e["evidence"]["review"]["reviewer"], "claude");
            EXPECT_EQ(e["evidence"]["review"]["verdict"], "approved");
        }
        if (e["wp_id"] == "WP03" && e["to_lane"] == "in_progress") {
            EXPECT_EQ(e["execution_mode"], "direct_repo");
        }
    }
    EXPECT_TRUE(saw_reject);
    EXPECT_TRUE(saw_evidence);
    // The WP file records the agent and the activity log lines (U+2013 separators).
    const std::string wp01 = slurp(p.root / "kitty-specs/001-demo/tasks/WP01-alpha.md");
    EXPECT_NE(wp01.find("agent: \"claude\""), std::string::npos);
    EXPECT_NE(wp01.find(" \u2013 claude \u2013 shell_pid="), std::string::npos);
    EXPECT_NE(wp01.find("Started implementation via action command"), std::string::npos);
}

// Decision 4: dependencies and claims decide who gets what.
TEST(Loop, WorkIsHandedOutByDependenciesAndNeverTwice) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"},
                         {"WP02", "beta", {"WP01"}, "code_change", "src/beta/**"}});
    const Json a = p.next("agent-a");
    EXPECT_EQ(a["wp_id"], "WP01");
    EXPECT_EQ(p.next("agent-a")["wp_id"], "WP01") << "the agent's own reservation comes back";
    const Json b = p.next("agent-b", "", 1);
    EXPECT_EQ(b["kind"], "blocked");
    EXPECT_NE(b["reason"].get<std::string>().find("WP02 waits for WP01"), std::string::npos)
        << b["reason"];
    // Another agent cannot take WP01 through the action either.
    const auto stolen = p.sk({"agent", "action", "implement", "WP01", "--agent", "agent-b"});
    EXPECT_EQ(stolen.exit_code, 4) << stolen.out;
    const auto early = p.sk({"agent", "action", "implement", "WP02", "--agent", "agent-b"});
    EXPECT_EQ(early.exit_code, 1) << early.out;
    EXPECT_EQ(kitty::parse_json(early.out, "out")["code"], "DEPENDENCIES_NOT_APPROVED");
    // A reservation is released by its holder, with a reason; then others may take it.
    auto r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "planned", "--agent", "agent-b",
                   "--note", "mine now"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "AGENT_MISMATCH");
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "planned", "--agent", "agent-a"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "REASON_REQUIRED");
    const Json released = p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "planned",
                                     "--agent", "agent-a", "--note", "released"});
    EXPECT_EQ(released["old_lane"], "claimed");
    EXPECT_FALSE(released.contains("review_feedback"));
    EXPECT_EQ(p.next("agent-b")["wp_id"], "WP01");
}

// Decision 4 with real processes: 2 and 8 agents at once never share a WP and lose no event.
TEST(Loop, ConcurrentAgentsNeverShareAWorkPackage) {
    for (const int agents : {2, 8}) {
        Project p;
        std::vector<WpSpec> wps;
        for (int i = 1; i <= 8; ++i) {
            const std::string id = "WP0" + std::to_string(i);
            wps.push_back({id,
                           "part" + std::to_string(i),
                           {},
                           "code_change",
                           "src/part" + std::to_string(i) + "/**"});
        }
        p.finalized_mission(wps);
        ASSERT_EQ(p.next("seed")["wp_id"], "WP01"); // issues the implement step
        const std::size_t before = p.events().size();
        std::vector<ProcessResult> results(agents);
        std::vector<std::thread> threads;
        for (int i = 0; i < agents; ++i) {
            threads.emplace_back([&, i] {
                results[i] = p.sk({"next", "--agent", "agent" + std::to_string(i)});
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        std::set<std::string> handed;
        int blocked = 0;
        for (const ProcessResult& r : results) {
            const Json d = kitty::parse_json(r.out, "out");
            if (d["kind"] == "blocked") {
                ++blocked;
                continue;
            }
            ASSERT_EQ(r.exit_code, 0) << r.err;
            EXPECT_TRUE(handed.insert(d["wp_id"].get<std::string>()).second)
                << d["wp_id"] << " handed out twice";
        }
        EXPECT_EQ(static_cast<int>(handed.size()) + blocked, agents);
        EXPECT_EQ(static_cast<int>(handed.size()), std::min(agents, 7));
        EXPECT_EQ(p.events().size(), before + handed.size()) << "one reservation event each";

        // The actions too: every agent claims what it was given, concurrently.
        threads.clear();
        std::vector<ProcessResult> claims(agents);
        for (int i = 0; i < agents; ++i) {
            threads.emplace_back([&, i] {
                claims[i] =
                    p.sk({"agent", "action", "implement", "--agent", "agent" + std::to_string(i)});
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        std::set<std::string> claimed;
        for (const ProcessResult& r : claims) {
            if (r.exit_code == 0) {
                EXPECT_TRUE(
                    claimed.insert(kitty::parse_json(r.out, "out")["wp_id"].get<std::string>())
                        .second);
            }
        }
        EXPECT_EQ(claimed, handed);
        GitView git(p.root);
        EXPECT_EQ(git.worktrees().size(), handed.size());
        EXPECT_EQ(git.dirty(), std::vector<std::string>{}) << "every claim committed";
    }
}

// Decision 3: --result failed blocks until the next success; a rejection during review
// goes back to implement.
TEST(Loop, FailedResultAndRejectionDoNotWedge) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"}});
    EXPECT_EQ(p.next("claude")["wp_id"], "WP01");
    const Json failed = p.next("claude", "failed", 1);
    EXPECT_EQ(failed["kind"], "blocked");
    EXPECT_NE(failed["reason"].get<std::string>().find("Previous step 'implement' failed"),
              std::string::npos);
    EXPECT_EQ(p.next("claude", "", 1)["kind"], "blocked") << "stays blocked until a success";
    const Json resumed = p.next("claude", "success");
    EXPECT_EQ(resumed["kind"], "step");
    EXPECT_EQ(resumed["wp_id"], "WP01");

    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    do_work(p, claim, "first");
    p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "claude",
               "--force"});
    const Json review = p.next("claude", "success");
    EXPECT_EQ(review["mission_state"], "review");
    EXPECT_EQ(review["action"], "review");
    p.sk_json({"agent", "action", "review", "WP01", "--agent", "claude"});
    // A feedback file inside the project (here where git ignores it).
    write_fixture(p.root / ".kittify/runtime/fb.md", "Wrong.\n");
    p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "planned", "--agent", "claude",
               "--review-feedback-file", ".kittify/runtime/fb.md"});
    const Json rework = p.next("claude", "success");
    EXPECT_EQ(rework["kind"], "step") << rework.dump();
    EXPECT_EQ(rework["mission_state"], "review");
    EXPECT_EQ(rework["action"], "implement");
    EXPECT_EQ(rework["wp_id"], "WP01");
    const Json again = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    EXPECT_EQ(again["review_feedback_file"],
              (p.root / "kitty-specs/001-demo/tasks/WP01-alpha/review-cycle-1.md").string());
    EXPECT_FALSE(again["workspace_created"].get<bool>()) << "the lane worktree is reused";
}

// Decision 5: a dependent lane starts from its upstream lane's tip; a deleted lane branch
// is never cut again.
TEST(Loop, DependentLaneStartsFromUpstreamTipAndADeletedBranchIsNotRecut) {
    Project p;
    // 3.1.1's compute puts dependent WPs in one lane; later spec-kitty versions write
    // cross-lane dependencies (lanes.md §2.8), which kitty reads: lane-c after a and b.
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"},
                         {"WP02", "beta", {}, "code_change", "src/beta/**"},
                         {"WP03", "gamma", {}, "code_change", "src/gamma/**"}});
    const fs::path lanes_file = p.root / "kitty-specs/001-demo/lanes.json";
    Json lanes = kitty::read_json_file(lanes_file);
    ASSERT_EQ(lanes["lanes"].size(), 3u) << lanes.dump();
    const std::string lane03 = lanes["lanes"][2]["lane_id"].get<std::string>();
    ASSERT_EQ(lanes["lanes"][2]["wp_ids"], Json::array({"WP03"}));
    lanes["lanes"][2]["depends_on_lanes"] = Json::array({"lane-a", "lane-b"});
    write_fixture(lanes_file, kitty::dump_python(lanes, {.indent = 2}) + "\n");
    p.commit("lane-c after lane-a and lane-b");
    for (const std::string wp : {"WP01", "WP02"}) {
        const Json c = p.sk_json({"agent", "action", "implement", wp, "--agent", "claude"});
        do_work(p, c, "first");
        p.sk_json({"agent", "tasks", "move-task", wp, "--to", "approved", "--agent", "claude",
                   "--force"});
    }
    const Json c3 = p.sk_json({"agent", "action", "implement", "WP03", "--agent", "claude"});
    GitView git(p.root);
    const std::string base = git.tip("kitty/mission-001-demo-" + lane03);
    EXPECT_TRUE(git.is_ancestor(git.tip("kitty/mission-001-demo-lane-a"), base));
    EXPECT_TRUE(git.is_ancestor(git.tip("kitty/mission-001-demo-lane-b"), base));
    EXPECT_TRUE(
        fs::exists(fs::path(c3["workspace_path"].get<std::string>()) / "src/alpha/first.txt"));
    EXPECT_TRUE(
        fs::exists(fs::path(c3["workspace_path"].get<std::string>()) / "src/beta/first.txt"));

    // Remove lane-a's worktree and delete its branch: re-implementing WP01 is refused.
    p.sk_json({"workspace", "remove", "lane-a", "--mission", "001-demo", "--delete-branch"});
    const auto lost = p.sk({"agent", "action", "implement", "WP01", "--agent", "claude"});
    EXPECT_EQ(lost.exit_code, 4) << lost.out;
    EXPECT_EQ(kitty::parse_json(lost.out, "out")["code"], "LANE_BRANCH_MISSING");
}

// Issue §4: refusals leave files, refs, worktrees and the event log as they were.
TEST(Loop, RefusalsChangeNothing) {
    Project p;
    p.finalized_mission(kThreeWps);
    const auto snapshot = [&] {
        GitView git(p.root);
        return std::make_tuple(git.branches(), git.worktrees(), git.tip("main"),
                               slurp(p.root / "kitty-specs/001-demo/status.events.jsonl"),
                               slurp(p.root / "kitty-specs/001-demo/tasks/WP01-alpha.md"));
    };
    const auto before = snapshot();
    // A path where the lane worktree goes that is not a worktree.
    write_fixture(p.root / ".worktrees/001-demo-lane-a/stray.txt", "x");
    auto r = p.sk({"agent", "action", "implement", "WP01", "--agent", "claude"});
    EXPECT_EQ(r.exit_code, 4) << r.out;
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "NOT_A_WORKTREE");
    EXPECT_EQ(snapshot(), before);
    fs::remove_all(p.root / ".worktrees");
    const auto committed = snapshot();
    // No git identity: a clear error naming the settings, nothing changed.
    write_fixture(p.root / ".git/config",
                  "[core]\n\trepositoryformatversion = 0\n\tbare = false\n");
    r = p.sk({"agent", "action", "implement", "WP01", "--agent", "claude"});
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "GIT_IDENTITY_MISSING");
    EXPECT_NE(r.err.find("user.email"), std::string::npos);
    EXPECT_EQ(snapshot(), committed);
    set_identity(p.root);
    // WP ids and agents that would escape or break files.
    for (const std::string bad : {"../../etc", "WP01/../x"}) {
        r = p.sk({"agent", "action", "implement", bad, "--agent", "claude"});
        EXPECT_EQ(r.exit_code, 3) << bad << r.out;
    }
    r = p.sk({"agent", "action", "implement", "WP01", "--agent", "../evil"});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    r = p.sk({"next", "--agent", "a\"b"});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(snapshot(), committed);
    // move-task refusals (§7.2).
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "planned", "--agent", "claude"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "ALREADY_IN_LANE");
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "claude"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "UNCHECKED_SUBTASKS");
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "nowhere"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(snapshot(), committed);
}

// The hand-off verbs' outputs and the 3.1.1 approval walk (§7.3-7.4).
TEST(Loop, MoveTaskWalksTheLanesAndMarkStatusCommits) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"}});
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "impl"});
    // No commits on the lane yet: the hand-off is refused.
    const Json marked =
        p.sk_json({"agent", "tasks", "mark-status", "T001", "T999", "--status", "done"});
    EXPECT_EQ(marked["updated"], Json::array({"T001"}));
    EXPECT_EQ(marked["not_found"], Json::array({"T999"}));
    EXPECT_NE(slurp(p.root / "kitty-specs/001-demo/tasks.md").find("- [x] T001"),
              std::string::npos);
    auto r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "impl"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "NO_COMMITS");
    write_fixture(fs::path(claim["workspace_path"].get<std::string>()) / "src/alpha/x.txt", "x\n");
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "impl"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "UNCOMMITTED_WORK");
    // A lane must not change the mission's planning files.
    const fs::path lane_ws = claim["workspace_path"].get<std::string>();
    write_fixture(lane_ws / "kitty-specs/001-demo/spec.md", "changed on the lane\n");
    git_commit_all(lane_ws, "work");
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "impl"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "LANE_CHANGES_PLANNING") << r.out;
    write_fixture(lane_ws / "kitty-specs/001-demo/spec.md",
                  slurp(p.root / "kitty-specs/001-demo/spec.md"));
    git_commit_all(lane_ws, "revert the planning change");
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "other"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "AGENT_MISMATCH");
    EXPECT_NE(kitty::parse_json(r.out, "out")["error"].get<std::string>().find(
                  "Agent mismatch: WP01 is assigned to 'impl', not 'other'."),
              std::string::npos);
    const Json handed =
        p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "impl"});
    EXPECT_EQ(handed["old_lane"], "in_progress");
    EXPECT_EQ(handed["new_lane"], "for_review");
    const std::size_t before = p.events().size();
    const Json approved = p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "approved",
                                     "--agent", "impl", "--reviewer", "rev"});
    EXPECT_EQ(approved["events"], 2);
    const auto events = p.events();
    ASSERT_EQ(events.size(), before + 2);
    EXPECT_EQ(events[before]["from_lane"], "for_review");
    EXPECT_EQ(events[before]["to_lane"], "in_review");
    EXPECT_TRUE(events[before]["evidence"].is_null());
    EXPECT_EQ(events[before + 1]["to_lane"], "approved");
    EXPECT_EQ(events[before + 1]["evidence"]["review"]["reviewer"], "rev");
    EXPECT_EQ(events[before + 1]["reason"], "move-task: for_review -> approved");
    const std::string ref =
        events[before + 1]["evidence"]["review"]["reference"].get<std::string>();
    EXPECT_EQ(ref.rfind("auto-approval:WP01:", 0), 0u) << ref;
    // Back to planned: a verdict needs feedback.
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "planned", "--agent", "impl"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "FEEDBACK_REQUIRED");
    const Json hist =
        p.sk_json({"agent", "tasks", "add-history", "WP01", "--note", "Blocked: nothing"});
    EXPECT_EQ(hist["task_id"], "WP01");
    EXPECT_NE(slurp(p.root / "kitty-specs/001-demo/tasks/WP01-alpha.md").find("– user – "),
              std::string::npos);
}

// The loop's tools link libgit2 in (meson.build, not in sanitizer builds): a claim, a commit
// on the lane, a hand-off and a review load no shared libgit2, and none of the network
// libraries it would bring (the dynamic loader's own report, LD_DEBUG=libs).
TEST(Loop, TheLoopToolsLoadNoSharedLibgit2) {
    if (std::getenv("KITTY_LIBGIT2_LINKED") == nullptr) {
        GTEST_SKIP() << "this build loads the shared libgit2";
    }
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"}});
    std::string loaded;
    const auto traced = [&](std::vector<std::string> args) {
        args.insert(args.begin(), tool_path("spec-kitty"));
        args.push_back("--json");
        const auto r = kitty::test::run_process(
            args, {"", p.root, {{"HOME", p.home.string()}, {"LD_DEBUG", "libs"}}});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        loaded += r.err;
        return kitty::parse_json(r.out, "stdout");
    };
    const Json claim = traced({"agent", "action", "implement", "WP01", "--agent", "impl"});
    const fs::path lane = claim["workspace_path"].get<std::string>();
    write_fixture(lane / "src/alpha/x.txt", "x\n");
    git_commit_all(lane, "work");
    traced({"agent", "tasks", "mark-status", "T001", "--status", "done"});
    EXPECT_EQ(traced({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent",
                      "impl"})["new_lane"],
              "for_review");
    traced({"agent", "action", "review", "WP01", "--agent", "rev"});
    EXPECT_NE(loaded.find("calling init"), std::string::npos) << "LD_DEBUG had no effect";
    for (const char* library : {"libgit2", "libssh2", "libcrypto", "libmbed", "libgssapi"}) {
        EXPECT_EQ(loaded.find(library), std::string::npos) << library << " was loaded";
    }
}

// Decision 2: the mission may be left out when it is unambiguous.
TEST(Loop, MissionIsPickedWhenUnambiguous) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"}});
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    ASSERT_EQ(p.sk({"agent", "mission", "create", "other"}).exit_code, 0);
    const auto amb = p.sk({"next", "--agent", "claude"});
    EXPECT_EQ(amb.exit_code, 4) << amb.out;
    const Json err = kitty::parse_json(amb.out, "out");
    EXPECT_EQ(err["code"], "AMBIGUOUS_MISSION");
    EXPECT_EQ(err["candidates"], Json::array({"001-demo", "002-other"}));
    // Inside the lane worktree the mission is the worktree's.
    const Json inside =
        p.sk_json({"next", "--agent", "claude"}, 0, claim["workspace_path"].get<std::string>());
    EXPECT_EQ(inside["mission_slug"], "001-demo");
    EXPECT_EQ(inside["wp_id"], "WP01");
    // Any selector works.
    EXPECT_EQ(p.next("claude", "", 0, "demo")["mission_slug"], "001-demo");
    EXPECT_EQ(p.next("claude", "", 0, "1")["mission_slug"], "001-demo") << "a mission number";
    EXPECT_EQ(p.next("claude", "", 0, "002")["mission_slug"], "002-other");
}

// Issue §4: a SIGKILL at any point of `agent action implement` leaves a state the next run
// reuses or repairs: afterwards the WP is in_progress in its worktree, all committed.
TEST(Loop, ImplementKilledAtAnyPointIsCompletedByTheNextRun) {
    // Kill points spread over a run (about 100 ms here), each shifted by a random jitter.
    std::mt19937 random(std::random_device{}());
    for (int i = 0; i < 16; ++i) {
        Project p;
        p.finalized_mission(kThreeWps);
        const int delay_us = 6000 * i + static_cast<int>(random() % 6000);
        run_and_kill({tool_path("kitty-next"), "implement", "WP01", "--agent", "claude"}, p.root,
                     p.home, std::chrono::microseconds(delay_us));
        auto r = p.sk({"agent", "action", "implement", "WP01", "--agent", "claude"});
        for (int locks = 0; r.exit_code == 75 && locks < 3; ++locks) {
            // git's own rule for a lock whose owner died: the error names it, the hint says
            // to remove it.
            const Json err = kitty::parse_json(r.out, "out");
            ASSERT_EQ(err["code"], "GIT_LOCKED") << r.out;
            ASSERT_TRUE(
                fs::path(err["path"].get<std::string>()).filename().string().ends_with(".lock"));
            fs::remove(err["path"].get<std::string>());
            r = p.sk({"agent", "action", "implement", "WP01", "--agent", "claude"});
        }
        ASSERT_EQ(r.exit_code, 0) << "killed after " << delay_us << " us: " << r.out << r.err;
        EXPECT_EQ(p.lanes()["WP01"], "in_progress");
        GitView git(p.root);
        EXPECT_EQ(git.worktrees(), std::set<std::string>{"001-demo-lane-a"});
        EXPECT_EQ(git.dirty(), std::vector<std::string>{}) << "killed after " << delay_us << " us";
        GitView lane(p.root / ".worktrees/001-demo-lane-a");
        EXPECT_EQ(lane.dirty(), std::vector<std::string>{}) << "killed after " << delay_us << " us";
        int claims = 0;
        for (const Json& e : p.events()) {
            claims += e["wp_id"] == "WP01" && e["to_lane"] == "in_progress";
        }
        EXPECT_EQ(claims, 1) << "killed after " << delay_us << " us";
    }
}

// §2.2 and issue §3: a run 3.1.1 started is continued (its index, state.json, steps).
TEST(Loop, ARunStateWrittenBy311IsContinued) {
    Project p;
    ASSERT_EQ(p.sk({"agent", "mission", "create", "demo"}).exit_code, 0);
    const fs::path run_dir = p.root / ".kittify/runtime/runs/0123456789abcdef0123456789abcdef";
    write_fixture(p.root / ".kittify/runtime/feature-runs.json",
                  "{\n  \"001-demo\": {\n    \"mission_key\": \"software-dev\",\n    "
                  "\"mission_type\": \"software-dev\",\n    \"run_dir\": \"" +
                      run_dir.string() +
                      "\",\n    \"run_id\": \"0123456789abcdef0123456789abcdef\"\n  }\n}");
    write_fixture(run_dir / "state.json",
                  R"({"blocked_reason": null, "completed_steps": ["discovery", "specify"],
                      "decisions": {}, "inputs": {"mission_slug": "001-demo"},
                      "issued_step_id": "plan", "mission_key": "software-dev",
                      "pending_decisions": {}, "run_id": "0123456789abcdef0123456789abcdef",
                      "template_hash": "x", "template_path": "/nonexistent"})");
    const Json q = p.next("");
    EXPECT_EQ(q["mission_state"], "plan");
    EXPECT_EQ(q["run_id"], "0123456789abcdef0123456789abcdef");
    write_fixture(p.root / "kitty-specs/001-demo/plan.md", "# Plan\n");
    const Json d = p.next("claude", "success");
    EXPECT_EQ(d["mission_state"], "tasks_outline");
    EXPECT_EQ(d["run_id"], "0123456789abcdef0123456789abcdef");
    const Json state = kitty::read_json_file(run_dir / "state.json");
    EXPECT_EQ(state["completed_steps"], Json::array({"discovery", "specify", "plan"}));
    EXPECT_EQ(state["issued_step_id"], "tasks_outline");
    EXPECT_EQ(state["template_hash"], "x") << "keys kitty does not use are kept";
    // Written as 3.1.1 writes it: sorted keys, indent 2, no trailing newline.
    const std::string bytes = slurp(run_dir / "state.json");
    EXPECT_EQ(bytes.rfind("{\n  \"blocked_reason\": null,\n  \"completed_steps\": [", 0), 0u);
    EXPECT_NE(bytes.back(), '\n');
}

// A finalized mission with no run starts at implement, not at discovery (§10 item 10).
TEST(Loop, AFinalizedMissionWithoutARunStartsAtImplement) {
    Project p;
    p.finalized_mission(kThreeWps);
    const Json q = p.next("");
    EXPECT_EQ(q["preview_step"], "implement");
    const Json d = p.next("claude");
    EXPECT_EQ(d["mission_state"], "implement");
    EXPECT_EQ(d["action"], "implement");
    // Text output (§3.7).
    const auto text = p.run({tool_path("spec-kitty"), "next", "--agent", "claude"});
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_EQ(text.out.rfind("[STEP] 001-demo @ implement\n", 0), 0u) << text.out;
    EXPECT_NE(text.out.find("  Action: implement WP01\n"), std::string::npos);
    EXPECT_NE(text.out.find("  Progress: "), std::string::npos);
    EXPECT_NE(text.out.find("    cat " + p.root.string() +
                            "/.kittify/runtime/prompts/001-demo/claude-implement-WP01.md"),
              std::string::npos);
    const std::string prompt =
        slurp(p.root / ".kittify/runtime/prompts/001-demo/claude-implement-WP01.md");
    EXPECT_NE(prompt.find("IMPLEMENT: WP01"), std::string::npos);
    EXPECT_NE(
        prompt.find("spec-kitty agent action implement WP01 --agent claude --mission 001-demo"),
        std::string::npos);
    EXPECT_NE(prompt.find("mark-status T001 --status done"), std::string::npos);
    EXPECT_NE(prompt.find("--- WORK PACKAGE PROMPT BEGINS ---\n---\nwork_package_id: WP01"),
              std::string::npos);
}

// §6.1: what a review claim needs.
TEST(Loop, ReviewNeedsAWorkPackageHandedOffForReview) {
    Project p;
    p.finalized_mission(kThreeWps);
    auto r = p.sk({"agent", "action", "review", "WP01", "--agent", "rev"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(kitty::parse_json(r.out, "out")["error"],
              "WP01 is in lane 'planned', not 'for_review'.");
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "impl"});
    r = p.sk({"agent", "action", "review", "WP01", "--agent", "rev"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(kitty::parse_json(r.out, "out")["error"],
              "WP01 is still being implemented, not claimed for review.");
    r = p.sk({"agent", "action", "review", "--agent", "rev"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "NO_WP_FOR_REVIEW");
    p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "impl",
               "--force"});
    const Json claim = p.sk_json({"agent", "action", "review", "--agent", "rev"});
    EXPECT_EQ(claim["wp_id"], "WP01");
    EXPECT_EQ(claim["lane"], "in_review");
    const Json last = p.events().back();
    EXPECT_EQ(last["from_lane"], "for_review");
    EXPECT_EQ(last["to_lane"], "in_review");
    EXPECT_EQ(last["actor"], "rev");
    r = p.sk({"agent", "action", "review", "WP01", "--agent", "other"});
    EXPECT_EQ(r.exit_code, 4) << "another reviewer holds it";
    EXPECT_EQ(p.sk_json({"agent", "action", "review", "WP01", "--agent", "rev"})["lane"],
              "in_review")
        << "the reviewer resumes its own claim";
    // A reviewer who will not finish hands the review back, with a reason.
    r = p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "rev"});
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "REASON_REQUIRED");
    const Json back = p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "for_review",
                                 "--agent", "rev", "--note", "out of time"});
    EXPECT_EQ(back["old_lane"], "in_review");
    EXPECT_EQ(p.sk_json({"agent", "action", "review", "WP01", "--agent", "other"})["lane"],
              "in_review");
}

// §5: the internal allocation (spec-kitty implement) and lane reuse.
TEST(Loop, AllocationReusesLanesAndRefusesADirtyOne) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"},
                         {"WP02", "beta", {"WP01"}, "code_change", "src/beta/**"}});
    const Json a = p.sk_json({"implement", "WP01", "--mission", "001-demo"});
    EXPECT_EQ(keys(a), (std::vector<std::string>{"workspace", "workspace_path", "branch",
                                                 "mission_slug", "mission_number", "mission_type",
                                                 "wp_id", "lane_id", "execution_mode", "status",
                                                 "absolute_path", "lane", "commit"}));
    EXPECT_EQ(a["workspace"], ".worktrees/001-demo-lane-a");
    EXPECT_EQ(a["branch"], "kitty/mission-001-demo-lane-a");
    EXPECT_EQ(a["status"], "created");
    EXPECT_EQ(a["lane"], "in_progress");
    GitView git(p.root);
    EXPECT_EQ(git.subjects("main")[0], "chore: WP01 claimed for implementation");
    for (const Json& e : p.events()) {
        if (e["wp_id"] == "WP01" && e["to_lane"] != "planned") {
            EXPECT_EQ(e["actor"], "implement-command");
        }
    }
    // WP02 shares lane-a; uncommitted work there refuses it.
    const fs::path ws = p.root / ".worktrees/001-demo-lane-a";
    write_fixture(ws / "src/alpha/x.txt", "x\n");
    p.sk_json(
        {"agent", "tasks", "move-task", "WP01", "--to", "approved", "--force", "--note", "ok"});
    auto r = p.sk({"implement", "WP02", "--mission", "001-demo"});
    EXPECT_EQ(r.exit_code, 4) << r.out;
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "LANE_DIRTY");
    git_commit_all(ws, "alpha");
    const Json b = p.sk_json({"implement", "WP02", "--mission", "001-demo"});
    EXPECT_EQ(b["status"], "reused");
    EXPECT_EQ(
        kitty::read_json_file(p.root / ".kittify/workspaces/001-demo-lane-a.json")["current_wp"],
        "WP02");
    // The worktree removed but the branch kept: the next allocation checks the branch out
    // again, with its commits.
    p.sk_json({"workspace", "remove", "lane-a", "--mission", "001-demo"});
    EXPECT_FALSE(fs::exists(ws));
    const Json c = p.sk_json({"agent", "action", "implement", "WP02", "--agent", "claude"});
    EXPECT_TRUE(c["workspace_created"].get<bool>());
    EXPECT_TRUE(fs::exists(ws / "src/alpha/x.txt"));
    const Json list = p.sk_json({"workspace", "list", "--mission", "001-demo"});
    EXPECT_EQ(list["lanes"][0]["lane_id"], "lane-a");
    EXPECT_TRUE(list["lanes"][0]["worktree_exists"].get<bool>());
    EXPECT_EQ(list["lanes"][0]["uncommitted"], Json::array());
}

// §3.1 in kitty's error contract (one JSON document, the exit-code table) and §12.4.
TEST(Loop, UsageErrorsAndAMissingStatusLog) {
    Project p;
    p.finalized_mission(kThreeWps);
    EXPECT_EQ(p.sk({"next", "--agent", "claude", "--result", "maybe"}).exit_code, 2);
    const auto no_agent = p.sk({"next", "--result", "success"});
    EXPECT_EQ(no_agent.exit_code, 2);
    EXPECT_EQ(kitty::parse_json(no_agent.out, "out")["error"], "--agent is required");
    const auto missing = p.sk({"next", "--agent", "claude", "--mission", "nope"});
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_EQ(kitty::parse_json(missing.out, "out")["code"], "MISSION_NOT_FOUND");
    EXPECT_EQ(p.next("claude")["mission_state"], "implement");
    fs::remove(p.root / "kitty-specs/001-demo/status.events.jsonl");
    const Json blocked = p.next("claude", "success", 1);
    EXPECT_EQ(blocked["kind"], "blocked");
    EXPECT_EQ(blocked["reason"],
              "Canonical status not found for feature '001-demo'. Run 'spec-kitty agent mission "
              "finalize-tasks --mission 001-demo' to bootstrap the event log.");
    EXPECT_EQ(blocked["next_command"],
              "spec-kitty agent mission finalize-tasks --mission 001-demo");
}

// What a run killed between its event append and status.json's rename leaves: the events,
// a stale status.json and its temporary file. The next run of the action repairs both.
TEST(Loop, AKilledStatusWriteIsRepairedByTheNextAction) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    const fs::path dir = p.root / "kitty-specs/001-demo";
    const std::string good = slurp(dir / "status.json");
    write_fixture(dir / ".status.json.kitty-Ab12Cd", "half");
    write_fixture(dir / "status.json", "{}\n");
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    EXPECT_FALSE(fs::exists(dir / ".status.json.kitty-Ab12Cd"));
    const Json status = kitty::read_json_file(dir / "status.json");
    EXPECT_EQ(status["work_packages"]["WP01"]["lane"], "in_progress");
    GitView git(p.root);
    EXPECT_EQ(git.dirty(), std::vector<std::string>{});
}

// Adversarial finding D05 for the loop: kitty never writes through a link out of the
// project, and a refused call leaves the status log as it was.
TEST(Loop, LinksOutOfTheProjectAreRefusedBeforeAnyWrite) {
    Project p;
    p.finalized_mission(kThreeWps);
    const fs::path outside = p.tmp / "outside";
    fs::create_directories(outside);
    const std::string log_before = slurp(p.root / "kitty-specs/001-demo/status.events.jsonl");
    fs::create_directories(p.root / ".kittify");
    fs::create_directory_symlink(outside, p.root / ".kittify/runtime");
    auto r = p.sk({"next", "--agent", "claude"});
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(kitty::parse_json(r.out, "out")["code"], "OUTSIDE_PROJECT");
    EXPECT_TRUE(fs::is_empty(outside));
    EXPECT_EQ(slurp(p.root / "kitty-specs/001-demo/status.events.jsonl"), log_before)
        << "no reservation was recorded";
    fs::remove(p.root / ".kittify/runtime");
    fs::create_directory_symlink(outside, p.root / ".kittify/workspaces");
    r = p.sk({"agent", "action", "implement", "WP01", "--agent", "claude"});
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_TRUE(fs::is_empty(outside));
    GitView git(p.root);
    EXPECT_EQ(git.branches(), std::set<std::string>{"main"}) << "the branches made were removed";
    EXPECT_EQ(git.worktrees(), std::set<std::string>{});
    EXPECT_EQ(slurp(p.root / "kitty-specs/001-demo/status.events.jsonl"), log_before);
}

namespace {

// The syscalls of `argv` run under strace (-y names each descriptor's file), one per line,
// with a call another thread interrupted joined to its resumed end.
std::vector<std::string> traced_syscalls(const Project& p, std::vector<std::string> argv,
                                         const fs::path& log) {
    argv.insert(argv.begin(),
                {kitty::test::find_on_path("strace"), "-f", "-qq", "-y", "-o", log.string(), "-e",
                 "trace=flock,fsync,fdatasync,syncfs,sync,write,rename"});
    // LeakSanitizer cannot run under ptrace (an ASan build's leak check stays with the other
    // tests).
    const ProcessResult r = kitty::test::run_process(
        argv, {"", p.root, {{"HOME", p.home.string()}, {"ASAN_OPTIONS", "detect_leaks=0"}}});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> calls;
    std::map<std::string, std::string> unfinished;
    std::istringstream in(slurp(log));
    for (std::string line; std::getline(in, line);) {
        const std::size_t space = line.find(' ');
        const std::string pid = line.substr(0, space);
        // strace pads the pid with spaces to a width.
        std::string call = line.substr(line.find_first_not_of(' ', space));
        if (const std::size_t cut = call.find(" <unfinished ...>"); cut != std::string::npos) {
            unfinished[pid] = call.substr(0, cut);
            continue;
        }
        if (call.starts_with("<... ")) {
            call = unfinished[pid] + call.substr(call.find("resumed>") + 8);
        }
        calls.push_back(call);
    }
    return calls;
}

} // namespace

// Issue 20 §3: the status lock is held while events are appended and status.json written,
// not while they reach the disk; they are synced after the release, before the command
// answers (traced with strace, as the kernel sees the calls).
TEST(Loop, TheStatusLockIsNeverHeldAcrossADiskFlush) {
    if (kitty::test::find_on_path("strace").empty()) {
        GTEST_SKIP() << "strace is not installed (scripts/bootstrap.sh --test installs it)";
    }
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"},
                         {"WP02", "beta", {}, "code_change", "src/beta/**"}});
    const fs::path dir = p.root / "kitty-specs/001-demo";
    const std::string sk = tool_path("spec-kitty");
    // The run's first call writes the run state, which is synced before anyone reads it.
    EXPECT_EQ(p.next("other")["wp_id"], "WP01");
    const fs::path log = p.home / "trace.txt";
    const auto check = [&](const std::vector<std::string>& argv) {
        const std::vector<std::string> calls = traced_syscalls(p, argv, log);
        bool held = false;
        int holds = 0;
        std::size_t released = 0, appended = 0;
        for (std::size_t i = 0; i < calls.size(); ++i) {
            const std::string& c = calls[i];
            const bool status_lock =
                c.starts_with("flock(") && c.find(".status.lock>") != std::string::npos;
            if (status_lock && c.find("LOCK_EX") != std::string::npos && c.ends_with("= 0")) {
                held = true;
                ++holds;
            } else if (status_lock && c.find("LOCK_UN") != std::string::npos) {
                held = false;
                released = i;
            } else if (held && (c.starts_with("fsync(") || c.starts_with("fdatasync(") ||
                                c.starts_with("syncfs(") || c.starts_with("sync("))) {
                ADD_FAILURE() << argv[1] << " " << argv[2] << ": " << c
                              << " while the status lock is held";
            } else if (held && c.starts_with("write(") &&
                       c.find("/status.events.jsonl>") != std::string::npos) {
                appended = i;
            }
        }
        EXPECT_EQ(holds, 1) << argv[1] << " " << argv[2];
        ASSERT_GT(appended, 0u) << argv[1] << " " << argv[2] << " appended no event";
        const auto synced_after_release = [&](const std::string& file) {
            for (std::size_t i = released; i < calls.size(); ++i) {
                if (calls[i].starts_with("fsync(") &&
                    calls[i].find(file + ">") != std::string::npos) {
                    return true;
                }
            }
            return false;
        };
        EXPECT_TRUE(synced_after_release((dir / "status.events.jsonl").string())) << argv[2];
        EXPECT_TRUE(synced_after_release((dir / "status.json").string())) << argv[2];
        EXPECT_TRUE(synced_after_release(dir.string())) << argv[2] << ": the rename is unsynced";
    };
    check({sk, "next", "--agent", "impl", "--mission", "001-demo", "--json"});
    EXPECT_EQ(p.events().back()["wp_id"], "WP02");
    const Json claim = p.sk_json({"agent", "action", "implement", "WP02", "--agent", "impl"});
    write_fixture(fs::path(claim["workspace_path"].get<std::string>()) / "src/beta/x.txt", "x\n");
    git_commit_all(claim["workspace_path"].get<std::string>(), "work");
    p.sk_json({"agent", "tasks", "mark-status", "T002", "--status", "done"});
    check({sk, "agent", "tasks", "move-task", "WP02", "--to", "for_review", "--agent", "impl",
           "--json"});
    check({sk, "agent", "action", "review", "WP02", "--agent", "rev", "--json"});
    EXPECT_EQ(p.events().back()["to_lane"], "in_review");
}
