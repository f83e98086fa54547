// The release-prep draft (spec-kitty agent release prep): proposed version, changelog block
// from the WPs accepted since the latest release tag, structured inputs.
#include <algorithm>

#include <re2/re2.h>

#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/json.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/project.hpp"
#include "kitty/regex.hpp"
#include "kitty/release.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// The frontmatter fields 3.1.1's prep reads with regexes, not YAML (changelog.py 86-135).
std::optional<std::string> frontmatter_field(const std::string& content, const char* key) {
    if (!content.starts_with("---")) {
        return std::nullopt;
    }
    // content[3 : content.find("\n---", 3)], which is content[3:-1] when there is none.
    const std::size_t close = content.find("\n---", 3);
    const std::size_t end = close != std::string::npos ? close : content.size() - 1;
    const std::string block = end > 3 ? content.substr(3, end - 3) : "";
    const Regex re(python_regex(std::string(R"((?m)^\s*)") + key + R"(\s*:\s*(.+)$)"));
    std::string value;
    if (!RE2::PartialMatch(block, re, &value)) {
        return std::nullopt;
    }
    std::string_view v = py_strip(value);
    while (!v.empty() && (v.front() == '\'' || v.front() == '"')) {
        v.remove_prefix(1);
    }
    while (!v.empty() && (v.back() == '\'' || v.back() == '"')) {
        v.remove_suffix(1);
    }
    return std::string(v);
}

// The first "# " or "## " line of the whole file, without its #s.
std::string wp_title(const std::string& content, const std::string& stem) {
    for (const std::string_view raw : python_splitlines(content)) {
        const std::string_view line = py_strip(raw);
        if (line.starts_with("# ") || line.starts_with("## ")) {
            std::string_view t = line;
            while (!t.empty() && t.front() == '#') {
                t.remove_prefix(1);
            }
            return std::string(py_strip(t));
        }
    }
    return stem;
}

struct Acceptance {
    bool accepted = false;
    std::optional<std::int64_t> at; // when the accepting event happened, if one did
};

