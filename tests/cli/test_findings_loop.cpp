// Regression tests for the loop and merge defects of ../shared/findings/adversarial-3.md:
// each reproduction, run through the built binaries on real repositories, with what must
// hold now. The finding's id names each test.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::approve;
using kitty::test::do_work;
using kitty::test::GitView;
using kitty::test::kThreeWps;
using kitty::test::ProcessResult;
using kitty::test::Project;
using kitty::test::run_and_kill;
using kitty::test::slurp;
using kitty::test::tool_path;
using kitty::test::WpSpec;
using kitty::test::write_fixture;

namespace {

const fs::path kMissionDir = "kitty-specs/001-demo";

std::string code_of(const ProcessResult& r) {
    return kitty::parse_json(r.out, "stdout").value("code", "");
}

void edit_lanes(const Project& p, const std::function<void(Json&)>& edit) {
    const fs::path file = p.root / kMissionDir / "lanes.json";
    Json doc = kitty::read_json_file(file);
    edit(doc);
    write_fixture(file, doc.dump(2) + "\n");
    p.commit("lanes.json edited by hand");
}

std::set<std::string> problem_codes(const Json& doc) {
    std::set<std::string> out;
    for (const Json& problem : doc.value("problems", Json::array())) {
        out.insert(problem["code"].get<std::string>());
    }
    return out;
}

} // namespace

// E01: two WPs of one lane are never held by two agents; the second waits, named.
TEST(FindingsLoop, E01_OneAgentPerLaneWorktree) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"},
                         {"WP02", "beta", {"WP01"}, "code_change", "src/beta/**"},
                         {"WP03", "gamma", {"WP01"}, "code_change", "src/gamma/**"}});
    approve(p, "WP01");
    const Json a = p.next("A");
    ASSERT_EQ(a["kind"], "step") << a.dump();
    const std::string held = a["wp_id"].get<std::string>();
    const Json b = p.next("B", "", 1);
    EXPECT_EQ(b["kind"], "blocked");
    EXPECT_EQ(b["wp_id"], nullptr);
    EXPECT_NE(b["reason"].get<std::string>().find("lane-a (" + held + ", A)"), std::string::npos)
        << b["reason"];
    const std::string other = held == "WP02" ? "WP03" : "WP02";
    const auto r = p.sk({"agent", "action", "implement", other, "--agent", "B"});
    EXPECT_EQ(r.exit_code, 4) << r.out;
    EXPECT_EQ(code_of(r), "LANE_HELD");
    EXPECT_EQ(p.lanes().at(other), "planned") << "nothing was recorded for B";
    // A review does not hold the lane: once A hands off, B may take the next WP.
    const Json claim = p.sk_json({"agent", "action", "implement", held, "--agent", "A"});
    do_work(p, claim, "a");
    p.sk_json(
        {"agent", "tasks", "move-task", held, "--to", "for_review", "--agent", "A", "--force"});
    const Json again = p.sk_json({"agent", "action", "implement", other, "--agent", "B"});
    EXPECT_EQ(again["wp_id"], other);
}

// E04: a lane listed twice is refused at once (it looped forever holding the status lock).
TEST(FindingsLoop, E04_ALaneListedTwiceIsInvalidNotAHang) {
    Project p;
    p.finalized_mission(kThreeWps);
    approve(p, "WP01");
    edit_lanes(p, [](Json& d) { d["lanes"].push_back(d["lanes"][0]); });
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--dry-run"}, std::vector<std::string>{}}) {
        std::vector<std::string> argv{"/usr/bin/timeout", "20", tool_path("kitty-merge")};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = p.run(argv);
        EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
        EXPECT_EQ(code_of(r), "INVALID_LANES_JSON");
        EXPECT_NE(r.out.find("appears more than once"), std::string::npos) << r.out;
    }
}

// E05 (a): an approved WP that lanes.json lost is refused, and its lane branch survives.
TEST(FindingsLoop, E05_AnApprovedWpInNoLaneIsNotMarkedDone) {
    Project p;
    p.finalized_mission(kThreeWps);
    for (const std::string wp : {"WP01", "WP02", "WP03"}) {
        approve(p, wp);
    }
    const std::string branch = "kitty/mission-001-demo-lane-b";
    const std::string tip = GitView(p.root).tip(branch);
    ASSERT_FALSE(tip.empty());
    edit_lanes(p, [](Json& d) {
        for (Json& lane : d["lanes"]) {
            if (lane["lane_id"] == "lane-b") {
                lane["wp_ids"] = Json::array();
            }
        }
    });
    const Json doc = p.sk_json({"merge"}, 1);
    EXPECT_TRUE(problem_codes(doc).count("WP_NOT_IN_LANES")) << doc.dump();
    EXPECT_EQ(GitView(p.root).tip(branch), tip);
    EXPECT_EQ(p.lanes().at("WP02"), "approved");
}

