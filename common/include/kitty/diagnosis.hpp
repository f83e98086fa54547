// What `doctor` finds (issue 22 §5): one problem, where it is, and its one named repair —
// what --fix does when it is safe, else the command a person runs.
#pragma once

#include <filesystem>
#include <string>

#include "kitty/json.hpp"

namespace kitty {

struct Diagnosis {
    std::string code;    // UPPER_SNAKE, e.g. LANE_WORKTREE_MISSING
    std::string subject; // a lane, WP, file or mission
    std::string message;
    std::string repair;   // what repairs it
    bool fixable = false; // --fix may repair it: nothing uncommitted is touched
    bool fixed = false;
    std::filesystem::path path; // empty when no file is to blame
    bool note = false; // worth knowing, not a problem: it does not make the project unhealthy

    Json to_json() const {
        return {{"code", code},
                {"subject", subject},
                {"message", message},
                {"repair", repair},
                {"fixable", fixable},
                {"fixed", fixed},
                {"path", path.empty() ? Json(nullptr) : Json(path.string())},
                {"severity", note ? "note" : "problem"}};
    }
};

} // namespace kitty
