#include "loop_model.hpp"

#include "kitty/liveness.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <span>
#include <unordered_map>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/file_descriptor.hpp"
#include "kitty/glob.hpp"
#include "kitty/json.hpp"
#include "kitty/project.hpp"
#include "kitty/regex.hpp"
#include "kitty/templates.hpp"
#include "kitty/text.hpp"
#include "kitty/ulid.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "lane_sync.hpp"

namespace fs = std::filesystem;

namespace kitty::loop {

namespace {

constexpr std::string_view kFrontmatterCacheHeader = "kitty wp-frontmatter cache 4\n";

// A field with '%' and every byte below 0x20 written as %XX: no field holds a tab, a newline
// or the list separator (0x1f).
void append_field(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || c == '%') {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        } else {
            out += c;
        }
    }
}

std::optional<std::string> decode_field(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        unsigned value = 0;
        if (text.size() - i < 3 ||
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr !=
                text.data() + i + 3) {
            return std::nullopt;
        }
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

// A list as one field: each item after a 0x1f, so [] and [""] differ.
void append_list(std::string& out, const std::vector<std::string>& items) {
    for (const std::string& item : items) {
        out += '\x1f';
        append_field(out, item);
    }
}

std::optional<std::vector<std::string>> decode_list(std::string_view text) {
    std::vector<std::string> items;
    if (text.empty()) {
        return items;
    }
    if (text.front() != '\x1f') {
        return std::nullopt;
    }
    text.remove_prefix(1);
    for (;;) {
        const std::size_t end = text.find('\x1f');
        auto item = decode_field(text.substr(0, end));
        if (!item) {
            return std::nullopt;
        }
        items.push_back(std::move(*item));
        if (end == std::string_view::npos) {
            return items;
        }
        text.remove_prefix(end + 1);
    }
}

// Each text as a field after a tab.
void append_fields(std::string& out, std::initializer_list<const std::string*> texts) {
    for (const std::string* text : texts) {
        out += '\t';
        append_field(out, *text);
    }
}

// The lines of a cache text after its version line: none when the text is of another
// version, and never a last line without its newline (a text cut short).
class CacheLines {
public:
    CacheLines(std::string_view text, std::string_view header)
        : rest_(text.starts_with(header) ? text.substr(header.size()) : std::string_view()) {}
    // The next line before the closing "end" line: nullopt at "end", and when the text stops
    // first. whole() then tells the two apart: "end" was read and nothing follows it.
    std::optional<std::string_view> body_line() {
        const auto line = next();
        if (line && *line == "end") {
            ended_ = true;
            return std::nullopt;
        }
        return line;
    }
    bool whole() const { return ended_ && rest_.empty(); }
    std::optional<std::string_view> next() {
        const std::size_t end = rest_.find('\n');
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view line = rest_.substr(0, end);
        rest_.remove_prefix(end + 1);
        return line;
    }

private:
    std::string_view rest_;
    bool ended_ = false;
};

// The tab-separated fields of a line; nullopt unless there are exactly `count`.
template <std::size_t count>
std::optional<std::array<std::string_view, count>> split_fields(std::string_view line) {
    std::array<std::string_view, count> f;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t tab = line.find('\t');
        if ((tab == std::string_view::npos) != (i + 1 == count)) {
            return std::nullopt;
        }
        f[i] = line.substr(0, tab);
        line.remove_prefix(tab == std::string_view::npos ? line.size() : tab + 1);
    }
    return f;
}

// An optional text as one field: "-" for none, "=" and the text for one.
void append_optional(std::string& out, const std::optional<std::string>& text) {
    if (!text) {
        out += '-';
        return;
    }
    out += '=';
    append_field(out, *text);
}

bool decode_optional(std::string_view field, std::optional<std::string>& out) {
    if (field == "-") {
        out.reset();
        return true;
    }
    if (!field.starts_with('=')) {
        return false;
    }
    auto text = decode_field(field.substr(1));
    if (!text) {
        return false;
    }
    out = std::move(*text);
    return true;
}

// Decodes `fields` into `out`, in order; false at the first that does not decode.
bool decode_fields(std::span<const std::string_view> fields,
                   std::initializer_list<std::string*> out) {
    std::size_t i = 0;
    for (std::string* text : out) {
        auto value = decode_field(fields[i++]);
        if (!value) {
            return false;
        }
        *text = std::move(*value);
    }
    return true;
}

// Decodes list fields into `out`, in order; false at the first that does not decode.
bool decode_lists(std::span<const std::string_view> fields,
                  std::initializer_list<std::vector<std::string>*> out) {
    std::size_t i = 0;
    for (std::vector<std::string>* list : out) {
        auto value = decode_list(fields[i++]);
        if (!value) {
            return false;
        }
        *list = std::move(*value);
    }
    return true;
}

// A whole field as a number of `value`'s type, in its range.
template <typename Number> bool read_number(std::string_view text, Number& value) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

std::optional<FrontmatterCacheEntry> read_entry(std::string_view line) {
    const auto f = split_fields<10>(line);
    FrontmatterCacheEntry e;
    LoopWp::Frontmatter& front = e.front;
    if (!f || !decode_fields(*f, {&e.name}) || !read_number((*f)[1], e.size) ||
        !read_number((*f)[2], e.mtime_ns) || !read_number((*f)[3], e.ino) ||
        ((*f)[4] != "0" && (*f)[4] != "1") ||
        !decode_fields(std::span(*f).subspan(5), {&front.agent, &front.shell_pid}) ||
        !decode_lists(std::span(*f).subspan(7), {&front.dependencies, &front.owned_files}) ||
        !decode_fields(std::span(*f).subspan(9), {&e.unsettled})) {
        return std::nullopt;
    }
    front.planning_artifact = (*f)[4] == "1";
    return e;
}

} // namespace

std::string format_frontmatter_cache(const std::vector<FrontmatterCacheEntry>& entries) {
    std::string out(kFrontmatterCacheHeader);
    for (const FrontmatterCacheEntry& e : entries) {
        append_field(out, e.name);
        out += '\t' + std::to_string(e.size) + '\t' + std::to_string(e.mtime_ns) + '\t' +
               std::to_string(e.ino) + '\t' + (e.front.planning_artifact ? '1' : '0');
        append_fields(out, {&e.front.agent, &e.front.shell_pid});
        out += '\t';
        append_list(out, e.front.dependencies);
        out += '\t';
        append_list(out, e.front.owned_files);
        append_fields(out, {&e.unsettled});
        out += '\n';
    }
    return out;
}

std::vector<FrontmatterCacheEntry> parse_frontmatter_cache(std::string_view text) {
    std::vector<FrontmatterCacheEntry> entries;
    CacheLines lines(text, kFrontmatterCacheHeader);
    while (const auto line = lines.next()) {
        if (auto e = read_entry(*line)) {
            entries.push_back(std::move(*e));
        }
    }
    return entries;
}

namespace {

constexpr std::string_view kLanesCacheHeader = "kitty lanes cache 1\n";

} // namespace

std::string format_lanes_cache(const LanesCacheEntry& entry) {
    const LanesManifest& m = entry.manifest;
    std::string out(kLanesCacheHeader);
    out += std::to_string(entry.size) + '\t' + std::to_string(entry.mtime_ns) + '\t' +
           std::to_string(entry.ino) + '\t' + std::to_string(m.version) + '\t' +
           std::to_string(m.independent_wps_collapsed);
    append_fields(out, {&m.mission_slug, &m.mission_id, &m.mission_branch, &m.target_branch,
                        &m.computed_at, &m.computed_from});
    out += '\n';
    for (const Lane& lane : m.lanes) {
        out += "lane\t";
        append_field(out, lane.lane_id);
        out += '\t' + std::to_string(lane.parallel_group);
        for (const auto* list :
             {&lane.wp_ids, &lane.write_scope, &lane.predicted_surfaces, &lane.depends_on_lanes}) {
            out += '\t';
            append_list(out, *list);
        }
        out += '\n';
    }
    for (const CollapseEvent& e : m.events) {
        out += "event";
        append_fields(out, {&e.wp_a, &e.wp_b, &e.rule, &e.evidence});
        out += '\n';
    }
    out += "end\n";
    return out;
}

