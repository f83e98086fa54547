// The event-log merge driver as git runs it: kitty-merge event-log-driver on files, through
// the spec-kitty dispatcher, and inside git's own `git merge` in a project made by
// kitty-init (when git is installed).

#include <cstdlib>
#include <map>

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

// One event line as 3.1.1 writes it (json.dumps(sort_keys=True)).
std::string event(const std::string& id, const std::string& wp, const std::string& to,
                  const std::string& at, const std::string& actor = "claude") {
    return R"({"actor": ")" + actor + R"(", "at": ")" + at + R"(", "event_id": ")" + id +
           R"(", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": )"
           R"("planned", "mission_slug": "001-x", "policy_metadata": null, "reason": null, )"
           R"("review_ref": null, "to_lane": ")" +
           to + R"(", "wp_id": ")" + wp + "\"}\n";
}

const std::string kBase = event("01A", "WP01", "planned", "2026-01-01T00:00:00+00:00");
const std::string kEarly = event("01C", "WP02", "claimed", "2026-01-02T00:00:00+00:00");
const std::string kLate = event("01B", "WP01", "claimed", "2026-01-03T00:00:00+00:00");

ProcessResult driver(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{kitty::test::tool_path("kitty-merge")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {"", cwd, {}});
}

} // namespace

TEST(MergeDriverCli, WritesTheSortedUnionOverOurs) {
    TempDir tmp;
    write_fixture(tmp / "O", kBase);
    write_fixture(tmp / "A", kBase + kLate);
    write_fixture(tmp / "B", kBase + kEarly + "\n");
    auto r = driver({"event-log-driver", "O", "A", "B", "--format", "text"}, tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "") << "git shows what a driver prints";
    EXPECT_EQ(slurp(tmp / "A"), kBase + kEarly + kLate);
    EXPECT_EQ(slurp(tmp / "B"), kBase + kEarly + "\n");

    write_fixture(tmp / "A", kLate);
    r = driver({"event-log-driver", "O", "A", "B"}, tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out), Json::parse(R"({"path": "A", "events": 3})"));
    EXPECT_EQ(slurp(tmp / "A"), kBase + kEarly + kLate) << "a deleted event comes back";

    // The dispatcher's verb, as the config kitty-init sets runs it.
    write_fixture(tmp / "A", kBase + kLate);
    r = run_process({kitty::test::tool_path("spec-kitty"), "merge-driver-event-log", "O", "A", "B"},
                    {"", tmp.path(), {}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(slurp(tmp / "A"), kBase + kEarly + kLate);
}

TEST(MergeDriverCli, ConflictOrBadInputLeavesOursAlone) {
    TempDir tmp;
    write_fixture(tmp / "O", kBase);
    write_fixture(tmp / "A", kBase + kLate);
    write_fixture(tmp / "B",
                  kBase + event("01B", "WP01", "claimed", "2026-01-03T00:00:00+00:00", "other"));
    auto r = driver({"event-log-driver", "O", "A", "B"}, tmp.path());
    EXPECT_EQ(r.exit_code, 1);
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["code"], "EVENT_LOG_CONFLICT");
    EXPECT_EQ(doc["error"], "Conflicting payloads found for event_id '01B'");
    EXPECT_NE(r.err.find("Conflicting payloads found for event_id '01B'"), std::string::npos);
    EXPECT_EQ(slurp(tmp / "A"), kBase + kLate);

    write_fixture(tmp / "B", kBase + "\n{\"at\": \"t\"}\n");
    r = driver({"event-log-driver", "O", "A", "B", "--format", "text"}, tmp.path());
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("B: line 3 is missing a valid event_id"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(tmp / "A"), kBase + kLate);

    EXPECT_EQ(driver({"event-log-driver", "O", "A"}, tmp.path()).exit_code, 2);
}

