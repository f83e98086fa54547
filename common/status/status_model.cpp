// Lanes, transitions, the event log, the reducer and status.json (identity-status.md §4.1-4.5).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

bool is_rollback(const StatusEvent& e) {
    return e.from_lane == "for_review" && e.to_lane == "in_progress" && e.review_ref.has_value();
}

} // namespace

const std::string& lane_name(WpLane lane) {
    static const std::array<std::string, kStatusLanes.size()> names = [] {
        std::array<std::string, kStatusLanes.size()> out;
        for (std::size_t i = 0; i < kStatusLanes.size(); ++i) {
            out[i] = std::string(kStatusLanes[i]);
        }
        return out;
    }();
    return names.at(static_cast<std::size_t>(lane));
}

std::optional<WpLane> lane_of(std::string_view name) {
    const auto it = std::find(kStatusLanes.begin(), kStatusLanes.end(), name);
    if (it == kStatusLanes.end()) {
        return std::nullopt;
    }
    return static_cast<WpLane>(it - kStatusLanes.begin());
}

std::optional<std::string> canonical_lane(std::string_view name) {
    std::string lane(py_strip(name));
    std::transform(lane.begin(), lane.end(), lane.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lane == "doing") {
        lane = "in_progress";
    }
    return lane_of(lane) ? std::optional<std::string>(lane) : std::nullopt;
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

namespace {

// A top-level value of an event line.
struct FieldValue {
    enum class Kind { string, boolean, null, number, json } kind = Kind::null;
    std::string text; // string value, number text, or JSON text
    bool flag = false;
    Json value = nullptr; // numbers, objects and arrays
};

// An event line's fields in their order (about 13: a list, read once).
struct Fields {
    std::vector<std::pair<std::string, FieldValue>> items;
};

void skip_space(std::string_view s, std::size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        ++i;
    }
}

int hex4(std::string_view s, std::size_t at) {
    if (at + 4 > s.size()) {
        return -1;
    }
    int v = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
        const char c = s[k];
        v = v * 16 + (c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1000000);
    }
    return v < 0 ? -1 : v;
}

// A JSON string at s[i] (the opening quote), unescaped; false when malformed.
bool scan_string(std::string_view s, std::size_t& i, std::string& out) {
    ++i;
    while (i < s.size()) {
        // The run of plain characters up to the next quote, escape or control character is
        // appended at once: event values rarely hold an escape.
        std::size_t end = i;
        while (end < s.size() && s[end] != '"' && s[end] != '\\' &&
               static_cast<unsigned char>(s[end]) >= 0x20) {
            ++end;
        }
        out.append(s.data() + i, end - i);
        i = end;
        if (i >= s.size()) {
            return false;
        }
        const char c = s[i++];
        if (c == '"') {
            return true;
        }
        if (c != '\\') {
            return false; // a control character
        }
        if (i >= s.size()) {
            return false;
        }
        const char e = s[i++];
        switch (e) {
        case '"':
            out += '"';
            break;
        case '\\':
            out += '\\';
            break;
        case '/':
            out += '/';
            break;
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'u': {
            int cp = hex4(s, i);
            i += 4;
            if (cp < 0) {
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                const int low =
                    i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, i + 2) : -1;
                if (low < 0xDC00 || low > 0xDFFF) {
                    return false;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return false;
            }
            append_utf8(out, static_cast<char32_t>(cp));
            break;
        }
        default:
            return false;
        }
    }
    return false;
}

// Moves i past the object or array that starts at s[i]: brackets counted outside strings.
// False when it does not end.
bool skip_nested(std::string_view s, std::size_t& i) {
    std::size_t depth = 0;
    while (i < s.size()) {
        const char c = s[i++];
        if (c == '"') {
            while (i < s.size() && s[i] != '"') {
                i += s[i] == '\\' ? 2 : 1;
            }
            if (i >= s.size()) {
                return false;
            }
            ++i;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return true;
        }
    }
    return false;
}

