// Field-by-field merges of WP files and tasks.md (kitty/file_merge.hpp).
#include "kitty/file_merge.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "kitty/regex.hpp"

namespace kitty {

namespace {

// The classic rule for one unit: what changed on one side wins; both changed alike is fine.
template <typename T> std::optional<T> pick(const T& base, const T& ours, const T& theirs) {
    if (ours == theirs || theirs == base) {
        return ours;
    }
    if (ours == base) {
        return theirs;
    }
    return std::nullopt;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        end = end == std::string::npos ? text.size() : end + 1;
        out.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) {
        out += l;
    }
    return out;
}

// Lines in `base`, then those the sides added, each once, in order.
std::vector<std::string> union_lines(const std::vector<std::string>& base,
                                     const std::vector<std::string>& ours,
                                     const std::vector<std::string>& theirs) {
    std::vector<std::string> out = base;
    std::multiset<std::string> seen(base.begin(), base.end());
    for (const auto* side : {&ours, &theirs}) {
        std::multiset<std::string> here(seen);
        for (const std::string& l : *side) {
            if (const auto it = here.find(l); it != here.end()) {
                here.erase(it);
            } else {
                out.push_back(l);
                seen.insert(l);
            }
        }
    }
    return out;
}

struct WpText {
    std::vector<std::string> keys;             // frontmatter keys in order
    std::map<std::string, std::string> fields; // key -> its lines (continuations included)
    std::map<std::string, std::vector<std::string>> items; // key -> its "- " items, each
                                                           // with its indented lines
    std::string body_head;        // the body up to the activity-log heading
    std::vector<std::string> log; // the lines after it
    bool has_log = false;
};

std::optional<WpText> parse(const std::string& text) {
    const std::vector<std::string> lines = lines_of(text);
    if (lines.empty() || lines[0] != "---\n") {
        return std::nullopt;
    }
    WpText wp;
    std::size_t i = 1;
    std::string key;
    for (; i < lines.size() && lines[i] != "---\n"; ++i) {
        const std::string& l = lines[i];
        const bool continuation =
            l.starts_with(" ") || l.starts_with("\t") || l.starts_with("- ") || l == "\n";
        if (!continuation) {
            const std::size_t colon = l.find(':');
            if (colon == std::string::npos) {
                return std::nullopt;
            }
            key = l.substr(0, colon);
            if (wp.fields.count(key)) {
                return std::nullopt;
            }
            wp.keys.push_back(key);
            wp.fields[key] = l;
            continue;
        }
        if (key.empty()) {
            return std::nullopt;
        }
        wp.fields[key] += l;
        std::vector<std::string>& items = wp.items[key];
        if (l.starts_with("- ")) {
            items.push_back(l);
        } else if (!items.empty() && (l.starts_with(" ") || l.starts_with("\t"))) {
            items.back() += l; // a mapping item's further keys
        }
    }
    if (i >= lines.size()) {
        return std::nullopt;
    }
    ++i; // the closing ---
    for (; i < lines.size(); ++i) {
        if (!wp.has_log) {
            wp.body_head += lines[i];
            wp.has_log = lines[i].starts_with("## Activity Log");
        } else {
            wp.log.push_back(lines[i]);
        }
    }
    return wp;
}

// A key whose value is a list of entries both sides append to.
bool appended_list(const std::string& key) {
    return key == "history";
}

std::optional<std::string> merge_field(const std::string& key, const WpText& b, const WpText& o,
                                       const WpText& t) {
    const auto get = [&key](const WpText& w) -> std::optional<std::string> {
        const auto it = w.fields.find(key);
        return it == w.fields.end() ? std::nullopt : std::optional(it->second);
    };
    const auto bo = get(b), oo = get(o), to = get(t);
    if (appended_list(key) && oo && to) {
        const auto items = [&key](const WpText& w) {
            const auto it = w.items.find(key);
            return it == w.items.end() ? std::vector<std::string>{} : it->second;
        };
        return key + ":\n" + joined(union_lines(items(b), items(o), items(t)));
    }
    const auto chosen = pick(bo, oo, to);
    if (!chosen) {
        return std::nullopt; // both changed the key differently
    }
    return chosen->value_or("");
}

} // namespace

