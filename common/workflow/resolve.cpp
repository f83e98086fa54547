#include "resolve.hpp"

#include <algorithm>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/json.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/version.hpp"
#include "merge_plan.hpp"

namespace fs = std::filesystem;

namespace kitty::loop {
namespace {

fs::path ticket_path(const Mission& m) {
    return m.project_root() / ".kittify/runtime/resolve" / (m.slug() + ".json");
}

std::optional<MergeConflict::Kind> kind_named(const std::string& name) {
    for (const auto kind : {MergeConflict::Kind::content, MergeConflict::Kind::add_add,
                            MergeConflict::Kind::modify_delete, MergeConflict::Kind::rename}) {
        if (name == conflict_kind_name(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

// The first of `candidates` (branch, commit) not yet in `lane_tip` whose merge into it
// conflicts, with the conflicts.
std::optional<ForecastConflict>
first_conflicting(Repository& scratch, const std::string& lane_id, const std::string& lane_tip,
                  const std::vector<std::pair<std::string, std::string>>& candidates) {
    for (const auto& [branch, commit] : candidates) {
        if (commit.empty() || scratch.is_ancestor(commit, lane_tip)) {
            continue;
        }
        TrialMerge t = scratch.trial_merge(lane_tip, commit, "forecast");
        if (t.outcome == TrialMerge::Outcome::conflict) {
            return ForecastConflict{lane_id, branch, commit, std::move(t.conflicts), ""};
        }
    }
    return std::nullopt;
}

// Every input of the forecast spelled out: kitty's version, each branch it merges or
// compares with its tip, lanes.json (the lanes' order and dependencies) and the repository's
// git config. Commits never change, so an equal key is an equal forecast.
std::string forecast_key(const LoopState& state, const Repository& repo,
                         const merge_detail::Plan& plan) {
    std::string key = std::string(version) + '\n';
    const auto branch = [&](const std::string& name) {
        key += name + ' ' + repo.resolve_commit(name).value_or("-") + '\n';
    };
    branch(plan.target);
    branch(plan.mission_branch);
    for (const merge_detail::Step& step : plan.steps) {
        key += step.lane_id + (step.planning ? " planning\n" : " code\n");
        branch(step.branch);
    }
    for (const Lane& lane : state.lanes->lanes) {
        branch(lane_branch_name(state.mission.slug(), lane, plan.target));
    }
    for (const fs::path& file : {state.mission.lanes_json(), repo.common_dir() / "config"}) {
        std::error_code ec;
        key += fs::is_regular_file(file, ec) ? read_file_bytes(file) : std::string("-");
        key += '\n';
    }
    return key;
}

std::optional<ForecastConflict> forecast_anew(LoopState& state, Repository& repo,
                                              const merge_detail::Plan& plan) {
    register_kitty_merge_drivers();
    const merge_detail::MergeForecast forecast =
        merge_detail::forecast_merge(repo, *state.lanes, plan);
    if (!forecast.stops_at) {
        return std::nullopt;
    }
    const auto stop = std::find_if(forecast.steps.begin(), forecast.steps.end(), [](const auto& s) {
        return s.action == merge_detail::StepAction::stop;
    });
    Repository scratch = repo.with_objects_in_memory();
    std::optional<ForecastConflict> found;
    if (!stop->step.planning) {
        // The lane against what the merge puts before it: the mission branch, earlier lanes.
        std::vector<std::pair<std::string, std::string>> before{
            {plan.mission_branch, repo.resolve_commit(plan.mission_branch).value_or("")}};
        for (auto it = forecast.steps.begin(); it != stop; ++it) {
            if (!it->step.planning) {
                before.emplace_back(it->step.branch, it->source);
            }
        }
        found = first_conflicting(scratch, stop->step.lane_id, stop->source, before);
    } else {
        // The target against each lane, in merge order: the first that conflicts takes it.
        for (auto it = forecast.steps.begin(); it != stop && !found; ++it) {
            if (!it->step.planning) {
                found = first_conflicting(scratch, it->step.lane_id, it->source,
                                          {{stop->step.branch, stop->source}});
            }
        }
    }
    if (!found) {
        found = ForecastConflict{"", stop->step.branch, stop->source, stop->trial.conflicts, ""};
    }
    found->stop_lane_id = stop->step.lane_id;
    return found;
}

} // namespace

std::optional<ForecastConflict> forecast_conflict(LoopState& state) {
    if (!state.lanes) {
        return std::nullopt;
    }
    Repository& repo = loop_repository(state.mission);
    const merge_detail::Plan plan =
        merge_detail::make_plan(state, MergeRequest{}, false, merge_detail::PlanChecks::steps_only);
    // Agents ask again and again while nothing moves (the acceptance gate runs, the others
    // wait): the answer for the same inputs is read back instead of merging every lane again.
    const std::string key = forecast_key(state, repo, plan);
    if (const auto cached = read_forecast_cache(state.mission); cached && cached->key == key) {
        if (!cached->conflict) {
            return std::nullopt;
        }
        return ForecastConflict{cached->lane_id, cached->other_branch, cached->other_commit,
                                cached->conflicts, cached->stop_lane_id};
    }
    const std::optional<ForecastConflict> found = forecast_anew(state, repo, plan);
    ForecastCacheEntry entry;
    entry.key = key;
    if (found) {
        entry.conflict = true;
        entry.lane_id = found->lane_id;
        entry.other_branch = found->other_branch;
        entry.other_commit = found->other_commit;
        entry.stop_lane_id = found->stop_lane_id;
        entry.conflicts = found->conflicts;
    }
    write_forecast_cache(state.mission, entry);
    return found;
}

std::optional<ResolveTicket> read_resolve_ticket(const Mission& m) {
    const fs::path file = ticket_path(m);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        return std::nullopt;
    }
    const Json doc = read_json_file(file);
    const JsonInput in(file.string(), "INVALID_RESOLVE_STATE",
                       "delete " + file.string() + "; the next call of next forecasts again");
    in.object(doc, "the resolve step");
    ResolveTicket t;
    for (const auto& [key, field] :
         {std::pair{"lane_id", &t.lane_id}, std::pair{"branch", &t.branch},
          std::pair{"agent", &t.agent}, std::pair{"other_branch", &t.other_branch},
          std::pair{"other_commit", &t.other_commit},
          std::pair{"lane_tip_before", &t.lane_tip_before}}) {
        const Json* v = JsonInput::member(doc, key);
        if (!v || !v->is_string()) {
            throw Error(Exit::input, "INVALID_RESOLVE_STATE", file.string() + ": no string " + key,
                        "delete it; the next call of next forecasts again")
                .at(file);
        }
        *field = v->get<std::string>();
    }
    t.lane_id = checked_path_component(t.lane_id, "lane id");
    t.worktree = m.worktree_path(t.lane_id);
    if (const Json* c = JsonInput::member(doc, "conflicts"); c && c->is_array()) {
        for (const Json& item : *c) {
            const Json* path = JsonInput::member(item, "path");
            const Json* kind = JsonInput::member(item, "kind");
            if (path && path->is_string() && kind && kind->is_string()) {
                t.conflicts.push_back(
                    {path->get<std::string>(),
                     kind_named(kind->get<std::string>()).value_or(MergeConflict::Kind::content)});
            }
        }
    }
    return t;
}

void remove_resolve_ticket(const Mission& m) {
    std::error_code ec;
    fs::remove(m.writable(ticket_path(m)), ec);
    if (ec) {
        throw Error(Exit::output, "WRITE_FAILED",
                    "cannot remove " + ticket_path(m).string() + ": " + ec.message());
    }
}

ResolveTicket start_resolve(const LoopState& state, const ForecastConflict& conflict,
                            const std::string& agent) {
    const Mission& m = state.mission;
    Repository& repo = loop_repository(m);
    ResolveTicket t;
    t.lane_id = conflict.lane_id;
    t.branch = code_lane_branch(m.slug(), conflict.lane_id);
    t.agent = agent;
    t.other_branch = conflict.other_branch;
    t.other_commit = conflict.other_commit;
    t.lane_tip_before = repo.resolve_commit(t.branch).value_or("");
    t.worktree = m.worktree_path(conflict.lane_id);
    t.conflicts = conflict.conflicts;
    std::error_code ec;
    auto lane_repo =
        fs::is_directory(t.worktree, ec) ? Repository::discover(t.worktree) : std::nullopt;
    if (!lane_repo || lane_repo->current_branch() != t.branch) {
        throw Error(Exit::conflict, "LANE_BUSY",
                    "the conflict of " + t.lane_id + " is resolved in its worktree " +
                        t.worktree.string() + ", which is missing or not on " + t.branch,
                    "spec-kitty workspace list shows the lane; restore its worktree");
    }
    if (lane_repo->merge_head()) {
        throw Error(Exit::conflict, "LANE_BUSY",
                    "a merge is already in progress in " + t.worktree.string(),
                    "finish it (git commit) or give it up (git merge --abort)");
    }
    if (const auto dirty = lane_repo->changed_paths(); !dirty.empty()) {
        throw Error(Exit::conflict, "LANE_BUSY",
                    "the worktree of " + t.lane_id + " has uncommitted changes: " + join(dirty),
                    "commit them, or move them out of the worktree; the conflict is prepared in "
                    "a clean worktree");
    }
    lane_repo->start_merge(t.other_commit, "Merge " + t.other_branch + " into " + t.branch);
    const fs::path file = m.writable(ticket_path(m));
    fs::create_directories(file.parent_path(), ec);
    write_file_atomic(file,
                      dump_python(Json{{"lane_id", t.lane_id},
                                       {"branch", t.branch},
                                       {"agent", t.agent},
                                       {"other_branch", t.other_branch},
                                       {"other_commit", t.other_commit},
                                       {"lane_tip_before", t.lane_tip_before},
                                       {"conflicts", merge_detail::conflicts_json(t.conflicts)}},
                                  {.indent = 2}) +
                          "\n");
    return t;
}

std::vector<std::string> resolve_problems(const LoopState& state, const ResolveTicket& t) {
    Repository& repo = loop_repository(state.mission);
    std::vector<std::string> problems;
    std::error_code ec;
    auto lane_repo =
        fs::is_directory(t.worktree, ec) ? Repository::discover(t.worktree) : std::nullopt;
    if (!lane_repo) {
        return {"the worktree " + t.worktree.string() + " is gone"};
    }
    if (lane_repo->merge_head()) {
        problems.push_back("the merge is not committed yet: git add the resolved files, then git "
                           "commit in " +
                           t.worktree.string());
    } else if (const auto tip = repo.resolve_commit(t.branch);
               !tip || !repo.is_ancestor(t.other_commit, *tip)) {
        problems.push_back(t.branch + " does not contain " + t.other_branch +
                           "'s commit: merge it and commit (git merge " + t.other_commit + ")");
    }
    if (const auto left =
            merge_detail::unresolved(t.worktree, merge_detail::conflict_paths(t.conflicts));
        !left.empty()) {
        problems.push_back("conflict markers remain in " + join(left));
    }
    return problems;
}

void abandon_resolve(const Mission& m, const ResolveTicket& t) {
    std::error_code ec;
    if (fs::is_directory(t.worktree, ec)) {
        if (auto lane_repo = Repository::discover(t.worktree)) {
            lane_repo->abort_merge();
        }
    }
    remove_resolve_ticket(m);
}

fs::path write_resolve_prompt(const LoopState& state, const ResolveTicket& t) {
    const Mission& m = state.mission;
    const std::string rule(80, '=');
    std::string files;
    for (const MergeConflict& c : t.conflicts) {
        files += "- `" + c.path + "` (" + conflict_kind_name(c.kind) + ")\n";
    }
    const std::string text =
        rule + "\nMission: " + m.slug() + "\nAgent: " + t.agent + "\nStep: resolve a conflict in " +
        t.lane_id + "\n" + rule + "\n\n" +
        "The merge of this mission would stop here: " + t.other_branch + " and " + t.branch +
        " change the same files in ways git cannot combine. The merge has been started in the "
        "lane's worktree, as `git merge` leaves a conflict:\n\n    cd " +
        t.worktree.string() + "\n\nOur side (HEAD, between <<<<<<< and =======) is the lane, " +
        t.branch + ". Their side (between ======= and >>>>>>>) is " + t.other_branch + " at " +
        t.other_commit.substr(0, 7) + ". Conflicting files:\n\n" + files +
        "\nFor each file, keep what both sides meant (a change the other side made must not "
        "be lost unless you decide it is wrong), remove every conflict marker, then:\n\n"
        "    git add <the files>\n    git commit --no-edit\n\nWhen the merge is committed:\n\n"
        "    " +
        next_command_line(m, t.agent, true) +
        "\n\nIf you cannot resolve it, give it up; the lane goes back to how it was:\n\n"
        "    spec-kitty next --agent " +
        t.agent + " --mission " + m.slug() + " --result failed\n";
    return write_prompt(m, t.agent + "-resolve.md", text);
}

} // namespace kitty::loop
