// The hand-off verbs of `agent tasks` (next-loop.md §7): move-task, mark-status,
// add-history. Every check before any write; one commit with 3.1.1's subject.
#include <algorithm>
#include <fstream>
#include <iostream>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/liveness.hpp"
#include "kitty/loop.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "loop_decisions.hpp"
#include "loop_model.hpp"
#include "loop_transaction.hpp"

namespace fs = std::filesystem;

namespace kitty {

namespace handoff_detail {

using loop::LoopState;
using loop::LoopWp;

// Mission files whose uncommitted state does not block a hand-off (§7.2 step 6).
bool benign_path(const std::string& path) {
    static const Regex wp_file(R"(^kitty-specs/[^/]+/tasks/WP\d+[^/]*\.md$)");
    static const Regex tasks_md(R"(^kitty-specs/[^/]+/tasks\.md$)");
    const std::string base = fs::path(path).filename().string();
    return base == "status.events.jsonl" || base == "status.json" || base == "meta.json" ||
           base == "lanes.json" || path.starts_with(".kittify/") || RE2::FullMatch(path, wp_file) ||
           RE2::FullMatch(path, tasks_md);
}

// The readiness checks of a hand-off to for_review, approved or done (§7.2 step 6) come in
// two parts. This one is on the main checkout: no uncommitted file in the mission directory.
// The caller holds the commit lock, so that no other hand-off is half-committed there.
void check_mission_files_committed(const LoopState& state) {
    const Mission& m = state.mission;
    Repository& repo = loop::loop_repository(m);
    const fs::path root = m.project_root();
    const std::vector<std::string> blocking =
        repo.changed_paths(m.dir().lexically_relative(root).generic_string() + "/", benign_path);
    if (!blocking.empty()) {
        throw Error(Exit::check_failed, "UNCOMMITTED_MISSION_FILES",
                    "Blocking: " + std::to_string(blocking.size()) +
                        " uncommitted file(s) in the mission directory",
                    "commit them in the main checkout, then hand off again")
            .with({{"paths", blocking}});
    }
}

// The readiness checks on the WP's lane: its worktree and branch, which its one agent holds,
// so no lock is needed.
void check_lane_ready(LoopState& state, const LoopWp& wp, const std::string& to) {
    if (wp.planning()) {
        return;
    }
    const Mission& m = state.mission;
    Repository& repo = loop::loop_repository(m);
    const loop::Workspace ws = loop::workspace_of(state, wp);
    std::error_code ec;
    if (!fs::is_directory(ws.path, ec)) {
        return;
    }
    Repository lane = Repository::open(ws.path);
    if (lane.current_branch() != ws.branch) {
        throw Error(Exit::conflict, "WORKTREE_ON_OTHER_BRANCH",
                    "the worktree " + ws.path.string() + " is not on " + ws.branch,
                    "check out " + ws.branch + " in it");
    }
    if (const auto dirty = lane.changed_paths(); !dirty.empty()) {
        throw Error(Exit::check_failed, "UNCOMMITTED_WORK",
                    "Uncommitted implementation changes in worktree! (" + ws.path.string() + ")",
                    "commit the work in the worktree before moving " + wp.id + " to " + to)
            .with({{"paths", dirty}});
    }
    std::string base;
    const fs::path context = loop::context_file(m, ws.lane_id);
    if (fs::exists(context, ec)) {
        const Json doc = read_json_file(context);
        if (const Json* c = JsonInput::member(doc, "base_commit"); c && c->is_string()) {
            base = c->get<std::string>();
        }
    }
    if (base.empty() || !repo.resolve_commit(base)) {
        base =
            state.lanes ? mission_branch_of(*state.lanes, m.slug()) : mission_branch_name(m.slug());
    }
    if (repo.resolve_commit(base) && repo.count_commits(base, ws.branch) == 0) {
        throw Error(Exit::check_failed, "NO_COMMITS",
                    "No implementation commits on lane branch! (" + ws.branch + ")",
                    "commit the work of " + wp.id + " in " + ws.path.string());
    }
    // Planning files live in the main checkout; a lane that changes them would fight the
    // status commits when it is merged.
    if (repo.resolve_commit(base)) {
        std::vector<std::string> planning;
        for (const std::string& path : repo.files_changed(base, ws.branch)) {
            if (path.starts_with("kitty-specs/")) {
                planning.push_back(path);
            }
        }
        if (!planning.empty()) {
            throw Error(Exit::check_failed, "LANE_CHANGES_PLANNING",
                        "the lane branch " + ws.branch + " changes files under kitty-specs/",
                        "revert them on the lane; the mission's files are edited in the main "
                        "checkout")
                .with({{"paths", planning}});
        }
    }
}

std::string review_cycle_text(const Mission& m, const LoopWp& wp, int cycle,
                              const std::string& reviewer, const std::string& feedback) {
    return "---\naffected_files: []\ncycle_number: " + std::to_string(cycle) +
           "\nmission_slug: " + m.slug() + "\nreproduction_command:\nreviewed_at: '" +
           iso_seconds_z(now_utc()) + "'\nreviewer_agent: " + reviewer +
           "\nverdict: rejected\nwp_id: " + wp.id + "\n---\n\n" + feedback +
           (feedback.ends_with("\n") ? "" : "\n");
}

// The reviewer's feedback: standard input ("-"), or a regular file inside the project (a
// feedback file is committed, so /proc/self/environ or a link to /etc/shadow must never be
// read); text without NUL, at most kMaxFeedbackBytes.
constexpr std::size_t kMaxFeedbackBytes = 1 << 20;

std::string read_feedback(const fs::path& project_root, const fs::path& file) {
    const auto too_large = [&] {
        return Error(Exit::input, "FEEDBACK_TOO_LARGE",
                     "the review feedback " + file.string() + " is over " +
                         std::to_string(kMaxFeedbackBytes) + " bytes",
                     "keep review feedback under 1 MiB: what must change, not logs")
            .at(file);
    };
    std::optional<std::string> bytes;
    if (file == "-") {
        bytes = read_at_most(std::cin, kMaxFeedbackBytes);
    } else {
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(file, ec))) {
            throw Error(Exit::input, "FEEDBACK_NOT_FOUND",
                        "review feedback file not found: " + file.string(),
                        "write the feedback to a file in the project and pass its path, or pass "
                        "- and give it on standard input")
                .at(file);
        }
        const fs::path real = readable_in_project(project_root, file);
        if (!fs::is_regular_file(real, ec)) {
            throw Error(Exit::input, "FEEDBACK_NOT_A_FILE",
                        "the review feedback " + file.string() +
                            " is not a regular file (a directory, device or pipe)",
                        "write the feedback to a file and pass its path, or pass - and give "
                        "it on standard input")
                .at(file);
        }
        if (fs::file_size(real, ec) > kMaxFeedbackBytes) {
            throw too_large();
        }
        std::ifstream in(real, std::ios::binary);
        if (!in) {
            throw system_error(Exit::input, "cannot read", file, errno);
        }
        bytes = read_at_most(in, kMaxFeedbackBytes);
    }
    if (!bytes) {
        throw too_large();
    }
    if (bytes->find('\0') != std::string::npos) {
        throw Error(Exit::input, "FEEDBACK_NOT_TEXT",
                    "the review feedback " + file.string() + " holds NUL bytes; it is not text",
                    "give the feedback as UTF-8 text")
            .at(file);
    }
    require_utf8(*bytes, file);
    return *std::move(bytes);
}

