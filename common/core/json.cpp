#include "kitty/json.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
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

} // namespace

void append_python_string(std::string& out, const std::string& s, bool ensure_ascii) {
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

namespace {

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
        append_python_string(out, v.get_ref<const std::string&>(), style.ensure_ascii);
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
            append_python_string(out, it.key(), style.ensure_ascii);
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

namespace {

// The offset of the first '[' or '{' that nests deeper than kMaxJsonDepth, if any.
std::optional<std::size_t> too_deep_at(std::string_view text) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth) {
                return i;
            }
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return std::nullopt;
}

// nlohmann's DOM builder, keeping where the first error is: a number out of range is an
// out_of_range exception, which carries no position when nlohmann throws it itself.
class DomBuilder : public nlohmann::detail::json_sax_dom_parser<Json> {
public:
    explicit DomBuilder(Json& result) : json_sax_dom_parser(result, false) {}

    template <class Exception>
    bool parse_error(std::size_t position, const std::string& /*token*/, const Exception& e) {
        error_at = position;
        const std::string what = e.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error …"
        const auto colon = what.find(": ");
        const auto bracket = what.find("] ");
        error = colon != std::string::npos     ? what.substr(colon + 2)
                : bracket != std::string::npos ? what.substr(bracket + 2)
                                               : what;
        // The message quotes the token, which can be a 10,000-digit number.
        if (error.size() > 200) {
            std::size_t cut = 200;
            while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xC0) == 0x80) {
                --cut; // not inside a UTF-8 sequence
            }
            error = error.substr(0, cut) + "…";
        }
        return false;
    }

    std::size_t error_at = 0;
    std::string error;
};

} // namespace

Json parse_json(std::string_view text, const std::filesystem::path& source) {
    const auto fail = [&](std::size_t offset, const std::string& detail) {
        // People want a line, not a byte offset.
        offset = std::min(offset, text.size());
        const int line = 1 + static_cast<int>(std::count(
                                 text.begin(), text.begin() + static_cast<long>(offset), '\n'));
        throw Error(Exit::input, "INVALID_JSON",
                    source.string() + ":" + std::to_string(line) + ": invalid JSON: " + detail,
                    "fix the JSON at that line")
            .at(source, line);
    };
    if (const auto deep = too_deep_at(text)) {
        fail(*deep, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    Json result;
    DomBuilder builder(result);
    if (!Json::sax_parse(text.begin(), text.end(), &builder)) {
        fail(builder.error_at, builder.error);
    }
    return result;
}

Json read_json_file(const std::filesystem::path& path) {
    return parse_json(read_text_file(path, Bom::keep), path);
}

JsonInput::JsonInput(std::filesystem::path source, std::string code, std::string hint,
                     std::optional<std::string> lead)
    : source_(std::move(source)), code_(std::move(code)), hint_(std::move(hint)),
      lead_(lead.value_or(source_.string() + ": ")) {}

void JsonInput::fail(const std::string& what) const {
    throw Error(Exit::input, code_, lead_ + what, hint_).at(source_);
}

const Json& JsonInput::object(const Json& value, const std::string& what) const {
    if (!value.is_object()) {
        fail(what + " must be an object");
    }
    return value;
}

const Json& JsonInput::array(const Json& value, const std::string& what) const {
    if (!value.is_array()) {
        fail(what + " must be a list");
    }
    return value;
}

const std::string& JsonInput::text(const Json& value, const std::string& what) const {
    if (!value.is_string()) {
        fail(what + " must be a string");
    }
    return value.get_ref<const std::string&>();
}

bool JsonInput::boolean(const Json& value, const std::string& what) const {
    if (!value.is_boolean()) {
        fail(what + " must be true or false");
    }
    return value.get<bool>();
}

int JsonInput::integer(const Json& value, const std::string& what) const {
    const bool in_range =
        (value.is_number_unsigned() &&
         value.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT_MAX)) ||
        (value.is_number_integer() && !value.is_number_unsigned() &&
         value.get<std::int64_t>() >= INT_MIN && value.get<std::int64_t>() <= INT_MAX);
    if (!in_range) {
        fail(what + " must be an integer");
    }
    return static_cast<int>(value.get<std::int64_t>());
}

std::vector<std::string> JsonInput::strings(const Json& value, const std::string& what) const {
    if (!value.is_array()) {
        fail(what + " must be a list of strings");
    }
    std::vector<std::string> out;
    out.reserve(value.size());
    for (const Json& item : value) {
        if (!item.is_string()) {
            fail(what + " must be a list of strings");
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

const Json* JsonInput::member(const Json& object, const std::string& key) {
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

const Json& JsonInput::required(const Json& object, const std::string& key,
                                const std::string& where) const {
    const auto it = object.find(key);
    if (it == object.end()) {
        fail(where + " has no \"" + key + "\"");
    }
    return *it;
}

} // namespace kitty