std::optional<LanesCacheEntry> parse_lanes_cache(std::string_view text) {
    CacheLines lines(text, kLanesCacheHeader);
    LanesCacheEntry entry;
    LanesManifest& m = entry.manifest;
    const auto first = lines.next();
    const auto head = first ? split_fields<11>(*first) : std::nullopt;
    if (!head || !read_number((*head)[0], entry.size) || !read_number((*head)[1], entry.mtime_ns) ||
        !read_number((*head)[2], entry.ino) || !read_number((*head)[3], m.version) ||
        !read_number((*head)[4], m.independent_wps_collapsed)) {
        return std::nullopt;
    }
    if (!decode_fields(std::span(*head).subspan(5),
                       {&m.mission_slug, &m.mission_id, &m.mission_branch, &m.target_branch,
                        &m.computed_at, &m.computed_from})) {
        return std::nullopt;
    }
    while (const auto line = lines.body_line()) {
        if (line->starts_with("lane\t")) {
            const auto f = split_fields<7>(*line);
            if (!f) {
                return std::nullopt;
            }
            Lane lane;
            if (!decode_fields(std::span(*f).subspan(1), {&lane.lane_id}) ||
                !read_number((*f)[2], lane.parallel_group) ||
                !decode_lists(std::span(*f).subspan(3),
                              {&lane.wp_ids, &lane.write_scope, &lane.predicted_surfaces,
                               &lane.depends_on_lanes})) {
                return std::nullopt;
            }
            m.lanes.push_back(std::move(lane));
        } else if (line->starts_with("event\t")) {
            const auto f = split_fields<5>(*line);
            if (!f) {
                return std::nullopt;
            }
            CollapseEvent e;
            if (!decode_fields(std::span(*f).subspan(1),
                               {&e.wp_a, &e.wp_b, &e.rule, &e.evidence})) {
                return std::nullopt;
            }
            m.events.push_back(std::move(e));
        } else {
            return std::nullopt;
        }
    }
    return lines.whole() ? std::optional(std::move(entry)) : std::nullopt;
}

namespace {

constexpr std::string_view kStatusCacheHeader = "kitty status cache 2\n";
constexpr std::string_view kTakeoverPrefix = "Taken over from ";

// What every event tells in log order: its id, its actor's place, a takeover, a
// review-cycle file.
void note_in_log_order(StatusDigest& d, const StatusEvent& e) {
    const std::int64_t index = d.count++;
    const std::uint64_t hash = event_id_hash(e.event_id);
    const auto at = std::lower_bound(d.id_hashes.begin(), d.id_hashes.end(), hash);
    if (at == d.id_hashes.end() || *at != hash) {
        d.id_hashes.insert(at, hash);
    }
    d.last_index[e.actor] = index;
    if (e.force && e.reason && e.reason->starts_with(kTakeoverPrefix)) {
        d.takeovers.push_back({index, e.wp_id, e.actor, e.at, *e.reason});
    }
    if (is_review_cycle_ref(e)) {
        d.review_cycle_refs[e.wp_id] = *e.review_ref;
    }
}

} // namespace

std::uint64_t event_id_hash(std::string_view id) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : id) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return hash;
}

StatusDigest digest_status(const std::vector<StatusEvent>& events) {
    StatusDigest d;
    d.status = reduce_status(events);
    std::unordered_map<std::string_view, const StatusEvent*> first;
    for (const StatusEvent& e : events) {
        first.emplace(e.event_id, &e);
    }
    for (const auto& [wp, st] : d.status.work_packages) {
        const StatusEvent* e = first.at(st.last_event_id);
        d.setters[wp] = {is_status_rollback(*e), e->review_ref};
    }
    for (const StatusEvent& e : events) {
        note_in_log_order(d, e);
    }
    return d;
}

bool extend_digest(StatusDigest& d, const std::vector<StatusEvent>& added) {
    for (const StatusEvent& e : added) {
        if (std::binary_search(d.id_hashes.begin(), d.id_hashes.end(), event_id_hash(e.event_id))) {
            return false; // perhaps a repeat: the whole log decides
        }
    }
    // No added event repeats an earlier one, then.
    const auto seen = [](const std::string&) { return false; };
    // Asked for the setter of a WP as it was before `added`: the WP whose event that is.
    const auto set_by_rollback = [&d](const std::string& id) {
        for (const auto& [wp, st] : d.status.work_packages) {
            if (st.last_event_id == id) {
                const auto it = d.setters.find(wp);
                return it != d.setters.end() && it->second.rollback;
            }
        }
        return false;
    };
    std::unordered_map<std::string_view, const StatusEvent*> fresh;
    for (const StatusEvent& e : added) {
        fresh.emplace(e.event_id, &e);
    }
    if (!extend_status_from(d.status, seen, set_by_rollback, added)) {
        return false;
    }
    for (const auto& [id, e] : fresh) {
        const auto it = d.status.work_packages.find(e->wp_id);
        if (it != d.status.work_packages.end() && it->second.last_event_id == id) {
            d.setters[e->wp_id] = {is_status_rollback(*e), e->review_ref};
        }
    }
    for (const StatusEvent& e : added) {
        note_in_log_order(d, e);
    }
    return true;
}

std::uint64_t event_log_hash(std::string_view bytes) {
    return std::hash<std::string_view>{}(bytes);
}

std::string format_status_cache(const StatusCacheEntry& entry) {
    const StatusDigest& d = entry.digest;
    const StatusSnapshot& s = d.status;
    std::string out(kStatusCacheHeader);
    out += std::to_string(entry.size) + '\t' + std::to_string(entry.hash) + '\t' +
           std::to_string(d.count) + '\t' + std::to_string(s.event_count) + '\t';
    append_field(out, s.mission_slug);
    out += '\t';
    append_field(out, s.materialized_at);
    out += '\t';
    append_optional(out, s.last_event_id);
    out += '\n';
    for (const auto& [wp, st] : s.work_packages) {
        const auto setter = d.setters.find(wp);
        out += "wp";
        append_fields(out, {&wp, &st.lane, &st.actor, &st.last_transition_at, &st.last_event_id});
        out += '\t' + std::to_string(st.force_count) + '\t';
        out += setter != d.setters.end() && setter->second.rollback ? '1' : '0';
        out += '\t';
        append_optional(out, setter != d.setters.end() ? setter->second.review_ref : std::nullopt);
        out += '\n';
    }
    for (const auto& [wp, ref] : d.review_cycle_refs) {
        out += "ref";
        append_fields(out, {&wp, &ref});
        out += '\n';
    }
    for (const auto& [actor, index] : d.last_index) {
        out += "act\t";
        append_field(out, actor);
        out += '\t' + std::to_string(index) + '\n';
    }
    for (const StatusDigest::TakeoverEvent& t : d.takeovers) {
        out += "take\t" + std::to_string(t.index);
        append_fields(out, {&t.wp_id, &t.actor, &t.at, &t.reason});
        out += '\n';
    }
    for (const std::uint64_t hash : d.id_hashes) {
        out += "id\t" + std::to_string(hash) + '\n';
    }
    out += "end\n";
    return out;
}

std::optional<StatusCacheEntry> parse_status_cache(std::string_view text) {
    CacheLines lines(text, kStatusCacheHeader);
    StatusCacheEntry entry;
    StatusDigest& d = entry.digest;
    StatusSnapshot& s = d.status;
    const auto first = lines.next();
    const auto head = first ? split_fields<7>(*first) : std::nullopt;
    if (!head || !read_number((*head)[0], entry.size) || !read_number((*head)[1], entry.hash) ||
        !read_number((*head)[2], d.count) || !read_number((*head)[3], s.event_count) ||
        !decode_fields(std::span(*head).subspan(4), {&s.mission_slug, &s.materialized_at}) ||
        !decode_optional((*head)[6], s.last_event_id)) {
        return std::nullopt;
    }
    for (const std::string_view lane : kStatusLanes) {
        s.summary[std::string(lane)] = 0;
    }
    while (const auto line = lines.body_line()) {
        const std::string_view tag = line->substr(0, line->find('\t'));
        if (tag == "wp") {
            const auto f = split_fields<9>(*line);
            std::string wp;
            WpStatus st;
            StatusDigest::Setter setter;
            if (!f ||
                !decode_fields(
                    std::span(*f).subspan(1),
                    {&wp, &st.lane, &st.actor, &st.last_transition_at, &st.last_event_id}) ||
                !read_number((*f)[6], st.force_count) || ((*f)[7] != "0" && (*f)[7] != "1") ||
                !decode_optional((*f)[8], setter.review_ref)) {
                return std::nullopt;
            }
            setter.rollback = (*f)[7] == "1";
            ++s.summary[st.lane];
            d.setters[wp] = std::move(setter);
            s.work_packages[std::move(wp)] = std::move(st);
        } else if (tag == "ref") {
            const auto f = split_fields<3>(*line);
            std::string wp;
            std::string ref;
            if (!f || !decode_fields(std::span(*f).subspan(1), {&wp, &ref})) {
                return std::nullopt;
            }
            d.review_cycle_refs[std::move(wp)] = std::move(ref);
        } else if (tag == "act") {
            const auto f = split_fields<3>(*line);
            std::string actor;
            std::int64_t index = 0;
            if (!f || !decode_fields(std::span(*f).subspan(1), {&actor}) ||
                !read_number((*f)[2], index)) {
                return std::nullopt;
            }
            d.last_index[std::move(actor)] = index;
        } else if (tag == "take") {
            const auto f = split_fields<6>(*line);
            StatusDigest::TakeoverEvent t;
            if (!f || !read_number((*f)[1], t.index) ||
                !decode_fields(std::span(*f).subspan(2), {&t.wp_id, &t.actor, &t.at, &t.reason})) {
                return std::nullopt;
            }
            d.takeovers.push_back(std::move(t));
        } else if (tag == "id") {
            const auto f = split_fields<2>(*line);
            std::uint64_t hash = 0;
            if (!f || !read_number((*f)[1], hash) ||
                (!d.id_hashes.empty() && hash <= d.id_hashes.back())) {
                return std::nullopt; // written sorted and unique
            }
            d.id_hashes.push_back(hash);
        } else {
            return std::nullopt;
        }
    }
    if (!lines.whole()) {
        return std::nullopt;
    }
    return entry;
}

