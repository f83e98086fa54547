#include "loop_transaction.hpp"

#include <algorithm>

#include "kitty/atomic_file.hpp"
#include "kitty/text.hpp"

namespace fs = std::filesystem;

namespace kitty::loop {

FileLock lock_commits(const Mission& mission) {
    return FileLock::acquire(mission.lock_dir() / "workflow-commit.lock");
}

LoopTransaction::LoopTransaction(const LoopTarget& target)
    : LoopTransaction(open_loop_mission(target)) {}

LoopTransaction::LoopTransaction(Mission mission) : state_(read_loop_state(std::move(mission))) {}

void LoopTransaction::lock() {
    if (!status_lock_) {
        status_lock_.emplace(state_.mission.lock_status());
        refresh_status(state_);
    }
}

void LoopTransaction::record(const std::vector<StatusEvent>& events) {
    lock();
    const auto added = record_events(state_, events);
    findings_.insert(findings_.end(), added.begin(), added.end());
    status_lock_.reset();
    state_.unsynced.flush();
}

void LoopTransaction::edit(const fs::path& file,
                           std::function<std::string(const std::string&)> change) {
    changes_.push_back({file, std::move(change)});
}

void LoopTransaction::create(const fs::path& file, std::string text) {
    changes_.push_back({file, [text = std::move(text)](const std::string&) { return text; }});
}

std::string LoopTransaction::commit(const std::string& message) {
    status_lock_.reset();
    state_.unsynced.flush();
    const Mission& m = state_.mission;
    const FileLock commits = lock_commits(m);
    std::vector<fs::path> paths = status_paths(m);
    for (const Change& c : changes_) {
        std::error_code ec;
        const fs::path target = m.writable(c.file);
        fs::create_directories(m.writable(target.parent_path()), ec);
        const std::string before = fs::exists(target, ec) ? read_file_bytes(target) : "";
        const std::string after = c.change(before);
        if (after != before || !fs::exists(target, ec)) {
            write_mission_file(m, target, after);
        } else {
            remove_stale_temporaries(target); // a killed writer's, under the same lock
        }
        const fs::path rel = target.lexically_relative(m.project_root());
        if (std::find(paths.begin(), paths.end(), rel) == paths.end()) {
            paths.push_back(rel);
        }
    }
    changes_.clear();
    return commit_workflow(m, paths, message);
}

} // namespace kitty::loop
