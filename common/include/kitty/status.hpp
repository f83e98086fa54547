// Work-package status as spec-kitty 3.1.1 keeps it: the append-only status.events.jsonl,
// the deterministic reducer, status.json, lane-weighted progress and the transition rules
// (../shared/spec/identity-status.md §4, docs/tools/kitty-status.md).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/atomic_file.hpp"
#include "kitty/json.hpp"
#include "kitty/mission.hpp"
#include "kitty/result.hpp"
#include "kitty/yaml.hpp"

namespace kitty {

// The 9 lanes in 3.1.1's order.
inline constexpr std::array<std::string_view, 9> kStatusLanes = {
    "planned",  "claimed", "in_progress", "for_review", "in_review",
    "approved", "done",    "blocked",     "canceled"};

// A WP's lane, typed: the loop decides on these, never on lane names. In kStatusLanes'
// order; the events and status.json keep 3.1.1's names (lane_name).
enum class WpLane : std::uint8_t {
    planned,
    claimed,
    in_progress,
    for_review,
    in_review,
    approved,
    done,
    blocked,
    canceled
};

const std::string& lane_name(WpLane lane);
// The lane of a canonical name ("in_progress", not "doing"), or nullopt.
std::optional<WpLane> lane_of(std::string_view name);

// Written by name wherever a lane goes into a JSON document.
inline void to_json(Json& json, WpLane lane) {
    json = lane_name(lane);
}

// A set of lanes: the named groups below are the loop's vocabulary.
class LaneSet {
public:
    constexpr LaneSet(std::initializer_list<WpLane> lanes) {
        for (const WpLane lane : lanes) {
            bits_ = static_cast<std::uint16_t>(bits_ | bit(lane));
        }
    }
    constexpr bool contains(WpLane lane) const { return (bits_ & bit(lane)) != 0; }

private:
    static constexpr std::uint16_t bit(WpLane lane) {
        return static_cast<std::uint16_t>(1U << static_cast<unsigned>(lane));
    }
    std::uint16_t bits_ = 0;
};

// Someone works on the WP: it has a holder.
inline constexpr LaneSet kHeldLanes{WpLane::claimed, WpLane::in_progress, WpLane::in_review};
// Being implemented: what one agent per lane worktree counts (decision 11).
inline constexpr LaneSet kImplementingLanes{WpLane::claimed, WpLane::in_progress};
// Work that lives on the lane branch until it is merged.
inline constexpr LaneSet kOnLaneBranchLanes{
    WpLane::claimed, WpLane::in_progress, WpLane::for_review, WpLane::in_review, WpLane::approved};
// Implemented and handed off: for review, reviewed or done.
inline constexpr LaneSet kHandedOffLanes{WpLane::for_review, WpLane::in_review, WpLane::approved,
                                         WpLane::done};
// Approved work a dependent may build on.
inline constexpr LaneSet kApprovedLanes{WpLane::approved, WpLane::done};
// Nothing more happens to it.
inline constexpr LaneSet kFinishedLanes{WpLane::done, WpLane::canceled};

// The canonical lane for a name ("doing" → "in_progress"; trimmed, lower-cased), or
// nullopt for no lane.
std::optional<std::string> canonical_lane(std::string_view name);

// Whether 3.1.1's transition matrix allows from → to (without force).
bool transition_allowed(std::string_view from, std::string_view to);

// The lane's progress weight (planned 0 … done 1).
double lane_weight(std::string_view lane);

// One line of status.events.jsonl. All 13 keys are written (sorted, null where absent).
struct StatusEvent {
    std::string actor;
    std::string at;
    std::string event_id;
    Json evidence = nullptr;
    std::string execution_mode = "worktree";
    bool force = false;
    std::string from_lane;
    std::string mission_slug;
    Json policy_metadata = nullptr;
    std::optional<std::string> reason;
    std::optional<std::string> review_ref;
    std::string to_lane;
    std::string wp_id;

