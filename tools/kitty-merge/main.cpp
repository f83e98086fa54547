// kitty-merge: a mission's approved lanes into its mission branch, then onto the target;
// and the git merge driver of status.events.jsonl.
#include "kitty/cli.hpp"
#include "kitty/merge.hpp"
#include "kitty/status.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-merge",
        "Merge a mission: each approved lane branch into kitty/mission-<slug> (code lanes in\n"
        "dependency order, then the target), then that branch onto the target (squash by\n"
        "default), then `done` for every work package and the lane worktrees and branches\n"
        "removed. Every check comes before any branch moves. A conflict stops in the merge\n"
        "worktree .worktrees/<slug>-merge with the target untouched: resolve the files there,\n"
        "then --resume; --abort restores the mission branch. The main checkout must have the\n"
        "target checked out and clean; its index and files follow the new target commit.\n"
        "`event-log-driver` is the git merge driver of status.events.jsonl that kitty-init\n"
        "registers (git runs it as `spec-kitty merge-driver-event-log %O %A %B`).");
    CLI::App& app = tool.app();
    app.require_subcommand(0, 1);
    kitty::MergeRequest request;
    app.add_option("mission", request.target.mission,
                   "The mission: slug, number, mission_id or prefix (default: the lane "
                   "worktree's mission, else the one open mission)");
    tool.non_empty(app.add_option("--mission,--feature", request.target.mission,
                                  "The mission, as spec-kitty spells it"),
                   "BAD_MISSION");
    app.add_option("--target", request.target_branch,
                   "The branch to merge into (default: lanes.json's target_branch, else main)");
    app.add_option("--strategy", request.strategy,
                   "squash: one commit on the target (default); merge: keep the lanes' history; "
                   "rebase is refused (3.1.1's reported success and moved nothing). Default from "
                   "merge.strategy in .kittify/config.yaml")
        ->check(CLI::IsMember({"squash", "merge", "rebase"}));
    app.add_flag(
        "--dry-run", request.dry_run,
        "Print the plan, every problem that would stop the merge and a forecast made by merging "
        "every lane in memory; change nothing (exit 1 when the merge would stop on a conflict)");
    app.add_flag("--keep-worktrees,--keep-worktree", request.keep_worktrees,
                 "Leave the lane worktrees and context files in place");
    app.add_flag("--keep-branches,--keep-branch", request.keep_branches,
                 "Leave the lane branches and the mission branch in place");
    auto* resume = app.add_flag("--resume", request.resume,
                                "Continue an interrupted merge (after resolving a conflict)");
    app.add_flag("--abort", request.abort,
                 "Give up an interrupted merge: the merge worktree removed, the mission branch "
                 "restored; refused once the target has moved")
        ->excludes(resume);
    std::function<kitty::Outcome()> action = [&] { return kitty::merge_command(request); };

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
