#include "kitty/wp_frontmatter.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <set>

#include <re2/re2.h>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace {

namespace fs = std::filesystem;
using Kind = YamlNode::Kind;

// FrontmatterManager.WP_FIELD_ORDER of 3.1.1; every other key follows alphabetically.
constexpr std::array<std::string_view, 17> kFieldOrder = {"work_package_id",
                                                          "title",
                                                          "dependencies",
                                                          "requirement_refs",
                                                          "planning_base_branch",
                                                          "merge_target_branch",
                                                          "branch_strategy",
                                                          "base_branch",
                                                          "base_commit",
                                                          "created_at",
                                                          "subtasks",
                                                          "phase",
                                                          "assignee",
                                                          "agent",
                                                          "shell_pid",
                                                          "scope",
                                                          "history"};

// WPMetadata's optional string fields (title, work_package_id and base_commit have
// extra rules and are handled on their own).
const std::set<std::string, std::less<>> kStringFields = {"base_branch",
                                                          "created_at",
                                                          "planning_base_branch",
                                                          "merge_target_branch",
                                                          "branch_strategy",
                                                          "priority",
                                                          "execution_mode",
                                                          "authoritative_surface",
                                                          "task_type",
                                                          "phases",
                                                          "assignee",
                                                          "model",
                                                          "agent_profile",
                                                          "role",
                                                          "feature_slug",
                                                          "activity_log",
                                                          "review_status",
                                                          "reviewed_by",
                                                          "approved_by",
                                                          "reviewer_agent",
                                                          "reviewer_shell_pid",
                                                          "review_feedback",
                                                          "review_feedback_file",
                                                          "subtitle",
                                                          "description",
                                                          "estimated_duration",
                                                          "mission_id",
                                                          "mission_number",
                                                          "mission_slug",
                                                          "status",
                                                          "wp_code",
                                                          "branch_strategy_override",
                                                          "work_package_title"};
const std::set<std::string, std::less<>> kStringListFields = {"dependencies", "requirement_refs",
                                                              "owned_files", "tags"};
const std::set<std::string, std::less<>> kAnyListFields = {"subtasks", "history"};
const std::set<std::string, std::less<>> kAnyFields = {"agent", "reviewer"};
const std::set<std::string, std::less<>> kOtherFields = {
    "work_package_id", "title", "base_commit", "phase", "shell_pid", "lane"};
constexpr std::array<std::string_view, 9> kLanes = {"planned",    "claimed",   "in_progress",
                                                    "for_review", "in_review", "approved",
                                                    "done",       "blocked",   "canceled"};

std::string kind_name(Kind kind) {
    switch (kind) {
    case Kind::null:
        return "null";
    case Kind::boolean:
        return "a boolean";
    case Kind::integer:
        return "an integer";
    case Kind::floating:
        return "a float";
    case Kind::timestamp:
        return "a timestamp (quote it to make it a string)";
    case Kind::string:
        return "a string";
    case Kind::sequence:
        return "a list";
    case Kind::mapping:
        return "a mapping";
    }
    return "";
}

// [s.strip() for s in text.split(",") if s.strip()]
std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        std::size_t end = text.find(',', begin);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view item = py_strip(text.substr(begin, end - begin));
        if (!item.empty()) {
            out.emplace_back(item);
        }
        begin = end + 1;
    }
    return out;
}

// Python's int() of a YAML 1.2 integer as ruamel constructs it.
std::optional<long long> yaml_int_value(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.erase(0, 1);
    }
    int base = 10;
    if (text.size() > 1 && text[0] == '0' && (text[1] == 'b' || text[1] == 'x' || text[1] == 'o')) {
        base = text[1] == 'b' ? 2 : text[1] == 'x' ? 16 : 8;
        text.erase(0, 2);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, base);
    if (errno != 0 || *end != '\0') {
        return std::nullopt;
    }
    return negative ? -v : v;
}