std::optional<std::string> merge_wp_files(const std::string& base, const std::string& ours,
                                          const std::string& theirs) {
    if (ours == theirs || theirs == base || ours == base) {
        return pick(base, ours, theirs); // one side's change, whatever it is
    }
    const auto b = parse(base), o = parse(ours), t = parse(theirs);
    if (!b || !o || !t) {
        return pick(base, ours, theirs);
    }
    std::vector<std::string> keys = o->keys;
    for (const std::string& k : t->keys) {
        if (!o->fields.count(k) && !b->fields.count(k)) {
            keys.push_back(k); // added by theirs
        }
    }
    std::string out = "---\n";
    for (const std::string& key : keys) {
        const auto field = merge_field(key, *b, *o, *t);
        if (!field) {
            return std::nullopt;
        }
        out += *field;
    }
    out += "---\n";
    const auto head = pick(b->body_head, o->body_head, t->body_head);
    if (!head) {
        return std::nullopt;
    }
    out += *head;
    if (o->has_log && t->has_log) {
        // Each side appends entries in time order: the union, new entries by their timestamp.
        std::vector<std::string> log = union_lines(b->log, o->log, t->log);
        std::stable_sort(log.begin() + static_cast<long>(std::min(b->log.size(), log.size())),
                         log.end());
        out += joined(log);
    } else {
        const auto log = pick(b->log, o->log, t->log);
        if (!log) {
            return std::nullopt;
        }
        out += joined(*log);
    }
    return out;
}

namespace {

const Regex& checkbox() {
    static const Regex re(R"(^(\s*-\s*\[)([ xX])(\].*)$)");
    return re;
}

struct Checklist {
    std::vector<std::string> lines;
    std::vector<std::string> plain; // the lines with every tick cleared
    std::vector<int> box;           // -1: not a checkbox; 0 open; 1 ticked
};

Checklist checklist(const std::string& text) {
    Checklist c;
    c.lines = lines_of(text);
    for (const std::string& l : c.lines) {
        std::string head, mark, tail;
        const bool newline = l.ends_with("\n");
        const std::string bare = newline ? l.substr(0, l.size() - 1) : l;
        if (RE2::FullMatch(bare, checkbox(), &head, &mark, &tail)) {
            c.plain.push_back(head + " " + tail + (newline ? "\n" : ""));
            c.box.push_back(mark == " " ? 0 : 1);
        } else {
            c.plain.push_back(l);
            c.box.push_back(-1);
        }
    }
    return c;
}

// `into` with every subtask that `other` ticked ticked too (matched by its line without
// the tick).
std::string with_ticks(const Checklist& into, const Checklist& other) {
    std::set<std::string> ticked;
    for (std::size_t i = 0; i < other.lines.size(); ++i) {
        if (other.box[i] == 1) {
            ticked.insert(other.plain[i]);
        }
    }
    std::string out;
    for (std::size_t i = 0; i < into.lines.size(); ++i) {
        if (into.box[i] == 0 && ticked.count(into.plain[i])) {
            std::string l = into.lines[i];
            l[l.find('[') + 1] = 'x';
            out += l;
        } else {
            out += into.lines[i];
        }
    }
    return out;
}

} // namespace

std::optional<std::string> merge_tasks_md(const std::string& base, const std::string& ours,
                                          const std::string& theirs) {
    if (ours == theirs || theirs == base || ours == base) {
        return pick(base, ours, theirs); // one side's change, an untick included
    }
    const Checklist b = checklist(base), o = checklist(ours), t = checklist(theirs);
    if (o.plain == t.plain || t.plain == b.plain) {
        return with_ticks(o, t); // the same text, or only ours changed it: ticks united
    }
    if (o.plain == b.plain) {
        return with_ticks(t, o);
    }
    return std::nullopt;
}

} // namespace kitty
