#include "kitty/finalize.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <re2/re2.h>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/dependency_graph.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/lanes.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/ownership.hpp"
#include "kitty/regex.hpp"
#include "kitty/status.hpp"
#include "kitty/tasks_md.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "kitty/wps_manifest.hpp"
#include "loop_transaction.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// The fixed branch-strategy note finalize writes into every WP (our wording).
std::string branch_strategy(const std::string& target) {
    return "Planning for this mission happened on " + target +
           ". Completed changes must merge back into " + target + ".";
}

// Whether an existing branch_strategy says that planning happened on `target` ("… on T.")
// and that changes merge back into it ("… into T."), whoever worded it: such a value is
// kept, so a project worked by kitty and spec-kitty does not churn.
bool names_branches(const std::optional<std::string>& value, const std::string& target) {
    static const Regex planning(R"(\bon (\S+?)[.;,]?(?:\s|$))");
    static const Regex merge(R"(\binto (\S+?)[.;,]?(?:\s|$))");
    std::string planned, merged;
    return value && RE2::PartialMatch(*value, planning, &planned) &&
           RE2::PartialMatch(*value, merge, &merged) && planned == target && merged == target;
}

// Whether the raw frontmatter (the text between the first two "---") has `key:` on a line.
bool has_key_line(const std::string& raw, const char* key) {
    if (!raw.starts_with("---")) {
        return false;
    }
    const std::size_t second = raw.find("---", 3);
    const std::string part =
        raw.substr(3, second == std::string::npos ? std::string::npos : second - 3);
    static const Regex dependencies(python_regex(R"((?m)^\s*dependencies\s*:)"));
    static const Regex requirement_refs(python_regex(R"((?m)^\s*requirement_refs\s*:)"));
    return RE2::PartialMatch(part, std::string_view(key) == "dependencies" ? dependencies
                                                                           : requirement_refs);
}

struct WpPlan {
    std::string wp_id;
    fs::path path;
    WpFrontmatter before;
    WpFrontmatter after;
    Json changes = Json::object();
    bool preserved = false;
};

// A failed check: exit 1, reported like every other error (document on stdout, message
// and `notes` on stderr), with 3.1.1's detail keys in the document.
Error check_failed(const std::string& code, const std::string& message, const std::string& hint,
                   const Json& details = Json::object(), std::vector<std::string> notes = {}) {
    return Error(Exit::check_failed, code, message, hint).with(details, std::move(notes));
}

// What finalize read from the mission: the WP files and the requirement refs.
struct FinalizeReads {
    std::vector<WpPlan> plans;
    std::vector<Finding> findings;
    // Each WP's refs: its frontmatter's, else its tasks.md section's.
    std::map<std::string, std::vector<std::string>> refs;
    std::set<std::string> file_ids; // the WPs with a file, readable or not
    Json refs_parsed = Json::object();
};

// Everything finalize decided before writing.
struct FinalizePlan {
    std::string target;
    DependencyMap graph;
    FinalizeReads reads;
    std::vector<std::string> ownership_warnings;
    std::optional<LanesManifest> lanes;
    std::vector<std::string> to_seed; // the WPs the status bootstrap seeds
};

std::string finalize_target(const FinalizeRequest& request, const Repository* repo) {
    if (request.target_branch) {
        return *request.target_branch;
    }
    return repo ? repo->current_branch().value_or("main") : "main";
}

void require_planning_files(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir / "tasks", ec)) {
        throw Error(Exit::input, "NO_TASKS_DIR",
                    "Tasks directory not found: " + (dir / "tasks").string(),
                    "write the WP files under tasks/ first")
            .at(dir / "tasks");
    }
    if (!fs::is_regular_file(dir / "spec.md", ec)) {
        throw Error(Exit::input, "NO_SPEC", "spec.md not found: " + (dir / "spec.md").string(),
                    "write the specification first (/spec-kitty.specify)")
            .at(dir / "spec.md");
    }
}

// The requirement ids a WP's requirement_refs name, each once, in order.
std::vector<std::string> wp_requirement_refs(const WpFrontmatter& wp) {
    std::vector<std::string> wp_refs;
    for (const std::string& r : wp.list_field("requirement_refs")) {
        for (const std::string& found : extract_requirement_ids(r)) {
            if (std::find(wp_refs.begin(), wp_refs.end(), found) == wp_refs.end()) {
                wp_refs.push_back(found);
            }
        }
    }
    return wp_refs;
}

