// kitty-status as users run it: bootstrap, moves and the report on a real project, and
// concurrent moves from real processes under the shared status lock.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <git2.h>

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

// Mission 001-demo with `wps` WPs in the project at `root`.
void write_mission(const fs::path& root, int wps) {
    const fs::path mission = root / "kitty-specs/001-demo";
    write_fixture(mission / "meta.json",
                  "{\"mission_number\": \"001\", \"mission_slug\": \"001-demo\", \"slug\": "
                  "\"001-demo\", \"mission_type\": \"software-dev\", \"mission_id\": "
                  "\"01KN2371WVZGM3C5Y7Y3AV5G6W\"}\n");
    std::string tasks = "# Tasks\n";
    for (int i = 1; i <= wps; ++i) {
        tasks += "\n## Work Package " + std::string(i < 10 ? "WP0" : "WP") + std::to_string(i) +
                 ": Task\n";
    }
    write_fixture(mission / "tasks.md", tasks);
    for (int i = 1; i <= wps; ++i) {
        const std::string id = (i < 10 ? "WP0" : "WP") + std::to_string(i);
        write_fixture(mission / "tasks" / (id + "-x.md"),
                      "---\nwork_package_id: " + id + "\ntitle: Task " + id +
                          "\nexecution_mode: code_change\nowned_files:\n- src/" + id +
                          "/**\n---\n");
    }
}

ProcessResult run_status(std::vector<std::string> args, const fs::path& cwd) {
    args.insert(args.begin(), kitty::test::tool_path("kitty-status"));
    return run_process(args, {"", cwd, {}});
}

struct Project {
    TempDir tmp;
    fs::path root = tmp.path();
    fs::path mission = root / "kitty-specs/001-demo";

    explicit Project(int wps = 3) {
        kitty::test::make_project(root);
        kitty::test::make_git_repo(root);
        write_mission(root, wps);
    }

    ProcessResult status(std::vector<std::string> args) const {
        return run_status(std::move(args), root);
    }
};

} // namespace

