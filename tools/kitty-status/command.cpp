// kitty-status: work-package status from status.events.jsonl, as spec-kitty 3.1.1 keeps it.
#include <unistd.h>

#include "../builtins.hpp"
#include "kitty/cli.hpp"
#include "kitty/loop.hpp"
#include "kitty/status.hpp"

int kitty::builtin::kitty_status(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-status",
        "Work-package status of a mission, from its append-only status.events.jsonl, exactly as\n"
        "spec-kitty 3.1.1 reduces it: the report of `spec-kitty agent tasks status` (plus\n"
        "mission_id), a bootstrap that gives every WP a planned event, and validated moves.\n"
        "Writes hold the per-mission status lock spec-kitty uses (flock).");
    CLI::App& app = tool.app();
    kitty::StatusRequest report;
    app.add_option("mission", report.mission,
                   "A mission directory or selector (default: the mission of the directory you "
                   "stand in, else the one open mission)");
    tool.non_empty(app.add_option("--mission", report.mission, "The same, as spec-kitty spells it"),
                   "BAD_MISSION");
    app.add_flag("--all", report.all,
                 "Every mission of the project, one row each: state, progress, WPs, lanes, "
                 "target")
        ->excludes("mission")
        ->excludes("--mission");
    app.add_option("--stale-threshold", report.stale_threshold_minutes,
                   "Minutes without a commit after which an in-progress WP is stale")
        ->default_str("10");
    std::function<kitty::Outcome()> action = [&] { return kitty::status_report_command(report); };

    kitty::StatusRequest boot;
    std::string actor = "finalize-tasks";
    CLI::App* b = app.add_subcommand("bootstrap",
                                     "Append a planned event for every WP file without one, then "
                                     "write status.json");
    b->add_option("mission", boot.mission, "A mission directory or selector")->required();
    b->add_option("--actor", actor, "Who records the events")->default_str("finalize-tasks");
    b->callback([&] { action = [&] { return kitty::status_bootstrap_command(boot, actor); }; });

    kitty::MoveRequest move;
    move.actor = "kitty";
    std::string reason;
    CLI::App* mv = app.add_subcommand(
        "move", "Move a WP to another lane: the transition is checked against 3.1.1's lane "
                "workflow and appended as one event");
    mv->add_option("mission", move.mission.mission, "A mission directory or selector")->required();
    mv->add_option("wp", move.wp_id, "The work package, e.g. WP03")->required();
    mv->add_option("--to", move.to_lane,
                   "The lane (planned, claimed, in_progress, for_review, "
                   "in_review, approved, done, blocked, canceled; doing)")
        ->required();
    mv->add_option("--actor", move.actor, "Who makes the move")->default_str("kitty");
    mv->add_option("--reason", reason,
                   "Why (required with --force and for in_progress -> planned)");
    mv->add_flag("--force", move.force, "Skip the workflow check (needs --actor and --reason)");
    mv->callback([&] {
        action = [&] {
            if (!reason.empty()) {
                move.reason = reason;
            }
            return kitty::status_move_command(move);
        };
    });
    // The hand-off verbs of the agent loop (spec-kitty agent tasks …).
    const std::string shell_pid = std::to_string(::getppid());
    const auto add_mission = [&tool](CLI::App* sub, kitty::LoopTarget& target) {
        tool.non_empty(sub->add_option("--mission,--feature", target.mission,
                                       "The mission: slug, number, mission_id or prefix (default: "
                                       "the mission of the directory you stand in, else the one "
                                       "open mission)"),
                       "BAD_MISSION");
    };
    kitty::MoveTaskRequest handoff;
    handoff.shell_pid = shell_pid;
    std::string feedback_file;
    CLI::App* mt = app.add_subcommand(
        "move-task", "Hand a WP off or give a review verdict: checks ownership, feedback, "
                     "subtasks and the workspace, then records the events and commits");
    mt->add_option("wp", handoff.wp_id, "The work package, e.g. WP01")->required();
    mt->add_option("--to", handoff.to_lane,
                   "The lane: for_review, approved, planned (with "
                   "feedback), done, …")
        ->required();
    add_mission(mt, handoff.target);
    tool.non_empty(mt->add_option("--agent", handoff.agent, "Who moves it"), "BAD_AGENT");
    mt->add_option("--note", handoff.note, "Why; also the activity-log line");
    mt->add_option("--review-feedback-file", feedback_file,
                   "The reviewer's feedback (required with --to planned); kept as a committed "
                   "review-cycle file");
    mt->add_option("--reviewer", handoff.reviewer,
                   "The reviewer recorded on approval "
                   "(default: --agent)");
    mt->add_option("--approval-ref", handoff.approval_ref, "The approval's reference");
    mt->add_flag("--force", handoff.force, "Skip the ownership, subtask and readiness checks");
    mt->callback([&] {
        action = [&] {
            if (!feedback_file.empty()) {
                handoff.review_feedback_file = feedback_file;
            }
            return kitty::move_task_command(handoff);
        };
    });

    kitty::MarkStatusRequest mark;
    mark.shell_pid = shell_pid;
    CLI::App* ms = app.add_subcommand("mark-status", "Tick (or untick) subtasks in tasks.md and "
                                                     "commit");
    ms->add_option("task_ids", mark.task_ids, "Subtask ids, e.g. T001 T002")->required();
    ms->add_option("--status", mark.status, "done or pending")->required();
    tool.non_empty(ms->add_option("--agent", mark.agent,
                                  "Who ticks them (checked, as on the other hand-offs)"),
                   "BAD_AGENT");
    add_mission(ms, mark.target);
    ms->callback([&] { action = [&] { return kitty::mark_status_command(mark); }; });

    kitty::AddHistoryRequest history;
    history.shell_pid = shell_pid;
    CLI::App* ah = app.add_subcommand("add-history", "Add a line to a WP's activity log (no lane "
                                                     "change, no commit)");
    ah->add_option("wp", history.wp_id, "The work package")->required();
    ah->add_option("--note", history.note, "The line, e.g. \"Blocked: waiting for the API\"")
        ->required();
    tool.non_empty(ah->add_option("--agent", history.agent, "Who writes it"), "BAD_AGENT");
    add_mission(ah, history.target);
    ah->callback([&] { action = [&] { return kitty::add_history_command(history); }; });
    return tool.run(argc, argv, [&] { return action(); });
}
