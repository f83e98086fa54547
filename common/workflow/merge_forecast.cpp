#include <algorithm>
#include <iterator>

#include "kitty/error.hpp"
#include "kitty/text.hpp"
#include "merge_plan.hpp"

namespace kitty::merge_detail {

std::vector<std::string> stale_paths(const Repository& repo, const std::string& lane_tip,
                                     const std::string& mission_tip) {
    if (repo.is_ancestor(lane_tip, mission_tip)) {
        return {};
    }
    const auto base = repo.merge_base(lane_tip, mission_tip);
    if (!base) {
        return {};
    }
    const auto theirs = repo.files_changed(*base, mission_tip);
    const auto ours = repo.files_changed(*base, lane_tip);
    std::vector<std::string> overlap;
    std::set_intersection(theirs.begin(), theirs.end(), ours.begin(), ours.end(),
                          std::back_inserter(overlap));
    return overlap;
}

namespace {

StepAction action_of(const TrialMerge& trial, bool stopped_before) {
    if (stopped_before) {
        return StepAction::not_reached;
    }
    switch (trial.outcome) {
    case TrialMerge::Outcome::fast_forward:
        return StepAction::fast_forward;
    case TrialMerge::Outcome::merged:
        return StepAction::merge;
    case TrialMerge::Outcome::conflict:
        return StepAction::stop;
    case TrialMerge::Outcome::up_to_date:
        break;
    }
    return StepAction::nothing;
}

const char* action_name(StepAction action) {
    switch (action) {
    case StepAction::fast_forward:
        return "fast_forward";
    case StepAction::merge:
        return "merge";
    case StepAction::stop:
        return "stop";
    case StepAction::not_reached:
        return "not_reached";
    case StepAction::nothing:
        break;
    }
    return "nothing";
}

const char* outcome_name(TrialMerge::Outcome outcome) {
    switch (outcome) {
    case TrialMerge::Outcome::fast_forward:
        return "fast_forward";
    case TrialMerge::Outcome::merged:
        return "merged";
    case TrialMerge::Outcome::conflict:
        return "conflict";
    case TrialMerge::Outcome::up_to_date:
        break;
    }
    return "up_to_date";
}

// The upstream lanes (lanes.json's depends_on_lanes) still merged by the plan whose branch
// tip `source` does not hold.
std::vector<std::string> lanes_behind(const Repository& repo, const LanesManifest& lanes,
                                      const Plan& plan, const Step& step,
                                      const std::string& source) {
    std::vector<std::string> behind;
    const auto lane = std::find_if(lanes.lanes.begin(), lanes.lanes.end(),
                                   [&](const Lane& l) { return l.lane_id == step.lane_id; });
    if (lane == lanes.lanes.end()) {
        return behind;
    }
    for (const std::string& upstream : lane->depends_on_lanes) {
        const auto it = std::find_if(plan.steps.begin(), plan.steps.end(),
                                     [&](const Step& s) { return s.lane_id == upstream; });
        if (it == plan.steps.end() || it->planning) {
            continue;
        }
        const auto tip = repo.resolve_commit(it->branch);
        if (tip && !repo.is_ancestor(*tip, source)) {
            behind.push_back(upstream);
        }
    }
    return behind;
}

} // namespace

MergeForecast forecast_merge(const Repository& repo, const LanesManifest& lanes, const Plan& plan) {
    MergeForecast f;
    const std::string mission_tip = repo.resolve_commit(plan.mission_branch).value_or("");
    const std::string target_tip = repo.resolve_commit(plan.target).value_or("");
    if (mission_tip.empty() || target_tip.empty()) {
        f.target_commit = target_tip;
        return f; // nothing to merge; the plan's problems say why
    }
    Repository scratch = repo.with_objects_in_memory();
    std::string running = mission_tip;
    for (const Step& step : plan.steps) {
        const std::string source =
            step.planning ? target_tip : repo.resolve_commit(step.branch).value_or("");
        if (source.empty()) {
            continue; // LANE_BRANCH_MISSING
        }
        StepForecast s{step, source, {}, StepAction::nothing, {}, {}};
        if (!step.planning) {
            s.stale = step.stale ? *step.stale : stale_paths(repo, source, mission_tip);
            s.behind_lanes = lanes_behind(repo, lanes, plan, step, source);
        }
        s.trial = scratch.trial_merge(running, source,
                                      "Merge " + step.branch + " into " + plan.mission_branch);
        s.action = action_of(s.trial, f.stops_at.has_value());
        if (s.trial.outcome == TrialMerge::Outcome::conflict) {
            if (!f.stops_at) {
                f.stops_at = step.lane_id;
            }
        } else {
            running = s.trial.commit;
        }
        f.steps.push_back(std::move(s));
    }
    if (f.stops_at) {
        f.target_commit = target_tip;
        return f;
    }
    const std::string message = "kitty merge forecast";
    f.target_commit = plan.strategy == "squash"
                          ? scratch.squash_commit(target_tip, running, message)
                          : scratch.combine_commits({target_tip, running}, message);
    f.target_moves = f.target_commit != target_tip;
    if (f.target_moves && repo.current_branch() == plan.target && repo.work_dir()) {
        // The main checkout follows the target: what is in its way (finding E03).
        f.in_the_way = scratch.paths_in_the_way(target_tip, f.target_commit);
    }
    return f;
}

std::vector<std::string> conflict_paths(const std::vector<MergeConflict>& conflicts) {
    std::vector<std::string> out;
    for (const MergeConflict& c : conflicts) {
        out.push_back(c.path);
    }
    return out;
}

Json conflicts_json(const std::vector<MergeConflict>& conflicts) {
    Json out = Json::array();
    for (const MergeConflict& c : conflicts) {
        out.push_back(Json{{"path", c.path}, {"kind", conflict_kind_name(c.kind)}});
    }
    return out;
}

std::string conflicts_text(const std::vector<MergeConflict>& conflicts) {
    std::vector<std::string> out;
    for (const MergeConflict& c : conflicts) {
        out.push_back(c.path + " (" + conflict_kind_name(c.kind) + ")");
    }
    return join(out);
}

Json forecast_json(const MergeForecast& forecast) {
    Json steps = Json::array();
    std::size_t conflicts = 0;
    for (const StepForecast& s : forecast.steps) {
        conflicts += s.trial.conflicts.size();
        steps.push_back(Json{{"lane_id", s.step.lane_id},
                             {"branch", s.step.branch},
                             {"source", s.source},
                             {"result", outcome_name(s.trial.outcome)},
                             {"action", action_name(s.action)},
                             {"conflicts", conflicts_json(s.trial.conflicts)},
                             {"stale", !s.stale.empty() || !s.behind_lanes.empty()},
                             {"stale_paths", s.stale},
                             {"behind_lanes", s.behind_lanes}});
    }
    return Json{{"completes", !forecast.stops_at.has_value()},
                {"stops_at", forecast.stops_at ? Json(*forecast.stops_at) : Json(nullptr)},
                {"conflicts", conflicts},
                {"target_moves", forecast.target_moves},
                {"in_the_way", forecast.in_the_way},
                {"steps", steps}};
}

std::string forecast_text(const MergeForecast& forecast, const std::string& mission_branch) {
    std::string text = "Forecast (every merge made in memory):\n";
    for (const StepForecast& s : forecast.steps) {
        text += "  " + s.step.lane_id + ": ";
        switch (s.action) {
        case StepAction::nothing:
            text += mission_branch + " has it already";
            break;
        case StepAction::fast_forward:
            text += "fast-forwards " + mission_branch;
            break;
        case StepAction::merge:
            text += "merges cleanly";
            break;
        case StepAction::stop:
            text += "CONFLICT in " + conflicts_text(s.trial.conflicts) +
                    "; the merge stops here, the target untouched";
            break;
        case StepAction::not_reached:
            text += "not reached";
            if (!s.trial.conflicts.empty()) {
                text += "; would conflict too in " + conflicts_text(s.trial.conflicts);
            }
            break;
        }
        if (!s.stale.empty()) {
            text += "; stale (" + join(s.stale) + " changed on " + mission_branch + ")";
        }
        if (!s.behind_lanes.empty()) {
            text += "; behind " + join(s.behind_lanes);
        }
        text += "\n";
    }
    text += forecast.stops_at       ? "  the merge would stop at " + *forecast.stops_at + "\n"
            : forecast.target_moves ? "  the merge would complete\n"
                                    : "  the merge would complete; the target already has it all\n";
    return text;
}

void refuse_forecast_conflicts(const MergeForecast& forecast, const std::string& mission_branch,
                               Plan& plan) {
    for (const StepForecast& s : forecast.steps) {
        if (s.trial.outcome != TrialMerge::Outcome::conflict) {
            continue;
        }
        plan.refuse("MERGE_CONFLICT_FORECAST",
                    "merging " + s.step.branch + " into " + mission_branch + " would conflict in " +
                        conflicts_text(s.trial.conflicts),
                    Json{{"lane_id", s.step.lane_id},
                         {"paths", conflict_paths(s.trial.conflicts)},
                         {"conflicts", conflicts_json(s.trial.conflicts)}});
    }
    if (!forecast.in_the_way.empty()) {
        plan.refuse("CHECKOUT_CONFLICT",
                    "local files of the main checkout are where the merge puts files: " +
                        join(forecast.in_the_way) + " (ignored files count too)",
                    Json{{"paths", forecast.in_the_way}}, true);
    }
}

} // namespace kitty::merge_detail
