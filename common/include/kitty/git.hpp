// Read-only facts about a git repository, through libgit2 (kitty never runs git).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kitty {

// The branch HEAD names in the repository containing `dir` (also for an unborn branch),
// or nullopt when `dir` is not in a repository or HEAD is detached.
std::optional<std::string> current_branch(const std::filesystem::path& dir);

// The repository's common git directory (shared by all its worktrees), or nullopt when
// `dir` is not in a repository.
std::optional<std::filesystem::path> git_common_dir(const std::filesystem::path& dir);

// The top directory of the work tree containing `dir`, or nullopt outside a repository
// (or in a bare one).
std::optional<std::filesystem::path> work_tree_root(const std::filesystem::path& dir);

struct GitTag {
    std::string name;
    std::int64_t commit_time = 0; // of the commit it points to, when asked for
};

// The tags matching a git glob (`*` also matches "/"), sorted by name byte-wise, or nullopt
// outside a repository. Looking up each tag's commit time costs an object read per tag.
std::optional<std::vector<GitTag>> list_tags(const std::filesystem::path& dir,
                                             const std::string& pattern, bool commit_times);

struct BranchProgress {
    int commits_ahead = 0; // HEAD's commits since its merge base with the default branch
    std::int64_t last_commit_time = 0; // HEAD's commit, seconds since the epoch
    int offset_minutes = 0;            // that commit's time zone
};

// What the work tree at `dir` has done since it left the default branch (origin/HEAD, else
// main, master or develop); nullopt when there is no repository, no such branch or no
// merge base.
std::optional<BranchProgress> commits_since_default_branch(const std::filesystem::path& dir);

} // namespace kitty
