// A git repository through libgit2 (kitty never runs git). libgit2 is loaded on first use,
// so a command that never opens a repository never pays for loading it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct git_repository;

namespace kitty {

struct GitTag {
    std::string name;
    std::int64_t commit_time = 0; // of the commit it points to, when asked for
};

struct CommitTime {
    std::int64_t seconds = 0; // since the epoch
    int offset_minutes = 0;   // the committer's time zone
};

struct BranchProgress {
    int commits_ahead = 0; // HEAD's commits since its merge base with the default branch
    CommitTime last_commit;
};

struct Worktree {
    std::string name;           // as in <common-dir>/worktrees/<name>
    std::filesystem::path path; // its working directory
    bool valid = false;         // the working directory and its metadata are intact
};

// A merge driver: the merged content of a file from its three versions (a version that does
// not exist is empty), or nullopt to leave the file conflicted.
using MergeDriver = std::function<std::optional<std::string>(
    const std::string& ancestor, const std::string& ours, const std::string& theirs)>;

// Makes kitty's own merges (combine_commits, squash_commit) merge with `merge` every file
// whose gitattributes say `merge=<name>`, in this process; git's config for the driver (its
// command) plays no part. A file both sides changed is merged by the driver instead of
// libgit2's line merge. An exception from `merge` leaves the file conflicted and its
// message is a note of the MERGE_CONFLICT error. Registering a name again replaces its
// function.
//
// libgit2 (1.5) reads the attributes from the checkout of the repository the merge runs in,
// never from the commits being merged: the work tree's .gitattributes files, then the
// index's (git_attr_get with GIT_ATTR_CHECK_FILE_THEN_INDEX; a rule in either applies, the
// work tree's first). A merge in a temporary worktree sees that worktree's checkout. An open
// Repository reads its index once: a line staged by another process later is not seen.
void register_merge_driver(const std::string& name, MergeDriver merge);

// What a default driver makes of one conflicting path: not handled (git's text merge then
// merges it, as without a driver), merged, or (handled, nullopt) left conflicted.
struct PathMerge {
    bool handled = false;
    std::optional<std::string> merged;
};
using DefaultMergeDriver =
    std::function<PathMerge(const std::string& path, const std::string& base,
                            const std::string& ours, const std::string& theirs)>;
// Registers `merge` for every path no gitattributes `merge=` line names, in kitty's own
// merges (libgit2's default_driver): so kitty's files merge their own way in projects whose
// .gitattributes says nothing about them.
void register_default_merge_driver(DefaultMergeDriver merge);

// A path a merge would leave conflicted, and how the two sides disagree on it.
struct MergeConflict {
    enum class Kind { content, add_add, modify_delete, rename };
    std::string path; // on our side, else theirs
    Kind kind = Kind::content;
    bool operator==(const MergeConflict&) const = default;
};
// "content", "add/add", "modify/delete", "rename".
const char* conflict_kind_name(MergeConflict::Kind kind);

// What merging one commit into another gives, found without moving a ref.
struct TrialMerge {
    enum class Outcome { up_to_date, fast_forward, merged, conflict };
    Outcome outcome = Outcome::up_to_date;
    std::string commit; // the result: ours, theirs, or the new merge commit; "" on a conflict
    std::vector<MergeConflict> conflicts;
};

// A lock a killed kitty process left (index.lock with kitty's owner record beside it, the
// owner dead, the index not written since): removing it is safe, as git's own advice for a
// dead process's lock. remove_dead_kitty_lock removes such a lock and says whether it did.
bool is_dead_kitty_lock(const std::filesystem::path& lock);
bool remove_dead_kitty_lock(const std::filesystem::path& lock);

// Loads libgit2 on a second thread from its construction, so a command that reads the
// mission's files before its first git call does not wait for the loader afterwards (a few
// milliseconds of a call's wall time). The first git call waits for the load; the thread is
// joined when the object goes. A load that fails is reported by that first call.
class GitPreload {
public:
    GitPreload();
    GitPreload(const GitPreload&) = delete;
    GitPreload& operator=(const GitPreload&) = delete;
    ~GitPreload();

private:
    std::thread thread_;
};

// Repository::changed_paths of the checkout at each of `dirs`, in order, read on two threads:
// a scan is mostly stat calls, which a second core overlaps. nullopt for a directory that
// does not exist or is in no repository. The first error any scan meets is thrown.
std::vector<std::optional<std::vector<std::string>>>
changed_paths_of(const std::vector<std::filesystem::path>& dirs);

class Repository {
public:
    // The repository containing `dir` (searching upward), or nullopt outside git.
    static std::optional<Repository> discover(const std::filesystem::path& dir);
    // As discover, but no repository is Error(Exit::input, "NOT_A_GIT_REPOSITORY").
    static Repository open(const std::filesystem::path& dir);

