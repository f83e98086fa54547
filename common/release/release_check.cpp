// The release gate (validate_release.py) and extract-changelog.
#include <algorithm>
#include <cstdlib>

#include <toml++/toml.h>

#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/release.hpp"
#include "kitty/text.hpp"
#include "kitty/yaml.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

struct Issue {
    std::string message;
    std::string hint;

    std::string format() const {
        return hint.empty() ? message : message + " (Hint: " + hint + ")";
    }
};

struct Check {
    ReleaseMode mode;
    fs::path pyproject;
    fs::path changelog;
    std::string version;
    std::optional<std::string> tag;
    std::vector<Issue> issues;
};

// Phase A, pyproject: the raw [project].version string, checked against RELEASE_VERSION_RE.
std::optional<std::string> load_pyproject_version(const fs::path& path,
                                                  std::vector<Issue>& issues) {
    try {
        const std::string v = read_project_version(path);
        if (!parse_release_version(v)) {
            issues.push_back({"Version '" + v +
                                  "' is not a supported release version (expected X.Y.Z or "
                                  "X.Y.ZaN/X.Y.ZbN/X.Y.ZrcN).",
                              ""});
            return std::nullopt;
        }
        return v;
    } catch (const Error& e) {
        issues.push_back({e.what(), e.hint()});
        return std::nullopt;
    }
}

// Phase A, CHANGELOG: its text (a BOM dropped).
std::optional<std::string> load_changelog(const fs::path& path, std::vector<Issue>& issues) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        issues.push_back({"CHANGELOG not found at " + path.string() + ".", ""});
        return std::nullopt;
    }
    try {
        return read_text_file(path, Bom::strip);
    } catch (const Error& e) {
        issues.push_back({e.what(), "save CHANGELOG.md as UTF-8"});
        return std::nullopt;
    }
}

// The metadata.yaml sync check of mission 079. The raw scalar text is compared, so typed
// YAML values (3.10, 0, false) read as written; pass and fail match 3.1.1.
void check_metadata(const fs::path& root, const std::string& version, std::vector<Issue>& issues) {
    const fs::path path = root / ".kittify" / "metadata.yaml";
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        issues.push_back({".kittify/metadata.yaml not found at " + path.string(), ""});
        return;
    }
    YamlNode doc;
    try {
        doc = parse_yaml(read_text_file(path, Bom::strip));
    } catch (const YamlError& e) {
        issues.push_back({path.string() + ":" + std::to_string(e.line) +
                              ": .kittify/metadata.yaml is not valid YAML: " + e.message,
                          "fix the YAML syntax"});
        return;
    } catch (const Error& e) {
        issues.push_back({e.what(), "save .kittify/metadata.yaml as UTF-8"});
        return;
    }
    const auto get = [](const YamlNode& map, std::string_view key) -> const YamlNode* {
        if (map.kind != YamlNode::Kind::mapping) {
            return nullptr;
        }
        const YamlNode* found = nullptr;
        for (const auto& [k, v] : map.entries) {
            if (k == key) {
                found = &v;
            }
        }
        return found;
    };
    const YamlNode* section = get(doc, "spec_kitty");
    const YamlNode* value = section == nullptr ? nullptr : get(*section, "version");
    if (value == nullptr || !value->is_scalar() || value->kind == YamlNode::Kind::null ||
        value->text.empty()) {
        issues.push_back({".kittify/metadata.yaml missing spec_kitty.version", ""});
        return;
    }
    if (value->text != version) {
        issues.push_back({"Version mismatch detected: pyproject.toml=" + python_repr(version) +
                              " vs .kittify/metadata.yaml=" + python_repr(value->text),
                          "Update .kittify/metadata.yaml spec_kitty.version to " +
                              python_repr(version) +
                              " so both files agree before cutting the release."});
    }
}

std::optional<std::string> tag_from_environment() {
    const auto release_tag = [](std::string_view name) {
        return name.starts_with("v") && parse_release_version(name.substr(1)).has_value();
    };
    if (const char* ref_name = std::getenv("GITHUB_REF_NAME"); ref_name && release_tag(ref_name)) {
        return std::string(ref_name);
    }
    if (const char* ref = std::getenv("GITHUB_REF")) {
        const std::string_view r = ref;
        if (r.starts_with("refs/tags/")) {
            const std::string_view last = r.substr(r.rfind('/') + 1);
            if (release_tag(last)) {
                return std::string(last);
            }
        }
    }
    return std::nullopt;
}

