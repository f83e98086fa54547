// What the loop commands share (private to common/workflow/): the mission's work packages
// with their lanes and holders, the lane workspaces, the WP file edits 3.1.1 makes by line,
// and the one commit path for workflow files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/lanes.hpp"
#include "kitty/liveness.hpp"
#include "kitty/loop.hpp"
#include "kitty/mission.hpp"
#include "kitty/status.hpp"

namespace kitty {
struct WpFrontmatter;
}

namespace kitty::loop {

// software-dev's nine mission steps, in order: each depends on the one before.
enum class MissionStep : std::uint8_t {
    discovery,
    specify,
    plan,
    tasks_outline,
    tasks_packages,
    tasks_finalize,
    implement,
    review,
    accept
};

// The steps in which agents are handed work packages.
inline bool is_wp_step(MissionStep step) {
    return step == MissionStep::implement || step == MissionStep::review;
}

// A work package as the loop sees it.
struct LoopWp {
    std::string id;
    std::string file_name; // in the tasks directory
    std::string file_path; // kept as text: a path made for each of 100 WPs costs
    std::filesystem::path file() const { return file_path; }
    WpLane lane = WpLane::planned; // from the reduced event log
    bool has_events = false;
    std::string actor;         // of its latest event
    bool review_claim = false; // in_review, or 3.1.1's forced in_progress review claim
    std::string lane_id;       // lanes.json lane; empty when there is none
    bool in_planning_lane = false;
    std::string since; // the time of its latest transition ("" without events)
    // Facts about its holder that next reads before it decides (read_holder_liveness):
    Liveness liveness = Liveness::none;
    std::int64_t silent_seconds = -1; // since its holder's latest sign of life
    bool worktree_dirty = false;      // its lane worktree has uncommitted changes

    // From the frontmatter, read on first use: a decision usually needs few WP files.
    const std::vector<std::string>& dependencies() const { return front().dependencies; }
    const std::vector<std::string>& owned_files() const { return front().owned_files; }
    const std::string& agent() const { return front().agent; }
    const std::string& shell_pid() const { return front().shell_pid; }
    void set_agent(const std::string& agent) { front_mutable().agent = agent; }
    // Runs in the main checkout: a planning_artifact, or in lane-planning.
    bool planning() const { return in_planning_lane || front().planning_artifact; }

    // Who holds it: nobody unless it is claimed, in_progress or in_review; then the agent
    // of its latest event (the frontmatter agent for 3.1.1's generic actors).
    std::string holder() const;

    bool frontmatter_read() const { return front_.has_value(); }
    bool planning_artifact() const { return front().planning_artifact; }

