#include "kitty/merge.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/git.hpp"
#include "kitty/lanes.hpp"
#include "kitty/project.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/yaml.hpp"
#include "loop_model.hpp"
#include "merge_plan.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace merge_detail {

// The merge worktree of a conflict is .worktrees/<slug>-merge, on the mission branch.
const std::string kConflictWorktree = "merge";

// Where a merge is: merging the lanes into the mission branch, moving the target, recording
// the WPs done, cleaning up. Saved by name.
enum class MergePhase { lanes, target, record, cleanup };

NLOHMANN_JSON_SERIALIZE_ENUM(MergePhase, {{MergePhase::lanes, "lanes"},
                                          {MergePhase::target, "target"},
                                          {MergePhase::record, "record"},
                                          {MergePhase::cleanup, "cleanup"}})

std::optional<MergePhase> merge_phase_of(const std::string& name) {
    for (const MergePhase p :
         {MergePhase::lanes, MergePhase::target, MergePhase::record, MergePhase::cleanup}) {
        if (Json(p) == name) {
            return p;
        }
    }
    return std::nullopt;
}

// The persisted progress of one merge: .kittify/runtime/merge/<slug>/kitty-state.json.
struct MergeState {
    std::string mission_slug;
    std::string mission_id;
    std::string target_branch;
    std::string strategy;
    std::string mission_branch;
    MergePhase phase = MergePhase::lanes;
    std::string mission_start; // the mission branch before the merge ("" when absent)
    std::string target_start;
    std::vector<std::string> merged; // lane ids merged into the mission branch
    Json conflict = nullptr;
    std::string target_commit; // what the target is moved to, decided before it moves
    bool keep_worktrees = false;
    bool keep_branches = false;
    std::string started_at;

    Json to_json() const {
        return Json{{"mission_slug", mission_slug},
                    {"mission_id", mission_id},
                    {"target_branch", target_branch},
                    {"strategy", strategy},
                    {"mission_branch", mission_branch},
                    {"phase", phase},
                    {"mission_start", mission_start},
                    {"target_start", target_start},
                    {"merged_lanes", merged},
                    {"conflict", conflict},
                    {"target_commit", target_commit},
                    {"keep_worktrees", keep_worktrees},
                    {"keep_branches", keep_branches},
                    {"started_at", started_at},
                    {"updated_at", python_isoformat(now_utc())}};
    }
};

fs::path state_dir(const Mission& m) {
    return m.project_root() / ".kittify/runtime/merge" / m.slug();
}

fs::path state_file(const Mission& m) {
    return state_dir(m) / "kitty-state.json";
}

void save_state(const Mission& m, const MergeState& s) {
    const fs::path dir = m.writable(state_dir(m));
    std::error_code ec;
    fs::create_directories(dir, ec);
    write_file_atomic(m.writable(state_file(m)), dump_python(s.to_json(), {.indent = 2}) + "\n");
}

// The state file goes first: a merge killed meanwhile leaves at most an empty directory,
// which is no merge in progress.
void remove_state(const Mission& m) {
    std::error_code ec;
    fs::remove(m.writable(state_file(m)), ec);
    fs::remove_all(m.writable(state_dir(m)), ec);
}

std::optional<MergeState> load_state(const Mission& m) {
    const fs::path file = state_file(m);
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return std::nullopt;
    }
    const Json doc = read_json_file(file);
    const auto text = [&](const char* key) {
        const Json* v = JsonInput::member(doc, key);
        if (!v || !v->is_string()) {
            throw Error(Exit::input, "INVALID_MERGE_STATE",
                        file.string() + ": \"" + key + "\" is missing or not a string",
                        "kitty-merge --abort discards the merge state")
                .at(file);
        }
        return v->get<std::string>();
    };
    MergeState s;
    s.mission_slug = text("mission_slug");
    s.mission_id = text("mission_id");
    s.target_branch = text("target_branch");
    s.strategy = text("strategy");
    s.mission_branch = text("mission_branch");
    const std::optional<MergePhase> phase = merge_phase_of(text("phase"));
    s.mission_start = text("mission_start");
    s.target_start = text("target_start");
    s.target_commit = text("target_commit");
    s.started_at = text("started_at");
    if (const Json* lanes = JsonInput::member(doc, "merged_lanes"); lanes && lanes->is_array()) {
        for (const Json& lane : *lanes) {
            if (lane.is_string()) {
                s.merged.push_back(lane.get<std::string>());
            }
        }
    }
    if (const Json* c = JsonInput::member(doc, "conflict"); c && c->is_object()) {
        s.conflict = *c;
    }
    for (const auto& [key, flag] :
         {std::pair{"keep_worktrees", &s.keep_worktrees}, {"keep_branches", &s.keep_branches}}) {
        const Json* v = JsonInput::member(doc, key);
        *flag = v && v->is_boolean() && v->get<bool>();
    }
    if (!phase || s.mission_slug != m.slug()) {
        throw Error(Exit::input, "INVALID_MERGE_STATE",
                    file.string() + ": not a merge state of " + m.slug(),
                    "kitty-merge --abort discards it")
            .at(file);
    }
    s.phase = *phase;
    return s;
}

// merge.strategy in .kittify/config.yaml, "" when unset.
std::string configured_strategy(const fs::path& root) {
    const fs::path config = root / ".kittify/config.yaml";
    std::error_code ec;
    if (!fs::exists(config, ec)) {
        return "";
    }
    try {
        const YamlNode doc = parse_yaml(read_text_file(config, Bom::strip));
        for (const auto& [k, v] : doc.entries) {
            if (k != "merge" || v.kind != YamlNode::Kind::mapping) {
                continue;
            }
            for (const auto& [k2, v2] : v.entries) {
                if (k2 == "strategy" && v2.is_scalar()) {
                    return v2.text;
                }
            }
        }
        return "";
    } catch (const YamlError& e) {
        throw Error(Exit::input, "INVALID_YAML", config.string() + ": " + e.message, "fix the YAML")
            .at(config, e.line);
    }
}

