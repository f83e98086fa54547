// kitty-status: the `agent tasks status` report, bootstrap and move (identity-status.md §4.7-4.8).
#include <algorithm>
#include <array>
#include <iostream>
#include <map>
#include <memory>

#include <re2/re2.h>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/file_lock.hpp"
#include "kitty/git.hpp"
#include "kitty/lanes.hpp"
#include "kitty/liveness.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/ownership.hpp"
#include "kitty/project.hpp"
#include "kitty/regex.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/ulid.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "kitty/yaml.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// The mission a status command works on; it must have a tasks/ directory.
Mission open_mission(const StatusRequest& request) {
    Mission m = open_target_mission(request.mission, request.start_dir);
    std::error_code ec;
    if (!fs::is_directory(m.tasks_dir(), ec)) {
        throw Error(Exit::input, "NO_TASKS_DIR",
                    "Tasks directory not found: " + m.tasks_dir().string(),
                    "run the tasks step first")
            .at(m.tasks_dir());
    }
    return m;
}

} // namespace

// The new status.json is written and synced beside the old one before the first append, so
// a full disk fails the command with nothing appended. Once the events are in the log, which
// is the record, a status.json that cannot be put in place is a warning: the command did
// happen, and the next one that writes status.json catches up.
std::vector<Finding> record_status_events(const Mission& m,
                                          const std::vector<StatusEvent>& existing,
                                          const std::vector<StatusEvent>& added) {
    return record_status_events(m, extend_status(reduce_status(existing), existing, added), added);
}

std::vector<Finding> record_status_events(const Mission& m, const StatusSnapshot& snapshot,
                                          const std::vector<StatusEvent>& added,
                                          DeferredSync* later) {
    std::string number = m.identity().mission_number;
    if (number.empty()) {
        number = mission_number_from_slug(snapshot.mission_slug);
    }
    const std::string text = serialize_status_json(snapshot, number, m.identity().mission_type);
    const fs::path target = m.writable(m.status_json());
    remove_stale_temporaries(target); // the caller holds the status lock
    std::error_code ec;
    std::optional<PendingFile> pending;
    // New events always change it (its event count); otherwise it may already be this.
    if (!added.empty() || !fs::exists(target, ec) || read_file_bytes(target) != text) {
        pending.emplace(target, text, std::nullopt, later);
    }
    std::string lines;
    for (const StatusEvent& e : added) {
        lines += e.line();
    }
    if (!lines.empty()) {
        append_file(m.writable(m.events_log()), lines, later);
    }
    std::vector<Finding> findings;
    try {
        if (pending) {
            pending->replace();
        }
    } catch (const Error& e) {
        findings.push_back({"warning", "STATUS_JSON_NOT_UPDATED",
                            std::string(e.what()) + "; the event log has the change, and the "
                                                    "next status write brings status.json up "
                                                    "to date",
                            target.string(), 0});
    }
    return findings;
}

namespace {

// split_frontmatter + extract_scalar of 3.1.1's status report (regex reads, not YAML).
std::string frontmatter_text(std::string text) {
    text = normalize_newlines(text);
    if (!text.starts_with("---\n")) {
        return "";
    }
    const std::size_t close = text.find("\n---", 4);
    return close == std::string::npos ? "" : text.substr(4, close - 4);
}

std::optional<std::string> scalar(const std::string& front, const std::string& key) {
    static std::map<std::string, std::unique_ptr<Regex>> cache; // one compile per key
    auto& slot = cache[key];
    if (!slot) {
        slot = std::make_unique<Regex>(
            python_regex("(?m)^(" + key + R"(:\s*)(".*?"|'.*?'|[^#\n]*)(.*)$)"));
    }
    const RE2& re = *slot;
    std::string prefix, value, rest;
    if (!RE2::PartialMatch(front, re, &prefix, &value, &rest)) {
        return std::nullopt;
    }
    std::string v(py_strip(value));
    if (v.size() >= 2 &&
        ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\''))) {
        return v.substr(1, v.size() - 2);
    }
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
}

