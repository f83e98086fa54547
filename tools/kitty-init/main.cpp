// kitty-init: make a directory a kitty project, with command files for the chosen agents.
#include "kitty/cli.hpp"
#include "kitty/init.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-init",
        "Make DIR (default: the current directory) a kitty project. It writes files only:\n"
        ".kittify/config.yaml, metadata.yaml and manifest.json, the managed lines of .gitignore\n"
        "and .gitattributes, and for each agent named with --ai its command files in the\n"
        "agent's own directory inside the project (e.g. .claude/commands/).\n"
        "It never runs git, creates no .git/, commits nothing, and writes nothing outside DIR\n"
        "or in your home directory. Whether DIR becomes a git repository is your choice.\n"
        "Without --ai, the agents are asked for when stdin is a terminal; otherwise (also with\n"
        "--non-interactive or SPEC_KITTY_NON_INTERACTIVE=1) --ai is required.\n"
        "Re-running with the same agents changes nothing; with other agents it is refused.\n"
        "Afterwards the agent loop is `spec-kitty next --agent <agent> --mission <slug>`, with\n"
        "`spec-kitty agent action implement|review <WP> --agent <agent>` per work package.");
    CLI::App& app = tool.app();
    kitty::InitRequest request;
    bool list = false;
    app.add_option("dir", request.dir, "The project directory (created if missing); . for here");
    app.add_option("--ai", request.ai,
                   "Comma-separated agent keys, e.g. claude,codex (see --list-agents)");
    app.add_flag("--non-interactive,--yes", request.non_interactive,
                 "Never prompt; --ai is then required");
    app.add_flag("--dry-run", request.dry_run, "Print every file init would write; write nothing");
    app.add_flag("--list-agents", list, "List the agent keys with their command directories");
    if (kitty::stdin_is_terminal()) {
        request.ask = kitty::ask_terminal;
    }
    return tool.run(argc, argv,
                    [&] { return list ? kitty::list_agents() : kitty::init_project(request); });
}
