#include "kitty/tasks_md.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <re2/re2.h>

#include "kitty/dependency_graph.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace {

// The compiled patterns, built once.
struct Patterns {
    // _WP_SECTION_HEADER without its trailing (?:\b|:), which is checked by hand
    // (Python's \b is Unicode-aware; the ':' alternative can never be reached).
    Regex header{python_regex(R"((?m)^(?:##\s+(?:Work Package\s+)?|###\s+)(WP\d{2}))")};
    Regex any_h2{"(?m)^## "};
    Regex depends_on{python_regex(R"((?i)Depends?\s+on\s+(WP\d{2}(?:\s*,\s*WP\d{2})*))")};
    Regex deps_colon{python_regex(R"((?i)\*?\*?Dependencies\*?\*?\s*:\s*(.+))")};
    Regex deps_heading{python_regex(R"((?im)^#{1,4}\s*\*?\*?Dependencies\*?\*?\s*$)")};
    Regex bullet_wp{python_regex(R"(^\s*[-*]\s*(WP\d{2}))")};
    Regex wp_id{python_regex(R"(WP\d{2})")};
    Regex word_char{R"([\p{L}\p{N}_])"};

    // mission.py's requirement-refs parse runs on RE2 itself: ASCII classes.
    Regex refs_header{R"((?m)^#{2,4}\s+(?:Work Package\s+)?(WP\d{2})(?:\b|:))"};
    Regex refs_line{R"((?i)\*?\*?Requirements?\s*(?:Refs)?\*?\*?\s*:\s*(.+))"};
    Regex requirement_id{R"((?i)\b((?:FR|NFR|C)-\d+)\b)"};

    // kitty's own: subtask rows and the phrasings 3.1.1 ignores.
    Regex subtask{R"(^\s*[-*]\s*\[([ xX])\]\s*(T\d+)\b\s*(\[P\])?\s*(.*?)\s*$)"};
    Regex depends_punct{R"((?i)\**\bdepends?(?:\s+on)?(?:\s*\*+\s*:?|\s*:))"};
    Regex any_case_id{R"((?i)\b(wp\d{2})\b)"};
    Regex conjunction{R"(^\s*,?\s*(?i:and|or|&|\+)\s+(WP\d{2}))"};
    Regex header_like{
        R"((?im)^#{1,6}[ \t]*(?:\*\*)?(?:work[ \t]+package[ \t]+)?(?:\*\*)?wp\d{2}\b)"};
    Regex long_id_header{
        R"((?im)^#{1,6}[ \t]*(?:\*\*)?(?:work[ \t]+package[ \t]+)?(?:\*\*)?(wp\d{3,})\b)"};
    Regex mentions_depend{"(?i)depend"};
    Regex prompt_link{R"((?i)prompt|tasks/WP\d{2})"};
};

const Patterns& patterns() {
    static const Patterns p;
    return p;
}

using Piece = re2::StringPiece;

std::size_t offset_in(std::string_view whole, Piece part) {
    return static_cast<std::size_t>(part.data() - whole.data());
}

// Does a Python `\b` hold right after a word character at `pos`?
bool word_boundary_after(std::string_view text, std::size_t pos) {
    if (pos >= text.size()) {
        return true;
    }
    std::size_t next = pos;
    next_code_point(text, next);
    return !RE2::FullMatch(Piece(text.data() + pos, next - pos), patterns().word_char);
}

struct Header {
    std::size_t start;    // the '#'
    std::size_t id_begin; // "WPnn"
    std::size_t id_end;   // match.end() in 3.1.1
};

// _WP_SECTION_HEADER.match(text, pos): a header starting exactly at `pos`.
bool header_at(std::string_view text, std::size_t pos, Header* out) {
    Piece groups[2];
    if (!patterns().header.Match(Piece(text.data(), text.size()), pos, text.size(),
                                 RE2::ANCHOR_START, groups, 2)) {
        return false;
    }
    const std::size_t id_end = offset_in(text, groups[1]) + groups[1].size();
    if (!word_boundary_after(text, id_end)) {
        return false;
    }
    if (out != nullptr) {
        *out = {pos, offset_in(text, groups[1]), id_end};
    }
    return true;
}

