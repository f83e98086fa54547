// kitty-lanes: execution lanes of a mission as spec-kitty 3.1.1 computes them, explained.
#include "kitty/cli.hpp"
#include "kitty/lanes_report.hpp"

namespace {

void add_compute_options(CLI::App& cmd, kitty::ComputeLanesRequest& r) {
    cmd.add_option("input", r.input,
                   "A mission directory or selector, a JSON file (stdin schema or "
                   "kitty-parse-tasks output), or - for stdin")
        ->default_str("-");
    cmd.add_option("--computed-at", r.computed_at,
                   "The computed_at timestamp to write (default: SOURCE_DATE_EPOCH, else now)");
    cmd.add_option("--target-branch", r.target_branch,
                   "The branch lanes merge into (default: the branch checked out in the "
                   "mission's repository; main when detached or not a repository)");
    cmd.add_option("--mission-slug", r.mission_slug,
                   "The slug written into lanes.json and branch names (default: the mission "
                   "directory's name)");
    cmd.add_option("--mission-id", r.mission_id,
                   "The mission_id to write (default: meta.json's mission_id, else the slug)");
}

} // namespace

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-lanes",
        "Compute a mission's execution lanes exactly as spec-kitty 3.1.1 does (lanes.json,\n"
        "byte for byte), explain why work packages share a lane, and resolve a work package\n"
        "to the branch and workspace it runs in. Planning-artifact WPs all belong to the one\n"
        "lane \"lane-planning\", which runs in the main checkout on the target branch.");
    CLI::App& app = tool.app();
    app.require_subcommand(1);
    std::function<kitty::Outcome()> action;
    const std::filesystem::path here = ".";

    kitty::ComputeLanesRequest compute;
    CLI::App* c = app.add_subcommand(
        "compute", "Print lanes.json for a mission (or write it with --write); --format text "
                   "explains it");
    add_compute_options(*c, compute);
    c->add_flag("--write", compute.write,
                "Atomically replace <mission>/lanes.json instead of printing it (INPUT must name "
                "a mission inside a project, not a document)");
    c->callback([&] {
        action = [&] {
            compute.for_people = tool.format() == kitty::Format::text;
            if (compute.input == "-") {
                compute.stdin_text = kitty::read_stdin();
            }
            return kitty::compute_lanes_command(compute);
        };
    });

    kitty::ComputeLanesRequest explain;
    CLI::App* e = app.add_subcommand(
        "explain", "Compute lanes and explain them: the merges with their rule and evidence, and "
                   "the WPs with no dependency between them that ended up in one lane");
    add_compute_options(*e, explain);
    e->callback([&] {
        action = [&] {
            if (explain.input == "-") {
                explain.stdin_text = kitty::read_stdin();
            }
            return kitty::explain_lanes_command(explain);
        };
    });

    std::string mission, wp_id;
    CLI::App* r = app.add_subcommand(
        "resolve", "Where a WP runs: {wp_id, lane_id, branch, workspace, is_planning_lane} "
                   "from the mission's lanes.json");
    r->add_option("mission", mission, "A mission directory or selector")->required();
    r->add_option("wp", wp_id, "A work package id, e.g. WP03")->required();
    r->callback(
        [&] { action = [&] { return kitty::resolve_lane_command(mission, wp_id, here); }; });

    std::string show_input;
    CLI::App* s = app.add_subcommand(
        "show", "Read and validate an existing lanes.json (any shape spec-kitty has written)");
    s->add_option("input", show_input, "A mission directory or selector, or a lanes.json path")
        ->required();
    s->callback([&] { action = [&] { return kitty::show_lanes_command(show_input, here); }; });

    return tool.run(argc, argv, [&] { return action(); });
}