// E05 (b): a re-finalize that moves an approved WP into another lane leaves its work on the
// old lane branch: the merge refuses instead of marking it done.
TEST(FindingsLoop, E05_WorkLeftOnALaneBranchOutsideLanesJsonIsRefused) {
    Project p;
    p.finalized_mission(kThreeWps);
    for (const std::string wp : {"WP02", "WP01", "WP03"}) {
        approve(p, wp);
    }
    const std::string branch = "kitty/mission-001-demo-lane-b";
    const std::string tip = GitView(p.root).tip(branch);
    ASSERT_FALSE(tip.empty());
    // WP02 now depends on WP01: finalize puts both in one lane, lane-b leaves lanes.json.
    std::vector<WpSpec> wps = kThreeWps;
    wps[1].deps = {"WP01"};
    const fs::path dir = p.root / kMissionDir;
    write_fixture(dir / "tasks.md", kitty::test::tasks_md(wps));
    const std::string wp02 = slurp(dir / "tasks/WP02-beta.md");
    const std::string::size_type at = wp02.find("dependencies: []");
    ASSERT_NE(at, std::string::npos) << wp02;
    write_fixture(dir / "tasks/WP02-beta.md",
                  wp02.substr(0, at) + "dependencies: [WP01]" + wp02.substr(at + 16));
    p.sk_json({"agent", "mission", "finalize-tasks", "--mission", "001-demo"});
    p.commit("WP02 depends on WP01");
    const Json lanes = kitty::read_json_file(dir / "lanes.json");
    for (const Json& lane : lanes["lanes"]) {
        ASSERT_NE(lane["lane_id"], "lane-b") << "the re-finalize keeps lane-b; test needs a move";
    }
    const Json doc = p.sk_json({"merge"}, 1);
    EXPECT_TRUE(problem_codes(doc).count("UNMERGED_LANE_BRANCH")) << doc.dump();
    EXPECT_EQ(GitView(p.root).tip(branch), tip) << "the branch holding WP02's work is kept";
    EXPECT_EQ(p.lanes().at("WP02"), "approved");
}

// E06: an issued step that is not a software-dev step is an input error, not a crash.
TEST(FindingsLoop, E06_AnUnknownIssuedStepIsInvalidRunState) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.next("A");
    fs::path state;
    for (const auto& e : fs::directory_iterator(p.root / ".kittify/runtime/runs")) {
        state = e.path() / "state.json";
    }
    Json doc = kitty::read_json_file(state);
    doc["issued_step_id"] = "research-gather";
    write_fixture(state, doc.dump(2));
    for (const std::string result : {"", "success"}) {
        const Json r = p.next("A", result, 3);
        EXPECT_EQ(r["code"], "INVALID_RUN_STATE") << r.dump();
        EXPECT_NE(r["error"].get<std::string>().find("research-gather"), std::string::npos);
    }
}

// E08: the feedback file is a bounded regular text file inside the project, or stdin.
TEST(FindingsLoop, E08_FeedbackFilesOutsideTheProjectOrNotTextAreRefused) {
    Project p;
    p.finalized_mission(kThreeWps);
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "A"});
    do_work(p, claim, "a");
    p.sk_json(
        {"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "A", "--force"});
    p.sk_json({"agent", "action", "review", "WP01", "--agent", "R"});
    const fs::path inside = p.root / ".kittify/runtime";
    fs::create_directories(inside / "a-directory");
    fs::create_symlink("/etc/passwd", inside / "link.md");
    ASSERT_EQ(::mkfifo((inside / "fifo").c_str(), 0600), 0);
    write_fixture(inside / "big.md", std::string((1 << 20) + 1, 'x'));
    write_fixture(inside / "nul.md", std::string("bad\0text", 8));
    const std::string head = GitView(p.root).tip("main");
    const std::string log = slurp(p.root / kMissionDir / "status.events.jsonl");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/proc/self/environ", "OUTSIDE_PROJECT"},
        {"/dev/zero", "OUTSIDE_PROJECT"},
        {(inside / "link.md").string(), "OUTSIDE_PROJECT"},
        {(inside / "a-directory").string(), "FEEDBACK_NOT_A_FILE"},
        {(inside / "fifo").string(), "FEEDBACK_NOT_A_FILE"},
        {(inside / "big.md").string(), "FEEDBACK_TOO_LARGE"},
        {(inside / "nul.md").string(), "FEEDBACK_NOT_TEXT"},
        {(inside / "missing.md").string(), "FEEDBACK_NOT_FOUND"},
    };
    for (const auto& [file, code] : cases) {
        const auto r =
            p.run({"/usr/bin/timeout", "20", tool_path("kitty-status"), "move-task", "WP01", "--to",
                   "planned", "--agent", "R", "--review-feedback-file", file});
        EXPECT_EQ(r.exit_code, 3) << file << ": " << r.out << r.err;
        EXPECT_EQ(code_of(r), code) << file;
    }
    EXPECT_EQ(GitView(p.root).tip("main"), head) << "nothing was committed";
    EXPECT_EQ(slurp(p.root / kMissionDir / "status.events.jsonl"), log);
    // Standard input over the bound is refused too; within it, it is the feedback.
    const auto big = kitty::test::run_process(
        {tool_path("kitty-status"), "move-task", "WP01", "--to", "planned", "--agent", "R",
         "--review-feedback-file", "-"},
        {std::string((1 << 20) + 1, 'y'), p.root, {{"HOME", p.home.string()}}});
    EXPECT_EQ(code_of(big), "FEEDBACK_TOO_LARGE");
    const auto ok =
        kitty::test::run_process({tool_path("kitty-status"), "move-task", "WP01", "--to", "planned",
                                  "--agent", "R", "--review-feedback-file", "-"},
                                 {"Needs a test.\n", p.root, {{"HOME", p.home.string()}}});
    ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_NE(
        slurp(p.root / kMissionDir / "tasks/WP01-alpha/review-cycle-1.md").find("Needs a test.\n"),
        std::string::npos);
}