// Python's str() of a scalar, for `phase`.
std::string python_str(const YamlNode& node) {
    switch (node.kind) {
    case Kind::boolean:
        return node.text == "true" ? "True" : "False";
    case Kind::integer:
        if (const auto v = yaml_int_value(node.text)) {
            return std::to_string(*v);
        }
        return node.text;
    case Kind::floating: {
        std::string t = node.text;
        t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
        const std::string lower = [&] {
            std::string l = t;
            std::transform(l.begin(), l.end(), l.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            return l;
        }();
        if (lower.find("nan") != std::string::npos) {
            return "nan";
        }
        if (lower.find("inf") != std::string::npos) {
            return lower[0] == '-' ? "-inf" : "inf";
        }
        return python_float_repr(std::strtod(t.c_str(), nullptr));
    }
    default:
        return node.text;
    }
}

class Validator {
public:
    Validator(const fs::path& path, int line_offset) : path_(path), offset_(line_offset) {}

    [[noreturn]] void fail(const std::string& key, int yaml_line, const std::string& what) const {
        throw Error(Exit::input, "INVALID_FIELD",
                    "invalid WP frontmatter in " + path_.string() + ": " + key + ": " + what,
                    "spec-kitty 3.1.1 skips a WP file its schema rejects; fix the value")
            .at(path_, yaml_line > 0 ? yaml_line + offset_ : 0);
    }

    void require_kind(const std::string& key, const YamlNode& v, int line, Kind kind) const {
        if (v.kind != kind) {
            fail(key, line, "must be " + kind_name(kind) + ", not " + kind_name(v.kind));
        }
    }

    // list[str]: a list whose items are all strings.
    void require_string_list(const std::string& key, const YamlNode& v, int line) const {
        require_kind(key, v, line, Kind::sequence);
        for (std::size_t i = 0; i < v.items.size(); ++i) {
            if (v.items[i].kind != Kind::string) {
                fail(key, v.items[i].line > 0 ? v.items[i].line : line,
                     "item " + std::to_string(i + 1) + " must be a string, not " +
                         kind_name(v.items[i].kind));
            }
        }
    }

    int file_line(int yaml_line) const { return yaml_line > 0 ? yaml_line + offset_ : 0; }

private:
    const fs::path& path_;
    int offset_;
};

std::string_view without_final_newline(std::string_view s) {
    return s.ends_with('\n') ? s.substr(0, s.size() - 1) : s;
}

// 3.1.1's WP## rule: `^WP\d{2,}\n?$`, Python's \d being any script's decimal digit. ASCII text
// is checked by hand; the pattern is compiled only for text with other bytes.
bool valid_wp_id(const std::string& text) {
    if (std::any_of(text.begin(), text.end(), [](char c) { return (c & 0x80) != 0; })) {
        static const Regex re("^WP\\p{Nd}{2,}\\n?$");
        return RE2::FullMatch(text, re);
    }
    const std::string_view id = without_final_newline(text);
    return id.size() >= 4 && id.starts_with("WP") && all_ascii_digits(id.substr(2));
}

// 3.1.1's `^[0-9a-f]{7,40}\n?$`.
bool valid_base_commit(const std::string& text) {
    const std::string_view sha = without_final_newline(text);
    return sha.size() >= 7 && sha.size() <= 40 && std::all_of(sha.begin(), sha.end(), [](char c) {
               return is_ascii_digit(c) || (c >= 'a' && c <= 'f');
           });
}

// WPMetadata validation plus model_dump(exclude_none=True).
std::map<std::string, YamlNode> validate(YamlNode doc, const fs::path& path, int offset,
                                         std::map<std::string, int>& key_lines) {
    const Validator check(path, offset);
    std::map<std::string, YamlNode> out;
    std::map<std::string, int> lines;

    for (std::size_t i = 0; i < doc.entries.size(); ++i) {
        const std::string& key = doc.entries[i].first;
        const int line = doc.key_lines[i];
        lines[key] = line;
        key_lines[key] = check.file_line(line);
        if (!kStringFields.count(key) && !kStringListFields.count(key) &&
            !kAnyListFields.count(key) && !kAnyFields.count(key) && !kOtherFields.count(key)) {
            throw Error(Exit::input, "UNKNOWN_KEY",
                        "unknown WP frontmatter key '" + key + "' in " + path.string(),
                        "spec-kitty 3.1.1 reads only the keys of its WP schema and skips this "
                        "file; remove or rename the key")
                .at(path, check.file_line(line));
        }
    }
    // Legacy pre-processing: title from work_package_title, string forms of the lists.
    const auto find = [&](std::string_view key) -> YamlNode* {
        for (auto& [k, v] : doc.entries) {
            if (k == key) {
                return &v;
            }
        }
        return nullptr;
    };
    if (find("title") == nullptr) {
        if (const YamlNode* legacy = find("work_package_title")) {
            doc.entries.push_back({"title", *legacy});
            doc.key_lines.push_back(lines["work_package_title"]);
            lines["title"] = lines["work_package_title"];
        }
    }
    if (YamlNode* deps = find("dependencies"); deps != nullptr && deps->kind == Kind::string) {
        const std::string_view s = py_strip(deps->text);
        *deps = YamlNode::list(s == "[]" ? std::vector<std::string>{} : split_commas(s));
    }
    if (YamlNode* refs = find("requirement_refs"); refs != nullptr && refs->kind == Kind::string) {
        *refs = YamlNode::list(split_commas(refs->text));
    }

    for (auto& [key, value] : doc.entries) {
        const int line = lines[key];
        if (kStringFields.count(key)) {
            if (value.kind != Kind::null) {
                check.require_kind(key, value, line, Kind::string);
                out[key] = value;
            }
        } else if (kStringListFields.count(key)) {
            check.require_string_list(key, value, line);
            out[key] = value;
        } else if (kAnyListFields.count(key)) {
            check.require_kind(key, value, line, Kind::sequence);
            out[key] = value;
        } else if (kAnyFields.count(key)) {
            if (value.kind != Kind::null) {
                out[key] = value;
            }
        } else if (key == "work_package_id") {
            check.require_kind(key, value, line, Kind::string);
            if (!valid_wp_id(value.text)) {
                check.fail(key, line,
                           "Invalid work_package_id: '" + value.text + "' (must match WP##)");
            }
            out[key] = value;
        } else if (key == "title") {
            if (value.kind != Kind::null) {
                check.require_kind(key, value, line, Kind::string);
                if (py_strip(value.text).empty()) {
                    check.fail(key, line, "title must not be empty");
                }
                out[key] = value;
            }
        } else if (key == "base_commit") {
            if (value.kind != Kind::null) {
                check.require_kind(key, value, line, Kind::string);
                if (value.text != "unknown") {
                    if (!valid_base_commit(value.text)) {
                        check.fail(key, line,
                                   "Invalid base_commit: '" + value.text + "' (must be hex SHA)");
                    }
                    out[key] = value;
                }
            }
        } else if (key == "phase") {
            if (value.kind != Kind::null) {
                if (!value.is_scalar()) {
                    check.fail(key, line, "must be a scalar, not " + kind_name(value.kind));
                }
                out[key] = YamlNode::string(python_str(value));
            }
        } else if (key == "shell_pid") {
            std::optional<long long> pid;
            if (value.kind == Kind::string && !value.text.empty()) {
                std::string digits(py_strip(value.text));
                digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
                char* end = nullptr;
                errno = 0;
                const long long v = std::strtoll(digits.c_str(), &end, 10);
                if (!digits.empty() && errno == 0 && *end == '\0') {
                    pid = v;
                } else {
                    check.fail(key, line, "invalid literal for int(): '" + value.text + "'");
                }
            } else if (value.kind == Kind::integer) {
                pid = yaml_int_value(value.text);
            } else if (value.kind == Kind::boolean) {
                pid = value.text == "true" ? 1 : 0;
            } else if (value.kind == Kind::floating) {
                pid = static_cast<long long>(std::strtod(value.text.c_str(), nullptr));
            } else if (value.kind != Kind::null && !(value.kind == Kind::string)) {
                check.fail(key, line, "must be an integer, not " + kind_name(value.kind));
            }
            if (pid) {
                YamlNode n;
                n.kind = Kind::integer;
                n.text = std::to_string(*pid);
                out[key] = n;
            }
        } else if (key == "lane") {
            if (value.kind == Kind::null || (value.kind == Kind::string && value.text.empty())) {
                continue;
            }
            if (!value.is_scalar()) {
                check.fail(key, line, "must be a lane name, not " + kind_name(value.kind));
            }
            const std::string raw = python_str(value);
            const std::string lane = raw == "doing" ? "in_progress" : raw;
            if (std::find(kLanes.begin(), kLanes.end(), lane) == kLanes.end()) {
                check.fail(key, line,
                           "Invalid lane value: '" + raw +
                               "'. Must be one of: planned, claimed, in_progress, for_review, "
                               "in_review, approved, done, blocked, canceled, doing");
            }
            out[key] = YamlNode::string(lane);
        }
    }
    if (!out.count("work_package_id")) {
        throw Error(Exit::input, "INVALID_FIELD",
                    "invalid WP frontmatter in " + path.string() +
                        ": work_package_id: Field required",
                    "add work_package_id: WPnn")
            .at(path, offset);
    }
    for (const auto& list :
         {"dependencies", "requirement_refs", "owned_files", "tags", "subtasks", "history"}) {
        if (!out.count(list)) {
            YamlNode empty;
            empty.kind = Kind::sequence;
            out[list] = empty;
        }
    }
    return out;
}

Json node_json(const YamlNode& node) {
    switch (node.kind) {
    case Kind::null:
        return nullptr;
    case Kind::boolean:
        return node.text == "true";
    case Kind::integer:
        if (const auto v = yaml_int_value(node.text)) {
            return *v;
        }
        return node.text;
    case Kind::floating:
        return std::strtod(node.text.c_str(), nullptr);
    case Kind::timestamp:
    case Kind::string:
        return node.text;
    case Kind::sequence: {
        Json a = Json::array();
        for (const YamlNode& item : node.items) {
            a.push_back(node_json(item));
        }
        return a;
    }
    case Kind::mapping: {
        Json o = Json::object();
        for (const auto& [k, v] : node.entries) {
            o[k] = node_json(v);
        }
        return o;
    }
    }
    return nullptr;
}

} // namespace

