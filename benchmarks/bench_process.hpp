// Whole-process timings: a child started with posix_spawn, its output discarded; and the
// setup helpers of the fixtures.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace kitty::bench {

// Runs argv (argv[0] a path, or a name looked up on PATH) in `cwd` (empty: here) with
// stdout and stderr discarded, and returns its exit status (-1 when it did not exit
// normally).
inline int run_quietly(std::vector<std::string> args, const std::filesystem::path& cwd = {}) {
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (!cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    }
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot spawn " + args[0]);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Setup steps must work, or every figure after them is meaningless.
inline void must(const std::vector<std::string>& args, const std::filesystem::path& cwd) {
    if (run_quietly(args, cwd) != 0) {
        std::string line;
        for (const auto& a : args) {
            line += a + " ";
        }
        throw std::runtime_error("setup failed: " + line + "(in " + cwd.string() + ")");
    }
}

// Writes a fixture file, creating its directory.
inline void write(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

#ifdef KITTY_BIN_DIR
inline std::string tool(const std::string& name) {
    return std::string(KITTY_BIN_DIR) + "/" + name;
}

// A new temporary directory (returned) holding `project/`: a kitty project (kitty-init) in a
// git repository on `main` whose identity kitty's libgit2 commits use.
inline std::filesystem::path make_git_project(const std::string& prefix) {
    std::string base = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(base.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    const std::filesystem::path root = std::filesystem::path(base) / "project";
    must({tool("kitty-init"), root.string(), "--ai", "claude", "--non-interactive"}, base);
    must({"git", "init", "-q", "-b", "main"}, root);
    must({"git", "config", "user.name", "Bench"}, root);
    must({"git", "config", "user.email", "bench@kitty.invalid"}, root);
    must({"git", "config", "commit.gpgsign", "false"}, root);
    return base;
}
#endif

} // namespace kitty::bench