std::string checked_strategy(const std::string& strategy, const std::string& source) {
    if (strategy == "squash" || strategy == "merge") {
        return strategy;
    }
    if (strategy == "rebase") {
        throw Error(Exit::usage, "UNSUPPORTED_STRATEGY",
                    "the rebase strategy is not offered (" + source +
                        "): 3.1.1's reported success without moving the target",
                    "use --strategy squash (one commit) or merge (keeps the lanes' history)");
    }
    throw Error(Exit::usage, "UNKNOWN_STRATEGY",
                "unknown merge strategy '" + strategy + "' (" + source + ")",
                "use squash or merge");
}

std::vector<const Lane*> merge_order(const LanesManifest& lanes) {
    std::vector<const Lane*> order;
    std::set<std::string> placed;
    std::vector<const Lane*> code;
    for (const Lane& lane : lanes.lanes) {
        if (!lane.is_planning()) {
            code.push_back(&lane);
        }
    }
    while (order.size() < code.size()) {
        const std::size_t before = order.size();
        for (const Lane* lane : code) {
            if (placed.count(lane->lane_id)) {
                continue;
            }
            const bool ready =
                std::all_of(lane->depends_on_lanes.begin(), lane->depends_on_lanes.end(),
                            [&](const std::string& d) {
                                return placed.count(d) ||
                                       std::none_of(code.begin(), code.end(),
                                                    [&](const Lane* l) { return l->lane_id == d; });
                            });
            if (ready) {
                order.push_back(lane);
                placed.insert(lane->lane_id);
                break;
            }
        }
        if (order.size() == before) { // a cycle lanes.json should never hold: keep file order
            for (const Lane* lane : code) {
                if (!placed.count(lane->lane_id)) {
                    order.push_back(lane);
                    placed.insert(lane->lane_id);
                }
            }
            break; // every lane id is placed (a repeated id can never be placed twice)
        }
    }
    for (const Lane& lane : lanes.lanes) {
        if (lane.is_planning()) {
            order.push_back(&lane);
        }
    }
    return order;
}

std::string short_id(const std::string& id) {
    return id.substr(0, 7);
}

std::vector<std::string> unresolved(const fs::path& dir, const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const std::string& path : paths) {
        std::ifstream in(dir / path, std::ios::binary);
        std::string line;
        while (in && std::getline(in, line)) {
            if (line.starts_with("<<<<<<<") || line.starts_with(">>>>>>>")) {
                out.push_back(path);
                break;
            }
        }
    }
    return out;
}

