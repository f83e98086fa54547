// Where compute_lanes gets its arguments: a mission directory read as the lanes step of
// spec-kitty 3.1.1's finalize-tasks reads it, or a JSON document (the stdin schema of
// docs/tools/kitty-lanes.md, or a kitty-parse-tasks mission document).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/lanes.hpp"
#include "kitty/mission.hpp"
#include "kitty/result.hpp"

namespace kitty {

struct LaneSource {
    LaneInputs inputs; // target_branch and computed_at as the source names them, if it does
    bool names_target_branch = false;
    bool names_computed_at = false;
    std::optional<std::filesystem::path> mission_dir;
    std::vector<Finding> findings; // WP files skipped, and why
};

// The finalize-tasks lanes step: the graph from wps.yaml, else from tasks.md; WP files
// sorted by name, a file 3.1.1 cannot read skipped with a warning; a manifest for each
// readable WP whose frontmatter has both execution_mode and owned_files; mission_id from
// meta.json; the slug is the directory's name. Like finalize-tasks it will not compute
// without a WP in the graph (Error NO_WORK_PACKAGES) or without one manifest
// (NO_OWNERSHIP_MANIFESTS), both exit 1. An execution_mode that is neither code_change nor
// planning_artifact is Error(Exit::input, "INVALID_EXECUTION_MODE") at its file and line.
LaneSource read_mission_lane_source(const Mission& mission);

// A JSON document: the stdin schema (compute_lanes' arguments, taken as given), or the
// document `kitty-parse-tasks <mission-dir>` prints (read with the rules above). Anything
// else is Error(Exit::input) naming `source`.
LaneSource lane_source_from_json(const Json& doc, const std::string& source);

} // namespace kitty