    // What the loop reads from a WP file's frontmatter.
    struct Frontmatter {
        std::vector<std::string> dependencies;
        std::vector<std::string> owned_files;
        std::string agent;
        bool planning_artifact = false;
        std::string shell_pid;
        bool operator==(const Frontmatter&) const = default;
    };
    static Frontmatter frontmatter_of(const WpFrontmatter& parsed);
    // The frontmatter as given, not read from `file` (an in-memory state, a cache entry).
    void set_frontmatter(Frontmatter front) { front_ = std::move(front); }
    void set_frontmatter(std::vector<std::string> dependencies,
                         std::vector<std::string> owned_files, std::string agent,
                         bool planning_artifact) {
        front_ = Frontmatter{std::move(dependencies), std::move(owned_files), std::move(agent),
                             planning_artifact, ""};
    }

private:
    const Frontmatter& front() const;
    Frontmatter& front_mutable() {
        front();
        return *front_;
    }
    mutable std::optional<Frontmatter> front_;
};

// What the loop reads from the event log, kept without the events (issue 20 §3): the
// status, what the reducer and the loop ask about the event that set each WP, each WP's
// latest review-cycle file, the takeovers and where each actor last acted, and a 64-bit hash
// of every event id (event_id_hash): an added event whose id hashes as an earlier one's (a
// repeat, or in theory another id) has the whole log digested again, so a hash stands in
// for the id without ever deciding alone. A derived cache of it for a prefix of the log
// spares a call parsing that prefix.
struct StatusDigest {
    struct Setter {
        bool rollback = false;                 // is_status_rollback
        std::optional<std::string> review_ref; // a review claim's "action-review-claim"
        bool operator==(const Setter&) const = default;
    };
    struct TakeoverEvent {
        std::int64_t index = 0; // its place in the log
        std::string wp_id, actor, at, reason;
        bool operator==(const TakeoverEvent&) const = default;
    };
    StatusSnapshot status;                                // reduce_status of the events
    std::vector<std::uint64_t> id_hashes;                 // sorted, unique
    std::map<std::string, Setter> setters;                // per WP of `status`
    std::map<std::string, std::string> review_cycle_refs; // per WP, the latest in the log
    std::vector<TakeoverEvent> takeovers;                 // forced, "Taken over from …"
    std::map<std::string, std::int64_t> last_index;       // per actor, its latest event
    std::int64_t count = 0;                               // the log's events, repeats too
    bool operator==(const StatusDigest&) const = default;
};
StatusDigest digest_status(const std::vector<StatusEvent>& events);
// FNV-1a, 64 bits: the same in every build, as a cache written by one build is read by the
// next.
std::uint64_t event_id_hash(std::string_view id);
// digest_status(existing + added) made from digest_status(existing) and `added`; false, with
// `digest` as it was, when an added event sorts among the existing ones (then the whole log
// is digested again).
bool extend_digest(StatusDigest& digest, const std::vector<StatusEvent>& added);

// The derived cache of a digest: the prefix of the log it is of (its size and hash).
struct StatusCacheEntry {
    std::size_t size = 0;
    std::uint64_t hash = 0;
    StatusDigest digest;
};
std::uint64_t event_log_hash(std::string_view bytes);
// The cache file's text (fields written as the frontmatter cache's), ending with an "end"
// line; nullopt for a text that does not read back whole.
std::string format_status_cache(const StatusCacheEntry& entry);
std::optional<StatusCacheEntry> parse_status_cache(std::string_view text);

struct LoopState {
    Mission mission;
    std::string log_bytes; // the event log as last read
    bool log_exists = false;
    StatusDigest digest;      // of the events of log_bytes
    bool status_read = false; // the WPs' lanes are those of `digest`
    std::vector<LoopWp> wps;  // by file name
    std::optional<LanesManifest> lanes;
    // The claim lease (claim_lease_seconds), set by a command that reads holder liveness,
    // before it takes the status lock: reading the project's config is YAML work.
    std::int64_t lease_seconds = kDefaultLeaseSeconds;

    const StatusSnapshot& status() const { return digest.status; }
    // The events of log_bytes, parsed on first use (the dashboard, merge).
    const std::vector<StatusEvent>& events() const;

    LoopWp* find(const std::string& wp_id);
    // The WP a command-line argument names (normalize_wp_id); none is UNKNOWN_WP.
    LoopWp& get(const std::string& argument);
    // The ids of `wp`'s dependencies that are not approved or done.
    std::vector<std::string> unmet_dependencies(const LoopWp& wp) const;
    // Another WP of `wp`'s lane that someone other than `agent` implements (claimed or
    // in_progress, not a review claim), or nullptr: one agent per lane worktree
    // (ARCHITECTURE.md decision 11). Reviews read and do not hold the lane.
    const LoopWp* lane_held_by_other(const LoopWp& wp, const std::string& agent) const;
    // A WP of lane `lane_id` that someone other than `agent` implements (any one when
    // `agent` is empty), `except` left out; nullptr when nobody else holds the lane.
    const LoopWp* lane_holder(const std::string& lane_id, const std::string& agent,
                              const std::string& except = "") const;
    // lanes.json, or Error(Exit::input, "MISSING_LANES") naming it.
    const LanesManifest& require_lanes() const;