// Observation of adversarial-3: a .worktrees linked out of the project is refused.
TEST(FindingsLoop, ALinkedWorktreesDirectoryIsRefused) {
    Project p;
    p.finalized_mission(kThreeWps);
    const fs::path outside = p.tmp / "elsewhere";
    fs::create_directories(outside);
    fs::create_directory_symlink(outside, p.root / ".worktrees");
    const auto r = p.sk({"agent", "action", "implement", "WP01", "--agent", "A"});
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(code_of(r), "OUTSIDE_PROJECT");
    EXPECT_TRUE(fs::is_empty(outside));
    EXPECT_EQ(GitView(p.root).worktrees(), std::set<std::string>{});
    EXPECT_EQ(p.lanes().at("WP01"), "planned");
}

// E09: an empty value is a usage error, never "not given".
TEST(FindingsLoop, E09_EmptyValuesAreUsageErrors) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "A"});
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"agent", "tasks", "move-task", "WP01", "--to", "planned", "--agent", "", "--note", "x"},
         "BAD_AGENT"},
        {{"next", "--agent", ""}, "BAD_AGENT"},
        {{"next", "--agent", "A", "--result", ""}, "BAD_RESULT"},
        {{"next", "--agent", "A", "--mission", ""}, "BAD_MISSION"},
        {{"agent", "tasks", "mark-status", "T001", "--status", "done", "--agent", ""}, "BAD_AGENT"},
        {{"next", "--agent", std::string(65, 'a')}, "BAD_AGENT"}, // at most 64 characters
        {{"next", "--agent", "-a"}, "BAD_AGENT"},
    };
    const std::string log = slurp(p.root / kMissionDir / "status.events.jsonl");
    for (const auto& [args, code] : cases) {
        const auto r = p.sk(args);
        EXPECT_EQ(r.exit_code, 2) << r.out;
        EXPECT_EQ(code_of(r), code) << r.out;
    }
    const auto r = p.run({tool_path("kitty-workspace"), "allocate", "WP02", "--actor", "x\ny"});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(code_of(r), "BAD_AGENT");
    EXPECT_EQ(slurp(p.root / kMissionDir / "status.events.jsonl"), log);
    EXPECT_EQ(p.lanes().at("WP01"), "in_progress") << "A's claim was not released";
    EXPECT_EQ(p.sk({"next", "--agent", std::string(64, 'a')}).exit_code, 0) << "64 is allowed";
}

