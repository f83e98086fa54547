// Agent liveness (issue 22 §4) through the built binaries: heartbeats, live/idle/stale in
// status, and next handing a stale claim to another agent — recorded as a forced event with
// its reason, refused while the lane worktree holds uncommitted work, and told to the
// previous holder. Time moves with SOURCE_DATE_EPOCH; an agent whose shell has exited is
// simulated by running kitty from `sh -c`, which exits afterwards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "kitty/json.hpp"
#include "kitty/text.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::kThreeWps;
using kitty::test::Project;
using kitty::test::write_fixture;

namespace {

// Later than every event finalize-tasks wrote with the real clock.
const long kT0 = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() +
                 3600;

// spec-kitty at kT0 + minutes, from a shell that exits afterwards (its pid dies with it);
// `expect` -1 takes any exit status.
Json at(const Project& p, long minutes, std::vector<std::string> args, int expect = 0) {
    std::string line = kitty::test::tool_path("spec-kitty");
    for (const std::string& a : args) {
        line += " '" + a + "'";
    }
    line += " --json; exit $?";
    const auto r = kitty::test::run_process(
        {"/bin/sh", "-c", line},
        {"",
         p.root,
         {{"HOME", p.home.string()}, {"SOURCE_DATE_EPOCH", std::to_string(kT0 + minutes * 60)}}});
    if (expect >= 0) {
        EXPECT_EQ(r.exit_code, expect) << line << "\n" << r.out << r.err;
    }
    return kitty::parse_json(r.out, "stdout");
}

Json wp_of(const Json& report, const std::string& id) {
    for (const Json& wp : report["work_packages"]) {
        if (wp["id"] == id) {
            return wp;
        }
    }
    return nullptr;
}

} // namespace

TEST(Liveness, AStaleClaimIsTakenOverCleanlyAndThePreviousHolderIsTold) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.commit("finalized");
    // A claims WP01 and starts it; its shell then exits.
    ASSERT_EQ(at(p, 0, {"next", "--agent", "A", "--mission", "001-demo"})["wp_id"], "WP01");
    const Json claim = at(p, 0, {"agent", "action", "implement", "WP01", "--agent", "A"});
    const fs::path worktree = claim["workspace_path"].get<std::string>();
    EXPECT_TRUE(fs::exists(p.root / ".kittify/runtime/heartbeats/001-demo/A.json"));
    const Json beat = kitty::read_json_file(p.root / ".kittify/runtime/heartbeats/001-demo/A.json");
    EXPECT_EQ(beat["at"], kT0);

    // Ten minutes on, A is idle (no live shell, within the lease); B gets other work.
    Json report = at(p, 10, {"status", "--mission", "001-demo"});
    EXPECT_EQ(wp_of(report, "WP01")["holder"], "A");
    EXPECT_EQ(wp_of(report, "WP01")["liveness"], "idle");
    EXPECT_NE(at(p, 10, {"next", "--agent", "B", "--mission", "001-demo"})["wp_id"], "WP01");

    // 31 minutes on, A's claim is stale: but A left a file in the lane worktree, so nobody
    // takes it, and the reason says why.
    report = at(p, 31, {"status", "--mission", "001-demo"});
    EXPECT_EQ(wp_of(report, "WP01")["liveness"], "stale");
    write_fixture(worktree / "src/alpha/half-done.txt", "A's unfinished work\n");
    const Json refused = at(p, 31, {"next", "--agent", "C", "--mission", "001-demo"}, 0);
    EXPECT_NE(refused["wp_id"], "WP01") << refused;
    const auto events_before = p.events().size();
    if (refused["kind"] == "blocked") {
        EXPECT_NE(refused["reason"].get<std::string>().find("uncommitted"), std::string::npos)
            << refused;
    }
    EXPECT_TRUE(fs::exists(worktree / "src/alpha/half-done.txt")) << "never discarded";
    for (const Json& e : p.events()) {
        EXPECT_FALSE(e["reason"].is_string() &&
                     e["reason"].get<std::string>().starts_with("Taken over"))
            << e;
    }

    // Committed, the claim is taken over: a forced event with its reason, for C.
    kitty::test::git_commit_all(worktree, "A's work, committed by a person");
    const Json taken = at(p, 32, {"next", "--agent", "D", "--mission", "001-demo"});
    EXPECT_EQ(taken["wp_id"], "WP01") << taken;
    EXPECT_EQ(taken["taken_over_from"], "A");
    const auto events = p.events();
    ASSERT_GT(events.size(), events_before);
    const Json& takeover = events.back();
    EXPECT_EQ(takeover["wp_id"], "WP01");
    EXPECT_EQ(takeover["actor"], "D");
    EXPECT_EQ(takeover["from_lane"], "in_progress");
    EXPECT_EQ(takeover["to_lane"], "claimed");
    EXPECT_EQ(takeover["force"], true);
    EXPECT_TRUE(takeover["reason"].get<std::string>().starts_with("Taken over from A: "))
        << takeover;
    // D implements it in the same worktree, where A's committed work is.
    const Json d = at(p, 32, {"agent", "action", "implement", "WP01", "--agent", "D"});
    EXPECT_EQ(d["workspace_path"], worktree.string());
    EXPECT_TRUE(fs::exists(worktree / "src/alpha/half-done.txt"));

    // A's next call is told, once it asks (nothing else is ready for A: blocked, exit 1).
    const Json told = at(p, 33, {"next", "--agent", "A", "--mission", "001-demo"}, 1);
    ASSERT_EQ(told["taken_over"].size(), 1u) << told;
    EXPECT_EQ(told["taken_over"][0]["wp_id"], "WP01");
    EXPECT_EQ(told["taken_over"][0]["by"], "D");
    EXPECT_EQ(told["kind"], "blocked");
    // A's own hand-off of WP01 is refused: it is D's now.
    EXPECT_EQ(at(p, 33,
                 {"agent", "tasks", "move-task", "WP01", "--to", "for_review", "--agent", "A"},
                 1)["code"],
              "AGENT_MISMATCH");
}