// What a hand-off or verdict needs of a lane: the readiness checks, and for done, the lane
// merged into the checked-out branch.
void check_handoff_lane(LoopState& state, const LoopWp& wp, WpLane to) {
    check_lane_ready(state, wp, lane_name(to));
    if (to == WpLane::done && !wp.planning()) {
        Repository& repo = loop::loop_repository(state.mission);
        const loop::Workspace ws = loop::workspace_of(state, wp);
        const auto head = repo.current_branch();
        if (!head || !repo.branch_exists(ws.branch) || !repo.is_ancestor(ws.branch, *head)) {
            throw Error(Exit::check_failed, "NOT_MERGED",
                        wp.id + "'s lane branch " + ws.branch + " is not merged into " +
                            head.value_or("HEAD"),
                        "merge the mission (spec-kitty merge), or pass --force");
        }
    }
}

// A run of this very move killed after its events were recorded and before its commit
// (the WP is already where the move goes, by this actor, and its files differ from HEAD):
// the re-run commits them instead of answering ALREADY_IN_LANE, so nothing stays
// half-done.
std::optional<Outcome> finish_killed_move(loop::LoopTransaction& t, const LoopWp& wp, WpLane to,
                                          const std::string& actor, const std::string& subject) {
    const Mission& m = t.mission();
    if (wp.lane != to || wp.actor != actor) {
        return std::nullopt;
    }
    t.record({}); // status.json caught up, should the kill have come before it
    const fs::path root = m.project_root();
    std::vector<std::string> ours;
    for (const fs::path& p : loop::status_paths(m)) {
        ours.push_back(p.generic_string());
    }
    ours.push_back(wp.file().lexically_relative(root).generic_string());
    const FileLock commits = loop::lock_commits(m);
    if (loop::loop_repository(m).changed_among(ours).empty()) {
        return std::nullopt;
    }
    t.edit(wp.file(), [](const std::string& text) { return text; });
    const std::string commit = t.commit(subject);
    Json doc{{"result", "success"},
             {"task_id", wp.id},
             {"old_lane", to},
             {"new_lane", to},
             {"path", wp.file().string()},
             {"events", 0},
             {"commit", commit.empty() ? Json(nullptr) : Json(commit)}};
    return Outcome::success(std::move(doc), "✓ Finished moving " + wp.id + " to " + lane_name(to) +
                                                " (a killed run had recorded it)\n");
}

