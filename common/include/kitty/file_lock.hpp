// Advisory inter-process lock with flock(2): the same primitive as Python's
// filelock.UnixFileLock, so kitty and spec-kitty processes exclude each other.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace kitty {

class FileLock {
public:
    static constexpr std::chrono::milliseconds poll_interval{50};
    static constexpr std::chrono::milliseconds wait_forever{-1};

    // Creates the lock file (and its parent directories) if needed and takes an
    // exclusive lock, polling after 1, 2, 4, … ms, then every 50 ms. Within one process the lock is
    // reentrant: a nested acquire of the same path succeeds at once. On timeout:
    // Error(Exit::temporary, "LOCK_TIMEOUT"). The lock file is left in place on release, as
    // filelock does.
    static FileLock acquire(const std::filesystem::path& path,
                            std::chrono::milliseconds timeout = wait_forever);

    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    void release() noexcept;
    const std::string& path() const { return key_; }

private:
    explicit FileLock(std::string key) : key_(std::move(key)) {}
    std::string key_; // normalised absolute path; empty once released
};

} // namespace kitty
