// Test support: real child processes and scratch directories.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kitty::test {

struct ProcessResult {
    int exit_code = -1; // the exit status, or 128 + signal number
    std::string out;
    std::string err;
};

struct ProcessOptions {
    std::string input;                      // written to the child's stdin
    std::filesystem::path cwd;              // empty: inherit
    std::map<std::string, std::string> env; // set in the child (empty value: unset)
    bool stdin_tty = false;                 // stdin is a pseudo-terminal `input` is typed into
    std::filesystem::path stdout_file = {}; // stdout goes to this file instead (out stays empty)
};

// Runs argv[0] (a path) with argv, capturing stdout and stderr.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// A built binary: $KITTY_BIN_DIR/<name> (set by meson for the test suites).
std::string tool_path(const std::string& name);

// The executable `name` found on $PATH, or empty when there is none.
std::string find_on_path(const std::string& name);

// The shared corpus folder ($KITTY_SHARED_DIR), or empty when it is not there.
std::filesystem::path shared_dir();

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

private:
    std::filesystem::path path_;
};

// Writes a file, creating parent directories (test fixtures; not atomic on purpose).
void write_fixture(const std::filesystem::path& path, const std::string& content);
std::string slurp(const std::filesystem::path& path);

// YAML for a WP frontmatter whose anchors and aliases stand for 9^10 nodes (a "billion
// laughs" document, adversarial finding D01), without the --- delimiters.
std::string yaml_alias_bomb();

// Every concatenation of `pieces` (the empty one first), each extended while it is shorter
// than `below` bytes: the texts an exhaustive test checks a hand-written matcher on.
std::vector<std::string> every_text(const std::vector<std::string>& pieces, std::size_t below);

// A directory holding .kittify/, i.e. a minimal kitty project.
void make_project(const std::filesystem::path& root);

// A git repository at `dir` whose HEAD names `branch` (unborn), made with libgit2.
void make_git_repo(const std::filesystem::path& dir, const std::string& branch = "main");

// Stages every file of the work tree and commits it on HEAD at `when` (seconds since the
// epoch), with libgit2; returns the commit id. A merge in progress is concluded, as `git
// commit` concludes it (MERGE_HEAD the second parent).
std::string git_commit_all(const std::filesystem::path& dir, const std::string& message,
                           std::int64_t when = 1767225600);

// A lightweight tag `name` on HEAD (libgit2).
void git_tag(const std::filesystem::path& dir, const std::string& name);

} // namespace kitty::test
