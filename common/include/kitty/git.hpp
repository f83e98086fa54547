// Read-only facts about a git repository, through libgit2 (kitty never runs git).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace kitty {

// The branch HEAD names in the repository containing `dir` (also for an unborn branch),
// or nullopt when `dir` is not in a repository or HEAD is detached.
std::optional<std::string> current_branch(const std::filesystem::path& dir);

// The repository's common git directory (shared by all its worktrees), or nullopt when
// `dir` is not in a repository.
std::optional<std::filesystem::path> git_common_dir(const std::filesystem::path& dir);

} // namespace kitty
