// `spec-kitty doctor` (issue 22 §5, docs/tools/kitty-doctor.md): finds what wedges a
// project — lane worktrees and branches, status.json, interrupted merges, stale git locks,
// stale claims, uncommitted review feedback, command files, a .kittify of a newer kitty —
// each with one named repair; --fix repairs what is safe and never touches uncommitted work.
#pragma once

#include <filesystem>
#include <string>

#include "kitty/result.hpp"

namespace kitty {

struct DoctorRequest {
    std::string mission; // empty: every mission of the project
    std::filesystem::path start_dir = ".";
    bool fix = false;
    std::string scope; // "", or 3.1.1's "command-files" or "state-roots": only those checks
};

// Exit 0 when nothing is left to repair (nothing found, or all of it fixed), else 1.
Outcome doctor_command(const DoctorRequest& request);

} // namespace kitty