using loop::Move;

// The WP's unticked subtask lines in tasks.md.
std::vector<std::string> open_subtasks(const Mission& m, const LoopWp& wp) {
    std::vector<std::string> open;
    for (const loop::Subtask& t : loop::wp_subtasks(m, wp.id)) {
        if (!t.done) {
            open.push_back(t.line);
        }
    }
    return open;
}

// The hand-off verdict (loop::decide_move) on the state, reading the subtasks when needed.
Move decide_move(const LoopState& state, const LoopWp& wp, const MoveTaskRequest& request,
                 WpLane to, const std::optional<std::string>& feedback) {
    return loop::decide_move(wp, request, to, feedback,
                             [&] { return open_subtasks(state.mission, wp); });
}

// The events of `move`: the review-cycle pointer on the first, review evidence on an
// approval.
std::vector<StatusEvent> move_events(const Mission& m, const LoopWp& wp,
                                     const MoveTaskRequest& request, const Move& move,
                                     const std::string& actor,
                                     const std::optional<std::string>& pointer) {
    const WpLane to = move.steps.back().second;
    const std::string yyyymmdd = [] {
        std::string d = iso_seconds_z(now_utc()).substr(0, 10);
        d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
        return d;
    }();
    std::vector<StatusEvent> events;
    for (std::size_t i = 0; i < move.steps.size(); ++i) {
        StatusEvent e =
            loop::make_event(m, wp.id, move.steps[i].first, move.steps[i].second, actor);
        e.force = move.forced;
        e.reason = !request.note.empty() ? request.note
                   : move.forced         ? "Force move to " + lane_name(to)
                                 : "move-task: " + lane_name(move.from) + " -> " + lane_name(to);
        if (i == 0 && pointer) {
            e.review_ref = pointer;
        } else if (i == 0 && move.forced && move.from == WpLane::for_review &&
                   (to == WpLane::in_progress || to == WpLane::planned)) {
            e.review_ref = "force-override";
        }
        if (kApprovedLanes.contains(move.steps[i].second)) {
            const std::string reviewer = !request.reviewer.empty() ? request.reviewer
                                         : !request.agent.empty()  ? request.agent
                                                                   : "unknown";
            const std::string reference = !request.approval_ref.empty() ? request.approval_ref
                                          : !request.note.empty()
                                              ? request.note
                                              : "auto-approval:" + wp.id + ":" + yyyymmdd;
            e.evidence =
                Json{{"review",
                      {{"reviewer", reviewer}, {"verdict", "approved"}, {"reference", reference}}}};
        }
        events.push_back(std::move(e));
    }
    return events;
}

WpLane checked_to_lane(const std::string& lane) {
    const auto to_lane = canonical_lane(lane);
    if (!to_lane) {
        throw Error(Exit::usage, "UNKNOWN_LANE", "unknown lane '" + lane + "'",
                    "use planned, claimed, in_progress (doing), for_review, in_review, approved, "
                    "done, blocked or canceled");
    }
    return lane_of(*to_lane).value();
}