struct Workspace {
    std::string execution_mode;
    std::string kind; // repo_root, lane_workspace, unknown
    std::optional<fs::path> worktree;
    bool lanes_missing = false;
};

Workspace workspace_for(const Mission& m, const fs::path& file, const std::string& front,
                        const std::optional<std::string>& id,
                        const std::optional<LanesFile>& lanes) {
    const auto scalar_mode = scalar(front, "execution_mode");
    std::string mode;
    try {
        const std::string bytes = read_file_bytes(file);
        const auto declared = parse_wp_file(bytes, file).string_field("execution_mode");
        mode = declared ? *declared : infer_execution_mode(bytes);
        if (mode != "code_change" && mode != "planning_artifact") {
            return {scalar_mode.value_or("code_change"), "unknown", {}, false};
        }
    } catch (const Error&) {
        return {scalar_mode.value_or("code_change"), "unknown", {}, false};
    }
    if (mode == "planning_artifact") {
        return {mode, "repo_root", {}, false};
    }
    if (!lanes) {
        return {scalar_mode.value_or(mode), "unknown", {}, true};
    }
    const Lane* lane = id ? lanes->manifest.lane_for_wp(*id) : nullptr;
    if (lane == nullptr) {
        return {scalar_mode.value_or("code_change"), "unknown", {}, false};
    }
    if (lane->is_planning()) {
        return {mode, "repo_root", {}, false};
    }
    if (!m.root()) {
        return {mode, "lane_workspace", {}, false};
    }
    return {mode, "lane_workspace", m.worktree_path(lane->lane_id), false};
}

} // namespace

std::optional<YamlNode> project_setting(const fs::path& root, std::string_view key) {
    const fs::path config = root / ".kittify/config.yaml";
    std::error_code ec;
    if (!fs::exists(config, ec)) {
        return std::nullopt;
    }
    try {
        const YamlNode doc = parse_yaml(read_text_file(config, Bom::strip));
        const auto find = [key](const YamlNode& map) -> std::optional<YamlNode> {
            for (const auto& [k, v] : map.entries) {
                if (k == key) {
                    return v;
                }
            }
            return std::nullopt;
        };
        for (const auto& [k, v] : doc.entries) {
            if ((k == "agents" || k == "tools") && v.kind == YamlNode::Kind::mapping) {
                if (auto found = find(v)) {
                    return found;
                }
            }
        }
        return find(doc);
    } catch (const YamlError& e) {
        throw Error(Exit::input, "INVALID_YAML", config.string() + ": " + e.message, "fix the YAML")
            .at(config, e.line);
    }
}

bool project_auto_commit(const fs::path& root) {
    const auto value = project_setting(root, "auto_commit");
    return !value || value->kind != YamlNode::Kind::boolean || value->text == "true";
}

std::string mission_state(const std::vector<std::string>& wp_lanes, bool has_events,
                          bool accepted) {
    if (wp_lanes.empty() || !has_events) {
        return "planning";
    }
    const auto all_in = [&](std::initializer_list<std::string_view> lanes) {
        return std::all_of(wp_lanes.begin(), wp_lanes.end(), [&](const std::string& lane) {
            return std::find(lanes.begin(), lanes.end(), lane) != lanes.end();
        });
    };
    if (all_in({"done", "canceled"})) {
        return "merged";
    }
    if (all_in({"approved", "done", "canceled"})) {
        return accepted ? "accepted" : "approved";
    }
    return "in_progress";
}

