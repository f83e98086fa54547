#include <algorithm>
#include <map>
#include <set>

#include "kitty/error.hpp"
#include "kitty/lanes.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

LanesFile read_lanes_file(const fs::path& path, LanesShape shape) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw Error(Exit::input, "MISSING_LANES", "no lanes.json at " + path.string(),
                    "compute it with `kitty-lanes compute <mission> --write` or spec-kitty "
                    "agent mission finalize-tasks")
            .at(path);
    }
    return parse_lanes_file(read_file_bytes(path), path, shape);
}

LanesManifest read_valid_lanes(const fs::path& path) {
    LanesFile file = read_lanes_file(path, LanesShape::skipped);
    std::vector<std::string> errors;
    for (const Finding& f : file.findings) {
        if (f.severity == "error") {
            errors.push_back(f.message);
        }
    }
    if (!errors.empty()) {
        throw Error(Exit::input, "INVALID_LANES_JSON",
                    path.string() + " is invalid: " + join(errors, "; "),
                    "recompute it with `kitty-lanes compute <mission> --write` (or spec-kitty "
                    "agent mission finalize-tasks); `kitty-lanes show` lists every problem")
            .at(path);
    }
    return std::move(file.manifest);
}

LanesFile parse_lanes_file(const std::string& bytes, const fs::path& path, LanesShape shape) {
    const JsonInput r(path, "INVALID_LANES_JSON",
                      "recompute it with `kitty-lanes compute <mission> --write`",
                      path.string() + " is corrupt or malformed: ");
    require_utf8(bytes, path);
    const Json doc = parse_json(bytes, path);
    if (!doc.is_object()) {
        r.fail("the document is not an object");
    }
    // Optional members: absent is empty (or 0), present must have the right type.
    const auto strings = [&](const Json& obj, const std::string& key, const std::string& where) {
        const auto it = obj.find(key);
        return it == obj.end() ? std::vector<std::string>() : r.strings(*it, where + "." + key);
    };
    const auto integer = [&](const Json& obj, const std::string& key, const std::string& where) {
        const auto it = obj.find(key);
        return it == obj.end() ? 0 : r.integer(*it, where + "." + key);
    };
    LanesFile out;
    std::vector<std::string> differences;
    LanesManifest& m = out.manifest;
    m.version = r.integer(r.required(doc, "version", "lanes.json"), "lanes.json.version");
    if (doc.contains("mission_slug")) {
        m.mission_slug = r.text(doc["mission_slug"], "mission_slug");
    } else if (doc.contains("feature_slug")) {
        m.mission_slug = r.text(doc["feature_slug"], "feature_slug");
        differences.push_back("feature_slug instead of mission_slug");
        out.findings.push_back({"warning", "LEGACY_LANES_SHAPE",
                                "uses \"feature_slug\", which spec-kitty 3.1.1 cannot read; "
                                "recompute it",
                                path.string(), 0});
    } else {
        r.fail("lanes.json has no \"mission_slug\"");
    }
    const Json* id = JsonInput::member(doc, "mission_id");
    m.mission_id = id == nullptr ? m.mission_slug : r.text(*id, "mission_id");
    m.mission_branch = r.text(r.required(doc, "mission_branch", "lanes.json"), "mission_branch");
    m.target_branch = r.text(r.required(doc, "target_branch", "lanes.json"), "target_branch");
    m.computed_at = r.text(r.required(doc, "computed_at", "lanes.json"), "computed_at");
    m.computed_from = r.text(r.required(doc, "computed_from", "lanes.json"), "computed_from");
    const Json& lanes = r.array(r.required(doc, "lanes", "lanes.json"), "lanes");
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        const std::string where = "lanes[" + std::to_string(i) + "]";
        const Json& entry = r.object(lanes[i], where);
        Lane lane;
        lane.lane_id = r.text(r.required(entry, "lane_id", where), where + ".lane_id");
        lane.wp_ids = r.strings(r.required(entry, "wp_ids", where), where + ".wp_ids");
        lane.write_scope = strings(entry, "write_scope", where);
        lane.predicted_surfaces = strings(entry, "predicted_surfaces", where);
        lane.depends_on_lanes = strings(entry, "depends_on_lanes", where);
        lane.parallel_group = integer(entry, "parallel_group", where);
        m.lanes.push_back(std::move(lane));
    }
    if (doc.contains("planning_artifact_wps")) {
        out.recorded_planning_artifact_wps = strings(doc, "planning_artifact_wps", "lanes.json");
    } else {
        differences.push_back("no planning_artifact_wps");
    }
    if (const auto report = doc.find("collapse_report");
        report != doc.end() && report->is_object()) {
        m.independent_wps_collapsed =
            integer(*report, "independent_wps_collapsed", "collapse_report");
        const auto events = report->find("events");
        for (const Json& e : events != report->end() && events->is_array() ? *events : Json()) {
            r.object(e, "each of collapse_report.events");
            m.events.push_back({r.text(e.value("wp_a", Json()), "event wp_a"),
                                r.text(e.value("wp_b", Json()), "event wp_b"),
                                r.text(e.value("rule", Json()), "event rule"),
                                r.text(e.value("evidence", Json()), "event evidence")});
        }
    }

    // Every WP in exactly one lane, every lane id once.
    std::map<std::string, std::string> lane_of;
    std::set<std::string> lane_ids;
    for (const Lane& lane : m.lanes) {
        if (!lane_ids.insert(lane.lane_id).second) {
            out.findings.push_back({"error", "DUPLICATE_LANE",
                                    "lane id " + lane.lane_id + " appears more than once",
                                    path.string(), 0});
        }
        for (const std::string& wp : lane.wp_ids) {
            const auto [it, fresh] = lane_of.emplace(wp, lane.lane_id);
            if (!fresh) {
                out.findings.push_back({"error", "WP_IN_SEVERAL_LANES",
                                        wp + " is in " + it->second + " and in " + lane.lane_id +
                                            "; a WP belongs to exactly one lane",
                                        path.string(), 0});
            }
        }
    }
    std::vector<std::string> outside;
    for (const std::string& wp : out.recorded_planning_artifact_wps) {
        const Lane* lane = m.lane_for_wp(wp);
        if (lane == nullptr || !lane->is_planning()) {
            outside.push_back(wp);
        }
    }
    if (!outside.empty()) {
        const std::string list = join(outside);
        differences.push_back("planning WPs outside lane-planning");
        out.findings.push_back(
            {"warning", "PLANNING_WP_OUTSIDE_PLANNING_LANE",
             "planning_artifact_wps lists " + list +
                 " outside lane-planning (written before spec-kitty 3.1.1 gave planning "
                 "artifacts their own lane); recompute it",
             path.string(), 0});
    }
    for (const auto& [key, value] : doc.items()) {
        static const std::set<std::string> known{
            "version",        "mission_slug",          "feature_slug",   "mission_id",
            "mission_branch", "target_branch",         "lanes",          "computed_at",
            "computed_from",  "planning_artifact_wps", "collapse_report"};
        if (!known.count(key)) {
            differences.push_back("extra key " + key);
        }
    }
    if (std::any_of(m.lanes.begin(), m.lanes.end(), [](const Lane& lane) {
            return !lane.depends_on_lanes.empty() || lane.parallel_group != 0;
        })) {
        differences.push_back("cross-lane dependencies (3.1.1 never writes them)");
    }
    if (shape == LanesShape::skipped) {
        return out;
    }
    if (dump_python(doc, {.indent = 2}) + "\n" != bytes) {
        differences.push_back("not in 3.1.1's byte layout");
    }
    for (const std::string& d : differences) {
        out.shape += (out.shape.empty() ? "" : "; ") + d;
    }
    if (out.shape.empty()) {
        out.shape = "3.1.1";
    }
    return out;
}

} // namespace kitty
