// What a command produces, apart from how a binary prints it: the findings in its input
// and the Outcome (document, text rendering, exit code). Domain modules return these; only
// the tools include the command-line layer (kitty/cli.hpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kitty/error.hpp"
#include "kitty/json.hpp"

namespace kitty {

enum class Format { json, text };

// Asks the person at the terminal: the tool shows `prompt` on stderr (only on a terminal)
// and returns the line read from stdin, typed without echo when `echo` is false; nullopt at
// end of input. Domain code asks through one of these and never reads stdin itself.
using Prompt = std::function<std::optional<std::string>(const std::string& prompt, bool echo)>;

// A problem found in input: reported inside the result and, one line each, on stderr.
struct Finding {
    std::string severity; // "error" or "warning"
    std::string code;
    std::string message;
    std::string path;
    int line = 0;
    std::string stderr_line = {}; // printed as is instead of "path:line: severity: message"

    Json to_json() const;
};

// What a command produced: the JSON document, its rendering for people, and the exit code.
struct Outcome {
    Json document;
    std::string text; // ends with a newline unless empty
    Exit exit = Exit::ok;
    std::vector<Finding> findings; // echoed to stderr; the document carries them itself
    PyJsonStyle json_style = {};   // how the document is printed (lanes.json: indent 2)

    static Outcome success(Json document, std::string text) {
        return Outcome{std::move(document), std::move(text), Exit::ok, {}, {}};
    }
};

// The failure document {"error", "code", "hint", "path", "line"} (path/line when known).
Json error_document(const Error& error);

} // namespace kitty