namespace model_detail {

// A review claim: in_review, or 3.1.1's forced in_progress review claim.
bool is_review_claim(WpLane lane, const std::optional<std::string>& review_ref) {
    return lane == WpLane::in_review ||
           (lane == WpLane::in_progress && review_ref == "action-review-claim");
}

// The typed lane of a status entry; the event log's reader admits only the nine names.
WpLane status_lane(const std::string& name) {
    if (const auto lane = lane_of(name)) {
        return *lane;
    }
    throw Error(Exit::input, "INVALID_EVENT_LOG", "unknown lane '" + name + "' in the status",
                "fix or remove the event that names it");
}

// A derived, stat-keyed cache of the WP files' frontmatter, as git's index keys file
// contents: .kittify/runtime/cache/<slug>/wp-frontmatter.tsv. An entry is used only while
// the file's size, mtime and inode are those recorded, and it is recorded only when the file
// had not changed for longer than its file system's timestamp granularity when it was parsed
// (a later change within one timestamp tick could otherwise keep its stat, as git's "racily
// clean" entries). Deleting or corrupting the cache changes no answer.
//
// Nanosecond timestamps advance with the kernel's coarse clock (one tick, at most 10 ms at
// the lowest HZ), so twice that is waited; a whole-second mtime suggests a file system that
// keeps seconds (or two, as FAT does).
constexpr long long kFineSettledNs = 20'000'000;
constexpr long long kCoarseSettledNs = 2'000'000'000;
// The largest WP file an entry keeps the bytes of while it settles.
constexpr std::size_t kUnsettledBytesMax = 64 * 1024;

struct FileKey {
    long long size = 0, mtime_ns = 0, ino = 0;
    bool operator==(const FileKey&) const = default;
};

// The key of `name` in the directory open as `dir` (AT_FDCWD: `name` is a path): one
// lookup of a name instead of a path's every component, for the stat of every WP file.
std::optional<FileKey> key_at(int dir, const char* name) {
    struct stat st {};
    if (::fstatat(dir, name, &st, 0) != 0) {
        return std::nullopt;
    }
    return FileKey{static_cast<long long>(st.st_size),
                   static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec,
                   static_cast<long long>(st.st_ino)};
}

std::optional<FileKey> key_of(const fs::path& file) {
    return key_at(AT_FDCWD, file.c_str());
}

long long now_ns() {
    struct timespec t {};
    ::clock_gettime(CLOCK_REALTIME, &t);
    return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec;
}

// Whether a file parsed after `started` had its stat `key` for longer than a timestamp tick
// of its file system then, and still has it.
bool settled(const fs::path& file, const FileKey& key, long long started) {
    const long long tick = key.mtime_ns % 1'000'000'000 == 0 ? kCoarseSettledNs : kFineSettledNs;
    return key.mtime_ns + tick < started && key_of(file) == key;
}

fs::path cache_file(const Mission& m, std::string_view name) {
    return m.project_root() / ".kittify/runtime/cache" / m.slug() / name;
}

// The text of the mission's cache file `name`, if there is one to read.
std::optional<std::string> read_cache(const Mission& m, std::string_view name) {
    if (!m.root()) {
        return std::nullopt;
    }
    const fs::path file = cache_file(m, name);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        return std::nullopt;
    }
    try {
        return read_file_bytes(file);
    } catch (const Error&) {
        return std::nullopt; // derived: made again from the files themselves
    }
}

void write_cache(const Mission& m, std::string_view name, const std::string& text) {
    if (!m.root()) {
        return;
    }
    const fs::path file = cache_file(m, name);
    try {
        std::error_code ec;
        fs::create_directories(m.writable(file.parent_path()), ec);
        write_derived_file(m.writable(file), text);
    } catch (const Error&) {
        // a cache that cannot be written is only slower
    }
}

