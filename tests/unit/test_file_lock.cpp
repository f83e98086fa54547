#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/file_lock.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::FileLock;
using kitty::test::TempDir;
using namespace std::chrono_literals;

namespace {

// In a second process: try to take the lock within `timeout`; 0 = got it, 75 = timed out.
int try_lock_in_child(const fs::path& path, std::chrono::milliseconds timeout) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        try {
            FileLock lock = FileLock::acquire(path, timeout);
            ::_exit(0);
        } catch (const kitty::Error& e) {
            ::_exit(static_cast<int>(e.exit()));
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A python3 process that holds fcntl.flock on `path` (as spec-kitty's filelock does)
// for `seconds`, started in the background; returns once it holds the lock.
struct PythonHolder {
    pid_t pid = -1;
    int out = -1; // kept open until wait(): python must not die of a broken pipe
    PythonHolder(const fs::path& path, double seconds) {
        int fds[2];
        if (::pipe(fds) != 0) {
            throw std::runtime_error("pipe");
        }
        pid = ::fork();
        if (pid == 0) {
            ::dup2(fds[1], 1);
            ::close(fds[0]);
            const std::string script = "import fcntl, sys, time\n"
                                       "f = open(sys.argv[1], 'a')\n"
                                       "fcntl.flock(f, fcntl.LOCK_EX)\n"
                                       "print('locked', flush=True)\n"
                                       "time.sleep(float(sys.argv[2]))\n";
            ::execlp("python3", "python3", "-c", script.c_str(), path.c_str(),
                     std::to_string(seconds).c_str(), nullptr);
            ::_exit(127);
        }
        ::close(fds[1]);
        out = fds[0];
        std::string got;
        char buf[16];
        while (got.find('\n') == std::string::npos) {
            const ssize_t n = ::read(out, buf, sizeof buf);
            if (n <= 0) {
                throw std::runtime_error("python3 did not take the lock");
            }
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
    void wait() const {
        int status = 0;
        ::waitpid(pid, &status, 0);
        ::close(out);
    }
};

} // namespace

TEST(FileLock, ExcludesASecondProcessAndLeavesTheFile) {
    TempDir dir;
    const fs::path path = dir / "locks" / "x.lock";
    {
        FileLock lock = FileLock::acquire(path, 1s);
        EXPECT_EQ(try_lock_in_child(path, 150ms), static_cast<int>(kitty::Exit::temporary));
    }
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(try_lock_in_child(path, 150ms), 0);
}

TEST(FileLock, ReentrantWithinAProcess) {
    TempDir dir;
    const fs::path path = dir / "r.lock";
    FileLock outer = FileLock::acquire(path, 1s);
    {
        FileLock inner = FileLock::acquire(path, 100ms); // would time out if not reentrant
        EXPECT_EQ(inner.path(), outer.path());
    }
    // Still held by `outer` after the nested release.
    EXPECT_EQ(try_lock_in_child(path, 100ms), static_cast<int>(kitty::Exit::temporary));
    outer.release();
    EXPECT_EQ(try_lock_in_child(path, 100ms), 0);
}

TEST(FileLock, WaitsForAHolderThatFinishes) {
    TempDir dir;
    const fs::path path = dir / "w.lock";
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t holder = ::fork();
    if (holder == 0) {
        FileLock lock = FileLock::acquire(path, 1s);
        const char byte = 'x';
        [[maybe_unused]] const auto n = ::write(ready[1], &byte, 1);
        ::usleep(400000);
        ::_exit(0);
    }
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1); // the child holds the lock now
    const auto start = std::chrono::steady_clock::now();
    FileLock lock = FileLock::acquire(path, 5s);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
    int status = 0;
    ::waitpid(holder, &status, 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST(FileLock, TimeoutIsExit75WithThePath) {
    TempDir dir;
    const fs::path path = dir / "t.lock";
    PythonHolder python(path, 1.0);
    try {
        FileLock::acquire(path, 120ms);
        FAIL() << "acquired a lock python3 holds";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::temporary);
        EXPECT_EQ(e.code(), "LOCK_TIMEOUT");
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
    }
    python.wait();
    EXPECT_NO_THROW(FileLock::acquire(path, 500ms));
}

TEST(FileLock, PythonFlockCannotTakeALockKittyHolds) {
    TempDir dir;
    const fs::path path = dir / "p.lock";
    const std::string script = "import fcntl, sys\n"
                               "f = open(sys.argv[1], 'a')\n"
                               "try:\n"
                               "    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                               "except BlockingIOError:\n"
                               "    sys.exit(3)\n";
    const std::vector<std::string> argv = {"/usr/bin/env", "python3", "-c", script, path.string()};
    {
        FileLock lock = FileLock::acquire(path, 1s);
        EXPECT_EQ(kitty::test::run_process(argv).exit_code, 3);
    }
    EXPECT_EQ(kitty::test::run_process(argv).exit_code, 0);
}