namespace {

using WpsById = std::map<std::string, const loop::LoopWp*>;

WpsById wps_by_id(const loop::LoopState& state) {
    WpsById wps;
    for (const loop::LoopWp& wp : state.wps) {
        wps[wp.id] = &wp;
    }
    return wps;
}

// A lane with a WP still to merge.
bool lane_active(const Lane& lane, const WpsById& wps) {
    return std::any_of(lane.wp_ids.begin(), lane.wp_ids.end(), [&](const auto& id) {
        const auto it = wps.find(id);
        return it != wps.end() && !kFinishedLanes.contains(it->second->lane);
    });
}

// The target: --target, else lanes.json's, else main.
std::string plan_target(const loop::LoopState& state, const MergeRequest& request) {
    if (!request.target_branch.empty()) {
        return request.target_branch;
    }
    return state.lanes->target_branch.empty() ? "main" : state.lanes->target_branch;
}

// The active code lanes, in merge order.
std::vector<const Lane*> active_code_lanes(const loop::LoopState& state, const WpsById& wps) {
    std::vector<const Lane*> out;
    for (const Lane* lane : merge_order(*state.lanes)) {
        if (!lane->is_planning() && lane_active(*lane, wps)) {
            out.push_back(lane);
        }
    }
    return out;
}

// The checkouts' uncommitted changes, scanned at once (each scan stats every file of its
// checkout): the main checkout's for a fresh merge, the active code lanes' worktrees for
// every check.
void scan_checkouts(PlanFacts& facts, const Mission& m, const std::vector<const Lane*>& lanes,
                    bool fresh, PlanChecks checks) {
    std::vector<fs::path> checkouts{fresh ? m.project_root() : fs::path()};
    if (checks == PlanChecks::all) {
        for (const Lane* lane : lanes) {
            checkouts.push_back(m.worktree_path(lane->lane_id));
        }
    }
    const auto scans = changed_paths_of(checkouts);
    facts.main_changes = scans.front().value_or(std::vector<std::string>{});
    for (std::size_t i = 1; i < checkouts.size(); ++i) {
        facts.lanes[lanes[i - 1]->lane_id].changes = scans[i].value_or(std::vector<std::string>{});
    }
}

// The lane branches of the mission that lanes.json does not list, and whether the mission
// branch or the target holds each.
void read_unlisted_branches(PlanFacts& facts, const loop::LoopState& state, const Repository& repo,
                            const std::string& target) {
    const Mission& m = state.mission;
    std::set<std::string> listed;
    for (const Lane& lane : state.lanes->lanes) {
        listed.insert(code_lane_branch(m.slug(), lane.lane_id));
    }
    const std::string target_tip = repo.resolve_commit(target).value_or("");
    for (const std::string& branch : repo.branches(code_lane_branch(m.slug(), "lane-"))) {
        const auto tip = repo.resolve_commit(branch);
        if (listed.count(branch) || !tip) {
            continue;
        }
        const bool kept =
            (!facts.mission_tip.empty() && repo.is_ancestor(*tip, facts.mission_tip)) ||
            (!target_tip.empty() && repo.is_ancestor(*tip, target_tip));
        facts.unlisted.push_back({branch, *tip, kept});
    }
}

// Every approved WP's commits are in a step of the plan, or the merge refuses: an approved
// WP in no lane of lanes.json, and a lane branch of the mission that no step merges and
// whose commits are neither on the mission branch nor on the target (a WP moved to another
// lane by a re-finalize, a lane dropped from lanes.json by hand) would otherwise be marked
// done with its work on no branch.
void account_for_approved_work(const loop::LoopState& state, const PlanFacts& facts, Plan& plan) {
    for (const std::string& wp : plan.approved) {
        if (!state.lanes->lane_for_wp(wp)) {
            plan.refuse("WP_NOT_IN_LANES",
                        wp + " is approved but in no lane of " +
                            state.mission.lanes_json().string() +
                            "; its work would not be merged (recompute lanes.json with "
                            "spec-kitty agent mission finalize-tasks)",
                        Json{{"wp_id", wp}});
        }
    }
    for (const PlanFacts::UnlistedBranch& b : facts.unlisted) {
        if (!b.kept) {
            plan.refuse("UNMERGED_LANE_BRANCH",
                        "the branch " + b.branch +
                            " holds commits that no lane of lanes.json merges (a WP moved to "
                            "another lane, or a lane dropped from lanes.json); merge it into the "
                            "lane that now holds its WPs, or delete it if that work is not wanted",
                        Json{{"branch", b.branch}, {"tip", b.tip}});
        }
    }
}

// The approved WPs are the plan's; any other WP not done or canceled is a problem.
void plan_wps(Plan& plan, const loop::LoopState& state) {
    for (const loop::LoopWp& wp : state.wps) {
        if (wp.lane == WpLane::approved) {
            plan.approved.push_back(wp.id);
        } else if (!kFinishedLanes.contains(wp.lane)) {
            plan.refuse("WP_NOT_APPROVED",
                        wp.id + " is " + lane_name(wp.lane) + "; only approved work is merged",
                        Json{{"wp_id", wp.id}, {"lane", wp.lane}});
        }
    }
}

void check_target(Plan& plan, const PlanFacts& facts, const Mission& m) {
    if (!facts.target_exists) {
        plan.refuse("TARGET_MISSING", "the target branch " + plan.target + " does not exist",
                    Json{{"branch", plan.target}});
    }
    if (facts.checked_out != plan.target) {
        plan.refuse("TARGET_NOT_CHECKED_OUT",
                    "the main checkout " + m.project_root().string() + " is on " +
                        facts.checked_out.value_or("a detached HEAD") + ", not on the target " +
                        plan.target + " (git switch " + plan.target + ")",
                    Json{{"branch", facts.checked_out ? Json(*facts.checked_out) : Json(nullptr)}},
                    true);
    }
}

// The status files are the done commit's own; anything else uncommitted in the main
// checkout would be swept along or be overwritten by the new target's files.
void check_main_checkout(Plan& plan, const Mission& m, const PlanFacts& facts) {
    const std::string events = m.events_log().lexically_relative(m.project_root()).generic_string();
    const std::string status =
        m.status_json().lexically_relative(m.project_root()).generic_string();
    std::vector<std::string> dirty;
    for (const std::string& path : facts.main_changes) {
        if (path != events && path != status) {
            dirty.push_back(path);
        }
    }
    if (!dirty.empty()) {
        plan.refuse("MAIN_CHECKOUT_DIRTY",
                    "the main checkout has uncommitted changes: " + join(dirty) +
                        " (commit them, or move them out of the checkout, first)",
                    Json{{"paths", dirty}}, true);
    }
}

// A code lane's step: its branch must exist, be fresh with the mission branch (a new
// merge) and its worktree have nothing uncommitted.
Step code_lane_step(Plan& plan, const Mission& m, const Lane& lane,
                    const PlanFacts::LaneFacts& facts) {
    Step step{lane.lane_id, lane_branch_name(m.slug(), lane, plan.target), lane.wp_ids, false};
    step.stale = facts.stale;
    if (!facts.tip) {
        plan.refuse("LANE_BRANCH_MISSING",
                    "lane branch " + step.branch + " does not exist (" + join(lane.wp_ids) + ")",
                    Json{{"lane_id", lane.lane_id}, {"branch", step.branch}});
    } else if (step.stale && !step.stale->empty()) {
        plan.refuse("LANE_STALE",
                    "lane " + lane.lane_id + " is stale: the mission branch changed " +
                        join(*step.stale) + " since it forked (cd " +
                        m.worktree_path(lane.lane_id).string() + " && git merge " +
                        plan.mission_branch + ")",
                    Json{{"lane_id", lane.lane_id}, {"paths", *step.stale}});
    }
    if (!facts.changes.empty()) {
        const fs::path worktree = m.worktree_path(lane.lane_id);
        plan.refuse("LANE_DIRTY",
                    "the worktree of " + lane.lane_id + " (" + worktree.string() +
                        ") has uncommitted changes: " + join(facts.changes),
                    Json{{"lane_id", lane.lane_id}, {"paths", facts.changes}}, true);
    }
    return step;
}

} // namespace

PlanFacts read_plan_facts(loop::LoopState& state, const MergeRequest& request, bool fresh,
                          PlanChecks checks) {
    const Mission& m = state.mission;
    Repository& repo = loop::loop_repository(m);
    state.require_lanes();
    PlanFacts facts;
    if (request.strategy.empty()) {
        facts.configured_strategy = configured_strategy(m.project_root());
    }
    const std::string target = plan_target(state, request);
    facts.target_exists = repo.branch_exists(target);
    facts.checked_out = repo.current_branch();
    const std::vector<const Lane*> lanes = active_code_lanes(state, wps_by_id(state));
    scan_checkouts(facts, m, lanes, fresh, checks);
    facts.mission_tip = repo.resolve_commit(mission_branch_of(*state.lanes, m.slug())).value_or("");
    for (const Lane* lane : lanes) {
        PlanFacts::LaneFacts& f = facts.lanes[lane->lane_id];
        f.tip = repo.resolve_commit(lane_branch_name(m.slug(), *lane, target));
        if (f.tip && fresh && !facts.mission_tip.empty() &&
            !repo.is_ancestor(*f.tip, facts.mission_tip)) {
            f.stale = stale_paths(repo, *f.tip, facts.mission_tip);
        }
    }
    if (checks == PlanChecks::all) {
        read_unlisted_branches(facts, state, repo, target);
    }
    return facts;
}

