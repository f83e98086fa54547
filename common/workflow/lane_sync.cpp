#include "lane_sync.hpp"

#include "kitty/liveness.hpp"
#include "kitty/status.hpp"

#include <algorithm>
#include <future>

#include "kitty/error.hpp"
#include "kitty/loop.hpp"
#include "kitty/text.hpp"
#include "loop_model.hpp"
#include "merge_plan.hpp"

namespace fs = std::filesystem;

namespace kitty::loop {

std::vector<std::string> sync_sources(const Repository& repo, const Mission& mission,
                                      const LanesManifest& lanes, const Lane& lane) {
    const std::string branch = code_lane_branch(mission.slug(), lane.lane_id);
    const auto tip = repo.resolve_commit(branch);
    std::vector<std::string> wanted{mission_branch_of(lanes, mission.slug())};
    for (const std::string& upstream : lane.depends_on_lanes) {
        if (upstream != kPlanningLaneId) {
            wanted.push_back(code_lane_branch(mission.slug(), upstream));
        }
    }
    std::vector<std::string> sources;
    for (const std::string& source : wanted) {
        const auto source_tip = repo.resolve_commit(source);
        if (tip && source_tip && !repo.is_ancestor(*source_tip, *tip) &&
            std::find(sources.begin(), sources.end(), source) == sources.end()) {
            sources.push_back(source);
        }
    }
    return sources;
}

LaneSync sync_lane(Repository& repo, const Mission& mission, const LanesManifest& lanes,
                   const Lane& lane, WorktreeCheck check) {
    register_kitty_merge_drivers();
    LaneSync out;
    out.branch = code_lane_branch(mission.slug(), lane.lane_id);
    const auto tip = repo.resolve_commit(out.branch);
    if (!tip) {
        out.result = LaneSync::Result::no_branch;
        return out;
    }
    out.from = *tip;
    out.sources = sync_sources(repo, mission, lanes, lane);
    if (out.sources.empty()) {
        return out;
    }
    const fs::path worktree = mission.worktree_path(lane.lane_id);
    std::future<CheckoutScan> scan;
    if (check == WorktreeCheck::here) {
        scan = std::async(std::launch::async, [worktree] { return scan_checkout(worktree); });
    }
    std::string running = out.from;
    for (const std::string& source : out.sources) {
        const TrialMerge step =
            repo.trial_merge(running, source, "Merge " + source + " into " + out.branch);
        if (step.outcome == TrialMerge::Outcome::conflict) {
            out.result = LaneSync::Result::conflict;
            out.conflicts = step.conflicts;
            out.conflicting_source = source;
            return out;
        }
        running = step.commit;
    }
    CheckoutScan local = scan.valid() ? scan.get() : CheckoutScan{};
    if (!local.changes.empty()) {
        out.dirty = std::move(local.changes);
        out.result = LaneSync::Result::dirty;
        return out;
    }
    repo.move_branch(out.branch, running, out.from, "kitty lanes sync: " + join(out.sources));
    std::error_code ec;
    if (fs::is_directory(worktree, ec)) {
        try {
            // Through the scan's repository when there was one: its caches are warm.
            if (!local.repo) {
                local.repo = Repository::open(worktree);
            }
            local.repo->check_out_move(out.from, running);
        } catch (const Error&) {
            repo.move_branch(out.branch, out.from, running, "kitty lanes sync: undone");
            throw;
        }
    }
    out.result = LaneSync::Result::synced;
    out.to = running;
    return out;
}

} // namespace kitty::loop