// The checks first on the state as read (the same ones run again under the status lock),
// then the readiness checks, which read git, before the status lock: the mission
// directory's under the commit lock (no other hand-off is then half-committed there), the
// lane's without it. Returns whether the readiness checks ran.
bool check_ready_before_lock(LoopState& state, const MoveTaskRequest& request, WpLane to,
                             const std::optional<std::string>& feedback) {
    if (!decide_move(state, state.get(request.wp_id), request, to, feedback).needs_readiness) {
        return false;
    }
    {
        const FileLock commits = loop::lock_commits(state.mission);
        check_mission_files_committed(state);
    }
    check_handoff_lane(state, state.get(request.wp_id), to);
    return true;
}

// The review cycle file a rejection writes: the next number under the WP's directory in
// tasks/, and the review-cycle:// pointer to it.
struct ReviewCycle {
    fs::path file;
    std::string pointer;
    int number = 0;
};

ReviewCycle next_review_cycle(const Mission& m, const LoopWp& wp) {
    const std::string wp_slug = wp.file().stem().string();
    const fs::path dir = m.tasks_dir() / wp_slug;
    int cycle = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        cycle += name.starts_with("review-cycle-") && name.ends_with(".md");
    }
    ++cycle;
    const std::string name = "review-cycle-" + std::to_string(cycle) + ".md";
    return {dir / name, "review-cycle://" + m.slug() + "/" + wp_slug + "/" + name, cycle};
}

// The WP file after a move: the agent and shell pid given, and an activity line.
std::string moved_wp_text(std::string text, const MoveTaskRequest& request,
                          const std::string& actor, WpLane to) {
    if (!request.agent.empty()) {
        text = loop::set_frontmatter_scalar(text, "agent", request.agent);
    }
    if (!request.shell_pid.empty()) {
        text = loop::set_frontmatter_scalar(text, "shell_pid", request.shell_pid);
    }
    return loop::append_activity(text, actor, request.shell_pid,
                                 request.note.empty() ? "Moved to " + lane_name(to) : request.note);
}

} // namespace handoff_detail

Outcome move_task_command(const MoveTaskRequest& request) {
    using namespace handoff_detail;
    const WpLane to = checked_to_lane(request.to_lane);
    if (!request.agent.empty()) {
        loop::checked_agent(request.agent);
    }
    // Loaded while the mission is read, not under the commit lock the first git call takes.
    const GitPreload git_loads_meanwhile;
    Mission mission = loop::open_loop_mission(request.target);
    touch_heartbeat(mission, request.agent, request.shell_pid);
    std::optional<std::string> feedback;
    if (request.review_feedback_file) {
        feedback = read_feedback(mission.project_root(), *request.review_feedback_file);
    }
    loop::LoopTransaction t(std::move(mission));
    LoopState& state = t.state();
    const Mission& m = state.mission;
    loop::check_workflow_commit(m);
    const std::string actor = request.agent.empty() ? "user" : request.agent;
    const std::string subject = "chore: Move " + state.get(request.wp_id).id + " to " +
                                lane_name(to) + " on spec " + mission_number_from_slug(m.slug()) +
                                (request.agent.empty() ? "" : " [" + request.agent + "]");
    if (auto finished = finish_killed_move(t, state.get(request.wp_id), to, actor, subject)) {
        return *std::move(finished);
    }
    const bool ready_checked = check_ready_before_lock(state, request, to, feedback);
    t.lock();
    LoopWp& wp = state.get(request.wp_id);
    const Move move = decide_move(state, wp, request, to, feedback);
    if (move.needs_readiness && !ready_checked) {
        check_mission_files_committed(state);
        check_handoff_lane(state, wp, to);
    }
    const std::optional<ReviewCycle> cycle =
        move.rejection ? std::optional(next_review_cycle(m, wp)) : std::nullopt;
    const std::vector<StatusEvent> events = move_events(
        m, wp, request, move, actor, cycle ? std::optional(cycle->pointer) : std::nullopt);
    t.record(events);
    if (cycle) {
        t.create(cycle->file, review_cycle_text(m, wp, cycle->number, actor, *feedback));
    }
    t.edit(wp.file(),
           [&](const std::string& before) { return moved_wp_text(before, request, actor, to); });
    const std::string commit = t.commit(subject);
    Json doc{{"result", "success"},
             {"task_id", wp.id},
             {"old_lane", move.from},
             {"new_lane", to},
             {"path", wp.file().string()}};
    if (cycle) {
        doc["review_feedback"] = cycle->pointer;
    }
    doc["events"] = static_cast<int>(events.size());
    doc["commit"] = commit.empty() ? Json(nullptr) : Json(commit);
    Outcome out =
        Outcome::success(std::move(doc), "✓ Moved " + wp.id + " from " + lane_name(move.from) +
                                             " to " + lane_name(to) + "\n");
    out.findings = t.findings();
    return out;
}