// E10: a copy of a project runs the loop on its own run state.
TEST(FindingsLoop, E10_ACopiedProjectContinuesItsRun) {
    Project p;
    p.finalized_mission(kThreeWps);
    const Json first = p.next("A");
    const fs::path copy = p.tmp / "copy";
    fs::copy(p.root, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    const auto r =
        kitty::test::run_process({tool_path("spec-kitty"), "next", "--agent", "A", "--json"},
                                 {"", copy, {{"HOME", p.home.string()}}});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const Json again = kitty::parse_json(r.out, "stdout");
    EXPECT_EQ(again["run_id"], first["run_id"]);
    EXPECT_EQ(again["wp_id"], first["wp_id"]) << "the copy returns the issued step";
    EXPECT_EQ(again["prompt_file"].get<std::string>().rfind(copy.string(), 0), 0u)
        << "written in the copy";
}

// E11: a mission step issued to one agent is not completed by another's result.
TEST(FindingsLoop, E11_OnlyTheIssuedAgentReportsAMissionStep) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"}});
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "X"});
    do_work(p, claim, "x");
    p.sk_json(
        {"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "X", "--force"});
    p.sk_json({"agent", "action", "review", "WP01", "--agent", "Y"});
    p.sk_json(
        {"agent", "tasks", "move-task", "WP01", "--to", "approved", "--agent", "Y", "--force"});
    Json d = Json::object();
    for (int i = 0; i < 3 && d.value("mission_state", "") != "accept"; ++i) {
        d = p.next("X", "success");
    }
    ASSERT_EQ(d["mission_state"], "accept") << d.dump();
    // Another agent asking is told who runs the step, not handed it too.
    const Json asks = p.next("Y", "", 1);
    EXPECT_EQ(asks["kind"], "blocked") << asks.dump();
    EXPECT_TRUE(asks["action"].is_null());
    EXPECT_EQ(asks["mission_state"], "accept");
    EXPECT_NE(asks["reason"].get<std::string>().find("issued to X"), std::string::npos);
    const Json y = p.next("Y", "success", 1);
    EXPECT_EQ(y["kind"], "blocked");
    EXPECT_NE(y["reason"].get<std::string>().find("issued to X"), std::string::npos);
    EXPECT_EQ(p.next("Y", "failed", 1)["kind"], "blocked");
    const Json x = p.next("X");
    EXPECT_EQ(x["kind"], "step") << "Y's results changed nothing: " << x.dump();
    EXPECT_EQ(x["mission_state"], "accept");
    p.sk_json({"agent", "tasks", "mark-status", "T001", "--status", "done"}); // the accept gate
    EXPECT_EQ(p.next("X", "success")["kind"], "terminal");
}

// E14: the status report picks the mission by the one rule: where you stand, else the one
// open mission.
TEST(FindingsLoop, E14_StatusWithoutAMissionFollowsTheMissionRule) {
    Project p;
    p.finalized_mission(kThreeWps);
    for (const auto& args : {std::vector<std::string>{"status"},
                             std::vector<std::string>{"agent", "tasks", "status"}}) {
        const Json doc = p.sk_json(args);
        EXPECT_EQ(doc["mission_slug"], "001-demo") << doc.dump();
    }
    for (const fs::path& cwd : {p.root, p.root / kMissionDir, p.root / kMissionDir / "tasks"}) {
        const auto r = p.run({tool_path("kitty-status")}, cwd);
        EXPECT_EQ(r.exit_code, 0) << cwd << r.out << r.err;
        EXPECT_EQ(kitty::parse_json(r.out, "out")["mission_slug"], "001-demo");
        const auto dot = p.run({tool_path("kitty-status"), "."}, cwd);
        EXPECT_EQ(dot.exit_code, 0) << cwd << dot.out;
    }
    // A second open mission: the root is ambiguous (exit 4), a mission directory is not.
    p.sk_json({"agent", "mission", "create", "other"});
    const fs::path other = p.root / "kitty-specs/002-other";
    kitty::test::Project::write_mission_files(other, {{"WP01", "x", {}, "code_change", "x/**"}});
    const auto amb = p.run({tool_path("kitty-status")});
    EXPECT_EQ(amb.exit_code, 4) << amb.out;
    EXPECT_EQ(code_of(amb), "AMBIGUOUS_MISSION");
    const auto in_dir = p.run({tool_path("kitty-status")}, p.root / kMissionDir);
    EXPECT_EQ(kitty::parse_json(in_dir.out, "out")["mission_slug"], "001-demo") << in_dir.out;
}

// E15: lanes.json's mission_branch is the mission branch of the lanes and of the merge.
TEST(FindingsLoop, E15_OneMissionBranchRule) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"}});
    edit_lanes(p, [](Json& d) { d["mission_branch"] = "kitty/mission-legacy-name"; });
    approve(p, "WP01");
    EXPECT_TRUE(GitView(p.root).branches().count("kitty/mission-legacy-name"));
    const Json merged = p.sk_json({"merge"});
    EXPECT_TRUE(GitView(p.root).has_file("main", "src/alpha/work.txt")) << merged.dump();
    EXPECT_EQ(p.lanes().at("WP01"), "done");
}

