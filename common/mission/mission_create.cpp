#include "kitty/mission_create.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include <re2/re2.h>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/file_lock.hpp"
#include "kitty/git.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/project.hpp"
#include "kitty/regex.hpp"
#include "kitty/templates.hpp"
#include "kitty/text.hpp"
#include "kitty/ulid.hpp"
#include "kitty/version.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace {

constexpr auto create_lock_timeout = std::chrono::seconds(10);

std::string format_number(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03d", n);
    return buf;
}

// The display number a directory name carries: a leading run of 3+ digits followed by
// "-" or the end of the name counts whole; any other 3+ digit start counts its first three
// digits, as 3.1.1 reads them. -1 for names without one.
int display_number(const std::string& name) {
    std::size_t run = 0;
    while (run < name.size() && name[run] >= '0' && name[run] <= '9') {
        ++run;
    }
    if (run < 3) {
        return -1;
    }
    const bool whole = (run == name.size() || name[run] == '-') && run <= 9;
    return std::stoi(name.substr(0, whole ? run : 3));
}

// Removes a mission directory this process created unless creation completed, so a
// failure leaves the project as it was.
class CreatedDirGuard {
public:
    explicit CreatedDirGuard(fs::path dir) : dir_(std::move(dir)) {}
    CreatedDirGuard(const CreatedDirGuard&) = delete;
    CreatedDirGuard& operator=(const CreatedDirGuard&) = delete;
    ~CreatedDirGuard() {
        if (!dir_.empty()) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }
    void keep() { dir_.clear(); }

private:
    fs::path dir_;
};

fs::path make_mission_dir(const fs::path& specs, int number, const std::string& slug) {
    for (;; ++number) {
        fs::path dir = specs / (format_number(number) + "-" + slug);
        if (::mkdir(dir.c_str(), 0777) == 0) {
            return dir;
        }
        if (errno != EEXIST) {
            throw system_error(Exit::input, "cannot create mission directory", dir, errno);
        }
    }
}

void make_dir(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
        throw system_error(Exit::input, "cannot create directory", dir, errno);
    }
}

// spec.md: the project's own template when it has one (3.1.1 looks in these two places),
// else kitty's skeleton.
void write_spec(const fs::path& root, const fs::path& mission_dir, const Json& meta) {
    for (const fs::path& candidate : {root / ".kittify" / "templates" / "spec-template.md",
                                      root / "templates" / "spec-template.md"}) {
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            write_file_atomic(mission_dir / "spec.md", read_file_bytes(candidate),
                              st.st_mode & 07777);
            return;
        }
    }
    std::string text(embedded_template("mission/spec.md"));
    text = fill_placeholder(text, "friendly_name", meta["friendly_name"].get<std::string>());
    text = fill_placeholder(text, "mission_slug", meta["mission_slug"].get<std::string>());
    text = fill_placeholder(text, "mission_id", meta["mission_id"].get<std::string>());
    write_file_atomic(mission_dir / "spec.md", text);
}

std::string branch_summary(const Json& current, const std::string& target) {
    const std::string on = current.is_string()
                               ? "You are on branch '" + current.get<std::string>() + "'. "
                               : "No branch is checked out. ";
    return on + "Plan on '" + target + "' and merge finished work into '" + target + "'.";
}

} // namespace

void validate_slug(const std::string& slug) {
    static const Regex kebab("[a-z0-9]+(-[a-z0-9]+)*");
    if (slug.size() > max_slug_length) {
        throw Error(Exit::usage, "INVALID_SLUG",
                    "mission slug is " + std::to_string(slug.size()) +
                        " characters long; the limit is " + std::to_string(max_slug_length),
                    "use a shorter kebab-case slug");
    }
    if (!RE2::FullMatch(slug, kebab)) {
        throw Error(Exit::usage, "INVALID_SLUG",
                    "invalid mission slug '" + slug +
                        "': use lowercase letters, digits and single hyphens",
                    "for example user-auth or fix-bug-123");
    }
}

int next_mission_number(const fs::path& project_root) {
    int highest = 0;
    for (const char* sub : {"kitty-specs", ".worktrees"}) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(project_root / sub, ec)) {
            if (entry.is_directory(ec)) {
                highest = std::max(highest, display_number(entry.path().filename().string()));
            }
        }
    }
    return highest + 1;
}

