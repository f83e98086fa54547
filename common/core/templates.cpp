#include "kitty/templates.hpp"

namespace kitty {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

std::string fill_placeholder(std::string_view text, std::string_view key, std::string_view value) {
    return replace_all(std::string(text), "{" + std::string(key) + "}", value);
}

CommandTemplate command_template(std::string_view command) {
    const std::string_view text =
        embedded_template("init/commands/" + std::string(command) + ".md");
    const std::size_t split = text.find("\n---\n");
    const std::string_view head = text.substr(0, split);
    return {std::string(head.substr(head.find(':') + 2)), std::string(text.substr(split + 5))};
}

} // namespace kitty