// discover_release_tags + the progression check: the highest release tag (ties keep the
// byte order of names), compared with the version.
void check_progression(const std::vector<GitTag>& tags, const std::optional<std::string>& exclude,
                       const std::string& version, std::vector<Issue>& issues) {
    std::vector<std::pair<ReleaseVersion, std::string>> kept;
    for (const GitTag& t : tags) {
        const std::string_view name = t.name;
        const std::size_t vs = name.find_first_not_of('v');
        if ((exclude && *exclude == t.name) || !name.starts_with("v") || vs == std::string::npos) {
            continue;
        }
        if (const auto v = parse_release_version(name.substr(vs))) {
            kept.emplace_back(*v, t.name);
        }
    }
    if (kept.empty()) {
        return;
    }
    std::stable_sort(kept.begin(), kept.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (*parse_release_version(version) <= kept.front().first) {
        issues.push_back({"Version " + version + " does not advance beyond latest tag " +
                              kept.front().second + ".",
                          "Select a stable or prerelease version greater than previously "
                          "published releases."});
    }
}

Check run_validation(const ReleaseCheckRequest& request) {
    Check c{request.mode,
            fs::weakly_canonical(fs::absolute(request.start_dir / request.pyproject)),
            fs::weakly_canonical(fs::absolute(request.start_dir / request.changelog)),
            "",
            {},
            {}};
    const auto version = load_pyproject_version(c.pyproject, c.issues);
    if (!version) {
        return c;
    }
    c.version = *version;
    const auto changelog = load_changelog(c.changelog, c.issues);
    if (!changelog) {
        return c;
    }

    const auto repo = Repository::discover(c.pyproject.parent_path());
    const auto root = repo ? repo->work_dir() : std::nullopt;
    if (!root) {
        c.issues.push_back({"Unable to locate git repository root from " +
                                c.pyproject.parent_path().string() + ".",
                            "run the release check inside the project's git repository"});
    }
    check_metadata(root.value_or(c.pyproject.parent_path()), c.version, c.issues);
    if (!changelog_has_entry(*changelog, c.version)) {
        c.issues.push_back({"CHANGELOG.md lacks a populated section for " + c.version + ".",
                            "Add release notes under a '## {version}' heading."});
    }
    if (c.mode == ReleaseMode::tag) {
        c.tag = request.tag && !request.tag->empty() ? request.tag : tag_from_environment();
        if (!c.tag) {
            c.issues.push_back({"No tag supplied and none detected from environment.",
                                "Use --tag vX.Y.Z or vX.Y.ZaN, or set GITHUB_REF_NAME when "
                                "running in CI."});
        } else if (*c.tag != "v" + c.version) {
            c.issues.push_back(
                {"Tag " + *c.tag + " does not match project version " + c.version + ".",
                 "Retag the commit as v" + c.version + " or bump the version in pyproject.toml."});
        }
    }
    if (root) {
        check_progression(repo->tags(request.tag_pattern, false),
                          c.mode == ReleaseMode::tag ? c.tag : std::nullopt, c.version, c.issues);
    }
    return c;
}

} // namespace

std::string read_project_version(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(Exit::input, "NOT_FOUND",
                    "pyproject.toml not found at " + path.string() +
                        " \xE2\x80\x93 ensure you run from repository root.")
            .at(path);
    }
    toml::table doc;
    try {
        doc = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        throw Error(Exit::input, "INVALID_TOML",
                    path.string() + ":" + std::to_string(e.source().begin.line) +
                        ": pyproject.toml is not valid TOML: " + std::string(e.description()),
                    "fix the TOML syntax")
            .at(path, static_cast<int>(e.source().begin.line));
    }
    const toml::node* project = doc.get("project");
    if (project != nullptr && !project->is_table()) {
        throw Error(Exit::input, "INVALID_PYPROJECT", "[project] in pyproject.toml is not a table.",
                    "declare it as a [project] table with version = \"X.Y.Z\"")
            .at(path);
    }
    const toml::node* version = project == nullptr ? nullptr : project->as_table()->get("version");
    if (version == nullptr) {
        throw Error(Exit::input, "INVALID_PYPROJECT",
                    "Unable to locate [project].version in pyproject.toml.")
            .at(path);
    }
    if (!version->is_string()) {
        throw Error(Exit::input, "INVALID_PYPROJECT", "pyproject version must be a string.")
            .at(path);
    }
    return version->as_string()->get();
}

Outcome release_check_command(const ReleaseCheckRequest& request) {
    const Check c = run_validation(request);
    const bool ok = c.issues.empty();
    const std::string mode = c.mode == ReleaseMode::tag ? "tag" : "branch";
    std::string text = "Release Validator Summary\n-------------------------\nMode: " + mode +
                       "\npyproject.toml: " + c.pyproject.string() +
                       "\nCHANGELOG.md: " + c.changelog.string() +
                       "\nVersion: " + (c.version.empty() ? "N/A" : c.version) +
                       "\nTag: " + c.tag.value_or("N/A") + "\n\n";
    Json issues = Json::array();
    Outcome out;
    if (ok) {
        text += "All required checks passed.\n";
    } else {
        text += "Issues detected:\n";
        for (std::size_t i = 0; i < c.issues.size(); ++i) {
            text += "  " + std::to_string(i + 1) + ". " + c.issues[i].format() + "\n";
            issues.push_back(
                {{"message", c.issues[i].message},
                 {"hint", c.issues[i].hint.empty() ? Json(nullptr) : Json(c.issues[i].hint)}});
            Finding f{"error", "RELEASE_CHECK", c.issues[i].format(), "", 0};
            f.stderr_line = "ERROR: " + c.issues[i].format();
            out.findings.push_back(std::move(f));
        }
    }
    out.document = {{"ok", ok},
                    {"mode", mode},
                    {"version", c.version.empty() ? Json(nullptr) : Json(c.version)},
                    {"tag", c.tag ? Json(*c.tag) : Json(nullptr)},
                    {"pyproject", c.pyproject.string()},
                    {"changelog", c.changelog.string()},
                    {"issues", issues}};
    out.text = text;
    out.exit = ok ? Exit::ok : Exit::check_failed;
    return out;
}

Outcome extract_changelog_command(const std::string& version, const std::string& changelog,
                                  const fs::path& start_dir) {
    const fs::path path = start_dir / changelog;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(Exit::input, "NOT_FOUND", "CHANGELOG.md not found at " + path.string(),
                    "run from the repository root or pass --changelog PATH")
            .at(path);
    }
    const std::string text = read_text_file(path, Bom::strip);
    const std::string section = extract_changelog_section(text, version);
    return Outcome::success(
        {{"version", version}, {"found", changelog_has_entry(text, version)}, {"section", section}},
        section + "\n");
}

} // namespace kitty
