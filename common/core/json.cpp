#include "kitty/json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "kitty/error.hpp"
#include "kitty/text.hpp"

namespace kitty {
namespace {

void append_u_escape(std::string& out, unsigned value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u%04x", value);
    out += buf;
}

void append_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    std::size_t pos = 0;
    while (pos < s.size()) {
        const auto byte = static_cast<unsigned char>(s[pos]);
        if (byte >= 0x80) {
            if (!ensure_ascii) {
                out += s[pos++];
                continue;
            }
            char32_t cp = next_code_point(s, pos);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                append_u_escape(out, 0xD800 + static_cast<unsigned>(cp >> 10));
                append_u_escape(out, 0xDC00 + static_cast<unsigned>(cp & 0x3FF));
            } else {
                append_u_escape(out, static_cast<unsigned>(cp));
            }
            continue;
        }
        ++pos;
        switch (byte) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (byte < 0x20 || (byte == 0x7F && ensure_ascii)) {
                append_u_escape(out, byte);
            } else {
                out += static_cast<char>(byte);
            }
        }
    }
    out += '"';
}

void append_newline(std::string& out, const PyJsonStyle& style, int depth) {
    out += '\n';
    out.append(static_cast<std::size_t>(style.indent * depth), ' ');
}

void append_value(std::string& out, const Json& v, const PyJsonStyle& style, int depth) {
    const bool pretty = style.indent >= 0;
    const char* item_sep = pretty ? "," : ", ";
    switch (v.type()) {
    case Json::value_t::null:
        out += "null";
        break;
    case Json::value_t::boolean:
        out += v.get<bool>() ? "true" : "false";
        break;
    case Json::value_t::number_integer:
        out += std::to_string(v.get<std::int64_t>());
        break;
    case Json::value_t::number_unsigned:
        out += std::to_string(v.get<std::uint64_t>());
        break;
    case Json::value_t::number_float:
        out += python_float_repr(v.get<double>());
        break;
    case Json::value_t::string:
        append_string(out, v.get_ref<const std::string&>(), style.ensure_ascii);
        break;
    case Json::value_t::array: {
        if (v.empty()) {
            out += "[]";
            break;
        }
        out += '[';
        bool first = true;
        for (const auto& item : v) {
            if (!first) {
                out += item_sep;
            }
            first = false;
            if (pretty) {
                append_newline(out, style, depth + 1);
            }
            append_value(out, item, style, depth + 1);
        }
        if (pretty) {
            append_newline(out, style, depth);
        }
        out += ']';
        break;
    }
    case Json::value_t::object: {
        if (v.empty()) {
            out += "{}";
            break;
        }
        std::vector<Json::const_iterator> members;
        for (auto it = v.begin(); it != v.end(); ++it) {
            members.push_back(it);
        }
        if (style.sort_keys) {
            std::stable_sort(members.begin(), members.end(),
                             [](const auto& a, const auto& b) { return a.key() < b.key(); });
        }
        out += '{';
        bool first = true;
        for (const auto& it : members) {
            if (!first) {
                out += item_sep;
            }
            first = false;
            if (pretty) {
                append_newline(out, style, depth + 1);
            }
            append_string(out, it.key(), style.ensure_ascii);
            out += ": ";
            append_value(out, it.value(), style, depth + 1);
        }
        if (pretty) {
            append_newline(out, style, depth);
        }
        out += '}';
        break;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
        out += "null";
        break;
    }
}

} // namespace

std::string python_float_repr(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "Infinity" : "-Infinity";
    }
    // Shortest round-trip digits, then Python's layout: fixed notation for exponents in
    // [-4, 16), scientific with a signed two-digit exponent otherwise.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    std::string sign;
    if (sci[0] == '-') {
        sign = "-";
        sci.erase(0, 1);
    }
    const auto epos = sci.find('e');
    std::string digits = sci.substr(0, epos);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    const int exponent = std::stoi(sci.substr(epos + 1));
    const int ndigits = static_cast<int>(digits.size());

    if (exponent >= -4 && exponent < 16) {
        std::string out;
        if (exponent < 0) {
            out = "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
        } else if (exponent + 1 >= ndigits) {
            out =
                digits + std::string(static_cast<std::size_t>(exponent + 1 - ndigits), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<std::size_t>(exponent + 1)) + "." +
                  digits.substr(static_cast<std::size_t>(exponent + 1));
        }
        return sign + out;
    }
    std::string mantissa = digits.substr(0, 1);
    if (ndigits > 1) {
        mantissa += "." + digits.substr(1);
    }
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+',
                  exponent < 0 ? -exponent : exponent);
    return sign + mantissa + exp_buf;
}

std::string dump_python(const Json& value, PyJsonStyle style) {
    std::string out;
    append_value(out, value, style, 0);
    return out;
}

Json parse_json(std::string_view text, const std::filesystem::path& source) {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
        // nlohmann reports a byte offset; people want a line.
        const auto offset = std::min<std::size_t>(e.byte, text.size());
        const int line = 1 + static_cast<int>(std::count(
                                 text.begin(), text.begin() + static_cast<long>(offset), '\n'));
        const std::string what = e.what();
        const auto colon = what.find(": ");
        const std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        throw Error(Exit::input, "INVALID_JSON",
                    source.string() + ":" + std::to_string(line) + ": invalid JSON: " + detail,
                    "fix the JSON syntax at that line")
            .at(source, line);
    }
}

Json read_json_file(const std::filesystem::path& path) {
    return parse_json(read_text_file(path, Bom::keep), path);
}

} // namespace kitty