Plan decide_plan(const loop::LoopState& state, const MergeRequest& request, bool fresh,
                 PlanChecks checks, const PlanFacts& facts) {
    const Mission& m = state.mission;
    Plan plan;
    plan.mission_branch = mission_branch_of(*state.lanes, m.slug());
    plan.target = plan_target(state, request);
    plan.strategy =
        !request.strategy.empty() ? checked_strategy(request.strategy, "--strategy")
        : facts.configured_strategy.empty()
            ? "squash"
            : checked_strategy(facts.configured_strategy, "merge.strategy in .kittify/config.yaml");
    plan_wps(plan, state);
    check_target(plan, facts, m);
    if (fresh) {
        check_main_checkout(plan, m, facts);
    }
    const WpsById wps = wps_by_id(state);
    bool needs_mission_branch = false;
    for (const Lane* lane : merge_order(*state.lanes)) {
        if (!lane_active(*lane, wps)) {
            continue;
        }
        if (lane->is_planning()) {
            plan.steps.push_back(Step{lane->lane_id, lane_branch_name(m.slug(), *lane, plan.target),
                                      lane->wp_ids, true});
            continue;
        }
        needs_mission_branch = true;
        const auto f = facts.lanes.find(lane->lane_id);
        plan.steps.push_back(code_lane_step(
            plan, m, *lane, f == facts.lanes.end() ? PlanFacts::LaneFacts{} : f->second));
    }
    if (checks == PlanChecks::all) {
        account_for_approved_work(state, facts, plan);
    }
    if (!plan.steps.empty() && !plan.steps.back().planning) {
        // The target into the mission branch last, as lane-planning does, so that a conflict
        // with work that reached the target meanwhile is resolved like a lane's, and the
        // final squash onto the target is clean.
        plan.steps.push_back(Step{plan.target, plan.target, {}, true});
    }
    if (needs_mission_branch && facts.mission_tip.empty()) {
        plan.refuse("MISSION_BRANCH_MISSING",
                    "the mission branch " + plan.mission_branch + " does not exist",
                    Json{{"branch", plan.mission_branch}});
    }
    if (facts.mission_tip.empty()) {
        // Without a mission branch no lane is merged: the planning work is on the target.
        plan.steps.clear();
    }
    return plan;
}

Plan make_plan(loop::LoopState& state, const MergeRequest& request, bool fresh, PlanChecks checks) {
    const PlanFacts facts = read_plan_facts(state, request, fresh, checks);
    return decide_plan(state, request, fresh, checks, facts);
}

Json dry_run_lanes(const LanesManifest& lanes) {
    Json out = Json::array();
    for (const Lane& lane : lanes.lanes) {
        out.push_back(Json{{"lane_id", lane.lane_id},
                           {"wp_ids", lane.wp_ids},
                           {"write_scope", lane.write_scope},
                           {"predicted_surfaces", lane.predicted_surfaces},
                           {"depends_on_lanes", lane.depends_on_lanes},
                           {"parallel_group", lane.parallel_group}});
    }
    return out;
}

// The 3.1.1 --dry-run --json keys first, then kitty's.
Json plan_document(const loop::LoopState& state, const Plan& plan, const MergeRequest& request) {
    const Mission& m = state.mission;
    Json steps = Json::array();
    for (const Step& s : plan.steps) {
        steps.push_back(Json{{"lane_id", s.lane_id}, {"branch", s.branch}, {"wp_ids", s.wp_ids}});
    }
    return Json{
        {"spec_kitty_version", "3.1.1"},
        {"mission_slug", m.slug()},
        {"target_branch", plan.target},
        {"strategy", plan.strategy},
        {"delete_branch", !request.keep_branches},
        {"remove_worktree", !request.keep_worktrees},
        {"push", false},
        {"mission_branch", plan.mission_branch},
        {"lanes", dry_run_lanes(*state.lanes)},
        {"mission_id", m.identity().mission_id ? Json(*m.identity().mission_id) : Json(nullptr)},
        {"merge_order", steps},
        {"done_wps", plan.approved},
        {"ready", plan.problems.empty()},
        {"problems", plan.problems}};
}

Outcome refusal(const Mission& m, const Plan& plan, Json document) {
    std::vector<std::string> messages;
    Outcome out;
    for (const Json& p : plan.problems) {
        messages.push_back(p["message"].get<std::string>());
    }
    const std::string error = "cannot merge " + m.slug() + ": " + std::to_string(messages.size()) +
                              " problem" + (messages.size() == 1 ? "" : "s") + "; nothing changed";
    Json doc = Json{{"error", error},
                    {"code", "MERGE_REFUSED"},
                    {"hint", "fix each problem listed, then run the merge again"}};
    for (auto& [k, v] : document.items()) {
        doc[k] = v;
    }
    out.document = std::move(doc);
    out.exit = plan.conflict ? Exit::conflict : Exit::check_failed;
    out.text = error + "\n";
    for (const std::string& message : messages) {
        out.text += "  - " + message + "\n";
    }
    for (const Json& p : plan.problems) {
        out.findings.push_back(Finding{"error", p["code"].get<std::string>(),
                                       p["message"].get<std::string>(), "", 0,
                                       "error: " + p["message"].get<std::string>()});
    }
    return out;
}

class MergeRun {
public:
    MergeRun(loop::LoopState& state, MergeState s)
        : state_(state), m_(state.mission), repo_(loop::loop_repository(state.mission)),
          s_(std::move(s)) {}

    Outcome run(const Plan& plan);
    Outcome abort();

private:
    void merge_lanes(const Plan& plan);
    void merge_step(const Step& step);
    void conflict_stop(const Step& step, const std::string& from, const std::string& mission_tip);
    // A conflict recorded by an earlier run: true when its step is now merged.
    bool settle_conflict(const Step& step);
    void drop_conflict_worktree();
    void move_target();
    std::vector<std::string> record_done();
    Json clean_up(const Plan& plan);
    void save() { save_state(m_, s_); }
    // The commit a step merges: the target as the merge found it for lane-planning, else
    // the lane branch's tip ("" when the branch is gone).
    std::string source_of(const Step& step) const {
        return step.planning ? s_.target_start : repo_.resolve_commit(step.branch).value_or("");
    }
    std::string merge_message(const std::string& from) const {
        return "Merge " + from + " into " + s_.mission_branch;
    }