Outcome status_all_command(const fs::path& start_dir) {
    const fs::path root = find_project_root(start_dir);
    Outcome out;
    Json rows = Json::array();
    std::vector<std::array<std::string, 7>> table;
    for (const MissionRef& ref : list_missions(root)) {
        Json row = {{"mission_slug", ref.dir_name},
                    {"mission_id", ref.mission_id ? Json(*ref.mission_id) : Json(nullptr)}};
        try {
            const Mission m = Mission::at_directory(ref.dir);
            const auto events = read_status_events(m.events_log());
            const StatusSnapshot snapshot = reduce_status(events);
            std::vector<std::string> lanes;
            Json by_lane = Json::object();
            std::error_code ec;
            if (fs::is_directory(m.tasks_dir(), ec)) {
                for (const fs::path& file : list_wp_files(m.tasks_dir())) {
                    const std::string id =
                        wp_id_from_filename(file.filename().string()).value_or(file.stem());
                    const auto it = snapshot.work_packages.find(id);
                    std::string lane = "planned";
                    if (it != snapshot.work_packages.end()) {
                        lane = canonical_lane(it->second.lane).value_or(it->second.lane);
                    }
                    by_lane[lane] = by_lane.value(lane, 0) + 1;
                    lanes.push_back(lane);
                }
            }
            const std::optional<Json> meta = load_meta(m.dir());
            const bool accepted =
                meta && meta->contains("accepted_at") && (*meta)["accepted_at"].is_string();
            std::string target =
                meta && meta->contains("target_branch") && (*meta)["target_branch"].is_string()
                    ? (*meta)["target_branch"].get<std::string>()
                    : "";
            Json lane_count = nullptr;
            if (fs::exists(m.lanes_json(), ec)) {
                const LanesFile file = read_lanes_file(m.lanes_json());
                lane_count = file.manifest.lanes.size();
                target = file.manifest.target_branch.empty() ? target : file.manifest.target_branch;
            }
            const std::string state = mission_state(lanes, !events.empty(), accepted);
            const std::string percent = python_round1(status_progress(snapshot));
            row["mission_type"] = m.identity().mission_type;
            row["state"] = state;
            row["progress_percentage"] = std::stod(percent);
            row["work_packages"] = lanes.size();
            row["by_lane"] = by_lane;
            row["lanes"] = lane_count;
            row["target_branch"] = target.empty() ? Json(nullptr) : Json(target);
            table.push_back({ref.dir_name, ref.mission_id.value_or("-"), state, percent + "%",
                             std::to_string(lanes.size()),
                             lane_count.is_null() ? "-" : std::to_string(lane_count.get<int>()),
                             target.empty() ? "-" : target});
        } catch (const Error& e) {
            row["state"] = "unreadable";
            row["error"] = e.what();
            out.findings.push_back({"warning", "MISSION_UNREADABLE", ref.dir_name + ": " + e.what(),
                                    e.path().string(), e.line()});
            table.push_back(
                {ref.dir_name, ref.mission_id.value_or("-"), "unreadable", "-", "-", "-", "-"});
        }
        rows.push_back(std::move(row));
    }
    std::array<std::size_t, 7> width = {7, 10, 5, 8, 3, 5, 6};
    const std::array<std::string, 7> head = {"MISSION", "MISSION ID", "STATE", "PROGRESS",
                                             "WPS",     "LANES",      "TARGET"};
    for (const auto& r : table) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            width[i] = std::max(width[i], r[i].size());
        }
    }
    std::string text;
    const auto line = [&](const std::array<std::string, 7>& r) {
        std::string l;
        for (std::size_t i = 0; i < r.size(); ++i) {
            l += r[i] + (i + 1 < r.size() ? std::string(width[i] + 2 - r[i].size(), ' ') : "");
        }
        text += l + "\n";
    };
    line(head);
    for (const auto& r : table) {
        line(r);
    }
    if (table.empty()) {
        text = "No missions in " + (root / "kitty-specs").string() + "\n";
    }
    out.document = {{"project_root", root.string()}, {"missions", rows}};
    out.text = std::move(text);
    return out;
}

