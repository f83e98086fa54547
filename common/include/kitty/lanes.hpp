// Execution lanes: which work packages share a worktree and in what order, computed
// exactly as spec-kitty 3.1.1's compute_lanes does, and lanes.json in its byte format
// (../shared/spec/lanes.md, docs/lanes-json.md). Planning-artifact WPs are lane-owned like
// every other WP: they all belong to the one canonical lane "lane-planning".
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/error.hpp"
#include "kitty/json.hpp"
#include "kitty/result.hpp"
#include "kitty/tasks_md.hpp"

namespace kitty {

enum class ExecutionMode { code_change, planning_artifact };

// The two values 3.1.1 accepts (case-sensitive), else nullopt.
std::optional<ExecutionMode> parse_execution_mode(std::string_view text);

// The one error for any other value: Error(Exit::input, "INVALID_EXECUTION_MODE") naming
// the WP and the value (the caller adds the file and line).
Error invalid_execution_mode(const std::string& wp, const std::string& value);

// What compute reads of a WP's ownership: its mode and its globs, in declared order.
struct OwnershipManifest {
    ExecutionMode mode = ExecutionMode::code_change;
    std::vector<std::string> owned_files;
};

// Why a WP has no manifest (no file, unreadable, fields missing), for the error message.
struct ManifestGap {
    std::string reason;
    std::filesystem::path path;
};

// The arguments of compute_lanes. The graph's keys are the WPs that get laned; its lists
// keep their order and duplicates and may name ids that are not keys.
struct LaneInputs {
    DependencyMap graph;
    std::map<std::string, OwnershipManifest> manifests; // keys not in the graph are ignored
    std::map<std::string, std::string> bodies;          // WP markdown; empty: no surfaces
    std::string mission_slug;
    std::string target_branch = "main";
    std::string mission_id; // empty: the slug
    std::string computed_at;
    std::map<std::string, ManifestGap> manifest_gaps;
};

inline constexpr std::string_view kPlanningLaneId = "lane-planning";

struct Lane {
    std::string lane_id;
    std::vector<std::string> wp_ids; // execution order
    std::vector<std::string> write_scope;
    std::vector<std::string> predicted_surfaces;
    std::vector<std::string> depends_on_lanes;
    int parallel_group = 0;

    // The canonical planning lane: it runs in the main checkout on the target branch.
    bool is_planning() const { return lane_id == kPlanningLaneId; }
    bool operator==(const Lane&) const = default;
};

// Why two groups of WPs were merged into one lane.
struct CollapseEvent {
    std::string wp_a;
    std::string wp_b;
    std::string rule; // "dependency", "write_scope_overlap" or "surface_heuristic"
    std::string evidence;
    bool operator==(const CollapseEvent&) const = default;
};

struct LanesManifest {
    int version = 1;
    std::string mission_slug;
    std::string mission_id;
    std::string mission_branch;
    std::string target_branch;
    std::vector<Lane> lanes; // code lanes by smallest WP id, then lane-planning
    std::string computed_at;
    std::string computed_from = "dependency_graph+ownership";
    std::vector<CollapseEvent> events; // written as collapse_report when non-empty
    int independent_wps_collapsed = 0;

    // The WP ids of lane-planning: the derived view lanes.json calls planning_artifact_wps.
    std::vector<std::string> planning_artifact_wps() const;

    // The first lane holding `wp_id`, as 3.1.1's lane_for_wp answers.
    const Lane* lane_for_wp(std::string_view wp_id) const;
    bool operator==(const LanesManifest&) const = default;
};

// _globs_overlap of 3.1.1: equal, one glob-stripped prefix a string prefix of the other,
// or either glob fnmatch-ing the other's prefix.
bool globs_overlap(std::string_view a, std::string_view b);

// The surfaces (api, app-shell, …) whose keywords occur in the lower-cased body, sorted.
std::vector<std::string> infer_surfaces(std::string_view body);

// compute_lanes of 3.1.1. Throws Error(Exit::check_failed): MISSING_MANIFEST for a laned
// WP that is not a planning artifact and has no manifest, DEPENDENCY_CYCLE for a cycle
// when the mission has code WPs.
LanesManifest compute_lanes(const LaneInputs& inputs);

// The lanes.json object, keys in 3.1.1's order.
Json lanes_json(const LanesManifest& manifest);

// 3.1.1's CollapseReport.to_dict(): {events, total_merges, independent_wps_collapsed,
// by_rule}, also when there are no events (lanes.json leaves it out then; finalize's
// report does not); null without a code lane, where compute_lanes makes no report.
Json collapse_report_json(const LanesManifest& manifest);

// The exact bytes 3.1.1 writes: json.dumps(indent=2) (ASCII-escaped) and a newline.
std::string serialize_lanes(const LanesManifest& manifest);

// "kitty/mission-<slug>".
std::string mission_branch_name(std::string_view mission_slug);
// The one mission-branch rule of the loop and merge: lanes.json's mission_branch (3.1.1's
// allocator cuts lanes from it), else mission_branch_name(slug).
std::string mission_branch_of(const LanesManifest& lanes, std::string_view mission_slug);
// A code lane's branch: "kitty/mission-<slug>-<lane>".
std::string code_lane_branch(std::string_view mission_slug, std::string_view lane_id);

// The branch a lane's work happens on: the planning base (the target branch) for
// lane-planning, "kitty/mission-<slug>-<lane>" for a code lane.
std::string lane_branch_name(std::string_view mission_slug, const Lane& lane,
                             std::string_view planning_base_branch);

// For each WP, whether it depends on the other, directly or through any WP of the graph.
// The graph must be acyclic.
class DependencyReach {
public:
    explicit DependencyReach(const DependencyMap& graph);

    // True when `from` transitively depends on `to`.
    bool depends_on(const std::string& from, const std::string& to) const;

    // Every WP (or unknown id) `from` transitively depends on.
    std::set<std::string> transitive_dependencies(const std::string& from) const;

private:
    std::map<std::string, std::vector<std::string>> edges_;
};

// A lanes.json as found on disk, in any of the shapes spec-kitty versions have written
// (../shared/spec/lanes.md §8): `feature_slug` for mission_slug, planning_artifact_wps
// absent or listing WPs that are in no lane, extra keys, sorted keys.
struct LanesFile {
    LanesManifest manifest;
    std::string shape; // "3.1.1", or what differs from it; "" when not asked for
    std::vector<std::string> recorded_planning_artifact_wps;
    std::vector<Finding> findings; // validation: errors (a WP in two lanes, …) and warnings
};

// Whether a read works out LanesFile::shape, whose byte-layout comparison serialises the
// whole document again: the lanes report shows it, the loop does not need it.
enum class LanesShape { compared, skipped };

// Reads and validates lanes.json. Invalid JSON or a missing or mistyped required field is
// Error(Exit::input, "INVALID_LANES_JSON") naming the file; a missing file is
// Error(Exit::input, "MISSING_LANES").
LanesFile read_lanes_file(const std::filesystem::path& path,
                          LanesShape shape = LanesShape::compared);

// The manifest of a lanes.json the loop and merge can act on: read_lanes_file, and any
// error finding (a lane id twice, a WP in two lanes) is Error(Exit::input,
// "INVALID_LANES_JSON") listing them.
LanesManifest read_valid_lanes(const std::filesystem::path& path);

// The same for the bytes of a file; `path` names it in errors and findings.
LanesFile parse_lanes_file(const std::string& bytes, const std::filesystem::path& path,
                           LanesShape shape = LanesShape::compared);

} // namespace kitty
