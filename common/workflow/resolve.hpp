// Conflicts as loop steps (issue 21 §3, ARCHITECTURE.md decision 12; private to
// common/workflow/): the conflict the merge's forecast finds is handed to an agent as a
// `resolve` step in the lane's own worktree, prepared as `git merge` leaves a conflict, and
// checked when the agent reports it done.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/git.hpp"
#include "loop_model.hpp"

namespace kitty::loop {

// The first conflict the merge would stop at, and where it is resolved: in `lane_id`'s
// worktree by merging `other_branch` (the mission branch, an earlier lane or the target) into
// the lane. `lane_id` is empty when no single branch conflicts with one lane (the conflict
// comes from several together): then only kitty-merge's merge worktree can take it.
struct ForecastConflict {
    std::string lane_id;
    std::string other_branch;
    std::string other_commit;
    std::vector<MergeConflict> conflicts;
    std::string stop_lane_id; // the step of the merge that stops
};
std::optional<ForecastConflict> forecast_conflict(LoopState& state);

// A resolve step handed out: .kittify/runtime/resolve/<slug>.json.
struct ResolveTicket {
    std::string lane_id;
    std::string branch;
    std::string agent;
    std::string other_branch;
    std::string other_commit;
    std::string lane_tip_before;
    std::filesystem::path worktree;
    std::vector<MergeConflict> conflicts;
};
std::optional<ResolveTicket> read_resolve_ticket(const Mission& mission);
void remove_resolve_ticket(const Mission& mission);

// Starts merging the other side into the lane's worktree, which must be clean and not
// merging (else Error(Exit::conflict, "LANE_BUSY")), and records the ticket for `agent`.
ResolveTicket start_resolve(const LoopState& state, const ForecastConflict& conflict,
                            const std::string& agent);
// What still stands in the way: the merge not committed, markers left in a conflicting file,
// the lane branch without the other side. Empty when the conflict is resolved.
std::vector<std::string> resolve_problems(const LoopState& state, const ResolveTicket& ticket);
// Gives the step up: a merge still in progress in the worktree is aborted (the lane as it
// was), a committed resolution stays; the ticket is removed.
void abandon_resolve(const Mission& mission, const ResolveTicket& ticket);
// The prompt naming each file, its kind and both sides; returns its path.
std::filesystem::path write_resolve_prompt(const LoopState& state, const ResolveTicket& ticket);

} // namespace kitty::loop
