// Text files from templates/, embedded into libkitty at build time so the binaries are
// relocatable.
#pragma once

#include <string>
#include <string_view>

namespace kitty {

// The content of templates/<name>; Error(Exit::internal) when there is no such template.
std::string_view embedded_template(std::string_view name);

// `text` with every occurrence of `from` replaced by `to` (left to right, not rescanned).
std::string replace_all(std::string text, std::string_view from, std::string_view to);

// Replaces every "{key}" in `text` with `value`.
std::string fill_placeholder(std::string_view text, std::string_view key, std::string_view value);

// An agent command template, templates/init/commands/<command>.md: its "description: …"
// line, then a "---" line, then the body.
struct CommandTemplate {
    std::string description;
    std::string body;
};
CommandTemplate command_template(std::string_view command);

} // namespace kitty
