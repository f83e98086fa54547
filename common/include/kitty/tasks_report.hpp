// kitty-parse-tasks as a library call: read a tasks.md (file, mission directory or
// stdin), analyse it, read the mission's WP files, and build the result document, its
// text rendering and the exit code (docs/tools/kitty-parse-tasks.md).
#pragma once

#include <filesystem>
#include <string>

#include "kitty/result.hpp"

namespace kitty {

struct ParseTasksRequest {
    std::string input = "-"; // a tasks.md, a mission directory, a mission selector, or "-"
    std::string stdin_text;  // the document when input is "-" (the tool reads stdin)
    bool deps_only = false;  // print only the 3.1.1 dependency map
    bool strict = false;     // advisory findings become errors
    std::filesystem::path start_dir = "."; // where a selector's project search starts
};

Outcome parse_tasks(const ParseTasksRequest& request);

} // namespace kitty