// The fields of a JSON object line of strings, booleans, nulls and nested values without
// building a DOM for the line (a nested value, a review's evidence, is parsed apart);
// nullopt for anything else, which the full parser then reads, so numbers get its
// validation.
std::optional<Fields> scan_flat_object(std::string_view s) {
    Fields fields;
    fields.items.reserve(16);
    std::size_t i = 0;
    skip_space(s, i);
    if (i >= s.size() || s[i] != '{') {
        return std::nullopt;
    }
    ++i;
    skip_space(s, i);
    if (i < s.size() && s[i] == '}') {
        ++i;
        skip_space(s, i);
        return i == s.size() ? std::optional<Fields>(fields) : std::nullopt;
    }
    while (true) {
        skip_space(s, i);
        std::string key;
        if (i >= s.size() || s[i] != '"' || !scan_string(s, i, key)) {
            return std::nullopt;
        }
        skip_space(s, i);
        if (i >= s.size() || s[i++] != ':') {
            return std::nullopt;
        }
        skip_space(s, i);
        if (i >= s.size()) {
            return std::nullopt;
        }
        FieldValue v;
        if (s[i] == '"') {
            v.kind = FieldValue::Kind::string;
            if (!scan_string(s, i, v.text)) {
                return std::nullopt;
            }
        } else if (s.substr(i, 4) == "true" || s.substr(i, 5) == "false") {
            v.kind = FieldValue::Kind::boolean;
            v.flag = s[i] == 't';
            i += v.flag ? 4 : 5;
        } else if (s.substr(i, 4) == "null") {
            i += 4;
        } else if (s[i] == '{' || s[i] == '[') {
            // A nested value (a review's evidence): its span found by its brackets, then read
            // by the full parser, which checks it and limits its depth.
            const std::size_t start = i;
            if (!skip_nested(s, i)) {
                return std::nullopt;
            }
            try {
                const Json nested = parse_json(s.substr(start, i - start), "event line");
                v = {FieldValue::Kind::json, dump_python(nested), false,
                     Json(nlohmann::json(nested))};
            } catch (const Error&) {
                return std::nullopt; // the full parser names what is wrong
            }
        } else {
            return std::nullopt; // a number
        }
        fields.items.emplace_back(std::move(key), std::move(v));
        skip_space(s, i);
        if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
        }
        if (i < s.size() && s[i] == '}') {
            ++i;
            skip_space(s, i);
            return i == s.size() ? std::optional<Fields>(std::move(fields)) : std::nullopt;
        }
        return std::nullopt;
    }
}

// The same fields of a document from the full parser; nullopt for a non-object.
std::optional<Fields> object_fields(const Json& j) {
    if (!j.is_object()) {
        return std::nullopt;
    }
    Fields fields;
    for (const auto& [key, value] : j.items()) {
        FieldValue v;
        if (value.is_string()) {
            v = {FieldValue::Kind::string, value.get<std::string>(), false};
        } else if (value.is_boolean()) {
            v = {FieldValue::Kind::boolean, "", value.get<bool>()};
        } else if (!value.is_null()) {
            // Nested objects with their keys sorted (nlohmann::json's std::map), as the line
            // writer's sort_keys writes them, so an event reads back the same.
            v = {value.is_number() ? FieldValue::Kind::number : FieldValue::Kind::json,
                 dump_python(value), false, Json(nlohmann::json(value))};
        }
        fields.items.emplace_back(key, std::move(v));
    }
    return fields;
}

} // namespace

std::vector<StatusEvent> read_status_events(const fs::path& path) {
    std::vector<StatusEvent> events;
    std::error_code ec;
    if (fs::exists(path, ec)) {
        parse_status_lines(read_event_log_text(path), path, 0, events);
    }
    return events;
}

