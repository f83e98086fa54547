// spec-kitty: the porcelain. Maps spec-kitty command lines onto kitty-* tools and execs
// them, or, for the loop's tools, calls them in this process (builtins.hpp); stdio,
// arguments and the exit code pass through unchanged.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../builtins.hpp"
#include "kitty/error.hpp"
#include "kitty/json.hpp"
#include "kitty/version.hpp"
#include "verbs.hpp"

namespace fs = std::filesystem;
using spec_kitty::Verb;

namespace {

using Args = std::vector<std::string>;

bool wants_json(const Args& args) {
    for (const auto& a : args) {
        if (a == "--json") {
            return true;
        }
    }
    return false;
}

// Exit with a usage-style error in the format the user asked for.
int fail(const Args& args, kitty::Exit exit, const std::string& code, const std::string& message,
         const std::string& hint) {
    if (wants_json(args)) {
        std::cout << kitty::dump_python({{"error", message}, {"code", code}, {"hint", hint}})
                  << "\n";
    }
    std::cerr << "spec-kitty: error: " << message << "\nspec-kitty: hint: " << hint << "\n";
    return static_cast<int>(exit);
}

std::string help_text() {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const Verb& v : spec_kitty::verb_table()) {
        std::string words;
        for (auto word : v.words) {
            words += (words.empty() ? "" : " ") + std::string(word);
        }
        rows.emplace_back(words, v.summary);
    }
    rows.emplace_back("", "");
    rows.emplace_back("help [<command>]", "This list, or a command's own help");
    rows.emplace_back("completion bash|zsh|fish", "Print a shell completion script");
    std::size_t width = 0;
    for (const auto& row : rows) {
        width = std::max(width, row.first.size());
    }
    std::string out =
        "usage: spec-kitty [--version] [--help] <command> [<args>] [--json]\n\n"
        "Commands, implemented by kitty (text output; --json for one JSON document):\n";
    for (const auto& [left, right] : rows) {
        out += left.empty()
                   ? "\n"
                   : "  " + left + std::string(width + 2 - left.size(), ' ') + right + "\n";
    }
    out += "\nAny other 'spec-kitty <name> ...' runs the tool 'kitty-<name> ...' when one is "
           "installed.\n"
           "Exit codes are the tools' own; see 'man spec-kitty'.\n";
    return out;
}

// The rows that go on from `words` (`agent mission` -> create, accept, …), listed as the
// help of that group; empty when no row does.
std::string group_text(const Args& words) {
    if (words.empty()) {
        return "";
    }
    std::string out;
    for (const Verb& v : spec_kitty::verb_table()) {
        if (v.words.size() <= words.size()) {
            continue;
        }
        bool prefix = true;
        for (std::size_t i = 0; i < words.size(); ++i) {
            prefix = prefix && words[i] == v.words[i];
        }
        if (prefix) {
            std::string row;
            for (auto word : v.words) {
                row += (row.empty() ? "" : " ") + std::string(word);
            }
            out += "  spec-kitty " + row + "\n      " + std::string(v.summary) + "\n";
        }
    }
    return out.empty() ? out : "Commands of this group:\n" + out;
}

// The longest table row whose words start `args`.
const Verb* match_verb(const Args& args) {
    const Verb* best = nullptr;
    for (const Verb& v : spec_kitty::verb_table()) {
        if (v.words.size() > args.size() || (best && best->words.size() >= v.words.size())) {
            continue;
        }
        bool prefix = true;
        for (std::size_t i = 0; i < v.words.size(); ++i) {
            prefix = prefix && args[i] == v.words[i];
        }
        if (prefix) {
            best = &v;
        }
    }
    return best;
}

// A tool beside this binary first (build tree and installs alike), then on PATH.
std::optional<std::string> find_tool(const std::string& name) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path beside = self.parent_path() / name;
        if (::access(beside.c_str(), X_OK) == 0) {
            return beside.string();
        }
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const auto end = std::min(dirs.find(':', start), dirs.size());
        const fs::path dir = dirs.substr(start, end - start);
        const fs::path candidate = (dir.empty() ? fs::path(".") : dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
        start = end + 1;
    }
    return std::nullopt;
}

