// kitty-next: the agent loop. `next` decides what an agent does; `implement` and `review`
// are the agent actions that claim a work package and open its workspace.
#include <unistd.h>

#include "../builtins.hpp"
#include "kitty/cli.hpp"
#include "kitty/loop.hpp"
#include "kitty/mission_views.hpp"

namespace {

void add_mission(kitty::Tool& tool, CLI::App* app, kitty::LoopTarget& target) {
    tool.non_empty(app->add_option("--mission,--feature", target.mission,
                                   "The mission: slug, number, mission_id or prefix (default: "
                                   "the mission of the directory you stand in, else the one "
                                   "open mission)"),
                   "BAD_MISSION");
}

} // namespace

int kitty::builtin::kitty_next(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-next",
        "The agent loop of spec-kitty: `next` tells an agent what to do next in a mission and\n"
        "hands out work packages by their dependencies and claims; `implement` and `review`\n"
        "claim a work package, open its workspace (a lane worktree made with libgit2, or the\n"
        "main checkout for planning work), commit the claim and write the prompt. Files,\n"
        "branches, events and commit subjects are spec-kitty 3.1.1's.\n"
        "  kitty-next --mission S                  read-only query: where the mission stands\n"
        "  kitty-next --agent A                    the issued step, issuing the next one when\n"
        "                                          none is; never completes a step\n"
        "  kitty-next --agent A --result success   the issued step is done: check its guard,\n"
        "                                          complete it, issue the next\n"
        "Before it answers accept or terminal, next merges the mission in memory; a conflict\n"
        "becomes a `resolve` step in the conflicting lane's worktree, the merge started there.\n"
        "The decision's next_command is the command to run next.");
    CLI::App& app = tool.app();
    app.require_subcommand(0, 1);

    kitty::NextRequest next;
    next.shell_pid = std::to_string(::getppid());
    std::string result;
    add_mission(tool, &app, next.target);
    tool.non_empty(
        app.add_option("--agent", next.agent, "Who asks (needed to issue steps and hand out work)"),
        "BAD_AGENT");
    tool.non_empty(app.add_option("--result", result,
                                  "Report the issued step: success completes it (once its guard "
                                  "holds) and issues the next; failed or blocked records why and "
                                  "returns blocked"),
                   "BAD_RESULT");
    std::function<kitty::Outcome()> action = [&] {
        if (!result.empty()) {
            next.result = result;
        }
        return kitty::next_command(next);
    };

    kitty::ActionRequest act;
    act.shell_pid = std::to_string(::getppid());
    for (const char* verb : {"implement", "review"}) {
        const bool review = std::string(verb) == "review";
        CLI::App* sub = app.add_subcommand(
            verb, review ? "Claim a work package for review (for_review -> in_review), commit the "
                           "claim and write the review prompt"
                         : "Claim a work package for implementation, make or reuse its workspace, "
                           "commit the claim and write the prompt");
        sub->add_option("wp", act.wp_id,
                        review ? "The work package (default: the first one for review)"
                               : "The work package (default: the first ready one)");
        tool.non_empty(sub->add_option("--agent", act.agent, "Who claims it (required)"),
                       "BAD_AGENT");
        add_mission(tool, sub, act.target);
        sub->callback([&, review] {
            action = [&, review] {
                // --agent and --mission may also come before the verb.
                if (act.agent.empty()) {
                    act.agent = next.agent;
                }
                if (act.target.mission.empty()) {
                    act.target.mission = next.target.mission;
                }
                return review ? kitty::review_action_command(act)
                              : kitty::implement_action_command(act);
            };
        });
    }
    kitty::AcceptRequest accept;
    CLI::App* acc = app.add_subcommand(
        "accept",
        "The acceptance gate: every WP approved or done, every subtask ticked, no [NEEDS "
        "CLARIFICATION] marker, spec.md, plan.md and tasks.md present, a clean main checkout, "
        "lanes.json present and the merge's forecast clean. Any unmet check is listed with its "
        "file and fix (exit 1) and nothing is written; otherwise the acceptance is recorded in "
        "meta.json and committed as \"Accept <slug>\". Spelled `spec-kitty accept` and "
        "`spec-kitty agent mission accept` too");
    add_mission(tool, acc, accept.target);
    acc->add_option("--mode", accept.mode,
                    "auto (pr when the repository has a remote, else local), pr, local, or "
                    "checklist (the checks only, nothing written)")
        ->default_str("auto");
    tool.non_empty(acc->add_option("--actor", accept.actor,
                                   "Who accepts (default: $USER, else $USERNAME, else system)"),
                   "BAD_AGENT");
    acc->add_flag("--lenient", accept.lenient,
                  "Do not require agent, shell_pid and assignee in the WP frontmatter");
    acc->add_flag("--no-commit", accept.no_commit, "Run every check; write and commit nothing");
    acc->callback([&] {
        action = [&] {
            if (accept.target.mission.empty()) {
                accept.target.mission = next.target.mission;
            }
            return kitty::accept_command(accept);
        };
    });

    // 3.1.1's `mission list|current|info`: the mission types (the blueprint a mission runs).
    CLI::App* types = app.add_subcommand(
        "mission", "Mission types, the blueprint each mission runs: list, current, info");
    types->require_subcommand(1);
    types
        ->add_subcommand("list", "The mission types kitty runs, and the types this project's "
                                 "missions record")
        ->callback(
            [&] { action = [&] { return kitty::mission_list_command(next.target.start_dir); }; });
    kitty::LoopTarget current;
    CLI::App* cur = types->add_subcommand("current", "The type of the current mission, with its "
                                                     "steps");
    add_mission(tool, cur, current);
    cur->callback([&] { action = [&] { return kitty::mission_current_command(current); }; });
    std::string type_key;
    CLI::App* info = types->add_subcommand("info", "One mission type's steps and required "
                                                   "artifacts");
    info->add_option("type", type_key, "The type's key, e.g. software-dev")->required();
    info->callback([&] { action = [&] { return kitty::mission_info_command(type_key); }; });
    return tool.run(argc, argv, [&] { return action(); });
}
