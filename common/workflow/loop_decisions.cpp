#include "loop_decisions.hpp"

#include "kitty/text.hpp"

namespace kitty::loop {

WorkPick pick_work(LoopState& state, const std::string& step, const std::string& agent) {
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
        if (wp.lane == "planned") {
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
        } else if (wp.lane == "for_review") {
            reviewable = reviewable ? reviewable : &wp;
        } else if (!holder.empty()) {
            const std::string_view liveness = liveness_name(wp.liveness);
            waiting += (waiting.empty() ? "" : "; ") + wp.id + " is " + wp.lane + " (" + holder +
                       (liveness.empty() ? "" : ", " + std::string(liveness)) + ")";
        } else if (wp.lane == "blocked") {
            waiting += (waiting.empty() ? "" : "; ") + wp.id + " is blocked";
        }
    }
    const WorkPick implement{ready, "implement", "claimed", "", ""};
    const WorkPick review{reviewable, "review", "in_review", "", ""};
    const WorkPick first = step == "review" ? review : implement;
    const WorkPick second = step == "review" ? implement : review;
    if (first.wp) {
        return first;
    }
    if (second.wp) {
        return second;
    }
    return {nullptr, "", std::nullopt,
            "No work package is ready for " + agent + (waiting.empty() ? "" : ": " + waiting), ""};
}

} // namespace kitty::loop
