// The dispatcher's verb table: one row per spec-kitty command kitty implements.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace spec_kitty {

struct Verb {
    std::vector<std::string_view> words; // the command as typed: agent mission create
    std::string_view tool;               // the binary that runs it
    std::vector<std::string_view> args;  // leading arguments for the tool (its subcommand)
    std::string_view summary;            // one line for `spec-kitty help`
};

std::span<const Verb> verb_table();

} // namespace spec_kitty
