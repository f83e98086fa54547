// kitty-parse-tasks: the spec-kitty 3.1.1 tasks.md dependency parser, explained; and
// finalize-tasks.
#include "kitty/cli.hpp"
#include "kitty/finalize.hpp"
#include "kitty/tasks_report.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-parse-tasks",
        "Parse a tasks.md exactly as spec-kitty 3.1.1 does and explain the result: where every\n"
        "dependency came from (line, column, pattern), subtasks, requirement refs, and findings\n"
        "for the phrasings 3.1.1 silently misreads. Given a mission directory it also reads and\n"
        "validates the WP files' frontmatter and reports where it disagrees with tasks.md.\n"
        "Nothing is written, except by `finalize`.");
    CLI::App& app = tool.app();
    kitty::ParseTasksRequest request;
    app.add_option("input", request.input,
                   "A tasks.md, a mission directory, a mission selector, or - for stdin")
        ->default_str("-");
    app.add_flag("--deps-only", request.deps_only,
                 "Print only the 3.1.1 dependency map {\"WP01\": [], \"WP02\": [\"WP01\"]}");
    app.add_flag("--strict", request.strict, "Treat warnings as errors (exit 1)");
    std::function<kitty::Outcome()> action = [&] {
        if (request.input == "-") {
            request.stdin_text = kitty::read_stdin();
        }
        return kitty::parse_tasks(request);
    };

    kitty::FinalizeRequest finalize;
    CLI::App* f = app.add_subcommand(
        "finalize",
        "finalize-tasks: check the mission (graph, requirement mapping, dependency agreement, "
        "ownership, lanes), then write the WP frontmatter and lanes.json together and "
        "bootstrap the status log. Any failure: exit 1 with every file as it was. No commits.");
    f->add_option("mission", finalize.mission, "A mission directory or selector");
    f->add_option("--mission", finalize.mission, "The same, as spec-kitty spells it");
    f->add_flag("--validate-only", finalize.validate_only,
                "Run every check and report what would change; write nothing");
    f->add_option("--target-branch", finalize.target_branch,
                  "The planning and merge branch (default: the checked-out branch, else main)");
    f->callback([&] {
        action = [&] {
            if (finalize.mission.empty()) {
                throw kitty::Error(kitty::Exit::usage, "MISSING_MISSION", "no mission given",
                                   "pass the mission directory or --mission <slug>");
            }
            return kitty::finalize_tasks_command(finalize);
        };
    });
    return tool.run(argc, argv, [&] { return action(); });
}
