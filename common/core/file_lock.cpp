#include "kitty/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
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
};

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
    const auto deadline = std::chrono::steady_clock::now() + timeout;
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
        std::this_thread::sleep_for(poll_interval);
    }
    std::lock_guard guard(registry_mutex());
    registry()[key] = Held{fd, 1, ::getpid()};
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
        ::flock(it->second.fd, LOCK_UN);
        ::close(it->second.fd);
        registry().erase(it);
    }
    key_.clear();
}

} // namespace kitty
