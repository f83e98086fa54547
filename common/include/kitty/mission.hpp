// The mission handle: every command opens the mission it works on once, through here. It
// owns the project root policy, the mission's paths, its identity, the status lock, the
// worktree naming rule, the git repository, and the one check that a path taken from input
// stays inside the project.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "kitty/file_lock.hpp"
#include "kitty/git.hpp"
#include "kitty/mission_meta.hpp"

namespace kitty {

// Checks that `name` can be one path component (a slug, a WP id, a lane id): not empty,
// not "." or "..", no "/" and no NUL. Anything else is Error(Exit::input, "UNSAFE_NAME")
// naming `what`.
const std::string& checked_path_component(const std::string& name, const std::string& what);

// The one guard for writes: `path` must lie inside the project at `project_root` once every
// link in its directories is followed, and must not itself be a symbolic link (an append or
// an in-place write would follow it). Returns `path` (a copy, so a temporary may be passed);
// anything else is Error(Exit::input, "OUTSIDE_PROJECT").
std::filesystem::path writable_in_project(const std::filesystem::path& project_root,
                                          const std::filesystem::path& path);

// The one guard for reads of a file named by input (a feedback file): `path` with every link
// followed must lie inside the project at `project_root`. Returns that resolved path;
// anything else is Error(Exit::input, "OUTSIDE_PROJECT").
std::filesystem::path readable_in_project(const std::filesystem::path& project_root,
                                          const std::filesystem::path& path);

// The worktree directory name of a code lane, as 3.1.1 names it: <slug>-<lane_id>, each part
// checked by checked_path_component.
std::string worktree_name(const std::string& mission_slug, const std::string& lane_id);

// Whether a command-line input names a mission (a directory or a selector) rather than a
// document: "-" (stdin) and existing regular files are documents.
bool names_mission(const std::string& input);

class Mission {
public:
    // The mission a command-line argument names: anything containing "/" is a directory
    // path; any other word (".." included) is a selector resolved in the project found from
    // `start`. A mission outside any project can be read but not written.
    static Mission open(const std::string& argument, const std::filesystem::path& start);
    // The mission at `dir` (a path, e.g. from a document another tool printed).
    static Mission at_directory(const std::filesystem::path& dir);

    Mission(Mission&&) noexcept;
    Mission& operator=(Mission&&) noexcept;
    ~Mission();

    const std::filesystem::path& dir() const { return dir_; }
    // The directory name, which is the slug 3.1.1 uses for lanes, locks and worktrees.
    const std::string& slug() const { return slug_; }
    // The project root (the main checkout), or nullopt for a mission outside any project.
    const std::optional<std::filesystem::path>& root() const { return root_; }
    // The project root; a mission outside any project is Error(Exit::input, "NO_PROJECT").
    const std::filesystem::path& project_root() const;

    std::filesystem::path tasks_dir() const { return dir_ / "tasks"; }
    std::filesystem::path tasks_md() const { return dir_ / "tasks.md"; }
    std::filesystem::path wps_yaml() const { return dir_ / "wps.yaml"; }
    std::filesystem::path spec_md() const { return dir_ / "spec.md"; }
    std::filesystem::path lanes_json() const { return dir_ / "lanes.json"; }
    std::filesystem::path events_log() const { return dir_ / "status.events.jsonl"; }
    std::filesystem::path status_json() const { return dir_ / "status.json"; }

    // meta.json's identity with 3.1.1's fallbacks, read once when the mission is opened.
    const MissionIdentity& identity() const { return identity_; }

    // The lock directory shared with spec-kitty: <git-common-dir>/spec-kitty-locks, or
    // <root>/.kittify/locks outside git. Needs a project.
    std::filesystem::path lock_dir() const;
    // spec-kitty's per-mission status lock, <lock dir>/<slug>.status.lock.
    FileLock lock_status(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

    // The workspace of a code lane: <root>/.worktrees/<slug>-<lane_id>.
    std::filesystem::path worktree_path(const std::string& lane_id) const;

    // The project's git repository, opened on first use; nullptr outside git.
    Repository* repository() const;

    // writable_in_project for this mission's project; a mission outside any project is
    // Error(Exit::input, "NO_PROJECT").
    std::filesystem::path writable(const std::filesystem::path& path) const;

private:
    Mission(std::filesystem::path dir, std::optional<std::filesystem::path> root);

    std::filesystem::path dir_;
    std::string slug_;
    std::optional<std::filesystem::path> root_;
    MissionIdentity identity_;
    mutable bool repository_opened_ = false;
    mutable std::unique_ptr<Repository> repository_;
};

} // namespace kitty