namespace kitty {
namespace {

// The lanes asked for, in merge order (an upstream lane before the lanes that build on it),
// or every code lane when none is named.
std::vector<const Lane*> lanes_to_sync(const LanesManifest& lanes,
                                       const std::vector<std::string>& named) {
    for (const std::string& id : named) {
        if (id == kPlanningLaneId) {
            throw Error(Exit::usage, "PLANNING_LANE",
                        "lane-planning works in the main checkout on the target; it has no lane "
                        "branch to sync");
        }
        if (std::none_of(lanes.lanes.begin(), lanes.lanes.end(),
                         [&](const Lane& l) { return l.lane_id == id; })) {
            throw Error(Exit::usage, "UNKNOWN_LANE", "lanes.json has no lane " + id,
                        "spec-kitty workspace list shows the mission's lanes");
        }
    }
    std::vector<const Lane*> out;
    for (const Lane* lane : merge_detail::merge_order(lanes)) {
        if (!lane->is_planning() && (named.empty() || std::find(named.begin(), named.end(),
                                                                lane->lane_id) != named.end())) {
            out.push_back(lane);
        }
    }
    return out;
}

// What `lanes sync` did, lane by lane.
struct SyncReport {
    Json rows = Json::array();
    std::vector<std::string> synced, conflicting, blocked;
    std::string text;
};

// A lane held by another agent's WP is not synced (decision 11: the lane's worktree is one
// checkout, and its holder's).
void report_held(SyncReport& r, Json row, const Lane& lane, const loop::LoopWp& holder) {
    row["result"] = "held";
    row["held_by"] = Json{{"agent", holder.holder()}, {"wp_id", holder.id}};
    r.text +=
        lane.lane_id + ": not synced, " + holder.holder() + " works in it (" + holder.id + ")\n";
    r.blocked.push_back(lane.lane_id);
    r.rows.push_back(std::move(row));
}

void report_sync(SyncReport& r, Json row, const Lane& lane, const loop::LaneSync& s,
                 const Mission& m) {
    using Result = loop::LaneSync::Result;
    switch (s.result) {
    case Result::dirty:
        row["result"] = "dirty";
        row["paths"] = s.dirty;
        r.text += lane.lane_id + ": not synced, " + m.worktree_path(lane.lane_id).string() +
                  " has uncommitted changes (" + join(s.dirty) + ")\n";
        r.blocked.push_back(lane.lane_id);
        r.rows.push_back(std::move(row));
        return;
    case Result::synced:
        r.synced.push_back(lane.lane_id);
        r.text += lane.lane_id + ": merged " + join(s.sources) + " (" + s.to.substr(0, 7) + ")\n";
        break;
    case Result::conflict:
        r.conflicting.push_back(lane.lane_id);
        r.text += lane.lane_id + ": not synced, merging " + s.conflicting_source +
                  " conflicts in " + merge_detail::conflicts_text(s.conflicts) +
                  "; nothing changed\n";
        break;
    case Result::no_branch:
        r.text += lane.lane_id + ": no branch yet (the lane has not started)\n";
        break;
    case Result::up_to_date:
        r.text += lane.lane_id + ": up to date\n";
        break;
    }
    row["result"] = s.result == Result::synced      ? "synced"
                    : s.result == Result::conflict  ? "conflict"
                    : s.result == Result::no_branch ? "no_branch"
                                                    : "up_to_date";
    row["sources"] = s.sources;
    row["from"] = s.from.empty() ? Json(nullptr) : Json(s.from);
    row["to"] = s.to.empty() ? Json(nullptr) : Json(s.to);
    row["conflicts"] = merge_detail::conflicts_json(s.conflicts);
    row["conflicting_source"] =
        s.conflicting_source.empty() ? Json(nullptr) : Json(s.conflicting_source);
    r.rows.push_back(std::move(row));
}

// A conflict fails the command (exit 1); a lane named on the command line and not synced
// because it is held or dirty fails it too (exit 4).
Outcome render_sync(const SyncReport& r, const Mission& m, const LaneSyncRequest& request) {
    Json doc{{"mission_slug", m.slug()}, {"lanes", r.rows}, {"synced", r.synced}};
    Outcome out = Outcome::success(doc, r.text);
    if (r.conflicting.empty() && (r.blocked.empty() || request.lane_ids.empty())) {
        return out;
    }
    const bool conflict = !r.conflicting.empty();
    Json failure{
        {"error", conflict ? "merging what " + join(r.conflicting) + " builds on conflicts"
                           : join(r.blocked) + " cannot be synced now"},
        {"code", conflict ? "LANE_SYNC_CONFLICT" : "LANE_BUSY"},
        {"hint", conflict ? "the lanes were left as they were; in the lane's worktree, git merge "
                            "the conflicting branch, resolve the files and commit"
                          : "wait for the lane's holder to hand its WP off, or commit the "
                            "worktree's changes, then sync again"}};
    for (auto& [k, v] : doc.items()) {
        failure[k] = v;
    }
    out.document = std::move(failure);
    out.exit = conflict ? Exit::check_failed : Exit::conflict;
    return out;
}

} // namespace

Outcome lanes_sync_command(const LaneSyncRequest& request) {
    const GitPreload git_loads_meanwhile;
    const std::string agent = request.agent.empty() ? "" : loop::checked_agent(request.agent);
    const loop::LoopState state = loop::read_loop_state(loop::open_loop_mission(request.target));
    const Mission& m = state.mission;
    touch_heartbeat(m, agent, request.shell_pid);
    const LanesManifest& lanes = state.require_lanes();
    Repository& repo = loop::loop_repository(m);
    SyncReport report;
    for (const Lane* lane : lanes_to_sync(lanes, request.lane_ids)) {
        Json row{{"lane_id", lane->lane_id}, {"branch", code_lane_branch(m.slug(), lane->lane_id)}};
        if (const loop::LoopWp* holder = state.lane_holder(lane->lane_id, agent)) {
            report_held(report, std::move(row), *lane, *holder);
            continue;
        }
        report_sync(report, std::move(row), *lane,
                    loop::sync_lane(repo, m, lanes, *lane, loop::WorktreeCheck::here), m);
    }
    return render_sync(report, m, request);
}

} // namespace kitty