std::optional<std::string> WpFrontmatter::string_field(std::string_view name) const {
    const auto it = fields.find(std::string(name));
    if (it == fields.end() || it->second.kind != Kind::string) {
        return std::nullopt;
    }
    return it->second.text;
}

std::string WpFrontmatter::scalar_text(std::string_view name) const {
    const auto it = fields.find(std::string(name));
    if (it == fields.end() || !it->second.is_scalar() || it->second.kind == Kind::null) {
        return "";
    }
    return std::string(py_strip(it->second.text));
}

std::vector<std::string> WpFrontmatter::list_field(std::string_view name) const {
    std::vector<std::string> out;
    const auto it = fields.find(std::string(name));
    if (it != fields.end()) {
        for (const YamlNode& item : it->second.items) {
            out.push_back(item.text);
        }
    }
    return out;
}

void WpFrontmatter::set_string(const std::string& name, std::string value) {
    fields[name] = YamlNode::string(std::move(value));
}

void WpFrontmatter::set_list(const std::string& name, const std::vector<std::string>& values) {
    fields[name] = YamlNode::list(values);
}

std::vector<std::string> WpFrontmatter::field_order() const {
    std::vector<std::string> order;
    for (const std::string_view key : kFieldOrder) {
        if (fields.count(std::string(key))) {
            order.emplace_back(key);
        }
    }
    for (const auto& [key, value] : fields) {
        if (std::find(kFieldOrder.begin(), kFieldOrder.end(), key) == kFieldOrder.end()) {
            order.push_back(key);
        }
    }
    return order;
}

