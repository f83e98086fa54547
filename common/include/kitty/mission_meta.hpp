// meta.json: the mission's identity file, read tolerantly and written in spec-kitty
// 3.1.1's byte format (sorted keys, indent 2, raw UTF-8, one trailing newline).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "kitty/error.hpp"
#include "kitty/json.hpp"

namespace kitty {

// The 3.1.1 byte format of a meta.json document.
std::string serialize_meta(const Json& meta);

// Parses meta.json bytes: valid UTF-8 holding one JSON object, else Error(Exit::input)
// naming `file`.
Json parse_meta(const std::string& bytes, const std::filesystem::path& file);

// The parsed meta.json of `mission_dir`, or nullopt when there is none. Malformed JSON or
// a non-object is Error(Exit::input) naming the file.
std::optional<Json> load_meta(const std::filesystem::path& mission_dir);

// Checks the fields 3.1.1 requires (non-empty mission_number, slug, mission_slug,
// friendly_name, mission_type, target_branch, created_at) and writes meta.json atomically.
void write_meta(const std::filesystem::path& mission_dir, const Json& meta);

// The digits before the first "-" of a numbered name ("079-foo" → "079"), or "" (3.1.1's
// mission_number_from_slug).
std::string mission_number_from_slug(const std::string& slug);

// The identity a mission reports, with 3.1.1's fallbacks for legacy files.
struct MissionIdentity {
    std::string mission_slug;
    std::string mission_number;
    std::string mission_type;
    std::optional<std::string> mission_id;
    std::string friendly_name; // as written; empty when absent or not a string
};

// The identity of `mission_dir`. A mission_id that is absent or null is none (3.1.1 reads
// it that way); any other value that is not a string is Error(Exit::conflict,
// "BAD_MISSION_ID") naming meta.json.
MissionIdentity resolve_identity(const std::filesystem::path& mission_dir);

// The BAD_MISSION_ID error (exit 4) for a meta.json `file` whose mission_id is `value`.
Error bad_mission_id(const std::filesystem::path& file, const Json& value);

} // namespace kitty