// The last status event with a lane decides (approved/done); without one, frontmatter
// status done/accepted/merged does.
Acceptance acceptance(const std::vector<Json>& events, const std::string& wp_id,
                      const std::string& content) {
    const Json* last = nullptr;
    for (const Json& e : events) {
        if (e.value("wp_id", Json()) == wp_id && e.contains("to_lane") &&
            e["to_lane"].is_string() && !e["to_lane"].get<std::string>().empty()) {
            last = &e;
        }
    }
    if (last != nullptr) {
        const std::string lane = (*last)["to_lane"];
        Acceptance a{lane == "approved" || lane == "done", std::nullopt};
        UtcTime t;
        if (a.accepted && (*last).contains("at") && (*last)["at"].is_string() &&
            parse_iso_timestamp((*last)["at"].get<std::string>(), t)) {
            a.at = t.seconds;
        }
        return a;
    }
    std::string status = frontmatter_field(content, "status").value_or("");
    std::transform(status.begin(), status.end(), status.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return {status == "done" || status == "accepted" || status == "merged", std::nullopt};
}

struct LatestTag {
    std::string name;
    std::int64_t commit_time;
};

// The latest release tag: of the v-tags naming a release version, the one whose commit is
// newest (ties: the higher version).
std::optional<LatestTag> latest_release_tag(const fs::path& repo) {
    const auto repository = Repository::discover(repo);
    std::optional<std::pair<LatestTag, ReleaseVersion>> best;
    for (const GitTag& t : repository ? repository->tags("v*", true) : std::vector<GitTag>{}) {
        const auto v = parse_release_version(std::string_view(t.name).substr(1));
        if (!v) {
            continue;
        }
        if (!best || t.commit_time > best->first.commit_time ||
            (t.commit_time == best->first.commit_time && *v > best->second)) {
            best = {{t.name, t.commit_time}, *v};
        }
    }
    if (!best) {
        return std::nullopt;
    }
    return best->first;
}

struct MissionEntry {
    std::string slug;
    std::string display;
    std::vector<std::string> wps;
};

std::vector<MissionEntry> accepted_missions(const fs::path& repo,
                                            const std::optional<LatestTag>& since) {
    std::vector<MissionEntry> out;
    for (const MissionRef& ref : list_missions(repo)) {
        const std::vector<Json> events = read_event_objects(ref.dir / "status.events.jsonl");
        MissionEntry m{ref.dir_name, "", {}};
        for (const fs::path& f : list_wp_files(ref.dir / "tasks")) {
            const std::string content = read_file_bytes(f);
            const std::string stem = f.stem().string();
            const std::string id = frontmatter_field(content, "work_package_id").value_or(stem);
            const Acceptance a = acceptance(events, id, content);
            // Since the latest tag: accepted by an event after the tag's commit. A WP accepted
            // only in frontmatter has no date, so it counts only while there is no tag.
            if (a.accepted && (!since || (a.at && *a.at > since->commit_time))) {
                m.wps.push_back(id + ": " + wp_title(content, stem));
            }
        }
        if (m.wps.empty()) {
            continue;
        }
        try {
            m.display = resolve_identity(ref.dir).friendly_name;
        } catch (const Error&) {
            // 3.1.1 shows the slug for a mission whose meta.json it cannot read.
        }
        if (m.display.empty()) {
            m.display = m.slug;
        }
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace

Outcome release_prep_command(const ReleasePrepRequest& request) {
    if (request.channel != "alpha" && request.channel != "beta" && request.channel != "stable") {
        throw Error(Exit::usage, "INVALID_CHANNEL", "--channel must be alpha, beta or stable",
                    "pass --channel alpha|beta|stable");
    }
    const fs::path repo = fs::weakly_canonical(fs::absolute(request.repo));
    const std::string current = read_project_version(repo / "pyproject.toml");
    const std::string proposed = propose_version(current, request.channel);
    const auto since = latest_release_tag(repo);
    const std::vector<MissionEntry> missions = accepted_missions(repo, since);

    std::string block;
    std::vector<std::string> slugs;
    for (const MissionEntry& m : missions) {
        block += "### " + m.display + " (`" + m.slug + "`)\n\n";
        for (const std::string& wp : m.wps) {
            block += "- " + wp + "\n";
        }
        block += "\n";
        slugs.push_back(m.slug);
    }
    while (!block.empty() && std::isspace(static_cast<unsigned char>(block.back()))) {
        block.pop_back();
    }
    if (!block.empty()) {
        block += "\n";
    }
    std::string slug_csv;
    for (const std::string& s : slugs) {
        slug_csv += (slug_csv.empty() ? "" : ", ") + s;
    }
    const std::string tag = "v" + proposed;
    Json doc = {{"channel", request.channel},
                {"current_version", current},
                {"proposed_version", proposed},
                {"changelog_block", block},
                {"proposed_changelog_block", block},
                {"mission_slug_list", slugs},
                {"target_branch", "main"},
                {"structured_inputs",
                 {{"version", proposed},
                  {"tag_name", tag},
                  {"release_title", "Release " + tag},
                  {"release_notes_body", block},
                  {"mission_slug_list", slug_csv}}},
                {"since_tag", since
                                  ? Json{{"name", since->name}, {"commit_time", since->commit_time}}
                                  : Json(nullptr)}};

    std::string notes = block.size() > 60 ? block.substr(0, 60) + "..." : block;
    std::string text = "Version bump\n  Channel:          " + request.channel +
                       "\n  Current version:  " + current + "\n  Proposed version: " + proposed +
                       "\n  Target branch:    main\n  Tag name:         " + tag + "\n\n";
    text += "Draft changelog block" +
            (since ? " (WPs accepted after " + since->name + ")" : std::string(" (all missions)")) +
            "\n" + (block.empty() ? "No accepted missions found for changelog block.\n" : block);
    text += "\nStructured inputs\n  version: " + proposed + "\n  tag_name: " + tag +
            "\n  release_title: Release " + tag + "\n  release_notes_body: " + notes +
            "\n  mission_slug_list: " + slug_csv + "\n\n";
    text += "Next steps (manual)\n  gh pr create --title \"Release " + tag +
            "\" --body \"<changelog_block>\"\n  git tag -a " + tag + " -m \"Release " + tag +
            "\" && git push origin " + tag + "\n  gh run watch\n";
    Outcome out = Outcome::success(doc, text);
    out.json_style = {.indent = 2, .ensure_ascii = false};
    return out;
}

} // namespace kitty
