// `spec-kitty doctor` (issue 22 §5) on real projects wedged the ways users report: each
// problem found with its named repair, --fix repairing what is safe (and only that), no
// uncommitted file ever removed, exit 0 healthy and 1 with findings.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "kitty/digest.hpp"
#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::GitView;
using kitty::test::kThreeWps;
using kitty::test::Project;
using kitty::test::slurp;
using kitty::test::write_fixture;

namespace {

std::map<std::string, Json> by_code(const Json& doc) {
    std::map<std::string, Json> out;
    for (const Json& f : doc["findings"]) {
        out.emplace(f["code"].get<std::string>() + " " + f["subject"].get<std::string>(), f);
    }
    return out;
}

// A pid that belonged to a process and no longer does.
pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(0);
    }
    ::waitpid(pid, nullptr, 0);
    return pid;
}

} // namespace

TEST(Doctor, AHealthyProjectIsExit0) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    const Json doc = p.sk_json({"doctor"});
    EXPECT_EQ(doc["healthy"], true);
    EXPECT_EQ(doc["findings"], Json::array()) << doc;
    // 3.1.1's spellings run a part of the checks.
    EXPECT_EQ(p.sk_json({"doctor", "command-files"})["healthy"], true);
    EXPECT_EQ(p.sk_json({"doctor", "state-roots"})["healthy"], true);
    EXPECT_EQ(p.sk({"doctor", "nonsense"}).exit_code, 2);
}

TEST(Doctor, EveryWedgeIsFoundAndFixRepairsOnlyWhatIsSafe) {
    Project p;
    const fs::path dir = p.finalized_mission(kThreeWps);
    const Json a = p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    const Json b = p.sk_json({"agent", "action", "implement", "WP02", "--agent", "codex"});
    const fs::path lane_a = a["workspace_path"].get<std::string>();
    const fs::path lane_b = b["workspace_path"].get<std::string>();

    // lane-a's worktree deleted by hand (its work committed first, as agents do).
    write_fixture(lane_a / "src/alpha/a.txt", "alpha\n");
    kitty::test::git_commit_all(lane_a, "work");
    fs::remove_all(lane_a);
    // lane-b's worktree switched to another branch, with a file the agent has not committed.
    ASSERT_EQ(kitty::test::run_process(
                  {"/usr/bin/git", "-C", lane_b.string(), "switch", "-q", "-c", "experiment"})
                  .exit_code,
              0);
    write_fixture(lane_b / "src/beta/unsaved.txt", "not committed\n");
    // status.json that says something else than the log.
    const std::string status_json = slurp(dir / "status.json");
    write_fixture(dir / "status.json", "{}\n");
    // A merge that stopped.
    write_fixture(p.root / ".kittify/runtime/merge/001-demo/kitty-state.json", "{}\n");
    // The lock of a kitty process killed while it held the index.
    const fs::path git = p.root / ".git";
    write_fixture(git / "index.lock.kitty", std::to_string(dead_pid()) + "\n");
    ::usleep(20000);
    write_fixture(git / "index.lock", "");
    // A rejection's feedback never committed.
    write_fixture(dir / "tasks/WP01-alpha/review-cycle-1.md", "---\nverdict: rejected\n---\n");
    // A command file deleted, another edited.
    const fs::path merge_md = p.root / ".claude/commands/spec-kitty.merge.md";
    const std::string merge_text = slurp(merge_md);
    fs::remove(merge_md);
    write_fixture(p.root / ".claude/commands/spec-kitty.plan.md", "my own plan prompt\n");

    const Json found = p.sk_json({"doctor"}, 1);
    EXPECT_EQ(found["healthy"], false);
    const auto f = by_code(found);
    for (const std::string key :
         {"LANE_WORKTREE_MISSING lane-a", "LANE_WORKTREE_WRONG_BRANCH lane-b",
          "STATUS_JSON_STALE 001-demo", "MERGE_INTERRUPTED 001-demo", "GIT_LOCK_STALE index.lock",
          "REVIEW_CYCLE_UNCOMMITTED 001-demo",
          "COMMAND_FILE_MISSING .claude/commands/spec-kitty.merge.md",
          "COMMAND_FILE_EDITED .claude/commands/spec-kitty.plan.md"}) {
        ASSERT_TRUE(f.count(key)) << key << " not found in " << found.dump(2);
        EXPECT_FALSE(f.at(key)["repair"].get<std::string>().empty()) << key;
        EXPECT_EQ(f.at(key)["fixed"], false) << key;
        EXPECT_EQ(f.at(key)["repair"].get<std::string>().find("stash"), std::string::npos);
    }
    EXPECT_EQ(found["findings"].size(), 8u) << found.dump(2);
    EXPECT_EQ(f.at("COMMAND_FILE_EDITED .claude/commands/spec-kitty.plan.md")["severity"], "note");
    EXPECT_TRUE(fs::exists(git / "index.lock")) << "without --fix nothing is repaired";

    const Json fixed = p.sk_json({"doctor", "--fix"}, 1);
    const auto x = by_code(fixed);
    for (const std::string key : {"LANE_WORKTREE_MISSING lane-a", "STATUS_JSON_STALE 001-demo",
                                  "GIT_LOCK_STALE index.lock", "REVIEW_CYCLE_UNCOMMITTED 001-demo",
                                  "COMMAND_FILE_MISSING .claude/commands/spec-kitty.merge.md"}) {
        ASSERT_TRUE(x.count(key)) << key << fixed.dump(2);
        EXPECT_EQ(x.at(key)["fixed"], true) << key;
    }
    for (const std::string key : {"LANE_WORKTREE_WRONG_BRANCH lane-b", "MERGE_INTERRUPTED 001-demo",
                                  "COMMAND_FILE_EDITED .claude/commands/spec-kitty.plan.md"}) {
        EXPECT_EQ(x.at(key)["fixed"], false) << key;
    }
    // What the fixes did, read independently.
    EXPECT_EQ(slurp(lane_a / "src/alpha/a.txt"), "alpha\n") << "the lane's work checked out";
    GitView repo(p.root);
    EXPECT_TRUE(repo.worktrees().count("001-demo-lane-a")) << "lane-a checked out again";
    EXPECT_FALSE(fs::exists(git / "index.lock"));
    EXPECT_FALSE(fs::exists(git / "index.lock.kitty"));
    EXPECT_EQ(kitty::parse_json(slurp(dir / "status.json"), "status.json")["work_packages"],
              kitty::parse_json(status_json, "before")["work_packages"]);
    EXPECT_TRUE(repo.has_file("main", "kitty-specs/001-demo/tasks/WP01-alpha/review-cycle-1.md"));
    EXPECT_EQ(slurp(merge_md), merge_text) << "kitty's own text back";
    // Nothing of the user's was touched.
    EXPECT_EQ(slurp(lane_b / "src/beta/unsaved.txt"), "not committed\n");
    EXPECT_EQ(slurp(p.root / ".claude/commands/spec-kitty.plan.md"), "my own plan prompt\n");
    EXPECT_TRUE(fs::exists(p.root / ".kittify/runtime/merge/001-demo/kitty-state.json"));

    // Only what --fix cannot repair is left.
    const auto left = by_code(p.sk_json({"doctor"}, 1));
    EXPECT_EQ(left.size(), 3u);
    EXPECT_TRUE(left.count("LANE_WORKTREE_WRONG_BRANCH lane-b"));
    EXPECT_TRUE(left.count("MERGE_INTERRUPTED 001-demo"));
}

