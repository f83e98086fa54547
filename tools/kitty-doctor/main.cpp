// kitty-doctor: what wedges a project, each with its repair; --fix repairs what is safe.
#include "kitty/cli.hpp"
#include "kitty/doctor.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-doctor",
        "Finds what wedges a spec-kitty project, each finding with one named repair: lane\n"
        "worktrees missing or on another branch, lane branches deleted with work in progress,\n"
        "status.json out of step with the event log, interrupted merges, stale git lock files,\n"
        "stale claims, uncommitted review feedback, command files missing, outdated or edited,\n"
        "a .kittify written by a newer kitty. --fix repairs what is safe: it never removes or\n"
        "overwrites uncommitted work. Exit 0 when nothing is left to repair, 1 otherwise.\n"
        "  kitty-doctor [--mission S] [--fix]\n"
        "  kitty-doctor command-files [--fix]     only the command files (3.1.1's spelling)\n"
        "  kitty-doctor state-roots [--fix]       only the project's and missions' state");
    CLI::App& app = tool.app();
    kitty::DoctorRequest request;
    tool.non_empty(app.add_option("--mission,--feature", request.mission,
                                  "Check only this mission (default: every mission)"),
                   "BAD_MISSION");
    app.add_flag("--fix", request.fix, "Repair what is safe to repair");
    app.require_subcommand(0, 1);
    for (const char* scope : {"command-files", "state-roots"}) {
        CLI::App* sub =
            app.add_subcommand(scope, std::string(scope) == "command-files"
                                          ? "Only the agents' command files against the manifest"
                                          : "Only the project's and the missions' state");
        sub->add_flag("--fix", request.fix, "Repair what is safe to repair");
        sub->callback([&request, scope] { request.scope = scope; });
    }
    return tool.run(argc, argv, [&] { return kitty::doctor_command(request); });
}