// Fills the frontmatter of the WPs the cache knows as they are; parses the others (a bad
// file is left to be reported where it is needed) and saves the cache when it learned any.
// A file that has not settled is recorded with its bytes, and its entry is used while the
// file holds them: agents that call back to back would otherwise parse the files the last
// calls wrote again and again.
void use_frontmatter_cache(LoopState& state) {
    const Mission& m = state.mission;
    if (!m.root()) {
        return;
    }
    std::vector<FrontmatterCacheEntry> entries;
    if (const auto text = read_cache(m, "wp-frontmatter.tsv")) {
        entries = parse_frontmatter_cache(*text);
    }
    std::map<std::string_view, FrontmatterCacheEntry*> cached;
    for (FrontmatterCacheEntry& e : entries) {
        cached.emplace(e.name, &e);
    }
    const long long started = now_ns();
    const FileDescriptor tasks(::open(m.tasks_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::vector<FrontmatterCacheEntry> fresh;
    bool changed = false; // an entry fresh has that the cache has not, as it is
    for (LoopWp& wp : state.wps) {
        // The WPs are the files of the tasks directory (read_loop_state lists them).
        const auto key = tasks ? key_at(tasks.get(), wp.file_name.c_str()) : key_of(wp.file_path);
        if (!key) {
            continue;
        }
        const auto found = cached.find(wp.file_name);
        FrontmatterCacheEntry* old = found == cached.end() ? nullptr : found->second;
        if (old && old->unsettled.empty() && old->size == key->size &&
            old->mtime_ns == key->mtime_ns && old->ino == key->ino) {
            wp.set_frontmatter(old->front);
            fresh.push_back(std::move(*old));
            continue;
        }
        FrontmatterCacheEntry e{wp.file_name, key->size, key->mtime_ns, key->ino, {}, {}};
        bool keep = true;
        try {
            std::string bytes = read_file_bytes(wp.file_path);
            const bool same = old && !old->unsettled.empty() && old->unsettled == bytes;
            e.front = same ? old->front : LoopWp::frontmatter_of(parse_wp_file(bytes, wp.file()));
            if (!settled(wp.file_path, *key, started)) {
                // Its bytes vouch for it instead: an empty file has none, and a large one is
                // parsed again rather than copied into the cache.
                keep = !bytes.empty() && bytes.size() <= kUnsettledBytesMax;
                e.unsettled = std::move(bytes);
            }
        } catch (const std::exception&) {
            continue;
        }
        wp.set_frontmatter(e.front);
        if (keep) {
            changed = changed || !old || e != *old;
            fresh.push_back(std::move(e));
        }
    }
    // An entry left out (gone, unreadable, not kept) makes fresh shorter than the cache.
    if (!changed && fresh.size() == entries.size()) {
        return;
    }
    write_cache(m, "wp-frontmatter.tsv", format_frontmatter_cache(fresh));
}

// lanes.json as read_valid_lanes reads it, from a derived cache keyed and recorded as the
// frontmatter cache is (.kittify/runtime/cache/<slug>/lanes.tsv): a JSON parse of lanes.json
// was a twelfth of a `next` on 100 WPs. A lanes.json with errors is never recorded.
LanesManifest read_lanes_cached(const Mission& m) {
    const fs::path lanes_json = m.lanes_json();
    const auto key = key_of(lanes_json);
    if (!m.root() || !key) {
        return read_valid_lanes(lanes_json);
    }
    if (const auto text = read_cache(m, "lanes.tsv")) {
        if (auto e = parse_lanes_cache(*text);
            e && e->size == key->size && e->mtime_ns == key->mtime_ns && e->ino == key->ino) {
            return std::move(e->manifest);
        }
    }
    const long long started = now_ns();
    LanesManifest manifest = read_valid_lanes(lanes_json);
    if (settled(lanes_json, *key, started)) {
        write_cache(m, "lanes.tsv",
                    format_lanes_cache({key->size, key->mtime_ns, key->ino, manifest}));
    }
    return manifest;
}

} // namespace model_detail

namespace {

constexpr std::string_view kForecastCacheHeader = "kitty forecast cache 1\n";

} // namespace

std::string format_forecast_cache(const ForecastCacheEntry& entry) {
    std::string out(kForecastCacheHeader);
    out += "key";
    append_fields(out, {&entry.key});
    out += '\n';
    if (entry.conflict) {
        out += "conflict";
        append_fields(
            out, {&entry.lane_id, &entry.other_branch, &entry.other_commit, &entry.stop_lane_id});
        out += '\n';
        for (const MergeConflict& c : entry.conflicts) {
            out += "path\t" + std::to_string(static_cast<int>(c.kind));
            append_fields(out, {&c.path});
            out += '\n';
        }
    } else {
        out += "clean\n";
    }
    out += "end\n";
    return out;
}

std::optional<ForecastCacheEntry> parse_forecast_cache(std::string_view text) {
    CacheLines lines(text, kForecastCacheHeader);
    ForecastCacheEntry entry;
    const auto first = lines.next();
    const auto key = first ? split_fields<2>(*first) : std::nullopt;
    if (!key || (*key)[0] != "key" || !decode_fields(std::span(*key).subspan(1), {&entry.key})) {
        return std::nullopt;
    }
    const auto verdict = lines.next();
    if (!verdict) {
        return std::nullopt;
    }
    if (*verdict != "clean") {
        const auto f = split_fields<5>(*verdict);
        if (!f || (*f)[0] != "conflict" ||
            !decode_fields(std::span(*f).subspan(1), {&entry.lane_id, &entry.other_branch,
                                                      &entry.other_commit, &entry.stop_lane_id})) {
            return std::nullopt;
        }
        entry.conflict = true;
    }
    while (const auto line = lines.body_line()) {
        const auto f = split_fields<3>(*line);
        int kind = 0;
        MergeConflict c;
        if (!entry.conflict || !f || (*f)[0] != "path" || !read_number((*f)[1], kind) || kind < 0 ||
            kind > static_cast<int>(MergeConflict::Kind::rename) ||
            !decode_fields(std::span(*f).subspan(2), {&c.path})) {
            return std::nullopt;
        }
        c.kind = static_cast<MergeConflict::Kind>(kind);
        entry.conflicts.push_back(std::move(c));
    }
    return lines.whole() ? std::optional(std::move(entry)) : std::nullopt;
}

std::optional<ForecastCacheEntry> read_forecast_cache(const Mission& mission) {
    const auto text = model_detail::read_cache(mission, "forecast.tsv");
    return text ? parse_forecast_cache(*text) : std::nullopt;
}

void write_forecast_cache(const Mission& mission, const ForecastCacheEntry& entry) {
    model_detail::write_cache(mission, "forecast.tsv", format_forecast_cache(entry));
}

std::string LoopWp::holder() const {
    if (!kHeldLanes.contains(lane)) {
        return "";
    }
    return wp_holder(lane_name(lane), actor, agent());
}

LoopWp::Frontmatter LoopWp::frontmatter_of(const WpFrontmatter& parsed) {
    return Frontmatter{parsed.dependencies(), parsed.list_field("owned_files"),
                       parsed.string_field("agent").value_or(""),
                       parsed.string_field("execution_mode") == "planning_artifact",
                       parsed.scalar_text("shell_pid")};
}

const LoopWp::Frontmatter& LoopWp::front() const {
    if (!front_) {
        front_ = frontmatter_of(read_wp_file(file()));
    }
    return *front_;
}

LoopWp* LoopState::find(const std::string& wp_id) {
    for (LoopWp& wp : wps) {
        if (wp.id == wp_id) {
            return &wp;
        }
    }
    return nullptr;
}

LoopWp& LoopState::get(const std::string& argument) {
    const std::string id = normalize_wp_id(argument);
    LoopWp* wp = find(id);
    if (!wp) {
        throw Error(Exit::input, "UNKNOWN_WP", id + " is not a work package of " + mission.slug(),
                    "check the id against " + mission.tasks_dir().string() + "/WP*.md");
    }
    return *wp;
}

std::vector<std::string> LoopState::unmet_dependencies(const LoopWp& wp) const {
    std::vector<std::string> unmet;
    for (const std::string& dep : wp.dependencies()) {
        const auto it =
            std::find_if(wps.begin(), wps.end(), [&](const LoopWp& w) { return w.id == dep; });
        if (it == wps.end() || !kApprovedLanes.contains(it->lane)) {
            unmet.push_back(dep);
        }
    }
    return unmet;
}

const LoopWp* LoopState::lane_held_by_other(const LoopWp& wp, const std::string& agent) const {
    return wp.lane_id.empty() ? nullptr : lane_holder(wp.lane_id, agent, wp.id);
}

const LoopWp* LoopState::lane_holder(const std::string& lane_id, const std::string& agent,
                                     const std::string& except) const {
    for (const LoopWp& other : wps) {
        if (other.id != except && other.lane_id == lane_id && !other.review_claim &&
            kImplementingLanes.contains(other.lane) && (agent.empty() || other.holder() != agent)) {
            return &other;
        }
    }
    return nullptr;
}

const LanesManifest& LoopState::require_lanes() const {
    if (!lanes) {
        throw Error(Exit::input, "MISSING_LANES", mission.lanes_json().string() + " does not exist",
                    "finalize the mission's tasks first: spec-kitty agent mission finalize-tasks "
                    "--mission " +
                        mission.slug())
            .at(mission.lanes_json());
    }
    return *lanes;
}

Mission open_loop_mission(const LoopTarget& target) {
    Mission m = open_target_mission(target.mission, target.start_dir);
    m.project_root();
    return m;
}

LockedState read_locked_state(const LoopTarget& target) {
    Mission mission = open_loop_mission(target);
    FileLock lock = mission.lock_status();
    return {std::move(lock), read_loop_state(std::move(mission))};
}

Repository& loop_repository(const Mission& mission) {
    Repository* repo = mission.repository();
    if (!repo) {
        throw Error(Exit::input, "NOT_A_GIT_REPOSITORY",
                    "the project " + mission.project_root().string() + " is not a git repository",
                    "the agent loop works in git worktrees: run git init and commit the project");
    }
    return *repo;
}

const std::vector<StatusEvent>& LoopState::events() const {
    if (!parsed_events) {
        parsed_events.emplace();
        parse_status_lines(log_bytes, mission.events_log(), 0, *parsed_events);
    }
    return *parsed_events;
}

namespace model_detail {

// Each WP's lane, actor, time and claim, as the digest has them.
void apply_digest(LoopState& state) {
    const StatusDigest& d = state.digest;
    for (LoopWp& wp : state.wps) {
        const auto it = d.status.work_packages.find(wp.id);
        wp.has_events = it != d.status.work_packages.end();
        wp.lane = wp.has_events ? status_lane(it->second.lane) : WpLane::planned;
        wp.actor = wp.has_events ? it->second.actor : "";
        wp.since = wp.has_events ? it->second.last_transition_at : "";
        const auto setter = d.setters.find(wp.id);
        wp.review_claim = is_review_claim(
            wp.lane, setter != d.setters.end() ? setter->second.review_ref : std::nullopt);
    }
}

// The cached digest of a prefix of `log` (the whole text the log has now), when the cache
// has one whose size and hash are those of that prefix.
std::optional<StatusCacheEntry> cached_digest(const Mission& m, std::string_view log) {
    const auto text = read_cache(m, "status.tsv");
    auto entry = text ? parse_status_cache(*text) : std::nullopt;
    if (entry && entry->size <= log.size() && (entry->size == 0 || log[entry->size - 1] == '\n') &&
        event_log_hash(log.substr(0, entry->size)) == entry->hash) {
        return entry;
    }
    return std::nullopt;
}

// Events parsed past the cached prefix before the cache is written again: a call parses a
// short tail, and most calls write nothing.
constexpr std::size_t kStatusCacheSlack = 32;

} // namespace model_detail

void refresh_status(LoopState& state) {
    const Mission& m = state.mission;
    const fs::path log = m.events_log();
    if (state.status_read && file_holds(log, state.log_bytes)) {
        state.log_exists = true;
        return; // the log as it was at the last read (it is compared, not copied)
    }
    std::error_code ec;
    state.log_exists = fs::exists(log, ec);
    std::string text = state.log_exists ? read_event_log_text(log) : std::string();
    if (state.status_read && text == state.log_bytes) {
        return; // the log as it was at the last read: the WPs are up to date
    }
    // Appended to since this process read it: only the new lines are digested. Otherwise
    // from the cached digest of a prefix of the log, or from no event.
    std::size_t from = 0;
    bool cached = false;
    if (state.status_read && !state.log_bytes.empty() && state.log_bytes.back() == '\n' &&
        text.starts_with(state.log_bytes)) {
        from = state.log_bytes.size();
    } else if (auto entry = model_detail::cached_digest(m, text)) {
        state.digest = std::move(entry->digest);
        from = entry->size;
        cached = true;
    } else {
        state.digest = digest_status({});
    }
    std::vector<StatusEvent> tail;
    const std::string_view rest = std::string_view(text).substr(from);
    parse_status_lines(
        rest, log,
        static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(from), '\n')),
        tail);
    bool whole = false;
    if (!extend_digest(state.digest, tail)) {
        // An event sorts among the earlier ones: the whole log is reduced again.
        std::vector<StatusEvent> all;
        parse_status_lines(text, log, 0, all);
        state.digest = digest_status(all);
        whole = true;
    }
    state.log_bytes = std::move(text);
    state.parsed_events.reset();
    state.status_read = true;
    if (whole || (from == 0 && !tail.empty()) ||
        (cached && tail.size() >= model_detail::kStatusCacheSlack)) {
        model_detail::write_cache(
            m, "status.tsv",
            format_status_cache(
                {state.log_bytes.size(), event_log_hash(state.log_bytes), state.digest}));
    }
    model_detail::apply_digest(state);
}