Outcome status_report_command(const StatusRequest& request) {
    if (request.all) {
        return status_all_command(request.start_dir);
    }
    const Mission m = open_mission(request);
    Outcome out;
    std::optional<StatusSnapshot> snapshot;
    try {
        const auto events = read_status_events(m.events_log());
        if (!events.empty()) {
            snapshot = reduce_status(events);
        }
    } catch (const Error& e) {
        // 3.1.1 silently shows every WP as planned here; kitty does too, but says why.
        out.findings.push_back({"warning", "EVENT_LOG_UNREADABLE",
                                std::string(e.what()) + "; every WP is shown as planned",
                                e.path().string(), e.line()});
    }
    std::optional<LanesFile> lanes;
    std::error_code ec;
    if (fs::exists(m.lanes_json(), ec)) {
        lanes = read_lanes_file(m.lanes_json());
    }

    Json wps = Json::array();
    Json by_lane = Json::object();
    std::map<std::string, std::vector<std::string>> columns;
    int stale_count = 0;
    const std::int64_t lease = m.root() ? claim_lease_seconds(*m.root()) : kDefaultLeaseSeconds;
    const UtcTime now = now_utc();
    for (const fs::path& file : list_wp_files(m.tasks_dir())) {
        const std::string content = read_file_bytes(file);
        const std::string front = frontmatter_text(content);
        const auto id = scalar(front, "work_package_id");
        const std::string key = id.value_or(file.stem().string());
        std::string lane = "planned";
        std::string actor;
        std::int64_t state_age = -1;
        if (snapshot) {
            const auto it = snapshot->work_packages.find(key);
            if (it != snapshot->work_packages.end()) {
                lane = canonical_lane(it->second.lane).value_or(it->second.lane);
                actor = it->second.actor;
                UtcTime at;
                if (parse_iso_timestamp(it->second.last_transition_at, at, IsoForms::python)) {
                    state_age = std::max<std::int64_t>(0, now.seconds - at.seconds);
                }
            }
        }
        by_lane[lane] = by_lane.value(lane, 0) + 1;
        const Workspace ws = workspace_for(m, file, front, id, lanes);
        const auto title = scalar(front, "title");
        Json wp = {{"id", id ? Json(*id) : Json(nullptr)},
                   {"title", title ? Json(*title) : Json(nullptr)},
                   {"lane", lane},
                   {"phase", scalar(front, "phase").value_or("Unknown Phase")},
                   {"file", file.filename().string()},
                   {"agent", scalar(front, "agent").value_or("")},
                   {"agent_profile", scalar(front, "agent_profile").value_or("")},
                   {"shell_pid", scalar(front, "shell_pid").value_or("")},
                   {"execution_mode", ws.execution_mode},
                   {"workspace_kind", ws.kind}};
        if (lane == "in_progress") {
            // A planning WP works in the shared main checkout; a code WP whose worktree
            // does not exist has not started work there.
            Json stale = {{"status", "fresh"},
                          {"reason", nullptr},
                          {"minutes_since_commit", nullptr},
                          {"last_commit_time", nullptr}};
            if (ws.kind == "repo_root") {
                stale["status"] = "not_applicable";
                stale["reason"] = "planning_artifact_repo_root_shared_workspace";
            } else if (ws.lanes_missing || ws.kind == "unknown") {
                stale["status"] = "not_applicable";
                stale["reason"] = "stale_detection_unavailable";
            }
            const bool exists = ws.worktree && fs::is_directory(*ws.worktree, ec);
            // In an existing worktree: the age of the last commit since the default
            // branch; none since is a WP just started.
            if (exists && stale["status"] == "fresh") {
                const auto repo = Repository::discover(*ws.worktree);
                if (const auto p = repo ? repo->progress_since_default_branch() : std::nullopt;
                    p && p->commits_ahead > 0) {
                    const UtcTime now = now_utc();
                    const double minutes =
                        (static_cast<double>(now.seconds - p->last_commit.seconds) +
                         now.microseconds / 1e6) /
                        60.0;
                    const double rounded = std::stod(python_round1(minutes));
                    stale["status"] = minutes > request.stale_threshold_minutes ? "stale" : "fresh";
                    stale["minutes_since_commit"] = rounded;
                    stale["last_commit_time"] = python_isoformat({p->last_commit.seconds, 0},
                                                                 p->last_commit.offset_minutes);
                }
            }
            wp["stale"] = stale;
            wp["is_stale"] = stale["status"] == "stale";
            wp["minutes_since_commit"] = stale["minutes_since_commit"];
            wp["worktree_exists"] = ws.kind != "repo_root" && exists;
            stale_count += wp["is_stale"].get<bool>() ? 1 : 0;
        }
        std::string holding;
        if (const std::string holder = wp_holder(lane, actor, scalar(front, "agent").value_or(""));
            !holder.empty() && m.root()) {
            const std::string_view liveness = liveness_name(classify_holder(
                holder_signs(m, holder, scalar(front, "shell_pid").value_or(""), state_age),
                lease));
            wp["holder"] = holder;
            wp["liveness"] = liveness;
            holding = "  (" + holder + ", " + std::string(liveness) + ")";
        }
        columns[lane].push_back(key + "  " + title.value_or("") + holding);
        wps.push_back(std::move(wp));
    }

    Json doc = {
        {"mission_slug", m.identity().mission_slug},
        {"mission_number", m.identity().mission_number},
        {"mission_type", m.identity().mission_type},
        {"mission_id", m.identity().mission_id ? Json(*m.identity().mission_id) : Json(nullptr)},
        {"total_wps", wps.size()},
        {"by_lane", by_lane},
        {"work_packages", wps}};
    std::string percent = "0";
    if (snapshot) {
        percent = python_round1(status_progress(*snapshot));
        doc["progress_percentage"] = std::stod(percent);
    } else {
        doc["progress_percentage"] = 0;
    }
    doc["stale_wps"] = stale_count;
    doc["auto_commit"] = !m.root() || project_auto_commit(*m.root());

    std::string text =
        "Mission " + m.identity().mission_slug +
        (m.identity().mission_id ? " (" + *m.identity().mission_id + ")" : std::string()) + "\n";
    text += "Progress: " + percent + "% of " + std::to_string(wps.size()) + " work packages\n";
    for (const std::string_view lane : kStatusLanes) {
        const auto it = columns.find(std::string(lane));
        if (it == columns.end()) {
            continue;
        }
        text += std::string(lane) + " (" + std::to_string(it->second.size()) + ")\n";
        for (const std::string& line : it->second) {
            text += "  " + line + "\n";
        }
    }
    if (wps.empty()) {
        text += "No work packages found in " + (m.tasks_dir()).string() + "\n";
    }
    text +=
        "Next: spec-kitty next --agent <your-name> --mission " + m.identity().mission_slug + "\n";
    out.document = std::move(doc);
    out.text = std::move(text);
    out.json_style = {.indent = 2};
    return out;
}

