// `spec-kitty merge` (../shared/spec/next-loop.md §8, ARCHITECTURE.md decision 10,
// docs/tools/kitty-merge.md): the approved lanes of a mission into its mission branch, then
// the mission branch onto the target, then `done` for every work package and the lane
// workspaces removed. Every check comes before the first ref moves; merges are made by
// libgit2 without touching a work tree, a conflict stops in a merge worktree that --resume
// continues and --abort discards, and the main checkout follows the target it has checked
// out, so its index never goes stale.
#pragma once

#include <string>

#include "kitty/loop.hpp"
#include "kitty/result.hpp"

namespace kitty {

struct MergeRequest {
    LoopTarget target;
    std::string target_branch; // empty: lanes.json's target_branch, else main
    std::string strategy;      // squash or merge; empty: merge.strategy in .kittify/config.yaml,
                               // else squash
    bool dry_run = false;
    bool keep_worktrees = false;
    bool keep_branches = false;
    bool resume = false;
    bool abort = false;
};

// Merges the mission (see the file comment). --dry-run prints the plan and the problems
// that would stop the merge, changing nothing (exit 1 or 4 when there are any).
Outcome merge_command(const MergeRequest& request);

} // namespace kitty
