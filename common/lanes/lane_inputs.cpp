#include "kitty/lane_inputs.hpp"

#include <set>

#include "kitty/error.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/tasks_md.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "kitty/wps_manifest.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// What the lanes step keeps of one WP file.
struct WpRecord {
    std::string wp_id;
    std::string file; // tasks/WP01-x.md
    fs::path path;
    bool readable = false;
    std::optional<std::string> execution_mode;
    int execution_mode_line = 0;
    std::vector<std::string> owned_files;
    std::optional<std::string> body;
};

std::string mission_name(const fs::path& dir) {
    const fs::path normal = fs::absolute(dir).lexically_normal();
    return (normal.has_filename() ? normal : normal.parent_path()).filename().string();
}

// Manifests, bodies and the reason for each missing manifest, as finalize-tasks builds
// them (mission.py 1648-1665): only a readable file with both fields gets a manifest.
void add_wp_records(const std::vector<WpRecord>& records, LaneSource& out) {
    std::size_t unreadable = 0;
    for (const WpRecord& r : records) {
        if (!r.readable) {
            ++unreadable;
            out.inputs.manifest_gaps[r.wp_id] = {r.file + " cannot be read by spec-kitty 3.1.1",
                                                 r.path};
            continue;
        }
        if (r.body) {
            out.inputs.bodies[r.wp_id] = *r.body;
        }
        const bool has_mode = r.execution_mode && !r.execution_mode->empty();
        if (!has_mode || r.owned_files.empty()) {
            out.inputs.manifest_gaps[r.wp_id] = {r.file + " has no " +
                                                     (!has_mode && r.owned_files.empty()
                                                          ? "execution_mode and no owned_files"
                                                      : has_mode ? "owned_files"
                                                                 : "execution_mode"),
                                                 r.path};
            continue;
        }
        const auto mode = parse_execution_mode(*r.execution_mode);
        if (!mode) {
            throw invalid_execution_mode(r.wp_id, *r.execution_mode)
                .at(r.path, r.execution_mode_line);
        }
        out.inputs.manifests[r.wp_id] = {*mode, r.owned_files};
        out.inputs.manifest_gaps.erase(r.wp_id);
    }
    for (const auto& [wp, deps] : out.inputs.graph) {
        if (!out.inputs.manifest_gaps.count(wp) && !out.inputs.manifests.count(wp)) {
            out.inputs.manifest_gaps[wp] = {"there is no tasks/" + wp + "-*.md file", {}};
        }
    }
    if (out.inputs.graph.empty()) {
        throw Error(Exit::check_failed, "NO_WORK_PACKAGES",
                    "no work package to put in a lane: tasks.md has no WP section spec-kitty "
                    "recognises and there is no wps.yaml",
                    "head each work package in tasks.md with \"## Work Package WP01: Title\"");
    }
    if (out.inputs.manifests.empty()) {
        throw Error(Exit::check_failed, "NO_OWNERSHIP_MANIFESTS",
                    "no WP file has both execution_mode and owned_files (" +
                        std::to_string(records.size()) + " WP files, " +
                        std::to_string(unreadable) + " unreadable), so there is nothing to lane",
                    "set execution_mode and owned_files in the WP frontmatter, or run "
                    "finalize-tasks to infer them");
    }
}

std::vector<WpRecord> read_wp_records(const fs::path& mission_dir, LaneSource& out) {
    std::vector<WpRecord> records;
    for (const fs::path& path : list_wp_files(mission_dir / "tasks")) {
        const auto id = wp_id_from_filename(path.filename().string());
        if (!id) {
            continue;
        }
        WpRecord r;
        r.wp_id = *id;
        r.file = "tasks/" + path.filename().string();
        r.path = path;
        try {
            const WpFrontmatter fm = read_wp_file(path);
            r.readable = true;
            r.execution_mode = fm.string_field("execution_mode");
            if (const auto line = fm.key_lines.find("execution_mode"); line != fm.key_lines.end()) {
                r.execution_mode_line = line->second;
            }
            r.owned_files = fm.list_field("owned_files");
            r.body = fm.body;
        } catch (const Error& e) {
            out.findings.push_back(
                {"warning", "WP_FILE_SKIPPED",
                 std::string(e.what()) + "; skipped as spec-kitty 3.1.1 skips it (no manifest)",
                 path.string(), e.line()});
        }
        records.push_back(std::move(r));
    }
    return records;
}