CreatedMission create_mission(const CreateRequest& request) {
    validate_slug(request.slug);
    if (request.mission_type.find_first_not_of(" \t") == std::string::npos) {
        throw Error(Exit::usage, "INVALID_MISSION_TYPE", "--mission-type is empty",
                    "use e.g. --mission-type software-dev");
    }
    if (is_worktree_context(request.start_dir)) {
        throw Error(Exit::conflict, "IN_WORKTREE", "cannot create a mission from inside a worktree",
                    "run from the project's main checkout");
    }
    const fs::path root = find_project_root(request.start_dir);
    const auto repo = Repository::discover(root);
    const std::optional<std::string> branch = repo ? repo->current_branch() : std::nullopt;
    const std::string target = request.target_branch && !request.target_branch->empty()
                                   ? *request.target_branch
                                   : branch.value_or("main");

    const FileLock lock =
        FileLock::acquire(project_lock_dir(root) / "mission-create.lock", create_lock_timeout);
    const fs::path specs = writable_in_project(root, root / "kitty-specs");
    make_dir(specs);
    const fs::path dir = make_mission_dir(specs, next_mission_number(root), request.slug);
    CreatedDirGuard guard(dir);
    const std::string name = dir.filename().string();

    // The id is minted before created_at is taken, as 3.1.1 does.
    const std::string mission_id = mint_ulid().str();
    const UtcTime now = now_utc();
    std::string friendly = request.friendly_name.value_or(request.slug);
    if (!request.friendly_name) {
        std::replace(friendly.begin(), friendly.end(), '-', ' ');
    }
    Json meta = {{"created_at", python_isoformat(now)},
                 {"friendly_name", friendly},
                 {"mission_id", mission_id},
                 {"mission_number", name.substr(0, name.find('-'))},
                 {"mission_slug", name},
                 {"mission_type", request.mission_type},
                 {"slug", name},
                 {"target_branch", target}};
    if (request.mission_type == "documentation") {
        meta["documentation_state"] = {{"coverage_percentage", 0.0},
                                       {"divio_types_selected", Json::array()},
                                       {"generators_configured", Json::array()},
                                       {"iteration_mode", "initial"},
                                       {"last_audit_date", nullptr},
                                       {"target_audience", "developers"}};
    }

    for (const char* sub : {"checklists", "research", "tasks"}) {
        make_dir(dir / sub);
    }
    write_file_atomic(dir / "tasks" / ".gitkeep", "");
    write_file_atomic(dir / "status.events.jsonl", "");
    write_file_atomic(
        dir / "tasks" / "README.md",
        fill_placeholder(embedded_template("mission/tasks-README.md"), "planning_branch", target));
    write_spec(root, dir, meta);
    write_meta(dir, meta);
    guard.keep();

    CreatedMission created;
    created.meta = std::move(meta);
    created.mission_dir = dir;
    created.current_branch = branch.value_or("");
    created.created_files = {dir / "spec.md", dir / "meta.json", dir / "tasks" / "README.md"};
    return created;
}

Json CreatedMission::to_json() const {
    const std::string target = meta["target_branch"].get<std::string>();
    const Json current = current_branch.empty() ? Json(nullptr) : Json(current_branch);
    const bool matches = current_branch == target;
    const std::string summary = branch_summary(current, target);
    UtcTime created{};
    parse_iso_timestamp(meta["created_at"].get<std::string>(), created);
    const std::string now_iso = iso_seconds_z(created);

    Json files = Json::array();
    for (const auto& f : created_files) {
        files.push_back(f.string());
    }
    Json j;
    j["result"] = "success";
    j["mission_slug"] = meta["mission_slug"];
    j["mission_number"] = meta["mission_number"];
    j["mission_id"] = meta["mission_id"];
    j["mission_type"] = meta["mission_type"];
    j["slug"] = meta["slug"];
    j["friendly_name"] = meta["friendly_name"];
    j["feature_dir"] = mission_dir.string();
    j["spec_file"] = (mission_dir / "spec.md").string();
    j["meta_file"] = (mission_dir / "meta.json").string();
    j["created_at"] = meta["created_at"];
    j["created_files"] = files;
    j["write_mode"] = "update_existing_files";
    j["next_step"] = "Read then update spec_file/meta_file; do not recreate with blind write.";
    j["current_branch"] = current;
    j["CURRENT_BRANCH"] = current;
    for (const char* key :
         {"target_branch", "base_branch", "TARGET_BRANCH", "BASE_BRANCH", "planning_base_branch",
          "PLANNING_BASE_BRANCH", "merge_target_branch", "MERGE_TARGET_BRANCH",
          "EXPECTED_TARGET_BRANCH", "EXPECTED_BASE_BRANCH"}) {
        j[key] = target;
    }
    j["branch_matches_target"] = matches;
    j["BRANCH_MATCHES_TARGET"] = matches;
    j["branch_strategy_summary"] = summary;
    j["runtime_vars"] = {{"now_utc_iso", now_iso},           {"current_branch", current},
                         {"target_branch", target},          {"base_branch", target},
                         {"planning_base_branch", target},   {"merge_target_branch", target},
                         {"branch_matches_target", matches}, {"branch_strategy_summary", summary}};
    j["NOW_UTC_ISO"] = now_iso;
    j["branch_context"] = {{"current_branch", current},     {"target_branch", target},
                           {"base_branch", target},         {"planning_base_branch", target},
                           {"merge_target_branch", target}, {"expected_checkout_branch", target},
                           {"matches_target", matches},     {"branch_strategy_summary", summary}};
    j["kitty_version"] = std::string(version);
    j["spec_kitty_version"] = std::string(reference_version);
    return j;
}