Outcome mark_status_command(const MarkStatusRequest& request) {
    if (request.status != "done" && request.status != "pending") {
        throw Error(Exit::usage, "BAD_STATUS",
                    "--status must be done or pending, not '" + request.status + "'");
    }
    if (!request.agent.empty()) {
        loop::checked_agent(request.agent);
    }
    if (request.task_ids.empty()) {
        throw Error(Exit::usage, "NO_TASK_IDS", "name at least one task id (e.g. T001)");
    }
    const GitPreload git_loads_meanwhile;
    const Mission m = loop::open_loop_mission(request.target);
    touch_heartbeat(m, request.agent, request.shell_pid);
    loop::check_workflow_commit(m);
    // No event: tasks.md is read, changed and committed under the commit lock alone.
    const FileLock commits = loop::lock_commits(m);
    std::error_code ec;
    if (!fs::exists(m.tasks_md(), ec)) {
        throw Error(Exit::input, "NO_TASKS_MD", "no tasks.md in " + m.dir().string(),
                    "write tasks.md first")
            .at(m.tasks_md());
    }
    std::string text = normalize_newlines(read_file_bytes(m.tasks_md()));
    const std::string box = request.status == "done" ? "[x]" : "[ ]";
    std::vector<std::string> updated, not_found;
    for (const std::string& id : request.task_ids) {
        const Regex line("(?m)^(\\s*-\\s*)\\[[ xX]\\](\\s*" + RE2::QuoteMeta(id) + "\\b)");
        if (RE2::GlobalReplace(&text, line, "\\1" + box + "\\2") > 0) {
            updated.push_back(id);
        } else {
            not_found.push_back(id);
        }
    }
    if (updated.empty()) {
        const std::string list = join(not_found);
        throw Error(Exit::check_failed, "TASKS_NOT_FOUND", "No task IDs found in tasks.md: " + list,
                    "use the ids of tasks.md's checklist lines (- [ ] T001 …)")
            .at(m.tasks_md());
    }
    const std::vector<fs::path> paths{m.tasks_md().lexically_relative(m.project_root())};
    loop::write_mission_file(m, m.tasks_md(), text);
    const std::string number = mission_number_from_slug(m.slug());
    const std::string subject =
        updated.size() == 1
            ? "chore: Mark " + updated.front() + " as " + request.status + " on spec " + number
            : "chore: Mark " + std::to_string(updated.size()) + " subtasks as " + request.status +
                  " on spec " + number;
    const std::string commit = loop::commit_workflow(m, paths, subject);
    std::string text_out;
    for (const std::string& id : updated) {
        text_out += "✓ " + id + " " + request.status + "\n";
    }
    for (const std::string& id : not_found) {
        text_out += "? " + id + " not found\n";
    }
    return Outcome::success(Json{{"result", "success"},
                                 {"updated", updated},
                                 {"not_found", not_found},
                                 {"status", request.status},
                                 {"count", static_cast<int>(updated.size())},
                                 {"commit", commit.empty() ? Json(nullptr) : Json(commit)}},
                            text_out);
}

Outcome add_history_command(const AddHistoryRequest& request) {
    using namespace handoff_detail;
    if (py_strip(request.note).empty()) {
        throw Error(Exit::usage, "EMPTY_NOTE", "--note is empty", "say what happened");
    }
    const std::string actor = request.agent.empty() ? "user" : loop::checked_agent(request.agent);
    loop::LoopTransaction t(request.target);
    touch_heartbeat(t.mission(), request.agent, request.shell_pid);
    const LoopWp& wp = t.state().get(request.wp_id);
    // No event and no commit: the WP file changed under the commit lock, which every edit
    // of it takes.
    const FileLock commits = loop::lock_commits(t.mission());
    loop::write_mission_file(
        t.mission(), wp.file(),
        loop::append_activity(read_file_bytes(wp.file()), actor, request.shell_pid, request.note));
    return Outcome::success(Json{{"result", "success"}, {"task_id", wp.id}, {"note", request.note}},
                            "✓ Noted on " + wp.id + "\n");
}

} // namespace kitty
