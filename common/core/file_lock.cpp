#include "kitty/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "kitty/error.hpp"

namespace kitty {
namespace {

struct Held {
    int fd = -1;
    int depth = 0;
    pid_t owner = 0; // a forked child inherits the map but not the right to skip flock
    std::chrono::steady_clock::time_point asked, taken;
};

// KITTY_LOCK_TRACE=FILE appends "<lock>\t<wait µs>\t<hold µs>" per lock taken (the scale
// benchmark's lock figures). One write(2) with O_APPEND, so concurrent processes' lines
// never interleave.
void trace(const std::string& key, const Held& held) {
    const char* file = std::getenv("KITTY_LOCK_TRACE");
    if (file == nullptr || *file == '\0') {
        return;
    }
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    const auto now = std::chrono::steady_clock::now();
    const std::string line =
        key + "\t" + std::to_string(duration_cast<microseconds>(held.taken - held.asked).count()) +
        "\t" + std::to_string(duration_cast<microseconds>(now - held.taken).count()) + "\n";
    const int fd = ::open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        [[maybe_unused]] const auto written = ::write(fd, line.data(), line.size());
        ::close(fd);
    }
}

// Locks this process holds, by normalised path: a nested acquire of the same path bumps
// the depth instead of deadlocking on our own flock.
std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}
std::map<std::string, Held>& registry() {
    static std::map<std::string, Held> held;
    return held;
}

std::string normalise(const std::filesystem::path& path) {
    return std::filesystem::absolute(path).lexically_normal().string();
}

} // namespace

FileLock FileLock::acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    const std::string key = normalise(path);
    {
        std::lock_guard guard(registry_mutex());
        auto it = registry().find(key);
        if (it != registry().end() && it->second.owner == ::getpid()) {
            ++it->second.depth;
            return FileLock(key);
        }
        if (it != registry().end()) {
            // Inherited across fork: close our copy of the descriptor without unlocking,
            // which would release the parent's lock, and lock afresh below.
            ::close(it->second.fd);
            registry().erase(it);
        }
    }

    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(key).parent_path(), ec);
    if (ec) {
        throw system_error(Exit::input, "cannot create the lock directory for", key, ec.value());
    }
    const int fd = ::open(key.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        throw system_error(Exit::input, "cannot open lock file", key, errno);
    }
    const auto asked = std::chrono::steady_clock::now();
    const auto deadline = asked + timeout;
    // Short waits first: a hand-off holds the lock for milliseconds, so a fixed 50 ms poll
    // would make every contended call wait far longer than the holder needed.
    std::chrono::milliseconds pause{1};
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            const int err = errno;
            ::close(fd);
            throw system_error(Exit::input, "cannot lock", key, err);
        }
        if (timeout >= std::chrono::milliseconds::zero() &&
            std::chrono::steady_clock::now() >= deadline) {
            ::close(fd);
            throw Error(Exit::temporary, "LOCK_TIMEOUT",
                        "timed out after " + std::to_string(timeout.count()) +
                            " ms waiting for lock " + key,
                        "another kitty or spec-kitty process holds it; retry when it has finished")
                .at(key);
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, poll_interval);
    }
    std::lock_guard guard(registry_mutex());
    registry()[key] = Held{fd, 1, ::getpid(), asked, std::chrono::steady_clock::now()};
    return FileLock(key);
}

FileLock::FileLock(FileLock&& other) noexcept : key_(std::move(other.key_)) {
    other.key_.clear();
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        release();
        key_ = std::move(other.key_);
        other.key_.clear();
    }
    return *this;
}

FileLock::~FileLock() {
    release();
}

void FileLock::release() noexcept {
    if (key_.empty()) {
        return;
    }
    std::lock_guard guard(registry_mutex());
    auto it = registry().find(key_);
    if (it != registry().end() && it->second.owner == ::getpid() && --it->second.depth == 0) {
        trace(key_, it->second);
        ::flock(it->second.fd, LOCK_UN);
        ::close(it->second.fd);
        registry().erase(it);
    }
    key_.clear();
}

} // namespace kitty