// The WP files, sorted, and what they hold; an unreadable one is a warning and keeps no
// refs. Only the WPs with a file are mapped; a tasks.md section without one still reports
// its refs in requirement_refs_parsed, as 3.1.1 does.
FinalizeReads read_wp_plans(const fs::path& tasks_dir, const std::optional<std::string>& tasks_md,
                            const std::string& tasks_md_path) {
    FinalizeReads reads;
    for (const fs::path& file : list_wp_files(tasks_dir)) {
        const auto id = wp_id_from_filename(file.filename().string());
        if (!id) {
            continue;
        }
        WpPlan plan{*id, file, {}, {}, Json::object(), false};
        try {
            plan.before = read_wp_file(file);
        } catch (const Error& e) {
            reads.findings.push_back({"warning", "WP_FILE_SKIPPED",
                                      std::string("Could not read ") + file.filename().string() +
                                          ": " + e.what() + "; it is left as it is",
                                      file.string(), e.line()});
            reads.refs[*id];
            continue;
        }
        reads.refs[*id] = wp_requirement_refs(plan.before);
        reads.plans.push_back(std::move(plan));
    }
    for (const auto& [id, list] : reads.refs) {
        reads.refs_parsed[id] = list;
        reads.file_ids.insert(id);
    }
    if (!tasks_md) {
        return reads;
    }
    for (const auto& [wp, list] : analyse_tasks_md(*tasks_md, tasks_md_path).requirement_refs) {
        if (!list.empty() && (!reads.refs.count(wp) || reads.refs[wp].empty())) {
            reads.refs[wp] = list;
            reads.refs_parsed[wp] = list;
        }
    }
    return reads;
}

// No cycle, and every dependency has its own entry.
void check_graph(const DependencyMap& graph) {
    if (const auto cycles = detect_cycles(graph); !cycles.empty()) {
        std::string text = "[";
        for (const auto& c : cycles) {
            text += (text.size() > 1 ? ", " : "") + python_list_repr(c);
        }
        throw check_failed("DEPENDENCY_CYCLE", "Circular dependencies detected: " + text + "]",
                           "remove one dependency of each cycle in tasks.md", {{"cycles", cycles}});
    }
    std::set<std::string> keys;
    for (const auto& [wp, deps] : graph) {
        keys.insert(wp);
    }
    for (const auto& [wp, deps] : graph) {
        std::vector<std::string> errors;
        for (const std::string& d : deps) {
            if (!keys.count(d)) {
                errors.push_back("Dependency " + d + " not found in graph");
            }
        }
        if (!errors.empty()) {
            throw check_failed("INVALID_DEPENDENCIES",
                               "Invalid dependencies for " + wp + ": " + python_list_repr(errors),
                               "give every referenced WP its own section in tasks.md",
                               {{"wp_id", wp}, {"errors", errors}});
        }
    }
}

// Every WP file names requirements spec.md defines, and every FR is mapped to a WP.
void check_requirement_mapping(const FinalizeReads& reads, const std::set<std::string>& spec_ids,
                               const DependencyMap& graph) {
    std::vector<std::string> missing, notes;
    Json unknown = Json::object();
    std::set<std::string> mapped;
    for (const std::string& wp : reads.file_ids) {
        const std::vector<std::string>& list = reads.refs.at(wp);
        if (list.empty()) {
            notes.push_back(wp + " has no requirement_refs");
            missing.push_back(wp);
            continue;
        }
        std::vector<std::string> bad;
        std::copy_if(list.begin(), list.end(), std::back_inserter(bad),
                     [&](const std::string& r) { return !spec_ids.count(r); });
        std::sort(bad.begin(), bad.end());
        if (!bad.empty()) {
            unknown[wp] = bad;
            notes.push_back(
                wp + " refers to requirements spec.md does not define: " + python_list_repr(bad));
        } else {
            mapped.insert(list.begin(), list.end());
        }
    }
    std::vector<std::string> unmapped;
    for (const std::string& id : spec_ids) {
        if (id.starts_with("FR-") && !mapped.count(id)) {
            unmapped.push_back(id);
            notes.push_back(id + " is not mapped to any WP");
        }
    }
    if (!missing.empty() || !unknown.empty() || !unmapped.empty()) {
        throw check_failed(
            "REQUIREMENT_MAPPING", "Requirement mapping validation failed",
            "give every WP requirement_refs that exist in spec.md and cover every FR",
            {{"missing_requirement_refs_wps", missing},
             {"unknown_requirement_refs", unknown},
             {"unmapped_functional_requirements", unmapped},
             {"dependencies_parsed", dependency_map_json(graph)},
             {"requirement_refs_parsed", reads.refs_parsed}},
            std::move(notes));
    }
}

