#include "kitty/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <fstream>
#include <string>

#include "kitty/error.hpp"
#include "kitty/file_descriptor.hpp"

namespace kitty {
namespace {

// Temporary files of `target` are named <this prefix><6 random characters>.
std::string temporary_prefix(const std::filesystem::path& target) {
    return "." + target.filename().string() + ".kitty-";
}

// Owns a descriptor and, until committed, the temporary file's name, so every failure
// path closes the one and removes the other (git's tempfile.c discipline).
class TempFile {
public:
    TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    TempFile(TempFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
        other.fd_ = -1;
        other.path_.clear();
    }
    TempFile& operator=(TempFile&&) = delete;
    ~TempFile() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        if (!path_.empty()) {
            ::unlink(path_.c_str());
        }
    }
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }
    int close() {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }
    void committed() { path_.clear(); }

private:
    int fd_;
    std::string path_;
};

mode_t default_mode() {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return 0666 & ~mask;
}

void fsync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw system_error(Exit::input, "cannot open directory", dir, errno);
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0 && err != EINVAL) {
        throw system_error(Exit::input, "cannot sync directory", dir, err);
    }
}

// Writes `bytes` to a new temporary file in the target's directory with the target's
// mode (or `mode`), synced when `sync` is set, and closed.
TempFile write_temp(const std::filesystem::path& target, std::string_view bytes,
                    std::optional<mode_t> mode, bool sync) {
    const std::filesystem::path dir =
        target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    mode_t final_mode = 0;
    if (mode) {
        final_mode = *mode;
    } else if (struct stat st{}; ::stat(target.c_str(), &st) == 0) {
        final_mode = st.st_mode & 07777;
    } else {
        final_mode = default_mode();
    }

    std::string name = temporary_prefix(target) + "XXXXXX";
    std::string tmpl = (dir / name).string();
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
        throw system_error(Exit::input, "cannot create a temporary file in", dir, errno);
    }
    TempFile tmp(fd, tmpl);
    if (::fchmod(fd, final_mode) != 0) {
        throw system_error(Exit::input, "cannot set the mode of", tmp.path(), errno);
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw system_error(Exit::input, "cannot write", tmp.path(), errno);
        }
        done += static_cast<std::size_t>(n);
    }
    if (sync && ::fsync(fd) != 0) {
        throw system_error(Exit::input, "cannot sync", tmp.path(), errno);
    }
    if (tmp.close() != 0) {
        throw system_error(Exit::input, "cannot close", tmp.path(), errno);
    }
    return tmp;
}

std::filesystem::path parent_of(const std::filesystem::path& target) {
    return target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
}

} // namespace

PendingFile::PendingFile(std::filesystem::path target, std::string_view bytes,
                         std::optional<mode_t> mode, DeferredSync* later)
    : target_(std::move(target)), later_(later) {
    TempFile tmp = write_temp(target_, bytes, mode, later == nullptr);
    temp_ = tmp.path();
    tmp.committed();
}

PendingFile::~PendingFile() {
    if (!temp_.empty()) {
        ::unlink(temp_.c_str());
    }
}

void PendingFile::replace() {
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        throw system_error(Exit::input, "cannot replace", target_, errno);
    }
    temp_.clear();
    if (later_ != nullptr) {
        later_->add(target_, true);
    } else {
        fsync_directory(parent_of(target_));
    }
}

void write_file_atomic(const std::filesystem::path& target, std::string_view bytes,
                       std::optional<mode_t> mode) {
    PendingFile(target, bytes, mode).replace();
}

void write_derived_file(const std::filesystem::path& target, std::string_view bytes) {
    TempFile tmp = write_temp(target, bytes, std::nullopt, false);
    // Renamed onto no file: ext4 (auto_da_alloc) starts writing a file back to disk when it
    // is renamed over another, which a cache kitty can make again does not need.
    ::unlink(target.c_str());
    if (::rename(tmp.path().c_str(), target.c_str()) != 0) {
        throw system_error(Exit::input, "cannot replace", target, errno);
    }
    tmp.committed();
}

AtomicFileSet::~AtomicFileSet() {
    if (!committed_) {
        abort();
    }
}

void AtomicFileSet::abort() noexcept {
    for (const Staged& s : staged_) {
        ::unlink(s.temp.c_str());
    }
    staged_.clear();
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
        ::rmdir(it->c_str());
    }
    created_dirs_.clear();
}

void AtomicFileSet::stage(const std::filesystem::path& target, std::string_view bytes,
                          std::optional<mode_t> mode) {
    std::vector<std::filesystem::path> missing;
    std::error_code ec;
    for (std::filesystem::path dir = parent_of(target);
         !dir.empty() && !std::filesystem::exists(dir, ec); dir = dir.parent_path()) {
        missing.push_back(dir);
        if (!dir.has_parent_path() || dir.parent_path() == dir) {
            break;
        }
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0777) != 0) {
            throw system_error(Exit::input, "cannot create directory", *it, errno);
        }
        created_dirs_.push_back(*it);
    }
    TempFile tmp = write_temp(target, bytes, mode, false);
    staged_.push_back({target, tmp.path()});
    tmp.committed();
}

