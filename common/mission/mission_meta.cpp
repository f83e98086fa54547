#include "kitty/mission_meta.hpp"

#include <array>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/text.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace {

// Python truthiness, which 3.1.1's validate_meta applies to required fields.
bool truthy(const Json& v) {
    switch (v.type()) {
    case Json::value_t::null:
        return false;
    case Json::value_t::boolean:
        return v.get<bool>();
    case Json::value_t::string:
        return !v.get_ref<const std::string&>().empty();
    case Json::value_t::number_integer:
        return v.get<std::int64_t>() != 0;
    case Json::value_t::number_unsigned:
        return v.get<std::uint64_t>() != 0;
    case Json::value_t::number_float:
        return v.get<double>() != 0.0;
    case Json::value_t::array:
    case Json::value_t::object:
        return !v.empty();
    default:
        return false;
    }
}

// A string field with surrounding white space removed, or "" when absent or falsy.
std::string stripped_field(const Json& meta, const char* key) {
    auto it = meta.find(key);
    if (it == meta.end() || !truthy(*it)) {
        return {};
    }
    std::string s = it->is_string() ? it->get<std::string>() : dump_python(*it);
    const auto first = s.find_first_not_of(" \t\r\n");
    const auto last = s.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

} // namespace

std::string serialize_meta(const Json& meta) {
    return dump_python(meta, {.indent = 2, .ensure_ascii = false, .sort_keys = true}) + "\n";
}

Json parse_meta(const std::string& bytes, const fs::path& file) {
    require_utf8(bytes, file);
    Json meta = parse_json(bytes, file);
    if (!meta.is_object()) {
        throw Error(Exit::input, "INVALID_META",
                    "expected a JSON object in " + file.string() + ", got " + meta.type_name(),
                    "meta.json must be one JSON object")
            .at(file);
    }
    return meta;
}

std::optional<Json> load_meta(const fs::path& mission_dir) {
    const fs::path file = mission_dir / "meta.json";
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return std::nullopt;
    }
    return parse_meta(read_file_bytes(file), file);
}

void write_meta(const fs::path& mission_dir, const Json& meta) {
    static constexpr std::array required{"created_at",   "friendly_name", "mission_number",
                                         "mission_slug", "mission_type",  "slug",
                                         "target_branch"};
    std::string missing;
    for (const char* key : required) {
        auto it = meta.find(key);
        if (it == meta.end() || !truthy(*it)) {
            missing += (missing.empty() ? "" : "; ") + std::string(key);
        }
    }
    const fs::path file = mission_dir / "meta.json";
    if (!missing.empty()) {
        throw Error(Exit::input, "INVALID_META",
                    "invalid meta.json for " + mission_dir.filename().string() +
                        ": missing or empty required field: " + missing,
                    "every new meta.json needs these fields")
            .at(file);
    }
    write_file_atomic(file, serialize_meta(meta));
}

std::string mission_number_from_slug(const std::string& slug) {
    const auto dash = slug.find('-');
    if (dash == 0 || dash == std::string::npos || slug.find_first_not_of("0123456789") != dash) {
        return {};
    }
    return slug.substr(0, dash);
}

MissionIdentity resolve_identity(const fs::path& mission_dir) {
    const Json meta = load_meta(mission_dir).value_or(Json::object());
    MissionIdentity id;
    if (const auto it = meta.find("friendly_name"); it != meta.end() && it->is_string()) {
        id.friendly_name = it->get<std::string>();
    }
    id.mission_slug = stripped_field(meta, "mission_slug");
    if (id.mission_slug.empty()) {
        id.mission_slug = stripped_field(meta, "slug");
    }
    if (id.mission_slug.empty()) {
        id.mission_slug = mission_dir.filename().string();
    }
    id.mission_number = stripped_field(meta, "mission_number");
    if (id.mission_number.empty()) {
        id.mission_number = mission_number_from_slug(id.mission_slug);
    }
    id.mission_type = stripped_field(meta, "mission_type");
    if (id.mission_type.empty()) {
        id.mission_type = stripped_field(meta, "mission");
    }
    if (id.mission_type.empty()) {
        id.mission_type = "software-dev";
    }
    if (auto it = meta.find("mission_id"); it != meta.end() && !it->is_null()) {
        if (!it->is_string()) {
            throw bad_mission_id(mission_dir / "meta.json", *it);
        }
        id.mission_id = it->get<std::string>();
    }
    return id;
}

Error bad_mission_id(const fs::path& file, const Json& value) {
    return Error(Exit::conflict, "BAD_MISSION_ID",
                 file.string() + " has a mission_id that is not a non-empty string (" +
                     dump_python(value) + ")",
                 "fix the mission_id by hand: kitty never changes an existing id")
        .at(file);
}

} // namespace kitty