    loop::LoopState& state_;
    const Mission& m_;
    Repository& repo_;
    MergeState s_;
    std::string status_commit_;
    std::vector<Finding> findings_;
};

void MergeRun::drop_conflict_worktree() {
    const std::string name = worktree_name(m_.slug(), kConflictWorktree);
    repo_.finish_interrupted_worktree(name, m_.worktree_path(kConflictWorktree));
    for (const Worktree& w : repo_.worktrees()) {
        if (w.name == name) {
            repo_.remove_worktree(name);
        }
    }
}

void MergeRun::conflict_stop(const Step& step, const std::string& from,
                             const std::string& mission_tip) {
    // Anything at the merge worktree's place is from a run killed before it recorded the
    // conflict: nobody was told about it.
    drop_conflict_worktree();
    const fs::path path = m_.writable(m_.worktree_path(kConflictWorktree));
    repo_.add_worktree(worktree_name(m_.slug(), kConflictWorktree), path, s_.mission_branch);
    Repository worktree = Repository::open(path);
    const std::vector<std::string> paths = worktree.start_merge(from, merge_message(step.branch));
    s_.conflict = Json{{"lane_id", step.lane_id},
                       {"branch", step.branch},
                       {"from", from},
                       {"mission_tip", mission_tip},
                       {"paths", paths},
                       {"worktree", path.lexically_relative(m_.project_root()).generic_string()}};
    save();
    throw Error(Exit::check_failed, "MERGE_CONFLICT",
                "merging " + step.branch + " into " + s_.mission_branch + " conflicts in " +
                    join(paths) + "; the target is untouched",
                "resolve the files in " + path.string() +
                    " (remove the conflict markers), then run kitty-merge --resume; "
                    "kitty-merge --abort gives up and restores the mission branch")
        .with(Json{
            {"conflicting_paths", paths}, {"lane_id", step.lane_id}, {"worktree", path.string()}});
}

bool MergeRun::settle_conflict(const Step& step) {
    const Json c = s_.conflict;
    const std::string from = c.value("from", "");
    const std::string before = c.value("mission_tip", "");
    const fs::path path = m_.worktree_path(kConflictWorktree);
    const std::string now = repo_.resolve_commit(s_.mission_branch).value_or("");
    std::error_code ec;
    const bool present = fs::is_directory(path, ec);
    const auto finished = [&] {
        drop_conflict_worktree();
        s_.conflict = nullptr;
        s_.merged.push_back(step.lane_id);
        save();
        return true;
    };
    const auto retry = [&] {
        drop_conflict_worktree();
        s_.conflict = nullptr;
        save();
        return false;
    };
    if (now != before) {
        // Committed in the merge worktree (git commit), or moved by someone else.
        if (!repo_.is_ancestor(from, now)) {
            throw Error(Exit::conflict, "BRANCH_MOVED",
                        s_.mission_branch + " moved during the merge and does not contain " +
                            step.branch,
                        "kitty-merge --abort restores it to where the merge found it");
        }
        if (auto wt = present ? Repository::discover(path) : std::nullopt) {
            if (const auto dirty = wt->changed_paths(); !dirty.empty()) {
                throw Error(Exit::conflict, "MERGE_WORKTREE_DIRTY",
                            "the merge worktree " + path.string() + " has uncommitted changes",
                            "commit or discard them, then run kitty-merge --resume")
                    .with(Json{{"paths", dirty}});
            }
        }
        return finished();
    }
    if (!present || source_of(step) != from) {
        // The worktree is gone, or the lane was brought up to date instead: merge again.
        return retry();
    }
    Repository wt = Repository::open(path);
    if (!wt.merge_head()) {
        return retry(); // the merge was given up in the worktree
    }
    const std::vector<std::string> paths = c.contains("paths") && c["paths"].is_array()
                                               ? c["paths"].get<std::vector<std::string>>()
                                               : std::vector<std::string>{};
    if (const auto left = unresolved(path, paths); !left.empty()) {
        throw Error(Exit::check_failed, "MERGE_CONFLICT",
                    "still unresolved in " + path.string() + ": " + join(left),
                    "remove the conflict markers, then run kitty-merge --resume")
            .with(Json{{"conflicting_paths", left}, {"worktree", path.string()}});
    }
    wt.finish_merge(merge_message(step.branch));
    return finished();
}

void MergeRun::merge_step(const Step& step) {
    if (std::find(s_.merged.begin(), s_.merged.end(), step.lane_id) != s_.merged.end()) {
        return;
    }
    if (s_.conflict.is_object() && s_.conflict.value("lane_id", "") == step.lane_id &&
        settle_conflict(step)) {
        return;
    }
    const std::string from = source_of(step);
    if (from.empty()) {
        throw Error(Exit::conflict, "LANE_BRANCH_MISSING",
                    "lane branch " + step.branch + " disappeared during the merge",
                    "restore it, then kitty-merge --resume; or kitty-merge --abort");
    }
    const std::string tip = repo_.resolve_commit(s_.mission_branch).value_or("");
    if (!repo_.is_ancestor(from, tip)) {
        std::string merged;
        try {
            merged = repo_.combine_commits({tip, from}, merge_message(step.branch));
        } catch (const Error& e) {
            if (e.code() != "MERGE_CONFLICT") {
                throw;
            }
            conflict_stop(step, from, tip);
        }
        repo_.move_branch(s_.mission_branch, merged, tip, "kitty merge: " + step.branch);
    }
    s_.merged.push_back(step.lane_id);
    save();
}

void MergeRun::merge_lanes(const Plan& plan) {
    for (const Step& step : plan.steps) {
        merge_step(step);
    }
}

