// finalize-tasks: the step that turns tasks.md and the WP files into a ready mission
// (../shared/spec/parse-tasks.md §3, ARCHITECTURE.md decision 1: every check first, then
// the writes; docs/tools/kitty-parse-tasks.md#finalize).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/result.hpp"

namespace kitty {

struct FinalizeRequest {
    std::string mission; // directory or selector
    bool validate_only = false;
    std::optional<std::string> target_branch; // default: the checked-out branch, else main
    std::filesystem::path start_dir = ".";
};

// Checks everything (tasks/, spec.md, graph, requirement mapping, disagree-loud,
// ownership, lanes), then writes the WP frontmatter and lanes.json as one transaction and
// bootstraps the status log. Every failure is a thrown Error and leaves every file as it
// was: Exit::check_failed with 3.1.1's detail keys for a failed check, Exit::input for a
// missing tasks/ or spec.md or an unknown execution_mode, Exit::conflict for a non-string
// mission_id. No commits.
Outcome finalize_tasks_command(const FinalizeRequest& request);

} // namespace kitty
