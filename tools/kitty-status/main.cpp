// kitty-status: work-package status from status.events.jsonl, as spec-kitty 3.1.1 keeps it.
#include "kitty/cli.hpp"
#include "kitty/status.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-status",
        "Work-package status of a mission, from its append-only status.events.jsonl, exactly as\n"
        "spec-kitty 3.1.1 reduces it: the report of `spec-kitty agent tasks status` (plus\n"
        "mission_id), a bootstrap that gives every WP a planned event, and validated moves.\n"
        "Writes hold the per-mission status lock spec-kitty uses (flock).");
    CLI::App& app = tool.app();
    kitty::StatusRequest report;
    report.mission = ".";
    app.add_option("mission", report.mission, "A mission directory or selector (default: .)");
    app.add_option("--mission", report.mission, "The same, as spec-kitty spells it");
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
    return tool.run(argc, argv, [&] { return action(); });
}