// git's own merge with the .gitattributes line and the config kitty-init writes: the
// driver runs through the dispatcher on PATH, and two branches that each appended an
// event merge without conflict.
TEST(MergeDriverCli, GitMergeRunsTheDriverKittyInitRegisters) {
    const std::string git = kitty::test::find_on_path("git");
    if (git.empty()) {
        GTEST_SKIP() << "git is not installed: git's own merge cannot be tried";
    }
    TempDir tmp;
    const fs::path home = tmp / "home";
    const fs::path repo = tmp / "repo";
    fs::create_directories(home);
    fs::create_directories(repo);
    const fs::path bin = fs::path(kitty::test::tool_path("spec-kitty")).parent_path();
    const char* path = std::getenv("PATH");
    const std::map<std::string, std::string> env{
        {"HOME", home.string()},
        {"GIT_CONFIG_NOSYSTEM", "1"},
        {"PATH", bin.string() + ":" + (path == nullptr ? "/usr/bin:/bin" : path)},
    };
    const auto run_git = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {git, "-c", "user.name=Ada", "-c",
                                   "user.email=ada@example.invalid", "-c", "commit.gpgsign=false"});
        return run_process(args, {"", repo, env});
    };
    ASSERT_EQ(run_git({"init", "-q", "-b", "main"}).exit_code, 0);
    const ProcessResult init =
        run_process({kitty::test::tool_path("kitty-init"), ".", "--ai", "claude"}, {"", repo, env});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    const std::string log = "kitty-specs/001-x/status.events.jsonl";
    write_fixture(repo / log, kBase);
    ASSERT_EQ(run_git({"add", "-A"}).exit_code, 0);
    ASSERT_EQ(run_git({"commit", "-q", "-m", "mission"}).exit_code, 0);

    ASSERT_EQ(run_git({"checkout", "-q", "-b", "lane-b"}).exit_code, 0);
    write_fixture(repo / log, kBase + kEarly);
    ASSERT_EQ(run_git({"commit", "-q", "-am", "early"}).exit_code, 0);
    ASSERT_EQ(run_git({"checkout", "-q", "main"}).exit_code, 0);
    write_fixture(repo / log, kBase + kLate);
    ASSERT_EQ(run_git({"commit", "-q", "-am", "late"}).exit_code, 0);

    // Without the driver this is a conflict: both append at the end of the file.
    const ProcessResult merge = run_git({"merge", "--no-edit", "lane-b"});
    ASSERT_EQ(merge.exit_code, 0) << merge.out << merge.err;
    EXPECT_EQ(slurp(repo / log), kBase + kEarly + kLate);
    EXPECT_EQ(run_git({"status", "--porcelain"}).out, "");
    EXPECT_EQ(run_git({"show", "HEAD:" + log}).out, kBase + kEarly + kLate);

    // The same event_id with another payload on each side: the driver refuses, git
    // reports the conflict and leaves the file as ours.
    ASSERT_EQ(run_git({"checkout", "-q", "-b", "lane-c"}).exit_code, 0);
    const std::string theirs = event("01D", "WP02", "in_progress", "2026-01-04T00:00:00+00:00");
    write_fixture(repo / log, kBase + kEarly + kLate + theirs);
    ASSERT_EQ(run_git({"commit", "-q", "-am", "c"}).exit_code, 0);
    ASSERT_EQ(run_git({"checkout", "-q", "main"}).exit_code, 0);
    const std::string ours =
        event("01D", "WP02", "in_progress", "2026-01-04T00:00:00+00:00", "someone else");
    write_fixture(repo / log, kBase + kEarly + kLate + ours);
    ASSERT_EQ(run_git({"commit", "-q", "-am", "d"}).exit_code, 0);
    const ProcessResult conflict = run_git({"merge", "--no-edit", "lane-c"});
    EXPECT_NE(conflict.exit_code, 0);
    EXPECT_NE(conflict.err.find("Conflicting payloads found for event_id '01D'"), std::string::npos)
        << conflict.out << conflict.err;
    EXPECT_EQ(run_git({"status", "--porcelain"}).out, "UU " + log + "\n");
    EXPECT_EQ(slurp(repo / log), kBase + kEarly + kLate + ours);
}