std::vector<Header> find_headers(std::string_view text) {
    std::vector<Header> headers;
    const Piece whole(text.data(), text.size());
    Piece groups[2];
    std::size_t pos = 0;
    while (pos <= text.size() &&
           patterns().header.Match(whole, pos, text.size(), RE2::UNANCHORED, groups, 2)) {
        const std::size_t start = offset_in(text, groups[0]);
        const std::size_t id_end = offset_in(text, groups[1]) + groups[1].size();
        if (word_boundary_after(text, id_end)) {
            headers.push_back({start, offset_in(text, groups[1]), id_end});
            pos = id_end;
        } else {
            pos = start + 1; // '#' is one byte
        }
    }
    return headers;
}

// Where the final WP's section stops since 4cf851c4f: the first later "## " line that is
// neither a WP header nor a bare Dependencies heading.
std::size_t final_section_end(std::string_view text, std::size_t from) {
    const Patterns& p = patterns();
    const Piece whole(text.data(), text.size());
    Piece match;
    std::size_t pos = from;
    while (pos < text.size() &&
           p.any_h2.Match(whole, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
        const std::size_t h = offset_in(text, match);
        pos = h + match.size();
        if (header_at(text, h, nullptr)) {
            continue;
        }
        const std::size_t eol = text.find('\n', h);
        const std::string_view line =
            py_strip(text.substr(h, (eol == std::string_view::npos ? text.size() : eol) - h));
        // _DEPS_HEADING.match(line.strip()): anchored at the start of the stripped line.
        if (p.deps_heading.Match(Piece(line.data(), line.size()), 0, line.size(), RE2::ANCHOR_START,
                                 nullptr, 0)) {
            continue;
        }
        return h;
    }
    return text.size();
}

// Line starts, for offset → (line, column). Columns count code points; a checkpoint every
// kStride bytes of a line keeps each lookup short, so a long line costs linear time, not
// a walk from its start per match.
class LineIndex {
public:
    explicit LineIndex(std::string_view text) : text_(text) {
        starts_.push_back(0);
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\n') {
                starts_.push_back(i + 1);
            }
        }
        for (std::size_t l = 0; l < starts_.size(); ++l) {
            const std::size_t end = l + 1 < starts_.size() ? starts_[l + 1] : text.size();
            int column = 1;
            std::size_t mark = starts_[l] + kStride;
            for (std::size_t pos = starts_[l]; pos < end; ++column) {
                if (pos >= mark) {
                    checkpoints_.push_back({pos, column});
                    mark = pos + kStride;
                }
                next_code_point(text_, pos);
            }
        }
    }

    int line(std::size_t offset) const {
        const auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
        return static_cast<int>(it - starts_.begin());
    }

    TextPosition position(std::size_t offset) const {
        const int l = line(offset);
        std::size_t pos = starts_[static_cast<std::size_t>(l - 1)];
        int column = 1;
        // The last checkpoint at or before `offset`, if it lies on this line.
        auto cp = std::upper_bound(
            checkpoints_.begin(), checkpoints_.end(), offset,
            [](std::size_t value, const Checkpoint& c) { return value < c.offset; });
        if (cp != checkpoints_.begin() && std::prev(cp)->offset >= pos) {
            pos = std::prev(cp)->offset;
            column = std::prev(cp)->column;
        }
        while (pos < offset) {
            next_code_point(text_, pos);
            ++column;
        }
        return {l, column};
    }

    // The offset where the line holding `offset` ends (its '\n', or the end of the text).
    std::size_t line_end(std::size_t offset) const {
        const auto l = static_cast<std::size_t>(line(offset));
        return l < starts_.size() ? starts_[l] - 1 : text_.size();
    }

    std::string_view line_text(int l) const {
        const std::size_t begin = starts_[static_cast<std::size_t>(l - 1)];
        return text_.substr(begin, line_end(begin) - begin);
    }