// Disagree-loud: a non-empty frontmatter list and a non-empty parsed list must agree.
void check_dependency_agreement(const DependencyMap& graph, const std::vector<WpPlan>& plans) {
    std::vector<std::string> conflicts;
    for (const auto& [wp, deps] : graph) {
        const auto plan = std::find_if(plans.begin(), plans.end(),
                                       [&](const WpPlan& p) { return p.wp_id == wp; });
        if (plan == plans.end()) {
            continue;
        }
        std::vector<std::string> f = plan->before.dependencies(), p = deps;
        std::sort(f.begin(), f.end());
        std::sort(p.begin(), p.end());
        if (!f.empty() && !p.empty() &&
            std::set<std::string>(f.begin(), f.end()) !=
                std::set<std::string>(p.begin(), p.end())) {
            conflicts.push_back(wp + ": frontmatter has " + python_list_repr(f) +
                                ", tasks.md parsed " + python_list_repr(p) +
                                ". Resolve the disagreement in tasks.md or WP frontmatter before "
                                "finalizing.");
        }
    }
    if (!conflicts.empty()) {
        std::string message = "Dependency disagreement detected:";
        for (const std::string& c : conflicts) {
            message += "\n" + c;
        }
        throw check_failed("DEPENDENCY_DISAGREEMENT", message,
                           "make tasks.md and the WP frontmatter name the same dependencies",
                           {{"dependency_conflicts", conflicts}});
    }
}

void set_list(WpPlan& plan, const char* key, const std::vector<std::string>& value) {
    plan.after.set_list(key, value);
    plan.changes[key] = value;
}

void set_string(WpPlan& plan, const char* key, const std::string& value) {
    plan.after.set_string(key, value);
    plan.changes[key] = value;
}

// The ownership fields a WP lacks, inferred from its body; returns the inference's warning.
std::optional<std::string> infer_missing_ownership(WpPlan& plan, const std::string& raw,
                                                   const std::string& slug) {
    const auto mode = plan.before.string_field("execution_mode");
    const auto owned = plan.before.list_field("owned_files");
    if (mode && !mode->empty() && !owned.empty()) {
        return std::nullopt;
    }
    const InferredOwnership inferred = infer_ownership(raw, slug);
    if (!mode || mode->empty()) {
        set_string(plan, "execution_mode", inferred.execution_mode);
    }
    if (owned.empty()) {
        set_list(plan, "owned_files", inferred.owned_files);
    }
    if (plan.before.string_field("authoritative_surface").value_or("").empty()) {
        set_string(plan, "authoritative_surface", inferred.authoritative_surface);
    }
    return inferred.warning;
}

// The frontmatter a WP will have: the parsed dependencies (a frontmatter list kept where
// tasks.md names none), the branches, the requirement refs and the ownership fields.
std::optional<std::string> plan_frontmatter(WpPlan& plan, std::vector<std::string> deps,
                                            bool from_wps_yaml, const FinalizeReads& reads,
                                            const std::string& target, const std::string& slug) {
    const std::string raw = read_file_bytes(plan.path);
    plan.after = plan.before;
    const std::vector<std::string> f = plan.before.dependencies();
    if (!f.empty() && deps.empty() && !from_wps_yaml) {
        deps = f;
        plan.preserved = true;
    }
    if (!has_key_line(raw, "dependencies") || f != deps) {
        set_list(plan, "dependencies", deps);
    }
    for (const char* key : {"planning_base_branch", "merge_target_branch"}) {
        if (plan.before.string_field(key) != target) {
            set_string(plan, key, target);
        }
    }
    if (!names_branches(plan.before.string_field("branch_strategy"), target)) {
        set_string(plan, "branch_strategy", branch_strategy(target));
    }
    const std::vector<std::string>& refs = reads.refs.at(plan.wp_id);
    if (!has_key_line(raw, "requirement_refs") ||
        plan.before.list_field("requirement_refs") != refs) {
        set_list(plan, "requirement_refs", refs);
    }
    return infer_missing_ownership(plan, raw, slug);
}

