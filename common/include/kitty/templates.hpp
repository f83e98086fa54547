// Text files from templates/, embedded into libkitty at build time so the binaries are
// relocatable.
#pragma once

#include <string>
#include <string_view>

namespace kitty {

// The content of templates/<name>; Error(Exit::internal) when there is no such template.
std::string_view embedded_template(std::string_view name);

// Replaces every "{key}" in `text` with `value`.
std::string fill_placeholder(std::string_view text, std::string_view key, std::string_view value);

} // namespace kitty