std::string read_event_log_text(const fs::path& path) {
    std::string text = read_text_file(path, Bom::keep);
    // An append is one write(2), but a read without the status lock can see part of one: a
    // log that does not end with a newline is read again, for a moment, until it does. A last
    // line that stays unterminated is then taken as it is (a hand edit without the newline).
    for (int pause = 1; !text.empty() && text.back() != '\n' && pause <= 32; pause *= 2) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause));
        text = read_text_file(path, Bom::keep);
    }
    return text;
}

void parse_status_lines(std::string_view text, const fs::path& path, int lines_before,
                        std::vector<StatusEvent>& events) {
    for_each_stripped_line(text, [&](int line_in_text, std::string_view line) {
        const int number = lines_before + line_in_text;
        const auto fail = [&](const std::string& what) {
            throw Error(Exit::input, "INVALID_EVENT_LOG",
                        path.string() + ": " + what + " on line " + std::to_string(number),
                        "fix or remove that line of the event log")
                .at(path, number);
        };
        auto fields = scan_flat_object(line);
        if (!fields) {
            Json doc;
            try {
                doc = parse_json(line, path);
            } catch (const Error&) {
                fail("Invalid JSON");
            }
            fields = object_fields(doc);
            if (!fields) {
                fail("Invalid event structure");
            }
        }
        // Each field an event has, found in one pass over the line's fields; of a name given
        // twice the last counts, as in Python's json.loads.
        enum Slot {
            event_id,
            wp_id,
            from_lane,
            to_lane,
            at,
            actor,
            force,
            execution_mode,
            mission_slug,
            feature_slug,
            reason,
            review_ref,
            evidence,
            policy_metadata,
            slots
        };
        static constexpr std::array<std::string_view, slots> names{
            "event_id", "wp_id",      "from_lane",      "to_lane",        "at",
            "actor",    "force",      "execution_mode", "mission_slug",   "feature_slug",
            "reason",   "review_ref", "evidence",       "policy_metadata"};
        std::array<const FieldValue*, slots> slot{};
        for (const auto& [key, value] : fields->items) {
            for (std::size_t k = 0; k < slots; ++k) {
                if (key.size() == names[k].size() && key == names[k]) {
                    slot[k] = &value;
                    break;
                }
            }
        }
        for (std::size_t k = event_id; k <= execution_mode; ++k) {
            if (slot[k] == nullptr) {
                fail("Invalid event structure (no " + std::string(names[k]) + ")");
            }
        }
        const auto text_of = [&](Slot k) {
            const FieldValue& v = *slot[k];
            return v.kind == FieldValue::Kind::null      ? std::string("None")
                   : v.kind == FieldValue::Kind::boolean ? std::string(v.flag ? "True" : "False")
                                                         : v.text;
        };
        const auto optional_string = [&](Slot k) -> std::optional<std::string> {
            const FieldValue* v = slot[k];
            if (v == nullptr || v->kind != FieldValue::Kind::string) {
                return std::nullopt;
            }
            return v->text;
        };
        StatusEvent e;
        e.event_id = text_of(event_id);
        e.wp_id = text_of(wp_id);
        e.from_lane = text_of(from_lane);
        e.to_lane = text_of(to_lane);
        if (!lane_of(e.from_lane) || !lane_of(e.to_lane)) {
            fail("Invalid event structure (unknown lane)");
        }
        e.at = text_of(at);
        e.actor = text_of(actor);
        e.force = slot[force]->kind == FieldValue::Kind::boolean
                      ? slot[force]->flag
                      : slot[force]->kind != FieldValue::Kind::null;
        e.execution_mode = text_of(execution_mode);
        e.mission_slug =
            optional_string(mission_slug).value_or(optional_string(feature_slug).value_or(""));
        e.reason = optional_string(reason);
        e.review_ref = optional_string(review_ref);
        for (const auto& [k, target] :
             {std::pair{evidence, &e.evidence}, std::pair{policy_metadata, &e.policy_metadata}}) {
            if (const FieldValue* found = slot[k]) {
                const FieldValue& v = *found;
                *target = v.kind == FieldValue::Kind::string    ? Json(v.text)
                          : v.kind == FieldValue::Kind::boolean ? Json(v.flag)
                                                                : v.value;
            }
        }
        events.push_back(std::move(e));
    });
}

