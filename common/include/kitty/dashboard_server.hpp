// `spec-kitty dashboard` (issue 22 §2, ARCHITECTURE.md decision 14,
// docs/tools/kitty-dashboard.md): the page written to a file, or served in the background on
// 127.0.0.1 only and regenerated when the mission's files change (inotify), with the open
// page following without a reload. The server is recorded in .kittify/.dashboard in 3.1.1's
// four-line format (URL, port, token, pid), so --kill stops the one this project started.
#pragma once

#include "kitty/dashboard.hpp"
#include "kitty/result.hpp"

namespace kitty {

// --output: the file; --kill: stop the recorded server; otherwise start the server (or
// report the one already serving this mission). The document carries url, port and pid.
Outcome dashboard_command(const DashboardRequest& request);

} // namespace kitty
