#include "kitty/glob.hpp"

#include <string>
#include <vector>

#include "kitty/text.hpp"

namespace kitty {

namespace {

struct Range {
    char32_t lo;
    char32_t hi;
};

// One element of a translated pattern, as fnmatch.translate builds its regex.
struct Token {
    enum class Kind { literal, any_one, any_run, set, never };

    explicit Token(Kind k, char32_t c = 0) : kind(k), literal(c) {}

    Kind kind;
    char32_t literal;
    bool negated = false;
    std::vector<Range> ranges;
};

std::u32string decode(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    for (std::size_t pos = 0; pos < utf8.size();) {
        out.push_back(next_code_point(utf8, pos));
    }
    return out;
}

// The class `pat[i, j)` (between "[" and its "]"), following translate's chunking: each
// "-" after the first character joins the neighbouring characters into a range, ranges
// whose ends are reversed are dropped together with both ends, and everything else is
// literal.
Token translate_set(const std::u32string& pat, std::size_t i, std::size_t j) {
    Token t(Token::Kind::set);
    std::vector<std::u32string> chunks;
    if (pat.substr(i, j - i).find(U'-') == std::u32string::npos) {
        chunks.push_back(pat.substr(i, j - i));
    } else {
        std::size_t k = pat[i] == U'!' ? i + 2 : i + 1;
        while (true) {
            const std::size_t dash = k < j ? pat.substr(0, j).find(U'-', k) : std::u32string::npos;
            if (dash == std::u32string::npos) {
                break;
            }
            chunks.push_back(pat.substr(i, dash - i));
            i = dash + 1;
            k = dash + 3;
        }
        const std::u32string last = pat.substr(i, j - i);
        if (!last.empty()) {
            chunks.push_back(last);
        } else {
            chunks.back() += U'-';
        }
        for (std::size_t k2 = chunks.size() - 1; k2 > 0; --k2) {
            if (chunks[k2 - 1].back() > chunks[k2][0]) {
                chunks[k2 - 1] =
                    chunks[k2 - 1].substr(0, chunks[k2 - 1].size() - 1) + chunks[k2].substr(1);
                chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(k2));
            }
        }
    }
    std::u32string stuff;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        stuff += (c ? U"-" : U"") + chunks[c];
    }
    if (stuff.empty()) {
        return Token(Token::Kind::never);
    }
    if (stuff == U"!") {
        return Token(Token::Kind::any_one);
    }
    // Characters of each chunk are literal; the last of one chunk and the first of the
    // next are the ends of a range.
    t.negated = chunks[0][0] == U'!';
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const std::u32string& chunk = chunks[c];
        const std::size_t first = (c == 0 && t.negated) ? 1 : 0;
        const std::size_t begin = c == 0 ? first : 1;
        const std::size_t end = c + 1 < chunks.size() ? chunk.size() - 1 : chunk.size();
        for (std::size_t x = begin; x < end; ++x) {
            t.ranges.push_back({chunk[x], chunk[x]});
        }
        if (c + 1 < chunks.size()) {
            t.ranges.push_back({chunk.back(), chunks[c + 1][0]});
        }
    }
    return t;
}

std::vector<Token> translate(const std::u32string& pat) {
    std::vector<Token> out;
    const std::size_t n = pat.size();
    std::size_t i = 0;
    while (i < n) {
        const char32_t c = pat[i++];
        if (c == U'*') {
            if (out.empty() || out.back().kind != Token::Kind::any_run) {
                out.push_back(Token(Token::Kind::any_run));
            }
        } else if (c == U'?') {
            out.push_back(Token(Token::Kind::any_one));
        } else if (c == U'[') {
            std::size_t j = i;
            if (j < n && pat[j] == U'!') {
                ++j;
            }
            if (j < n && pat[j] == U']') {
                ++j;
            }
            while (j < n && pat[j] != U']') {
                ++j;
            }
            if (j >= n) {
                out.push_back(Token(Token::Kind::literal, U'['));
            } else {
                out.push_back(translate_set(pat, i, j));
                i = j + 1;
            }
        } else {
            out.emplace_back(Token::Kind::literal, c);
        }
    }
    return out;
}

bool matches_one(const Token& t, char32_t c) {
    switch (t.kind) {
    case Token::Kind::literal:
        return t.literal == c;
    case Token::Kind::any_one:
        return true;
    case Token::Kind::set: {
        bool in = false;
        for (const Range& r : t.ranges) {
            in = in || (r.lo <= c && c <= r.hi);
        }
        return in != t.negated;
    }
    default:
        return false;
    }
}

} // namespace

bool fnmatch(std::string_view name, std::string_view pattern) {
    const std::vector<Token> tokens = translate(decode(pattern));
    const std::u32string s = decode(name);
    // Every run is "any sequence", so backtracking to the latest run is enough: the
    // classic linear-space glob matcher.
    std::size_t t = 0, p = 0;
    std::size_t star = std::u32string::npos, star_pos = 0;
    while (p < s.size()) {
        if (t < tokens.size() && tokens[t].kind == Token::Kind::any_run) {
            star = t++;
            star_pos = p;
        } else if (t < tokens.size() && matches_one(tokens[t], s[p])) {
            ++t;
            ++p;
        } else if (star != std::u32string::npos) {
            t = star + 1;
            p = ++star_pos;
        } else {
            return false;
        }
    }
    while (t < tokens.size() && tokens[t].kind == Token::Kind::any_run) {
        ++t;
    }
    return t == tokens.size();
}

std::string_view glob_literal_head(std::string_view pattern) {
    return pattern.substr(0, pattern.find_first_of("*?["));
}

std::string_view glob_prefix(std::string_view glob) {
    for (const std::string_view suffix : {"/**", "/*", "**", "*"}) {
        if (glob.ends_with(suffix)) {
            return glob.substr(0, glob.size() - suffix.size());
        }
    }
    return glob;
}

} // namespace kitty
