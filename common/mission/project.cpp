#include "kitty/project.hpp"

#include <cstdlib>
#include <optional>

#include "kitty/error.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/text.hpp"
#include "kitty/ulid.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace {

bool has_kittify(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir / ".kittify", ec);
}

// The git directory a `.git` file names ("gitdir: <dir>", relative to the file's folder),
// or nullopt for anything else.
std::optional<fs::path> gitdir_of(const fs::path& dot_git) {
    std::error_code ec;
    if (!fs::is_regular_file(dot_git, ec)) {
        return std::nullopt;
    }
    std::string content;
    try {
        content = read_file_bytes(dot_git);
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!content.starts_with("gitdir:")) {
        return std::nullopt;
    }
    const std::string target(py_strip(std::string_view(content).substr(7)));
    if (target.empty()) {
        return std::nullopt;
    }
    fs::path gitdir = target;
    gitdir = (gitdir.is_relative() ? dot_git.parent_path() / gitdir : gitdir).lexically_normal();
    return gitdir.has_filename() ? gitdir : gitdir.parent_path();
}

// For a `.git` file of a linked worktree ("gitdir: <repo>.git/worktrees/<name>"), the
// main checkout's directory; nullopt for anything else.
std::optional<fs::path> worktree_main_checkout(const fs::path& dot_git) {
    const auto gitdir = gitdir_of(dot_git);
    if (!gitdir) {
        return std::nullopt;
    }
    const fs::path worktrees = gitdir->parent_path();
    const fs::path repo_git = worktrees.parent_path();
    if (worktrees.filename() != "worktrees" || !repo_git.filename().string().ends_with(".git")) {
        return std::nullopt;
    }
    return repo_git.parent_path();
}

fs::path absolute_normal(const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(p), ec);
    return ec ? fs::absolute(p).lexically_normal() : abs;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

// The directory name without its numeric display prefix ("079-foo" → "foo").
std::string bare_slug(const std::string& name) {
    const std::string number = mission_number_from_slug(name);
    return number.empty() ? name : name.substr(number.size() + 1);
}

} // namespace

std::optional<fs::path> locate_project_root(const fs::path& start) {
    if (const char* env = std::getenv("SPECIFY_REPO_ROOT"); env != nullptr && *env != '\0') {
        const fs::path root = absolute_normal(env);
        if (has_kittify(root)) {
            return root;
        }
    }
    fs::path cur = absolute_normal(start);
    for (;;) {
        if (auto main = worktree_main_checkout(cur / ".git"); main && has_kittify(*main)) {
            return *main;
        }
        if (has_kittify(cur)) {
            return cur;
        }
        if (cur == cur.root_path() || !cur.has_parent_path()) {
            return std::nullopt;
        }
        cur = cur.parent_path();
    }
}

fs::path find_project_root(const fs::path& start) {
    std::error_code ec;
    if (!fs::is_directory(start, ec)) {
        throw Error(Exit::input, "NOT_FOUND", "no such directory: " + start.string(),
                    "pass an existing directory")
            .at(start);
    }
    if (auto root = locate_project_root(start)) {
        return *root;
    }
    throw Error(Exit::input, "NO_PROJECT",
                "no kitty project at or above " + absolute_normal(start).string() +
                    " (no .kittify/ directory found)",
                "run inside a project, pass --project DIR, or create one with 'spec-kitty init'")
        .at(absolute_normal(start));
}

bool is_worktree_context(const fs::path& dir) {
    const fs::path abs = absolute_normal(dir);
    for (const auto& part : abs) {
        if (part == ".worktrees") {
            return true;
        }
    }
    std::error_code ec;
    for (fs::path cur = abs;; cur = cur.parent_path()) {
        const fs::path dot_git = cur / ".git";
        if (fs::is_directory(dot_git, ec)) {
            return false;
        }
        if (fs::is_regular_file(dot_git, ec)) {
            return worktree_main_checkout(dot_git).has_value();
        }
        if (cur == cur.root_path() || !cur.has_parent_path()) {
            return false;
        }
    }
}

