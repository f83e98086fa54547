// The one loop transaction every writing loop command and finalize goes through
// (docs/architecture.md, "The loop transaction"):
//
//   open     the mission (the one target rule) and read its state, with no lock held
//   prepare  what needs git or the disk but not the status: workspace checks, allocation
//   lock     the status lock; the status (events) read again
//   decide   the checks that depend on the status, and the events
//   record   the events appended and status.json written; the status lock released
//   commit   under the main checkout's commit lock: the queued file edits applied to the
//            files as they are then, and kitty's own paths committed on HEAD
//
// The status lock is held only from `lock` to `record`: no git commit, checkout or file scan
// under it, so agents do not queue behind each other's commits.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kitty/file_lock.hpp"
#include "loop_model.hpp"

namespace kitty::loop {

class LoopTransaction {
public:
    explicit LoopTransaction(const LoopTarget& target);
    explicit LoopTransaction(Mission mission);

    LoopState& state() { return state_; }
    const Mission& mission() const { return state_.mission; }

    // Takes the status lock and reads the status again (decisions are made on it).
    void lock();
    // Appends `events` (none is fine: status.json is still brought up to date), updates the
    // state's WPs, and releases the status lock.
    void record(const std::vector<StatusEvent>& events);

    // A mission file (WP file, tasks.md) changed in the commit phase: `change` gets the
    // file's text as it is then, so concurrent edits of one file are never lost.
    void edit(const std::filesystem::path& file,
              std::function<std::string(const std::string&)> change);
    // A new file written in the commit phase (a review-cycle file).
    void create(const std::filesystem::path& file, std::string text);
    // The commit phase: the edits, then one commit of the status files and every edited or
    // created path with `message` ("" when nothing differs from HEAD).
    std::string commit(const std::string& message);

    std::vector<Finding>& findings() { return findings_; }

private:
    struct Change {
        std::filesystem::path file;
        std::function<std::string(const std::string&)> change;
    };
    LoopState state_;
    std::optional<FileLock> status_lock_;
    std::vector<Change> changes_;
    std::vector<Finding> findings_;
};

// The lock serialising kitty's commits on the main checkout (and the lane branches it cuts
// from it): <lock dir>/workflow-commit.lock.
FileLock lock_commits(const Mission& mission);

} // namespace kitty::loop
