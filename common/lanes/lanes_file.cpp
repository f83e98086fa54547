#include <algorithm>
#include <map>
#include <set>

#include "kitty/error.hpp"
#include "kitty/lanes.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

class FileReader {
public:
    explicit FileReader(const fs::path& path) : path_(path) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(Exit::input, "INVALID_LANES_JSON",
                    path_.string() + " is corrupt or malformed: " + what,
                    "recompute it with `kitty-lanes compute <mission> --write`")
            .at(path_);
    }

    const Json& required(const Json& obj, const std::string& key, const std::string& where) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            fail(where + " has no \"" + key + "\"");
        }
        return *it;
    }

    std::string text(const Json& v, const std::string& what) const {
        if (!v.is_string()) {
            fail(what + " must be a string");
        }
        return v.get<std::string>();
    }

    std::vector<std::string> strings(const Json& obj, const std::string& key,
                                     const std::string& where) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            return {};
        }
        if (!it->is_array()) {
            fail(where + "." + key + " must be a list of strings");
        }
        std::vector<std::string> out;
        for (const Json& item : *it) {
            out.push_back(text(item, where + "." + key + " items"));
        }
        return out;
    }

    int integer(const Json& obj, const std::string& key, const std::string& where) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            return 0;
        }
        if (!it->is_number_integer()) {
            fail(where + "." + key + " must be an integer");
        }
        return it->get<int>();
    }

private:
    fs::path path_;
};

} // namespace

LanesFile read_lanes_file(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw Error(Exit::input, "MISSING_LANES", "no lanes.json at " + path.string(),
                    "compute it with `kitty-lanes compute <mission> --write` or spec-kitty "
                    "agent mission finalize-tasks")
            .at(path);
    }
    return parse_lanes_file(read_file_bytes(path), path);
}

LanesFile parse_lanes_file(const std::string& bytes, const fs::path& path) {
    const FileReader r(path);
    require_utf8(bytes, path);
    const Json doc = parse_json(bytes, path);
    if (!doc.is_object()) {
        r.fail("the document is not an object");
    }
    LanesFile out;
    std::vector<std::string> differences;
    LanesManifest& m = out.manifest;
    m.version = r.integer(doc, "version", "lanes.json");
    if (!doc.contains("version")) {
        r.fail("lanes.json has no \"version\"");
    }
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
    const auto id = doc.find("mission_id");
    m.mission_id = id == doc.end() || id->is_null() ? m.mission_slug : r.text(*id, "mission_id");
    m.mission_branch = r.text(r.required(doc, "mission_branch", "lanes.json"), "mission_branch");
    m.target_branch = r.text(r.required(doc, "target_branch", "lanes.json"), "target_branch");
    m.computed_at = r.text(r.required(doc, "computed_at", "lanes.json"), "computed_at");
    m.computed_from = r.text(r.required(doc, "computed_from", "lanes.json"), "computed_from");
    const Json& lanes = r.required(doc, "lanes", "lanes.json");
    if (!lanes.is_array()) {
        r.fail("lanes must be a list");
    }
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        const std::string where = "lanes[" + std::to_string(i) + "]";
        if (!lanes[i].is_object()) {
            r.fail(where + " must be an object");
        }
        Lane lane;
        lane.lane_id = r.text(r.required(lanes[i], "lane_id", where), where + ".lane_id");
        r.required(lanes[i], "wp_ids", where);
        lane.wp_ids = r.strings(lanes[i], "wp_ids", where);
        lane.write_scope = r.strings(lanes[i], "write_scope", where);
        lane.predicted_surfaces = r.strings(lanes[i], "predicted_surfaces", where);
        lane.depends_on_lanes = r.strings(lanes[i], "depends_on_lanes", where);
        lane.parallel_group = r.integer(lanes[i], "parallel_group", where);
        m.lanes.push_back(std::move(lane));
    }
    if (doc.contains("planning_artifact_wps")) {
        out.recorded_planning_artifact_wps = r.strings(doc, "planning_artifact_wps", "lanes.json");
    } else {
        differences.push_back("no planning_artifact_wps");
    }
    if (const auto report = doc.find("collapse_report");
        report != doc.end() && report->is_object()) {
        m.independent_wps_collapsed =
            r.integer(*report, "independent_wps_collapsed", "collapse_report");
        const auto events = report->find("events");
        for (const Json& e : events != report->end() && events->is_array() ? *events : Json()) {
            if (!e.is_object()) {
                r.fail("collapse_report.events holds objects");
            }
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
        std::string list;
        for (const std::string& wp : outside) {
            list += (list.empty() ? "" : ", ") + wp;
        }
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
