// The agent loop (../shared/spec/next-loop.md, ARCHITECTURE.md decision 9,
// docs/tools/kitty-next.md): `next` decides, `agent action implement|review` claim a work
// package and open its workspace, the hand-off verbs record results, and the lane
// workspaces are git worktrees made through libgit2. Files, branch names, context files,
// events and commit subjects are spec-kitty 3.1.1's, so either tool can continue a project.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/result.hpp"

namespace kitty {

// Which mission a loop command works on. An empty selector picks it: inside a lane worktree
// the worktree's mission, else the one mission whose work packages are not all done (exit 4
// listing the candidates when there are several, exit 3 when there is none).
struct LoopTarget {
    std::string mission; // a selector or directory; empty: pick as above
    std::filesystem::path start_dir = ".";
};

struct NextRequest {
    LoopTarget target;
    std::string agent;                 // empty: none given
    std::string shell_pid;             // the caller's shell, for the agent's heartbeat
    std::optional<std::string> result; // success, failed, blocked; none: the bare call
};

// One decision: the 24 keys of 3.1.1's document in its order, then mission_id and
// next_command. The bare call returns the issued step (issuing the first eligible one when
// none is), never completing a step; --result success completes the issued step once its
// guard holds and issues the next; failed or blocked records the reason and returns
// `blocked` (exit 1) until the next success. In the implement and review steps the
// decision reserves a work package for the agent under the status lock.
Outcome next_command(const NextRequest& request);

struct ActionRequest {
    LoopTarget target;
    std::string wp_id; // empty: the first work package ready for the action
    std::string agent;
    std::string shell_pid; // recorded in the frontmatter, as 3.1.1 does
};

// `agent action implement`: claims the WP for the agent (planned/claimed -> in_progress),
// allocates its workspace (a lane worktree, or the main checkout for planning work),
// records the agent in the frontmatter and activity log, commits the status change with
// 3.1.1's subject and writes the prompt file. Every check comes first.
Outcome implement_action_command(const ActionRequest& request);

// `agent action review`: claims a for_review WP for review (for_review -> in_review),
// records the reviewer, commits, and writes the review prompt.
Outcome review_action_command(const ActionRequest& request);

struct WorkspaceRequest {
    LoopTarget target;
    std::string wp_id;   // allocate
    std::string lane_id; // remove
    std::string actor = "implement-command";
    std::string shell_pid;
    bool force = false;         // remove: also a worktree with uncommitted changes
    bool delete_branch = false; // remove: the lane branch too
};

// 3.1.1's internal `implement <WP>`: the WP's workspace made or reused, its context file
// written, and a planned WP claimed (actor `implement-command`) and committed.
Outcome workspace_allocate_command(const WorkspaceRequest& request);
// The mission's lanes with their worktrees, branches and context files.
Outcome workspace_list_command(const WorkspaceRequest& request);
// Removes a lane's worktree (refused while it has uncommitted changes) and context file.
Outcome workspace_remove_command(const WorkspaceRequest& request);

struct AcceptRequest {
    LoopTarget target;
    std::string mode = "auto"; // auto, pr, local, checklist (3.1.1's)
    std::string actor;         // accepted_by; empty: $USER, $USERNAME, else "system"
    bool lenient = false;      // no frontmatter checks (agent, shell_pid, assignee)
    bool no_commit = false;    // every check, nothing written
};

// `spec-kitty accept` / `agent mission accept`: every check of the acceptance gate (every
// WP approved or done, subtasks ticked, no clarification marker, the artifacts, a clean main
// checkout, lanes present and the merge's forecast clean); a failure lists them all and
// writes nothing (exit 1). Success records the acceptance in meta.json as 3.1.1 does and
// commits "Accept <slug>".
Outcome accept_command(const AcceptRequest& request);

struct LaneSyncRequest {
    LoopTarget target;
    std::vector<std::string> lane_ids; // empty: every code lane
    std::string agent;                 // who syncs: a lane this agent holds may be synced
    std::string shell_pid;             // the caller's shell, for the agent's heartbeat
};

// `spec-kitty lanes sync`: each lane brought up to date with what it builds on (the mission
// branch, its upstream lanes), by merge and only when the merge is clean, the worktree
// clean and nobody else works in the lane (ARCHITECTURE.md decisions 11 and 12).
Outcome lanes_sync_command(const LaneSyncRequest& request);

struct MoveTaskRequest {
    LoopTarget target;
    std::string wp_id;
    std::string to_lane;
    std::string agent;
    std::string note;
    std::optional<std::filesystem::path> review_feedback_file;
    std::string reviewer;
    std::string approval_ref;
    std::string shell_pid;
    bool force = false;
};

// `agent tasks move-task`: the hand-off and the review verdict, checked as 3.1.1 checks it
// (ownership, feedback, subtasks, workspace readiness) before anything is written; the
// events of the walk to the target lane, the activity log, a committed review-cycle file
// for a rejection, and one commit.
Outcome move_task_command(const MoveTaskRequest& request);

struct MarkStatusRequest {
    LoopTarget target;
    std::vector<std::string> task_ids;
    std::string status; // done or pending
    std::string agent;  // optional; checked like every agent name
    std::string shell_pid;
};

// `agent tasks mark-status`: ticks (or clears) the tasks.md checkboxes of the ids, commits.
Outcome mark_status_command(const MarkStatusRequest& request);

struct AddHistoryRequest {
    LoopTarget target;
    std::string wp_id;
    std::string note;
    std::string agent;
    std::string shell_pid;
};

// `agent tasks add-history`: one activity-log line in the WP file; no lane change.
Outcome add_history_command(const AddHistoryRequest& request);

} // namespace kitty
