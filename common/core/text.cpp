#include "kitty/text.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "kitty/error.hpp"

namespace kitty {

std::optional<std::size_t> first_invalid_utf8(std::string_view bytes) {
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    while (i < n) {
        const auto b0 = static_cast<unsigned char>(bytes[i]);
        if (b0 < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        char32_t min = 0;
        char32_t cp = 0;
        if ((b0 & 0xE0) == 0xC0) {
            len = 2, min = 0x80, cp = b0 & 0x1F;
        } else if ((b0 & 0xF0) == 0xE0) {
            len = 3, min = 0x800, cp = b0 & 0x0F;
        } else if ((b0 & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, cp = b0 & 0x07;
        } else {
            return i;
        }
        for (std::size_t k = 1; k < len; ++k) {
            if (i + k >= n) {
                return i;
            }
            const auto b = static_cast<unsigned char>(bytes[i + k]);
            if ((b & 0xC0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return i;
        }
        i += len;
    }
    return std::nullopt;
}

char32_t next_code_point(std::string_view utf8, std::size_t& pos) {
    const auto b0 = static_cast<unsigned char>(utf8[pos]);
    std::size_t len = 1;
    char32_t cp = b0;
    if (b0 >= 0xF0) {
        len = 4, cp = b0 & 0x07;
    } else if (b0 >= 0xE0) {
        len = 3, cp = b0 & 0x0F;
    } else if (b0 >= 0xC0) {
        len = 2, cp = b0 & 0x1F;
    } else if (b0 >= 0x80) {
        ++pos;
        return U'\uFFFD';
    }
    for (std::size_t k = 1; k < len; ++k) {
        if (pos + k >= utf8.size()) {
            pos = utf8.size();
            return U'\uFFFD';
        }
        cp = (cp << 6) | (static_cast<unsigned char>(utf8[pos + k]) & 0x3F);
    }
    pos += len;
    return cp;
}

std::string normalize_newlines(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out += '\n';
            if (i + 1 < text.size() && text[i + 1] == '\n') {
                ++i;
            }
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string read_file_bytes(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw Error(Exit::input, "NOT_A_FILE", path.string() + " is a directory, not a file")
            .at(path);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        if (err == ENOENT) {
            throw Error(Exit::input, "NOT_FOUND", "no such file: " + path.string(),
                        "check the path")
                .at(path);
        }
        throw system_error(Exit::input, "cannot read", path, err);
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) {
        throw system_error(Exit::input, "cannot read", path, errno);
    }
    return std::move(buf).str();
}

void require_utf8(std::string_view bytes, const std::filesystem::path& path) {
    if (auto bad = first_invalid_utf8(bytes)) {
        const int line = 1 + static_cast<int>(std::count(
                                 bytes.begin(), bytes.begin() + static_cast<long>(*bad), '\n'));
        throw Error(Exit::input, "INVALID_UTF8",
                    path.string() + ": invalid UTF-8 at byte offset " + std::to_string(*bad) +
                        " (line " + std::to_string(line) + ")",
                    "save the file as UTF-8")
            .at(path, line);
    }
}

std::string read_text_file(const std::filesystem::path& path, Bom bom) {
    std::string bytes = read_file_bytes(path);
    require_utf8(bytes, path);
    if (bom == Bom::strip && bytes.starts_with("\xEF\xBB\xBF")) {
        bytes.erase(0, 3);
    }
    return normalize_newlines(bytes);
}

} // namespace kitty
