// tasks.md: the spec-kitty 3.1.1 dependency parser (exact), plus where each edge came
// from, subtasks, requirement refs and the traps 3.1.1 silently falls into
// (docs/tools/kitty-parse-tasks.md, ../shared/spec/parse-tasks.md §1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/result.hpp"

namespace kitty {

// WP id → dependency ids, both in 3.1.1 order (keys by first header, lists by pattern
// family then text, first occurrence kept).
using DependencyMap = std::vector<std::pair<std::string, std::vector<std::string>>>;

// {"WP01": [], "WP02": ["WP01"]} with key order kept.
Json dependency_map_json(const DependencyMap& map);

// The three pattern families of the 3.1.1 parser, in the order it collects them.
enum class DependencyPattern { depends_on, dependencies_colon, dependencies_heading };
std::string_view pattern_name(DependencyPattern pattern);

// Lines and columns are 1-based; columns count code points.
struct TextPosition {
    int line = 0;
    int column = 0;
};

struct DependencySource {
    std::string id;
    DependencyPattern pattern;
    TextPosition at;
};

struct Subtask {
    std::string id; // T001
    bool done = false;
    bool parallel = false; // marked [P]
    std::string text;
    int line = 0;
};

struct WpSection {
    std::string id;
    std::string title;    // the header line after the id, separators trimmed
    int first_line = 0;   // the header line
    int last_line = 0;    // the last line the 3.1.1 section covers
    int header_count = 1; // > 1: duplicate headers, the last one's text was used
    std::vector<DependencySource> dependencies;
    std::vector<Subtask> subtasks;
    std::vector<std::string> requirement_refs;
};

struct TasksAnalysis {
    std::vector<WpSection> sections; // the 3.1.1 keys, in order
    // The 3.1.1 requirement-refs parse (its own h2–h4 splitter, so it may name WPs
    // that have no dependency section).
    std::vector<std::pair<std::string, std::vector<std::string>>> requirement_refs;
    std::vector<Finding> findings; // severity "warning" (advisory) or "error" (cycles)

    DependencyMap dependency_map() const;
};

// parse_dependencies_from_tasks_md of spec-kitty 3.1.1 over newline-normalised text.
DependencyMap parse_dependencies(std::string_view text);

// The full analysis; `path` names the file in findings.
TasksAnalysis analyse_tasks_md(std::string_view text, const std::string& path);

// Requirement ids (FR-001, NFR-002, C-003) in `text`, upper-cased, first occurrence kept,
// as 3.1.1 extracts them from tasks.md lines and frontmatter strings.
std::vector<std::string> extract_requirement_ids(std::string_view text);

} // namespace kitty