std::vector<std::string> dependencies_of(const DependencyMap& graph, const std::string& wp) {
    for (const auto& [id, deps] : graph) {
        if (id == wp) {
            return deps;
        }
    }
    return {};
}

// A WP's ownership errors against the WPs before it (`owners`) and its surface error, if any.
void check_wp_ownership(const WpPlan& plan, const std::vector<std::string>& owned,
                        const std::vector<std::pair<std::string, std::vector<std::string>>>& owners,
                        std::vector<std::string>& overlaps, std::vector<std::string>& surfaces) {
    for (const auto& [other, globs] : owners) {
        for (const std::string& a : globs) {
            for (const std::string& b : owned) {
                if (globs_overlap(a, b)) {
                    overlaps.push_back("Overlap: " + other + " (" + python_repr(a) + ") and " +
                                       plan.wp_id + " (" + python_repr(b) +
                                       ") claim overlapping paths.");
                }
            }
        }
    }
    const std::string surface = plan.after.string_field("authoritative_surface").value_or("");
    if (surface.empty()) {
        surfaces.push_back(plan.wp_id + ": authoritative_surface is empty.");
    } else if (std::none_of(owned.begin(), owned.end(),
                            [&](const std::string& g) { return g.starts_with(surface); })) {
        surfaces.push_back(plan.wp_id + ": authoritative_surface " + python_repr(surface) +
                           " is not a prefix of any owned_files entry: " + python_list_repr(owned));
    }
}

// Ownership: no two WPs may claim overlapping paths; each surface prefixes a glob. Every
// overlap is reported first, then each WP's surface (validate_all of 3.1.1). Returns the
// lane computation's inputs.
LaneInputs check_ownership(const FinalizePlan& plan, const Mission& mission) {
    LaneInputs lane_inputs;
    lane_inputs.graph = plan.graph;
    lane_inputs.mission_slug = mission.slug();
    lane_inputs.target_branch = plan.target;
    lane_inputs.computed_at = python_isoformat(now_utc());
    lane_inputs.mission_id = mission.identity().mission_id.value_or("");
    std::vector<std::string> ownership_errors, surface_errors;
    std::vector<std::pair<std::string, std::vector<std::string>>> owners;
    for (const WpPlan& wp : plan.reads.plans) {
        const auto mode = wp.after.string_field("execution_mode");
        const auto owned = wp.after.list_field("owned_files");
        lane_inputs.bodies[wp.wp_id] = wp.after.body;
        if (!mode || mode->empty() || owned.empty()) {
            continue;
        }
        const auto parsed_mode = parse_execution_mode(*mode);
        if (!parsed_mode) {
            const auto line = wp.before.key_lines.find("execution_mode");
            throw invalid_execution_mode(wp.wp_id, *mode)
                .at(wp.path, line == wp.before.key_lines.end() ? 0 : line->second);
        }
        lane_inputs.manifests[wp.wp_id] = {*parsed_mode, owned};
        check_wp_ownership(wp, owned, owners, ownership_errors, surface_errors);
        owners.emplace_back(wp.wp_id, owned);
    }
    ownership_errors.insert(ownership_errors.end(), surface_errors.begin(), surface_errors.end());
    if (!ownership_errors.empty()) {
        throw check_failed("OWNERSHIP", "Ownership validation failed",
                           "give each WP its own owned_files and an authoritative_surface that "
                           "prefixes one of them",
                           {{"ownership_errors", ownership_errors}}, ownership_errors);
    }
    return lane_inputs;
}