// E02: a move-task killed at any point is finished by its re-run, and no later workflow
// commit is refused because of it (a lock it held is recognised as a dead kitty's).
TEST(FindingsLoop, E02_AKilledMoveIsFinishedByItsRerun) {
    Project p;
    p.finalized_mission(kThreeWps);
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "A"});
    do_work(p, claim, "a");
    p.sk_json({"agent", "tasks", "mark-status", "T001", "--status", "done"});
    std::mt19937 rng(2);
    std::uniform_int_distribution<int> delay_us(2000, 60000);
    int killed_mid_way = 0;
    for (int round = 0; round < 24; ++round) {
        run_and_kill(
            {tool_path("kitty-status"), "move-task", "WP01", "--to", "for_review", "--agent", "A"},
            p.root, p.home, std::chrono::microseconds(delay_us(rng)));
        const bool pending = !GitView(p.root).dirty().empty();
        killed_mid_way += pending;
        const auto rerun =
            p.sk({"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "A"});
        if (rerun.exit_code != 0) {
            EXPECT_EQ(code_of(rerun), "ALREADY_IN_LANE") << rerun.out;
            EXPECT_FALSE(pending) << "a re-run after a kill mid-way finishes the move";
        }
        EXPECT_EQ(GitView(p.root).dirty(), std::vector<std::string>{}) << "round " << round;
        EXPECT_FALSE(fs::exists(p.root / ".git/index.lock"));
        EXPECT_EQ(p.lanes().at("WP01"), "for_review");
        // Back for the next round: a workflow commit that must not be refused.
        p.sk_json({"agent", "tasks", "move-task", "WP01", "--to", "in_progress", "--agent", "A",
                   "--force", "--note", "again"});
    }
    RecordProperty("killed_mid_way", killed_mid_way);
}

// E07: kitty's commits take only kitty's paths and never undo a `git add` made meanwhile.
TEST(FindingsLoop, E07_APersonStagingFilesMeanwhileKeepsThem) {
    const std::string git = kitty::test::find_on_path("git");
    if (git.empty()) {
        GTEST_SKIP() << "git is not installed";
    }
    Project p;
    p.finalized_mission(kThreeWps);
    // A foreign staged file stays staged and out of the claim commit.
    write_fixture(p.root / "staged.txt", "mine\n");
    ASSERT_EQ(p.run({git, "add", "staged.txt"}).exit_code, 0);
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "A"});
    EXPECT_FALSE(GitView(p.root).has_file("main", "staged.txt"));
    EXPECT_NE(p.run({git, "diff", "--cached", "--name-only"}).out.find("staged.txt"),
              std::string::npos);
    // Concurrently: kitty commits tasks.md over and over while files are staged.
    const pid_t kitty = ::fork();
    ASSERT_GE(kitty, 0);
    if (kitty == 0) {
        for (int i = 0; i < 40; ++i) {
            for (const char* status : {"done", "pending"}) {
                kitty::test::run_process(
                    {tool_path("kitty-status"), "mark-status", "T002", "--status", status},
                    {"", p.root, {{"HOME", p.home.string()}}});
            }
        }
        ::_exit(0);
    }
    for (int i = 0; i < 30; ++i) {
        const std::string name = "note-" + std::to_string(i) + ".txt";
        write_fixture(p.root / name, name);
        for (int tries = 0; p.run({git, "add", name}).exit_code != 0 && tries < 200; ++tries) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    int status = 0;
    ::waitpid(kitty, &status, 0);
    const std::string staged = p.run({git, "diff", "--cached", "--name-only"}).out;
    const std::string in_kitty_commits =
        p.run({git, "log", "--name-only", "--format=", "main"}).out;
    for (int i = 0; i < 30; ++i) {
        const std::string name = "note-" + std::to_string(i) + ".txt";
        EXPECT_NE(staged.find(name), std::string::npos) << name << ": the git add was undone";
        EXPECT_EQ(in_kitty_commits.find(name), std::string::npos) << name << " committed by kitty";
    }
}

