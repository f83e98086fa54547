// kitty-init: make a directory a kitty project: .kittify/ (config, metadata, manifest),
// the managed .gitignore and .gitattributes lines, and each chosen agent's command files
// in the agent's own directory inside the project. Files only, nothing in $HOME; the one
// git write is the event-log merge driver's two keys in the local config of a repository
// the project is in, when unset (docs/tools/kitty-init.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/diagnosis.hpp"
#include "kitty/result.hpp"

namespace kitty {

// One agent of spec-kitty 3.1.1's registry (templates/init/agents.json).
struct AgentInfo {
    std::string key;         // "claude"
    std::string name;        // "Claude Code"
    std::string command_dir; // ".claude/commands", inside the project
    std::string extension;   // "md", "prompt.md" or "toml"
    std::string arguments;   // how the agent spells the user's input: $ARGUMENTS, {{args}}
    std::string shim_arguments;
    std::string folder;    // ".claude/"
    std::string gitignore; // its .gitignore entry

    bool toml() const { return extension == "toml"; }
};

// The 13 agents, in the registry's order.
const std::vector<AgentInfo>& agent_registry();

// The .gitignore entries init manages: the agent folders in 3.1.1's order, then
// the runtime entries.
const std::vector<std::string>& managed_gitignore_entries();

// An --ai value: split on "," and ";", trimmed, lower-cased, duplicates dropped (first
// kept). Unknown keys, or none, are Error(Exit::usage) listing the valid keys.
std::vector<const AgentInfo*> parse_agent_selection(std::string_view value);

// An agent's command files: (path inside the project, content), 9 prompts then 7 shims,
// named spec-kitty.<command>.<extension> as 3.1.1 names them (codex: "-" becomes "_").
std::vector<std::pair<std::string, std::string>> agent_command_files(const AgentInfo& agent);

// .gitignore after adding the managed entries that are missing (3.1.1's ensure_entries:
// a marker line, entries appended at the end, CRLF kept, user lines untouched), or
// nullopt when none is missing. `existing` is nullopt for no file.
std::optional<std::string>
gitignore_with_managed_entries(const std::optional<std::string>& existing);

// .gitattributes with the status-log merge line, or nullopt when it is already there.
std::optional<std::string>
gitattributes_with_merge_line(const std::optional<std::string>& existing);

struct InitRequest {
    std::optional<std::string> dir;        // nullopt or ".": the current directory
    std::optional<std::string> ai;         // comma-separated agent keys
    bool non_interactive = false;          // never prompt (also SPEC_KITTY_NON_INTERACTIVE)
    bool dry_run = false;                  // print the plan, write nothing
    std::filesystem::path start_dir = "."; // what "." means
    Prompt ask;                            // set when a person can pick agents (a terminal)
};

// Runs init: a fresh project, "already initialized" (same agents: no file written), or a
// conflict (other agents, or files in the way: exit 4, nothing written). Both successes set
// the merge driver's git config keys that are unset (not with dry_run).
Outcome init_project(const InitRequest& request);

// The files .kittify/manifest.json records, each with what init wrote (its sha256) and its
// state now: unchanged, edited or missing. No manifest: none. A malformed one is
// Error(Exit::input, "INVALID_MANIFEST").
struct ManifestFile {
    std::string path; // relative to the project root
    std::string sha256;
    std::string state;
};
std::vector<ManifestFile> read_manifest_files(const std::filesystem::path& root);

// doctor's check of the agents' command files against the manifest and this kitty's
// templates: COMMAND_FILE_MISSING and COMMAND_FILE_OUTDATED (fixable: kitty's version written
// and the manifest updated), COMMAND_FILE_EDITED (the user's; never overwritten).
std::vector<Diagnosis> check_command_files(const std::filesystem::path& root, bool fix);

// The registry as a document: {agents: [{key, name, command_dir, extension, format}]}.
Outcome list_agents();

} // namespace kitty
