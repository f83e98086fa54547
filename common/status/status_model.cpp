// Lanes, transitions, the event log, the reducer and status.json (identity-status.md §4.1-4.5).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "kitty/error.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

bool is_lane(std::string_view lane) {
    return std::find(kStatusLanes.begin(), kStatusLanes.end(), lane) != kStatusLanes.end();
}

bool is_rollback(const StatusEvent& e) {
    return e.from_lane == "for_review" && e.to_lane == "in_progress" && e.review_ref.has_value();
}

} // namespace

std::optional<std::string> canonical_lane(std::string_view name) {
    std::string lane(py_strip(name));
    std::transform(lane.begin(), lane.end(), lane.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lane == "doing") {
        lane = "in_progress";
    }
    return is_lane(lane) ? std::optional<std::string>(lane) : std::nullopt;
}

bool transition_allowed(std::string_view from, std::string_view to) {
    static const std::set<std::pair<std::string_view, std::string_view>> allowed = [] {
        std::set<std::pair<std::string_view, std::string_view>> s{
            {"planned", "claimed"},        {"claimed", "in_progress"},
            {"in_progress", "for_review"}, {"for_review", "in_review"},
            {"in_review", "approved"},     {"in_review", "done"},
            {"in_review", "in_progress"},  {"in_review", "planned"},
            {"in_progress", "approved"},   {"approved", "done"},
            {"approved", "in_progress"},   {"approved", "planned"},
            {"in_progress", "planned"},    {"blocked", "in_progress"},
        };
        for (const char* from :
             {"planned", "claimed", "in_progress", "for_review", "in_review", "approved"}) {
            s.insert({from, "blocked"});
            s.insert({from, "canceled"});
        }
        s.insert({"blocked", "canceled"});
        return s;
    }();
    return allowed.count({from, to}) > 0;
}

double lane_weight(std::string_view lane) {
    static const std::map<std::string_view, double> weights{
        {"planned", 0.0},    {"claimed", 0.05},  {"in_progress", 0.3},
        {"for_review", 0.6}, {"in_review", 0.7}, {"approved", 0.8},
        {"done", 1.0},       {"blocked", 0.0},   {"canceled", 0.0}};
    const auto it = weights.find(lane);
    return it == weights.end() ? 0.0 : it->second;
}

Json StatusEvent::to_json() const {
    return {{"actor", actor},
            {"at", at},
            {"event_id", event_id},
            {"evidence", evidence},
            {"execution_mode", execution_mode},
            {"force", force},
            {"from_lane", from_lane},
            {"mission_slug", mission_slug},
            {"policy_metadata", policy_metadata},
            {"reason", reason ? Json(*reason) : Json(nullptr)},
            {"review_ref", review_ref ? Json(*review_ref) : Json(nullptr)},
            {"to_lane", to_lane},
            {"wp_id", wp_id}}; // keys in sorted order, as 3.1.1 writes them
}

std::string StatusEvent::line() const {
    return dump_python(to_json(), {.sort_keys = true}) + "\n";
}

std::vector<StatusEvent> read_status_events(const fs::path& path) {
    std::vector<StatusEvent> events;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return events;
    }
    const std::string text = read_text_file(path, Bom::keep);
    int number = 0;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.find('\n', begin);
        end = end == std::string::npos ? text.size() : end;
        const std::string_view line = py_strip(std::string_view(text).substr(begin, end - begin));
        begin = end + 1;
        ++number;
        if (line.empty()) {
            continue;
        }
        const Json j = Json::parse(line, nullptr, false);
        const auto fail = [&](const std::string& what) {
            throw Error(Exit::input, "INVALID_EVENT_LOG",
                        path.string() + ": " + what + " on line " + std::to_string(number),
                        "fix or remove that line of the event log")
                .at(path, number);
        };
        if (j.is_discarded()) {
            fail("Invalid JSON");
        }
        if (!j.is_object()) {
            fail("Invalid event structure");
        }
        StatusEvent e;
        for (const char* key : {"event_id", "wp_id", "from_lane", "to_lane", "at", "actor", "force",
                                "execution_mode"}) {
            if (!j.contains(key)) {
                fail(std::string("Invalid event structure (no ") + key + ")");
            }
        }
        const auto text_of = [&](const char* key) {
            const Json& v = j[key];
            return v.is_string() ? v.get<std::string>() : v.dump();
        };
        e.event_id = text_of("event_id");
        e.wp_id = text_of("wp_id");
        e.from_lane = text_of("from_lane");
        e.to_lane = text_of("to_lane");
        if (!is_lane(e.from_lane) || !is_lane(e.to_lane)) {
            fail("Invalid event structure (unknown lane)");
        }
        e.at = text_of("at");
        e.actor = text_of("actor");
        e.force = j["force"].is_boolean() ? j["force"].get<bool>() : !j["force"].is_null();
        e.execution_mode = text_of("execution_mode");
        e.mission_slug = j.contains("mission_slug") && j["mission_slug"].is_string()
                             ? j["mission_slug"].get<std::string>()
                         : j.contains("feature_slug") && j["feature_slug"].is_string()
                             ? j["feature_slug"].get<std::string>()
                             : "";
        e.evidence = j.value("evidence", Json(nullptr));
        e.policy_metadata = j.value("policy_metadata", Json(nullptr));
        if (j.contains("reason") && j["reason"].is_string()) {
            e.reason = j["reason"].get<std::string>();
        }
        if (j.contains("review_ref") && j["review_ref"].is_string()) {
            e.review_ref = j["review_ref"].get<std::string>();
        }
        events.push_back(std::move(e));
    }
    return events;
}

