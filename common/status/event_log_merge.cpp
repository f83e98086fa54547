// The status.events.jsonl merge driver (identity-status.md §4.9, next-loop.md §8.6).
#include <algorithm>
#include <cstdint>
#include <map>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/file_merge.hpp"
#include "kitty/git.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// Python's == on two numbers (bool counts as 0 or 1): an int and a float compare exactly,
// which long double's 64-bit mantissa does for every int64 and uint64.
bool python_numbers_equal(const Json& a, const Json& b) {
    const auto as_long_double = [](const Json& v) -> long double {
        if (v.is_boolean()) {
            return v.get<bool>() ? 1.0L : 0.0L;
        }
        if (v.is_number_unsigned()) {
            return static_cast<long double>(v.get<std::uint64_t>());
        }
        if (v.is_number_integer()) {
            return static_cast<long double>(v.get<std::int64_t>());
        }
        return static_cast<long double>(v.get<double>());
    };
    return as_long_double(a) == as_long_double(b);
}

// Python's == on two decoded JSON values: dicts compare without regard to key order, 1 ==
// 1.0 == True. 3.1.1 compares payloads with it, so an event re-serialised with other key
// order or number spelling is still the same event.
bool python_equal(const Json& a, const Json& b) {
    const auto numeric = [](const Json& v) { return v.is_number() || v.is_boolean(); };
    if (numeric(a) && numeric(b)) {
        return python_numbers_equal(a, b);
    }
    if (a.type() != b.type()) {
        return false;
    }
    if (a.is_array()) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), python_equal);
    }
    if (a.is_object()) {
        if (a.size() != b.size()) {
            return false;
        }
        for (const auto& [key, value] : a.items()) {
            const auto other = b.find(key);
            if (other == b.end() || !python_equal(value, *other)) {
                return false;
            }
        }
        return true;
    }
    return a == b; // strings and nulls
}

// A non-blank string member, as 3.1.1's `isinstance(v, str) and v.strip()` checks it.
bool has_text(const Json& event, const char* key) {
    const auto it = event.find(key);
    return it != event.end() && it->is_string() &&
           !py_strip(it->get_ref<const std::string&>()).empty();
}

// The events of one side of the merge, checked as 3.1.1's driver checks them.
std::vector<Json> parse_event_log(std::string_view bytes, const std::string& label) {
    std::vector<Json> events;
    int number = 0;
    const auto fail = [&](const std::string& what) {
        throw Error(Exit::input, "INVALID_EVENT_LOG", label + ": " + what,
                    "fix or remove that line of the event log, then merge again")
            .at(label, number);
    };
    if (const auto bad = first_invalid_utf8(bytes)) {
        number = 1 + static_cast<int>(
                         std::count(bytes.begin(), bytes.begin() + static_cast<long>(*bad), '\n'));
        fail("invalid UTF-8 on line " + std::to_string(number));
    }
    const std::string text = normalize_newlines(bytes);
    for_each_stripped_line(text, [&](int line_number, std::string_view line) {
        number = line_number;
        const std::string where = " on line " + std::to_string(number);
        // Python's json.loads refuses a BOM, which nlohmann would skip.
        if (line.starts_with("\xEF\xBB\xBF")) {
            fail("invalid JSON" + where + ": unexpected UTF-8 BOM");
        }
        Json event;
        try {
            // parse_json bounds nesting and numbers as every other reader of input does.
            event = parse_json(line, label);
        } catch (const Error& e) {
            const std::string message = e.what();
            const std::size_t detail = message.find("invalid JSON: ");
            fail("invalid JSON" + where + ": " +
                 (detail == std::string::npos ? message : message.substr(detail + 14)));
        }
        if (!event.is_object()) {
            fail("line " + std::to_string(number) + " is not a JSON object");
        }
        if (!has_text(event, "event_id")) {
            fail("line " + std::to_string(number) + " is missing a valid event_id");
        }
        if (!has_text(event, "at")) {
            fail("line " + std::to_string(number) + " is missing a valid at timestamp");
        }
        events.push_back(std::move(event));
    });
    return events;
}

