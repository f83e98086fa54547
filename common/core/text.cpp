#include "kitty/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <istream>

#include <re2/re2.h>

#include "kitty/error.hpp"
#include "kitty/file_descriptor.hpp"
#include "kitty/regex.hpp"

namespace kitty {

std::optional<std::size_t> first_invalid_utf8(std::string_view bytes) {
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    while (i < n) {
        // Eight ASCII bytes at a time: kitty's files are mostly ASCII.
        std::uint64_t word = 0;
        while (i + sizeof word <= n && (std::memcpy(&word, bytes.data() + i, sizeof word),
                                        (word & 0x8080808080808080ULL) == 0)) {
            i += sizeof word;
        }
        if (i >= n) {
            break;
        }
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
    // Copy the runs between carriage returns whole.
    std::size_t begin = 0;
    for (std::size_t cr = text.find('\r'); cr != std::string_view::npos;
         cr = text.find('\r', begin)) {
        out.append(text, begin, cr - begin);
        out += '\n';
        begin = cr + 1 + (cr + 1 < text.size() && text[cr + 1] == '\n' ? 1 : 0);
    }
    out.append(text, begin, std::string_view::npos);
    return out;
}

std::string read_file_bytes(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            throw Error(Exit::input, "NOT_FOUND", "no such file: " + path.string(),
                        "check the path")
                .at(path);
        }
        throw system_error(Exit::input, "cannot read", path, err);
    }
    const FileDescriptor closer(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw system_error(Exit::input, "cannot read", path, errno);
    }
    if (S_ISDIR(st.st_mode)) {
        throw Error(Exit::input, "NOT_A_FILE", path.string() + " is a directory, not a file")
            .at(path);
    }
    // Read to the end whatever the size said (a file appended to meanwhile, or one of /proc).
    std::string bytes;
    bytes.resize(S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) + 1 : 65536);
    std::size_t used = 0;
    while (true) {
        if (used == bytes.size()) {
            bytes.resize(bytes.size() * 2);
        }
        const ssize_t got = ::read(fd, bytes.data() + used, bytes.size() - used);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw system_error(Exit::input, "cannot read", path, errno);
        }
        if (got == 0) {
            break;
        }
        used += static_cast<std::size_t>(got);
    }
    bytes.resize(used);
    return bytes;
}

bool file_holds(const std::filesystem::path& path, std::string_view bytes) {
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) != bytes.size()) {
        return false;
    }
    char piece[65536];
    std::size_t done = 0;
    while (true) {
        const ssize_t got = ::read(fd.get(), piece, sizeof piece);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return got == 0 && done == bytes.size();
        }
        const auto n = static_cast<std::size_t>(got);
        if (n > bytes.size() - done || std::memcmp(piece, bytes.data() + done, n) != 0) {
            return false;
        }
        done += n;
    }
}

std::optional<std::string> read_at_most(std::istream& in, std::size_t limit) {
    std::string out;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.size() > limit) {
            return std::nullopt;
        }
    }
    return out;
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
    if (bytes.find('\r') == std::string::npos) {
        return bytes; // no copy of a large file that has nothing to normalize
    }
    return normalize_newlines(bytes);
}

bool is_py_space(char32_t c) {
    switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

std::string_view py_strip(std::string_view s) {
    std::size_t begin = 0;
    while (begin < s.size()) {
        std::size_t pos = begin;
        if (!is_py_space(next_code_point(s, pos))) {
            break;
        }
        begin = pos;
    }
    // From the back: step over whole code points (continuation bytes are 10xxxxxx).
    std::size_t end = s.size();
    while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
            --start;
        }
        std::size_t pos = start;
        if (!is_py_space(next_code_point(s, pos))) {
            break;
        }
        end = start;
    }
    return s.substr(begin, end - begin);
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += separator;
        }
        out += items[i];
    }
    return out;
}

void for_each_stripped_line(std::string_view text,
                            const std::function<void(int number, std::string_view line)>& line) {
    int number = 0;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.find('\n', begin);
        end = end == std::string_view::npos ? text.size() : end;
        const std::string_view stripped = py_strip(text.substr(begin, end - begin));
        begin = end + 1;
        ++number;
        if (!stripped.empty()) {
            line(number, stripped);
        }
    }
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