void read_holder_liveness(LoopState& state, const std::string& agent) {
    const Mission& m = state.mission;
    const std::int64_t lease = state.lease_seconds;
    const std::int64_t now = now_utc().seconds;
    for (LoopWp& wp : state.wps) {
        const std::string holder = wp.holder();
        if (holder.empty() || holder == agent) {
            continue;
        }
        UtcTime at;
        const std::int64_t age = parse_iso_timestamp(wp.since, at, IsoForms::python)
                                     ? std::max<std::int64_t>(0, now - at.seconds)
                                     : -1;
        const HolderSigns signs = holder_signs(m, holder, wp.shell_pid(), age);
        wp.liveness = classify_holder(signs, lease);
        for (const std::int64_t sign : {signs.heartbeat_age, signs.state_age}) {
            if (sign >= 0 && (wp.silent_seconds < 0 || sign < wp.silent_seconds)) {
                wp.silent_seconds = sign;
            }
        }
        if (wp.liveness == Liveness::stale && !wp.planning()) {
            const fs::path worktree = workspace_of(state, wp).path;
            std::error_code ec;
            if (fs::is_directory(worktree, ec)) {
                const auto repo = Repository::discover(worktree);
                wp.worktree_dirty = repo && !repo->changed_paths().empty();
            }
        }
    }
}

std::string takeover_reason(const std::string& from, std::int64_t silent_seconds,
                            std::int64_t lease_seconds) {
    return std::string(kTakeoverPrefix) + from + ": no sign of life for " +
           std::to_string(silent_seconds / 60) + " min (lease " +
           std::to_string(lease_seconds / 60) + " min)";
}

std::vector<Takeover> unseen_takeovers(const StatusDigest& digest, const std::string& from) {
    // Those since its latest event: it has been told of earlier ones, or learnt otherwise.
    const std::string prefix = std::string(kTakeoverPrefix) + from + ":";
    const auto acted = digest.last_index.find(from);
    const std::int64_t since = acted == digest.last_index.end() ? -1 : acted->second;
    std::vector<Takeover> out;
    for (const StatusDigest::TakeoverEvent& t : digest.takeovers) {
        if (t.index > since && t.reason.starts_with(prefix)) {
            out.push_back({t.wp_id, t.actor, t.at});
        }
    }
    return out;
}

std::vector<Finding> record_events(LoopState& state, const std::vector<StatusEvent>& events) {
    if (!extend_digest(state.digest, events)) {
        std::vector<StatusEvent> all = state.events();
        all.insert(all.end(), events.begin(), events.end());
        state.digest = digest_status(all);
    }
    std::vector<Finding> findings =
        record_status_events(state.mission, state.digest.status, events, &state.unsynced);
    for (const StatusEvent& e : events) {
        // Read under the lock and appended to by us alone: the file is now these bytes.
        state.log_bytes += e.line();
    }
    state.parsed_events.reset();
    model_detail::apply_digest(state);
    return findings;
}

LoopState read_loop_state(Mission mission) {
    LoopState state{std::move(mission), {}, false, digest_status({}), false, {}, std::nullopt};
    const Mission& m = state.mission;
    std::error_code ec;
    if (fs::exists(m.lanes_json(), ec)) {
        state.lanes = model_detail::read_lanes_cached(m);
    }
    const std::string tasks_dir = m.tasks_dir().native() + "/";
    for (std::string& name : list_wp_names(m.tasks_dir())) {
        const auto id = wp_id_from_filename(name);
        if (!id) {
            continue;
        }
        LoopWp wp;
        wp.id = *id;
        wp.file_path = tasks_dir + name;
        wp.file_name = std::move(name);
        if (state.lanes) {
            if (const Lane* lane = state.lanes->lane_for_wp(wp.id)) {
                wp.lane_id = lane->lane_id;
                wp.in_planning_lane = lane->is_planning();
            }
        }
        state.wps.push_back(std::move(wp));
    }
    model_detail::use_frontmatter_cache(state);
    refresh_status(state);
    return state;
}

std::string normalize_wp_id(const std::string& text) {
    const auto digits = [](std::string_view s) { return !s.empty() && all_ascii_digits(s); };
    // The usual spellings (WP01, wp01, 1) without compiling the patterns.
    if (digits(text)) {
        return "WP" + text;
    }
    if (text.size() > 2 && (text[0] == 'W' || text[0] == 'w') &&
        (text[1] == 'P' || text[1] == 'p') && digits(std::string_view(text).substr(2))) {
        return "WP" + text.substr(2);
    }
    static const Regex pattern(R"((?i)^WP(\d+)(?:[-_.].*)?$)");
    std::string number;
    if (RE2::FullMatch(text, pattern, &number)) {
        return "WP" + number;
    }
    throw Error(Exit::input, "UNKNOWN_WP", "'" + text + "' is not a work package id",
                "name it as WP01 (wp01, WP01-title and 1 are read as WP01 / WP1)");
}

const std::string& checked_agent(const std::string& agent) {
    // ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$, checked by hand: every loop call checks a name.
    const bool valid = !agent.empty() && agent.size() <= 64 && is_ascii_alnum(agent[0]) &&
                       std::all_of(agent.begin() + 1, agent.end(), [](char c) {
                           return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-';
                       });
    if (!valid) {
        throw Error(Exit::usage, "BAD_AGENT",
                    agent.empty() ? "--agent is required" : "bad agent name '" + agent + "'",
                    "name the agent with letters, digits, '.', '_' or '-', e.g. --agent claude");
    }
    return agent;
}

StatusEvent make_event(const Mission& mission, const std::string& wp, WpLane from, WpLane to,
                       const std::string& actor) {
    StatusEvent e;
    e.actor = actor;
    e.at = python_isoformat(now_utc());
    e.event_id = mint_ulid().str();
    e.from_lane = lane_name(from);
    e.to_lane = lane_name(to);
    e.mission_slug = mission.slug();
    e.wp_id = wp;
    return e;
}

namespace model_detail {

// The index of the frontmatter's closing "---" line, or npos.
std::size_t frontmatter_end(const std::vector<std::string>& lines) {
    if (lines.empty() || lines[0] != "---") {
        return std::string::npos;
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (lines[i] == "---") {
            return i;
        }
    }
    return std::string::npos;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        lines.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
        pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) {
        out += l + "\n";
    }
    return out;
}

} // namespace model_detail