    Json to_json() const;
    // The line 3.1.1 writes: json.dumps(sort_keys=True) + "\n".
    std::string line() const;
};

// The events of `path` (none when it does not exist). Invalid JSON or a structure 3.1.1
// rejects is Error(Exit::input, "INVALID_EVENT_LOG") naming the file and line.
std::vector<StatusEvent> read_status_events(const std::filesystem::path& path);

// The bytes of an event log that exists, read again for a moment while its last line is
// unterminated (an append seen half-way).
std::string read_event_log_text(const std::filesystem::path& path);
// The events of the JSON lines of `text`, appended to `events`; errors name `path` and the
// line, counting `lines_before` lines above `text`.
void parse_status_lines(std::string_view text, const std::filesystem::path& path, int lines_before,
                        std::vector<StatusEvent>& events);

// The lines of `path` that are JSON objects, as 3.1.1's release prep reads the log: any
// other line is skipped, not an error. None when the file does not exist.
std::vector<Json> read_event_objects(const std::filesystem::path& path);

// The event-log merge of 3.1.1's git merge driver (identity-status.md §4.9): the events of
// the three sides united by event_id, sorted by (at, event_id), one json.dumps(sort_keys)
// line each. Every non-blank line must be a JSON object with a non-blank string event_id
// and at, else Error(Exit::input, "INVALID_EVENT_LOG") naming the side (its label) and the
// line (all three are read before any is merged); one event_id with two different payloads
// (Python's ==) is Error(Exit::check_failed, "EVENT_LOG_CONFLICT") naming the id. An event
// deleted on one side comes back from another.
std::string merge_event_logs(const std::string& base, const std::string& ours,
                             const std::string& theirs,
                             const std::array<std::string, 3>& labels = {"base", "ours", "theirs"});

// The merge driver git runs (`%O %A %B`): merges the three files (a missing one has no
// events) and writes the result over `ours` atomically. The document is {"path",
// "events"}; the text is empty, since git shows what a driver prints.
Outcome event_log_driver_command(const std::filesystem::path& base,
                                 const std::filesystem::path& ours,
                                 const std::filesystem::path& theirs);

// The driver name of the .gitattributes line init writes
// (`kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log`).
inline constexpr std::string_view kEventLogMergeDriver = "spec-kitty-event-log";

// Registers kitty's merges of its own files for its libgit2 merges in this process:
// merge_event_logs as that driver (register_merge_driver), so two branches that each
// appended events merge cleanly; and, for the mission files no .gitattributes line names
// (register_default_merge_driver), the event log, tasks.md (merge_tasks_md: ticks united)
// and WP files (merge_wp_files: field by field). What those cannot merge stays conflicted.
void register_kitty_merge_drivers();

struct WpStatus {
    std::string lane;
    std::string actor;
    std::string last_transition_at;
    std::string last_event_id;
    int force_count = 0;
    bool operator==(const WpStatus&) const = default;
};

struct StatusSnapshot {
    std::string mission_slug;
    std::string materialized_at;
    int event_count = 0;
    std::optional<std::string> last_event_id;
    std::map<std::string, WpStatus> work_packages;
    std::map<std::string, int> summary; // every lane
    bool operator==(const StatusSnapshot&) const = default;
};

// The deterministic reducer: first occurrence per event_id, sorted by (at, event_id), the
// rollback rule for concurrent events.
StatusSnapshot reduce_status(const std::vector<StatusEvent>& events);
// reduce_status(existing + added) from `snapshot` = reduce_status(existing): only `added` is
// applied when its events sort after the existing ones (as new events do), else the whole
// log is reduced again.
StatusSnapshot extend_status(StatusSnapshot snapshot, const std::vector<StatusEvent>& existing,
                             const std::vector<StatusEvent>& added);

// extend_status for a caller that keeps, instead of the existing events, whether an id is
// among them (`seen`) and whether the event of an id that set a WP was a rollback (3.1.1's
// rule for two events with one timestamp). False, with `snapshot` as it was, when an added
// event sorts among the existing ones: the whole log must be reduced again.
bool extend_status_from(StatusSnapshot& snapshot,
                        const std::function<bool(const std::string&)>& seen,
                        const std::function<bool(const std::string&)>& set_by_rollback,
                        const std::vector<StatusEvent>& added);
// Whether an event is a rollback (for_review -> in_progress with a review_ref), which the
// reducer does not let a plain event with the same timestamp undo.
bool is_status_rollback(const StatusEvent& event);

// status.json bytes: sort_keys, indent 2, raw UTF-8, identity fields from meta.json.
std::string serialize_status_json(const StatusSnapshot& snapshot, const std::string& mission_number,
                                  const std::string& mission_type);

// Lane-weighted progress in percent over the snapshot's WPs (0 when there are none).
double status_progress(const StatusSnapshot& snapshot);

// Python's round(x, 1), as repr prints the result ("53.3", "30.0").
std::string python_round1(double value);

// Appends `added` to the log whose events are `existing` (read under the status lock the
// caller holds), with one write, and brings status.json up to date. Nothing is appended
// when the new status.json cannot be written beside the old one; once the events are in
// the log, a status.json that cannot be put in place is a STATUS_JSON_NOT_UPDATED warning.
// Both are synced before it returns, or, with `later`, by the caller once it has released
// the status lock.
std::vector<Finding> record_status_events(const Mission& mission,
                                          const std::vector<StatusEvent>& existing,
                                          const std::vector<StatusEvent>& added);
// The same with the status after `added`, which the caller has at hand (extend_status).
std::vector<Finding> record_status_events(const Mission& mission, const StatusSnapshot& after,
                                          const std::vector<StatusEvent>& added,
                                          DeferredSync* later = nullptr);

// Whether spec-kitty commits workflow changes itself: `auto_commit` in .kittify/config.yaml
// (under `agents:` or `tools:`, else top level), true when unset. Bad YAML is
// Error(Exit::input, "INVALID_YAML") naming the file.
bool project_auto_commit(const std::filesystem::path& project_root);

// A setting of .kittify/config.yaml: under `agents:` or `tools:`, else at the top level;
// nullopt when unset. Bad YAML is Error(Exit::input, "INVALID_YAML") naming the file.
std::optional<YamlNode> project_setting(const std::filesystem::path& project_root,
                                        std::string_view key);

// The one mission-target rule of every command that works on one mission: an explicit
// selector or directory; else ("" or ".") the mission of the directory you stand in (a
// mission directory under kitty-specs/, or a lane worktree under .worktrees/); else the one
// open mission (one whose WPs are not all done). Several open missions are
// Error(Exit::conflict, "AMBIGUOUS_MISSION") listing the candidates; none is
// Error(Exit::input, "MISSION_NOT_FOUND").
Mission open_target_mission(const std::string& selector, const std::filesystem::path& start_dir);

struct StatusRequest {
    std::string mission; // directory or selector; empty: open_target_mission's rule
    std::filesystem::path start_dir = ".";
    double stale_threshold_minutes = 10; // an in-progress WP idle longer is stale
    bool all = false;                    // every mission of the project, one row each
};

// The `spec-kitty agent tasks status` report (JSON keys of 3.1.1 plus mission_id); with
// `all`, status_all_command.
Outcome status_report_command(const StatusRequest& request);

// Where a mission stands, from its WP files, event log and meta.json: planning (no WP has
// an event yet), in_progress, approved (every WP approved or done), accepted (that, and
// meta.json records the acceptance), merged (every WP done).
std::string mission_state(const std::vector<std::string>& wp_lanes, bool has_events, bool accepted);

// `status --all`: one row per mission of the project (slug, mission_id, type, state,
// progress, WPs by lane, lanes, target). A mission whose files cannot be read is a row with
// state "unreadable" and a warning, not a failure of the whole list.
Outcome status_all_command(const std::filesystem::path& start_dir);

// finalize-tasks' bootstrap (3.1.1's bootstrap_canonical_state): a `planned` event for each
// of `wp_ids` that has none, then status.json, under the status lock.
struct Bootstrapped {
    std::vector<std::string> wp_ids; // the WPs seeded
    std::vector<Finding> findings;   // status.json not updated after the events were written
};
Bootstrapped bootstrap_status(const Mission& mission, const std::vector<std::string>& wp_ids,
                              const std::string& actor);

// bootstrap_status for every WP file of the mission.
Outcome status_bootstrap_command(const StatusRequest& request, const std::string& actor);

struct MoveRequest {
    StatusRequest mission;
    std::string wp_id;
    std::string to_lane;
    std::string actor;
    std::optional<std::string> reason;
    bool force = false;
};

// One validated transition appended as an event, then status.json; under the status lock.
Outcome status_move_command(const MoveRequest& request);

} // namespace kitty
