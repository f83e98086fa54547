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
                wp.review_claim ? "in_review" : "claimed", "", holder};
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
    const WorkPick implement{ready, "implement", "claimed", "", ""};
    const WorkPick review{reviewable, "review", "in_review", "", ""};
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

// The forward walk of a WP's lanes.
constexpr std::string_view kForward[] = {"planned",   "claimed",  "in_progress", "for_review",
                                         "in_review", "approved", "done"};

int forward_index(const std::string& lane) {
    for (std::size_t i = 0; i < std::size(kForward); ++i) {
        if (kForward[i] == lane) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

} // namespace

// The move's shape, without the checks.
Move plan_move(const LoopWp& wp, const MoveTaskRequest& request, const std::string& to) {
    Move move;
    move.from = lane_name(wp.lane);
    const std::string& from = move.from;
    // Back to planned is a review verdict (feedback required, kept as a review-cycle file)
    // or the release of a claim (a reason required).
    move.rejection = to == "planned" && (from == "for_review" || from == "in_review" ||
                                         from == "approved" || wp.review_claim);
    // A reviewer who will not finish hands the review back.
    move.review_release = to == "for_review" && wp.review_claim;
    const bool verdict_or_handoff =
        (to == "for_review" && !move.review_release) || to == "approved" || to == "done";
    move.needs_readiness = verdict_or_handoff && !request.force && from != to;
    return move;
}

// Every check of a move-task on the state read under the status lock (ownership, feedback,
// reason, subtasks, the lane walk), and the move; nothing is written.
Move decide_move(const LoopWp& wp, const MoveTaskRequest& request, const std::string& to,
                 const std::optional<std::string>& feedback,
                 const std::function<std::vector<std::string>()>& open_subtasks) {
    Move move = plan_move(wp, request, to);
    const std::string& from = move.from;
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
    if (((to == "planned" && !move.rejection && from != "planned") || move.review_release) &&
        py_strip(request.note).empty()) {
        throw Error(Exit::check_failed, "REASON_REQUIRED",
                    "moving " + wp.id + " from " + from + " back to planned needs a reason",
                    "say why with --note, e.g. --note \"released: not started\"");
    }
    if (from == to) {
        throw Error(Exit::check_failed, "ALREADY_IN_LANE", wp.id + " is already " + to,
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
                        "Cannot move " + wp.id + " to " + to + " - unchecked subtasks:" + list,
                        "tick them with spec-kitty agent tasks mark-status <ids> --status done, or "
                        "pass --force")
                .with({{"unchecked", open}});
        }
    }
    // The events: a forced move is one event; back to planned or a review handed back is
    // one event (forced where 3.1.1's matrix has no edge: a verdict or a release is
    // legitimate); a forward move walks every lane in between.
    const bool single_event = to == "planned" || move.review_release;
    move.forced = request.force;
    const int fi = forward_index(from), ti = forward_index(to);
    if (request.force || single_event || fi < 0 || ti < 0 || ti < fi) {
        move.steps.push_back({from, to});
        if (!request.force && !transition_allowed(from, to)) {
            if (!single_event) {
                throw Error(Exit::check_failed, "ILLEGAL_TRANSITION",
                            "Illegal transition: " + from + " -> " + to,
                            "follow the lane workflow, or pass --force");
            }
            move.forced = true;
        }
    } else {
        for (int i = fi; i < ti; ++i) {
            move.steps.push_back({std::string(kForward[i]), std::string(kForward[i + 1])});
            if (!transition_allowed(move.steps.back().first, move.steps.back().second)) {
                throw Error(Exit::check_failed, "ILLEGAL_TRANSITION",
                            "Illegal transition: " + move.steps.back().first + " -> " +
                                move.steps.back().second,
                            "follow the lane workflow, or pass --force");
            }
        }
    }
    return move;
}

} // namespace kitty::loop