// --json becomes --format json; otherwise text, the porcelain's default, unless the user
// chose a --format. The format goes before the user's arguments so a "--" among them
// cannot swallow it.
Args tool_argv(const std::string& tool, const std::vector<std::string_view>& lead,
               const Args& rest) {
    Args out{tool};
    for (auto a : lead) {
        out.emplace_back(a);
    }
    bool has_format = false;
    for (const auto& a : rest) {
        has_format = has_format || a == "--format" || a.starts_with("--format=");
    }
    if (!has_format) {
        out.emplace_back("--format");
        out.emplace_back(wants_json(rest) ? "json" : "text");
    }
    for (const auto& a : rest) {
        if (a != "--json") {
            out.push_back(a);
        }
    }
    return out;
}

using Builtin = int (*)(int, char**);

Builtin builtin_named(const std::string& tool) {
    static constexpr std::pair<std::string_view, Builtin> table[] = {
        {"kitty-next", &kitty::builtin::kitty_next},
        {"kitty-status", &kitty::builtin::kitty_status},
        {"kitty-workspace", &kitty::builtin::kitty_workspace},
    };
    for (const auto& [name, run] : table) {
        if (name == tool) {
            return run;
        }
    }
    return nullptr;
}

int exec_tool(const Args& all, const std::string& tool, const Args& argv) {
    if (const Builtin run = builtin_named(tool)) {
        std::vector<std::string> copy = argv;
        std::vector<char*> cargv;
        for (auto& a : copy) {
            cargv.push_back(a.data());
        }
        cargv.push_back(nullptr);
        const int code = run(static_cast<int>(copy.size()), cargv.data());
        // The tool has flushed its output and reported a failed write itself.
        std::cout.clear();
        return code;
    }
    const auto path = find_tool(tool);
    if (!path) {
        return fail(all, kitty::Exit::input, "TOOL_NOT_FOUND",
                    tool + " is not installed beside spec-kitty or on PATH",
                    "install kitty completely (meson install) or add its bin directory to PATH");
    }
    std::vector<char*> cargv;
    for (const auto& a : argv) {
        cargv.push_back(const_cast<char*>(a.c_str()));
    }
    cargv.push_back(nullptr);
    ::execv(path->c_str(), cargv.data());
    return fail(all, kitty::Exit::internal, "EXEC_FAILED",
                "cannot run " + *path + ": " + std::strerror(errno),
                "check the file's permissions");
}

std::string completion_script(const std::string& shell);

int dispatch(const Args& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
        (args[0] == "help" && (args.size() == 1 || args[1] == "--help" || args[1] == "-h"))) {
        std::cout << help_text();
        return 0;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        std::cout << "spec-kitty (kitty) " << kitty::version << ", compatible with spec-kitty "
                  << kitty::reference_version << "\n";
        return 0;
    }
    if (args[0] == "completion") {
        const std::string shell = args.size() > 1 ? args[1] : "";
        const std::string script = completion_script(shell);
        if (script.empty()) {
            return fail(args, kitty::Exit::usage, "USAGE",
                        "completion needs a shell: bash, zsh or fish",
                        "e.g. spec-kitty completion bash > /etc/bash_completion.d/spec-kitty");
        }
        std::cout << script;
        return 0;
    }
    if (args[0] == "help") {
        const Args wanted(args.begin() + 1, args.end());
        if (const Verb* v = match_verb(wanted)) {
            return exec_tool(args, std::string(v->tool),
                             tool_argv(std::string(v->tool), v->args, {"--help"}));
        }
        return fail(args, kitty::Exit::usage, "UNKNOWN_COMMAND",
                    "no help for unknown command '" + wanted[0] + "'", "run 'spec-kitty help'");
    }
    if (const Verb* v = match_verb(args)) {
        const Args rest(args.begin() + static_cast<long>(v->words.size()), args.end());
        return exec_tool(args, std::string(v->tool),
                         tool_argv(std::string(v->tool), v->args, rest));
    }
    std::string typed;
    Args words;
    bool asks_help = false;
    for (const auto& a : args) {
        asks_help = asks_help || a == "--help" || a == "-h";
    }
    for (const auto& a : args) {
        if (a.starts_with("-")) {
            break;
        }
        words.push_back(a);
        typed += (typed.empty() ? "" : " ") + a;
    }
    // A group such as `agent mission`: its commands.
    if (const std::string group = group_text(words); !group.empty()) {
        if (asks_help) {
            std::cout << group;
            return 0;
        }
        std::cerr << group;
        return fail(args, kitty::Exit::usage, "USAGE", "'" + typed + "' needs a command",
                    "one of the commands above, e.g. 'spec-kitty " + typed + " --help'");
    }
    const std::string& word = args[0];
    const bool plain =
        !word.empty() &&
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
    if (plain && find_tool("kitty-" + word)) {
        const Args rest(args.begin() + 1, args.end());
        return exec_tool(args, "kitty-" + word, tool_argv("kitty-" + word, {}, rest));
    }
    return fail(args, kitty::Exit::usage, "UNKNOWN_COMMAND", "unknown command '" + typed + "'",
                "run 'spec-kitty help' for the list");
}

