#include "kitty/wps_manifest.hpp"

#include <map>

#include <re2/re2.h>

#include "kitty/error.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"
#include "kitty/yaml.hpp"

namespace kitty {

namespace fs = std::filesystem;
using Kind = YamlNode::Kind;

namespace {

class EntryReader {
public:
    explicit EntryReader(const fs::path& path) : path_(path) {}

    [[noreturn]] void fail(const std::string& what, int line) const {
        throw Error(Exit::input, "INVALID_WPS_YAML",
                    "wps.yaml is present but could not be loaded: " + what,
                    "fix " + path_.string() +
                        "; each work_packages entry needs id (WPnn) and "
                        "title, and list fields hold strings")
            .at(path_, line);
    }

    std::string id_like(const YamlNode& node, const std::string& field, int line) const {
        static const Regex wp_id(R"(WP\d{2})");
        if (node.kind != Kind::string) {
            fail(field + " must be a string", node.line > 0 ? node.line : line);
        }
        if (!RE2::FullMatch(node.text, wp_id)) {
            fail(field + " must be WPnn (e.g. WP01), got: " + python_repr(node.text),
                 node.line > 0 ? node.line : line);
        }
        return node.text;
    }

    std::vector<std::string> strings(const YamlNode& node, const std::string& field,
                                     int line) const {
        if (node.kind != Kind::sequence) {
            fail(field + " must be a list", line);
        }
        std::vector<std::string> out;
        for (const YamlNode& item : node.items) {
            if (item.kind != Kind::string) {
                fail(field + " must hold strings", item.line > 0 ? item.line : line);
            }
            out.push_back(item.text);
        }
        return out;
    }

    WpsEntry entry(const YamlNode& node, int line) const {
        if (node.kind != Kind::mapping) {
            fail("a work_packages entry must be a mapping", node.line > 0 ? node.line : line);
        }
        WpsEntry e;
        e.line = node.line > 0 ? node.line : line;
        bool has_id = false, has_title = false;
        for (std::size_t i = 0; i < node.entries.size(); ++i) {
            const auto& [key, value] = node.entries[i];
            const int at = node.key_lines[i];
            if (key == "id") {
                e.id = id_like(value, "id", at);
                has_id = true;
            } else if (key == "title") {
                if (value.kind != Kind::string) {
                    fail("title must be a string", at);
                }
                e.title = value.text;
                has_title = true;
            } else if (key == "dependencies") {
                if (value.kind != Kind::sequence) {
                    fail("dependencies must be a list", at);
                }
                for (const YamlNode& item : value.items) {
                    e.dependencies.push_back(id_like(item, "Dependency", at));
                }
            } else if (key == "owned_files") {
                e.owned_files = strings(value, key, at);
            } else if (key == "requirement_refs") {
                e.requirement_refs = strings(value, key, at);
            } else if (key == "subtasks") {
                e.subtasks = strings(value, key, at);
            } else if (key == "prompt_file" && value.kind != Kind::null) {
                if (value.kind != Kind::string) {
                    fail("prompt_file must be a string", at);
                }
                e.prompt_file = value.text;
            }
        }
        if (!has_id || !has_title) {
            fail(std::string("a work_packages entry lacks ") + (has_id ? "title" : "id"), e.line);
        }
        return e;
    }

private:
    fs::path path_;
};

} // namespace

std::optional<std::vector<WpsEntry>> load_wps_manifest(const fs::path& mission_dir) {
    const fs::path path = mission_dir / "wps.yaml";
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return std::nullopt;
    }
    const EntryReader reader(path);
    YamlNode doc;
    try {
        doc = parse_yaml(read_text_file(path, Bom::strip));
    } catch (const YamlError& e) {
        reader.fail(e.message, e.line);
    }
    if (doc.kind != Kind::mapping) {
        reader.fail("the document must be a mapping with a work_packages list", 1);
    }
    for (std::size_t i = 0; i < doc.entries.size(); ++i) {
        const auto& [key, value] = doc.entries[i];
        if (key != "work_packages") {
            continue;
        }
        if (value.kind != Kind::sequence) {
            reader.fail("work_packages must be a list", doc.key_lines[i]);
        }
        std::vector<WpsEntry> entries;
        for (const YamlNode& item : value.items) {
            entries.push_back(reader.entry(item, doc.key_lines[i]));
        }
        return entries;
    }
    reader.fail("work_packages: field required", 1);
}

DependencyMap wps_dependency_map(const std::vector<WpsEntry>& entries) {
    DependencyMap map;
    std::map<std::string, std::size_t> position;
    for (const WpsEntry& e : entries) {
        const auto [it, fresh] = position.emplace(e.id, map.size());
        if (fresh) {
            map.emplace_back(e.id, e.dependencies);
        } else {
            map[it->second].second = e.dependencies;
        }
    }
    return map;
}

} // namespace kitty
