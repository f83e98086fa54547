// kitty-lanes as library calls: compute (print or write lanes.json), explain, resolve a
// WP to its lane's branch and workspace, and show an existing lanes.json
// (docs/tools/kitty-lanes.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "kitty/result.hpp"

namespace kitty {

struct ComputeLanesRequest {
    std::string input = "-"; // a mission directory, a selector, a JSON file, or "-"
    std::string stdin_text;  // the document when input is "-" (the tool reads stdin)
    std::optional<std::string> computed_at;
    std::optional<std::string> target_branch;
    std::optional<std::string> mission_slug;
    std::optional<std::string> mission_id;
    bool write = false; // atomically replace <mission>/lanes.json instead of printing it
    std::filesystem::path start_dir = ".";
    bool for_people = false; // render the text (with the parallelism analysis) too
};

// JSON: the lanes.json bytes (or, with `write`, what was written); text: the explanation.
Outcome compute_lanes_command(const ComputeLanesRequest& request);

// The lanes with the merges that formed them and the parallelism they cost.
Outcome explain_lanes_command(const ComputeLanesRequest& request);

// {wp_id, lane_id, branch, workspace, is_planning_lane} from the mission's lanes.json.
Outcome resolve_lane_command(const std::string& mission, const std::string& wp_id,
                             const std::filesystem::path& start_dir);

// An existing lanes.json (mission directory, selector or file path), read and validated.
Outcome show_lanes_command(const std::string& input, const std::filesystem::path& start_dir);

} // namespace kitty
