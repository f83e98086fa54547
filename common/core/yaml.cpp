#include "kitty/yaml.hpp"

#include <cstdio>
#include <set>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "kitty/regex.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace {

// ruamel's VersionedResolver for YAML 1.2, one pattern per implicit tag. Each is compiled on
// first use: most processes parse a few WP files whose scalars need one or none of them.
const RE2& boolean_pattern() {
    static const Regex re("^(?:true|True|TRUE|false|False|FALSE)$");
    return re;
}

const RE2& floating_pattern() {
    static const Regex re("^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                          "|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
                          "|[-+]?\\.[0-9_]+(?:[eE][-+][0-9]+)?"
                          "|[-+]?\\.(?:inf|Inf|INF)"
                          "|\\.(?:nan|NaN|NAN))$");
    return re;
}

const RE2& integer_pattern() {
    static const Regex re("^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$");
    return re;
}

const RE2& null_pattern() {
    static const Regex re("^(?:~|null|Null|NULL|)$");
    return re;
}

const RE2& timestamp_pattern() {
    static const Regex re("^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                          "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                          "(?:[Tt]|[ \\t]+)[0-9][0-9]?"
                          ":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
                          "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$");
    return re;
}

bool in(std::string_view set, char c) {
    return set.find(c) != std::string_view::npos;
}

// Plain text that ruamel resolves to a tag other than str (merge, value and the
// documentation-only yaml tag included), so a string with this text must be quoted.
bool resolves_to_non_string(std::string_view text) {
    if (text == "<<" || text == "=" || text == "!" || text == "&" || text == "*") {
        return true;
    }
    return resolve_plain_scalar(text) != YamlNode::Kind::string;
}

constexpr int max_depth = 256;

// yaml-cpp shares an aliased node; the tree built here copies it at every alias, so a few
// hundred bytes of anchors and aliases can stand for billions of nodes (a "billion laughs"
// document). Conversion counts one per node and one per scalar byte and gives up past
// four times the document's size plus 64 KiB: a document without aliases never comes
// near that (each node takes at least a byte of text, and a scalar is never longer than
// its text), one that reuses a few anchors stays within it.
class ExpansionBudget {
public:
    explicit ExpansionBudget(std::size_t document_size)
        : limit_(4 * document_size + 65536), left_(limit_) {}

    void spend(std::size_t amount, int line) {
        if (amount > left_) {
            throw YamlError{"its aliases expand to more than " + std::to_string(limit_) +
                                " nodes and characters (at most 4 per byte of the document "
                                "plus 65536)",
                            line};
        }
        left_ -= amount;
    }

private:
    std::size_t limit_;
    std::size_t left_;
};

// yaml-cpp 0.7 decodes the escapes \N, \_ and \x80-\xFF of double-quoted scalars to a
// single byte instead of the code point's UTF-8. The document was valid UTF-8, so every
// byte that does not start a valid sequence is such a code point (U+0080-U+00FF).
std::string decoded_scalar(std::string text) {
    if (!first_invalid_utf8(text)) {
        return text;
    }
    std::string out;
    for (std::size_t pos = 0; pos < text.size();) {
        const auto bad = first_invalid_utf8(std::string_view(text).substr(pos));
        const std::size_t good = bad ? *bad : text.size() - pos;
        out.append(text, pos, good);
        pos += good;
        if (pos < text.size()) {
            append_utf8(out, static_cast<unsigned char>(text[pos]));
            ++pos;
        }
    }
    return out;
}