void MergeRun::move_target() {
    if (s_.mission_start.empty()) {
        s_.target_commit = s_.target_start; // no lane to bring in
    }
    // Someone committed on the target while the merge was stopped (finding E12): the mission
    // is merged onto where the target is now, so those commits stay and the lanes' merge and
    // its conflict resolution are not redone. kitty's own move (the target at or past the
    // commit it decided) is not such a move.
    if (const std::string at = repo_.resolve_commit(s_.target_branch).value_or("");
        !at.empty() && at != s_.target_start &&
        (s_.target_commit.empty() || !repo_.is_ancestor(s_.target_commit, at)) &&
        repo_.is_ancestor(s_.target_start, at)) {
        s_.target_start = at;
        s_.target_commit.clear();
        save();
    }
    if (s_.target_commit.empty()) {
        const std::string tip = repo_.resolve_commit(s_.mission_branch).value_or("");
        s_.target_commit =
            s_.strategy == "squash"
                ? repo_.squash_commit(s_.target_start, tip,
                                      "feat(" + s_.mission_branch + "): squash merge of mission")
                : repo_.combine_commits({s_.target_start, tip},
                                        "Merge " + s_.mission_branch + " into " + s_.target_branch);
        s_.phase = MergePhase::target;
        save();
    }
    const std::string now = repo_.resolve_commit(s_.target_branch).value_or("");
    if (now == s_.target_start && s_.target_commit != s_.target_start) {
        // The main checkout must be able to follow before the ref moves (finding E03): a
        // local file where the merge puts one — an ignored one too, which no status shows —
        // would leave the target moved and the checkout behind it.
        if (const auto in_way = repo_.paths_in_the_way(s_.target_start, s_.target_commit);
            !in_way.empty()) {
            throw Error(Exit::conflict, "CHECKOUT_CONFLICT",
                        "local files of the main checkout are where the merge puts files: " +
                            join(in_way),
                        "move them out of the way (ignored files too), then kitty-merge "
                        "--resume; the target has not moved")
                .with(Json{{"paths", in_way}});
        }
        repo_.move_branch(s_.target_branch, s_.target_commit, s_.target_start,
                          "kitty merge: " + s_.mission_branch);
    } else if (now != s_.target_commit) {
        throw Error(Exit::conflict, "BRANCH_MOVED",
                    s_.target_branch + " moved while the merge ran; it is left where it is",
                    "kitty-merge --abort, then merge again");
    }
    // The main checkout has the target checked out: its index and files follow.
    if (s_.target_commit != s_.target_start) {
        repo_.check_out_move(s_.target_start, s_.target_commit);
    }
    s_.phase = MergePhase::record;
    save();
}

std::vector<std::string> MergeRun::record_done() {
    // The state read under the status lock this merge holds is still the log's.
    std::vector<StatusEvent> added;
    std::vector<std::string> done;
    for (const loop::LoopWp& wp : state_.wps) {
        if (wp.lane != WpLane::approved) {
            continue;
        }
        StatusEvent e = loop::make_event(m_, wp.id, WpLane::approved, WpLane::done, "merge");
        e.reason = "Merged " + wp.id + " into " + s_.target_branch;
        const std::string reviewer(py_strip(wp.agent()));
        e.evidence = Json{{"review",
                           {{"reference", "lane-approved:" + wp.id},
                            {"reviewer", reviewer.empty() ? "unknown" : reviewer},
                            {"verdict", "approved"}}}};
        added.push_back(std::move(e));
        done.push_back(wp.id);
    }
    for (Finding& f : record_status_events(m_, state_.events(), added)) {
        findings_.push_back(std::move(f));
    }
    const fs::path root = m_.project_root();
    const std::vector<fs::path> paths = {m_.events_log().lexically_relative(root),
                                         m_.status_json().lexically_relative(root)};
    status_commit_ = loop::commit_workflow(
        m_, paths, "chore(" + m_.slug() + "): record done transitions for merged WPs");
    s_.phase = MergePhase::cleanup;
    save();
    return done;
}

Json MergeRun::clean_up(const Plan& plan) {
    Json removed = Json::array();
    Json kept = Json::array();
    Json deleted = Json::array();
    std::error_code ec;
    drop_conflict_worktree();
    const std::vector<Worktree> worktrees = repo_.worktrees();
    std::set<std::string> still_checked_out;
    for (const Lane& lane : state_.lanes->lanes) {
        if (lane.is_planning()) {
            fs::remove(m_.writable(loop::context_file(m_, lane.lane_id)), ec);
            continue;
        }
        const std::string name = worktree_name(m_.slug(), lane.lane_id);
        const bool listed = std::any_of(worktrees.begin(), worktrees.end(),
                                        [&](const Worktree& w) { return w.name == name; });
        if (listed) {
            // Checked again here: a worktree is never removed with changes made meanwhile.
            bool dirty = false;
            if (!s_.keep_worktrees) {
                if (auto lane_repo = Repository::discover(m_.worktree_path(lane.lane_id))) {
                    dirty = !lane_repo->changed_paths().empty();
                }
            }
            if (s_.keep_worktrees || dirty) {
                kept.push_back(lane.lane_id);
                still_checked_out.insert(code_lane_branch(m_.slug(), lane.lane_id));
                continue;
            }
            repo_.remove_worktree(name);
            removed.push_back(lane.lane_id);
        } else if (const fs::path dir = m_.worktree_path(lane.lane_id);
                   !s_.keep_worktrees && fs::is_directory(dir, ec) &&
                   !fs::exists(fs::symlink_status(dir / ".git", ec))) {
            // A removal killed half way (finding E13): git's record and the .git file are
            // gone, part of the files remain. The lane is merged and was clean when the merge
            // began, so what is left is a copy of committed files.
            fs::remove_all(m_.writable(dir), ec);
            removed.push_back(lane.lane_id);
        }
        fs::remove(m_.writable(loop::context_file(m_, lane.lane_id)), ec);
    }
    if (!s_.keep_branches) {
        for (const Lane& lane : state_.lanes->lanes) {
            const std::string branch = code_lane_branch(m_.slug(), lane.lane_id);
            if (!lane.is_planning() && !still_checked_out.count(branch) &&
                repo_.branch_exists(branch)) {
                repo_.delete_branch(branch);
                deleted.push_back(branch);
            }
        }
        if (still_checked_out.empty() && repo_.branch_exists(plan.mission_branch)) {
            repo_.delete_branch(plan.mission_branch);
            deleted.push_back(plan.mission_branch);
        }
    }
    remove_state(m_);
    return Json{
        {"removed_worktrees", removed}, {"kept_worktrees", kept}, {"deleted_branches", deleted}};
}