std::string set_frontmatter_scalar(const std::string& text, const std::string& key,
                                   const std::string& value) {
    auto lines = model_detail::split_lines(normalize_newlines(text));
    const std::size_t end = model_detail::frontmatter_end(lines);
    if (end == std::string::npos) {
        throw Error(Exit::input, "NO_FRONTMATTER", "the WP file has no frontmatter",
                    "start it with a --- line and close the frontmatter with another");
    }
    const std::string line = key + ": \"" + value + "\"";
    std::size_t insert_at = end;
    for (std::size_t i = 1; i < end; ++i) {
        if (lines[i].starts_with(key + ":")) {
            lines[i] = line;
            return model_detail::join_lines(lines);
        }
        if (lines[i].starts_with("history:") && insert_at == end) {
            insert_at = i;
        }
    }
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(insert_at), line);
    return model_detail::join_lines(lines);
}

std::string append_activity(const std::string& text, const std::string& agent,
                            const std::string& shell_pid, const std::string& note) {
    std::string flat = note;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    const std::string entry = "- " + iso_seconds_z(now_utc()) + " \u2013 " + agent + " \u2013 " +
                              (shell_pid.empty() ? "" : "shell_pid=" + shell_pid + " \u2013 ") +
                              flat;
    auto lines = model_detail::split_lines(normalize_newlines(text));
    const std::size_t body = model_detail::frontmatter_end(lines);
    std::size_t heading = std::string::npos;
    for (std::size_t i = body == std::string::npos ? 0 : body + 1; i < lines.size(); ++i) {
        if (py_strip(lines[i]) == "## Activity Log") {
            heading = i;
            break;
        }
    }
    if (heading == std::string::npos) {
        while (!lines.empty() && py_strip(lines.back()).empty()) {
            lines.pop_back();
        }
        lines.insert(lines.end(), {"", "## Activity Log", "", entry});
        return model_detail::join_lines(lines);
    }
    std::size_t end = lines.size();
    for (std::size_t i = heading + 1; i < lines.size(); ++i) {
        if (lines[i].starts_with("## ")) {
            end = i;
            break;
        }
    }
    std::size_t at = end;
    while (at > heading + 1 && py_strip(lines[at - 1]).empty()) {
        --at;
    }
    if (at == heading + 1) {
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), "");
        ++at;
    }
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), entry);
    return model_detail::join_lines(lines);
}

Workspace workspace_of(const LoopState& state, const LoopWp& wp) {
    Workspace ws;
    const Mission& m = state.mission;
    const Lane* lane = state.lanes ? state.lanes->lane_for_wp(wp.id) : nullptr;
    if (wp.planning()) {
        ws.planning = true;
        ws.path = m.project_root();
        ws.lane_id = lane ? lane->lane_id : std::string(kPlanningLaneId);
        if (lane) {
            ws.lane_wp_ids = lane->wp_ids;
        }
        return ws;
    }
    if (!lane) {
        throw Error(Exit::input, state.lanes ? "WP_NOT_IN_LANES" : "MISSING_LANES",
                    state.lanes ? wp.id + " is in no lane of " + m.lanes_json().string()
                                : "no lanes.json in " + m.dir().string(),
                    "run spec-kitty agent mission finalize-tasks --mission " + m.slug())
            .at(m.lanes_json());
    }
    ws.lane_id = lane->lane_id;
    ws.path = m.worktree_path(lane->lane_id);
    ws.branch = lane_branch_name(m.slug(), *lane, state.lanes->target_branch);
    ws.lane_wp_ids = lane->wp_ids;
    return ws;
}

fs::path context_file(const Mission& mission, const std::string& lane_id) {
    return mission.project_root() / ".kittify/workspaces" /
           (worktree_name(mission.slug(), lane_id) + ".json");
}

namespace model_detail {

Json context_document(const Mission& m, const LoopWp& wp, const Workspace& ws,
                      const std::string& base_branch, const std::string& base_commit) {
    Json lane_ids = Json::array();
    for (const std::string& id : ws.lane_wp_ids) {
        lane_ids.push_back(id);
    }
    return Json{{"wp_id", wp.id},
                {"mission_slug", m.slug()},
                {"worktree_path", ".worktrees/" + worktree_name(m.slug(), ws.lane_id)},
                {"branch_name", ws.branch},
                {"base_branch", base_branch},
                {"base_commit", base_commit},
                {"dependencies", wp.dependencies()},
                {"created_at", python_isoformat(now_utc())},
                {"created_by", "implement-command-lane"},
                {"vcs_backend", "git"},
                {"lane_id", ws.lane_id},
                {"lane_wp_ids", lane_ids},
                {"current_wp", wp.id}};
}

void write_context(const Mission& m, const std::string& lane_id, const Json& doc) {
    const fs::path file = m.writable(context_file(m, lane_id));
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    write_file_atomic(
        file, dump_python(doc, {.indent = 2, .ensure_ascii = true, .sort_keys = false}) + "\n");
}

} // namespace model_detail

namespace {

// The lane brought up to date before its next WP (decision 12): the branches merged in, none
// when it was up to date or the merge would conflict (the merge's forecast names that).
std::vector<std::string> sync_before_work(Repository& repo, const Mission& m,
                                          const LanesManifest& lanes, const LoopWp& wp) {
    const Lane* lane = lanes.lane_for_wp(wp.id);
    if (lane == nullptr) {
        return {};
    }
    try {
        const LaneSync s = sync_lane(repo, m, lanes, *lane);
        return s.result == LaneSync::Result::synced ? s.sources : std::vector<std::string>{};
    } catch (const Error& e) {
        if (e.code() != "CHECKOUT_CONFLICT" && e.code() != "BRANCH_MOVED") {
            throw;
        }
        return {}; // someone changed the lane meanwhile; it was left as they left it
    }
}

// The worktree git records under `name` or at `path`, if any.
std::optional<Worktree> listed_worktree(Repository& repo, const std::string& name,
                                        const fs::path& path) {
    std::error_code ec;
    for (const Worktree& w : repo.worktrees()) {
        if (w.name == name || fs::equivalent(w.path, path, ec)) {
            return w;
        }
    }
    return std::nullopt;
}

// The lane's worktree exists: it must be the lane's, on its branch, and clean unless it is
// this WP's work in progress; a clean one is brought up to date with the lanes it depends
// on. The lane context names the WP.
void reuse_worktree(LoopState& state, const LoopWp& wp, Allocation& out,
                    const std::optional<Worktree>& listed,
                    const std::optional<Json>& existing_context,
                    const std::string& mission_branch) {
    const Mission& m = state.mission;
    Repository& repo = loop_repository(m);
    const Workspace& ws = out.workspace;
    std::error_code ec;
    if (!listed || !listed->valid || fs::is_symlink(fs::symlink_status(ws.path, ec))) {
        throw Error(Exit::conflict, "NOT_A_WORKTREE",
                    ws.path.string() + " exists but is not the worktree of " + ws.lane_id,
                    "move it away; kitty creates the lane worktree there")
            .at(ws.path);
    }
    Repository lane_repo = Repository::open(ws.path);
    if (lane_repo.current_branch() != ws.branch) {
        throw Error(Exit::conflict, "WORKTREE_ON_OTHER_BRANCH",
                    "the worktree " + ws.path.string() + " is not on " + ws.branch,
                    "check out " + ws.branch + " in it (git -C " + ws.path.string() + " switch " +
                        ws.branch + ")")
            .at(ws.path);
    }
    const Json* current =
        existing_context ? JsonInput::member(*existing_context, "current_wp") : nullptr;
    const bool own_work = current && current->is_string() && current->get<std::string>() == wp.id;
    const auto dirty = lane_repo.changed_paths();
    if (!own_work && !dirty.empty()) {
        throw Error(Exit::conflict, "LANE_DIRTY",
                    "Lane " + ws.lane_id + " worktree at " + ws.path.string() +
                        " has uncommitted changes. Commit or stash before starting the next WP.",
                    "commit them in " + ws.path.string() +
                        " (not git stash: its stack is shared by every worktree)")
            .with({{"paths", dirty}});
    }
    if (dirty.empty()) {
        out.synced_from = sync_before_work(repo, m, *state.lanes, wp);
    }
    Json doc = existing_context ? *existing_context
                                : model_detail::context_document(
                                      m, wp, ws, mission_branch,
                                      repo.merge_base(ws.branch, mission_branch).value_or(""));
    doc["wp_id"] = wp.id;
    doc["current_wp"] = wp.id;
    doc["dependencies"] = wp.dependencies();
    out.base_branch = doc.value("base_branch", mission_branch);
    out.base_commit = doc.value("base_commit", "");
    model_detail::write_context(m, ws.lane_id, doc);
}

// A lane whose branch is missing is cut again only when it has not started: work recorded
// on the lane (another WP past planned, or this one past in_progress: its own in_progress
// may be a claim that never got a worktree) or a lane context means its branch was lost.
void check_lane_not_started(const LoopState& state, const LoopWp& wp, const Workspace& ws,
                            bool has_context, const fs::path& context) {
    bool started = has_context;
    for (const LoopWp& other : state.wps) {
        const bool same = other.lane_id == ws.lane_id;
        started = started || (same && kHandedOffLanes.contains(other.lane)) ||
                  (same && other.id != wp.id && other.lane == WpLane::in_progress);
    }
    if (started) {
        throw Error(Exit::conflict, "LANE_BRANCH_MISSING",
                    "the lane branch " + ws.branch + " of " + ws.lane_id +
                        " is gone although the lane has started; kitty does not cut it again "
                        "from the mission branch, which would lose its work",
                    "restore it where it was: git branch " + ws.branch +
                        " <commit> (git reflog and the lane's merge commits show it)")
            .at(context);
    }
}

// Cuts the lane branch (and the mission branch, when it is the first lane) from the tips of
// the lanes it depends on; returns its base commit. Every branch it creates is listed in
// `created`, and deleted again when a later one fails.
std::string cut_lane_branch(LoopState& state, const LoopWp& wp, const Workspace& ws,
                            const std::string& mission_branch,
                            const std::function<void()>& before_new_branches,
                            std::vector<std::string>& created) {
    const Mission& m = state.mission;
    Repository& repo = loop_repository(m);
    const std::string& target = state.lanes->target_branch;
    const bool new_mission_branch = !repo.branch_exists(mission_branch);
    if (new_mission_branch && !repo.branch_exists(target)) {
        throw Error(Exit::input, "TARGET_BRANCH_MISSING",
                    "the mission's target branch " + target + " does not exist",
                    "create it, or fix target_branch in " + m.lanes_json().string())
            .at(m.lanes_json());
    }
    before_new_branches();
    if (new_mission_branch) {
        repo.create_branch(mission_branch, target);
        created.push_back(mission_branch);
    }
    std::vector<std::string> bases{mission_branch};
    for (const std::string& upstream : state.lanes->lane_for_wp(wp.id)->depends_on_lanes) {
        const std::string branch = code_lane_branch(m.slug(), upstream);
        if (upstream != kPlanningLaneId && repo.branch_exists(branch)) {
            bases.push_back(branch);
        }
    }
    try {
        const std::string base = repo.combine_commits(
            bases, "Start " + ws.lane_id + " of " + m.slug() + " from the lanes it depends on");
        repo.create_branch(ws.branch, base);
        created.push_back(ws.branch);
        return base;
    } catch (...) {
        for (const std::string& b : created) {
            repo.delete_branch(b);
        }
        throw;
    }
}

} // namespace

