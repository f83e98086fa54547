// Versions and CHANGELOG sections as 3.1.1's release scripts read them.
#include <re2/re2.h>

#include "kitty/error.hpp"
#include "kitty/regex.hpp"
#include "kitty/release.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace {

// RELEASE_VERSION_RE. Its numbers become integers, so \d stays ASCII here.
const RE2& release_version_re() {
    static const Regex re(R"((?i)^([0-9]+)\.([0-9]+)\.([0-9]+)(?:(a|b|rc|alpha|beta)([0-9]*))?$)");
    return re;
}

// CHANGELOG_HEADING_RE, matched from the start of the line (re.match).
const RE2& heading_re() {
    static const Regex re(python_regex(
        R"((?i)^##\s*(?:\[\s*)?(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+|(?:alpha|beta)\d*)?)(?:\s*\]|)(?:\s*-.*)?$)"));
    return re;
}

long long number(const std::string& digits) {
    long long v = 0;
    for (const char c : digits) {
        v = v * 10 + (c - '0');
        if (v > 1'000'000'000'000LL) {
            return v; // far beyond any real version; keeps the arithmetic defined
        }
    }
    return v;
}

// The lines of the first section headed `version`, up to the next recognised heading.
std::optional<std::vector<std::string_view>> section_lines(std::string_view changelog,
                                                           std::string_view version) {
    if (changelog.starts_with("\xEF\xBB\xBF")) {
        changelog.remove_prefix(3);
    }
    bool capture = false, found = false;
    std::vector<std::string_view> lines;
    for (const std::string_view line : python_splitlines(changelog)) {
        if (const auto heading = changelog_heading_version(line)) {
            if (capture) {
                break;
            }
            capture = *heading == version;
            found = found || capture;
            continue;
        }
        if (capture) {
            lines.push_back(line);
        }
    }
    if (!found) {
        return std::nullopt;
    }
    return lines;
}

} // namespace

std::optional<ReleaseVersion> parse_release_version(std::string_view text) {
    std::string major, minor, patch, stage, stage_number;
    if (!RE2::FullMatch(re2::StringPiece(text.data(), text.size()), release_version_re(), &major,
                        &minor, &patch, &stage, &stage_number)) {
        return std::nullopt;
    }
    for (char& c : stage) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const int rank = stage.empty()                       ? 3
                     : stage == "rc"                     ? 2
                     : (stage == "b" || stage == "beta") ? 1
                                                         : 0;
    return ReleaseVersion{number(major), number(minor), number(patch), rank, number(stage_number)};
}

std::optional<std::string> changelog_heading_version(std::string_view line) {
    if (!line.starts_with("##")) {
        return std::nullopt; // the pattern is anchored on "##": skip the regex
    }
    std::string version;
    if (!RE2::FullMatch(re2::StringPiece(line.data(), line.size()), heading_re(), &version)) {
        return std::nullopt;
    }
    return version;
}

bool changelog_has_entry(std::string_view changelog, std::string_view version) {
    const auto lines = section_lines(changelog, version);
    return lines && std::any_of(lines->begin(), lines->end(),
                                [](std::string_view l) { return !py_strip(l).empty(); });
}

std::string extract_changelog_section(std::string_view changelog, std::string_view version) {
    const auto lines = section_lines(changelog, version);
    if (!lines || lines->empty()) {
        return "Release " + std::string(version) + "\n\nNo changelog entry found for this version.";
    }
    std::size_t first = 0, last = lines->size();
    while (first < last && py_strip((*lines)[first]).empty()) {
        ++first;
    }
    while (last > first && py_strip((*lines)[last - 1]).empty()) {
        --last;
    }
    std::string out;
    for (std::size_t i = first; i < last; ++i) {
        out += (i > first ? "\n" : "") + std::string((*lines)[i]);
    }
    return out;
}

std::string propose_version(std::string_view current, std::string_view channel) {
    static const Regex pre(R"(^([0-9]+\.[0-9]+\.[0-9]+)(a|b)([0-9]+)$)");
    static const Regex stable(R"(^([0-9]+)\.([0-9]+)\.([0-9]+)$)");
    const re2::StringPiece text(current.data(), current.size());
    std::string base, stage, n, major, minor, patch;
    if (RE2::FullMatch(text, pre, &base, &stage, &n)) {
        const std::string next = std::to_string(number(n) + 1);
        if (channel == "stable") {
            return base;
        }
        if (channel == "beta") {
            return base + (stage == "b" ? "b" + next : "b1");
        }
        if (stage == "b") {
            throw Error(Exit::input, "CANNOT_STEP_VERSION",
                        "Cannot promote a beta release ('" + std::string(current) +
                            "') to alpha: beta is ahead of alpha in the release sequence",
                        "use --channel beta or --channel stable");
        }
        return base + "a" + next;
    }
    if (RE2::FullMatch(text, stable, &major, &minor, &patch)) {
        if (channel == "stable") {
            return std::to_string(number(major)) + "." + std::to_string(number(minor)) + "." +
                   std::to_string(number(patch) + 1);
        }
        return std::string(current) + (channel == "beta" ? "b1" : "a1");
    }
    throw Error(Exit::input, "CANNOT_STEP_VERSION",
                "Cannot parse version '" + std::string(current) +
                    "': expected X.Y.Za<N>, X.Y.Zb<N> or X.Y.Z",
                "for an rc or .dev version, set the next version in pyproject.toml by hand");
}

} // namespace kitty