    Repository(const Repository&) = delete;
    Repository& operator=(const Repository&) = delete;
    Repository(Repository&& other) noexcept;
    Repository& operator=(Repository&& other) noexcept;
    ~Repository();

    // The top of the work tree, or nullopt for a bare repository.
    std::optional<std::filesystem::path> work_dir() const;
    // The git directory shared by all worktrees.
    std::filesystem::path common_dir() const;

    // The repository's own config file (<common dir>/config), which `git config --local`
    // reads and writes.
    std::filesystem::path local_config_path() const;
    // The value of `key` ("merge.x.driver") in that file alone, nullopt when it is unset.
    std::optional<std::string> local_config(const std::string& key) const;
    // Sets `key` in that file; libgit2 locks it and replaces it whole, as git does.
    void set_local_config(const std::string& key, const std::string& value);

    // Whether the repository has a remote (`git remote` would print one).
    bool has_remotes() const;
    // The branch HEAD names (also an unborn one), or nullopt when HEAD is detached.
    std::optional<std::string> current_branch() const;
    // The commit a revision ("HEAD", a branch, a hex id) names, as a hex id; nullopt when it
    // names none (an unborn branch, a missing ref).
    std::optional<std::string> resolve_commit(const std::string& revision) const;
    bool branch_exists(const std::string& branch) const;
    // The local branches whose names start with `prefix`, sorted.
    std::vector<std::string> branches(const std::string& prefix) const;
    // Creates `branch` at the commit `revision` names. An existing branch is
    // Error(Exit::conflict, "BRANCH_EXISTS"); an unknown revision Error(Exit::input).
    void create_branch(const std::string& branch, const std::string& revision);
    // Deletes a local branch that is not checked out anywhere.
    void delete_branch(const std::string& branch);

    std::vector<Worktree> worktrees() const;
    // Checks `branch` out in a new linked worktree `name` at `path` (its parent directories
    // are created). An existing path or worktree name is Error(Exit::conflict). The checkout
    // happens beside `path` and is renamed into place, so a process killed meanwhile leaves
    // no half-checked-out worktree at `path`: finish_interrupted_worktree cleans up after it.
    void add_worktree(const std::string& name, const std::filesystem::path& path,
                      const std::string& branch);
    // Repairs what a killed add_worktree(name, path, …) left: a worktree renamed into place
    // whose metadata still names the staging directory is pointed at `path`; a checkout that
    // never reached `path` is removed with its metadata.
    void finish_interrupted_worktree(const std::string& name, const std::filesystem::path& path);
    // Whether git's index lock (<git dir>/index.lock) still exists after about a second:
    // another git process is writing the index, or one died while it did. A lock a killed
    // kitty process left (its owner, recorded beside it, is dead) is removed and does not
    // count.
    bool index_locked() const;
    // Removes the linked worktree `name`: its working directory and its metadata.
    void remove_worktree(const std::string& name);

    // Checks that git has an identity to commit with (user.name and user.email);
    // Error(Exit::input, "GIT_IDENTITY_MISSING") naming the settings otherwise.
    void require_identity() const;