Bootstrapped bootstrap_status(const Mission& m, const std::vector<std::string>& wp_ids,
                              const std::string& actor) {
    const FileLock lock = m.lock_status();
    const std::vector<StatusEvent> events = read_status_events(m.events_log());
    const StatusSnapshot before = reduce_status(events);
    std::vector<std::string> added;
    std::vector<StatusEvent> seeds;
    for (const std::string& id : wp_ids) {
        if (before.work_packages.count(id) ||
            std::find(added.begin(), added.end(), id) != added.end()) {
            continue;
        }
        StatusEvent e;
        e.actor = actor;
        e.at = python_isoformat(now_utc());
        e.event_id = mint_ulid().str();
        e.force = true;
        e.from_lane = "planned";
        e.to_lane = "planned";
        e.mission_slug = m.slug();
        e.reason = "canonical bootstrap";
        e.wp_id = id;
        seeds.push_back(std::move(e));
        added.push_back(id);
    }
    std::vector<Finding> findings = record_status_events(m, events, seeds);
    return {std::move(added), std::move(findings)};
}

Outcome status_bootstrap_command(const StatusRequest& request, const std::string& actor) {
    const Mission m = open_mission(request);
    std::vector<std::string> ids;
    for (const fs::path& file : list_wp_files(m.tasks_dir())) {
        if (const auto id = wp_id_from_filename(file.filename().string())) {
            ids.push_back(*id);
        }
    }
    auto [added, findings] = bootstrap_status(m, ids, actor);
    std::string text = added.empty() ? "Every work package already has a status event.\n"
                                     : "Bootstrapped " + std::to_string(added.size()) +
                                           " work packages as planned.\n";
    Outcome out = Outcome::success({{"mission_slug", m.slug()}, {"bootstrapped", added}}, text);
    out.findings = std::move(findings);
    return out;
}

