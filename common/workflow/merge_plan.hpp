// The merge's plan and its forecast (private to common/workflow/): what kitty-merge will
// merge in which order and what stops it (merge.cpp), and what merging it would give, found
// by merging in memory (merge_forecast.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kitty/git.hpp"
#include "kitty/json.hpp"
#include "kitty/lanes.hpp"
#include "kitty/merge.hpp"
#include "loop_model.hpp"

namespace kitty::merge_detail {

struct Step {
    std::string lane_id;
    std::string branch; // merged into the mission branch; the target for lane-planning
    std::vector<std::string> wp_ids;
    bool planning = false;
    // stale_paths against the mission branch, when the plan computed them (a fresh merge)
    std::optional<std::vector<std::string>> stale;
};

// What a merge will do, and what stops it.
struct Plan {
    std::string target;
    std::string strategy;
    std::string mission_branch;
    std::vector<Step> steps; // code lanes in dependency order, then lane-planning
    std::vector<std::string> approved;
    Json problems = Json::array();
    bool conflict = false; // some problem is a conflict with existing state (exit 4)

    void refuse(const std::string& code, const std::string& message, Json details = Json::object(),
                bool with_state = false) {
        Json p = Json{{"code", code}, {"message", message}};
        for (auto& [k, v] : details.items()) {
            p[k] = v;
        }
        problems.push_back(std::move(p));
        conflict = conflict || with_state;
    }
};

// What make_plan checks besides the steps: everything (a merge, the accept gate), or only
// what decides the steps, for the loop's forecast, which reads no problem: no checkout's
// status scanned, no branch outside lanes.json looked for.
enum class PlanChecks { all, steps_only };

// What the plan reads from git and the disk, read once by read_plan_facts, so that deciding
// the plan (decide_plan) is a pure function of the loop state, the request and these facts.
struct PlanFacts {
    std::string configured_strategy; // merge.strategy in .kittify/config.yaml ("" unset)
    bool target_exists = false;
    std::optional<std::string> checked_out; // the main checkout's branch; none: detached
    std::vector<std::string> main_changes;  // its uncommitted paths (a fresh merge)
    std::string mission_tip;                // "" when the mission branch does not exist
    struct LaneFacts {
        std::optional<std::string> tip; // none: the lane branch does not exist
        // stale_paths against the mission branch, when it does not hold the lane (a fresh
        // merge)
        std::optional<std::vector<std::string>> stale;
        std::vector<std::string> changes; // the worktree's uncommitted paths (every check)
    };
    std::map<std::string, LaneFacts> lanes; // the code lanes with work to merge, by id
    // The mission's lane branches lanes.json does not list, and whether the mission branch
    // or the target holds each (every check).
    struct UnlistedBranch {
        std::string branch, tip;
        bool kept = false;
    };
    std::vector<UnlistedBranch> unlisted;
};

PlanFacts read_plan_facts(loop::LoopState& state, const MergeRequest& request, bool fresh,
                          PlanChecks checks);

// The plan and its problems, in the order they are reported: WPs not approved, the target,
// the main checkout (`fresh`: a new merge), each code lane in merge order (its branch, its
// staleness, its worktree), approved work no step merges, the mission branch. Pure.
Plan decide_plan(const loop::LoopState& state, const MergeRequest& request, bool fresh,
                 PlanChecks checks, const PlanFacts& facts);

// decide_plan on read_plan_facts: the mission's plan with every check of ARCHITECTURE.md
// decision 10 made; nothing written.
Plan make_plan(loop::LoopState& state, const MergeRequest& request, bool fresh,
               PlanChecks checks = PlanChecks::all);

// The persisted progress of an unfinished merge: .kittify/runtime/merge/<slug>/kitty-state.json
// (its presence means a merge was interrupted or stopped on a conflict).
std::filesystem::path state_file(const Mission& m);

// The files of a checkout that hold conflict markers, among `paths`.
std::vector<std::string> unresolved(const std::filesystem::path& dir,
                                    const std::vector<std::string>& paths);

// Code lanes in dependency order (a lane after the lanes it depends on; otherwise in
// lanes.json's order, by smallest WP id), lane-planning last.
std::vector<const Lane*> merge_order(const LanesManifest& lanes);

// 3.1.1's stale rule: the files the mission branch changed since the lane forked from it
// that the lane changed too, sorted; none when the mission branch holds the lane.
std::vector<std::string> stale_paths(const Repository& repo, const std::string& lane_tip,
                                     const std::string& mission_tip);

// What the real merge would do at one step.
enum class StepAction {
    nothing,      // the mission branch holds it already
    fast_forward, // the mission branch moves to it
    merge,        // a merge commit on the mission branch
    stop,         // conflicts: the merge stops here for them to be resolved
    not_reached,  // the merge stops at an earlier step
};

struct StepForecast {
    Step step;
    std::string source; // the commit merged ("" when the branch does not exist)
    TrialMerge trial;
    StepAction action = StepAction::nothing;
    std::vector<std::string> stale;        // stale_paths against the mission branch
    std::vector<std::string> behind_lanes; // upstream lanes whose tip it does not hold
};

struct MergeForecast {
    std::vector<StepForecast> steps;
    std::optional<std::string> stops_at; // the lane id of the first conflicting step
    // The target as the merge would leave it: its commit with the mission in it ("" when
    // the merge stops first), and whether that moves it.
    std::string target_commit;
    bool target_moves = false;
    // Local files of the main checkout (tracked, untracked or ignored) where the merged
    // target puts files: the checkout could not follow the target.
    std::vector<std::string> in_the_way;
};

// The plan's merges made in memory, each step on the result of the ones before (a
// conflicting step is left out of that result, so every later conflict is found too), then
// the mission branch onto the target by the plan's strategy. Writes nothing to the
// repository: no ref, index, work-tree file or object.
MergeForecast forecast_merge(const Repository& repo, const LanesManifest& lanes, const Plan& plan);

// A merge's conflicts as their paths, as [{path, kind}] and as "a.txt (content), b.txt
// (add/add)".
std::vector<std::string> conflict_paths(const std::vector<MergeConflict>& conflicts);
Json conflicts_json(const std::vector<MergeConflict>& conflicts);
std::string conflicts_text(const std::vector<MergeConflict>& conflicts);

Json forecast_json(const MergeForecast& forecast);
std::string forecast_text(const MergeForecast& forecast, const std::string& mission_branch);
// One MERGE_CONFLICT_FORECAST problem per conflicting step, and CHECKOUT_CONFLICT for files
// in the main checkout's way, for a plan that is otherwise ready.
void refuse_forecast_conflicts(const MergeForecast& forecast, const std::string& mission_branch,
                               Plan& plan);

} // namespace kitty::merge_detail
