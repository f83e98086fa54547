// WP prompt files (tasks/WPnn-*.md): the frontmatter schema spec-kitty 3.1.1 accepts,
// read and validated as its reader does, and written back in its byte format
// (../shared/spec/parse-tasks.md §2.2–2.4, docs/wp-frontmatter.md).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/yaml.hpp"

namespace kitty {

// The values 3.1.1's model holds after validation and legacy normalisation, with the
// None-valued fields dropped and the six list fields always present (model_dump with
// exclude_none): what a rewrite writes.
struct WpFrontmatter {
    std::map<std::string, YamlNode> fields;
    std::string body;                     // everything after the closing "---" line, byte for byte
    std::map<std::string, int> key_lines; // the file line of each key that was read

    std::optional<std::string> string_field(std::string_view name) const;
    // The stripped source text of a scalar field of any type ("" when absent, null or not a
    // scalar): 3.1.1's models read some fields, like shell_pid, as numbers, and its files
    // hold them unquoted.
    std::string scalar_text(std::string_view name) const;
    std::vector<std::string> list_field(std::string_view name) const;
    void set_string(const std::string& name, std::string value);
    void set_list(const std::string& name, const std::vector<std::string>& values);

    std::string work_package_id() const { return string_field("work_package_id").value_or(""); }
    std::vector<std::string> dependencies() const { return list_field("dependencies"); }

    // Fields in the order a rewrite writes them.
    std::vector<std::string> field_order() const;
    Json to_json() const;
};

// Parses the text of a WP file (UTF-8; a BOM is dropped, CRLF and CR read as LF).
// Throws Error(Exit::input) naming `path` and the line: NO_FRONTMATTER,
// MALFORMED_FRONTMATTER, INVALID_YAML, UNKNOWN_KEY or INVALID_FIELD.
WpFrontmatter parse_wp_file(std::string_view bytes, const std::filesystem::path& path);
WpFrontmatter read_wp_file(const std::filesystem::path& path);

// "---\n" + the frontmatter as 3.1.1's ruamel writer emits it + "---\n" + body. Unlike
// 3.1.1, a `lane` field is written (as its canonical value) instead of crashing.
std::string serialize_wp_file(const WpFrontmatter& frontmatter);
void write_wp_file(const std::filesystem::path& path, const WpFrontmatter& frontmatter);

// "WP01" for WP01-x.md, WP01_x.md, WP01.md (^(WP\d{2})(?:[-_.]|$)), else nullopt.
std::optional<std::string> wp_id_from_filename(std::string_view name);

// The regular files tasks/WP*.md (not recursive), sorted by name: their names, and paths.
std::vector<std::string> list_wp_names(const std::filesystem::path& tasks_dir);
std::vector<std::filesystem::path> list_wp_files(const std::filesystem::path& tasks_dir);

} // namespace kitty
