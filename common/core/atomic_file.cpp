#include "kitty/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "kitty/error.hpp"

namespace kitty {
namespace {

// Owns a descriptor and, until committed, the temporary file's name, so every failure
// path closes the one and removes the other (git's tempfile.c discipline).
class TempFile {
public:
    TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
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

} // namespace

void write_file_atomic(const std::filesystem::path& target, std::string_view bytes,
                       std::optional<mode_t> mode) {
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

    std::string name = ".";
    name += target.filename().string();
    name += ".kitty-XXXXXX";
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
    if (::fsync(fd) != 0) {
        throw system_error(Exit::input, "cannot sync", tmp.path(), errno);
    }
    if (tmp.close() != 0) {
        throw system_error(Exit::input, "cannot close", tmp.path(), errno);
    }
    if (::rename(tmp.path().c_str(), target.c_str()) != 0) {
        throw system_error(Exit::input, "cannot replace", target, errno);
    }
    tmp.committed();
    fsync_directory(dir);
}

} // namespace kitty
