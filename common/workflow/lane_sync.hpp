// Lanes that keep up (issue 21 §2, ARCHITECTURE.md decision 12; private to
// common/workflow/): a lane branch brought up to date with what it builds on by merge, never
// by rebase, applied only when every merge is clean.
#pragma once

#include <string>
#include <vector>

#include "kitty/git.hpp"
#include "kitty/lanes.hpp"
#include "kitty/mission.hpp"

namespace kitty::loop {

struct LaneSync {
    enum class Result { up_to_date, synced, conflict, no_branch, dirty };
    Result result = Result::up_to_date;
    std::string branch;
    std::vector<std::string> sources;     // the branches it lacked, merged in this order
    std::string from;                     // the lane's tip before
    std::string to;                       // and after ("" unless synced)
    std::vector<MergeConflict> conflicts; // of the first source that conflicts
    std::string conflicting_source;
    std::vector<std::string> dirty; // the worktree's uncommitted changes (Result::dirty)
};

// What `lane` builds on that its branch does not hold: the mission branch, then the branch
// of each lane it depends on (lanes.json's depends_on_lanes), in that order. The target is
// not among them: it carries the mission's status commits, which lane branches must not
// change (LANE_CHANGES_PLANNING); what it received is merged by the merge's target step.
std::vector<std::string> sync_sources(const Repository& repo, const Mission& mission,
                                      const LanesManifest& lanes, const Lane& lane);

// Merges the sync sources into the lane branch, one merge commit each ("Merge <source> into
// <lane branch>"; a fast forward when the lane has nothing of its own). A conflict moves
// nothing: no ref, index or work-tree file. Otherwise the branch moves by compare and swap
// and the lane's worktree, when it has one, follows (its index and files; a local change
// the move would overwrite puts the branch back and is Error(Exit::conflict,
// "CHECKOUT_CONFLICT")). The caller checks that nobody else works in the lane, and that its
// worktree is clean unless it asks for WorktreeCheck::here: the worktree's status is then read
// while the merges are made, and changes there leave the lane as it was (Result::dirty; its
// merge commits stay behind unreferenced, as after a conflicting merge).
enum class WorktreeCheck { by_caller, here };
LaneSync sync_lane(Repository& repo, const Mission& mission, const LanesManifest& lanes,
                   const Lane& lane, WorktreeCheck check = WorktreeCheck::by_caller);

} // namespace kitty::loop
