// kitty-parse-tasks: the tasks.md dependency map of spec-kitty 3.1.1, explained.
#include "kitty/cli.hpp"
#include "kitty/tasks_report.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-parse-tasks",
        "Parse a tasks.md exactly as spec-kitty 3.1.1 does and explain the result: where every\n"
        "dependency came from (line, column, pattern), subtasks, requirement refs, and findings\n"
        "for the phrasings 3.1.1 silently misreads. Given a mission directory it also reads and\n"
        "validates the WP files' frontmatter and reports where it disagrees with tasks.md.\n"
        "Nothing is written.");
    CLI::App& app = tool.app();
    kitty::ParseTasksRequest request;
    app.add_option("input", request.input,
                   "A tasks.md, a mission directory, a mission selector, or - for stdin")
        ->default_str("-");
    app.add_flag("--deps-only", request.deps_only,
                 "Print only the 3.1.1 dependency map {\"WP01\": [], \"WP02\": [\"WP01\"]}");
    app.add_flag("--strict", request.strict, "Treat warnings as errors (exit 1)");
    return tool.run(argc, argv, [&] { return kitty::parse_tasks(request); });
}