TEST(StatusCli, BootstrapMoveReport) {
    Project p;
    auto r = p.status({"bootstrap", "001-demo"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["bootstrapped"], Json({"WP01", "WP02", "WP03"}));
    EXPECT_EQ(Json::parse(p.status({"bootstrap", "001-demo"}).out)["bootstrapped"], Json::array());

    r = p.status({"001-demo"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["mission_id"], "01KN2371WVZGM3C5Y7Y3AV5G6W");
    EXPECT_EQ(doc["total_wps"], 3);
    EXPECT_EQ(doc["by_lane"], Json({{"planned", 3}}));
    EXPECT_EQ(doc["progress_percentage"].dump(), "0.0");
    EXPECT_EQ(doc["auto_commit"], true);
    EXPECT_EQ(doc["work_packages"][0]["workspace_kind"], "unknown"); // no lanes.json yet

    ASSERT_EQ(p.status({"move", "001-demo", "WP01", "--to", "claimed", "--actor", "ann"}).exit_code,
              0);
    ASSERT_EQ(p.status({"move", "001-demo", "WP01", "--to", "doing"}).exit_code, 0);
    r = p.status({"move", "001-demo", "WP01", "--to", "done"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(Json::parse(r.out)["error"], "Illegal transition: in_progress -> done");
    EXPECT_EQ(p.status({"move", "001-demo", "WP01", "--to", "done", "--force"}).exit_code, 2);
    EXPECT_EQ(p.status({"move", "001-demo", "WP09", "--to", "claimed"}).exit_code, 3);
    EXPECT_EQ(p.status({"move", "001-demo", "WP01", "--to", "nowhere"}).exit_code, 2);
    r = p.status({"move", "001-demo", "WP01", "--to", "done", "--force", "--actor", "lead",
                  "--reason", "merged by hand"});
    ASSERT_EQ(r.exit_code, 0) << r.out;

    doc = Json::parse(p.status({"001-demo"}).out);
    EXPECT_EQ(doc["by_lane"], Json({{"done", 1}, {"planned", 2}}));
    EXPECT_EQ(doc["progress_percentage"].dump(), "33.3");
    const Json snapshot = Json::parse(slurp(p.mission / "status.json"));
    EXPECT_EQ(snapshot["event_count"], 6);
    EXPECT_EQ(snapshot["work_packages"]["WP01"]["force_count"], 2);
    EXPECT_EQ(snapshot["work_packages"]["WP01"]["actor"], "lead");
    EXPECT_TRUE(fs::exists(p.root / ".git/spec-kitty-locks/001-demo.status.lock"));
}

// Real processes moving at once: the status lock serialises them and no event is lost.
TEST(StatusCli, ConcurrentMovesLoseNothing) {
    constexpr int kWps = 12;
    Project p(kWps);
    ASSERT_EQ(p.status({"bootstrap", "001-demo"}).exit_code, 0);
    std::vector<std::thread> threads;
    std::vector<int> codes(kWps);
    for (int i = 1; i <= kWps; ++i) {
        threads.emplace_back([&, i] {
            const std::string id = (i < 10 ? "WP0" : "WP") + std::to_string(i);
            codes[i - 1] = p.status({"move", "001-demo", id, "--to", "claimed"}).exit_code;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int c : codes) {
        EXPECT_EQ(c, 0);
    }
    const std::string log = slurp(p.mission / "status.events.jsonl");
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2 * kWps);
    const Json snapshot = Json::parse(slurp(p.mission / "status.json"));
    EXPECT_EQ(snapshot["summary"]["claimed"], kWps);
    EXPECT_EQ(snapshot["event_count"], 2 * kWps);
}

// A corrupt log line hides the history in 3.1.1; kitty shows the same report but warns.
TEST(StatusCli, CorruptLogIsAWarning) {
    Project p;
    write_fixture(p.mission / "status.events.jsonl", "{not json\n");
    const auto r = p.status({"001-demo"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(Json::parse(r.out)["by_lane"], Json({{"planned", 3}}));
    EXPECT_NE(r.err.find("warning: "), std::string::npos);
    EXPECT_NE(r.err.find("line 1"), std::string::npos);
}

// An in-progress WP whose worktree has commits since the default branch is stale once the
// last one is older than the threshold (3.1.1's stale detection, read with libgit2).
TEST(StatusCli, StaleDetectionInAWorktree) {
    Project p;
    ASSERT_EQ(run_process(
                  {kitty::test::tool_path("kitty-lanes"), "compute", p.mission.string(), "--write"})
                  .exit_code,
              0);
    const fs::path tree = p.root / ".worktrees/001-demo-lane-a";
    kitty::test::make_git_repo(tree, "main");
    write_fixture(tree / "a.txt", "base\n");
    kitty::test::git_commit_all(tree, "base", 1700000000);
    git_libgit2_init();
    git_repository* repo = nullptr;
    ASSERT_EQ(git_repository_open(&repo, tree.c_str()), 0);
    git_oid base;
    ASSERT_EQ(git_reference_name_to_id(&base, repo, "HEAD"), 0);
    git_reference* lane = nullptr;
    ASSERT_EQ(git_reference_create(&lane, repo, "refs/heads/lane", &base, 0, nullptr), 0);
    git_reference_free(lane);
    ASSERT_EQ(git_repository_set_head(repo, "refs/heads/lane"), 0);
    git_repository_free(repo);
    git_libgit2_shutdown();
    write_fixture(tree / "b.txt", "work\n");
    kitty::test::git_commit_all(tree, "work", 1700000600);

    ASSERT_EQ(p.status({"bootstrap", "001-demo"}).exit_code, 0);
    ASSERT_EQ(p.status({"move", "001-demo", "WP01", "--to", "claimed"}).exit_code, 0);
    ASSERT_EQ(p.status({"move", "001-demo", "WP01", "--to", "in_progress"}).exit_code, 0);
    Json doc = Json::parse(p.status({"001-demo"}).out);
    const Json wp = doc["work_packages"][0];
    EXPECT_EQ(wp["workspace_kind"], "lane_workspace");
    EXPECT_EQ(wp["stale"]["status"], "stale");
    EXPECT_EQ(wp["stale"]["last_commit_time"], "2023-11-14T22:23:20+00:00");
    EXPECT_GT(wp["minutes_since_commit"].get<double>(), 1000.0);
    EXPECT_EQ(wp["is_stale"], true);
    EXPECT_EQ(wp["worktree_exists"], true);
    EXPECT_EQ(doc["stale_wps"], 1);
    doc = Json::parse(p.status({"001-demo", "--stale-threshold", "1e12"}).out);
    EXPECT_EQ(doc["work_packages"][0]["stale"]["status"], "fresh");
    EXPECT_EQ(doc["stale_wps"], 0);
}

// D02: an evidence value nested 100,000 deep crashed the recursive dump (SIGSEGV). It is an
// unreadable line now: a warning for the report, exit 3 for a move, which appends nothing.
TEST(StatusCli, DeeplyNestedEventIsAnUnreadableLine) {
    Project p;
    ASSERT_EQ(p.status({"bootstrap", "001-demo"}).exit_code, 0);
    std::string log = slurp(p.mission / "status.events.jsonl");
    std::string line = log.substr(0, log.find('\n'));
    line.replace(line.find("\"evidence\": null"), 16,
                 "\"evidence\": " + std::string(100000, '[') + std::string(100000, ']'));
    log += line + "\n";
    write_fixture(p.mission / "status.events.jsonl", log);
    auto r = p.status({"001-demo"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("line 4"), std::string::npos) << r.err;
    r = p.status({"move", "001-demo", "WP02", "--to", "claimed", "--actor", "a"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "INVALID_EVENT_LOG");
    EXPECT_EQ(slurp(p.mission / "status.events.jsonl"), log);
}

// D03: a number out of range in one mission's meta.json was exit 70 for every selector of
// the project. That meta.json only hides its own mission's id.
TEST(StatusCli, OneBadMetaJsonLeavesOtherMissionsSelectable) {
    Project p;
    fs::copy(p.mission, p.root / "kitty-specs/002-other", fs::copy_options::recursive);
    write_fixture(p.root / "kitty-specs/002-other/meta.json",
                  "{\"mission_slug\": \"002-other\", \"x\": 1e400}\n");
    const auto r = p.status({"demo"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["mission_slug"], "001-demo");
    const auto bad = p.status({"other"});
    EXPECT_EQ(bad.exit_code, 3) << bad.err;
    EXPECT_EQ(Json::parse(bad.out)["code"], "INVALID_JSON");
}

// D11: on a full disk the event was appended, then status.json failed: exit 3 although
// the move had happened, and a retry appended it twice. status.json is now written before
// the append, so the failure leaves the log as it was. Needs root for a small tmpfs.
TEST(StatusCli, FullDiskFailsTheMoveBeforeTheAppend) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to mount a small tmpfs";
    }
    TempDir tmp;
    const fs::path disk = tmp / "disk";
    fs::create_directories(disk);
    if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=256k") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    }
    struct Unmount {
        fs::path dir;
        ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
    } unmount{disk};
    const fs::path root = disk / "p";
    const fs::path mission = root / "kitty-specs/001-demo";
    kitty::test::make_project(root);
    write_mission(root, 2);
    ASSERT_EQ(run_status({"bootstrap", "001-demo"}, root).exit_code, 0);
    const std::string log = slurp(mission / "status.events.jsonl");
    const std::string snapshot = slurp(mission / "status.json");

    {
        // Every free block taken; the log's last block still has room for a line.
        const int fd = ::open((disk / "fill").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_GE(fd, 0);
        const std::string block(4096, 'x');
        while (::write(fd, block.data(), block.size()) > 0) {
        }
        while (::write(fd, "x", 1) > 0) {
        }
        ::close(fd);
    }
    auto r = run_status({"move", "001-demo", "WP01", "--to", "claimed", "--actor", "a"}, root);
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_EQ(slurp(mission / "status.events.jsonl"), log) << "the failed move was appended";
    EXPECT_EQ(slurp(mission / "status.json"), snapshot);

    fs::remove(disk / "fill");
    r = run_status({"move", "001-demo", "WP01", "--to", "claimed", "--actor", "a"}, root);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string after = slurp(mission / "status.events.jsonl");
    EXPECT_EQ(std::count(after.begin(), after.end(), '\n'), 3);
    EXPECT_EQ(Json::parse(slurp(mission / "status.json"))["work_packages"]["WP01"]["lane"],
              "claimed");
}