Allocation allocate_workspace(LoopState& state, const LoopWp& wp,
                              const std::function<void()>& before_new_branches) {
    Allocation out{workspace_of(state, wp), false, "", ""};
    if (out.workspace.planning) {
        return out;
    }
    const Mission& m = state.mission;
    Repository& repo = loop_repository(m);
    const Workspace& ws = out.workspace;
    // Worktrees are written through .worktrees: a link there would put them outside.
    m.writable(m.project_root() / ".worktrees");
    const std::string name = worktree_name(m.slug(), ws.lane_id);
    const fs::path context = context_file(m, ws.lane_id);
    const std::string mission_branch = mission_branch_of(*state.lanes, m.slug());
    std::error_code ec;
    std::optional<Json> existing_context;
    if (fs::is_regular_file(context, ec)) {
        existing_context = read_json_file(context);
    }
    repo.finish_interrupted_worktree(name, ws.path);
    const std::optional<Worktree> listed = listed_worktree(repo, name, ws.path);
    if (fs::exists(fs::symlink_status(ws.path, ec))) {
        reuse_worktree(state, wp, out, listed, existing_context, mission_branch);
        return out;
    }
    if (listed) {
        throw Error(Exit::conflict, "STALE_WORKTREE",
                    "git still records the worktree " + name + " whose directory " +
                        listed->path.string() + " is gone",
                    "run git worktree prune, then try again");
    }
    std::vector<std::string> created_branches;
    std::string base_commit;
    if (repo.branch_exists(ws.branch)) {
        base_commit = repo.merge_base(ws.branch, mission_branch).value_or("");
    } else {
        check_lane_not_started(state, wp, ws, existing_context.has_value(), context);
        base_commit =
            cut_lane_branch(state, wp, ws, mission_branch, before_new_branches, created_branches);
    }
    try {
        repo.add_worktree(name, ws.path, ws.branch);
        out.created = true;
        model_detail::write_context(
            m, ws.lane_id, model_detail::context_document(m, wp, ws, mission_branch, base_commit));
    } catch (...) {
        if (out.created) {
            repo.remove_worktree(name);
        }
        for (auto it = created_branches.rbegin(); it != created_branches.rend(); ++it) {
            repo.delete_branch(*it);
        }
        throw;
    }
    out.base_branch = mission_branch;
    out.base_commit = base_commit;
    return out;
}

void write_mission_file(const Mission& mission, const fs::path& path, const std::string& text) {
    const fs::path target = mission.writable(path);
    remove_stale_temporaries(target);
    write_file_atomic(target, text);
}

std::vector<fs::path> status_paths(const Mission& mission) {
    const fs::path root = mission.project_root();
    return {mission.events_log().lexically_relative(root),
            mission.status_json().lexically_relative(root),
            mission.tasks_md().lexically_relative(root)};
}

void check_workflow_commit(const Mission& mission) {
    Repository& repo = loop_repository(mission);
    if (!repo.current_branch()) {
        throw Error(Exit::conflict, "DETACHED_HEAD",
                    "the main checkout " + mission.project_root().string() +
                        " has a detached HEAD; kitty commits workflow changes on its branch",
                    "check out a branch first (git switch <branch>)");
    }
    repo.require_identity();
    if (repo.index_locked()) {
        const fs::path lock = repo.common_dir() / "index.lock";
        throw Error(Exit::temporary, "GIT_LOCKED", "git's index is locked (" + lock.string() + ")",
                    "another git process is writing it; retry when it is done. If none is "
                    "running, one died: remove the index.lock file, then retry")
            .at(lock);
    }
}

std::string commit_workflow(const Mission& mission, const std::vector<fs::path>& paths,
                            const std::string& message) {
    return loop_repository(mission).commit_own_paths(paths, message);
}

void commit_planning_artifacts(const LoopState& state, const std::string& wp_id,
                               const std::string& agent) {
    const Mission& mission = state.mission;
    const std::string& target_branch = state.lanes->target_branch;
    std::vector<std::string> held;
    for (const LoopWp& wp : state.wps) {
        if (wp.planning() && !wp.holder().empty() && wp.holder() != agent) {
            held.insert(held.end(), wp.owned_files().begin(), wp.owned_files().end());
        }
    }
    Repository& repo = loop_repository(mission);
    const fs::path root = mission.project_root();
    const std::string prefix = mission.dir().lexically_relative(root).generic_string() + "/";
    // The status files are the claim commit's; a reservation by `next` is not planning.
    std::vector<std::string> dirty;
    for (const std::string& path : repo.changed_paths(prefix)) {
        const std::string base = fs::path(path).filename().string();
        const bool others = std::any_of(
            held.begin(), held.end(), [&](const std::string& glob) { return fnmatch(path, glob); });
        if (base != "status.events.jsonl" && base != "status.json" && !others) {
            dirty.push_back(path);
        }
    }
    if (dirty.empty()) {
        return;
    }
    if (repo.current_branch() != target_branch) {
        throw Error(Exit::conflict, "PLANNING_NOT_ON_TARGET",
                    "Planning artifacts must be committed on " + target_branch + ".",
                    "switch the main checkout to " + target_branch + " (git switch " +
                        target_branch + "), or commit the mission's files there yourself");
    }
    const std::string list = join(dirty);
    const std::vector<fs::path> paths(dirty.begin(), dirty.end());
    if (!project_auto_commit(root)) {
        throw Error(Exit::conflict, "UNCOMMITTED_PLANNING",
                    "the mission has uncommitted planning files (" + list +
                        ") and auto_commit is off in .kittify/config.yaml",
                    "commit them: git add -f " + prefix + " && git commit -m \"planning\"")
            .with({{"paths", dirty}});
    }
    check_workflow_commit(mission);
    repo.commit_own_paths(paths, "chore: planning artifacts for " + mission.slug() +
                                     "\n\nCommitted by kitty so that the lane worktree for " +
                                     wp_id + " starts from them.\n");
}