    // Commits `paths` as they are on disk on top of HEAD, nothing else: the tree is HEAD's
    // with those paths replaced (a missing one removed), built without the user's index, so
    // whatever else is staged stays staged and out of the commit. HEAD moves only if it still
    // names the parent: when someone committed meanwhile (or holds the branch's lock), the
    // commit is built again on the new HEAD, for a while, then Error(Exit::temporary). Then
    // the index entries of `paths` are brought in line. Authored and committed by git's configured
    // identity (no identity is Error(Exit::input, "GIT_IDENTITY_MISSING"), before anything is
    // written). Returns "" and commits nothing when no path differs from HEAD.
    std::string commit_own_paths(const std::vector<std::filesystem::path>& paths,
                                 const std::string& message);

    // Whether the index on disk holds exactly HEAD's tree (no conflicts, nothing staged), as
    // `git diff --cached --quiet` says; nothing is written to the object database.
    bool index_is_head() const;
    // The paths that differ from HEAD in this repository's index or working tree, untracked
    // files included and ignored ones not, relative to the work tree, sorted and unique
    // (what `git status --porcelain` lists), less kitty's in-flight atomic-write temporaries.
    // `prefix` ("kitty-specs/001-x/") keeps only the paths under it; empty keeps all.
    // The paths `left_out` names are neither listed nor looked at: only the other paths the
    // work tree, the index or HEAD has under `prefix` are, so a directory of many files the
    // caller does not ask about costs no stat each.
    std::vector<std::string>
    changed_paths(const std::string& prefix = "",
                  const std::function<bool(const std::string&)>& left_out = {}) const;
    // Those of `paths` (files, relative to the work tree) that changed_paths would list, in
    // their order; only they are examined.
    std::vector<std::string> changed_among(const std::vector<std::string>& paths) const;
    // The paths whose index entry differs from HEAD (staged changes), sorted.
    std::vector<std::string> staged_paths() const;

    // The best common ancestor of two revisions, nullopt when they share none or either
    // names no commit.
    std::optional<std::string> merge_base(const std::string& a, const std::string& b) const;
    // Whether the commit `ancestor` names is `descendant` or one of its ancestors.
    bool is_ancestor(const std::string& ancestor, const std::string& descendant) const;
    // The number of commits reachable from `to` and not from `from` (git rev-list --count
    // from..to); Error(Exit::input, "UNKNOWN_REVISION") when either names no commit.
    int count_commits(const std::string& from, const std::string& to) const;

    // Another handle on this repository whose object writes stay in its own memory: the
    // blobs, trees and commits of merges made through it never reach the disk and vanish
    // with it. Refs, the index and the work tree are as this one's; write none of them
    // through it.
    Repository with_objects_in_memory() const;
    // `theirs` merged into `ours` without moving any ref or touching a work tree: up to date
    // when ours contains it, a fast forward when it contains ours, else the three-way merge
    // of the two (their merge base the base, merge drivers applied) committed with two
    // parents and `message`, or its conflicts. Unknown revisions are
    // Error(Exit::input, "UNKNOWN_REVISION").
    TrialMerge trial_merge(const std::string& ours, const std::string& theirs,
                           const std::string& message);

    // Combines the commits `revisions` name, in order, into one commit without moving any
    // ref or touching a work tree: a revision already contained in the running result is
    // skipped, one that contains it is fast-forwarded to, any other is merged into it with a
    // two-parent commit with `message` (the configured identity, GIT_IDENTITY_MISSING
    // otherwise). Returns the final commit id. A content conflict is
    // Error(Exit::check_failed, "MERGE_CONFLICT") whose details list the conflicting paths.
    std::string combine_commits(const std::vector<std::string>& revisions,
                                const std::string& message);

