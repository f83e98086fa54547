// doctor: the project-wide checks, then each mission's (kitty/doctor.hpp).
#include "kitty/doctor.hpp"

#include <sys/stat.h>

#include <charconv>
#include <chrono>

#include "kitty/diagnosis.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/init.hpp"
#include "kitty/json.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_health.hpp"
#include "kitty/project.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/version.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// A foreign git lock this old is no longer a git process at work.
constexpr auto kForeignLockAge = std::chrono::minutes(10);

std::vector<int> version_numbers(std::string_view text) {
    std::vector<int> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        int n = 0;
        const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
        if (ec != std::errc()) {
            break;
        }
        out.push_back(n);
        pos = static_cast<std::size_t>(end - text.data());
        if (pos >= text.size() || text[pos] != '.') {
            break;
        }
        ++pos;
    }
    return out;
}

void check_kittify_version(const fs::path& root, std::vector<Diagnosis>& out) {
    const fs::path manifest = root / ".kittify/manifest.json";
    std::error_code ec;
    if (!fs::exists(manifest, ec)) {
        return;
    }
    try {
        const Json doc = read_json_file(manifest);
        const std::string written = doc.value("kitty_version", "");
        if (!written.empty() && version_numbers(written) > version_numbers(version)) {
            out.push_back({"KITTIFY_NEWER", ".kittify",
                           ".kittify was written by kitty " + written + "; this is kitty " +
                               std::string(version),
                           "use kitty " + written + " or newer on this project", false, false,
                           manifest});
        }
    } catch (const Error& e) {
        out.push_back({"MANIFEST_UNREADABLE", ".kittify/manifest.json", e.what(),
                       "restore it from git (git checkout -- .kittify/manifest.json)", false, false,
                       manifest});
    }
}

// git's lock files of the repository and its worktrees: a dead kitty's is removed with
// --fix; another old one is reported, since only a person can tell that no git runs.
void check_git_locks(const fs::path& root, bool fix, std::vector<Diagnosis>& out) {
    const auto repo = Repository::discover(root);
    if (!repo) {
        return;
    }
    const fs::path git = repo->common_dir();
    std::vector<fs::path> locks;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(git, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->path().filename() == "objects" || it->path().filename() == "spec-kitty-locks") {
            it.disable_recursion_pending(); // object files are not locks; kitty's flock files are
            continue;
        }
        if (it->is_regular_file(ec) && it->path().extension() == ".lock") {
            locks.push_back(it->path());
        }
    }
    const auto now = fs::file_time_type::clock::now();
    for (const fs::path& lock : locks) {
        const std::string rel = lock.lexically_relative(git).generic_string();
        if (is_dead_kitty_lock(lock)) {
            Diagnosis d{"GIT_LOCK_STALE",
                        rel,
                        rel + " was left by a kitty process that was killed while it held it",
                        "remove it (--fix)",
                        true,
                        false,
                        lock};
            if (fix) {
                d.fixed = remove_dead_kitty_lock(lock);
            }
            out.push_back(std::move(d));
            continue;
        }
        const auto written = fs::last_write_time(lock, ec);
        if (!ec && now - written > kForeignLockAge) {
            out.push_back({"GIT_LOCK_STALE", rel,
                           rel + " is more than 10 minutes old: git commands that need it fail",
                           "if no git process is running (pgrep -a git), remove " + lock.string(),
                           false, false, lock});
        }
    }
}

} // namespace

Outcome doctor_command(const DoctorRequest& request) {
    if (!request.scope.empty() && request.scope != "command-files" &&
        request.scope != "state-roots") {
        throw Error(Exit::usage, "BAD_SCOPE", "unknown doctor check '" + request.scope + "'",
                    "run spec-kitty doctor, doctor command-files or doctor state-roots");
    }
    const fs::path root = find_project_root(request.start_dir);
    const bool files = request.scope.empty() || request.scope == "command-files";
    const bool state = request.scope.empty() || request.scope == "state-roots";
    std::vector<Diagnosis> found;
    if (state) {
        check_kittify_version(root, found);
        check_git_locks(root, request.fix, found);
    }
    if (files) {
        const auto command_files = check_command_files(root, request.fix);
        found.insert(found.end(), command_files.begin(), command_files.end());
    }
    if (state) {
        std::vector<fs::path> missions;
        if (!request.mission.empty()) {
            missions.push_back(open_target_mission(request.mission, request.start_dir).dir());
        } else {
            for (const MissionRef& ref : list_missions(root)) {
                missions.push_back(ref.dir);
            }
        }
        for (const fs::path& dir : missions) {
            try {
                const auto health = diagnose_mission(Mission::at_directory(dir), request.fix);
                found.insert(found.end(), health.begin(), health.end());
            } catch (const Error& e) {
                if (e.exit() == Exit::temporary) {
                    throw; // a lock held by another command: try again, not a finding
                }
                found.push_back({"MISSION_UNREADABLE", dir.filename().string(), e.what(),
                                 e.hint().empty() ? "fix the file it names" : e.hint(), false,
                                 false, e.path()});
            }
        }
    }
    Json list = Json::array();
    int fixed = 0, left = 0;
    std::string text;
    for (const Diagnosis& d : found) {
        list.push_back(d.to_json());
        fixed += d.fixed ? 1 : 0;
        left += d.fixed || d.note ? 0 : 1;
        text += std::string(d.fixed  ? "fixed  "
                            : d.note ? "note   "
                                     : "       ") +
                d.code + "  " + d.subject + ": " + d.message + "\n         repair: " + d.repair +
                "\n";
    }
    const bool healthy = left == 0;
    std::string head = found.empty() ? "kitty doctor: nothing to repair in " + root.string() + "\n"
                                     : "kitty doctor: " + std::to_string(found.size()) +
                                           " finding(s), " + std::to_string(fixed) + " fixed\n";
    if (!healthy && !request.fix) {
        std::size_t fixable = 0;
        for (const Diagnosis& d : found) {
            fixable += d.fixable ? 1 : 0;
        }
        if (fixable > 0) {
            text += std::to_string(fixable) + " of them --fix repairs: spec-kitty doctor --fix\n";
        }
    }
    Outcome out;
    out.document = {{"project_root", root.string()},
                    {"healthy", healthy},
                    {"fixed", fixed},
                    {"findings", list}};
    out.text = head + text;
    out.exit = healthy ? Exit::ok : Exit::check_failed;
    return out;
}

} // namespace kitty