Outcome MergeRun::run(const Plan& plan) {
    if (s_.phase == MergePhase::lanes) {
        merge_lanes(plan);
    }
    if (s_.phase == MergePhase::lanes || s_.phase == MergePhase::target) {
        move_target();
    }
    std::vector<std::string> done;
    if (s_.phase == MergePhase::record) {
        done = record_done();
    }
    const Json cleanup = clean_up(plan);
    Json doc =
        Json{{"result", "merged"},
             {"mission_slug", m_.slug()},
             {"mission_id", s_.mission_id},
             {"target_branch", s_.target_branch},
             {"strategy", s_.strategy},
             {"mission_branch", s_.mission_branch},
             {"merged_lanes", s_.merged},
             {"target_commit", s_.target_commit},
             {"target_moved", s_.target_commit != s_.target_start},
             {"done_wps", done},
             {"status_commit", status_commit_.empty() ? Json(nullptr) : Json(status_commit_)}};
    for (auto& [k, v] : cleanup.items()) {
        doc[k] = v;
    }
    std::string text;
    for (const std::string& lane : s_.merged) {
        text += "Merged " + lane + " into " + s_.mission_branch + "\n";
    }
    if (s_.target_commit != s_.target_start) {
        text += s_.mission_branch + " -> " + s_.target_branch + " (" + s_.strategy +
                "): " + short_id(s_.target_commit) + "\n";
    } else {
        text += s_.target_branch + " already had everything; it did not move\n";
    }
    if (!done.empty()) {
        text += "Done: " + join(done) +
                (status_commit_.empty() ? "" : " (commit " + short_id(status_commit_) + ")") + "\n";
    }
    if (!cleanup["removed_worktrees"].empty() || !cleanup["deleted_branches"].empty()) {
        text += "Removed " + std::to_string(cleanup["removed_worktrees"].size()) +
                " worktree(s) and " + std::to_string(cleanup["deleted_branches"].size()) +
                " branch(es)\n";
    }
    for (const Json& lane : cleanup["kept_worktrees"]) {
        text += "Kept the worktree of " + lane.get<std::string>() + "\n";
    }
    Outcome out = Outcome::success(std::move(doc), text);
    out.findings = findings_;
    return out;
}

Outcome MergeRun::abort() {
    const std::string target_now = repo_.resolve_commit(s_.target_branch).value_or("");
    const bool target_moved = s_.phase == MergePhase::record || s_.phase == MergePhase::cleanup ||
                              (!s_.target_commit.empty() && s_.target_commit != s_.target_start &&
                               target_now == s_.target_commit);
    if (target_moved) {
        throw Error(Exit::conflict, "MERGE_PAST_TARGET",
                    s_.target_branch + " already holds the merged mission; the merge cannot be "
                                       "undone, only finished",
                    "kitty-merge --resume finishes it");
    }
    drop_conflict_worktree();
    bool restored = false;
    if (!s_.mission_start.empty()) {
        const std::string now = repo_.resolve_commit(s_.mission_branch).value_or("");
        if (!now.empty() && now != s_.mission_start) {
            repo_.move_branch(s_.mission_branch, s_.mission_start, now, "kitty merge --abort");
            restored = true;
        }
    }
    remove_state(m_);
    return Outcome::success(
        Json{{"result", "aborted"},
             {"mission_slug", m_.slug()},
             {"mission_branch", s_.mission_branch},
             {"mission_branch_restored", restored},
             {"target_branch", s_.target_branch}},
        "Aborted the merge of " + m_.slug() +
            (restored ? "; " + s_.mission_branch + " is back where it was" : "") + "\n");
}

// A git lock a killed process left on the main checkout's index, a ref the merge moves, or
// packed-refs (which deleting branches rewrites) is refused before the merge starts or
// resumes.
void refuse_git_locks(const Repository& repo, const std::vector<std::string>& branches) {
    std::vector<fs::path> locks = {repo.common_dir() / "index.lock",
                                   repo.common_dir() / "packed-refs.lock"};
    for (const std::string& branch : branches) {
        locks.push_back(repo.common_dir() / "refs/heads" / (branch + ".lock"));
    }
    std::error_code ec;
    for (const fs::path& lock : locks) {
        if (fs::exists(lock, ec)) {
            throw Error(Exit::temporary, "GIT_LOCKED", "git's lock " + lock.string() + " exists",
                        "another git process holds it; retry when it is done. If none is "
                        "running, one died: remove the .lock file, then retry")
                .at(lock);
        }
    }
}

// The mission of the one merge in progress in the project, if there is exactly one: an
// interrupted merge is resumed by mission even when all its work packages are done.
std::string sole_merge_in_progress(const fs::path& start) {
    const fs::path dir = find_project_root(start) / ".kittify/runtime/merge";
    std::error_code ec;
    std::vector<std::string> slugs;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (fs::is_regular_file(entry.path() / "kitty-state.json", ec)) {
            slugs.push_back(entry.path().filename().string());
        }
    }
    return slugs.size() == 1 ? slugs.front() : "";
}

void check_merge_flags(const MergeRequest& request) {
    if (request.resume && request.abort) {
        throw Error(Exit::usage, "USAGE", "--resume and --abort exclude each other");
    }
    if (request.dry_run && (request.resume || request.abort)) {
        throw Error(Exit::usage, "USAGE",
                    "--dry-run plans a new merge; it takes no --resume or --abort");
    }
}