YamlNode convert(const YAML::Node& node, int depth, ExpansionBudget& budget) {
    if (depth > max_depth) {
        throw YamlError{"nesting deeper than " + std::to_string(max_depth) + " levels",
                        node.Mark().line + 1};
    }
    YamlNode out;
    out.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    budget.spend(1, out.line);
    switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
        out.kind = YamlNode::Kind::null;
        return out;
    case YAML::NodeType::Scalar: {
        budget.spend(node.Scalar().size(), out.line);
        out.text = decoded_scalar(node.Scalar());
        const std::string& tag = node.Tag();
        if (tag == "?") {
            out.kind = resolve_plain_scalar(out.text);
        } else if (tag == "!" || tag == "tag:yaml.org,2002:str") {
            out.kind = YamlNode::Kind::string;
        } else if (tag == "tag:yaml.org,2002:int") {
            out.kind = YamlNode::Kind::integer;
        } else if (tag == "tag:yaml.org,2002:float") {
            out.kind = YamlNode::Kind::floating;
        } else if (tag == "tag:yaml.org,2002:bool") {
            out.kind = YamlNode::Kind::boolean;
        } else if (tag == "tag:yaml.org,2002:null") {
            out.kind = YamlNode::Kind::null;
        } else if (tag == "tag:yaml.org,2002:timestamp") {
            out.kind = YamlNode::Kind::timestamp;
        } else {
            throw YamlError{"unsupported tag " + tag, out.line};
        }
        if (out.kind == YamlNode::Kind::boolean) {
            out.text = (out.text[0] == 't' || out.text[0] == 'T') ? "true" : "false";
        }
        return out;
    }
    case YAML::NodeType::Sequence:
        out.kind = YamlNode::Kind::sequence;
        for (const YAML::Node& item : node) {
            out.items.push_back(convert(item, depth + 1, budget));
        }
        return out;
    case YAML::NodeType::Map: {
        out.kind = YamlNode::Kind::mapping;
        std::set<std::string> seen;
        for (const auto& pair : node) {
            const int key_line = pair.first.Mark().is_null() ? 0 : pair.first.Mark().line + 1;
            if (!pair.first.IsScalar()) {
                throw YamlError{"a mapping key must be a scalar", key_line};
            }
            const std::string key = decoded_scalar(pair.first.Scalar());
            if (!seen.insert(key).second) {
                throw YamlError{"duplicate key \"" + key + "\"", key_line};
            }
            budget.spend(1 + pair.first.Scalar().size(), key_line);
            out.entries.push_back({key, convert(pair.second, depth + 1, budget)});
            out.key_lines.push_back(key_line);
        }
        return out;
    }
    }
    return out;
}

bool is_break(char32_t c) {
    return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

bool is_blank_or_end(char32_t c) {
    return c == 0 || c == ' ' || c == '\t' || c == '\r' || is_break(c);
}

struct Analysis {
    bool multiline = false;
    bool allow_block_plain = true;
    bool allow_single_quoted = true;
};

// ruamel's Emitter.analyze_scalar with allow_unicode on, for a non-empty scalar.
Analysis analyze(std::string_view utf8) {
    std::vector<char32_t> s;
    for (std::size_t pos = 0; pos < utf8.size();) {
        s.push_back(next_code_point(utf8, pos));
    }
    bool block_indicators = false, line_breaks = false, special = false;
    bool leading_space = false, leading_break = false, trailing_space = false,
         trailing_break = false, break_space = false, space_break = false;
    if (utf8.substr(0, 3) == "---" || utf8.substr(0, 3) == "...") {
        block_indicators = true;
    }
    bool preceded_by_ws = true;
    bool followed_by_ws = s.size() == 1 || is_blank_or_end(s[1]);
    bool previous_space = false, previous_break = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char32_t ch = s[i];
        const bool ascii = ch < 0x80;
        if (i == 0) {
            if (ascii && in("#,[]{}&*!|>'\"%@`", static_cast<char>(ch))) {
                block_indicators = true;
            }
            if ((ch == '?' || ch == ':') && followed_by_ws) {
                block_indicators = true;
            }
            if (ch == '-' && followed_by_ws) {
                block_indicators = true;
            }
        } else {
            if (ch == ':' && followed_by_ws) {
                block_indicators = true;
            }
            if (ch == '#' && preceded_by_ws) {
                block_indicators = true;
            }
        }
        if (is_break(ch)) {
            line_breaks = true;
        }
        if (!(ch == '\n' || (ch >= 0x20 && ch <= 0x7E))) {
            const bool printable_unicode =
                (ch == 0x85 || (ch >= 0xA0 && ch <= 0xD7FF) || (ch >= 0xE000 && ch <= 0xFFFD) ||
                 (ch >= 0x10000 && ch <= 0x10FFFF)) &&
                ch != 0xFEFF;
            if (!printable_unicode) {
                special = true;
            }
        }
        if (ch == ' ') {
            leading_space = leading_space || i == 0;
            trailing_space = trailing_space || i + 1 == s.size();
            break_space = break_space || previous_break;
            previous_space = true;
            previous_break = false;
        } else if (is_break(ch)) {
            leading_break = leading_break || i == 0;
            trailing_break = trailing_break || i + 1 == s.size();
            space_break = space_break || previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = previous_break = false;
        }
        preceded_by_ws = is_blank_or_end(ch);
        followed_by_ws = i + 2 >= s.size() || is_blank_or_end(s[i + 2]);
    }
    Analysis a;
    a.multiline = line_breaks;
    if (leading_space || leading_break || trailing_space || trailing_break || line_breaks ||
        block_indicators) {
        a.allow_block_plain = false;
    }
    if (break_space || special || space_break) {
        a.allow_block_plain = a.allow_single_quoted = false;
    }
    return a;
}