// The bootstrap of 3.1.1 seeds the readable WP files the status does not know, by their
// work_package_id.
std::vector<std::string> wps_to_seed(const std::vector<WpPlan>& plans, const Mission& mission) {
    const StatusSnapshot status = reduce_status(read_status_events(mission.events_log()));
    std::vector<std::string> to_seed;
    for (const WpPlan& plan : plans) {
        const std::string id = plan.before.work_package_id();
        if (!status.work_packages.count(id) &&
            std::find(to_seed.begin(), to_seed.end(), id) == to_seed.end()) {
            to_seed.push_back(id);
        }
    }
    return to_seed;
}

// Every check, in 3.1.1's order, and what finalize would write; nothing is written.
FinalizePlan plan_finalize(const Mission& mission, const FinalizeRequest& request) {
    const fs::path& dir = mission.dir();
    FinalizePlan plan;
    plan.target = finalize_target(request, mission.repository());
    require_planning_files(dir);
    const std::vector<std::string> spec_ids =
        extract_requirement_ids(read_text_file(dir / "spec.md", Bom::keep));
    MissionGraph mission_graph = mission_dependency_graph(mission);
    plan.graph = std::move(mission_graph.graph);
    plan.reads = read_wp_plans(dir / "tasks", mission_graph.tasks_md, mission.tasks_md().string());
    if (!plan.graph.empty()) {
        check_graph(plan.graph);
    }
    check_requirement_mapping(plan.reads, std::set<std::string>(spec_ids.begin(), spec_ids.end()),
                              plan.graph);
    check_dependency_agreement(plan.graph, plan.reads.plans);
    for (WpPlan& wp : plan.reads.plans) {
        if (const auto warning = plan_frontmatter(wp, dependencies_of(plan.graph, wp.wp_id),
                                                  mission_graph.from_wps_yaml, plan.reads,
                                                  plan.target, mission.slug())) {
            plan.ownership_warnings.push_back(wp.wp_id + ": " + *warning);
        }
    }
    const LaneInputs lane_inputs = check_ownership(plan, mission);
    if (!lane_inputs.manifests.empty() && !plan.graph.empty()) {
        plan.lanes = compute_lanes(lane_inputs);
    }
    plan.to_seed = wps_to_seed(plan.reads.plans, mission);
    return plan;
}

// 3.1.1's lanes summary; without lanes, {"computed": false} and empty fields.
Json lanes_summary(const std::optional<LanesManifest>& lanes) {
    if (!lanes) {
        return {{"computed", false},
                {"count", 0},
                {"lane_ids", Json::array()},
                {"planning_artifact_wps", Json::array()},
                {"collapse_report", nullptr}};
    }
    std::vector<std::string> ids;
    for (const Lane& l : lanes->lanes) {
        ids.push_back(l.lane_id);
    }
    return {{"computed", true},
            {"count", lanes->lanes.size()},
            {"lane_ids", ids},
            {"planning_artifact_wps", lanes->planning_artifact_wps()},
            {"collapse_report", collapse_report_json(*lanes)}};
}

// The WPs by what finalize does to their file.
struct WpChanges {
    std::vector<std::string> modified, unchanged, preserved;
    Json would_modify = Json::array();
};

WpChanges wp_changes(const std::vector<WpPlan>& plans) {
    WpChanges changes;
    for (const WpPlan& plan : plans) {
        if (plan.preserved) {
            changes.preserved.push_back(plan.wp_id);
        } else if (plan.changes.empty()) {
            changes.unchanged.push_back(plan.wp_id);
        } else {
            changes.modified.push_back(plan.wp_id);
        }
        if (!plan.changes.empty()) {
            changes.would_modify.push_back({{"wp_id", plan.wp_id}, {"changes", plan.changes}});
        }
    }
    return changes;
}

Json bootstrap_summary(const FinalizePlan& plan) {
    const std::size_t total = plan.reads.plans.size();
    return {{"total_wps", total},
            {"newly_seeded", plan.to_seed.size()},
            {"already_initialized", total - plan.to_seed.size()}};
}

