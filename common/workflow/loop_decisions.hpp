// The loop's decisions as pure functions of a typed loop state (docs/architecture.md):
// they read the state and return what to do; the commands apply and render it. Unit-tested
// on in-memory states (tests/unit/test_loop_decisions.cpp).
#pragma once

#include <optional>
#include <string>

#include "loop_model.hpp"

namespace kitty::loop {

// What the agent is given in a WP step: its own work first, then a claim gone stale whose
// lane worktree is clean (taken over: issue 22 §4), then new work in the step's preference;
// never a WP another live or idle agent holds or whose dependencies are not approved.
struct WorkPick {
    LoopWp* wp = nullptr;
    std::string action;
    std::optional<std::string> reserve_to; // the lane the reservation moves it to
    std::string waiting;                   // why nothing was picked
    std::string takeover_from;             // the stale holder it is taken from
};

WorkPick pick_work(LoopState& state, const std::string& step, const std::string& agent);

} // namespace kitty::loop
