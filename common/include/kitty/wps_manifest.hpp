// wps.yaml: the structured work-package list some missions keep instead of hand-written
// dependencies in tasks.md. Read as spec-kitty 3.1.1 validates it (core/wps_manifest.py).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/tasks_md.hpp"

namespace kitty {

struct WpsEntry {
    std::string id; // ^WP\d{2}$
    std::string title;
    std::vector<std::string> dependencies; // each ^WP\d{2}$, duplicates kept
    std::vector<std::string> owned_files;
    std::vector<std::string> requirement_refs;
    std::vector<std::string> subtasks;
    std::optional<std::string> prompt_file;
    int line = 0;
};

// <mission>/wps.yaml, or nullopt when there is none. A file that does not validate is
// Error(Exit::input, "INVALID_WPS_YAML") naming the file and line. Keys the schema does
// not know are ignored, as 3.1.1 ignores them.
std::optional<std::vector<WpsEntry>> load_wps_manifest(const std::filesystem::path& mission_dir);

// The dependency graph finalize-tasks takes from wps.yaml: entries in order, a repeated
// id keeping its first position and its last list.
DependencyMap wps_dependency_map(const std::vector<WpsEntry>& entries);

} // namespace kitty