Outcome render_validation(const FinalizePlan& plan, const std::string& slug) {
    const WpChanges changes = wp_changes(plan.reads.plans);
    const auto updated = static_cast<std::size_t>(changes.would_modify.size());
    Outcome out;
    out.findings = plan.reads.findings;
    out.document = {
        {"result", "validation_passed"},
        {"mission_slug", slug},
        {"wp_count", plan.reads.plans.size()},
        {"validate_only", true},
        {"would_modify", changes.would_modify},
        {"would_preserve", changes.preserved},
        {"unchanged", changes.unchanged},
        {"updated_wp_count", updated},
        {"ownership_warnings", plan.ownership_warnings},
        {"validation",
         {{"bootstrap_preview", bootstrap_summary(plan)},
          {"lanes_preview", plan.lanes ? lanes_summary(plan.lanes) : Json{{"computed", false}}}}},
        {"message", "All validations passed. Run without --validate-only to write."}};
    out.text =
        "Validation passed for " + slug + ": " + std::to_string(updated) +
        " WP files would change, " + std::to_string(plan.to_seed.size()) +
        " WPs would be bootstrapped" +
        (plan.lanes ? ", " + std::to_string(plan.lanes->lanes.size()) + " lanes" : std::string()) +
        ". Nothing was written.\n";
    return out;
}

// Every check passed: the WP files and lanes.json as one transaction, then the status log
// (append-only) and its snapshot, whose places are checked before anything is written.
// Returns the bootstrap's findings.
std::vector<Finding> write_finalize(const FinalizePlan& plan, const Mission& mission) {
    mission.writable(mission.events_log());
    mission.writable(mission.status_json());
    mission.lock_dir();
    AtomicFileSet writes;
    for (const WpPlan& wp : plan.reads.plans) {
        if (!wp.changes.empty()) {
            writes.stage(mission.writable(wp.path), serialize_wp_file(wp.after));
        }
    }
    if (plan.lanes) {
        writes.stage(mission.writable(mission.lanes_json()), serialize_lanes(*plan.lanes));
    }
    writes.commit();
    if (plan.to_seed.empty()) {
        return {};
    }
    return bootstrap_status(mission, plan.to_seed, "finalize-tasks").findings;
}

Outcome render_finalized(const FinalizePlan& plan, const Mission& mission,
                         std::vector<Finding> written) {
    const WpChanges changes = wp_changes(plan.reads.plans);
    const auto updated = static_cast<std::size_t>(changes.would_modify.size());
    Outcome out;
    out.findings = plan.reads.findings;
    std::move(written.begin(), written.end(), std::back_inserter(out.findings));
    out.document = {{"result", "success"},
                    {"wp_count", plan.reads.plans.size()},
                    {"updated_wp_count", updated},
                    {"modified_wps", changes.modified},
                    {"unchanged_wps", changes.unchanged},
                    {"preserved_wps", changes.preserved},
                    {"tasks_dir", (mission.dir() / "tasks").string()},
                    {"commit_created", false},
                    {"commit_hash", nullptr},
                    {"files_committed", Json::array()},
                    {"dependencies_parsed", dependency_map_json(plan.graph)},
                    {"requirement_refs_parsed", plan.reads.refs_parsed},
                    {"bootstrap", bootstrap_summary(plan)},
                    {"lanes", lanes_summary(plan.lanes)},
                    {"ownership_warnings", plan.ownership_warnings}};
    out.text =
        "Finalized " + mission.slug() + ": " + std::to_string(updated) + " WP files updated, " +
        std::to_string(plan.to_seed.size()) + " WPs bootstrapped as planned" +
        (plan.lanes ? ", lanes.json with " + std::to_string(plan.lanes->lanes.size()) + " lanes"
                    : std::string(", no lanes computed")) +
        ". Nothing was committed.\n";
    return out;
}

} // namespace

Outcome finalize_tasks_command(const FinalizeRequest& request) {
    const Mission mission = Mission::open(request.mission, request.start_dir);
    // A finalize that writes is one loop transaction held whole: the commit lock (every edit
    // of a WP file takes it) and the status lock, from the first read to the last write, so
    // a hand-off in between is never overwritten.
    std::optional<FileLock> commits, status_lock;
    if (!request.validate_only && mission.root()) {
        commits.emplace(loop::lock_commits(mission));
        status_lock.emplace(mission.lock_status());
    }
    const FinalizePlan plan = plan_finalize(mission, request);
    if (request.validate_only) {
        return render_validation(plan, mission.slug());
    }
    return render_finalized(plan, mission, write_finalize(plan, mission));
}

} // namespace kitty