std::string CreatedMission::to_text() const {
    return "Mission created: " + meta["mission_slug"].get<std::string>() +
           "\n  Mission id: " + meta["mission_id"].get<std::string>() +
           "\n  Directory:  " + mission_dir.string() +
           "\n  Branch:     " + meta["target_branch"].get<std::string>() +
           " (target for this mission)\n";
}

StampResult stamp_mission(const Mission& mission) {
    const fs::path& mission_dir = mission.dir();
    const fs::path file = mission.writable(mission_dir / "meta.json");
    const FileLock lock = mission.lock_status(create_lock_timeout);

    std::error_code ec;
    if (!fs::exists(file, ec)) {
        throw Error(Exit::input, "NO_META", "no meta.json in " + mission_dir.string(),
                    "stamp works on an existing mission; create one with 'kitty-mint-id create'")
            .at(file);
    }
    const std::string original = read_file_bytes(file);
    const Json meta = parse_meta(original, file);

    StampResult result{file, {}, false};
    if (auto it = meta.find("mission_id"); it != meta.end()) {
        if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
            throw bad_mission_id(file, *it);
        }
        result.mission_id = it->get<std::string>();
        return result;
    }

    result.mission_id = mint_ulid().str();
    result.minted = true;
    Json stamped = meta;
    stamped["mission_id"] = result.mission_id;
    std::string bytes;
    if (serialize_meta(meta) == original) {
        bytes = serialize_meta(stamped);
    } else {
        // Keep the file's own layout: append the key after the last member.
        const std::string eol = original.find("\r\n") != std::string::npos ? "\r\n" : "\n";
        const auto close = original.find_last_of('}');
        const auto last_value = original.find_last_not_of(" \t\r\n", close - 1);
        const bool empty = original[last_value] == '{';
        const auto open = original.find('{');
        const auto first_key = original.find('"', open);
        const auto newline = original.rfind('\n', first_key);
        const bool one_line = empty || newline == std::string::npos || newline < open;
        const std::string indent =
            one_line ? std::string() : original.substr(newline + 1, first_key - newline - 1);
        const std::string member = "\"mission_id\": \"" + result.mission_id + "\"";
        std::string insert;
        if (empty) {
            insert = eol + "  " + member + eol;
            bytes = original.substr(0, last_value + 1) + insert + original.substr(close);
        } else {
            insert = one_line ? ", " + member : "," + eol + indent + member;
            bytes = original.substr(0, last_value + 1) + insert + original.substr(last_value + 1);
        }
    }
    if (serialize_meta(parse_json(bytes, file)) != serialize_meta(stamped)) {
        throw Error(Exit::internal, "STAMP_MISMATCH",
                    "stamping " + file.string() + " would not give the expected document");
    }
    write_file_atomic(file, bytes);
    return result;
}

Json StampResult::to_json() const {
    return {{"meta_file", meta_file.string()}, {"mission_id", mission_id}, {"minted", minted}};
}

std::string StampResult::to_text() const {
    return (minted ? "minted " : "kept ") + mission_id + "  " + meta_file.string() + "\n";
}

} // namespace kitty