private:
    static constexpr std::size_t kStride = 1024;
    struct Checkpoint {
        std::size_t offset; // a code point boundary of the walk from its line start
        int column;
    };
    std::string_view text_;
    std::vector<std::size_t> starts_;
    std::vector<Checkpoint> checkpoints_; // ascending offsets
};

struct Occurrence {
    std::string id;
    DependencyPattern pattern;
    std::size_t offset; // absolute
};

// Every WPnn (case-sensitive) inside `part`, which lies inside `text`.
void collect_ids(std::string_view text, Piece part, DependencyPattern pattern,
                 std::vector<Occurrence>& out) {
    Piece match;
    std::size_t pos = 0;
    while (pos < part.size() &&
           patterns().wp_id.Match(part, pos, part.size(), RE2::UNANCHORED, &match, 1)) {
        out.push_back({std::string(match.data(), match.size()), pattern, offset_in(text, match)});
        pos = static_cast<std::size_t>(match.data() - part.data()) + match.size();
    }
}

// _parse_section_deps: the three families in order. The section is matched as a string
// of its own, as 3.1.1 slices it, so ^ and $ see its ends as text boundaries.
std::vector<Occurrence> section_occurrences(std::string_view text, std::size_t begin,
                                            std::size_t end) {
    const Patterns& p = patterns();
    const Piece section(text.data() + begin, end - begin);
    std::vector<Occurrence> found;
    Piece groups[2];

    std::size_t pos = 0;
    while (pos < section.size() &&
           p.depends_on.Match(section, pos, section.size(), RE2::UNANCHORED, groups, 2)) {
        collect_ids(text, groups[1], DependencyPattern::depends_on, found);
        pos = static_cast<std::size_t>(groups[0].data() - section.data()) + groups[0].size();
    }
    pos = 0;
    while (pos < section.size() &&
           p.deps_colon.Match(section, pos, section.size(), RE2::UNANCHORED, groups, 2)) {
        collect_ids(text, groups[1], DependencyPattern::dependencies_colon, found);
        pos = static_cast<std::size_t>(groups[0].data() - section.data()) + groups[0].size();
    }
    pos = 0;
    while (pos < section.size() &&
           p.deps_heading.Match(section, pos, section.size(), RE2::UNANCHORED, groups, 1)) {
        std::size_t line_begin =
            static_cast<std::size_t>(groups[0].data() - section.data()) + groups[0].size();
        pos = line_begin;
        while (true) {
            std::size_t line_end = section.find('\n', line_begin);
            if (line_end == Piece::npos) {
                line_end = section.size();
            }
            const std::string_view line(section.data() + line_begin, line_end - line_begin);
            const std::string_view stripped = py_strip(line);
            if (!stripped.empty()) {
                if (stripped[0] == '#') {
                    break;
                }
                Piece bullet[2];
                if (!p.bullet_wp.Match(Piece(line.data(), line.size()), 0, line.size(),
                                       RE2::ANCHOR_START, bullet, 2)) {
                    break;
                }
                found.push_back({std::string(bullet[1].data(), bullet[1].size()),
                                 DependencyPattern::dependencies_heading,
                                 offset_in(text, bullet[1])});
            }
            if (line_end == section.size()) {
                break;
            }
            line_begin = line_end + 1;
        }
    }
    return found;
}

std::vector<Occurrence> first_of_each(std::vector<Occurrence> all) {
    std::vector<Occurrence> kept;
    std::set<std::string> seen;
    for (Occurrence& o : all) {
        if (seen.insert(o.id).second) {
            kept.push_back(std::move(o));
        }
    }
    return kept;
}

struct SectionSpan {
    std::string id;
    Header header;
    std::size_t end;
    int count = 1;
};

// _split_wp_sections: keys by first appearance, text of the last.
std::vector<SectionSpan> split_sections(std::string_view text) {
    const std::vector<Header> headers = find_headers(text);
    std::vector<SectionSpan> spans;
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const Header& h = headers[i];
        const std::size_t end =
            i + 1 < headers.size() ? headers[i + 1].start : final_section_end(text, h.id_end);
        std::string id(text.substr(h.id_begin, h.id_end - h.id_begin));
        if (const auto it = index.find(id); it != index.end()) {
            SectionSpan& span = spans[it->second];
            span.header = h;
            span.end = end;
            ++span.count;
        } else {
            index.emplace(id, spans.size());
            spans.push_back({std::move(id), h, end});
        }
    }
    return spans;
}

