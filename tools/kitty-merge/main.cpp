// kitty-merge: merging a mission's lanes back into the target, and the git merge driver of
// status.events.jsonl.
#include "kitty/cli.hpp"
#include "kitty/status.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool("kitty-merge",
                     "Merging a mission: `event-log-driver` is the git merge driver of\n"
                     "status.events.jsonl that kitty-init registers (git runs it as\n"
                     "`spec-kitty merge-driver-event-log %O %A %B`).");
    CLI::App& app = tool.app();
    app.require_subcommand(1);
    std::function<kitty::Outcome()> action;

    std::string base, ours, theirs;
    CLI::App* driver = app.add_subcommand(
        "event-log-driver",
        "Merge three versions of a status.events.jsonl as spec-kitty 3.1.1's driver does: the "
        "union by event_id, sorted by (at, event_id), written over OURS. The same event_id with "
        "two payloads is exit 1 and OURS stays as it was, so git leaves the file conflicted. "
        "Prints nothing in text on success (git shows a driver's output)");
    driver->add_option("base", base, "The common ancestor's version (git's %O)")->required();
    driver->add_option("ours", ours, "Our version, replaced by the merge (git's %A)")->required();
    driver->add_option("theirs", theirs, "Their version (git's %B)")->required();
    driver->callback(
        [&] { action = [&] { return kitty::event_log_driver_command(base, ours, theirs); }; });
    return tool.run(argc, argv, [&] { return action(); });
}
