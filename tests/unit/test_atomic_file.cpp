#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include <gtest/gtest.h>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

} // namespace

TEST(AtomicWrite, CreatesAndReplaces) {
    TempDir dir;
    kitty::write_file_atomic(dir / "f.txt", "one");
    EXPECT_EQ(slurp(dir / "f.txt"), "one");
    kitty::write_file_atomic(dir / "f.txt", "two, longer");
    EXPECT_EQ(slurp(dir / "f.txt"), "two, longer");
    kitty::write_file_atomic(dir / "f.txt", "");
    EXPECT_EQ(slurp(dir / "f.txt"), "");
    // Nothing but the target is left in the directory.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicWrite, PreservesModeOrAppliesTheRequestedOne) {
    TempDir dir;
    kitty::write_file_atomic(dir / "secret", "x", 0600);
    EXPECT_EQ(mode_of(dir / "secret"), 0600u);
    ::chmod((dir / "secret").c_str(), 0640);
    kitty::write_file_atomic(dir / "secret", "y");
    EXPECT_EQ(mode_of(dir / "secret"), 0640u);
    const mode_t old = ::umask(022);
    kitty::write_file_atomic(dir / "fresh", "z");
    ::umask(old);
    EXPECT_EQ(mode_of(dir / "fresh"), 0644u);
}

TEST(AtomicWrite, FailureLeavesNothingBehind) {
    TempDir dir;
    try {
        kitty::write_file_atomic(dir / "missing-dir" / "f.txt", "data");
        FAIL() << "no error";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        EXPECT_NE(std::string(e.what()).find("missing-dir"), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(dir / "missing-dir"));
    // Renaming onto a directory fails after the temp file exists: it must be removed.
    fs::create_directory(dir / "target");
    fs::create_directory(dir / "target" / "child");
    EXPECT_THROW(kitty::write_file_atomic(dir / "target", "data"), kitty::Error);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicWrite, SigkillDuringRepeatedWritesNeverTearsTheFile) {
    TempDir dir;
    const fs::path target = dir / "state.json";
    const std::string a(256 * 1024, 'a');
    const std::string b(384 * 1024, 'b');
    kitty::write_file_atomic(target, a);
    std::mt19937 rng(12345);
    int kills = 0;
    for (int round = 0; round < 40; ++round) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            for (unsigned i = 0;; ++i) {
                kitty::write_file_atomic(target, (i % 2) ? a : b);
            }
        }
        ::usleep(1000 + rng() % 20000);
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        kills += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        const std::string now = slurp(target);
        ASSERT_TRUE(now == a || now == b)
            << "torn file after kill " << round << ": " << now.size() << " bytes";
    }
    EXPECT_EQ(kills, 40);
}

// A derived file (a cache) is replaced whole as well, only without the syncs.
TEST(AtomicWrite, DerivedFilesAreReplacedWholeAndFailuresLeaveNothing) {
    TempDir dir;
    kitty::write_derived_file(dir / "cache.json", "{\"a\": 1}\n");
    kitty::write_derived_file(dir / "cache.json", "{}\n");
    EXPECT_EQ(slurp(dir / "cache.json"), "{}\n");
    fs::create_directory(dir / "target");
    fs::create_directory(dir / "target" / "child");
    EXPECT_THROW(kitty::write_derived_file(dir / "target", "data"), kitty::Error);
    EXPECT_THROW(kitty::write_derived_file(dir / "missing" / "f", "data"), kitty::Error);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2)
        << "the file and the directory, no temporary file";
}

// The files of a checkout of the repository's content are replaced whole, unsynced.
TEST(AtomicFileSet, RenameOnlyWritesEveryFileToo) {
    TempDir dir;
    kitty::write_file_atomic(dir / "old.txt", "old\n");
    {
        kitty::AtomicFileSet set(kitty::AtomicFileSet::Durability::rename_only);
        set.stage(dir / "a/new.txt", "new\n");
        set.stage(dir / "old.txt", "replaced\n");
        EXPECT_EQ(slurp(dir / "old.txt"), "old\n");
        set.commit();
    }
    EXPECT_EQ(slurp(dir / "a/new.txt"), "new\n");
    EXPECT_EQ(slurp(dir / "old.txt"), "replaced\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir / "a"), fs::directory_iterator()), 1);
}

TEST(AtomicFileSet, CommitWritesEveryFileAndDirectory) {
    TempDir dir;
    kitty::write_file_atomic(dir / "old.txt", "old\n");
    {
        kitty::AtomicFileSet set;
        set.stage(dir / "a/b/new.txt", "new\n");
        set.stage(dir / "old.txt", "replaced\n");
        // Nothing is visible before commit.
        EXPECT_FALSE(fs::exists(dir / "a/b/new.txt"));
        EXPECT_EQ(slurp(dir / "old.txt"), "old\n");
        set.commit();
    }
    EXPECT_EQ(slurp(dir / "a/b/new.txt"), "new\n");
    EXPECT_EQ(slurp(dir / "old.txt"), "replaced\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir / "a/b"), fs::directory_iterator()), 1);
}

TEST(AtomicFileSet, WithoutCommitNothingChanges) {
    TempDir dir;
    kitty::write_file_atomic(dir / "old.txt", "old\n");
    {
        kitty::AtomicFileSet set;
        set.stage(dir / "x/y/z.txt", "z\n");
        set.stage(dir / "old.txt", "replaced\n");
        write_fixture(dir / "blocker", "a file where a directory is needed\n");
        EXPECT_THROW(set.stage(dir / "blocker/f.txt", "f\n"), kitty::Error);
    }
    std::vector<std::string> left;
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
        left.push_back(fs::relative(e.path(), dir.path()).string());
    }
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"blocker", "old.txt"}));
    EXPECT_EQ(slurp(dir / "old.txt"), "old\n");
}

// Writes whose syncs are left to a DeferredSync are in place at once; flush() syncs what is
// still there, skips what a later writer removed, and names a file it cannot open after
// trying the rest.
TEST(DeferredSync, WritesAreInPlaceBeforeTheFlushAndTheFlushNamesWhatFails) {
    TempDir dir;
    kitty::DeferredSync later;
    kitty::append_file(dir / "log.jsonl", "one\n", &later);
    kitty::append_file(dir / "log.jsonl", "two\n", &later);
    kitty::PendingFile(dir / "status.json", "{}", std::nullopt, &later).replace();
    kitty::PendingFile(dir / "gone.json", "{}", std::nullopt, &later).replace();
    EXPECT_EQ(slurp(dir / "log.jsonl"), "one\ntwo\n");
    EXPECT_EQ(slurp(dir / "status.json"), "{}");
    fs::remove(dir / "gone.json");
    EXPECT_NO_THROW(later.flush());

    kitty::DeferredSync moved;
    kitty::append_file(dir / "log.jsonl", "three\n", &moved);
    kitty::PendingFile(dir / "status.json", "[]", std::nullopt, &moved).replace();
    kitty::DeferredSync owner = std::move(moved);
    fs::remove(dir / "log.jsonl");
    fs::create_symlink(dir / "status.json", dir / "log.jsonl");
    EXPECT_NO_THROW(moved.flush()); // it holds nothing any more
    try {
        owner.flush();
        ADD_FAILURE() << "a link in the synced file's place was followed";
    } catch (const kitty::Error& e) {
        EXPECT_NE(std::string(e.what()).find("log.jsonl"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(owner.flush()); // what failed is not tried again
    EXPECT_EQ(slurp(dir / "status.json"), "[]");
}