Json WpFrontmatter::to_json() const {
    Json out = Json::object();
    for (const std::string& key : field_order()) {
        out[key] = node_json(fields.at(key));
    }
    return out;
}

WpFrontmatter parse_wp_file(std::string_view bytes, const fs::path& path) {
    require_utf8(bytes, path);
    if (bytes.starts_with("\xEF\xBB\xBF")) {
        bytes.remove_prefix(3);
    }
    const std::string text = normalize_newlines(bytes);
    if (!text.starts_with("---")) {
        throw Error(Exit::input, "NO_FRONTMATTER", "File has no frontmatter: " + path.string(),
                    "a WP file starts with a \"---\" line, the YAML frontmatter, and a closing "
                    "\"---\" line")
            .at(path, 1);
    }
    // Lines as str.split("\n"); the closing delimiter is the first later line that is
    // "---" once stripped.
    std::vector<std::string_view> lines;
    std::size_t begin = 0;
    while (true) {
        const std::size_t end = text.find('\n', begin);
        lines.emplace_back(std::string_view(text).substr(
            begin, (end == std::string::npos ? text.size() : end) - begin));
        if (end == std::string::npos) {
            break;
        }
        begin = end + 1;
    }
    std::size_t closing = 0;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (py_strip(lines[i]) == "---") {
            closing = i;
            break;
        }
    }
    if (closing == 0) {
        throw Error(Exit::input, "MALFORMED_FRONTMATTER",
                    "Malformed frontmatter (no closing ---): " + path.string(),
                    "end the frontmatter with a line holding only \"---\"")
            .at(path, 1);
    }
    std::string yaml;
    for (std::size_t i = 1; i < closing; ++i) {
        yaml += std::string(lines[i]) + (i + 1 < closing ? "\n" : "");
    }
    YamlNode doc;
    try {
        doc = parse_yaml(yaml);
    } catch (const YamlError& e) {
        throw Error(Exit::input, "INVALID_YAML",
                    "Invalid YAML in " + path.string() + ": " + e.message,
                    "fix the YAML between the \"---\" lines")
            .at(path, e.line > 0 ? e.line + 1 : 0);
    }
    if (doc.kind == Kind::null) {
        doc.kind = Kind::mapping;
    }
    if (doc.kind != Kind::mapping) {
        throw Error(Exit::input, "INVALID_YAML", "Frontmatter is not a mapping in " + path.string(),
                    "the frontmatter must be key: value lines")
            .at(path, 2);
    }
    WpFrontmatter fm;
    fm.fields = validate(std::move(doc), path, 1, fm.key_lines);
    for (std::size_t i = closing + 1; i < lines.size(); ++i) {
        fm.body += std::string(lines[i]) + (i + 1 < lines.size() ? "\n" : "");
    }
    return fm;
}