[[noreturn]] void bad_document(const std::string& source, const std::string& what) {
    throw Error(Exit::input, "INVALID_LANES_INPUT", source + ": " + what,
                "pass a mission directory, the output of `kitty-parse-tasks <mission-dir>`, or "
                "a document in the schema of docs/tools/kitty-lanes.md")
        .at(source);
}

std::vector<std::string> string_list(const Json& v, const std::string& source,
                                     const std::string& what) {
    if (!v.is_array()) {
        bad_document(source, what + " must be a list of strings");
    }
    std::vector<std::string> out;
    for (const Json& item : v) {
        if (!item.is_string()) {
            bad_document(source, what + " must be a list of strings");
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

const Json* member(const Json& doc, const char* key) {
    const auto it = doc.find(key);
    return it == doc.end() || it->is_null() ? nullptr : &*it;
}

std::string string_member(const Json& doc, const char* key, const std::string& source) {
    const Json* v = member(doc, key);
    if (v == nullptr) {
        return "";
    }
    if (!v->is_string()) {
        bad_document(source, std::string(key) + " must be a string");
    }
    return v->get<std::string>();
}

DependencyMap graph_from_json(const Json& v, const std::string& source, const char* key) {
    if (!v.is_object()) {
        bad_document(source, std::string(key) + " must be an object of WP id lists");
    }
    DependencyMap graph;
    for (const auto& [wp, deps] : v.items()) {
        graph.emplace_back(wp, string_list(deps, source, std::string(key) + "." + wp));
    }
    return graph;
}

// The stdin schema: compute_lanes' arguments as they are.
LaneSource from_native(const Json& doc, const std::string& source) {
    LaneSource out;
    out.inputs.graph = graph_from_json(doc["dependency_graph"], source, "dependency_graph");
    if (const Json* manifests = member(doc, "ownership_manifests")) {
        if (!manifests->is_object()) {
            bad_document(source, "ownership_manifests must be an object");
        }
        for (const auto& [wp, m] : manifests->items()) {
            const std::string where = "ownership_manifests." + wp;
            if (!m.is_object() || !member(m, "execution_mode") ||
                !m["execution_mode"].is_string()) {
                bad_document(source, where + " needs an execution_mode string");
            }
            const auto mode = parse_execution_mode(m["execution_mode"].get<std::string>());
            if (!mode) {
                throw invalid_execution_mode(wp, m["execution_mode"].get<std::string>()).at(source);
            }
            OwnershipManifest manifest{*mode, {}};
            if (const Json* files = member(m, "owned_files")) {
                manifest.owned_files = files->is_string()
                                           ? std::vector<std::string>{files->get<std::string>()}
                                           : string_list(*files, source, where + ".owned_files");
            }
            out.inputs.manifests[wp] = std::move(manifest);
        }
    }
    if (const Json* bodies = member(doc, "wp_bodies")) {
        if (!bodies->is_object()) {
            bad_document(source, "wp_bodies must be an object of strings");
        }
        for (const auto& [wp, body] : bodies->items()) {
            if (!body.is_string()) {
                bad_document(source, "wp_bodies." + wp + " must be a string");
            }
            out.inputs.bodies[wp] = body.get<std::string>();
        }
    }
    out.inputs.mission_slug = string_member(doc, "mission_slug", source);
    out.inputs.mission_id = string_member(doc, "mission_id", source);
    out.inputs.target_branch = string_member(doc, "target_branch", source);
    out.names_target_branch = member(doc, "target_branch") != nullptr;
    out.inputs.computed_at = string_member(doc, "computed_at", source);
    out.names_computed_at = member(doc, "computed_at") != nullptr;
    return out;
}

// A kitty-parse-tasks mission document: its dependency map, and its wp_files read as the
// mission directory itself would be.
LaneSource from_parse_tasks(const Json& doc, const std::string& source) {
    if (!doc.contains("wp_files")) {
        bad_document(source, "this kitty-parse-tasks document has no wp_files: run "
                             "kitty-parse-tasks on the mission directory, not on its tasks.md");
    }
    LaneSource out;
    out.inputs.graph = graph_from_json(doc["dependencies"], source, "dependencies");
    const std::string dir = string_member(doc, "mission_dir", source);
    if (!dir.empty()) {
        out.mission_dir = fs::path(dir);
        out.inputs.mission_slug = mission_name(dir);
    }
    out.inputs.mission_id = string_member(doc, "mission_id", source);
    if (!doc["wp_files"].is_array()) {
        bad_document(source, "wp_files must be a list");
    }
    std::vector<WpRecord> records;
    for (const Json& f : doc["wp_files"]) {
        if (!f.is_object()) {
            bad_document(source, "wp_files holds objects");
        }
        WpRecord r;
        r.wp_id = string_member(f, "wp_id", source);
        r.file = string_member(f, "file", source);
        r.path = out.mission_dir ? *out.mission_dir / r.file : fs::path(r.file);
        r.readable = f.value("readable", false);
        if (!r.readable) {
            out.findings.push_back({"warning", "WP_FILE_SKIPPED",
                                    r.file + " cannot be read by spec-kitty 3.1.1; skipped",
                                    r.path.string(), 0});
        } else if (const Json* fm = member(f, "frontmatter"); fm != nullptr && fm->is_object()) {
            if (const Json* mode = member(*fm, "execution_mode"); mode && mode->is_string()) {
                r.execution_mode = mode->get<std::string>();
            }
            if (const Json* files = member(*fm, "owned_files")) {
                r.owned_files = string_list(*files, source, r.file + " owned_files");
            }
            if (const Json* body = member(f, "body"); body && body->is_string()) {
                r.body = body->get<std::string>();
            }
        }
        records.push_back(std::move(r));
    }
    add_wp_records(records, out);
    return out;
}

} // namespace

DependencyMap mission_dependency_graph(const fs::path& mission_dir) {
    std::error_code ec;
    if (const auto wps = load_wps_manifest(mission_dir)) {
        return wps_dependency_map(*wps);
    }
    if (fs::is_regular_file(mission_dir / "tasks.md", ec)) {
        return parse_dependencies(read_text_file(mission_dir / "tasks.md", Bom::keep));
    }
    return {};
}

LaneSource read_mission_lane_source(const fs::path& mission_dir) {
    LaneSource out;
    out.mission_dir = mission_dir;
    out.inputs.mission_slug = mission_name(mission_dir);
    if (const auto meta = load_meta(mission_dir)) {
        if (const auto it = meta->find("mission_id"); it != meta->end() && it->is_string()) {
            out.inputs.mission_id = it->get<std::string>();
        }
    }
    out.inputs.graph = mission_dependency_graph(mission_dir);
    add_wp_records(read_wp_records(mission_dir, out), out);
    return out;
}

LaneSource lane_source_from_json(const Json& doc, const std::string& source) {
    if (!doc.is_object()) {
        bad_document(source, "expected a JSON object");
    }
    if (doc.contains("dependency_graph")) {
        return from_native(doc, source);
    }
    if (doc.contains("dependencies") && doc.contains("work_packages")) {
        return from_parse_tasks(doc, source);
    }
    bad_document(source, doc.empty() || doc.begin()->is_array()
                             ? "this looks like a bare dependency map (kitty-parse-tasks "
                               "--deps-only); lanes also need each WP's ownership, so pipe "
                               "kitty-parse-tasks without --deps-only"
                             : "no dependency_graph (stdin schema) and no dependencies + "
                               "work_packages (kitty-parse-tasks document)");
}

} // namespace kitty
