#include "kitty/ownership.hpp"

#include <set>

#include "kitty/glob.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"

namespace kitty {
namespace {

std::string rstrip_slash(std::string s) {
    while (!s.empty() && s.back() == '/') {
        s.pop_back();
    }
    return s;
}

} // namespace

std::string infer_execution_mode(const std::string& text) {
    static const Regex planning(
        R"(\bkitty-specs/|\bspec\.md\b|\bplan\.md\b|\btasks\.md\b|\bdata-model\.md\b|\bquickstart\.md\b)");
    static const Regex code(R"(\bsrc/|\btests?/|\.py\b|\.ts\b|\.js\b)");
    return RE2::PartialMatch(text, planning) && !RE2::PartialMatch(text, code) ? "planning_artifact"
                                                                               : "code_change";
}

InferredOwnership infer_ownership(const std::string& text, const std::string& slug) {
    static const Regex path(python_regex(R"(((?:src|tests?|kitty-specs|docs)/[^\s`'")\]>]+))"));
    InferredOwnership o;
    o.execution_mode = infer_execution_mode(text);
    const bool is_planning = o.execution_mode == "planning_artifact";
    if (is_planning) {
        o.owned_files = {"kitty-specs/" + slug + "/**"};
    } else {
        std::set<std::string> tokens;
        re2::StringPiece input(text);
        std::string token;
        while (RE2::FindAndConsume(&input, path, &token)) {
            tokens.insert(token);
        }
        std::set<std::string> kept;
        for (const std::string& t : tokens) {
            std::string glob;
            const std::string last = t.substr(t.rfind('/', t.size() - 2) + 1);
            if (t.ends_with("/")) {
                glob = t + "**";
            } else if (last.find('.') == std::string::npos) {
                glob = rstrip_slash(t) + "/**";
            } else {
                glob = t;
            }
            bool covered = false;
            for (std::size_t slash = glob.find('/'); slash != std::string::npos && !covered;
                 slash = glob.find('/', slash + 1)) {
                const std::string ancestor = glob.substr(0, slash) + "/**";
                covered = ancestor != glob && kept.count(ancestor) > 0;
            }
            if (!covered) {
                kept.insert(glob);
                o.owned_files.push_back(glob);
            }
        }
        if (o.owned_files.empty()) {
            o.owned_files = {"src/**"};
            o.warning = "No file paths found in WP body text; using broad fallback 'src/**'. "
                        "Consider adding explicit owned_files to WP frontmatter.";
        }
    }
    std::vector<std::string> prefixes;
    for (const std::string& g : o.owned_files) {
        prefixes.push_back(std::string(glob_prefix(g)));
    }
    if (prefixes.size() == 1) {
        o.authoritative_surface = rstrip_slash(prefixes[0]) + "/";
    } else {
        std::vector<std::string> common;
        for (std::size_t i = 0; i < prefixes.size(); ++i) {
            std::vector<std::string> parts;
            std::string_view p = prefixes[i];
            for (std::size_t s = p.find('/');; s = p.find('/')) {
                parts.emplace_back(p.substr(0, s));
                if (s == std::string_view::npos) {
                    break;
                }
                p.remove_prefix(s + 1);
            }
            if (i == 0) {
                common = parts;
            } else {
                std::size_t n = 0;
                while (n < common.size() && n < parts.size() && common[n] == parts[n]) {
                    ++n;
                }
                common.resize(n);
            }
        }
        const std::string joined = join(common, "/");
        o.authoritative_surface = joined.empty() ? "" : joined + "/";
    }
    return o;
}

} // namespace kitty