void append_hex_escape(std::string& out, char prefix, int width, char32_t c) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\%c%0*X", prefix, width, static_cast<unsigned>(c));
    out += buf;
}

std::string double_quoted(std::string_view utf8) {
    std::string out = "\"";
    for (std::size_t pos = 0; pos < utf8.size();) {
        const std::size_t begin = pos;
        const char32_t ch = next_code_point(utf8, pos);
        switch (ch) {
        case 0:
            out += "\\0";
            continue;
        case 0x07:
            out += "\\a";
            continue;
        case 0x08:
            out += "\\b";
            continue;
        case 0x09:
            out += "\\t";
            continue;
        case 0x0A:
            out += "\\n";
            continue;
        case 0x0B:
            out += "\\v";
            continue;
        case 0x0C:
            out += "\\f";
            continue;
        case 0x0D:
            out += "\\r";
            continue;
        case 0x1B:
            out += "\\e";
            continue;
        case '"':
            out += "\\\"";
            continue;
        case '\\':
            out += "\\\\";
            continue;
        case 0x85:
            out += "\\N";
            continue;
        case 0x2028:
            out += "\\L";
            continue;
        case 0x2029:
            out += "\\P";
            continue;
        default:
            break;
        }
        if ((ch >= 0x20 && ch <= 0x7E) || (ch >= 0xA0 && ch <= 0xD7FF) ||
            (ch >= 0xE000 && ch <= 0xFFFD && ch != 0xFEFF)) {
            out.append(utf8.substr(begin, pos - begin));
        } else if (ch <= 0xFF) {
            append_hex_escape(out, 'x', 2, ch);
        } else if (ch <= 0xFFFF) {
            append_hex_escape(out, 'u', 4, ch);
        } else {
            append_hex_escape(out, 'U', 8, ch);
        }
    }
    return out + "\"";
}

std::string single_quoted(std::string_view utf8) {
    std::string out = "'";
    for (const char c : utf8) {
        out += c;
        if (c == '\'') {
            out += '\'';
        }
    }
    return out + "'";
}

// ruamel's choose_scalar_style for a string value in block context.
std::string string_scalar(std::string_view value) {
    if (value.empty()) {
        return "''";
    }
    const Analysis a = analyze(value);
    if (!resolves_to_non_string(value) && a.allow_block_plain) {
        return std::string(value);
    }
    // ruamel prefers double quotes for text with a quote or a line break; single-quoted
    // output of other break characters is not reproduced, they are escaped instead.
    const bool other_breaks = value.find("\xC2\x85") != std::string_view::npos ||
                              value.find("\xE2\x80\xA8") != std::string_view::npos ||
                              value.find("\xE2\x80\xA9") != std::string_view::npos;
    if (value.find('\'') != std::string_view::npos || value.find('\n') != std::string_view::npos ||
        other_breaks || !a.allow_single_quoted) {
        return double_quoted(value);
    }
    return single_quoted(value);
}

std::string scalar_text(const YamlNode& node) {
    switch (node.kind) {
    case YamlNode::Kind::string:
        return string_scalar(node.text);
    default:
        return node.text; // a null keeps its spelling: "" (ruamel) or "null" (PyYAML)
    }
}

void emit_mapping(const YamlNode& map, int indent, bool inline_first, std::string& out);
void emit_sequence(const YamlNode& seq, int indent, bool inline_first, std::string& out);