    // The files that differ between the trees of two commits (git diff --name-only from to),
    // sorted; a rename lists both names.
    std::vector<std::string> files_changed(const std::string& from, const std::string& to) const;
    // A commit on `onto` (its one parent) whose tree is the three-way merge of `onto` and
    // `from`, with `message`; no ref moves. When `from` adds nothing, `onto` itself.
    // Conflicts are Error(Exit::check_failed, "MERGE_CONFLICT") listing the paths.
    std::string squash_commit(const std::string& onto, const std::string& from,
                              const std::string& message);
    // Points `branch` at `to` if it still points at `expected` (compare and swap, with
    // `reason` in its reflog); a branch that moved meanwhile is Error(Exit::conflict,
    // "BRANCH_MOVED") and stays where it is.
    void move_branch(const std::string& branch, const std::string& to, const std::string& expected,
                     const std::string& reason);
    // Brings this work tree and index from commit `from` to commit `to` the safe way: a file
    // the move touches that holds neither its old nor its new content is a local change, an
    // Error(Exit::conflict, "CHECKOUT_CONFLICT") listing the paths, and nothing is written.
    // For a checkout whose branch was moved from `from` to `to`, so that its index and files
    // follow the branch; a call killed half way is finished by calling it again.
    void check_out_move(const std::string& from, const std::string& to);
    // The paths check_out_move(from, to) would refuse, without writing anything: a file in
    // the way, tracked, untracked or ignored.
    std::vector<std::string> paths_in_the_way(const std::string& from, const std::string& to) const;

    // Starts merging `from` into this checkout's HEAD as `git merge` does: a clean result is
    // staged and checked out, conflicts stay in the index with their markers in the files;
    // MERGE_HEAD names `from` and MERGE_MSG holds `message`, so `git commit` or finish_merge
    // completes it. Returns the conflicting paths. Local changes the merge would overwrite
    // are Error(Exit::conflict, "CHECKOUT_CONFLICT").
    std::vector<std::string> start_merge(const std::string& from, const std::string& message);
    // Gives up the merge in progress as `git merge --abort` does after a merge started on a
    // clean checkout: the index and the tracked files back to HEAD, MERGE_HEAD and MERGE_MSG
    // removed; untracked files stay. Nothing happens when no merge is in progress.
    void abort_merge();
    // The paths with conflicts in the index, sorted.
    std::vector<std::string> conflicted_paths() const;
    // The commit MERGE_HEAD names; nullopt when no merge is in progress.
    std::optional<std::string> merge_head() const;
    // Completes the merge in progress: the whole work tree staged as the resolution (git add
    // -A, which also settles the conflicted paths: whether their files are resolved is the
    // caller's call), committed on HEAD with HEAD and MERGE_HEAD as parents, the merge state
    // cleared. Returns the commit. No merge in progress: Error(Exit::conflict,
    // "NO_MERGE_IN_PROGRESS").
    std::string finish_merge(const std::string& message);

    // The newest commit reachable from `revision` whose subject line contains one of
    // `needles`, or nullopt.
    std::optional<std::string> find_commit(const std::string& revision,
                                           const std::vector<std::string>& needles) const;

    // The committer time of the commit `revision` names; Error(Exit::input) when none.
    CommitTime commit_time(const std::string& revision) const;

    // The tags matching a git glob (`*` also matches "/"), sorted by name byte-wise.
    // Looking up each tag's commit time costs an object read per tag.
    std::vector<GitTag> tags(const std::string& pattern, bool commit_times) const;

    // What HEAD has done since it left the default branch (origin/HEAD, else main, master or
    // develop); nullopt when there is no such branch or no merge base.
    std::optional<BranchProgress> progress_since_default_branch() const;

private:
    std::vector<std::string> move_work_tree(const std::string& from, const std::string& to,
                                            bool dry_run) const;

    explicit Repository(git_repository* repo) : repo_(repo) {}
    void point_worktree_at(const std::string& name, const std::filesystem::path& path);
    git_repository* repo_;
};

// A checkout as a status scan left it: the repository opened on it (caches warm for what is
// done there next) and its uncommitted changes. No repository when `dir` does not exist or
// is in none.
struct CheckoutScan {
    std::optional<Repository> repo;
    std::vector<std::string> changes;
};
CheckoutScan scan_checkout(const std::filesystem::path& dir);

} // namespace kitty