std::string header_title(std::string_view text, const Header& h) {
    std::size_t eol = text.find('\n', h.id_end);
    if (eol == std::string_view::npos) {
        eol = text.size();
    }
    std::string_view rest = py_strip(text.substr(h.id_end, eol - h.id_end));
    for (const std::string_view sep : {":", "—", "–", "--", "-", "/", "."}) {
        if (rest.substr(0, sep.size()) == sep) {
            rest = py_strip(rest.substr(sep.size()));
            break;
        }
    }
    return std::string(rest);
}

std::vector<Subtask> section_subtasks(std::string_view text, std::size_t begin, std::size_t end,
                                      const LineIndex& lines) {
    std::vector<Subtask> subtasks;
    std::size_t line_begin = begin;
    while (line_begin < end) {
        std::size_t line_end = text.find('\n', line_begin);
        if (line_end == std::string_view::npos || line_end > end) {
            line_end = end;
        }
        Piece g[5];
        const Piece line(text.data() + line_begin, line_end - line_begin);
        if (patterns().subtask.Match(line, 0, line.size(), RE2::ANCHOR_BOTH, g, 5)) {
            subtasks.push_back({std::string(g[2].data(), g[2].size()), g[1] != " ", !g[3].empty(),
                                std::string(g[4].data(), g[4].size()), lines.line(line_begin)});
        }
        line_begin = line_end + 1;
    }
    return subtasks;
}

std::vector<std::string> requirement_ids(Piece text) {
    std::vector<std::string> ids;
    Piece g[2];
    std::size_t pos = 0;
    while (pos < text.size() &&
           patterns().requirement_id.Match(text, pos, text.size(), RE2::UNANCHORED, g, 2)) {
        std::string id(g[1].data(), g[1].size());
        std::transform(id.begin(), id.end(), id.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
            ids.push_back(std::move(id));
        }
        pos = static_cast<std::size_t>(g[0].data() - text.data()) + g[0].size();
    }
    return ids;
}

// mission.py's requirement-refs parse: h2–h4 headers, sections to the next header or EOF.
std::vector<std::pair<std::string, std::vector<std::string>>>
parse_requirement_refs(std::string_view text) {
    const Patterns& p = patterns();
    const Piece whole(text.data(), text.size());
    struct Span {
        std::size_t begin, end;
    };
    std::vector<std::pair<std::string, Span>> sections;
    std::vector<std::pair<std::size_t, std::size_t>> headers; // start, end
    std::vector<std::string> ids;
    Piece g[2];
    std::size_t pos = 0;
    while (pos < text.size() &&
           p.refs_header.Match(whole, pos, text.size(), RE2::UNANCHORED, g, 2)) {
        headers.emplace_back(offset_in(text, g[0]), offset_in(text, g[0]) + g[0].size());
        ids.emplace_back(g[1].data(), g[1].size());
        pos = headers.back().second;
    }
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const Span span{headers[i].second,
                        i + 1 < headers.size() ? headers[i + 1].first : text.size()};
        const auto it = std::find_if(sections.begin(), sections.end(),
                                     [&](const auto& s) { return s.first == ids[i]; });
        if (it != sections.end()) {
            it->second = span;
        } else {
            sections.emplace_back(ids[i], span);
        }
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> refs;
    for (const auto& [id, span] : sections) {
        const Piece section(text.data() + span.begin, span.end - span.begin);
        std::vector<std::string> all;
        std::size_t at = 0;
        while (at < section.size() &&
               p.refs_line.Match(section, at, section.size(), RE2::UNANCHORED, g, 2)) {
            for (std::string& r : requirement_ids(g[1])) {
                if (std::find(all.begin(), all.end(), r) == all.end()) {
                    all.push_back(std::move(r));
                }
            }
            at = static_cast<std::size_t>(g[0].data() - section.data()) + g[0].size();
        }
        refs.emplace_back(id, std::move(all));
    }
    return refs;
}

