#include "kitty/templates.hpp"

namespace kitty {

std::string fill_placeholder(std::string_view text, std::string_view key, std::string_view value) {
    const std::string marker = "{" + std::string(key) + "}";
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        const auto hit = text.find(marker, pos);
        if (hit == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        out.append(text.substr(pos, hit - pos));
        out.append(value);
        pos = hit + marker.size();
    }
}

} // namespace kitty