namespace {

// The git directory shared by all worktrees of the repository holding `dir`, found as git
// finds it (a .git directory, or a .git file naming the worktree's git dir, whose
// `commondir` file names the shared one), without loading libgit2 for it: this runs on every
// locked command.
std::optional<fs::path> git_common_dir(const fs::path& dir) {
    std::error_code ec;
    for (fs::path cur = absolute_normal(dir);; cur = cur.parent_path()) {
        const fs::path dot_git = cur / ".git";
        if (fs::is_directory(dot_git, ec)) {
            return dot_git;
        }
        if (fs::is_regular_file(dot_git, ec)) {
            const auto gitdir = gitdir_of(dot_git);
            if (!gitdir) {
                return std::nullopt;
            }
            const fs::path commondir = *gitdir / "commondir";
            if (!fs::is_regular_file(commondir, ec)) {
                return gitdir;
            }
            const fs::path shared(std::string(py_strip(read_file_bytes(commondir))));
            return (shared.is_relative() ? *gitdir / shared : shared).lexically_normal();
        }
        if (cur == cur.root_path() || !cur.has_parent_path()) {
            return std::nullopt;
        }
    }
}

} // namespace

fs::path project_lock_dir(const fs::path& project_root) {
    if (const auto common = git_common_dir(project_root)) {
        return *common / "spec-kitty-locks";
    }
    return writable_in_project(project_root, project_root / ".kittify" / "locks");
}

std::vector<MissionRef> list_missions(const fs::path& project_root) {
    std::vector<MissionRef> out;
    std::error_code ec;
    const fs::path specs = project_root / "kitty-specs";
    for (const auto& entry : fs::directory_iterator(specs, ec)) {
        if (!entry.is_directory(ec)) {
            continue;
        }
        MissionRef ref{entry.path(), entry.path().filename().string(), std::nullopt, {}};
        try {
            const MissionIdentity id = resolve_identity(entry.path());
            ref.mission_id = id.mission_id;
            ref.mission_slug = id.mission_slug;
        } catch (const Error&) {
            // A malformed meta.json only hides the mission's id and slug from selectors.
        }
        out.push_back(std::move(ref));
    }
    std::sort(out.begin(), out.end(),
              [](const MissionRef& a, const MissionRef& b) { return a.dir_name < b.dir_name; });
    return out;
}

MissionRef resolve_mission(const fs::path& project_root, const std::string& selector) {
    if (selector.empty()) {
        throw Error(Exit::usage, "EMPTY_SELECTOR", "the mission selector is empty",
                    "name a mission by slug, numbered directory, or mission_id");
    }
    const auto missions = list_missions(project_root);
    for (const auto& m : missions) {
        if (m.dir_name == selector) {
            return m;
        }
    }
    std::vector<MissionRef> matches;
    for (const auto& m : missions) {
        if (bare_slug(m.dir_name) == selector || m.mission_slug == selector) {
            matches.push_back(m);
        }
    }
    // A mission number ("7", "007") names the directory numbered so.
    const auto number_value = [](const std::string& digits) -> std::optional<std::string> {
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
        }
        const std::size_t first = digits.find_first_not_of('0');
        return first == std::string::npos ? "0" : digits.substr(first);
    };
    if (const auto wanted_number = number_value(selector); matches.empty() && wanted_number) {
        for (const auto& m : missions) {
            if (number_value(mission_number_from_slug(m.dir_name)) == wanted_number) {
                matches.push_back(m);
            }
        }
    }
    const std::string wanted = upper(selector);
    if (matches.empty() && wanted.size() >= 8 && is_crockford_base32(wanted)) {
        for (const auto& m : missions) {
            if (m.mission_id && m.mission_id->starts_with(wanted)) {
                matches.push_back(m);
            }
        }
    }
    if (matches.size() == 1) {
        return matches.front();
    }
    if (matches.empty()) {
        throw Error(Exit::input, "MISSION_NOT_FOUND",
                    "no mission matches '" + selector + "' in " +
                        (project_root / "kitty-specs").string(),
                    "use a slug, a numbered directory name (079-foo), a mission_id or its first 8+ "
                    "characters")
            .at(project_root / "kitty-specs");
    }
    std::string list;
    for (const auto& m : matches) {
        list += (list.empty() ? "" : ", ") + m.dir_name;
        if (m.mission_id) {
            list += " (" + *m.mission_id + ")";
        }
    }
    throw Error(Exit::conflict, "AMBIGUOUS_MISSION",
                "mission selector '" + selector + "' matches " + std::to_string(matches.size()) +
                    " missions: " + list,
                "use the numbered directory name or the mission_id");
}

} // namespace kitty