namespace {

// str.isprintable(): every category but C* and Z*, plus the space. RE2's Unicode tables
// stand in for Python's; they may differ on characters assigned after Unicode 14.
bool is_py_printable(char32_t c, std::string_view encoded) {
    if (c < 0x80) {
        return c >= 0x20 && c < 0x7F;
    }
    static const Regex printable(R"([\p{L}\p{M}\p{N}\p{P}\p{S}])");
    return RE2::FullMatch(re2::StringPiece(encoded.data(), encoded.size()), printable);
}

} // namespace

std::string python_repr(std::string_view utf8) {
    const bool has_single = utf8.find('\'') != std::string_view::npos;
    const bool has_double = utf8.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (std::size_t pos = 0; pos < utf8.size();) {
        const std::size_t start = pos;
        const char32_t c = next_code_point(utf8, pos);
        const std::string_view encoded = utf8.substr(start, pos - start);
        if (c == '\\' || c == static_cast<char32_t>(quote)) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (is_py_printable(c, encoded)) {
            out += encoded;
        } else {
            char buf[16];
            if (c < 0x100) {
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
            } else if (c < 0x10000) {
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            } else {
                std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
            }
            out += buf;
        }
    }
    return out + quote;
}

std::string python_list_repr(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const std::string& item : items) {
        out += (out.size() > 1 ? ", " : "") + python_repr(item);
    }
    return out + "]";
}

namespace {

// \s = exactly the code points Python's str.isspace() accepts, as the members of a class.
constexpr std::string_view kPySpace = "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}"
                                      "\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
                                      "\\x{205F}\\x{3000}";

// A bad pattern is reported by the Error Regex throws, not by RE2's own log line.
RE2::Options quiet(RE2::Options options) {
    options.set_log_errors(false);
    return options;
}

} // namespace

std::string python_regex(std::string_view pattern) {
    std::string out;
    bool in_class = false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char next = pattern[++i];
            if (next == 's') {
                // Inside [...] the members go in as they are: RE2 has no nested classes.
                out += in_class ? std::string(kPySpace) : "[" + std::string(kPySpace) + "]";
            } else if (next == 'd') {
                out += "\\p{Nd}";
            } else {
                out += c;
                out += next;
            }
            continue;
        }
        out += c;
        if (!in_class && c == '[') {
            in_class = true;
            // A ']' right after '[' or '[^' is a member, in Python as in RE2.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') {
                out += pattern[++i];
            }
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') {
                out += pattern[++i];
            }
        } else if (in_class && c == ']') {
            in_class = false;
        }
    }
    return out;
}

Regex::Regex(const std::string& pattern) : Regex(pattern, RE2::Options()) {}

Regex::Regex(const std::string& pattern, RE2::Options options) : RE2(pattern, quiet(options)) {
    if (!ok()) {
        throw Error(Exit::internal, "BAD_PATTERN",
                    "internal error (a bug in kitty): the regular expression " +
                        python_repr(pattern) + " does not compile: " + error(),
                    "please report it with the command that triggered it");
    }
}

std::vector<std::string_view> python_splitlines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t begin = 0, pos = 0;
    while (pos < text.size()) {
        // Every line break is below 0x20 or not ASCII: a printable ASCII byte is passed by.
        if (const auto byte = static_cast<unsigned char>(text[pos]); byte >= 0x20 && byte < 0x80) {
            ++pos;
            continue;
        }
        const std::size_t at = pos;
        const char32_t c = next_code_point(text, pos);
        const bool crlf = c == '\r' && pos < text.size() && text[pos] == '\n';
        if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
            c == 0x85 || c == 0x2028 || c == 0x2029) {
            lines.push_back(text.substr(begin, at - begin));
            pos += crlf ? 1 : 0;
            begin = pos;
        }
    }
    if (begin < text.size()) {
        lines.push_back(text.substr(begin));
    }
    return lines;
}

} // namespace kitty