bool is_review_cycle_ref(const StatusEvent& event) {
    return event.review_ref && event.review_ref->starts_with("review-cycle://");
}

std::optional<fs::path> review_feedback(const LoopState& state, const std::string& wp_id) {
    static const std::string scheme = "review-cycle://";
    const auto found = state.digest.review_cycle_refs.find(wp_id);
    if (found == state.digest.review_cycle_refs.end()) {
        return std::nullopt;
    }
    // review-cycle://<slug>/<wp-slug>/<file>
    const std::string rest = found->second.substr(scheme.size());
    const std::size_t a = rest.find('/');
    const std::size_t b = rest.find('/', a == std::string::npos ? 0 : a + 1);
    if (a == std::string::npos || b == std::string::npos) {
        return std::nullopt;
    }
    const std::string wp_slug = rest.substr(a + 1, b - a - 1);
    const std::string file = rest.substr(b + 1);
    checked_path_component(wp_slug, "review-cycle directory");
    checked_path_component(file, "review-cycle file");
    return state.mission.tasks_dir() / wp_slug / file;
}

namespace {

// RE2's \s and \w (ASCII only; its \d is is_ascii_digit).
bool re2_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool re2_word(char c) {
    return is_ascii_alnum(c) || c == '_';
}

} // namespace

bool is_wp_heading(std::string_view line) {
    std::size_t hashes = 0;
    while (hashes < line.size() && line[hashes] == '#') {
        ++hashes;
    }
    if (hashes < 2 || hashes > 4 || hashes == line.size() || !re2_space(line[hashes])) {
        return false;
    }
    // `.*` stops at a newline; it takes any UTF-8 character, which the pattern decides.
    for (std::size_t i = hashes + 1; i + 2 < line.size(); ++i) {
        const char c = line[i];
        if (c == '\n') {
            return false;
        }
        if (static_cast<unsigned char>(c) >= 0x80) {
            static const Regex pattern(R"(^#{2,4}\s.*WP\d+)");
            return RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), pattern);
        }
        if (c == 'W' && line[i + 1] == 'P' && is_ascii_digit(line[i + 2])) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> wp_names(std::string_view line) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i + 2 < line.size(); ++i) {
        if (line[i] != 'W' || line[i + 1] != 'P' || (i > 0 && re2_word(line[i - 1]))) {
            continue;
        }
        std::size_t end = i + 2;
        while (end < line.size() && is_ascii_digit(line[end])) {
            ++end;
        }
        if (end > i + 2 && (end == line.size() || !re2_word(line[end]))) {
            out.emplace_back(line.substr(i, end - i));
            i = end - 1;
        }
    }
    return out;
}

std::optional<SubtaskBox> subtask_box(std::string_view line) {
    std::size_t i = 0;
    const auto spaces = [&] {
        while (i < line.size() && re2_space(line[i])) {
            ++i;
        }
    };
    spaces();
    if (i == line.size() || line[i] != '-') {
        return std::nullopt;
    }
    ++i;
    spaces();
    if (i + 2 >= line.size() || line[i] != '[' || line[i + 2] != ']' ||
        (line[i + 1] != ' ' && line[i + 1] != 'x' && line[i + 1] != 'X')) {
        return std::nullopt;
    }
    SubtaskBox box{line[i + 1], ""};
    i += 3;
    spaces();
    if (i + 1 < line.size() && line[i] == 'T' && is_ascii_digit(line[i + 1])) {
        std::size_t end = i + 1;
        while (end < line.size() && is_ascii_digit(line[end])) {
            ++end;
        }
        box.id = std::string(line.substr(i, end - i));
    }
    return box;
}

std::map<std::string, std::vector<Subtask>> subtasks_by_wp(const Mission& mission) {
    std::error_code ec;
    if (!fs::exists(mission.tasks_md(), ec)) {
        return {};
    }
    std::map<std::string, std::vector<Subtask>> out;
    std::vector<std::string> section; // the WPs the last heading names
    // The text outlives the loop: the lines are views into it.
    const std::string text = normalize_newlines(read_file_bytes(mission.tasks_md()));
    for (const std::string_view line : python_splitlines(text)) {
        if (line.starts_with("##") && is_wp_heading(line)) {
            section = wp_names(line);
            continue;
        }
        if (section.empty()) {
            continue;
        }
        if (const auto box = subtask_box(line)) {
            for (const std::string& wp : section) {
                out[wp].push_back({std::string(py_strip(line)), box->id, box->mark != ' '});
            }
        }
    }
    return out;
}

std::vector<Subtask> wp_subtasks(const Mission& mission, const std::string& wp) {
    auto all = subtasks_by_wp(mission);
    const auto it = all.find(wp);
    return it == all.end() ? std::vector<Subtask>{} : std::move(it->second);
}

std::string next_command_line(const Mission& mission, const std::string& agent, bool with_result) {
    return "spec-kitty next --agent " + agent + " --mission " + mission.slug() +
           (with_result ? " --result success" : "");
}

std::string action_command_line(const Mission& mission, const std::string& action,
                                const std::string& wp, const std::string& agent) {
    return "spec-kitty agent action " + action + " " + wp + " --agent " + agent + " --mission " +
           mission.slug();
}

fs::path write_wp_prompt(const LoopState& state, const LoopWp& wp, const std::string& action,
                         const std::string& agent) {
    const Mission& m = state.mission;
    const Workspace ws = workspace_of(state, wp);
    const std::string rule(80, '=');
    const std::string lane_wps = join(ws.lane_wp_ids);
    std::string text = rule + "\n" + (action == "review" ? "REVIEW: " : "IMPLEMENT: ") + wp.id +
                       "\n" + rule + "\n";
    text += "Agent: " + agent + "\nMission: " + m.slug() +
            "\nMission Type: " + m.identity().mission_type + "\nWorkspace: " + ws.path.string() +
            "\n";
    text += ws.planning
                ? "Workspace contract: the main checkout (planning work)\n"
                : "Workspace contract: lane " + ws.lane_id + " shared by " + lane_wps + "\n";
    std::string body(
        embedded_template(action == "review" ? "loop/review.md" : "loop/implement.md"));
    const std::string slug = m.slug();
    body = fill_placeholder(body, "wp", wp.id);
    body = fill_placeholder(body, "agent", agent);
    body = fill_placeholder(body, "mission", slug);
    body = fill_placeholder(body, "workspace", ws.path.string());
    body = fill_placeholder(body, "action_command", action_command_line(m, action, wp.id, agent));
    body = fill_placeholder(body, "next_command", next_command_line(m, agent, true));
    // What the review compares: the lane branch against the mission branch, or for planning
    // work in the main checkout, the WP's owned files since its claim commit (the subjects
    // 3.1.1 looks for).
    std::string base =
        state.lanes ? mission_branch_of(*state.lanes, slug) : mission_branch_name(slug);
    std::string pathspec;
    if (ws.planning) {
        base = loop_repository(m)
                   .find_commit("HEAD", {"Start " + wp.id + " implementation",
                                         wp.id + " claimed for implementation",
                                         "Move " + wp.id + " to in_progress"})
                   .value_or("HEAD");
        for (const std::string& owned : wp.owned_files()) {
            pathspec += (pathspec.empty() ? " -- '" : " '") + owned + "'";
        }
    }
    std::string subtasks;
    for (const Subtask& t : wp_subtasks(m, wp.id)) {
        if (!t.id.empty()) {
            subtasks += (subtasks.empty() ? "" : " ") + t.id;
        }
    }
    body = fill_placeholder(body, "branch", ws.planning ? "HEAD" : ws.branch);
    body = fill_placeholder(body, "base", base);
    body = fill_placeholder(body, "pathspec", pathspec);
    body = fill_placeholder(body, "subtasks", subtasks.empty() ? "<task ids>" : subtasks);
    text += "\n" + body + "\n";
    text += "--- WORK PACKAGE PROMPT BEGINS ---\n" + read_file_bytes(wp.file());
    if (!text.ends_with("\n")) {
        text += "\n";
    }
    text += "--- WORK PACKAGE PROMPT ENDS ---\n";
    return write_prompt(m, agent + "-" + action + "-" + wp.id + ".md", text);
}

fs::path prompt_dir(const Mission& mission) {
    return mission.writable(mission.project_root() / ".kittify/runtime/prompts" / mission.slug());
}

fs::path write_prompt(const Mission& mission, const std::string& name, const std::string& text) {
    const fs::path dir = prompt_dir(mission);
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path file = mission.writable(dir / name);
    write_file_atomic_if_changed(file, text);
    return file;
}

} // namespace kitty::loop