std::string read_side(const fs::path& path) {
    std::error_code ec;
    // As 3.1.1's driver: a side that does not exist has no events.
    if (!fs::exists(path, ec)) {
        return {};
    }
    return read_file_bytes(path);
}

} // namespace

std::string merge_event_logs(const std::string& base, const std::string& ours,
                             const std::string& theirs, const std::array<std::string, 3>& labels) {
    // Every side is read before any is merged, so a bad line anywhere is reported before a
    // conflict, as in 3.1.1.
    std::array<std::vector<Json>, 3> sides{parse_event_log(base, labels[0]),
                                           parse_event_log(ours, labels[1]),
                                           parse_event_log(theirs, labels[2])};
    std::map<std::string, Json> merged;
    for (std::vector<Json>& side : sides) {
        for (Json& event : side) {
            std::string id = event["event_id"].get<std::string>();
            const auto it = merged.find(id);
            if (it != merged.end() && !python_equal(it->second, event)) {
                throw Error(Exit::check_failed, "EVENT_LOG_CONFLICT",
                            "Conflicting payloads found for event_id " + python_repr(id),
                            "two branches recorded different events under one event_id; "
                            "keep one of them in the file by hand, then commit the merge");
            }
            // The last side wins, as in 3.1.1 (equal payloads may differ in spelling).
            merged.insert_or_assign(std::move(id), std::move(event));
        }
    }
    std::vector<const Json*> ordered;
    ordered.reserve(merged.size());
    for (const auto& [id, event] : merged) {
        ordered.push_back(&event);
    }
    // Ids are unique, so (at, event_id) orders totally; std::map already sorted by id.
    std::stable_sort(ordered.begin(), ordered.end(), [](const Json* a, const Json* b) {
        return a->at("at").get_ref<const std::string&>() <
               b->at("at").get_ref<const std::string&>();
    });
    std::string out;
    for (const Json* event : ordered) {
        out += dump_python(*event, {.sort_keys = true});
        out += '\n';
    }
    return out;
}

Outcome event_log_driver_command(const fs::path& base_path, const fs::path& ours_path,
                                 const fs::path& theirs_path) {
    const std::string merged =
        merge_event_logs(read_side(base_path), read_side(ours_path), read_side(theirs_path),
                         {base_path.string(), ours_path.string(), theirs_path.string()});
    write_file_atomic(ours_path, merged);
    const auto events = static_cast<int>(std::count(merged.begin(), merged.end(), '\n'));
    // Git shows whatever a driver prints, so success says nothing in text.
    return Outcome::success({{"path", ours_path.string()}, {"events", events}}, "");
}

void register_kitty_merge_drivers() {
    register_merge_driver(std::string(kEventLogMergeDriver),
                          [](const std::string& base, const std::string& ours,
                             const std::string& theirs) -> std::optional<std::string> {
                              return merge_event_logs(base, ours, theirs);
                          });
    // The mission files of kitty-specs/<mission>/, whatever .gitattributes says of them.
    register_default_merge_driver([](const std::string& path, const std::string& base,
                                     const std::string& ours,
                                     const std::string& theirs) -> PathMerge {
        const std::filesystem::path p(path);
        const auto parts = std::distance(p.begin(), p.end());
        if (!path.starts_with("kitty-specs/") || parts < 3) {
            return {};
        }
        const std::string name = p.filename().string();
        if (parts == 3 && name == "status.events.jsonl") {
            return {true, merge_event_logs(base, ours, theirs)};
        }
        if (parts == 3 && name == "tasks.md") {
            return {true, merge_tasks_md(base, ours, theirs)};
        }
        if (parts == 4 && p.parent_path().filename() == "tasks" && wp_id_from_filename(name)) {
            return {true, merge_wp_files(base, ours, theirs)};
        }
        return {};
    });
}

} // namespace kitty