// E16: cutting a lane leaves out the files of a planning WP another agent is working on.
TEST(FindingsLoop, E16_AnotherAgentsPlanningDraftStaysOutOfANewLane) {
    Project p;
    p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/alpha/**"},
                         {"WP02", "notes", {}, "planning_artifact", "kitty-specs/001-demo/**"}});
    p.sk_json({"agent", "action", "implement", "WP02", "--agent", "X"});
    write_fixture(p.root / kMissionDir / "research-draft.md", "X's half-written draft\n");
    const Json claim = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "Y"});
    GitView git(p.root);
    EXPECT_FALSE(git.has_file("main", "kitty-specs/001-demo/research-draft.md"));
    EXPECT_FALSE(
        git.has_file(claim["branch"].get<std::string>(), "kitty-specs/001-demo/research-draft.md"));
    EXPECT_EQ(slurp(p.root / kMissionDir / "research-draft.md"), "X's half-written draft\n");
}

// The WP files the frontmatter cache has an entry for: the first column of its lines after
// the version line (docs/tools/kitty-next.md).
// The names the frontmatter cache has an entry for; with `by_stat`, only those its stat
// vouches for (the last field, the bytes of a file not yet settled, empty).
std::set<std::string> cached_names(const fs::path& cache, bool by_stat = false) {
    std::set<std::string> names;
    std::istringstream lines(slurp(cache));
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "kitty wp-frontmatter cache 4");
    while (std::getline(lines, line)) {
        if (!by_stat || line.ends_with('\t')) {
            names.insert(line.substr(0, line.find('\t')));
        }
    }
    return names;
}

// Issue 20 §3: the stat-keyed frontmatter cache is derived: a changed WP file is read again
// (a stale entry is never used), a corrupt or deleted cache changes no answer.
TEST(FindingsLoop, TheFrontmatterCacheNeverAnswersForAChangedFile) {
    Project p;
    const fs::path dir = p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/a/**"},
                                              {"WP02", "beta", {}, "code_change", "src/b/**"},
                                              {"WP03", "gamma", {}, "code_change", "src/c/**"}});
    const auto aged = fs::file_time_type::clock::now() - std::chrono::hours(1);
    for (const auto& e : fs::directory_iterator(dir / "tasks")) {
        fs::last_write_time(e.path(), aged);
    }
    p.next("");
    const fs::path cache = p.root / ".kittify/runtime/cache/001-demo/wp-frontmatter.tsv";
    ASSERT_TRUE(fs::exists(cache));
    EXPECT_EQ(cached_names(cache).size(), 3u);
    // WP01 now depends on WP02; its mtime is put back, its size differs.
    const fs::path wp01 = dir / "tasks/WP01-alpha.md";
    const std::string text = slurp(wp01);
    const auto at = text.find("dependencies: []");
    ASSERT_NE(at, std::string::npos);
    write_fixture(wp01, text.substr(0, at) + "dependencies: [WP02]" + text.substr(at + 16));
    fs::last_write_time(wp01, aged);
    EXPECT_EQ(p.next("A")["wp_id"], "WP02") << "WP01 waits for WP02: the cached [] is stale";
    write_fixture(cache, "kitty wp-frontmatter cache 4\nWP01-alpha.md\t%zz\n{not a cache");
    EXPECT_EQ(p.next("B")["wp_id"], "WP03");
    EXPECT_EQ(cached_names(cache).size(), 3u) << "rebuilt";
    fs::remove(cache);
    EXPECT_EQ(p.next("C", "", 1)["kind"], "blocked") << "WP01 still waits for WP02";
}

// The lanes.json cache is derived the same way: a lanes.json changed since is read again,
// and one with errors is reported, never answered from the cache.
TEST(FindingsLoop, TheLanesCacheNeverAnswersForAChangedFile) {
    Project p;
    const fs::path dir = p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/a/**"},
                                              {"WP02", "beta", {}, "code_change", "src/b/**"}});
    const auto aged = fs::file_time_type::clock::now() - std::chrono::hours(1);
    fs::last_write_time(dir / "lanes.json", aged);
    const fs::path cache = p.root / ".kittify/runtime/cache/001-demo/lanes.tsv";
    EXPECT_EQ(p.next("A")["wp_id"], "WP01");
    ASSERT_TRUE(fs::exists(cache));
    const std::string lanes = slurp(dir / "lanes.json");
    write_fixture(dir / "lanes.json", lanes.substr(0, lanes.size() / 2));
    fs::last_write_time(dir / "lanes.json", aged);
    const auto r = p.sk({"next", "--agent", "B"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("INVALID_JSON"), std::string::npos) << r.out;
    write_fixture(dir / "lanes.json", lanes);
    fs::last_write_time(dir / "lanes.json", aged);
    write_fixture(cache, "kitty lanes cache 1\n{not a cache");
    EXPECT_EQ(p.next("B")["wp_id"], "WP02");
    EXPECT_NE(slurp(cache).find("\nend\n"), std::string::npos) << "rebuilt";
}

// The status cache is the digest of a prefix of the event log, named by that prefix's size
// and hash: a log rewritten under it is read whole, and a corrupt cache changes no answer.
TEST(FindingsLoop, TheStatusCacheNeverAnswersForARewrittenLog) {
    Project p;
    const fs::path dir = p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/a/**"},
                                              {"WP02", "beta", {}, "code_change", "src/b/**"}});
    const fs::path log = dir / "status.events.jsonl";
    const fs::path cache = p.root / ".kittify/runtime/cache/001-demo/status.tsv";
    const std::string planned = slurp(log);
    EXPECT_EQ(p.next("A")["wp_id"], "WP01");
    ASSERT_TRUE(fs::exists(cache)) << "written after the log was read whole";
    // A's claim is gone and WP01 was blocked, in as many bytes: the cached digest (WP01
    // planned) is of a log of this size, but not of these bytes.
    std::string rewritten;
    std::istringstream lines(planned);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("\"wp_id\": \"WP01\"") != std::string::npos) {
            const auto at = line.find("\"to_lane\": \"planned\"");
            ASSERT_NE(at, std::string::npos) << line;
            line = line.substr(0, at) + "\"to_lane\": \"blocked\"" + line.substr(at + 20);
        }
        rewritten += line + "\n";
    }
    write_fixture(log, rewritten);
    EXPECT_EQ(p.next("B")["wp_id"], "WP02") << "WP01 is blocked in the log as it is now";
    write_fixture(cache, "kitty status cache 1\n1\t2\t3\n{not a cache");
    const Json again = p.next("C", "", 1);
    EXPECT_EQ(again["kind"], "blocked") << again.dump();
    EXPECT_NE(slurp(cache).find("\nend\n"), std::string::npos) << "rebuilt";
}

// An entry is keyed by stat only for a file unchanged for longer than its timestamps'
// granularity (a change within one tick could keep its stat): 20 ms for nanosecond mtimes,
// 2 s for whole-second ones (a file system that keeps seconds). A file not yet that far in
// the past (here in the future, so the test does not depend on how fast `next` starts) is
// recorded with its bytes, and its entry answers only while the file holds them: an edit
// that keeps the size and the mtime is read.
TEST(FindingsLoop, TheFrontmatterCacheKeysOnlySettledFilesByStat) {
    Project p;
    const fs::path dir = p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/a/**"},
                                              {"WP02", "beta", {}, "code_change", "src/b/**"}});
    const fs::path wp01 = dir / "tasks/WP01-alpha.md";
    const fs::path wp02 = dir / "tasks/WP02-beta.md";
    using std::chrono::milliseconds;
    const auto now = [] { return fs::file_time_type::clock::now(); };
    fs::last_write_time(wp01, now() - std::chrono::hours(1));
    const auto future = now() + std::chrono::seconds(30);
    fs::last_write_time(wp02, future);
    const fs::path cache = p.root / ".kittify/runtime/cache/001-demo/wp-frontmatter.tsv";
    const auto by_stat = [&] { return cached_names(cache, true); };
    p.next("");
    EXPECT_TRUE(by_stat().contains("WP01-alpha.md"));
    EXPECT_FALSE(by_stat().contains("WP02-beta.md")) << "not settled";
    EXPECT_TRUE(cached_names(cache).contains("WP02-beta.md")) << "recorded with its bytes";
    EXPECT_EQ(p.next("A")["wp_id"], "WP01");
    // WP02 now depends on WP01, written in place: same size, same mtime, same inode.
    std::string text = slurp(wp02);
    const auto deps = text.find("dependencies: []");
    const auto body = text.find("Do the beta.");
    ASSERT_NE(deps, std::string::npos);
    ASSERT_NE(body, std::string::npos);
    text.replace(body, 12, "Do beta.");
    text.replace(deps, 16, "dependencies: [WP01]");
    const auto ino = [&] {
        struct stat st {};
        ::stat(wp02.c_str(), &st);
        return st.st_ino;
    };
    const auto before = ino();
    const auto size = fs::file_size(wp02);
    std::ofstream(wp02, std::ios::in | std::ios::out | std::ios::binary)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
    fs::last_write_time(wp02, future);
    ASSERT_EQ(fs::file_size(wp02), size);
    ASSERT_EQ(ino(), before);
    const Json blocked = p.next("B", "", 1);
    EXPECT_EQ(blocked["kind"], "blocked") << "WP02 waits for WP01 now: " << blocked.dump();
    // Half a second ago, with nanoseconds: settled (the 2 s rule would not record it).
    auto half = now() - milliseconds(500);
    if (half.time_since_epoch().count() % 1'000'000'000 == 0) {
        half -= std::chrono::nanoseconds(1);
    }
    fs::last_write_time(wp02, half);
    p.next("");
    EXPECT_TRUE(by_stat().contains("WP02-beta.md")) << "settled after one tick";
    // A whole second less than one second ago waits for the 2 s.
    fs::last_write_time(wp02, std::chrono::floor<std::chrono::seconds>(now()));
    p.next("");
    EXPECT_FALSE(by_stat().contains("WP02-beta.md")) << "a whole-second mtime waits 2 s";
}

// A person's `git add f && git commit -- f` on the main checkout, with git itself; a lock
// held by kitty meanwhile is retried, as the person would.
void person_commits(const Project& p, const std::string& name) {
    write_fixture(p.root / name, name + "\n");
    const kitty::test::ProcessOptions options{"", p.root, {{"HOME", p.home.string()}}};
    for (int attempt = 0; attempt < 500; ++attempt) {
        if (kitty::test::run_process({"/usr/bin/git", "add", name}, options).exit_code == 0 &&
            kitty::test::run_process({"/usr/bin/git", "-c", "user.name=A Person", "-c",
                                      "user.email=person@example.invalid", "commit", "-q", "-m",
                                      "person adds " + name, "--", name},
                                     options)
                    .exit_code == 0) {
            ::_exit(0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::_exit(1);
}

// Issue 21 (found by the scale run with commits on the target): a person committing on the
// main checkout while kitty makes its workflow commits. kitty's commit is built again on the
// new HEAD instead of failing (it exited 75 with "current tip is not the first parent"), and
// nothing of either is lost.
TEST(FindingsLoop, APersonsCommitsOnTheMainCheckoutDoNotFailKittysCommits) {
    Project p;
    const fs::path dir = p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/a/**"}});
    std::vector<pid_t> people;
    for (int i = 0; i < 12; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            person_commits(p, "person-" + std::to_string(i) + ".txt");
        }
        people.push_back(pid);
        const auto r = p.run({tool_path("kitty-status"), "mark-status", "T001", "--status",
                              i % 2 ? "pending" : "done", "--agent", "A"});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    for (const pid_t pid : people) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    // git's partial commit (`git commit -- f`) reads the index before it takes index.lock,
    // so an index update of kitty's in that window is overwritten by git itself, as any
    // concurrent writer's would be. One more hand-off with nobody racing must leave the
    // index at HEAD.
    const auto last = p.run(
        {tool_path("kitty-status"), "mark-status", "T001", "--status", "done", "--agent", "A"});
    EXPECT_EQ(last.exit_code, 0) << last.out << last.err;
    GitView git(p.root);
    for (int i = 0; i < 12; ++i) {
        EXPECT_TRUE(git.has_file("main", "person-" + std::to_string(i) + ".txt")) << i;
    }
    // Every mark-status was committed: the last one (done) is HEAD's tasks.md, and the
    // history holds all thirteen.
    EXPECT_NE(slurp(dir / "tasks.md").find("- [x] T001"), std::string::npos);
    const auto subjects = git.subjects("main");
    EXPECT_EQ(
        std::count_if(subjects.begin(), subjects.end(),
                      [](const std::string& s) { return s.find("T001") != std::string::npos; }),
        13);
    EXPECT_EQ(git.dirty(), std::vector<std::string>{})
        << p.run({"/usr/bin/git", "status", "--short"}).out;
}

// Issue 20 §1: finalize and hand-offs, and hand-offs among themselves, run as real processes
// at once, lose nothing: every activity line and every event of every call is there.
TEST(FindingsLoop, ConcurrentFinalizeAndHandOffsLoseNothing) {
    Project p;
    const fs::path dir = p.finalized_mission({{"WP01", "alpha", {}, "code_change", "src/a/**"},
                                              {"WP02", "beta", {}, "code_change", "src/b/**"}});
    const auto spawn = [&](std::vector<std::string> argv) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            const auto r =
                kitty::test::run_process(argv, {"", p.root, {{"HOME", p.home.string()}}});
            ::_exit(r.exit_code);
        }
        return pid;
    };
    const auto exit_of = [](pid_t pid) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    for (int round = 0; round < 6; ++round) {
        const std::string note = "note " + std::to_string(round);
        const pid_t finalize = spawn({tool_path("spec-kitty"), "agent", "mission", "finalize-tasks",
                                      "--mission", "001-demo", "--json"});
        const pid_t a = spawn({tool_path("kitty-status"), "add-history", "WP01", "--note",
                               note + " a", "--agent", "A"});
        const pid_t b = spawn({tool_path("kitty-status"), "move-task", "WP02", "--to",
                               round % 2 ? "planned" : "blocked", "--agent", "B", "--note",
                               note + " b", "--force"});
        const pid_t c = spawn({tool_path("kitty-status"), "add-history", "WP02", "--note",
                               note + " c", "--agent", "C"});
        EXPECT_EQ(exit_of(finalize), 0) << round;
        EXPECT_EQ(exit_of(a), 0) << round;
        EXPECT_EQ(exit_of(b), 0) << round;
        EXPECT_EQ(exit_of(c), 0) << round;
        const std::string wp01 = slurp(dir / "tasks/WP01-alpha.md");
        const std::string wp02 = slurp(dir / "tasks/WP02-beta.md");
        EXPECT_NE(wp01.find(note + " a"), std::string::npos) << round << wp01;
        EXPECT_NE(wp02.find(note + " b"), std::string::npos) << round << wp02;
        EXPECT_NE(wp02.find(note + " c"), std::string::npos) << round << wp02;
        EXPECT_EQ(p.lanes().at("WP02"), round % 2 ? "planned" : "blocked") << round;
    }
    const std::vector<Json> events = p.events();
    EXPECT_EQ(std::count_if(events.begin(), events.end(),
                            [](const Json& e) { return e["actor"] == "B"; }),
              6);
}

// Issue 20 §1, one error table: every code the sources throw has one exit status, and a code
// docs/exit-codes.md lists under one status is thrown with that status.
TEST(FindingsLoop, EachErrorCodeHasOneExitStatusAndTheDocsSayWhich) {
    const fs::path root = KITTY_SOURCE_DIR;
    const kitty::Regex thrown(R"re(Error\(\s*Exit::(\w+),\s*"([A-Z0-9_]+)")re");
    std::map<std::string, std::set<std::string>> exits;
    for (const fs::path& dir : {root / "common", root / "tools"}) {
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (e.path().extension() != ".cpp" && e.path().extension() != ".hpp") {
                continue;
            }
            const std::string text = slurp(e.path());
            re2::StringPiece input(text);
            std::string exit, code;
            while (RE2::FindAndConsume(&input, thrown, &exit, &code)) {
                exits[code].insert(exit);
            }
        }
    }
    ASSERT_GT(exits.size(), 100u);
    for (const auto& [code, statuses] : exits) {
        EXPECT_EQ(statuses.size(), 1u) << code << " exits with several statuses";
    }
    const std::map<std::string, std::string> names = {
        {"1", "check_failed"}, {"2", "usage"},     {"3", "input"},   {"4", "conflict"},
        {"5", "auth"},         {"70", "internal"}, {"74", "output"}, {"75", "temporary"}};
    const kitty::Regex row(R"(^\| (\d+) \|)"), listed(R"(`([A-Z][A-Z0-9_]+)`)");
    std::map<std::string, std::set<std::string>> rows;
    kitty::for_each_stripped_line(slurp(root / "docs/exit-codes.md"), [&](int, std::string_view l) {
        std::string status, code;
        re2::StringPiece line(l.data(), l.size());
        if (RE2::PartialMatch(line, row, &status)) {
            while (RE2::FindAndConsume(&line, listed, &code)) {
                rows[code].insert(status);
            }
        }
    });
    int checked = 0;
    for (const auto& [code, statuses] : rows) {
        const auto it = exits.find(code);
        if (statuses.size() != 1 || it == exits.end()) {
            continue; // a merge problem listed under its refusal, or no Error of its own
        }
        ++checked;
        EXPECT_EQ(*it->second.begin(), names.at(*statuses.begin()))
            << code << " is documented under exit " << *statuses.begin();
    }
    EXPECT_GT(checked, 40);
}
