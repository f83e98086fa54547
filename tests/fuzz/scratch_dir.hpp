// A fuzz target's working directory: made under $TMPDIR on first use and removed with its
// files when the process exits, so replaying seeds in every test run leaves nothing behind.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace kitty::fuzz {

class ScratchDir {
public:
    explicit ScratchDir(const std::string& prefix) {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl =
            (std::filesystem::path(base != nullptr && *base != '\0' ? base : "/tmp") /
             (prefix + "-XXXXXX"))
                .string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed under " + tmpl);
        }
        path_ = tmpl;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace kitty::fuzz