// What follows a "key:" or a "-": empty collections in flow style, scalars on the same
// line, non-empty collections as blocks.
void emit_after_indicator(const YamlNode& value, int indent, bool in_sequence, std::string& out) {
    if (value.kind == YamlNode::Kind::sequence && !value.items.empty()) {
        if (in_sequence) {
            out += " ";
            emit_sequence(value, indent + 2, true, out);
        } else {
            out += "\n";
            emit_sequence(value, indent, false, out);
        }
    } else if (value.kind == YamlNode::Kind::mapping && !value.entries.empty()) {
        if (in_sequence) {
            out += " ";
            emit_mapping(value, indent + 2, true, out);
        } else {
            out += "\n";
            emit_mapping(value, indent + 2, false, out);
        }
    } else if (value.kind == YamlNode::Kind::sequence) {
        out += " []\n";
    } else if (value.kind == YamlNode::Kind::mapping) {
        out += " {}\n";
    } else {
        const std::string s = scalar_text(value);
        out += (s.empty() ? "" : " " + s) + "\n";
    }
}

void emit_sequence(const YamlNode& seq, int indent, bool inline_first, std::string& out) {
    bool first = true;
    for (const YamlNode& item : seq.items) {
        if (!(first && inline_first)) {
            out.append(static_cast<std::size_t>(indent), ' ');
        }
        first = false;
        out += "-";
        emit_after_indicator(item, indent, true, out);
    }
}

void emit_mapping(const YamlNode& map, int indent, bool inline_first, std::string& out) {
    bool first = true;
    for (const auto& [key, value] : map.entries) {
        if (!(first && inline_first)) {
            out.append(static_cast<std::size_t>(indent), ' ');
        }
        first = false;
        out += string_scalar(key) + ":";
        emit_after_indicator(value, indent, false, out);
    }
}

} // namespace

YamlNode YamlNode::string(std::string value) {
    YamlNode n;
    n.kind = Kind::string;
    n.text = std::move(value);
    return n;
}

YamlNode YamlNode::list(const std::vector<std::string>& values) {
    YamlNode n;
    n.kind = Kind::sequence;
    for (const std::string& v : values) {
        n.items.push_back(string(v));
    }
    return n;
}

YamlNode::Kind resolve_plain_scalar(std::string_view text) {
    const re2::StringPiece s(text.data(), text.size());
    const char first = text.empty() ? '\0' : text[0];
    // A pattern is tried only when the scalar's first character is one its tag lists, as
    // ruamel does, and when the text passes a check every match of the pattern passes (its
    // length, a character it must contain, the characters it may contain).
    const auto has_any = [text](std::string_view chars) {
        return text.find_first_of(chars) != std::string_view::npos;
    };
    const auto only = [text](std::string_view chars) {
        return text.find_first_not_of(chars) == std::string_view::npos;
    };
    if (in("tTfF", first) && (text.size() == 4 || text.size() == 5) &&
        RE2::FullMatch(s, boolean_pattern())) {
        return YamlNode::Kind::boolean;
    }
    if (in("-+0123456789.", first) && has_any(".eE") && RE2::FullMatch(s, floating_pattern())) {
        return YamlNode::Kind::floating;
    }
    if (in("-+0123456789", first) && only("-+0123456789_boxabcdefABCDEF") &&
        RE2::FullMatch(s, integer_pattern())) {
        return YamlNode::Kind::integer;
    }
    if ((text.empty() || in("~nN", first)) && text.size() <= 4 &&
        RE2::FullMatch(s, null_pattern())) {
        return YamlNode::Kind::null;
    }
    if (in("0123456789", first) && text.size() >= 10 && text[4] == '-' &&
        RE2::FullMatch(s, timestamp_pattern())) {
        return YamlNode::Kind::timestamp;
    }
    return YamlNode::Kind::string;
}

YamlNode parse_yaml(const std::string& text) {
    try {
        ExpansionBudget budget(text.size());
        return convert(YAML::Load(text), 0, budget);
    } catch (const YAML::Exception& e) {
        throw YamlError{e.msg, e.mark.is_null() ? 0 : e.mark.line + 1};
    }
}

std::string emit_yaml_mapping(const YamlNode& mapping) {
    std::string out;
    emit_mapping(mapping, 0, false, out);
    return out;
}

} // namespace kitty