void AtomicFileSet::commit() {
    if (staged_.empty()) {
        committed_ = true;
        return;
    }
    const bool sync = durability_ == Durability::synced;
    // One syncfs makes every staged file durable before any of them becomes visible.
    if (sync) {
        const int fd = ::open(staged_.front().temp.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::syncfs(fd) != 0) {
            const int err = errno;
            if (fd >= 0) {
                ::close(fd);
            }
            throw system_error(Exit::input, "cannot sync", staged_.front().temp, err);
        }
        ::close(fd);
    }
    std::vector<std::filesystem::path> dirs;
    for (std::size_t i = 0; i < staged_.size(); ++i) {
        if (::rename(staged_[i].temp.c_str(), staged_[i].target.c_str()) != 0) {
            // Targets already renamed keep their new content; the rest stay as they were.
            const int err = errno;
            staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(i));
            throw system_error(Exit::input, "cannot replace", staged_.front().target, err);
        }
        const std::filesystem::path dir = parent_of(staged_[i].target);
        if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
            dirs.push_back(dir);
        }
    }
    staged_.clear();
    created_dirs_.clear();
    committed_ = true;
    if (sync) {
        for (const std::filesystem::path& dir : dirs) {
            fsync_directory(dir);
        }
    }
}

void remove_stale_temporaries(const std::filesystem::path& target) {
    const std::string prefix = temporary_prefix(target);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(target.parent_path(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() == prefix.size() + 6 && name.starts_with(prefix) &&
            entry.is_regular_file(ec) && !entry.is_symlink(ec)) {
            std::filesystem::remove(entry.path(), ec);
        }
    }
}

bool write_file_atomic_if_changed(const std::filesystem::path& target, std::string_view bytes) {
    std::error_code ec;
    if (std::filesystem::file_size(target, ec) == bytes.size() && !ec) {
        std::ifstream in(target, std::ios::binary);
        std::string current(bytes.size(), '\0');
        if (in.read(current.data(), static_cast<std::streamsize>(current.size())) &&
            current == bytes) {
            return false;
        }
    }
    write_file_atomic(target, bytes);
    return true;
}

} // namespace kitty

namespace kitty {

void append_file(const std::filesystem::path& path, std::string_view bytes, DeferredSync* later) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw system_error(Exit::input, "cannot open", path, errno);
    }
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    const int err = errno;
    const bool written = n == static_cast<ssize_t>(bytes.size());
    const bool synced = written && (later != nullptr || ::fsync(fd) == 0);
    ::close(fd);
    if (!synced) {
        throw system_error(Exit::input, "cannot append to", path, n < 0 ? err : EIO);
    }
    if (later != nullptr) {
        later->add(path, false);
    }
}

DeferredSync::DeferredSync(DeferredSync&& other) noexcept
    : files_(std::move(other.files_)), dirs_(std::move(other.dirs_)) {
    other.files_.clear();
    other.dirs_.clear();
}

DeferredSync& DeferredSync::operator=(DeferredSync&& other) noexcept {
    if (this != &other) {
        try {
            flush();
        } catch (...) {
            // as the destructor: what was left is synced as far as it can be
        }
        files_ = std::move(other.files_);
        dirs_ = std::move(other.dirs_);
        other.files_.clear();
        other.dirs_.clear();
    }
    return *this;
}

DeferredSync::~DeferredSync() {
    try {
        flush();
    } catch (...) {
        // an exception is already on its way, or the owner forgot flush(): nothing to add
    }
}

void DeferredSync::add(const std::filesystem::path& file, bool renamed) {
    if (std::find(files_.begin(), files_.end(), file) == files_.end()) {
        files_.push_back(file);
    }
    const std::filesystem::path dir = parent_of(file);
    if (renamed && std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) {
        dirs_.push_back(dir);
    }
}

void DeferredSync::flush() {
    std::vector<std::filesystem::path> files = std::move(files_);
    std::vector<std::filesystem::path> dirs = std::move(dirs_);
    files_.clear();
    dirs_.clear();
    // Every one is tried; the first failure is reported.
    std::exception_ptr failure;
    for (const std::filesystem::path& file : files) {
        // The path, not our descriptor: a renamed file may since have been replaced by a
        // later writer's, whose sync is its own; ours is then gone.
        const FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        const int rc = fd ? ::fsync(fd.get()) : -1;
        const int err = errno;
        if (rc != 0 && !(!fd && err == ENOENT) && !failure) {
            failure = std::make_exception_ptr(
                system_error(Exit::input, fd ? "cannot sync" : "cannot open", file, err));
        }
    }
    for (const std::filesystem::path& dir : dirs) {
        try {
            fsync_directory(dir);
        } catch (const Error&) {
            if (!failure) {
                failure = std::current_exception();
            }
        }
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

} // namespace kitty

namespace kitty {

bool is_atomic_write_temporary(std::string_view name) {
    const std::string_view marker = ".kitty-";
    const std::size_t at = name.rfind(marker);
    return name.starts_with('.') && at != std::string_view::npos && at > 1 &&
           name.size() == at + marker.size() + 6;
}

} // namespace kitty
