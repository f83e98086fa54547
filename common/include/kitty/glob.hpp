// Shell-style globs as Python's fnmatch.fnmatch matches them on POSIX (CPython 3.11):
// the whole string, case-sensitive, `*` crossing `/` and newlines, `?` one code point,
// `[seq]` / `[!seq]` classes with ranges, no backslash escapes.
#pragma once

#include <string_view>

namespace kitty {

// fnmatch.fnmatch(name, pattern) for valid UTF-8 `name` and `pattern`.
bool fnmatch(std::string_view name, std::string_view pattern);

// The leading part of `pattern` before its first `*`, `?` or `[`: every name the pattern
// matches starts with it.
std::string_view glob_literal_head(std::string_view pattern);

// A glob without its trailing /**, /*, ** or * (3.1.1's prefix for overlap checks).
std::string_view glob_prefix(std::string_view glob);

} // namespace kitty
