// The agent registry and the command files rendered for each agent, from templates/init.
#include <algorithm>
#include <cctype>

#include "kitty/error.hpp"
#include "kitty/init.hpp"
#include "kitty/json.hpp"
#include "kitty/templates.hpp"
#include "kitty/text.hpp"
#include "kitty/version.hpp"

namespace kitty {

namespace {

const Json& registry_document() {
    static const Json doc = parse_json(embedded_template("init/agents.json"), "init/agents.json");
    return doc;
}

std::string file_name(const AgentInfo& agent, std::string command) {
    if (agent.key == "codex") {
        std::replace(command.begin(), command.end(), '-', '_');
    }
    return agent.command_dir + "/spec-kitty." + command + "." + agent.extension;
}

std::string version_marker() {
    return "<!-- spec-kitty-command-version: " + std::string(version) + " -->\n";
}

// Markdown: the marker, a description header, the body. TOML: description and a prompt
// string holding the marker and the body (basic multi-line string, so no escapes needed
// beyond the description's quotes).
std::string render(const AgentInfo& agent, const std::string& description, std::string body) {
    body = replace_all(std::move(body), "$ARGUMENTS", agent.arguments);
    body = replace_all(std::move(body), "__AGENT__", agent.key);
    if (agent.toml()) {
        return "description = \"" + replace_all(description, "\"", "\\\"") +
               "\"\n\nprompt = \"\"\"\n" + version_marker() + body + "\"\"\"\n";
    }
    return version_marker() + "---\ndescription: " + description + "\n---\n\n" + body;
}

} // namespace

const std::vector<std::string>& managed_gitignore_entries() {
    static const std::vector<std::string> entries = [] {
        std::vector<std::string> out;
        for (const char* list : {"gitignore_order", "gitignore_runtime"}) {
            for (const Json& e : registry_document()[list]) {
                out.push_back(e);
            }
        }
        return out;
    }();
    return entries;
}

const std::vector<AgentInfo>& agent_registry() {
    static const std::vector<AgentInfo> agents = [] {
        std::vector<AgentInfo> out;
        for (const Json& a : registry_document()["agents"]) {
            out.push_back({a["key"], a["name"], a["command_dir"], a["extension"], a["arguments"],
                           a["shim_arguments"], a["folder"], a["gitignore"]});
        }
        return out;
    }();
    return agents;
}

std::vector<const AgentInfo*> parse_agent_selection(std::string_view value) {
    std::string keys;
    for (const AgentInfo& a : agent_registry()) {
        keys += (keys.empty() ? "" : ", ") + a.key;
    }
    std::vector<const AgentInfo*> out;
    std::vector<std::string> unknown;
    std::string part;
    const auto take = [&] {
        std::string key;
        for (const char c : part) {
            if (!std::isspace(static_cast<unsigned char>(c))) {
                key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        }
        part.clear();
        if (key.empty()) {
            return;
        }
        const auto it = std::find_if(agent_registry().begin(), agent_registry().end(),
                                     [&](const AgentInfo& a) { return a.key == key; });
        if (it == agent_registry().end()) {
            unknown.push_back(key);
        } else if (std::find(out.begin(), out.end(), &*it) == out.end()) {
            out.push_back(&*it);
        }
    };
    for (const char c : value) {
        if (c == ',' || c == ';') {
            take();
        } else {
            part += c;
        }
    }
    take();
    if (!unknown.empty()) {
        const std::string list = join(unknown);
        throw Error(Exit::usage, "UNKNOWN_AGENT", "unknown agent(s) for --ai: " + list,
                    "choose from: " + keys + " (kitty-init --list-agents)");
    }
    if (out.empty()) {
        throw Error(Exit::usage, "NO_AGENT", "--ai names no agent",
                    "pass --ai with one or more of: " + keys);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> agent_command_files(const AgentInfo& agent) {
    std::vector<std::pair<std::string, std::string>> files;
    const Json& commands = registry_document()["commands"];
    for (const Json& name : commands["prompts"]) {
        const CommandTemplate t = command_template(name.get<std::string>());
        files.emplace_back(file_name(agent, name), render(agent, t.description, t.body));
    }
    const std::string_view shim = embedded_template("init/shim.md");
    for (const Json& s : commands["shims"]) {
        const std::string run = replace_all(replace_all(s["run"], "{args}", agent.shim_arguments),
                                            "{agent}", agent.key);
        AgentInfo shim_agent = agent;
        shim_agent.arguments = agent.shim_arguments;
        files.emplace_back(
            file_name(agent, s["name"]),
            render(shim_agent,
                   "Run spec-kitty's " + s["name"].get<std::string>() + " command for this mission",
                   fill_placeholder(shim, "command", run)));
    }
    return files;
}

Outcome list_agents() {
    Json agents = Json::array();
    std::string text;
    for (const AgentInfo& a : agent_registry()) {
        agents.push_back({{"key", a.key},
                          {"name", a.name},
                          {"command_dir", a.command_dir},
                          {"extension", a.extension},
                          {"arguments", a.arguments}});
        std::string key = a.key;
        key.resize(12, ' ');
        std::string name = a.name;
        name.resize(24, ' ');
        text += key + name + a.command_dir + "/spec-kitty.*." + a.extension + "\n";
    }
    return Outcome::success({{"agents", agents}}, text);
}

} // namespace kitty
