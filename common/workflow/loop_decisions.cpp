#include "loop_decisions.hpp"

#include "kitty/error.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"

namespace kitty::loop {

WorkPick pick_work(LoopState& state, MissionStep step, const std::string& agent) {
    for (LoopWp& wp : state.wps) {
        if (wp.holder() == agent) {
            return {&wp, wp.review_claim ? "review" : "implement", std::nullopt, "", ""};
        }
    }
    std::string waiting;
    for (LoopWp& wp : state.wps) {
        const std::string holder = wp.holder();
        if (holder.empty() || holder == agent || wp.liveness != Liveness::stale) {
            continue;
        }
        if (wp.worktree_dirty) {
            waiting += (waiting.empty() ? "" : "; ") + wp.id + "'s claim by " + holder +
                       " is stale, but its lane worktree has uncommitted changes, which kitty "
                       "never discards: " +
                       holder + " (or a person) commits or removes them";
            continue;
        }
        return {&wp, wp.review_claim ? "review" : "implement",
                wp.review_claim ? WpLane::in_review : WpLane::claimed, "", holder};
    }
    LoopWp* ready = nullptr;
    LoopWp* reviewable = nullptr;
    for (LoopWp& wp : state.wps) {
        const std::string holder = wp.holder();
        if (wp.lane == WpLane::planned) {
            const auto unmet = state.unmet_dependencies(wp);
            const LoopWp* lane_holder = state.lane_held_by_other(wp, agent);
            if (unmet.empty() && lane_holder) {
                waiting += (waiting.empty() ? "" : "; ") + wp.id + " waits for " + wp.lane_id +
                           " (" + lane_holder->id + ", " + lane_holder->holder() + ")";
            } else if (unmet.empty()) {
                ready = ready ? ready : &wp;
            } else {
                std::string deps;
                for (const std::string& d : unmet) {
                    deps += (deps.empty() ? "" : ", ") + d;
                }
                waiting += (waiting.empty() ? "" : "; ") + wp.id + " waits for " + deps;
            }
        } else if (wp.lane == WpLane::for_review) {
            reviewable = reviewable ? reviewable : &wp;
        } else if (!holder.empty()) {
            const std::string_view liveness = liveness_name(wp.liveness);
            waiting += (waiting.empty() ? "" : "; ") + wp.id + " is " + lane_name(wp.lane) + " (" +
                       holder + (liveness.empty() ? "" : ", " + std::string(liveness)) + ")";
        } else if (wp.lane == WpLane::blocked) {
            waiting += (waiting.empty() ? "" : "; ") + wp.id + " is blocked";
        }
    }
    const WorkPick implement{ready, "implement", WpLane::claimed, "", ""};
    const WorkPick review{reviewable, "review", WpLane::in_review, "", ""};
    const WorkPick first = step == MissionStep::review ? review : implement;
    const WorkPick second = step == MissionStep::review ? implement : review;
    if (first.wp) {
        return first;
    }
    if (second.wp) {
        return second;
    }
    return {nullptr, "", std::nullopt,
            "No work package is ready for " + agent + (waiting.empty() ? "" : ": " + waiting), ""};
}

namespace {

// The forward walk of a WP's lanes: planned … done, in WpLane's order.
bool on_forward_walk(WpLane lane) {
    return lane <= WpLane::done;
}

// The move's shape, without the checks.
Move plan_move(const LoopWp& wp, const MoveTaskRequest& request, WpLane to) {
    Move move;
    move.from = wp.lane;
    const WpLane from = move.from;
    // Back to planned is a review verdict (feedback required, kept as a review-cycle file)
    // or the release of a claim (a reason required).
    move.rejection =
        to == WpLane::planned && (from == WpLane::for_review || from == WpLane::in_review ||
                                  from == WpLane::approved || wp.review_claim);
    // A reviewer who will not finish hands the review back.
    move.review_release = to == WpLane::for_review && wp.review_claim;
    const bool verdict_or_handoff = (to == WpLane::for_review && !move.review_release) ||
                                    to == WpLane::approved || to == WpLane::done;
    move.needs_readiness = verdict_or_handoff && !request.force && from != to;
    return move;
}

} // namespace

// Every check of a move-task on the state read under the status lock (ownership, feedback,
// reason, subtasks, the lane walk), and the move; nothing is written.
Move decide_move(const LoopWp& wp, const MoveTaskRequest& request, WpLane to,
                 const std::optional<std::string>& feedback,
                 const std::function<std::vector<std::string>()>& open_subtasks) {
    Move move = plan_move(wp, request, to);
    const WpLane from = move.from;
    // The holder of a claim (a reservation by `next` has no frontmatter agent yet), else
    // the agent the WP file names.
    const std::string owner = !wp.holder().empty() ? wp.holder() : wp.agent();
    if (!owner.empty() && !request.agent.empty() && owner != request.agent && !request.force) {
        throw Error(Exit::check_failed, "AGENT_MISMATCH",
                    "Agent mismatch: " + wp.id + " is assigned to '" + owner + "', not '" +
                        request.agent + "'. Use --force to override.",
                    "run it as the assigned agent, or pass --force");
    }
    if (move.rejection && (!feedback || py_strip(*feedback).empty())) {
        throw Error(Exit::check_failed, "FEEDBACK_REQUIRED",
                    "Moving " + wp.id + " to 'planned' requires review feedback.",
                    "write what must change to a file and pass --review-feedback-file <file>");
    }
    if (((to == WpLane::planned && !move.rejection && from != WpLane::planned) ||
         move.review_release) &&
        py_strip(request.note).empty()) {
        throw Error(Exit::check_failed, "REASON_REQUIRED",
                    "moving " + wp.id + " from " + lane_name(from) +
                        " back to planned needs a reason",
                    "say why with --note, e.g. --note \"released: not started\"");
    }
    if (from == to) {
        throw Error(Exit::check_failed, "ALREADY_IN_LANE", wp.id + " is already " + lane_name(to),
                    "nothing to move");
    }
    if (move.needs_readiness) {
        const std::vector<std::string> open = open_subtasks();
        if (!open.empty()) {
            std::string list;
            for (const std::string& l : open) {
                list += "\n  " + l;
            }
            throw Error(Exit::check_failed, "UNCHECKED_SUBTASKS",
                        "Cannot move " + wp.id + " to " + lane_name(to) +
                            " - unchecked subtasks:" + list,
                        "tick them with spec-kitty agent tasks mark-status <ids> --status done, or "
                        "pass --force")
                .with({{"unchecked", open}});
        }
    }
    // The events: a forced move is one event; back to planned or a review handed back is
    // one event (forced where 3.1.1's matrix has no edge: a verdict or a release is
    // legitimate); a forward move walks every lane in between.
    const bool single_event = to == WpLane::planned || move.review_release;
    move.forced = request.force;
    const auto illegal = [](WpLane a, WpLane b) {
        return Error(Exit::check_failed, "ILLEGAL_TRANSITION",
                     "Illegal transition: " + lane_name(a) + " -> " + lane_name(b),
                     "follow the lane workflow, or pass --force");
    };
    if (request.force || single_event || !on_forward_walk(from) || !on_forward_walk(to) ||
        to < from) {
        move.steps.push_back({from, to});
        if (!request.force && !transition_allowed(lane_name(from), lane_name(to))) {
            if (!single_event) {
                throw illegal(from, to);
            }
            move.forced = true;
        }
    } else {
        for (auto i = static_cast<int>(from); i < static_cast<int>(to); ++i) {
            const auto a = static_cast<WpLane>(i), b = static_cast<WpLane>(i + 1);
            move.steps.push_back({a, b});
            if (!transition_allowed(lane_name(a), lane_name(b))) {
                throw illegal(a, b);
            }
        }
    }
    return move;
}

} // namespace kitty::loop