    mutable std::optional<std::vector<StatusEvent>> parsed_events = std::nullopt; // events()'s
    // What record_events wrote under the status lock: synced (flush()) by whoever releases
    // the lock, right after the release.
    DeferredSync unsynced = {};
};

// One entry of the derived cache of WP frontmatter (read_loop_state): the file's name and
// stat, and what the loop reads from it.
struct FrontmatterCacheEntry {
    std::string name;
    long long size = 0, mtime_ns = 0, ino = 0;
    LoopWp::Frontmatter front;
    // The file's bytes while it has not settled (its stat alone cannot vouch for it then):
    // the entry is used for a file that holds them.
    std::string unsettled;
    bool operator==(const FrontmatterCacheEntry&) const = default;
};
// The cache file's text: a version line, then one line of tab-separated fields per entry.
// It is read without a JSON parser, which took a tenth of a `next` on 100 WPs.
std::string format_frontmatter_cache(const std::vector<FrontmatterCacheEntry>& entries);
// The entries of such a text; a line that does not read back (cut short, edited) is left
// out, and another version is no entry at all.
std::vector<FrontmatterCacheEntry> parse_frontmatter_cache(std::string_view text);

// The derived cache of lanes.json (read_loop_state): the file's stat and the manifest
// read_valid_lanes made of it.
struct LanesCacheEntry {
    long long size = 0, mtime_ns = 0, ino = 0;
    LanesManifest manifest;
};
// The cache file's text (fields written as the frontmatter cache's), ending with an "end"
// line; nullopt for a text that does not read back whole.
std::string format_lanes_cache(const LanesCacheEntry& entry);
std::optional<LanesCacheEntry> parse_lanes_cache(std::string_view text);

// The derived cache of the loop's merge forecast (forecast_conflict): `key` spells out every
// input of the forecast (kitty's version, the branches and their tips, lanes.json and the
// git config), so an answer is reused only for exactly those inputs.
struct ForecastCacheEntry {
    std::string key;
    bool conflict = false;
    std::string lane_id, other_branch, other_commit, stop_lane_id;
    std::vector<MergeConflict> conflicts;
    bool operator==(const ForecastCacheEntry&) const = default;
};
// The cache file's text, ending with an "end" line; nullopt for a text that does not read
// back whole.
std::string format_forecast_cache(const ForecastCacheEntry& entry);
std::optional<ForecastCacheEntry> parse_forecast_cache(std::string_view text);
// .kittify/runtime/cache/<slug>/forecast.tsv: read (nullopt when absent or damaged), written.
std::optional<ForecastCacheEntry> read_forecast_cache(const Mission& mission);
void write_forecast_cache(const Mission& mission, const ForecastCacheEntry& entry);

// The mission a loop command works on (LoopTarget's rule). It must be in a project.
Mission open_loop_mission(const LoopTarget& target);

// Reads WP files, events and lanes.json. Hold the status lock when the result decides a
// write.
LoopState read_loop_state(Mission mission);
// Reads the events again and brings each WP's lane, actor and claim up to date (the status
// part of the state, after the status lock was taken).
void refresh_status(LoopState& state);
// Fills `liveness` and `worktree_dirty` of the WPs that someone other than `agent` holds
// (I/O: heartbeats, processes, worktree status), for pick_work's takeover of stale claims,
// with the lease the caller set in state.lease_seconds.
void read_holder_liveness(LoopState& state, const std::string& agent);

// A takeover of a WP from `from` that `from` has not acted since: the previous holder's next
// call is told (issue 22 §4).
struct Takeover {
    std::string wp_id;
    std::string by;
    std::string at;
};
std::vector<Takeover> unseen_takeovers(const StatusDigest& digest, const std::string& from);
// The reason of a takeover event, which unseen_takeovers recognises.
std::string takeover_reason(const std::string& from, std::int64_t silent_seconds,
                            std::int64_t lease_seconds);

// Appends `events` to the log and writes status.json (the caller holds the status lock
// and read the state under it), and brings the state's log and WPs up to date. Their
// fsyncs are left to state.unsynced.
std::vector<Finding> record_events(LoopState& state, const std::vector<StatusEvent>& events);

// A loop command's view, read under the mission's status lock, held while this lives.
struct LockedState {
    FileLock lock;
    LoopState state;
};
LockedState read_locked_state(const LoopTarget& target);

// The repository of the mission's project, which the loop requires.
Repository& loop_repository(const Mission& mission);

// "wp01", "WP01-foo" -> "WP01"; "1" -> "WP1"; anything else is UNSAFE_NAME / UNKNOWN_WP.
std::string normalize_wp_id(const std::string& text);

// The agent name: letters, digits, ".", "_", "-" (it goes into file names, YAML and commit
// subjects); anything else is a usage error.
const std::string& checked_agent(const std::string& agent);

// One status event for `wp` of `mission`, stamped now.
StatusEvent make_event(const Mission& mission, const std::string& wp, WpLane from, WpLane to,
                       const std::string& actor);

// Sets `key: "<value>"` in the frontmatter of a WP file's text: an existing line keeps its
// place, a new key goes before `history:` or at the end of the frontmatter.
std::string set_frontmatter_scalar(const std::string& text, const std::string& key,
                                   const std::string& value);
// Appends "- <UTC time> – <agent> – [shell_pid=<pid> – ]<note>" under "## Activity Log"
// (created at the end when missing).
std::string append_activity(const std::string& text, const std::string& agent,
                            const std::string& shell_pid, const std::string& note);

// The lane workspace of a WP.
struct Workspace {
    bool planning = false;
    std::filesystem::path path; // absolute: the project root for planning work
    std::string lane_id;
    std::string branch; // empty for planning work
    std::vector<std::string> lane_wp_ids;
};
Workspace workspace_of(const LoopState& state, const LoopWp& wp);

// <root>/.kittify/workspaces/<slug>-<lane>.json
std::filesystem::path context_file(const Mission& mission, const std::string& lane_id);

// The workspace of `wp` made ready: the mission branch, the lane branch (from the mission
// branch and the tips of the lanes it depends on) and its worktree created when missing,
// the context file written. Checks come first: a path that exists but is not the lane's
// worktree, a lane branch that was deleted after the lane started, a lane worktree with
// uncommitted changes when it is taken up for another WP, a missing target branch. Anything
// created before a later failure is removed again. `before_new_branches` runs once the
// checks have passed, before the first branch is created (the planning commit). An existing
// lane worktree without local changes that is behind what it builds on is first merged up
// (sync_lane) when that merge is clean; a conflicting one is left as it is.
struct Allocation {
    Workspace workspace;
    bool created = false;
    std::string base_branch;
    std::string base_commit;
    std::vector<std::string> synced_from; // the branches merged into the lane just now
};
Allocation allocate_workspace(LoopState& state, const LoopWp& wp,
                              const std::function<void()>& before_new_branches);

// Writes a WP file or tasks.md atomically; the caller holds the status lock, so temporary
// files a killed writer left beside it are removed first.
void write_mission_file(const Mission& mission, const std::filesystem::path& path,
                        const std::string& text);

// The workflow files of a mission a command commits, relative to the project root.
std::vector<std::filesystem::path> status_paths(const Mission& mission);

// Checks that a workflow commit can be made: git has an identity, HEAD is on a branch and
// git's index is not locked. What else is staged stays staged and out of kitty's commits.
void check_workflow_commit(const Mission& mission);
// Commits those of `paths` that differ from HEAD, and nothing else (Repository::
// commit_own_paths), on the main checkout's branch. Hold lock_commits. Returns the commit
// id, or "" when no path changed.
std::string commit_workflow(const Mission& mission, const std::vector<std::filesystem::path>& paths,
                            const std::string& message);

// Commits uncommitted files of the mission directory as 3.1.1 does before a lane worktree
// is cut from them ("chore: planning artifacts for <slug>"), unless auto_commit is off,
// which is an error naming the files, as is a main checkout not on lanes.json's target.
// Files owned by a planning WP that another agent than `agent` holds are its unfinished
// work and stay out (E16).
void commit_planning_artifacts(const LoopState& state, const std::string& wp_id,
                               const std::string& agent);

// A checklist line ("- [ ] T001 …") of a WP's section of tasks.md: from a ##-#### heading
// naming the WP to the next such heading naming any WP.
struct Subtask {
    std::string line; // stripped
    std::string id;   // its T-number, empty when it has none
    bool done = false;
};
std::vector<Subtask> wp_subtasks(const Mission& mission, const std::string& wp);

// The three line patterns subtasks_by_wp reads tasks.md with, matched by hand (compiling and
// running them was a twentieth of a `next` on 100 WPs); the tests hold each to its pattern:
//   is_wp_heading   ^#{2,4}\s.*WP\d+           (a line past a non-ASCII byte: the pattern)
//   wp_names        \b(WP\d+)\b, every match
//   subtask_box     ^\s*-\s*\[([ xX])\]\s*(T\d+)?  (the mark and the T-number, or "")
bool is_wp_heading(std::string_view line);
std::vector<std::string> wp_names(std::string_view line);
struct SubtaskBox {
    char mark = ' ';
    std::string id;
};
std::optional<SubtaskBox> subtask_box(std::string_view line);
// Every WP's subtasks from one read of tasks.md.
std::map<std::string, std::vector<Subtask>> subtasks_by_wp(const Mission& mission);

// Whether an event points at a review-cycle file (a rejection with its feedback).
bool is_review_cycle_ref(const StatusEvent& event);
// The review-cycle file of the latest rejection of a WP, when it has one.
std::optional<std::filesystem::path> review_feedback(const LoopState& state,
                                                     const std::string& wp_id);

// The command lines the loop teaches.
std::string next_command_line(const Mission& mission, const std::string& agent, bool with_result);
std::string action_command_line(const Mission& mission, const std::string& action,
                                const std::string& wp, const std::string& agent);

// .kittify/runtime/prompts/<slug>/, checked to be writable inside the project.
std::filesystem::path prompt_dir(const Mission& mission);
// Writes a prompt file `name` there (unless it already holds `text`); returns its path.
std::filesystem::path write_prompt(const Mission& mission, const std::string& name,
                                   const std::string& text);

// The prompt of a WP action, written under .kittify/runtime/prompts/<slug>/; returns its path.
std::filesystem::path write_wp_prompt(const LoopState& state, const LoopWp& wp,
                                      const std::string& action, const std::string& agent);

} // namespace kitty::loop
