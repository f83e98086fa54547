// kitty-workspace: the lane workspaces of a mission (git worktrees under .worktrees/).
#include <unistd.h>

#include "../builtins.hpp"
#include "kitty/cli.hpp"
#include "kitty/loop.hpp"

int kitty::builtin::kitty_workspace(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-workspace",
        "Lane workspaces: each code lane of a mission works in its own git worktree,\n"
        ".worktrees/<slug>-<lane>, on branch kitty/mission-<slug>-<lane>; planning work uses\n"
        "the main checkout. `allocate` is spec-kitty's internal `implement` (agents use\n"
        "`spec-kitty next` and `agent action implement`); `list` shows the lanes; `remove`\n"
        "removes a lane's worktree; `sync` merges into a lane what it builds on.");
    CLI::App& app = tool.app();
    app.require_subcommand(1);
    kitty::WorkspaceRequest request;
    request.shell_pid = std::to_string(::getppid());
    std::function<kitty::Outcome()> action;

    CLI::App* alloc = app.add_subcommand(
        "allocate",
        "Internal, for spec-kitty 3.1.1 compatibility (`spec-kitty implement`): make or reuse "
        "the workspace of a WP, write its context file, and claim a planned WP (actor "
        "implement-command) with one commit. Agents use `spec-kitty next` and `spec-kitty agent "
        "action implement` instead");
    alloc->add_option("wp", request.wp_id, "The work package, e.g. WP01")->required();
    tool.non_empty(alloc->add_option("--mission,--feature", request.target.mission,
                                     "The mission: slug, number, mission_id or prefix (default: "
                                     "the mission of the directory you stand in, else the one "
                                     "open mission)"),
                   "BAD_MISSION");
    tool.non_empty(alloc->add_option("--actor", request.actor, "Who records the claim"),
                   "BAD_AGENT")
        ->default_str("implement-command");
    alloc->callback([&] { action = [&] { return kitty::workspace_allocate_command(request); }; });

    CLI::App* list = app.add_subcommand("list", "The mission's lanes, worktrees and branches");
    list->add_option("mission", request.target.mission, "The mission (selector or directory)");
    list->add_option("--mission", request.target.mission, "The mission, as spec-kitty spells it");
    list->callback([&] { action = [&] { return kitty::workspace_list_command(request); }; });

    CLI::App* remove = app.add_subcommand(
        "remove", "Remove a lane's worktree and context file (refused while it has uncommitted "
                  "changes)");
    remove->add_option("lane", request.lane_id, "The lane, e.g. lane-a")->required();
    remove->add_option("--mission", request.target.mission, "The mission (selector or directory)");
    remove->add_flag("--force", request.force,
                     "Remove it even with uncommitted changes (they are lost)");
    remove->add_flag("--delete-branch", request.delete_branch, "Delete the lane branch too");
    remove->callback([&] { action = [&] { return kitty::workspace_remove_command(request); }; });
    kitty::LaneSyncRequest sync_request;
    sync_request.shell_pid = request.shell_pid;
    CLI::App* sync = app.add_subcommand(
        "sync",
        "Bring lanes up to date with what they build on: the mission branch and the lanes "
        "each depends on are merged into the lane branch (merge commits, never a rebase), and "
        "its worktree follows. Only when every merge is clean, the worktree is clean and no "
        "other agent works in the lane; otherwise the lane is left as it was and the "
        "conflicting files are named (exit 1). Spelled `spec-kitty lanes sync` too");
    sync->add_option("lanes", sync_request.lane_ids,
                     "The lanes, e.g. lane-b (default: every code lane; held or dirty ones are "
                     "then skipped and reported)");
    tool.non_empty(sync->add_option("--mission,--feature", sync_request.target.mission,
                                    "The mission: slug, number, mission_id or prefix (default: "
                                    "the mission of the directory you stand in, else the one "
                                    "open mission)"),
                   "BAD_MISSION");
    tool.non_empty(sync->add_option("--agent", sync_request.agent,
                                    "Who syncs: a lane this agent works in may be synced"),
                   "BAD_AGENT");
    sync->callback([&] { action = [&] { return kitty::lanes_sync_command(sync_request); }; });
    return tool.run(argc, argv, [&] { return action(); });
}
