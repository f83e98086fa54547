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
    const fs::path& dir = mission.dir();
    const std::string& slug = mission.slug();
    const Repository* repo = mission.repository();
    const std::string target = request.target_branch ? *request.target_branch
                               : repo                ? repo->current_branch().value_or("main")
                                                     : "main";
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
    const std::vector<std::string> spec_ids =
        extract_requirement_ids(read_text_file(dir / "spec.md", Bom::keep));
    const std::set<std::string> all_ids(spec_ids.begin(), spec_ids.end());

    MissionGraph mission_graph = mission_dependency_graph(mission);
    const DependencyMap graph = std::move(mission_graph.graph);
    std::vector<std::pair<std::string, std::vector<std::string>>> tasks_refs;
    if (mission_graph.tasks_md) {
        tasks_refs =
            analyse_tasks_md(*mission_graph.tasks_md, mission.tasks_md().string()).requirement_refs;
    }
    const auto parsed_for = [&](const std::string& wp) {
        for (const auto& [id, deps] : graph) {
            if (id == wp) {
                return deps;
            }
        }
        return std::vector<std::string>{};
    };

    // The WP files, sorted, and what they hold.
    std::vector<WpPlan> plans;
    std::vector<Finding> findings;
    Json refs_parsed = Json::object();
    std::map<std::string, std::vector<std::string>> refs;
    for (const fs::path& file : list_wp_files(dir / "tasks")) {
        const auto id = wp_id_from_filename(file.filename().string());
        if (!id) {
            continue;
        }
        WpPlan plan{*id, file, {}, {}, Json::object(), false};
        try {
            plan.before = read_wp_file(file);
        } catch (const Error& e) {
            findings.push_back({"warning", "WP_FILE_SKIPPED",
                                std::string("Could not read ") + file.filename().string() + ": " +
                                    e.what() + "; it is left as it is",
                                file.string(), e.line()});
            refs[*id];
            continue;
        }
        std::vector<std::string> wp_refs;
        for (const std::string& r : plan.before.list_field("requirement_refs")) {
            for (const std::string& found : extract_requirement_ids(r)) {
                if (std::find(wp_refs.begin(), wp_refs.end(), found) == wp_refs.end()) {
                    wp_refs.push_back(found);
                }
            }
        }
        refs[*id] = wp_refs;
        plans.push_back(std::move(plan));
    }
    // Only the WPs with a file are mapped; a tasks.md section without one still reports
    // its refs in requirement_refs_parsed, as 3.1.1 does.
    std::set<std::string> file_ids;
    for (const auto& [id, list] : refs) {
        refs_parsed[id] = list;
        file_ids.insert(id);
    }
    for (const auto& [wp, list] : tasks_refs) {
        if (!list.empty() && (!refs.count(wp) || refs[wp].empty())) {
            refs[wp] = list;
            refs_parsed[wp] = list;
        }
    }

    // Graph checks.
    if (!graph.empty()) {
        if (const auto cycles = detect_cycles(graph); !cycles.empty()) {
            std::string text = "[";
            for (const auto& c : cycles) {
                text += (text.size() > 1 ? ", " : "") + python_list_repr(c);
            }
            throw check_failed("DEPENDENCY_CYCLE", "Circular dependencies detected: " + text + "]",
                               "remove one dependency of each cycle in tasks.md",
                               {{"cycles", cycles}});
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
                                   "Invalid dependencies for " + wp + ": " +
                                       python_list_repr(errors),
                                   "give every referenced WP its own section in tasks.md",
                                   {{"wp_id", wp}, {"errors", errors}});
            }
        }
    }

    // Requirement mapping.
    std::vector<std::string> missing;
    Json unknown = Json::object();
    std::set<std::string> mapped;
    std::vector<std::string> mapping_notes;
    for (const std::string& wp : file_ids) {
        const std::vector<std::string>& list = refs[wp];
        if (list.empty()) {
            mapping_notes.push_back(wp + " has no requirement_refs");
            missing.push_back(wp);
            continue;
        }
        std::vector<std::string> bad;
        for (const std::string& r : list) {
            if (!all_ids.count(r)) {
                bad.push_back(r);
            }
        }
        std::sort(bad.begin(), bad.end());
        if (!bad.empty()) {
            unknown[wp] = bad;
            mapping_notes.push_back(
                wp + " refers to requirements spec.md does not define: " + python_list_repr(bad));
        } else {
            mapped.insert(list.begin(), list.end());
        }
    }
    std::vector<std::string> unmapped;
    for (const std::string& id : all_ids) {
        if (id.starts_with("FR-") && !mapped.count(id)) {
            unmapped.push_back(id);
            mapping_notes.push_back(id + " is not mapped to any WP");
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
             {"requirement_refs_parsed", refs_parsed}},
            std::move(mapping_notes));
    }

    // Disagree-loud: a non-empty frontmatter list and a non-empty parsed list must agree.
    std::vector<std::string> conflicts;
    for (const auto& entry : graph) {
        const std::string& wp = entry.first;
        const std::vector<std::string>& deps = entry.second;
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

    // The frontmatter each WP will have.
    std::vector<std::string> ownership_warnings;
    for (WpPlan& plan : plans) {
        const std::string raw = read_file_bytes(plan.path);
        plan.after = plan.before;
        const std::vector<std::string> f = plan.before.dependencies();
        std::vector<std::string> deps = parsed_for(plan.wp_id);
        if (!f.empty() && deps.empty() && !mission_graph.from_wps_yaml) {
            deps = f;
            plan.preserved = true;
        }
        if (!has_key_line(raw, "dependencies") || f != deps) {
            plan.after.set_list("dependencies", deps);
            plan.changes["dependencies"] = deps;
        }
        for (const char* key : {"planning_base_branch", "merge_target_branch"}) {
            if (plan.before.string_field(key) != target) {
                plan.after.set_string(key, target);
                plan.changes[key] = target;
            }
        }
        if (!names_branches(plan.before.string_field("branch_strategy"), target)) {
            plan.after.set_string("branch_strategy", branch_strategy(target));
            plan.changes["branch_strategy"] = branch_strategy(target);
        }
        if (!has_key_line(raw, "requirement_refs") ||
            plan.before.list_field("requirement_refs") != refs[plan.wp_id]) {
            plan.after.set_list("requirement_refs", refs[plan.wp_id]);
            plan.changes["requirement_refs"] = refs[plan.wp_id];
        }
        const auto mode = plan.before.string_field("execution_mode");
        const auto owned = plan.before.list_field("owned_files");
        if (!mode || mode->empty() || owned.empty()) {
            const InferredOwnership inferred = infer_ownership(raw, slug);
            if (inferred.warning) {
                ownership_warnings.push_back(plan.wp_id + ": " + *inferred.warning);
            }
            if (!mode || mode->empty()) {
                plan.after.set_string("execution_mode", inferred.execution_mode);
                plan.changes["execution_mode"] = inferred.execution_mode;
            }
            if (owned.empty()) {
                plan.after.set_list("owned_files", inferred.owned_files);
                plan.changes["owned_files"] = inferred.owned_files;
            }
            if (plan.before.string_field("authoritative_surface").value_or("").empty()) {
                plan.after.set_string("authoritative_surface", inferred.authoritative_surface);
                plan.changes["authoritative_surface"] = inferred.authoritative_surface;
            }
        }
    }

    // Ownership: no two WPs may claim overlapping paths; each surface prefixes a glob.
    LaneInputs lane_inputs;
    lane_inputs.graph = graph;
    lane_inputs.mission_slug = slug;
    lane_inputs.target_branch = target;
    lane_inputs.computed_at = python_isoformat(now_utc());
    lane_inputs.mission_id = mission.identity().mission_id.value_or("");
    // validate_all of 3.1.1: every overlap first, then each WP's surface.
    std::vector<std::string> ownership_errors, surface_errors;
    std::vector<std::pair<std::string, std::vector<std::string>>> owners;
    for (const WpPlan& plan : plans) {
        const auto mode = plan.after.string_field("execution_mode");
        const auto owned = plan.after.list_field("owned_files");
        lane_inputs.bodies[plan.wp_id] = plan.after.body;
        if (!mode || mode->empty() || owned.empty()) {
            continue;
        }
        const auto parsed_mode = parse_execution_mode(*mode);
        if (!parsed_mode) {
            const auto line = plan.before.key_lines.find("execution_mode");
            throw invalid_execution_mode(plan.wp_id, *mode)
                .at(plan.path, line == plan.before.key_lines.end() ? 0 : line->second);
        }
        lane_inputs.manifests[plan.wp_id] = {*parsed_mode, owned};
        for (const auto& [other, globs] : owners) {
            for (const std::string& a : globs) {
                for (const std::string& b : owned) {
                    if (globs_overlap(a, b)) {
                        ownership_errors.push_back("Overlap: " + other + " (" + python_repr(a) +
                                                   ") and " + plan.wp_id + " (" + python_repr(b) +
                                                   ") claim overlapping paths.");
                    }
                }
            }
        }
        owners.emplace_back(plan.wp_id, owned);
        const std::string surface = plan.after.string_field("authoritative_surface").value_or("");
        if (surface.empty()) {
            surface_errors.push_back(plan.wp_id + ": authoritative_surface is empty.");
        } else if (std::none_of(owned.begin(), owned.end(),
                                [&](const std::string& g) { return g.starts_with(surface); })) {
            surface_errors.push_back(
                plan.wp_id + ": authoritative_surface " + python_repr(surface) +
                " is not a prefix of any owned_files entry: " + python_list_repr(owned));
        }
    }
    ownership_errors.insert(ownership_errors.end(), surface_errors.begin(), surface_errors.end());
    if (!ownership_errors.empty()) {
        throw check_failed("OWNERSHIP", "Ownership validation failed",
                           "give each WP its own owned_files and an authoritative_surface that "
                           "prefixes one of them",
                           {{"ownership_errors", ownership_errors}}, ownership_errors);
    }

    // Lanes, still before any write.
    std::optional<LanesManifest> lanes;
    if (!lane_inputs.manifests.empty() && !graph.empty()) {
        lanes = compute_lanes(lane_inputs);
    }
    // 3.1.1's lanes summary; without lanes, --validate-only says only {"computed": false}.
    Json lanes_doc = {{"computed", false},
                      {"count", 0},
                      {"lane_ids", Json::array()},
                      {"planning_artifact_wps", Json::array()},
                      {"collapse_report", nullptr}};
    if (lanes) {
        std::vector<std::string> ids;
        for (const Lane& l : lanes->lanes) {
            ids.push_back(l.lane_id);
        }
        lanes_doc = {{"computed", true},
                     {"count", lanes->lanes.size()},
                     {"lane_ids", ids},
                     {"planning_artifact_wps", lanes->planning_artifact_wps()},
                     {"collapse_report", collapse_report_json(*lanes)}};
    }
    const StatusSnapshot status = reduce_status(read_status_events(dir / "status.events.jsonl"));
    // The bootstrap of 3.1.1 seeds the readable WP files, by their work_package_id.
    std::vector<std::string> to_seed;
    for (const WpPlan& plan : plans) {
        const std::string id = plan.before.work_package_id();
        if (!status.work_packages.count(id) &&
            std::find(to_seed.begin(), to_seed.end(), id) == to_seed.end()) {
            to_seed.push_back(id);
        }
    }
    const Json bootstrap = {{"total_wps", plans.size()},
                            {"newly_seeded", to_seed.size()},
                            {"already_initialized", plans.size() - to_seed.size()}};

    std::vector<std::string> modified, unchanged, preserved;
    Json would_modify = Json::array();
    for (const WpPlan& plan : plans) {
        if (plan.preserved) {
            preserved.push_back(plan.wp_id);
        } else if (plan.changes.empty()) {
            unchanged.push_back(plan.wp_id);
        } else {
            modified.push_back(plan.wp_id);
        }
        if (!plan.changes.empty()) {
            would_modify.push_back({{"wp_id", plan.wp_id}, {"changes", plan.changes}});
        }
    }
    const auto updated = static_cast<std::size_t>(would_modify.size());

    Outcome out;
    out.findings = findings;
    if (request.validate_only) {
        out.document = {
            {"result", "validation_passed"},
            {"mission_slug", slug},
            {"wp_count", plans.size()},
            {"validate_only", true},
            {"would_modify", would_modify},
            {"would_preserve", preserved},
            {"unchanged", unchanged},
            {"updated_wp_count", updated},
            {"ownership_warnings", ownership_warnings},
            {"validation",
             {{"bootstrap_preview", bootstrap},
              {"lanes_preview", lanes ? lanes_doc : Json{{"computed", false}}}}},
            {"message", "All validations passed. Run without --validate-only to write."}};
        out.text = "Validation passed for " + slug + ": " + std::to_string(updated) +
                   " WP files would change, " + std::to_string(to_seed.size()) +
                   " WPs would be bootstrapped" +
                   (lanes ? ", " + std::to_string(lanes->lanes.size()) + " lanes" : std::string()) +
                   ". Nothing was written.\n";
        return out;
    }

    // Every check passed: the WP files and lanes.json as one transaction, then the status
    // log (append-only) and its snapshot, whose places are checked before anything is written.
    mission.writable(mission.events_log());
    mission.writable(mission.status_json());
    mission.lock_dir();
    {
        AtomicFileSet writes;
        for (const WpPlan& plan : plans) {
            if (!plan.changes.empty()) {
                writes.stage(mission.writable(plan.path), serialize_wp_file(plan.after));
            }
        }
        if (lanes) {
            writes.stage(mission.writable(mission.lanes_json()), serialize_lanes(*lanes));
        }
        writes.commit();
    }
    if (!to_seed.empty()) {
        for (Finding& f : bootstrap_status(mission, to_seed, "finalize-tasks").findings) {
            out.findings.push_back(std::move(f));
        }
    }
    out.document = {{"result", "success"},
                    {"wp_count", plans.size()},
                    {"updated_wp_count", updated},
                    {"modified_wps", modified},
                    {"unchanged_wps", unchanged},
                    {"preserved_wps", preserved},
                    {"tasks_dir", (dir / "tasks").string()},
                    {"commit_created", false},
                    {"commit_hash", nullptr},
                    {"files_committed", Json::array()},
                    {"dependencies_parsed", dependency_map_json(graph)},
                    {"requirement_refs_parsed", refs_parsed},
                    {"bootstrap", bootstrap},
                    {"lanes", lanes_doc},
                    {"ownership_warnings", ownership_warnings}};
    out.text = "Finalized " + slug + ": " + std::to_string(updated) + " WP files updated, " +
               std::to_string(to_seed.size()) + " WPs bootstrapped as planned" +
               (lanes ? ", lanes.json with " + std::to_string(lanes->lanes.size()) + " lanes"
                      : std::string(", no lanes computed")) +
               ". Nothing was committed.\n";
    return out;
}

} // namespace kitty
