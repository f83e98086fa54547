// The headers every tool's main.cpp parses, precompiled once per build (tools/meson.build)
// and included first in each: CLI11 and nlohmann::json are three quarters of its compile.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/cli.hpp"
#include "kitty/json.hpp"