namespace {

StatusSnapshot empty_snapshot() {
    StatusSnapshot s;
    for (const std::string_view lane : kStatusLanes) {
        s.summary[std::string(lane)] = 0;
    }
    return s;
}

bool sorts_before(const StatusEvent* a, const StatusEvent* b) {
    return std::tie(a->at, a->event_id) < std::tie(b->at, b->event_id);
}

// Applies `sorted` (unique, in (at, event_id) order, each after every event `s` holds) to
// `s`. `setter` finds the event that last set a WP; it is asked only for the rollback rule of
// two events with one timestamp.
template <typename Setter>
void apply_sorted(StatusSnapshot& s, const std::vector<const StatusEvent*>& sorted,
                  const Setter& setter) {
    if (sorted.empty()) {
        return;
    }
    if (s.event_count == 0) {
        s.mission_slug = sorted.front()->mission_slug;
    }
    for (const StatusEvent* e : sorted) {
        const auto cur = s.work_packages.find(e->wp_id);
        bool apply = true;
        if (cur != s.work_packages.end() && cur->second.last_transition_at == e->at) {
            const StatusEvent* set_by = setter(cur->second.last_event_id);
            if (set_by != nullptr && is_rollback(*set_by) && !is_rollback(*e)) {
                apply = false;
            }
        }
        if (apply) {
            const int forced = cur == s.work_packages.end() ? 0 : cur->second.force_count;
            s.work_packages[e->wp_id] = {e->to_lane, e->actor, e->at, e->event_id,
                                         forced + (e->force ? 1 : 0)};
        }
    }
    s.summary = empty_snapshot().summary;
    for (const auto& [wp, st] : s.work_packages) {
        ++s.summary[st.lane];
    }
    s.materialized_at = sorted.back()->at;
    s.event_count += static_cast<int>(sorted.size());
    s.last_event_id = sorted.back()->event_id;
}

} // namespace

StatusSnapshot reduce_status(const std::vector<StatusEvent>& events) {
    StatusSnapshot s = empty_snapshot();
    std::vector<const StatusEvent*> unique;
    unique.reserve(events.size());
    std::unordered_map<std::string_view, const StatusEvent*> by_id;
    by_id.reserve(events.size());
    for (const StatusEvent& e : events) {
        if (by_id.emplace(e.event_id, &e).second) {
            unique.push_back(&e);
        }
    }
    std::stable_sort(unique.begin(), unique.end(), sorts_before);
    apply_sorted(s, unique, [&by_id](const std::string& id) {
        const auto it = by_id.find(id);
        return it == by_id.end() ? nullptr : it->second;
    });
    return s;
}

StatusSnapshot extend_status(StatusSnapshot s, const std::vector<StatusEvent>& existing,
                             const std::vector<StatusEvent>& added) {
    // The first event of each id: a later one of the same id counts for nothing.
    std::unordered_map<std::string_view, const StatusEvent*> by_id;
    for (const StatusEvent& e : existing) {
        by_id.emplace(e.event_id, &e);
    }
    const bool extended = extend_status_from(
        s, [&by_id](const std::string& id) { return by_id.contains(id); },
        [&by_id](const std::string& id) {
            const auto it = by_id.find(id);
            return it != by_id.end() && is_rollback(*it->second);
        },
        added);
    if (!extended) {
        // An added event sorts among the existing ones: the whole log is reduced again.
        std::vector<StatusEvent> all = existing;
        all.insert(all.end(), added.begin(), added.end());
        return reduce_status(all);
    }
    return s;
}

bool is_status_rollback(const StatusEvent& event) {
    return is_rollback(event);
}

