// The state of one mission as doctor checks it (issue 22 §5, docs/tools/kitty-doctor.md):
// lane worktrees and branches, status.json against the log, an interrupted merge, stale
// claims, uncommitted review feedback.
#pragma once

#include <vector>

#include "kitty/diagnosis.hpp"
#include "kitty/mission.hpp"

namespace kitty {

// Every problem of the mission; with `fix`, the fixable ones repaired (under the status
// lock) and marked fixed. A fix never removes or overwrites uncommitted work.
std::vector<Diagnosis> diagnose_mission(const Mission& mission, bool fix);

} // namespace kitty
