// The loop's decisions as pure functions of a typed loop state (docs/architecture.md):
// they read the state and return what to do; the commands apply and render it. Unit-tested
// on in-memory states (tests/unit/test_loop_decisions.cpp).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "kitty/loop.hpp"
#include "loop_model.hpp"

namespace kitty::loop {

// What the agent is given in a WP step: its own work first, then a claim gone stale whose
// lane worktree is clean (taken over: issue 22 §4), then new work in the step's preference;
// never a WP another live or idle agent holds or whose dependencies are not approved.
struct WorkPick {
    LoopWp* wp = nullptr;
    std::string action;
    std::optional<WpLane> reserve_to; // the lane the reservation moves it to
    std::string waiting;              // why nothing was picked
    std::string takeover_from;        // the stale holder it is taken from
};

WorkPick pick_work(LoopState& state, MissionStep step, const std::string& agent);

// A move-task decided on the state: the lanes walked and how.
struct Move {
    WpLane from = WpLane::planned;
    std::vector<std::pair<WpLane, WpLane>> steps; // one event each
    bool forced = false;
    bool rejection = false;      // a review verdict back to planned
    bool review_release = false; // a reviewer handing the review back
    bool needs_readiness = false;
};

// The hand-off verdict of a move-task: every check (ownership, review feedback for a
// rejection, a reason for a release, the open subtasks, the lane walk) and the move. A
// refusal is an Error(Exit::check_failed) with its code. `open_subtasks` gives the WP's
// unticked subtask lines; it is called only when the move hands work off.
Move decide_move(const LoopWp& wp, const MoveTaskRequest& request, WpLane to,
                 const std::optional<std::string>& feedback,
                 const std::function<std::vector<std::string>()>& open_subtasks);

} // namespace kitty::loop
