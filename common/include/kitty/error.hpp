// The one exception type of libkitty, and the exit-code table shared by every binary.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kitty {

// docs/exit-codes.md documents each value; keep the two in step.
enum class Exit : int {
    ok = 0,
    check_failed = 1,
    usage = 2,
    input = 3,
    conflict = 4,
    auth = 5,
    internal = 70,
    output = 74, // sysexits EX_IOERR: stdout could not be written
    temporary = 75,
};

// An expected failure: it carries what the user needs to act on it (a stable UPPER_SNAKE
// code, a hint, and the file and line when known) and the exit code it maps to.
class Error : public std::runtime_error {
public:
    Error(Exit exit, std::string code, const std::string& message, std::string hint = {});

    Error& at(std::filesystem::path path, int line = 0);

    // What the message sums up: members the error document carries after its own keys
    // (e.g. finalize's `ownership_errors`), and the lines printed under the message on
    // stderr.
    Error& with(const nlohmann::ordered_json& details, std::vector<std::string> notes = {});

    Exit exit() const { return exit_; }
    const std::string& code() const { return code_; }
    const std::string& hint() const { return hint_; }
    const std::filesystem::path& path() const { return path_; }
    int line() const { return line_; }
    const nlohmann::ordered_json* details() const { return details_.get(); }
    const std::vector<std::string>& notes() const { return notes_; }

private:
    Exit exit_;
    std::string code_;
    std::string hint_;
    std::filesystem::path path_;
    int line_ = 0;
    std::shared_ptr<const nlohmann::ordered_json> details_; // shared: exceptions are copied
    std::vector<std::string> notes_;
};

// The error for a failed system call on `path`, with strerror(errno) in the message.
Error system_error(Exit exit, const std::string& what, const std::filesystem::path& path, int err);

} // namespace kitty
