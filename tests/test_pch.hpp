// The headers nearly every test translation unit parses, precompiled once per build
// (tests/meson.build) and included first in each: GoogleTest and nlohmann::json are most of
// a test's parse.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kitty/json.hpp"
