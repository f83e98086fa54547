// kitty-dashboard: a mission as one self-contained HTML page, written to a file or served on
// 127.0.0.1 while it changes.
#include "kitty/cli.hpp"
#include "kitty/dashboard_server.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-dashboard",
        "A mission as one self-contained HTML page: the work packages as a kanban (one column\n"
        "per lane state), the execution lanes and their dependencies as a graph, the event\n"
        "timeline and what needs attention (blocked work, stale claims, dead agents, conflicts\n"
        "the merge forecast finds). Nothing is loaded from the network.\n"
        "  kitty-dashboard --output FILE   write the page (works from file://)\n"
        "  kitty-dashboard                 serve it in the background on 127.0.0.1 only; the\n"
        "                                  open page follows the mission without a reload\n"
        "  kitty-dashboard --kill          stop the server this project started\n"
        "The server is recorded in .kittify/.dashboard (URL, port, token, pid).");
    CLI::App& app = tool.app();
    kitty::DashboardRequest request;
    std::string output;
    double lease_minutes = 0;
    tool.non_empty(app.add_option("--mission,--feature", request.target.mission,
                                  "The mission: slug, number, mission_id or prefix (default: the "
                                  "mission of the directory you stand in, else the one open "
                                  "mission)"),
                   "BAD_MISSION");
    tool.non_empty(app.add_option("--output,-o", output,
                                  "Write the page to FILE (atomically) instead of serving it"),
                   "BAD_OUTPUT");
    app.add_option("--port", request.port, "Serve on this port of 127.0.0.1 (default: a free one)")
        ->check(CLI::Range(1, 65535));
    app.add_flag("--open", request.open, "Open the page in the browser (xdg-open)");
    app.add_flag("--kill", request.kill, "Stop the dashboard server of this project");
    app.add_option("--lease", lease_minutes,
                   "Minutes without a sign of life after which a claim counts as stale "
                   "(default: claim_lease_minutes in .kittify/config.yaml, else 30)")
        ->check(kitty::finite_range(1, 525600));
    app.get_option("--output")->excludes("--kill");
    app.get_option("--port")->excludes("--kill")->excludes("--output");
    return tool.run(argc, argv, [&] {
        if (!output.empty()) {
            request.output = output;
        }
        if (lease_minutes > 0) {
            request.lease_seconds = static_cast<std::int64_t>(lease_minutes * 60);
        }
        return kitty::dashboard_command(request);
    });
}