// Every command path the shells can complete, one string each.
std::vector<std::string> completion_words() {
    std::vector<std::string> out;
    for (const Verb& v : spec_kitty::verb_table()) {
        std::string words;
        for (auto w : v.words) {
            words += (words.empty() ? "" : " ") + std::string(w);
        }
        out.push_back(words);
    }
    for (const char* builtin : {"help", "completion bash", "completion zsh", "completion fish"}) {
        out.emplace_back(builtin);
    }
    return out;
}

std::string completion_script(const std::string& shell) {
    std::string list;
    for (const auto& w : completion_words()) {
        list += " '" + w + "'";
    }
    const std::string bash_fn = R"(_spec_kitty() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local prefix="${COMP_WORDS[*]:1:COMP_CWORD-1}"
    local verbs=()" + list + R"( )
    local candidates=() v rest
    for v in "${verbs[@]}"; do
        if [[ -z "$prefix" ]]; then rest="$v"
        elif [[ "$v" == "$prefix "* ]]; then rest="${v#"$prefix "}"
        else continue; fi
        candidates+=("${rest%% *}")
    done
    COMPREPLY=($(compgen -W "$(printf '%s\n' "${candidates[@]}" | sort -u) --json --help" -- "$cur"))
}
complete -o default -F _spec_kitty spec-kitty
)";
    if (shell == "bash") {
        return "# bash completion for spec-kitty (kitty)\n" + bash_fn;
    }
    if (shell == "zsh") {
        return "#compdef spec-kitty\n# zsh completion for spec-kitty (kitty), via bashcompinit\n"
               "autoload -U +X bashcompinit && bashcompinit\n" +
               bash_fn;
    }
    if (shell == "fish") {
        return R"(# fish completion for spec-kitty (kitty)
function __spec_kitty_next
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l prefix (string join ' ' $tokens)
    for v in)" +
               list + R"(
        if test -z "$prefix"
            echo (string split ' ' $v)[1]
        else if string match -q -- "$prefix *" $v
            echo (string split ' ' (string replace -- "$prefix " '' $v))[1]
        end
    end
end
complete -c spec-kitty -a '(__spec_kitty_next)'
complete -c spec-kitty -l json -d 'Print one JSON document'
)";
    }
    return {};
}

} // namespace

int main(int argc, char** argv) {
    try {
        // Only the dispatcher's own output is checked here: a tool it execs replaces the
        // process, and a builtin checks its own.
        const int code = dispatch(Args(argv + 1, argv + argc));
        std::cout.flush();
        if (!std::cout) {
            std::cerr << "spec-kitty: error: cannot write the output to stdout: "
                      << std::strerror(errno) << "\n";
            return static_cast<int>(kitty::Exit::output);
        }
        return code;
    } catch (const std::exception& e) {
        std::cerr << "spec-kitty: internal error (a bug in kitty): " << e.what() << "\n";
        return static_cast<int>(kitty::Exit::internal);
    }
}