WpFrontmatter read_wp_file(const fs::path& path) {
    return parse_wp_file(read_file_bytes(path), path);
}

std::string serialize_wp_file(const WpFrontmatter& frontmatter) {
    YamlNode map;
    map.kind = Kind::mapping;
    for (const std::string& key : frontmatter.field_order()) {
        map.entries.push_back({key, frontmatter.fields.at(key)});
    }
    return "---\n" + emit_yaml_mapping(map) + "---\n" + frontmatter.body;
}

void write_wp_file(const fs::path& path, const WpFrontmatter& frontmatter) {
    write_file_atomic(path, serialize_wp_file(frontmatter));
}

// 3.1.1's `^(WP[0-9]{2})(?:[-_.]|$)`.
std::optional<std::string> wp_id_from_filename(std::string_view name) {
    if (name.size() < 4 || !name.starts_with("WP") || !all_ascii_digits(name.substr(2, 2)) ||
        (name.size() > 4 && name[4] != '-' && name[4] != '_' && name[4] != '.')) {
        return std::nullopt;
    }
    return std::string(name.substr(0, 4));
}

std::vector<std::string> list_wp_names(const fs::path& tasks_dir) {
    // readdir's names and types, not directory_iterator's paths: no path is made for a name,
    // and no stat unless it is a link.
    std::vector<std::string> names;
    const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(tasks_dir.c_str()), ::closedir);
    if (!dir) {
        return {};
    }
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string_view name = entry->d_name;
        if (!name.starts_with("WP") || !name.ends_with(".md")) {
            continue;
        }
        bool regular = entry->d_type == DT_REG;
        if (entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN) {
            struct stat st {};
            regular =
                ::fstatat(::dirfd(dir.get()), entry->d_name, &st, 0) == 0 && S_ISREG(st.st_mode);
        }
        if (regular) {
            names.emplace_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<fs::path> list_wp_files(const fs::path& tasks_dir) {
    // One directory's paths sort as their names do.
    std::vector<fs::path> files;
    for (const std::string& name : list_wp_names(tasks_dir)) {
        files.push_back(tasks_dir / name);
    }
    return files;
}

} // namespace kitty
