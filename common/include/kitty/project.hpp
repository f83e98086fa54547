// Where a project and its missions are: root discovery and mission selectors.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/json.hpp"

namespace kitty {

// The project root for `start`: SPECIFY_REPO_ROOT when it names a directory holding
// .kittify/, else the nearest ancestor of `start` holding .kittify/ (a git worktree inside
// .worktrees/ resolves to its main checkout). nullopt when there is none.
std::optional<std::filesystem::path> locate_project_root(const std::filesystem::path& start);

// As locate_project_root, but no project is Error(Exit::input, "NO_PROJECT").
std::filesystem::path find_project_root(const std::filesystem::path& start);

// True when `dir` is inside a git worktree of the project (a .worktrees/ path component, or
// a .git file pointing at <repo>.git/worktrees/<name>), where missions must not be created.
bool is_worktree_context(const std::filesystem::path& dir);

// The directory for lock files shared with spec-kitty: <git-common-dir>/spec-kitty-locks,
// or <root>/.kittify/locks when the project is not in a git repository.
std::filesystem::path project_lock_dir(const std::filesystem::path& project_root);

struct MissionRef {
    std::filesystem::path dir;
    std::string dir_name;
    std::optional<std::string> mission_id;
    std::string mission_slug; // meta.json's, empty when it cannot be read
};

// All mission directories under <root>/kitty-specs, sorted by name.
std::vector<MissionRef> list_missions(const std::filesystem::path& project_root);

// Resolves a mission selector: a numbered directory name (079-foo), a slug (foo, or the
// meta.json mission_slug/slug), a mission number (79, 079), a mission_id, or a mission_id prefix of
// at least 8 characters (case-insensitive). No match is Error(Exit::input, "MISSION_NOT_FOUND");
// several are Error(Exit::conflict, "AMBIGUOUS_MISSION") listing the candidates.
MissionRef resolve_mission(const std::filesystem::path& project_root, const std::string& selector);

} // namespace kitty
