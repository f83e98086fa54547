#include "kitty/error.hpp"

#include <cstring>

#include <nlohmann/json.hpp>

namespace kitty {

Error::Error(Exit exit, std::string code, const std::string& message, std::string hint)
    : std::runtime_error(message), exit_(exit), code_(std::move(code)), hint_(std::move(hint)) {}

Error& Error::at(std::filesystem::path path, int line) {
    path_ = std::move(path);
    line_ = line;
    return *this;
}

Error& Error::with(const nlohmann::ordered_json& details, std::vector<std::string> notes) {
    details_ = std::make_shared<const nlohmann::ordered_json>(details);
    notes_ = std::move(notes);
    return *this;
}

Error system_error(Exit exit, const std::string& what, const std::filesystem::path& path, int err) {
    return Error(exit, "IO_ERROR", what + " " + path.string() + ": " + std::strerror(err)).at(path);
}

} // namespace kitty
