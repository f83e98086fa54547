// The one mission-target rule of every command that works on one mission.
#include <algorithm>

#include "kitty/error.hpp"
#include "kitty/json.hpp"
#include "kitty/project.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace {

// The first path component of `dir` below `base`, or "" when `dir` is not below it.
std::string first_component_below(const fs::path& base, const fs::path& dir) {
    std::error_code ec;
    const fs::path b = fs::weakly_canonical(base, ec);
    const fs::path here = fs::weakly_canonical(fs::absolute(dir), ec);
    const fs::path rel = here.lexically_relative(b);
    if (rel.empty() || *rel.begin() == ".." || *rel.begin() == ".") {
        return "";
    }
    return rel.begin()->string();
}

// Whether every WP file of the mission is done (a mission without WP files is open).
bool mission_done(const fs::path& dir) {
    try {
        const auto files = list_wp_files(dir / "tasks");
        if (files.empty()) {
            return false;
        }
        const StatusSnapshot snap = reduce_status(read_status_events(dir / "status.events.jsonl"));
        for (const fs::path& f : files) {
            const auto id = wp_id_from_filename(f.filename().string());
            const auto it = id ? snap.work_packages.find(*id) : snap.work_packages.end();
            if (it == snap.work_packages.end() || it->second.lane != "done") {
                return false;
            }
        }
        return true;
    } catch (const Error&) {
        return false; // unreadable: still a candidate, and the command will say why
    }
}

// The mission of a lane worktree directory name: its context file names it; without one,
// the longest "<dir name>-" prefix.
std::optional<Mission> worktree_mission(const fs::path& root, const std::string& worktree,
                                        const std::vector<MissionRef>& missions) {
    const fs::path context = root / ".kittify/workspaces" / (worktree + ".json");
    std::error_code ec;
    if (fs::is_regular_file(context, ec)) {
        const Json doc = read_json_file(context);
        if (const Json* slug = JsonInput::member(doc, "mission_slug"); slug && slug->is_string()) {
            return Mission::open(slug->get<std::string>(), root);
        }
    }
    const MissionRef* best = nullptr;
    for (const MissionRef& ref : missions) {
        if (worktree.starts_with(ref.dir_name + "-") &&
            (!best || ref.dir_name.size() > best->dir_name.size())) {
            best = &ref;
        }
    }
    return best ? std::optional(Mission::at_directory(best->dir)) : std::nullopt;
}

} // namespace

Mission open_target_mission(const std::string& selector, const fs::path& start_dir) {
    if (!selector.empty() && selector != ".") {
        return Mission::open(selector, start_dir);
    }
    const fs::path root = find_project_root(start_dir);
    const auto missions = list_missions(root);
    const std::string here = first_component_below(root / "kitty-specs", start_dir);
    for (const MissionRef& ref : missions) {
        if (!here.empty() && ref.dir_name == here) {
            return Mission::at_directory(ref.dir);
        }
    }
    const std::string worktree = first_component_below(root / ".worktrees", start_dir);
    if (!worktree.empty()) {
        if (auto m = worktree_mission(root, worktree, missions)) {
            return *std::move(m);
        }
    }
    std::vector<const MissionRef*> open;
    for (const MissionRef& ref : missions) {
        if (!mission_done(ref.dir)) {
            open.push_back(&ref);
        }
    }
    if (open.size() == 1) {
        return Mission::at_directory(open.front()->dir);
    }
    if (open.empty()) {
        throw Error(Exit::input, "MISSION_NOT_FOUND",
                    "no open mission in " + (root / "kitty-specs").string(),
                    "create one (spec-kitty agent mission create <slug>) or pass --mission");
    }
    std::vector<std::string> names;
    for (const MissionRef* ref : open) {
        names.push_back(ref->dir_name);
    }
    throw Error(Exit::conflict, "AMBIGUOUS_MISSION", "several missions are open: " + join(names),
                "pass --mission <slug>")
        .with({{"candidates", names}});
}

} // namespace kitty