void append_status_event(const fs::path& path, const StatusEvent& event) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw system_error(Exit::input, "cannot open", path, errno);
    }
    const std::string line = event.line();
    const ssize_t n = ::write(fd, line.data(), line.size());
    const int err = errno;
    const bool synced = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) {
        throw system_error(Exit::input, "cannot append to", path, n < 0 ? err : EIO);
    }
}

StatusSnapshot reduce_status(const std::vector<StatusEvent>& events) {
    StatusSnapshot s;
    for (const std::string_view lane : kStatusLanes) {
        s.summary[std::string(lane)] = 0;
    }
    std::vector<const StatusEvent*> unique;
    std::set<std::string> seen;
    for (const StatusEvent& e : events) {
        if (seen.insert(e.event_id).second) {
            unique.push_back(&e);
        }
    }
    if (unique.empty()) {
        return s;
    }
    std::stable_sort(unique.begin(), unique.end(), [](const StatusEvent* a, const StatusEvent* b) {
        return std::tie(a->at, a->event_id) < std::tie(b->at, b->event_id);
    });
    std::map<std::string, const StatusEvent*> by_id;
    for (const StatusEvent* e : unique) {
        by_id.emplace(e->event_id, e);
    }
    s.mission_slug = unique.front()->mission_slug;
    for (const StatusEvent* e : unique) {
        const auto cur = s.work_packages.find(e->wp_id);
        bool apply = true;
        if (cur != s.work_packages.end() && cur->second.last_transition_at == e->at) {
            const auto setter = by_id.find(cur->second.last_event_id);
            if (setter != by_id.end() && is_rollback(*setter->second) && !is_rollback(*e)) {
                apply = false;
            }
        }
        if (apply) {
            const int forced = cur == s.work_packages.end() ? 0 : cur->second.force_count;
            s.work_packages[e->wp_id] = {e->to_lane, e->actor, e->at, e->event_id,
                                         forced + (e->force ? 1 : 0)};
        }
    }
    for (const auto& [wp, st] : s.work_packages) {
        ++s.summary[st.lane];
    }
    s.materialized_at = unique.back()->at;
    s.event_count = static_cast<int>(unique.size());
    s.last_event_id = unique.back()->event_id;
    return s;
}

std::string serialize_status_json(const StatusSnapshot& s, const std::string& mission_number,
                                  const std::string& mission_type) {
    Json wps = Json::object();
    for (const auto& [wp, st] : s.work_packages) {
        wps[wp] = {{"actor", st.actor},
                   {"force_count", st.force_count},
                   {"lane", st.lane},
                   {"last_event_id", st.last_event_id},
                   {"last_transition_at", st.last_transition_at}};
    }
    Json summary = Json::object();
    for (const auto& [lane, n] : s.summary) {
        summary[lane] = n;
    }
    const Json doc = {{"event_count", s.event_count},
                      {"last_event_id", s.last_event_id ? Json(*s.last_event_id) : Json(nullptr)},
                      {"materialized_at", s.materialized_at},
                      {"mission_number", mission_number},
                      {"mission_slug", s.mission_slug},
                      {"mission_type", mission_type},
                      {"summary", summary},
                      {"work_packages", wps}};
    return dump_python(doc, {.indent = 2, .ensure_ascii = false, .sort_keys = true}) + "\n";
}

double status_progress(const StatusSnapshot& s) {
    if (s.work_packages.empty()) {
        return 0.0;
    }
    double sum = 0.0, total = 0.0;
    for (const auto& [wp, st] : s.work_packages) {
        sum += 1.0 * lane_weight(st.lane);
        total += 1.0;
    }
    return sum / total * 100.0;
}

std::string python_round1(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", value); // glibc: exact binary value, ties to even
    return buf;
}

} // namespace kitty
