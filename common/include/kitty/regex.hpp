// RE2 patterns checked when they are built.
#pragma once

#include <string>

#include <re2/re2.h>

namespace kitty {

// An RE2 whose pattern compiled. A pattern RE2 rejects is Error(Exit::internal,
// "BAD_PATTERN") naming it, at construction: an unchecked RE2 would silently match nothing.
// RE2 never logs to stderr for it.
class Regex : public RE2 {
public:
    explicit Regex(const std::string& pattern);
    Regex(const std::string& pattern, RE2::Options options);
};

} // namespace kitty