TEST(Liveness, TheLeaseComesFromTheProjectConfigAndBadValuesAreClearErrors) {
    Project p;
    p.finalized_mission(kThreeWps);
    const fs::path config = p.root / ".kittify/config.yaml";
    const std::string original = kitty::test::slurp(config);
    write_fixture(config, original + "claim_lease_minutes: 120\n");
    p.commit("a two-hour lease");
    ASSERT_EQ(at(p, 0, {"next", "--agent", "A", "--mission", "001-demo"})["wp_id"], "WP01");
    at(p, 0, {"agent", "action", "implement", "WP01", "--agent", "A"});
    EXPECT_EQ(wp_of(at(p, 61, {"status", "--mission", "001-demo"}), "WP01")["liveness"], "idle");
    EXPECT_EQ(wp_of(at(p, 121, {"status", "--mission", "001-demo"}), "WP01")["liveness"], "stale");
    write_fixture(config, original + "claim_lease_minutes: soon\n");
    const Json bad = at(p, 0, {"status", "--mission", "001-demo"}, 3);
    EXPECT_EQ(bad["code"], "INVALID_CONFIG");
    EXPECT_EQ(bad["path"], config.string());
}

// A 3.1.1 agent writes no heartbeat: the shell_pid of its WP file, unquoted as 3.1.1 writes
// it, is its only sign of life. While that shell lives, its claim is never stale, however
// long ago it was made.
TEST(Liveness, AClaimWhoseWpFileNamesALiveShellIsNotTakenOver) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.commit("finalized");
    ASSERT_EQ(at(p, 0, {"next", "--agent", "A", "--mission", "001-demo"})["wp_id"], "WP01");
    at(p, 0, {"agent", "action", "implement", "WP01", "--agent", "A"});
    fs::remove(p.root / ".kittify/runtime/heartbeats/001-demo/A.json");
    fs::path wp01;
    for (const auto& e : fs::directory_iterator(p.root / "kitty-specs/001-demo/tasks")) {
        if (e.path().filename().string().starts_with("WP01")) {
            wp01 = e.path();
        }
    }
    ASSERT_FALSE(wp01.empty());
    std::string text = kitty::read_file_bytes(wp01);
    const std::string live = "shell_pid: " + std::to_string(::getpid()) + "\n";
    if (const auto at_key = text.find("\nshell_pid:"); at_key != std::string::npos) {
        text.replace(at_key + 1, text.find('\n', at_key + 1) - at_key, live);
    } else {
        text.insert(4, live); // after the opening "---\n"
    }
    write_fixture(wp01, text);

    const Json report = at(p, 90, {"status", "--mission", "001-demo"});
    EXPECT_EQ(wp_of(report, "WP01")["liveness"], "live") << report;
    const Json other = at(p, 90, {"next", "--agent", "B", "--mission", "001-demo"}, -1);
    EXPECT_NE(other["wp_id"], "WP01") << other;
    for (const Json& e : p.events()) {
        EXPECT_FALSE(e["reason"].is_string() &&
                     e["reason"].get<std::string>().starts_with("Taken over"))
            << e;
    }
}