// The saved state of kitty's unfinished merge of the mission, checked against what the
// request asks: a new merge refuses while one is in progress (and while 3.1.1 has one), a
// resume needs one.
std::optional<MergeState> unfinished_merge(const Mission& m, const MergeRequest& request) {
    std::error_code ec;
    if (fs::exists(m.project_root() / ".kittify/runtime/merge" / m.slug() / "state.json", ec)) {
        throw Error(Exit::conflict, "MERGE_IN_PROGRESS_3_1_1",
                    "spec-kitty 3.1.1 has an interrupted merge of " + m.slug(),
                    "finish or abort it with spec-kitty 3.1.1 (merge --resume / --abort) first");
    }
    std::optional<MergeState> saved = load_state(m);
    if (request.abort) {
        return saved;
    }
    if (saved && !request.resume) {
        throw Error(Exit::conflict, "MERGE_IN_PROGRESS",
                    "a merge of " + m.slug() + " is in progress (phase " +
                        Json(saved->phase).get<std::string>() + ")",
                    "kitty-merge --resume continues it; kitty-merge --abort gives it up")
            .at(state_file(m));
    }
    if (!saved && request.resume) {
        throw Error(Exit::input, "NO_MERGE_IN_PROGRESS", "no interrupted merge of " + m.slug(),
                    "start one: kitty-merge --mission " + m.slug());
    }
    return saved;
}

// --dry-run: the plan with the forecast's conflicts as problems; nothing written.
Outcome dry_run_outcome(const loop::LoopState& state, const Plan& plan,
                        const MergeRequest& request) {
    const Mission& m = state.mission;
    const MergeForecast forecast = forecast_merge(loop::loop_repository(m), *state.lanes, plan);
    Plan forecast_plan = plan;
    refuse_forecast_conflicts(forecast, plan.mission_branch, forecast_plan);
    Json doc = plan_document(state, forecast_plan, request);
    doc["forecast"] = forecast_json(forecast);
    const std::string forecast_lines = forecast_text(forecast, plan.mission_branch);
    if (!forecast_plan.problems.empty()) {
        Outcome out = refusal(m, forecast_plan, std::move(doc));
        out.text += forecast_lines;
        return out;
    }
    std::string text =
        "Plan for " + m.slug() + " (" + plan.strategy + " onto " + plan.target + "):\n";
    for (const Step& s : plan.steps) {
        text +=
            "  merge " + s.branch + " into " + plan.mission_branch + " (" + join(s.wp_ids) + ")\n";
    }
    text += "  then " + plan.mission_branch + " onto " + plan.target +
            "; done: " + (plan.approved.empty() ? "none" : join(plan.approved)) + "\n";
    return Outcome::success(std::move(doc), text + forecast_lines);
}

// A new merge's state, saved before its first step.
MergeState start_merge(const Mission& m, const Plan& plan, const MergeRequest& request) {
    Repository& repo = loop::loop_repository(m);
    loop::check_workflow_commit(m);
    refuse_git_locks(repo, {plan.mission_branch, plan.target});
    MergeState s;
    s.mission_slug = m.slug();
    s.mission_id = m.identity().mission_id.value_or(m.slug());
    s.target_branch = plan.target;
    s.strategy = plan.strategy;
    s.mission_branch = plan.mission_branch;
    s.mission_start =
        plan.steps.empty() ? "" : repo.resolve_commit(plan.mission_branch).value_or("");
    s.target_start = repo.resolve_commit(plan.target).value_or("");
    s.keep_worktrees = request.keep_worktrees;
    s.keep_branches = request.keep_branches;
    s.started_at = python_isoformat(now_utc());
    std::error_code ec;
    if (fs::is_directory(state_dir(m), ec)) {
        remove_stale_temporaries(m.writable(state_file(m)));
    }
    save_state(m, s);
    return s;
}

// Runs the merge; an error that leaves it stopped says how to go on.
Outcome run_merge(loop::LoopState& state, MergeState saved, const Plan& plan) {
    const Mission& m = state.mission;
    try {
        return MergeRun(state, std::move(saved)).run(plan);
    } catch (Error& e) {
        std::error_code ec;
        if (e.code() != "MERGE_CONFLICT" && fs::exists(state_file(m), ec)) {
            std::vector<std::string> notes = e.notes();
            notes.push_back("the merge of " + m.slug() +
                            " is stopped: kitty-merge --resume continues it once the cause is "
                            "fixed; kitty-merge --abort gives it up");
            e.with(e.details() ? *e.details() : Json::object(), notes);
        }
        throw;
    }
}

} // namespace merge_detail

using namespace merge_detail;

Outcome merge_command(const MergeRequest& request) {
    check_merge_flags(request);
    const GitPreload git_loads_meanwhile;
    LoopTarget target = request.target;
    if (target.mission.empty() && (request.resume || request.abort)) {
        target.mission = sole_merge_in_progress(target.start_dir);
    }
    // Status changes made on two branches merge as a union, as git merges them with the
    // driver kitty-init registers.
    register_kitty_merge_drivers();
    loop::LockedState locked = loop::read_locked_state(target);
    loop::LoopState& state = locked.state;
    const Mission& m = state.mission;
    std::optional<MergeState> saved = unfinished_merge(m, request);
    if (request.abort) {
        if (!saved) {
            return Outcome::success(
                Json{{"result", "nothing_to_abort"}, {"mission_slug", m.slug()}},
                "No merge of " + m.slug() + " to abort\n");
        }
        return MergeRun(state, std::move(*saved)).abort();
    }
    MergeRequest effective = request;
    if (saved) {
        effective.target_branch = saved->target_branch;
        effective.strategy = saved->strategy;
        effective.keep_worktrees = saved->keep_worktrees;
        effective.keep_branches = saved->keep_branches;
    }
    const Plan plan = make_plan(state, effective, !saved);
    if (request.dry_run) {
        return dry_run_outcome(state, plan, request);
    }
    if (saved) {
        if (saved->phase == MergePhase::lanes && !plan.problems.empty()) {
            return refusal(m, plan, plan_document(state, plan, effective));
        }
        refuse_git_locks(loop::loop_repository(m), {saved->mission_branch, saved->target_branch});
        return run_merge(state, std::move(*saved), plan);
    }
    if (!plan.problems.empty()) {
        return refusal(m, plan, plan_document(state, plan, request));
    }
    if (plan.approved.empty()) {
        return Outcome::success(Json{{"result", "nothing_to_merge"}, {"mission_slug", m.slug()}},
                                "Every work package of " + m.slug() +
                                    " is done already; nothing to merge\n");
    }
    return run_merge(state, start_merge(m, plan, request), plan);
}

} // namespace kitty
