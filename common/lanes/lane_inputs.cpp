#include "kitty/lane_inputs.hpp"

#include "kitty/dependency_graph.hpp"

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

JsonInput lanes_input(const std::string& source) {
    return JsonInput(source, "INVALID_LANES_INPUT",
                     "pass a mission directory, the output of `kitty-parse-tasks <mission-dir>`, "
                     "or a document in the schema of docs/tools/kitty-lanes.md");
}

// A string member; "" when absent or null.
std::string string_member(const JsonInput& in, const Json& doc, const std::string& key) {
    const Json* v = JsonInput::member(doc, key);
    return v == nullptr ? std::string() : in.text(*v, key);
}

DependencyMap graph_from_json(const JsonInput& in, const Json& doc, const std::string& key) {
    const Json& v = in.required(doc, key, "the document");
    if (!v.is_object()) {
        in.fail(key + " must be an object of WP id lists");
    }
    DependencyMap graph;
    for (const auto& [wp, deps] : v.items()) {
        graph.emplace_back(wp, in.strings(deps, key + "." + wp));
    }
    return graph;
}

// The stdin schema: compute_lanes' arguments as they are.
LaneSource from_native(const Json& doc, const std::string& source) {
    const JsonInput in = lanes_input(source);
    LaneSource out;
    out.inputs.graph = graph_from_json(in, doc, "dependency_graph");
    if (const Json* manifests = JsonInput::member(doc, "ownership_manifests")) {
        for (const auto& [wp, m] : in.object(*manifests, "ownership_manifests").items()) {
            const std::string where = "ownership_manifests." + wp;
            const Json* mode_text = JsonInput::member(m, "execution_mode");
            if (!m.is_object() || mode_text == nullptr || !mode_text->is_string()) {
                in.fail(where + " needs an execution_mode string");
            }
            const auto mode = parse_execution_mode(mode_text->get<std::string>());
            if (!mode) {
                throw invalid_execution_mode(wp, mode_text->get<std::string>()).at(source);
            }
            OwnershipManifest manifest{*mode, {}};
            if (const Json* files = JsonInput::member(m, "owned_files")) {
                manifest.owned_files = files->is_string()
                                           ? std::vector<std::string>{files->get<std::string>()}
                                           : in.strings(*files, where + ".owned_files");
            }
            out.inputs.manifests[wp] = std::move(manifest);
        }
    }
    if (const Json* bodies = JsonInput::member(doc, "wp_bodies")) {
        for (const auto& [wp, body] : in.object(*bodies, "wp_bodies").items()) {
            out.inputs.bodies[wp] = in.text(body, "wp_bodies." + wp);
        }
    }
    out.inputs.mission_slug = string_member(in, doc, "mission_slug");
    out.inputs.mission_id = string_member(in, doc, "mission_id");
    out.inputs.target_branch = string_member(in, doc, "target_branch");
    out.names_target_branch = JsonInput::member(doc, "target_branch") != nullptr;
    out.inputs.computed_at = string_member(in, doc, "computed_at");
    out.names_computed_at = JsonInput::member(doc, "computed_at") != nullptr;
    return out;
}

// A kitty-parse-tasks mission document: its dependency map, and its wp_files read as the
// mission directory itself would be.
LaneSource from_parse_tasks(const Json& doc, const std::string& source) {
    const JsonInput in = lanes_input(source);
    if (!doc.contains("wp_files")) {
        in.fail("this kitty-parse-tasks document has no wp_files: run kitty-parse-tasks on the "
                "mission directory, not on its tasks.md");
    }
    LaneSource out;
    out.inputs.graph = graph_from_json(in, doc, "dependencies");
    const std::string dir = string_member(in, doc, "mission_dir");
    if (!dir.empty()) {
        out.mission_dir = fs::path(dir);
        out.inputs.mission_slug = mission_name(dir);
    }
    out.inputs.mission_id = string_member(in, doc, "mission_id");
    const Json& files = in.array(in.required(doc, "wp_files", "the document"), "wp_files");
    std::vector<WpRecord> records;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string where = "wp_files[" + std::to_string(i) + "]";
        const Json& f = in.object(files[i], where);
        WpRecord r;
        r.wp_id = string_member(in, f, "wp_id");
        r.file = string_member(in, f, "file");
        r.path = out.mission_dir ? *out.mission_dir / r.file : fs::path(r.file);
        const auto readable = f.find("readable");
        r.readable = readable != f.end() && in.boolean(*readable, where + ".readable");
        if (!r.readable) {
            out.findings.push_back({"warning", "WP_FILE_SKIPPED",
                                    r.file + " cannot be read by spec-kitty 3.1.1; skipped",
                                    r.path.string(), 0});
        } else if (const Json* fm = JsonInput::member(f, "frontmatter");
                   fm != nullptr && fm->is_object()) {
            if (const Json* mode = JsonInput::member(*fm, "execution_mode");
                mode && mode->is_string()) {
                r.execution_mode = mode->get<std::string>();
            }
            if (const Json* owned = JsonInput::member(*fm, "owned_files")) {
                r.owned_files = in.strings(*owned, r.file + " owned_files");
            }
            if (const Json* body = JsonInput::member(f, "body"); body && body->is_string()) {
                r.body = body->get<std::string>();
            }
        }
        records.push_back(std::move(r));
    }
    add_wp_records(records, out);
    return out;
}

} // namespace

LaneSource read_mission_lane_source(const Mission& mission) {
    const fs::path& mission_dir = mission.dir();
    LaneSource out;
    out.mission_dir = mission_dir;
    out.inputs.mission_slug = mission.slug();
    out.inputs.mission_id = mission.identity().mission_id.value_or("");
    out.inputs.graph = mission_dependency_graph(mission).graph;
    add_wp_records(read_wp_records(mission_dir, out), out);
    return out;
}

LaneSource lane_source_from_json(const Json& doc, const std::string& source) {
    const JsonInput in = lanes_input(source);
    if (!doc.is_object()) {
        in.fail("expected a JSON object");
    }
    if (doc.contains("dependency_graph")) {
        return from_native(doc, source);
    }
    if (doc.contains("dependencies") && doc.contains("work_packages")) {
        return from_parse_tasks(doc, source);
    }
    in.fail(doc.empty() || doc.begin()->is_array()
                ? "this looks like a bare dependency map (kitty-parse-tasks "
                  "--deps-only); lanes also need each WP's ownership, so pipe "
                  "kitty-parse-tasks without --deps-only"
                : "no dependency_graph (stdin schema) and no dependencies + "
                  "work_packages (kitty-parse-tasks document)");
}

} // namespace kitty