// Builds the advisory findings; `deps` of each section are already final.
class FindingCollector {
public:
    FindingCollector(std::string_view text, const LineIndex& lines, std::string path,
                     std::vector<Finding>& out)
        : text_(text), lines_(lines), path_(std::move(path)), out_(out) {}

    void add(std::string severity, std::string code, std::string message, int line) {
        out_.push_back({std::move(severity), std::move(code), std::move(message), path_, line});
    }

    void warn(std::string code, std::string message, int line) {
        add("warning", std::move(code), std::move(message), line);
    }

    // Phrasings inside [begin, end) that look like dependency declarations but that 3.1.1
    // does not read, reported only when they name an id the section did not get.
    void ignored_phrasings(const WpSection& wp, std::size_t begin, std::size_t end) {
        const Patterns& p = patterns();
        std::set<std::string> have;
        for (const DependencySource& d : wp.dependencies) {
            have.insert(d.id);
        }
        std::size_t line_begin = begin;
        while (line_begin < end) {
            std::size_t line_end = text_.find('\n', line_begin);
            if (line_end == std::string_view::npos || line_end > end) {
                line_end = end;
            }
            check_line(wp, have, Piece(text_.data() + line_begin, line_end - line_begin));
            line_begin = line_end + 1;
        }
        // "Depends on WP01 and WP02": the list stops at "and".
        const Piece section(text_.data() + begin, end - begin);
        Piece g[2];
        std::size_t pos = 0;
        while (pos < section.size() &&
               p.depends_on.Match(section, pos, section.size(), RE2::UNANCHORED, g, 2)) {
            pos = static_cast<std::size_t>(g[0].data() - section.data()) + g[0].size();
            // The rest of the line, found through the index: a search per match would make
            // a long line quadratic.
            const std::size_t eol = std::min(lines_.line_end(begin + pos), end);
            const Piece after(text_.data() + begin + pos, eol - (begin + pos));
            Piece c[2];
            if (p.conjunction.Match(after, 0, after.size(), RE2::ANCHOR_START, c, 2)) {
                const std::string id(c[1].data(), c[1].size());
                if (have.count(id) == 0) {
                    warn("IGNORED_DEPENDENCY_PHRASE",
                         wp.id + ": in \"" + std::string(g[0].data(), g[0].size()) +
                             std::string(c[0].data(), c[0].size()) +
                             "\" 3.1.1 reads only the comma-separated ids before the "
                             "conjunction, so " +
                             id + " is not a dependency; write \"Depends on " +
                             std::string(g[1].data(), g[1].size()) + ", " + id + "\"",
                         lines_.line(offset_in(text_, g[0])));
                }
            }
        }
    }

private:
    void check_line(const WpSection& wp, const std::set<std::string>& have, Piece line) {
        const Patterns& p = patterns();
        const int line_no = lines_.line(offset_in(text_, line));
        Piece m;
        if (p.depends_punct.Match(line, 0, line.size(), RE2::UNANCHORED, &m, 1)) {
            const Piece rest(m.data() + m.size(),
                             line.size() - static_cast<std::size_t>(m.data() - line.data()) -
                                 m.size());
            std::vector<std::string> lost;
            Piece id;
            std::size_t pos = 0;
            while (pos < rest.size() &&
                   p.wp_id.Match(rest, pos, rest.size(), RE2::UNANCHORED, &id, 1)) {
                const std::string s(id.data(), id.size());
                if (have.count(s) == 0 && std::find(lost.begin(), lost.end(), s) == lost.end()) {
                    lost.push_back(s);
                }
                pos = static_cast<std::size_t>(id.data() - rest.data()) + id.size();
            }
            if (!lost.empty()) {
                warn("IGNORED_DEPENDENCY_PHRASE",
                     wp.id + ": \"" + std::string(m.data(), m.size()) +
                         "\" is not a form 3.1.1 reads, so " + join(lost) +
                         (lost.size() == 1 ? " is not a dependency" : " are not dependencies") +
                         "; write \"Depends on " + join(lost) +
                         "\" or \"**Dependencies**: " + join(lost) + "\"",
                     line_no);
            }
        }
        // Lower-case ids next to a dependency keyword: 3.1.1 extracts ids case-sensitively.
        if (RE2::PartialMatch(line, p.mentions_depend)) {
            Piece g[2];
            std::size_t pos = 0;
            while (pos < line.size() &&
                   p.any_case_id.Match(line, pos, line.size(), RE2::UNANCHORED, g, 2)) {
                pos = static_cast<std::size_t>(g[0].data() - line.data()) + g[0].size();
                const std::string written(g[1].data(), g[1].size());
                std::string upper = written;
                std::transform(upper.begin(), upper.end(), upper.begin(),
                               [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                if (written != upper && have.count(upper) == 0) {
                    warn("LOWERCASE_WP_ID",
                         wp.id + ": \"" + written +
                             "\" is ignored by 3.1.1, which matches ids case-sensitively; write " +
                             upper,
                         line_no);
                }
            }
        }
    }

    std::string_view text_;
    const LineIndex& lines_;
    std::string path_;
    std::vector<Finding>& out_;
};

std::string arrow_path(const std::vector<std::string>& ids) {
    std::string s;
    for (const std::string& id : ids) {
        s += (s.empty() ? "" : " → ") + id;
    }
    return s;
}

} // namespace

std::string_view pattern_name(DependencyPattern pattern) {
    switch (pattern) {
    case DependencyPattern::depends_on:
        return "depends_on";
    case DependencyPattern::dependencies_colon:
        return "dependencies_colon";
    case DependencyPattern::dependencies_heading:
        return "dependencies_heading";
    }
    return "";
}

Json dependency_map_json(const DependencyMap& map) {
    Json out = Json::object();
    for (const auto& [id, deps] : map) {
        out[id] = deps;
    }
    return out;
}

DependencyMap TasksAnalysis::dependency_map() const {
    DependencyMap map;
    for (const WpSection& s : sections) {
        std::vector<std::string> deps;
        for (const DependencySource& d : s.dependencies) {
            deps.push_back(d.id);
        }
        map.emplace_back(s.id, std::move(deps));
    }
    return map;
}

DependencyMap parse_dependencies(std::string_view text) {
    DependencyMap map;
    for (const SectionSpan& span : split_sections(text)) {
        std::vector<std::string> deps;
        for (Occurrence& o :
             first_of_each(section_occurrences(text, span.header.id_end, span.end))) {
            deps.push_back(std::move(o.id));
        }
        map.emplace_back(span.id, std::move(deps));
    }
    return map;
}

std::vector<std::string> extract_requirement_ids(std::string_view text) {
    return requirement_ids(Piece(text.data(), text.size()));
}

TasksAnalysis analyse_tasks_md(std::string_view text, const std::string& path) {
    const LineIndex lines(text);
    TasksAnalysis result;
    FindingCollector findings(text, lines, path, result.findings);
    const std::vector<SectionSpan> spans = split_sections(text);

    std::set<std::string> known;
    for (const SectionSpan& span : spans) {
        known.insert(span.id);
    }
    result.requirement_refs = parse_requirement_refs(text);

    for (const SectionSpan& span : spans) {
        WpSection wp;
        wp.id = span.id;
        wp.title = header_title(text, span.header);
        wp.first_line = lines.line(span.header.start);
        wp.last_line = span.end > span.header.id_end ? lines.line(span.end - 1) : wp.first_line;
        wp.header_count = span.count;
        for (Occurrence& o :
             first_of_each(section_occurrences(text, span.header.id_end, span.end))) {
            wp.dependencies.push_back({std::move(o.id), o.pattern, lines.position(o.offset)});
        }
        wp.subtasks = section_subtasks(text, span.header.id_end, span.end, lines);
        for (const auto& [id, refs] : result.requirement_refs) {
            if (id == wp.id) {
                wp.requirement_refs = refs;
            }
        }

        if (span.count > 1) {
            findings.warn("DUPLICATE_SECTION",
                          wp.id + " has " + std::to_string(span.count) +
                              " headers; 3.1.1 keeps only the text of the last one (line " +
                              std::to_string(wp.first_line) + ") and drops the others",
                          wp.first_line);
        }
        for (const DependencySource& d : wp.dependencies) {
            if (d.id == wp.id) {
                const bool link = RE2::PartialMatch(
                    Piece(lines.line_text(d.at.line).data(), lines.line_text(d.at.line).size()),
                    patterns().prompt_link);
                findings.warn(
                    "SELF_DEPENDENCY",
                    wp.id + " depends on itself (" + std::string(pattern_name(d.pattern)) +
                        ", column " + std::to_string(d.at.column) + ")" +
                        (link ? ": 3.1.1 reads every WP id to the end of a "
                                "Dependencies: line, including the one in a same-line "
                                "Prompt link; put the link on its own line"
                              : "") +
                        "; finalize-tasks rejects it as the cycle [" + wp.id + ", " + wp.id + "]",
                    d.at.line);
            } else if (known.count(d.id) == 0) {
                findings.warn("UNKNOWN_DEPENDENCY",
                              wp.id + " depends on " + d.id +
                                  ", which has no section in tasks.md; finalize-tasks rejects "
                                  "it (\"Dependency " +
                                  d.id + " not found in graph\")",
                              d.at.line);
            }
        }
        findings.ignored_phrasings(wp, span.header.id_end, span.end);
        result.sections.push_back(std::move(wp));
    }

    // Headers 3.1.1 does not see.
    std::set<std::size_t> header_starts;
    for (const Header& h : find_headers(text)) {
        header_starts.insert(h.start);
    }
    const Piece whole(text.data(), text.size());
    Piece m;
    std::size_t pos = 0;
    while (pos < text.size() &&
           patterns().header_like.Match(whole, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
        const std::size_t start = offset_in(text, m);
        pos = start + m.size();
        if (header_starts.count(start) == 0) {
            std::string_view line = lines.line_text(lines.line(start));
            findings.warn("UNRECOGNISED_HEADER",
                          "\"" + std::string(py_strip(line)) +
                              "\" is not a WP header for 3.1.1, which reads only \"## WPnn\", "
                              "\"## Work Package WPnn\" and \"### WPnn\"; its text counts as part "
                              "of the section above it, or is ignored before the first header",
                          lines.line(start));
        }
    }
    pos = 0;
    while (pos < text.size() &&
           patterns().long_id_header.Match(whole, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
        const std::size_t start = offset_in(text, m);
        pos = start + m.size();
        std::string id;
        RE2::PartialMatch(m, patterns().long_id_header, &id);
        findings.warn("WP_ID_OVER_TWO_DIGITS",
                      id + " has more than two digits: 3.1.1 reads a WP id as WP and exactly two "
                           "digits (WP00-WP99), so this section is no work package for it (nor "
                           "for kitty, which keeps the parity); split the mission or renumber",
                      lines.line(start));
    }
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (text.substr(0, bom.size()) == bom && header_at(text.substr(bom.size()), 0, nullptr)) {
        findings.warn("BOM_HIDES_HEADER",
                      "a UTF-8 byte-order mark precedes the header on line 1, so 3.1.1 does not "
                      "see it; save tasks.md without a BOM",
                      1);
    }

    for (const std::vector<std::string>& cycle : detect_cycles(result.dependency_map())) {
        if (cycle.size() <= 2) {
            continue; // a self-loop, reported above
        }
        int line = 0;
        for (const WpSection& wp : result.sections) {
            for (const DependencySource& d : wp.dependencies) {
                if (wp.id == cycle[0] && d.id == cycle[1]) {
                    line = d.at.line;
                }
            }
        }
        findings.add("error", "DEPENDENCY_CYCLE", "dependency cycle " + arrow_path(cycle), line);
    }
    return result;
}

} // namespace kitty
