// Asserts that a call throws kitty::Error with the given exit code and error code.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "kitty/error.hpp"

namespace kitty::test {

template <typename F> void expect_error(F&& call, Exit exit, const std::string& code) {
    try {
        call();
        ADD_FAILURE() << "expected " << code;
    } catch (const Error& e) {
        EXPECT_EQ(e.exit(), exit) << e.what();
        EXPECT_EQ(e.code(), code) << e.what();
    }
}

} // namespace kitty::test
