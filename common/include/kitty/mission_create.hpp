// Mission creation and identity stamping (kitty-mint-id create / stamp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/mission.hpp"

namespace kitty {

// Longest slug kitty accepts (3.1.1 has no limit; directory names must stay usable).
inline constexpr std::size_t max_slug_length = 64;

// Error(Exit::usage, "INVALID_SLUG") unless `slug` matches ^[a-z0-9]+(-[a-z0-9]+)*$ and
// is at most max_slug_length characters long.
void validate_slug(const std::string& slug);

// Next display number: 1 + the largest leading number (3 or more digits followed by "-"
// or the end of the name) of the directories in kitty-specs/ and .worktrees/.
int next_mission_number(const std::filesystem::path& project_root);

struct CreateRequest {
    std::string slug;
    std::string mission_type = "software-dev";
    std::optional<std::string> friendly_name;
    std::optional<std::string> target_branch; // default: the checked-out branch, else main
    std::filesystem::path start_dir;          // where to look for the project root
};

struct CreatedMission {
    Json meta;
    std::filesystem::path mission_dir;
    std::string current_branch;
    std::vector<std::filesystem::path> created_files;

    // The keys of `spec-kitty agent mission create --json`, in 3.1.1's order.
    Json to_json() const;
    std::string to_text() const;
};

// Creates kitty-specs/NNN-<slug>/ with meta.json (a fresh mission_id), spec.md,
// tasks/README.md, checklists/, research/ and an empty status.events.jsonl. Holds the
// project's creation lock; the directory is made with an exclusive mkdir, so concurrent
// creations never share a number. No git commands are run.
CreatedMission create_mission(const CreateRequest& request);

struct StampResult {
    std::filesystem::path meta_file;
    std::string mission_id;
    bool minted = false;

    Json to_json() const;
    std::string to_text() const;
};

// Gives the mission a mission_id when its meta.json has none; an existing id is never
// changed. A canonical (3.1.1-format) file stays canonical; any other file keeps every
// byte and gains the key as its last member.
StampResult stamp_mission(const Mission& mission);

} // namespace kitty
