// `agent action implement|review` and the lane workspaces (next-loop.md §4-§6): every check
// first, then workspace, events, frontmatter and one commit with 3.1.1's subject.
#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/liveness.hpp"
#include "kitty/loop.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "loop_model.hpp"
#include "loop_transaction.hpp"

namespace fs = std::filesystem;

namespace kitty {

namespace action_detail {

using loop::LoopState;
using loop::LoopWp;

// The WP an action names; it must have status events (finalize-tasks gives them).
LoopWp& find_wp(LoopState& state, const std::string& text) {
    LoopWp* wp = &state.get(text);
    if (!wp->has_events) {
        throw Error(Exit::input, "NO_CANONICAL_STATUS", "WP " + wp->id + " has no canonical status",
                    "run spec-kitty agent mission finalize-tasks --mission " + state.mission.slug())
            .at(state.mission.events_log());
    }
    return *wp;
}

// The WP an action works on: the one named, else the agent's own claim of that kind, else
// the first ready one (planned with its dependencies approved; for_review for a review).
LoopWp& chosen_wp(LoopState& state, const std::string& named, const std::string& agent,
                  bool review) {
    if (!named.empty()) {
        return find_wp(state, named);
    }
    for (LoopWp& wp : state.wps) {
        if (wp.holder() == agent && wp.review_claim == review) {
            return wp;
        }
    }
    for (LoopWp& wp : state.wps) {
        const bool ready = review ? wp.lane == WpLane::for_review
                                  : wp.has_events && wp.lane == WpLane::planned &&
                                        state.unmet_dependencies(wp).empty() &&
                                        !state.lane_held_by_other(wp, agent);
        if (ready) {
            return wp;
        }
    }
    throw review ? Error(Exit::check_failed, "NO_WP_FOR_REVIEW",
                         "No work packages ready for review. Specify a WP ID explicitly.",
                         "spec-kitty next --agent " + agent + " shows what is ready")
                 : Error(Exit::check_failed, "NO_PLANNED_WP",
                         "No planned work packages found. Specify a WP ID explicitly.",
                         "spec-kitty next --agent " + agent + " shows what is ready");
}

void refuse_other_holder(const LoopWp& wp, const std::string& agent) {
    const std::string holder = wp.holder();
    if (!holder.empty() && holder != agent) {
        throw Error(Exit::conflict, "WP_HELD",
                    wp.id + " is " + lane_name(wp.lane) + " and held by " + holder + ", not " +
                        agent,
                    "pick another work package (spec-kitty next); " + holder +
                        " releases it with spec-kitty agent tasks move-task " + wp.id +
                        (wp.review_claim ? " --to for_review" : " --to planned") + " --agent " +
                        holder + " --note \"<why>\"");
    }
}

// The events that take `wp` into in_progress for an implementation (§4.2).
std::vector<StatusEvent> implementation_events(const Mission& m, const LoopWp& wp,
                                               const std::string& actor) {
    std::vector<StatusEvent> out;
    const std::string mode = wp.planning() ? "direct_repo" : "worktree";
    const auto add = [&](WpLane from, WpLane to, bool force, std::optional<std::string> reason) {
        StatusEvent e = loop::make_event(m, wp.id, from, to, actor);
        e.force = force;
        e.reason = std::move(reason);
        e.execution_mode = mode;
        out.push_back(std::move(e));
    };
    if (wp.lane == WpLane::planned) {
        add(WpLane::planned, WpLane::claimed, false, std::nullopt);
        add(WpLane::claimed, WpLane::in_progress, false, std::nullopt);
    } else if (wp.lane == WpLane::claimed) {
        add(WpLane::claimed, WpLane::in_progress, false, std::nullopt);
    } else if (wp.lane == WpLane::for_review || wp.lane == WpLane::in_review ||
               wp.lane == WpLane::approved) {
        add(wp.lane, WpLane::in_progress, true, "Re-implementing after review feedback");
    }
    return out;
}

struct Started {
    loop::Allocation allocation;
    std::string from_lane;
    std::string commit;
    std::vector<Finding> findings;
};

// Whether `agent` may start implementing `wp` in `state` (none of these is a write).
void check_implementable(const LoopState& state, const LoopWp& wp, const std::string& agent) {
    if (wp.lane == WpLane::done || wp.lane == WpLane::canceled) {
        throw Error(Exit::check_failed, "WP_FINISHED", wp.id + " is " + lane_name(wp.lane),
                    "nothing is left to implement in it");
    }
    if (wp.lane == WpLane::blocked) {
        throw Error(Exit::check_failed, "WP_BLOCKED", wp.id + " is blocked",
                    "move it back to planned once the cause is fixed");
    }
    if (!agent.empty()) {
        refuse_other_holder(wp, agent);
    }
    if (wp.lane == WpLane::planned || wp.lane == WpLane::claimed) {
        if (const auto unmet = state.unmet_dependencies(wp); !unmet.empty()) {
            throw Error(Exit::check_failed, "DEPENDENCIES_NOT_APPROVED",
                        wp.id + " depends on " + join(unmet) + ", not yet approved",
                        "implement and approve those first; spec-kitty next hands out what is "
                        "ready");
        }
    }
    if (const LoopWp* other = state.lane_held_by_other(wp, agent)) {
        throw Error(Exit::conflict, "LANE_HELD",
                    wp.id + "'s lane " + wp.lane_id + " is held by " +
                        (other->holder().empty() ? "another agent" : other->holder()) + " with " +
                        other->id + " (" + lane_name(other->lane) +
                        "); one agent works in a lane's worktree at a time",
                    "pick another work package (spec-kitty next); " + wp.id +
                        " is handed out once " + other->id + " is handed off for review");
    }
}

// The implementation start shared by `agent action implement` and the internal allocate,
// as one loop transaction: the checks on the state read without the status lock, the
// workspace made ready (under the commit lock: it may commit planning artifacts and cut
// branches), then under the status lock the checks again and the claim's events (none when
// `claim_planned_only` and the WP is not planned), then the frontmatter and the commit.
Started start_implementation(loop::LoopTransaction& t, const std::string& wp_id,
                             const std::string& actor, const std::string& agent,
                             const std::string& shell_pid, const std::string& subject,
                             bool claim_planned_only) {
    LoopState& state = t.state();
    const Mission& m = state.mission;
    check_implementable(state, *state.find(wp_id), agent);
    loop::check_workflow_commit(m);
    Started out;
    {
        const FileLock commits = loop::lock_commits(m);
        // A new lane is cut from the target branch: the mission's planning files must be on
        // it.
        out.allocation = loop::allocate_workspace(state, *state.find(wp_id), [&] {
            loop::commit_planning_artifacts(state, wp_id, agent);
        });
    }
    t.lock();
    LoopWp& wp = *state.find(wp_id);
    check_implementable(state, wp, agent);
    out.from_lane = lane_name(wp.lane);
    std::vector<StatusEvent> events;
    if (!claim_planned_only || wp.lane == WpLane::planned) {
        events = implementation_events(m, wp, actor);
    }
    const std::string note = wp.lane == WpLane::in_progress
                                 ? "Assigned agent via action command"
                                 : "Started implementation via action command";
    // Also with no new event: status.json is brought up to date (a killed run may have
    // appended events without putting it in place) before it is committed.
    t.record(events);
    if (!agent.empty()) {
        wp.set_agent(agent);
    }
    t.edit(wp.file(), [&, note, record = !events.empty()](const std::string& before) {
        std::string text = before;
        if (!agent.empty()) {
            text = loop::set_frontmatter_scalar(text, "agent", agent);
        }
        if (!shell_pid.empty() && (record || !agent.empty())) {
            text = loop::set_frontmatter_scalar(text, "shell_pid", shell_pid);
        }
        if (!agent.empty()) {
            text = loop::append_activity(text, agent, shell_pid, note);
        }
        return text;
    });
    out.commit = t.commit(subject);
    out.findings = t.findings();
    return out;
}

// The workspace keys of an action's document.
void add_workspace(Json& doc, const Mission& m, const loop::Workspace& ws) {
    const fs::path rel = ws.planning ? fs::path(".") : ws.path.lexically_relative(m.project_root());
    doc["workspace_path"] = ws.path.string();
    doc["workspace"] = rel.generic_string();
    doc["branch"] = ws.planning ? Json(nullptr) : Json(ws.branch);
    doc["lane_id"] = ws.lane_id;
    doc["execution_mode"] = ws.planning ? "planning_artifact" : "code_change";
}

} // namespace action_detail

Outcome implement_action_command(const ActionRequest& request) {
    using namespace action_detail;
    const std::string& agent = loop::checked_agent(request.agent);
    const GitPreload git_loads_meanwhile;
    loop::LoopTransaction t(request.target);
    LoopState& state = t.state();
    const Mission& m = state.mission;
    touch_heartbeat(m, agent, request.shell_pid);
    LoopWp& wp = chosen_wp(state, request.wp_id, agent, false);
    const Started started =
        start_implementation(t, wp.id, agent, agent, request.shell_pid,
                             "chore: Start " + wp.id + " implementation [" + agent + "]", false);
    const loop::Workspace& ws = started.allocation.workspace;
    const fs::path prompt = loop::write_wp_prompt(state, wp, "implement", agent);
    const auto feedback = loop::review_feedback(state, wp.id);
    Json doc{{"result", "success"},
             {"wp_id", wp.id},
             {"agent", agent},
             {"mission_slug", m.slug()},
             {"from_lane", started.from_lane},
             {"lane", wp.lane}};
    add_workspace(doc, m, ws);
    doc["workspace_created"] = started.allocation.created;
    doc["base_commit"] = started.allocation.base_commit.empty()
                             ? Json(nullptr)
                             : Json(started.allocation.base_commit);
    doc["commit"] = started.commit.empty() ? Json(nullptr) : Json(started.commit);
    doc["lane_synced_from"] = started.allocation.synced_from;
    doc["review_feedback_file"] = feedback ? Json(feedback->string()) : Json(nullptr);
    doc["prompt_file"] = prompt.string();
    doc["next_command"] = "spec-kitty agent tasks move-task " + wp.id +
                          " --to for_review --agent " + agent + " --mission " + m.slug();
    std::string text = "✓ Claimed " + wp.id + " (agent: " + agent + ")\n";
    text += "📍 Workspace: cd " + ws.path.string() + "\n";
    text += ws.planning ? "   Repository-root planning workspace\n"
                        : "   Lane workspace: " + ws.lane_id + " (shared by " +
                              join(ws.lane_wp_ids) + ")\n";
    if (!started.allocation.synced_from.empty()) {
        text += "   Brought up to date first: merged " + join(started.allocation.synced_from) +
                " into " + ws.branch + "\n";
    }
    if (feedback) {
        text += "⚠️  Has review feedback - read " + feedback->string() + "\n";
    }
    text += "▶▶▶ NEXT STEP: Read the full prompt file now:\n    cat " + prompt.string() + "\n";
    Outcome out = Outcome::success(std::move(doc), text);
    out.findings = started.findings;
    return out;
}

Outcome review_action_command(const ActionRequest& request) {
    using namespace action_detail;
    const std::string& agent = loop::checked_agent(request.agent);
    const GitPreload git_loads_meanwhile;
    loop::LoopTransaction t(request.target);
    LoopState& state = t.state();
    const Mission& m = state.mission;
    touch_heartbeat(m, agent, request.shell_pid);
    loop::check_workflow_commit(m);
    t.lock();
    LoopWp& wp = chosen_wp(state, request.wp_id, agent, true);
    std::vector<StatusEvent> events;
    if (wp.lane == WpLane::for_review) {
        StatusEvent e = loop::make_event(m, wp.id, WpLane::for_review, WpLane::in_review, agent);
        e.reason = "Started review via action command";
        e.execution_mode = wp.planning() ? "direct_repo" : "worktree";
        events.push_back(std::move(e));
    } else if (wp.review_claim) {
        refuse_other_holder(wp, agent);
    } else if (wp.lane == WpLane::in_progress || wp.lane == WpLane::claimed) {
        throw Error(Exit::check_failed, "WP_NOT_FOR_REVIEW",
                    wp.id + " is still being implemented, not claimed for review.",
                    "the implementer hands it off with spec-kitty agent tasks move-task " + wp.id +
                        " --to for_review");
    } else {
        throw Error(Exit::check_failed, "WP_NOT_FOR_REVIEW",
                    wp.id + " is in lane '" + lane_name(wp.lane) + "', not 'for_review'.",
                    "only a work package handed off for review can be reviewed");
    }
    const loop::Workspace ws = loop::workspace_of(state, wp);
    std::error_code ec;
    if (!ws.planning && !fs::is_directory(ws.path, ec)) {
        throw Error(Exit::input, "NO_WORKSPACE",
                    "the lane worktree " + ws.path.string() + " of " + wp.id + " does not exist",
                    "the work is on " + ws.branch +
                        "; recreate the worktree with spec-kitty "
                        "implement " +
                        wp.id)
            .at(ws.path);
    }
    t.record(events);
    t.edit(wp.file(), [&](const std::string& before) {
        std::string text = loop::set_frontmatter_scalar(before, "agent", agent);
        if (!request.shell_pid.empty()) {
            text = loop::set_frontmatter_scalar(text, "shell_pid", request.shell_pid);
        }
        return loop::append_activity(text, agent, request.shell_pid,
                                     "Started review via action command");
    });
    const std::string commit = t.commit("chore: Start " + wp.id + " review [" + agent + "]");
    const std::vector<Finding> findings = t.findings();
    const fs::path prompt = loop::write_wp_prompt(state, wp, "review", agent);
    Json doc{{"result", "success"},
             {"wp_id", wp.id},
             {"agent", agent},
             {"mission_slug", m.slug()},
             {"lane", wp.lane}};
    add_workspace(doc, m, ws);
    doc["commit"] = commit.empty() ? Json(nullptr) : Json(commit);
    doc["prompt_file"] = prompt.string();
    doc["approve_command"] = "spec-kitty agent tasks move-task " + wp.id +
                             " --to approved --agent " + agent + " --mission " + m.slug();
    doc["reject_command"] = "spec-kitty agent tasks move-task " + wp.id + " --to planned --agent " +
                            agent + " --mission " + m.slug() + " --review-feedback-file <file>";
    std::string out_text = "✓ Claimed " + wp.id + " for review (agent: " + agent + ")\n";
    out_text += "📍 Workspace: cd " + ws.path.string() + "\n";
    out_text += "▶▶▶ NEXT STEP: Read the full prompt file now:\n    cat " + prompt.string() + "\n";
    out_text += "✅ Approve: " + doc["approve_command"].get<std::string>() + "\n";
    out_text += "❌ Reject:  " + doc["reject_command"].get<std::string>() + "\n";
    Outcome out = Outcome::success(std::move(doc), out_text);
    out.findings = findings;
    return out;
}

Outcome workspace_allocate_command(const WorkspaceRequest& request) {
    using namespace action_detail;
    loop::checked_agent(request.actor);
    loop::LoopTransaction t(request.target);
    LoopState& state = t.state();
    const Mission& m = state.mission;
    LoopWp& wp = find_wp(state, request.wp_id);
    const Started started =
        start_implementation(t, wp.id, request.actor, "", request.shell_pid,
                             "chore: " + wp.id + " claimed for implementation", true);
    const loop::Workspace& ws = started.allocation.workspace;
    Json doc;
    add_workspace(doc, m, ws);
    Json out_doc{{"workspace", doc["workspace"]},
                 {"workspace_path", doc["workspace"]},
                 {"branch", doc["branch"]},
                 {"mission_slug", m.slug()},
                 {"mission_number", mission_number_from_slug(m.slug())},
                 {"mission_type", m.identity().mission_type},
                 {"wp_id", wp.id},
                 {"lane_id", ws.lane_id},
                 {"execution_mode", doc["execution_mode"]},
                 {"status", started.allocation.created || ws.planning ? "created" : "reused"},
                 {"absolute_path", ws.path.string()},
                 {"lane", wp.lane},
                 {"commit", started.commit.empty() ? Json(nullptr) : Json(started.commit)}};
    std::string text = ws.planning ? "Planning work: the workspace is the main checkout\n  cd " +
                                         ws.path.string() + "\n"
                                   : "→ Lane branch: " + ws.branch +
                                         "\nCRITICAL: Change to the lane worktree before editing "
                                         "files\n  cd " +
                                         ws.path.string() + "\n";
    Outcome out = Outcome::success(std::move(out_doc), text);
    out.findings = started.findings;
    return out;
}

Outcome workspace_list_command(const WorkspaceRequest& request) {
    const loop::LoopState state = loop::read_loop_state(loop::open_loop_mission(request.target));
    const Mission& m = state.mission;
    state.require_lanes();
    Repository& repo = loop::loop_repository(m);
    Json lanes = Json::array();
    std::string text = m.slug() + "\n";
    std::error_code ec;
    for (const Lane& lane : state.lanes->lanes) {
        Json row{{"lane_id", lane.lane_id}, {"wp_ids", lane.wp_ids}};
        if (lane.is_planning()) {
            row["workspace_path"] = m.project_root().string();
            row["branch"] = nullptr;
            row["worktree_exists"] = true;
            text += "  " + lane.lane_id + "  main checkout\n";
        } else {
            const fs::path path = m.worktree_path(lane.lane_id);
            const std::string branch = lane_branch_name(m.slug(), lane, state.lanes->target_branch);
            const fs::path context = loop::context_file(m, lane.lane_id);
            const bool exists = fs::is_directory(path, ec);
            row["workspace_path"] = path.string();
            row["branch"] = branch;
            row["branch_exists"] = repo.branch_exists(branch);
            row["worktree_exists"] = exists;
            row["context_file"] = fs::exists(context, ec) ? Json(context.string()) : Json(nullptr);
            std::vector<std::string> dirty;
            if (exists) {
                if (auto lane_repo = Repository::discover(path)) {
                    dirty = lane_repo->changed_paths();
                }
            }
            row["uncommitted"] = dirty;
            text += "  " + lane.lane_id + "  " + (exists ? path.string() : "(no worktree)") + "  " +
                    branch + (dirty.empty() ? "" : "  (uncommitted changes)") + "\n";
        }
        lanes.push_back(row);
    }
    return Outcome::success(Json{{"mission_slug", m.slug()}, {"lanes", lanes}}, text);
}

Outcome workspace_remove_command(const WorkspaceRequest& request) {
    const Mission m = loop::open_loop_mission(request.target);
    const std::string& lane_id = checked_path_component(request.lane_id, "lane id");
    if (lane_id == kPlanningLaneId) {
        throw Error(Exit::usage, "PLANNING_LANE",
                    "lane-planning works in the main checkout; it has no worktree to remove");
    }
    Repository& repo = loop::loop_repository(m);
    const std::string name = worktree_name(m.slug(), lane_id);
    const fs::path path = m.worktree_path(lane_id);
    const fs::path context = loop::context_file(m, lane_id);
    bool listed = false;
    for (const Worktree& w : repo.worktrees()) {
        listed = listed || w.name == name;
    }
    std::error_code ec;
    if (!listed && !fs::exists(context, ec)) {
        throw Error(Exit::input, "NO_WORKSPACE",
                    "lane " + lane_id + " of " + m.slug() + " has no worktree or context file",
                    "spec-kitty workspace list --mission " + m.slug() + " shows the lanes");
    }
    if (listed && fs::is_directory(path, ec) && !request.force) {
        if (auto lane_repo = Repository::discover(path)) {
            const auto dirty = lane_repo->changed_paths();
            if (!dirty.empty()) {
                throw Error(Exit::conflict, "LANE_DIRTY",
                            "the worktree " + path.string() + " has uncommitted changes",
                            "commit them, or pass --force to discard them")
                    .with({{"paths", dirty}});
            }
        }
    }
    const std::string branch = code_lane_branch(m.slug(), lane_id);
    if (listed) {
        repo.remove_worktree(name);
    }
    if (fs::exists(context, ec)) {
        fs::remove(m.writable(context), ec);
    }
    bool deleted = false;
    if (request.delete_branch && repo.branch_exists(branch)) {
        repo.delete_branch(branch);
        deleted = true;
    }
    return Outcome::success(Json{{"mission_slug", m.slug()},
                                 {"lane_id", lane_id},
                                 {"worktree_removed", listed},
                                 {"branch", branch},
                                 {"branch_deleted", deleted}},
                            "Removed the worktree of " + lane_id +
                                (deleted ? " and " + branch : "") + "\n");
}

} // namespace kitty