TEST(Doctor, StaleClaimsDeletedBranchesAndANewerKittyAreReported) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.sk_json({"agent", "action", "implement", "WP01", "--agent", "claude"});
    // Two hours on, claude shows no sign of life (its shell was this test, so it is live:
    // the claim's shell_pid is replaced by a dead one).
    const fs::path wp01 = p.root / "kitty-specs/001-demo/tasks/WP01-alpha.md";
    std::string text = slurp(wp01);
    const auto at = text.find("shell_pid: ");
    if (at != std::string::npos) {
        text.replace(at, text.find('\n', at) - at,
                     "shell_pid: \"" + std::to_string(dead_pid()) + "\"");
    }
    write_fixture(wp01, text);
    fs::remove_all(p.root / ".kittify/runtime/heartbeats");
    const long later = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       2 * 3600;
    const auto r = kitty::test::run_process(
        {kitty::test::tool_path("kitty-doctor"), "--format", "json"},
        {"", p.root, {{"HOME", p.home.string()}, {"SOURCE_DATE_EPOCH", std::to_string(later)}}});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const auto f = by_code(kitty::parse_json(r.out, "doctor"));
    ASSERT_TRUE(f.count("STALE_CLAIM WP01")) << r.out;
    EXPECT_NE(f.at("STALE_CLAIM WP01")["repair"].get<std::string>().find("spec-kitty next"),
              std::string::npos);

    // The lane branch deleted under an in-progress WP, its worktree gone too.
    GitView repo(p.root);
    const fs::path worktree = p.root / ".worktrees/001-demo-lane-a";
    ASSERT_EQ(kitty::test::run_process({"/usr/bin/git", "-C", p.root.string(), "worktree", "remove",
                                        "--force", worktree.string()})
                  .exit_code,
              0);
    ASSERT_EQ(kitty::test::run_process({"/usr/bin/git", "-C", p.root.string(), "branch", "-D",
                                        "kitty/mission-001-demo-lane-a"})
                  .exit_code,
              0);
    Json manifest = kitty::read_json_file(p.root / ".kittify/manifest.json");
    manifest["kitty_version"] = "99.0.0";
    write_fixture(p.root / ".kittify/manifest.json", manifest.dump(2));
    const auto g = by_code(p.sk_json({"doctor", "--fix"}, 1));
    ASSERT_TRUE(g.count("LANE_BRANCH_DELETED lane-a"));
    EXPECT_EQ(g.at("LANE_BRANCH_DELETED lane-a")["fixable"], false);
    EXPECT_NE(
        g.at("LANE_BRANCH_DELETED lane-a")["repair"].get<std::string>().find("move-task WP01"),
        std::string::npos);
    ASSERT_TRUE(g.count("KITTIFY_NEWER .kittify"));
    EXPECT_EQ(g.at("KITTIFY_NEWER .kittify")["fixed"], false);
}
