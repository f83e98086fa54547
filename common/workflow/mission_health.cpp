// doctor's checks of one mission (kitty/mission_health.hpp).
#include "kitty/mission_health.hpp"

#include <algorithm>
#include <set>

#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/json.hpp"
#include "kitty/lanes.hpp"
#include "kitty/liveness.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "loop_model.hpp"
#include "loop_transaction.hpp"
#include "merge_plan.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// A code lane as the checks see it: its WPs being worked on, its unfinished ones (work that
// lives on the lane branch until merged), its branch and its worktree.
struct LaneView {
    const Lane& lane;
    std::vector<loop::LoopWp*> active, unfinished;
    std::string branch;
    fs::path worktree;
    bool has_worktree = false;
    std::optional<Repository> checkout;
};

LaneView view_lane(loop::LoopState& state, const Lane& lane) {
    const Mission& m = state.mission;
    LaneView v{lane,
               {},
               {},
               code_lane_branch(m.slug(), lane.lane_id),
               m.worktree_path(lane.lane_id),
               false,
               std::nullopt};
    for (const std::string& id : lane.wp_ids) {
        if (loop::LoopWp* wp = state.find(id)) {
            if (kImplementingLanes.contains(wp->lane)) {
                v.active.push_back(wp);
            }
            if (kOnLaneBranchLanes.contains(wp->lane)) {
                v.unfinished.push_back(wp);
            }
        }
    }
    std::error_code ec;
    v.has_worktree = fs::is_directory(v.worktree, ec);
    if (v.has_worktree) {
        v.checkout = Repository::discover(v.worktree);
    }
    return v;
}

// The lane branch is gone while the lane has unfinished work: recreated at the worktree's
// commit when there is one.
Diagnosis deleted_branch(const LaneView& v, Repository& repo, bool fix) {
    const loop::LoopWp& first = *v.unfinished.front();
    Diagnosis d{"LANE_BRANCH_DELETED",
                v.lane.lane_id,
                "the branch " + v.branch + " of " + v.lane.lane_id + " is gone while " + first.id +
                    " is " + lane_name(first.lane),
                "",
                false,
                false,
                v.worktree};
    const auto head = v.checkout ? v.checkout->resolve_commit("HEAD") : std::nullopt;
    if (!head) {
        d.repair = "the lane's commits are gone with it: move its WPs back with spec-kitty "
                   "agent tasks move-task " +
                   first.id +
                   " --to planned --force --note \"lane branch deleted\", then implement them "
                   "again";
        return d;
    }
    d.repair = "recreate " + v.branch + " at the lane worktree's commit " + head->substr(0, 12) +
               " (--fix)";
    d.fixable = true;
    if (fix) {
        repo.create_branch(v.branch, *head);
        d.fixed = true;
    }
    return d;
}

// The worktree is gone while a WP of the lane is being worked on: checked out again.
Diagnosis missing_worktree(loop::LoopState& state, const LaneView& v, Repository& repo, bool fix) {
    const loop::LoopWp& first = *v.active.front();
    Diagnosis d{"LANE_WORKTREE_MISSING",
                v.lane.lane_id,
                "the worktree " + v.worktree.string() + " of " + v.lane.lane_id +
                    " is missing while " + first.id + " is " + lane_name(first.lane),
                "check the branch " + v.branch + " out there again (--fix)",
                true,
                false,
                v.worktree};
    if (fix) {
        // git still records the deleted directory: that record goes first (the directory is
        // gone, so nothing but metadata is removed).
        std::error_code ec;
        for (const Worktree& w : repo.worktrees()) {
            if (w.path == v.worktree && !fs::exists(w.path, ec)) {
                repo.remove_worktree(w.name);
            }
        }
        loop::allocate_workspace(state, first, [] {});
        d.fixed = true;
    }
    return d;
}

// Lane worktrees and branches: missing, on another branch, deleted with work in progress.
void check_lanes(loop::LoopState& state, bool fix, std::vector<Diagnosis>& out) {
    Repository* repo = state.mission.repository();
    if (!state.lanes || !repo) {
        return;
    }
    for (const Lane& lane : state.lanes->lanes) {
        if (lane.is_planning()) {
            continue;
        }
        const LaneView v = view_lane(state, lane);
        if (!repo->branch_exists(v.branch)) {
            if (!v.unfinished.empty()) {
                out.push_back(deleted_branch(v, *repo, fix));
            }
            continue;
        }
        if (!v.has_worktree) {
            // Without WPs being worked on: not started, or its worktree removed after the
            // work was handed off.
            if (!v.active.empty()) {
                out.push_back(missing_worktree(state, v, *repo, fix));
            }
            continue;
        }
        const auto on = v.checkout ? v.checkout->current_branch() : std::nullopt;
        if (!on || *on != v.branch) {
            out.push_back(
                {"LANE_WORKTREE_WRONG_BRANCH", lane.lane_id,
                 "the worktree " + v.worktree.string() + " is on " +
                     (on ? *on : std::string("a detached HEAD")) + ", not " + v.branch,
                 "commit what is there, then git -C " + v.worktree.string() + " switch " + v.branch,
                 false, false, v.worktree});
        }
    }
}