bool extend_status_from(StatusSnapshot& s, const std::function<bool(const std::string&)>& seen,
                        const std::function<bool(const std::string&)>& set_by_rollback,
                        const std::vector<StatusEvent>& added) {
    std::vector<const StatusEvent*> sorted;
    std::unordered_map<std::string_view, const StatusEvent*> fresh;
    for (const StatusEvent& e : added) {
        if (!seen(e.event_id) && fresh.emplace(e.event_id, &e).second) {
            sorted.push_back(&e);
        }
    }
    std::stable_sort(sorted.begin(), sorted.end(), sorts_before);
    if (!sorted.empty() && s.event_count > 0 &&
        (!s.last_event_id || std::tie(s.materialized_at, *s.last_event_id) >=
                                 std::tie(sorted.front()->at, sorted.front()->event_id))) {
        return false;
    }
    // An existing setter is known only by whether it was a rollback: a stand-in with that
    // answer serves the rule.
    static const StatusEvent rollback = [] {
        StatusEvent e;
        e.from_lane = "for_review";
        e.to_lane = "in_progress";
        e.review_ref = "";
        return e;
    }();
    static const StatusEvent plain;
    apply_sorted(s, sorted, [&](const std::string& id) -> const StatusEvent* {
        if (const auto it = fresh.find(id); it != fresh.end()) {
            return it->second;
        }
        return set_by_rollback(id) ? &rollback : &plain;
    });
    return true;
}

std::string serialize_status_json(const StatusSnapshot& s, const std::string& mission_number,
                                  const std::string& mission_type) {
    // Written as dump_python writes the document (sort_keys, indent 2, raw UTF-8), without
    // building it first: every hand-off writes it, and the document was most of the cost.
    std::string out =
        "{\n  \"event_count\": " + std::to_string(s.event_count) + ",\n  \"last_event_id\": ";
    if (s.last_event_id) {
        append_python_string(out, *s.last_event_id, false);
    } else {
        out += "null";
    }
    const auto member = [&out](const char* key, const std::string& value) {
        out += ",\n  \"";
        out += key;
        out += "\": ";
        append_python_string(out, value, false);
    };
    member("materialized_at", s.materialized_at);
    member("mission_number", mission_number);
    member("mission_slug", s.mission_slug);
    member("mission_type", mission_type);
    out += ",\n  \"summary\": {";
    const char* sep = "\n    ";
    for (const auto& [lane, n] : s.summary) {
        out += sep;
        append_python_string(out, lane, false);
        out += ": " + std::to_string(n);
        sep = ",\n    ";
    }
    out += s.summary.empty() ? "}" : "\n  }";
    out += ",\n  \"work_packages\": {";
    sep = "\n    ";
    for (const auto& [wp, st] : s.work_packages) {
        out += sep;
        append_python_string(out, wp, false);
        out += ": {\n      \"actor\": ";
        append_python_string(out, st.actor, false);
        out +=
            ",\n      \"force_count\": " + std::to_string(st.force_count) + ",\n      \"lane\": ";
        append_python_string(out, st.lane, false);
        out += ",\n      \"last_event_id\": ";
        append_python_string(out, st.last_event_id, false);
        out += ",\n      \"last_transition_at\": ";
        append_python_string(out, st.last_transition_at, false);
        out += "\n    }";
        sep = ",\n    ";
    }
    out += s.work_packages.empty() ? "}" : "\n  }";
    out += "\n}\n";
    return out;
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

std::vector<Json> read_event_objects(const fs::path& file) {
    std::vector<Json> events;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        return events;
    }
    const std::string text = read_file_bytes(file);
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.find('\n', begin);
        end = end == std::string::npos ? text.size() : end;
        try {
            Json e = parse_json(std::string_view(text).substr(begin, end - begin), file);
            if (e.is_object()) {
                events.push_back(std::move(e));
            }
        } catch (const Error&) {
            // A line that is not JSON is no event, as in 3.1.1's reader.
        }
        begin = end + 1;
    }
    return events;
}

} // namespace kitty