Outcome status_move_command(const MoveRequest& request) {
    const Mission m = open_mission(request.mission);
    const auto to = canonical_lane(request.to_lane);
    if (!to) {
        std::string lanes;
        for (const std::string_view l : kStatusLanes) {
            lanes += (lanes.empty() ? "" : ", ") + std::string(l);
        }
        throw Error(Exit::usage, "UNKNOWN_LANE", "unknown lane '" + request.to_lane + "'",
                    "use one of: " + lanes);
    }
    if (request.force &&
        (py_strip(request.actor).empty() || !request.reason || py_strip(*request.reason).empty())) {
        throw Error(Exit::usage, "FORCE_NEEDS_REASON", "Force transitions require actor and reason",
                    "pass --actor and --reason with --force");
    }
    const FileLock lock = m.lock_status();
    const std::vector<StatusEvent> events = read_status_events(m.events_log());
    const StatusSnapshot snapshot = reduce_status(events);
    bool known = snapshot.work_packages.count(request.wp_id) > 0;
    for (const fs::path& file : list_wp_files(m.tasks_dir())) {
        known = known || wp_id_from_filename(file.filename().string()) == request.wp_id;
    }
    if (!known) {
        throw Error(Exit::input, "UNKNOWN_WP",
                    request.wp_id + " is not a work package of " + m.slug(),
                    "check the id against tasks/WP*.md");
    }
    const auto cur = snapshot.work_packages.find(request.wp_id);
    const std::string from = cur == snapshot.work_packages.end() ? "planned" : cur->second.lane;
    if (!request.force) {
        if (!transition_allowed(from, *to)) {
            throw Error(Exit::check_failed, "ILLEGAL_TRANSITION",
                        "Illegal transition: " + from + " -> " + *to,
                        "follow the lane workflow, or pass --force with --actor and --reason");
        }
        if (from == "in_progress" && *to == "planned" &&
            (!request.reason || py_strip(*request.reason).empty())) {
            throw Error(Exit::check_failed, "REASON_REQUIRED",
                        "moving " + request.wp_id + " back to planned needs a reason",
                        "pass --reason");
        }
    }
    StatusEvent e;
    e.actor = request.actor;
    e.at = python_isoformat(now_utc());
    e.event_id = mint_ulid().str();
    e.force = request.force;
    e.from_lane = from;
    e.to_lane = *to;
    e.mission_slug = m.slug();
    e.reason = request.reason;
    e.wp_id = request.wp_id;
    Outcome out = Outcome::success({{"wp_id", e.wp_id},
                                    {"from_lane", from},
                                    {"to_lane", *to},
                                    {"event_id", e.event_id},
                                    {"at", e.at}},
                                   e.wp_id + ": " + from + " -> " + *to + "\n");
    out.findings = record_status_events(m, events, {e});
    return out;
}

} // namespace kitty
