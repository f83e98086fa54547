#include "kitty/mission.hpp"

#include <sys/stat.h>

#include <map>
#include <mutex>

#include "kitty/error.hpp"
#include "kitty/project.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace {

// `path` with every existing link resolved (the rest kept lexically).
fs::path resolved(const fs::path& path) {
    std::error_code ec;
    fs::path out = fs::weakly_canonical(fs::absolute(path), ec);
    return ec ? fs::absolute(path).lexically_normal() : out;
}

// The project root with its links resolved, once per process while it exists: every write
// checks against it, and resolving it walks the whole path (an lstat and a readlink per
// component), which was a twentieth of a loop call.
fs::path resolved_root(const fs::path& project_root) {
    static std::mutex guard;
    static std::map<fs::path, fs::path> known;
    const fs::path given = fs::absolute(project_root);
    const std::lock_guard<std::mutex> lock(guard);
    if (const auto it = known.find(given); it != known.end()) {
        return it->second;
    }
    fs::path real = resolved(given);
    std::error_code ec;
    if (fs::is_directory(real, ec)) {
        known.emplace(given, real);
    }
    return real;
}

// resolved(parent of `path`), walking only the components below the project root (`root`
// as given, `real` resolved) when `path` lies lexically under it: one lstat each, and the
// whole path resolved as before at the first link, "." or "..".
fs::path resolved_parent(const fs::path& root, const fs::path& real, const fs::path& path) {
    const fs::path parent = fs::absolute(path).parent_path();
    const fs::path rel = parent.lexically_relative(fs::absolute(root));
    if (rel.empty()) {
        return resolved(parent);
    }
    fs::path out = real;
    bool exists = true;
    for (const fs::path& part : rel == "." ? fs::path() : rel) {
        if (part == "." || part == ".." || part.empty()) {
            return resolved(parent);
        }
        out /= part;
        struct stat st {};
        if (exists && ::lstat(out.c_str(), &st) != 0) {
            exists = false; // the rest does not exist yet: kept as it is
        } else if (exists && S_ISLNK(st.st_mode)) {
            return resolved(parent);
        }
    }
    return out;
}

bool is_within(const fs::path& path, const fs::path& dir) {
    const fs::path rel = path.lexically_relative(dir);
    return !rel.empty() && *rel.begin() != "..";
}

Error outside_project(const fs::path& path, const fs::path& root, const std::string& why) {
    return Error(Exit::input, "OUTSIDE_PROJECT",
                 path.string() + " " + why + ", outside the project " + root.string(),
                 "kitty never writes through links out of the project; replace the link with "
                 "the directory or file itself")
        .at(path);
}

} // namespace

const std::string& checked_path_component(const std::string& name, const std::string& what) {
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string("/\0", 2)) != std::string::npos) {
        throw Error(Exit::input, "UNSAFE_NAME",
                    what + " '" + name + "' cannot be used as a file or directory name",
                    "use a name without '/', NUL, or a bare '.'/'..'");
    }
    return name;
}

bool names_mission(const std::string& input) {
    std::error_code ec;
    return input != "-" && !fs::is_regular_file(input, ec);
}

Mission::Mission(fs::path dir, std::optional<fs::path> root)
    : dir_(std::move(dir)), slug_(dir_.filename().string()), root_(std::move(root)),
      identity_(resolve_identity(dir_)) {}

Mission::Mission(Mission&&) noexcept = default;
Mission& Mission::operator=(Mission&&) noexcept = default;
Mission::~Mission() = default;

Mission Mission::at_directory(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw Error(Exit::input, "MISSION_NOT_FOUND", "no mission directory " + dir.string(),
                    "pass an existing kitty-specs/<mission> directory or a mission selector")
            .at(dir);
    }
    const fs::path real = resolved(dir);
    return Mission(real, locate_project_root(real));
}

Mission Mission::open(const std::string& argument, const fs::path& start) {
    if (argument.find('/') != std::string::npos) {
        return at_directory(argument);
    }
    const fs::path root = find_project_root(start);
    const MissionRef ref = resolve_mission(root, argument);
    const fs::path real = resolved(ref.dir);
    if (!is_within(real, resolved(root))) {
        throw outside_project(ref.dir, root, "leads to " + real.string());
    }
    return Mission(real, root);
}

const fs::path& Mission::project_root() const {
    if (!root_) {
        throw Error(Exit::input, "NO_PROJECT",
                    "the mission " + dir_.string() + " is not inside a kitty project",
                    "work on missions inside a project (kitty-specs/ next to .kittify/), or "
                    "create one with 'spec-kitty init'")
            .at(dir_);
    }
    return *root_;
}

fs::path Mission::lock_dir() const {
    return project_lock_dir(project_root());
}

FileLock Mission::lock_status(std::chrono::milliseconds timeout) const {
    return FileLock::acquire(lock_dir() / (slug_ + ".status.lock"), timeout);
}

std::string worktree_name(const std::string& mission_slug, const std::string& lane_id) {
    return checked_path_component(mission_slug, "mission slug") + "-" +
           checked_path_component(lane_id, "lane id");
}

fs::path Mission::worktree_path(const std::string& lane_id) const {
    return project_root() / ".worktrees" / worktree_name(slug_, lane_id);
}

Repository* Mission::repository() const {
    if (!repository_opened_) {
        repository_opened_ = true;
        if (auto repo = Repository::discover(root_.value_or(dir_))) {
            repository_ = std::make_unique<Repository>(std::move(*repo));
        }
    }
    return repository_.get();
}

fs::path Mission::writable(const fs::path& path) const {
    return writable_in_project(project_root(), path);
}

fs::path readable_in_project(const fs::path& project_root, const fs::path& path) {
    const fs::path root = resolved_root(project_root);
    const fs::path real = resolved(path);
    if (!is_within(real, root)) {
        throw Error(Exit::input, "OUTSIDE_PROJECT",
                    path.string() + " leads to " + real.string() + ", outside the project " +
                        root.string() + "; kitty reads such files only from inside the project",
                    "copy the file into the project, or pass - and give it on standard input")
            .at(path);
    }
    return real;
}

fs::path writable_in_project(const fs::path& project_root, const fs::path& path) {
    const fs::path root = resolved_root(project_root);
    const fs::path parent = resolved_parent(project_root, root, path);
    if (!is_within(parent, root) && parent != root) {
        throw outside_project(path, root, "lies in " + parent.string());
    }
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(path, ec))) {
        throw Error(Exit::input, "OUTSIDE_PROJECT",
                    path.string() + " is a symbolic link; kitty writes files, not through links",
                    "replace the link with the file itself")
            .at(path);
    }
    return path;
}

} // namespace kitty
