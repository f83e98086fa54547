// The command-line contract every kitty-* binary follows (docs/json-contract.md):
// CLI11 parsing, --format/--color/--version, one JSON document on stdout, findings and
// diagnostics on stderr, and the exit-code table. A tool's main() builds its options on
// Tool::app() and hands Tool::run() the one library call that produces its Outcome.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kitty/error.hpp"
#include "kitty/result.hpp"

namespace kitty {

enum class ColorMode { auto_, always, never };

// All of standard input, for a tool whose input document is "-".
std::string read_stdin();

// Whether standard input is a terminal (a person can be asked).
bool stdin_is_terminal();

// The Prompt of the tools: the prompt on stderr when stdin is a terminal, echo off while a
// secret is typed, one line from stdin.
std::optional<std::string> ask_terminal(const std::string& prompt, bool echo);

// CLI::Range(min, max) for a number that must also be finite: nan compares false with
// everything, so CLI::Range lets it (and any later overflow of a conversion) through.
CLI::Validator finite_range(double min, double max);

class Tool {
public:
    Tool(std::string name, std::string description);

    CLI::App& app() { return app_; }
    Format format() const { return format_; }
    bool color_stderr() const;

    // Marks `option` as one whose value, when given, must not be empty: an empty value (an
    // unset variable in a script) is Error(Exit::usage, code), never taken as "not given".
    CLI::Option* non_empty(CLI::Option* option, std::string code);

    // Parses argv, runs `action` (usually chosen by a subcommand callback), prints its
    // Outcome, and returns the process exit code. Usage errors give exit 2, an Error its
    // own code, and any other exception exit 70 with "internal error" — never a crash.
    // Output that cannot be written to stdout is exit 74 whatever the command's code.
    int run(int argc, char** argv, const std::function<Outcome()>& action);

private:
    int fail(const Error& error) const;
    // `code`, or Exit::output when stdout could not be written (reported on stderr).
    int checked_stdout(int code) const;
    void print_finding(const Finding& finding) const;

    std::string name_;
    CLI::App app_;
    std::vector<std::pair<CLI::Option*, std::string>> non_empty_;
    Format format_ = Format::json;
    ColorMode color_ = ColorMode::auto_;
};

} // namespace kitty