// status.json is derived from the log: rewritten when it says something else.
void check_status_json(loop::LoopState& state, bool fix, std::vector<Diagnosis>& out) {
    const Mission& m = state.mission;
    std::error_code ec;
    if (!state.log_exists) {
        return;
    }
    const StatusSnapshot& snapshot = state.status();
    std::string number = m.identity().mission_number;
    if (number.empty()) {
        number = mission_number_from_slug(snapshot.mission_slug);
    }
    const fs::path file = m.status_json();
    const bool present = fs::exists(file, ec);
    if (present) {
        // materialized_at differs on every write: compare what the log says, not when.
        try {
            const Json on_disk = read_json_file(file);
            Json expected = parse_json(
                serialize_status_json(snapshot, number, m.identity().mission_type), file);
            Json actual = on_disk;
            expected.erase("materialized_at");
            actual.erase("materialized_at");
            if (actual == expected) {
                return;
            }
        } catch (const Error&) {
            // unreadable: out of step too
        }
    }
    Diagnosis d{"STATUS_JSON_STALE",
                m.slug(),
                present ? "status.json does not say what status.events.jsonl says"
                        : "status.json is missing beside status.events.jsonl",
                "write it again from the event log (--fix)",
                true,
                false,
                file};
    if (fix) {
        record_status_events(m, state.status(), {});
        d.fixed = true;
    }
    out.push_back(std::move(d));
}

void check_merge(const loop::LoopState& state, std::vector<Diagnosis>& out) {
    const Mission& m = state.mission;
    std::error_code ec;
    const fs::path file = merge_detail::state_file(m);
    if (fs::exists(file, ec)) {
        out.push_back({"MERGE_INTERRUPTED", m.slug(),
                       "a merge of " + m.slug() + " was stopped or interrupted",
                       "finish it with spec-kitty merge --mission " + m.slug() +
                           " --resume, or undo it with --abort",
                       false, false, file});
    }
}

void check_claims(loop::LoopState& state, std::vector<Diagnosis>& out) {
    state.lease_seconds = claim_lease_seconds(state.mission.project_root());
    loop::read_holder_liveness(state, "");
    for (const loop::LoopWp& wp : state.wps) {
        if (wp.liveness != Liveness::stale) {
            continue;
        }
        out.push_back({"STALE_CLAIM", wp.id,
                       wp.id + " is " + lane_name(wp.lane) + ", held by " + wp.holder() +
                           ", with no sign of life for " + std::to_string(wp.silent_seconds / 60) +
                           " min (lease " + std::to_string(state.lease_seconds / 60) + " min)",
                       wp.worktree_dirty
                           ? "its lane worktree has uncommitted changes: " + wp.holder() +
                                 " (or a person) commits them; then spec-kitty next hands the WP "
                                 "to another agent"
                           : "spec-kitty next --agent <another agent> takes it over",
                       false, false, wp.file()});
    }
}

// A rejection's feedback file that was never committed (a killed move-task, a hand edit).
void check_review_cycles(const loop::LoopState& state, bool fix, std::vector<Diagnosis>& out) {
    const Mission& m = state.mission;
    Repository* repo = m.repository();
    if (!repo || !m.root()) {
        return;
    }
    const std::string prefix = m.tasks_dir().lexically_relative(*m.root()).generic_string() + "/";
    std::vector<fs::path> files;
    for (const std::string& path : repo->changed_paths(prefix)) {
        if (fs::path(path).filename().string().starts_with("review-cycle-") &&
            path.ends_with(".md")) {
            files.push_back(path);
        }
    }
    if (files.empty()) {
        return;
    }
    std::vector<std::string> names;
    for (const fs::path& f : files) {
        names.push_back(f.generic_string());
    }
    Diagnosis d{"REVIEW_CYCLE_UNCOMMITTED",
                m.slug(),
                "review feedback not committed: " + join(names),
                "commit them as a workflow commit (--fix)",
                true,
                false,
                *m.root() / files.front()};
    if (fix) {
        const FileLock commits = loop::lock_commits(m);
        loop::check_workflow_commit(m);
        loop::commit_workflow(m, files, "chore: Commit review feedback of " + m.slug());
        d.fixed = true;
    }
    out.push_back(std::move(d));
}

} // namespace

std::vector<Diagnosis> diagnose_mission(const Mission& mission, bool fix) {
    loop::LoopState state = loop::read_loop_state(Mission::at_directory(mission.dir()));
    std::optional<FileLock> lock;
    if (fix) {
        lock.emplace(state.mission.lock_status());
        loop::refresh_status(state);
    }
    std::vector<Diagnosis> out;
    check_lanes(state, fix, out);
    check_status_json(state, fix, out);
    check_merge(state, out);
    check_claims(state, out);
    lock.reset(); // a commit takes the commit lock, never under the status lock
    check_review_cycles(state, fix, out);
    return out;
}

} // namespace kitty
