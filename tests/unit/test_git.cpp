// kitty::Repository on real repositories made with libgit2 in temp dirs.
#include <git2.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "expect_error.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Exit;
using kitty::Repository;
using kitty::test::expect_error;
using kitty::test::git_commit_all;
using kitty::test::make_git_repo;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

void set_identity(const fs::path& repo, const std::string& name, const std::string& email) {
    std::string config = kitty::test::slurp(repo / ".git" / "config");
    config += "[user]\n\tname = " + name + "\n\temail = " + email + "\n";
    write_fixture(repo / ".git" / "config", config);
}

// The author of HEAD's commit and whether HEAD's tree holds `path`, read with libgit2 itself.
struct HeadFacts {
    std::string author;
    std::string message;
    bool has(const std::string& path) const { return paths.count(path) > 0; }
    std::set<std::string> paths;
};

HeadFacts head_facts(const fs::path& dir) {
    git_libgit2_init();
    git_repository* repo = nullptr;
    EXPECT_EQ(git_repository_open_ext(&repo, dir.c_str(), 0, nullptr), 0);
    git_object* obj = nullptr;
    EXPECT_EQ(git_revparse_single(&obj, repo, "HEAD^{commit}"), 0);
    auto* commit = reinterpret_cast<git_commit*>(obj);
    HeadFacts facts;
    facts.author = git_commit_author(commit)->name;
    facts.message = git_commit_message(commit);
    git_tree* tree = nullptr;
    EXPECT_EQ(git_commit_tree(&tree, commit), 0);
    git_tree_walk(
        tree, GIT_TREEWALK_PRE,
        [](const char* root, const git_tree_entry* entry, void* payload) {
            if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB) {
                static_cast<HeadFacts*>(payload)->paths.insert(std::string(root) +
                                                               git_tree_entry_name(entry));
            }
            return 0;
        },
        &facts);
    git_tree_free(tree);
    git_object_free(obj);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return facts;
}

// libgit2 used directly, to set up and inspect repositories independently of kitty.
struct Session {
    Session() { git_libgit2_init(); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { git_libgit2_shutdown(); }
};

using RepoPtr = std::unique_ptr<git_repository, decltype(&git_repository_free)>;
using ObjectPtr = std::unique_ptr<git_object, decltype(&git_object_free)>;

RepoPtr open_raw(const fs::path& dir) {
    git_repository* repo = nullptr;
    EXPECT_EQ(git_repository_open_ext(&repo, dir.c_str(), 0, nullptr), 0);
    return {repo, &git_repository_free};
}

// Stages `path` in the index of the checkout at `dir`: its content, or its removal.
void stage(const fs::path& dir, const std::string& path) {
    const Session session;
    const RepoPtr repo = open_raw(dir);
    git_index* raw = nullptr;
    ASSERT_EQ(git_repository_index(&raw, repo.get()), 0);
    const std::unique_ptr<git_index, decltype(&git_index_free)> index(raw, &git_index_free);
    const int rc = fs::exists(dir / path) ? git_index_add_bypath(index.get(), path.c_str())
                                          : git_index_remove_bypath(index.get(), path.c_str());
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(git_index_write(index.get()), 0);
}

// The content of `path` in the commit `revision` names, nullopt when it has no such file.
std::optional<std::string> file_at(const fs::path& dir, const std::string& revision,
                                   const std::string& path) {
    const Session session;
    const RepoPtr repo = open_raw(dir);
    git_object* raw = nullptr;
    if (git_revparse_single(&raw, repo.get(), (revision + ":" + path).c_str()) != 0) {
        return std::nullopt;
    }
    const ObjectPtr object(raw, &git_object_free);
    const auto* blob = reinterpret_cast<const git_blob*>(object.get());
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                       static_cast<std::size_t>(git_blob_rawsize(blob)));
}

struct CommitInfo {
    std::vector<std::string> parents;
    std::string message;
};

CommitInfo commit_info(const fs::path& dir, const std::string& revision) {
    const Session session;
    const RepoPtr repo = open_raw(dir);
    git_object* raw = nullptr;
    EXPECT_EQ(git_revparse_single(&raw, repo.get(), (revision + "^{commit}").c_str()), 0);
    const ObjectPtr object(raw, &git_object_free);
    const auto* commit = reinterpret_cast<const git_commit*>(object.get());
    CommitInfo info{{}, git_commit_message(commit)};
    for (unsigned i = 0; i < git_commit_parentcount(commit); ++i) {
        info.parents.emplace_back(git_oid_tostr_s(git_commit_parent_id(commit, i)));
    }
    return info;
}

// Every ref and HEAD with the commit it resolves to: what must not move.
std::map<std::string, std::string> all_refs(const fs::path& dir) {
    const Session session;
    const RepoPtr repo = open_raw(dir);
    std::map<std::string, std::string> refs;
    git_reference_iterator* raw = nullptr;
    EXPECT_EQ(git_reference_iterator_new(&raw, repo.get()), 0);
    const std::unique_ptr<git_reference_iterator, decltype(&git_reference_iterator_free)> it(
        raw, &git_reference_iterator_free);
    for (const char* name = nullptr; git_reference_next_name(&name, it.get()) == 0;) {
        git_oid id;
        EXPECT_EQ(git_reference_name_to_id(&id, repo.get(), name), 0);
        refs[name] = git_oid_tostr_s(&id);
    }
    git_oid head;
    EXPECT_EQ(git_reference_name_to_id(&head, repo.get(), "HEAD"), 0);
    refs["HEAD"] = git_oid_tostr_s(&head);
    return refs;
}

// A branch `name` whose one commit has no parent (HEAD's tree): a history unrelated to HEAD's.
std::string orphan_branch(const fs::path& dir, const std::string& name) {
    const Session session;
    const RepoPtr repo = open_raw(dir);
    git_object* raw = nullptr;
    EXPECT_EQ(git_revparse_single(&raw, repo.get(), "HEAD^{tree}"), 0);
    const ObjectPtr tree(raw, &git_object_free);
    git_signature* sig = nullptr;
    EXPECT_EQ(git_signature_new(&sig, "kitty tests", "tests@kitty.invalid", 1767225600, 0), 0);
    const std::unique_ptr<git_signature, decltype(&git_signature_free)> owned(sig,
                                                                              &git_signature_free);
    git_oid id;
    EXPECT_EQ(git_commit_create(&id, repo.get(), ("refs/heads/" + name).c_str(), sig, sig, nullptr,
                                "orphan", reinterpret_cast<const git_tree*>(tree.get()), 0,
                                nullptr),
              0);
    return git_oid_tostr_s(&id);
}

using Paths = std::vector<std::string>;

// A repository on main with one commit holding README.md.
struct Fixture {
    TempDir tmp;
    fs::path dir = tmp / "repo";
    std::string first;
    Fixture() {
        make_git_repo(dir);
        write_fixture(dir / "README.md", "hello\n");
        first = git_commit_all(dir, "first", 1767225600);
    }
};

} // namespace

TEST(Repository, OutsideGitIsNoneOrAnInputError) {
    TempDir tmp;
    EXPECT_FALSE(Repository::discover(tmp.path()).has_value());
    expect_error([&] { Repository::open(tmp.path()); }, Exit::input, "NOT_A_GIT_REPOSITORY");
}

TEST(Repository, UnbornBranchHasANameButNoCommit) {
    TempDir tmp;
    make_git_repo(tmp / "r", "trunk");
    const Repository repo = Repository::open(tmp / "r" / ".");
    EXPECT_EQ(repo.current_branch(), "trunk");
    EXPECT_FALSE(repo.resolve_commit("HEAD").has_value());
    EXPECT_EQ(repo.work_dir(), fs::path(tmp / "r" / ""));
}

TEST(Repository, DiscoversFromASubdirectory) {
    Fixture f;
    fs::create_directories(f.dir / "a" / "b");
    const Repository repo = Repository::open(f.dir / "a" / "b");
    EXPECT_EQ(repo.resolve_commit("HEAD"), f.first);
    EXPECT_EQ(repo.resolve_commit("main"), f.first);
    EXPECT_EQ(repo.common_dir(), f.dir / ".git" / "");
    EXPECT_EQ(repo.commit_time("HEAD").seconds, 1767225600);
    EXPECT_FALSE(repo.resolve_commit("no-such-branch").has_value());
}

TEST(Repository, CreatesBranchesOnceAtARevision) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    repo.create_branch("kitty/mission-001-x-lane-a", "main");
    EXPECT_TRUE(repo.branch_exists("kitty/mission-001-x-lane-a"));
    EXPECT_EQ(repo.resolve_commit("kitty/mission-001-x-lane-a"), f.first);
    expect_error([&] { repo.create_branch("kitty/mission-001-x-lane-a", "main"); }, Exit::conflict,
                 "BRANCH_EXISTS");
    expect_error([&] { repo.create_branch("other", "nope"); }, Exit::input, "UNKNOWN_REVISION");
    EXPECT_FALSE(repo.branch_exists("other"));
    repo.delete_branch("kitty/mission-001-x-lane-a");
    EXPECT_FALSE(repo.branch_exists("kitty/mission-001-x-lane-a"));
}

TEST(Repository, WorktreeOnABranchIsAddedListedAndRemoved) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    repo.create_branch("lane-a", "HEAD");
    const fs::path path = f.dir / ".worktrees" / "001-x-lane-a";
    repo.add_worktree("001-x-lane-a", path, "lane-a");
    EXPECT_EQ(kitty::test::slurp(path / "README.md"), "hello\n");
    const auto listed = repo.worktrees();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, "001-x-lane-a");
    EXPECT_TRUE(listed[0].valid);
    EXPECT_EQ(fs::path(listed[0].path).lexically_normal(), path.lexically_normal());

    const Repository inside = Repository::open(path);
    EXPECT_EQ(inside.current_branch(), "lane-a");
    EXPECT_EQ(inside.common_dir(), repo.common_dir());

    expect_error([&] { repo.add_worktree("001-x-lane-a", path, "lane-a"); }, Exit::conflict,
                 "WORKTREE_PATH_EXISTS");
    expect_error([&] { repo.add_worktree("y", f.dir / ".worktrees" / "y", "no-branch"); },
                 Exit::input, "BRANCH_NOT_FOUND");

    repo.remove_worktree("001-x-lane-a");
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(repo.worktrees().empty());
    repo.delete_branch("lane-a");
}

// libgit2 killed while it wrote the worktree's metadata leaves `gitdir` empty (found by the
// SIGKILL test of implement, about one run in five): that is an add_worktree that did not
// finish, removed with its staging checkout, and the worktree can be added again.
TEST(Repository, AWorktreeKilledWhileItsGitdirWasWrittenIsCleanedUp) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    repo.create_branch("lane-a", "HEAD");
    const fs::path path = f.dir / ".worktrees" / "001-x-lane-a";
    const fs::path staging = f.dir / ".worktrees" / ".001-x-lane-a.incomplete";
    const fs::path metadata = f.dir / ".git" / "worktrees" / "001-x-lane-a";
    fs::create_directories(metadata);
    fs::create_directories(staging);
    write_fixture(metadata / "commondir", (f.dir / ".git").string() + "/\n");
    write_fixture(metadata / "gitdir", "");
    write_fixture(staging / ".git", "gitdir: " + metadata.string() + "\n");
    repo.finish_interrupted_worktree("001-x-lane-a", path);
    EXPECT_FALSE(fs::exists(metadata));
    EXPECT_FALSE(fs::exists(staging));
    repo.add_worktree("001-x-lane-a", path, "lane-a");
    EXPECT_EQ(kitty::test::slurp(path / "README.md"), "hello\n");
}

TEST(Repository, CommitsTheNamedPathsWithTheConfiguredIdentity) {
    Fixture f;
    set_identity(f.dir, "Ada Lovelace", "ada@example.invalid");
    write_fixture(f.dir / "kitty-specs" / "m" / "tasks" / "WP01.md", "wp\n");
    write_fixture(f.dir / "untouched.txt", "not staged\n");
    fs::remove(f.dir / "README.md");
    Repository repo = Repository::open(f.dir);
    const std::string id = repo.commit_own_paths(
        {fs::path("kitty-specs/m/tasks/WP01.md"), fs::path("README.md")}, "chore: claim WP01");
    EXPECT_EQ(repo.resolve_commit("HEAD"), id);
    const HeadFacts facts = head_facts(f.dir);
    EXPECT_EQ(facts.author, "Ada Lovelace");
    EXPECT_EQ(facts.message, "chore: claim WP01");
    EXPECT_TRUE(facts.has("kitty-specs/m/tasks/WP01.md"));
    EXPECT_FALSE(facts.has("README.md"));
    EXPECT_FALSE(facts.has("untouched.txt"));
}

TEST(Repository, CommitRewritesOnlyThePathsGivenAndLeavesTheRestOfTheTree) {
    Fixture f;
    set_identity(f.dir, "Ada", "ada@example.invalid");
    write_fixture(f.dir / "docs" / "a" / "one.md", "1\n");
    write_fixture(f.dir / "docs" / "a" / "two.md", "2\n");
    write_fixture(f.dir / "docs" / "b.md", "b\n");
    const std::string second = git_commit_all(f.dir, "second", 1767225700);
    write_fixture(f.dir / "docs" / "a" / "two.md", "2, changed\n");
    write_fixture(f.dir / "docs" / "c" / "new.md", "new\n");
    fs::remove(f.dir / "docs" / "b.md");
    Repository repo = Repository::open(f.dir);
    // A path twice, a path neither on disk nor in HEAD, and a directory's name (not a file:
    // the directory stays) are all taken as they are.
    const std::string id = repo.commit_own_paths(
        {fs::path("docs/a/two.md"), fs::path("docs/c/new.md"), fs::path("docs/a/two.md"),
         fs::path("docs/b.md"), fs::path("nowhere/x.md"), fs::path("docs/a")},
        "chore: three paths");
    EXPECT_EQ(repo.resolve_commit("HEAD"), id);
    EXPECT_NE(id, second);
    const HeadFacts facts = head_facts(f.dir);
    EXPECT_EQ(facts.paths, (std::set<std::string>{"README.md", "docs/a/one.md", "docs/a/two.md",
                                                  "docs/c/new.md"}));
    // The index follows the commit: the checkout is clean.
    EXPECT_TRUE(repo.changed_paths().empty());
    // Committing the same paths again changes nothing.
    EXPECT_EQ(repo.commit_own_paths({fs::path("docs/a/two.md"), fs::path("docs/b.md")}, "again"),
              "");
}

TEST(Repository, FirstCommitOnAnUnbornBranch) {
    TempDir tmp;
    make_git_repo(tmp / "r");
    set_identity(tmp / "r", "Ada", "ada@example.invalid");
    write_fixture(tmp / "r" / "kitty-specs" / "m" / "spec.md", "spec\n");
    Repository repo = Repository::open(tmp / "r");
    const std::string id = repo.commit_own_paths({fs::path("kitty-specs/m/spec.md")}, "first");
    EXPECT_EQ(repo.resolve_commit("HEAD"), id);
    EXPECT_EQ(head_facts(tmp / "r").paths, (std::set<std::string>{"kitty-specs/m/spec.md"}));
    // The index made for it is one git reads: the checkout is clean.
    EXPECT_TRUE(repo.changed_paths().empty());
    const auto git_status = kitty::test::run_process(
        {"/usr/bin/git", "-C", (tmp / "r").string(), "status", "--porcelain"});
    EXPECT_EQ(git_status.exit_code, 0) << git_status.err;
    EXPECT_EQ(git_status.out, "");
}

TEST(Repository, CommitInAWorktreeMovesOnlyItsBranch) {
    Fixture f;
    set_identity(f.dir, "Ada", "ada@example.invalid");
    Repository repo = Repository::open(f.dir);
    repo.create_branch("lane-a", "main");
    const fs::path path = f.dir / ".worktrees" / "x-lane-a";
    repo.add_worktree("x-lane-a", path, "lane-a");
    write_fixture(path / "src" / "a.cpp", "int a;\n");
    Repository lane = Repository::open(path);
    const std::string id = lane.commit_own_paths({fs::path("src/a.cpp")}, "WP01 work");
    EXPECT_EQ(repo.resolve_commit("lane-a"), id);
    EXPECT_EQ(repo.resolve_commit("main"), f.first);
}

TEST(Repository, NoIdentityIsAClearErrorAndNothingChanges) {
    Fixture f;
    // Empty values override any global or system identity.
    set_identity(f.dir, "", "");
    write_fixture(f.dir / "new.txt", "x\n");
    Repository repo = Repository::open(f.dir);
    try {
        repo.commit_own_paths({fs::path("new.txt")}, "msg");
        ADD_FAILURE() << "expected GIT_IDENTITY_MISSING";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "GIT_IDENTITY_MISSING");
        EXPECT_EQ(e.exit(), Exit::input);
        EXPECT_NE(std::string(e.hint()).find("git config user.name"), std::string::npos);
        EXPECT_NE(std::string(e.hint()).find("user.email"), std::string::npos);
    }
    EXPECT_EQ(repo.resolve_commit("HEAD"), f.first);
    // Nothing was staged: a commit of the index by git itself would not include new.txt.
    git_libgit2_init();
    git_repository* raw = nullptr;
    ASSERT_EQ(git_repository_open(&raw, f.dir.c_str()), 0);
    git_index* index = nullptr;
    ASSERT_EQ(git_repository_index(&index, raw), 0);
    EXPECT_EQ(git_index_get_bypath(index, "new.txt", 0), nullptr);
    git_index_free(index);
    git_repository_free(raw);
    git_libgit2_shutdown();
}

TEST(Repository, TagsAreSortedAndCarryCommitTimes) {
    Fixture f;
    kitty::test::git_tag(f.dir, "v1.10.0");
    kitty::test::git_tag(f.dir, "v1.9.0");
    kitty::test::git_tag(f.dir, "other");
    const Repository repo = Repository::open(f.dir);
    const auto tags = repo.tags("v*", true);
    ASSERT_EQ(tags.size(), 2u);
    EXPECT_EQ(tags[0].name, "v1.10.0");
    EXPECT_EQ(tags[1].name, "v1.9.0");
    EXPECT_EQ(tags[1].commit_time, 1767225600);
    EXPECT_EQ(repo.tags("v*", false)[0].commit_time, 0);
}

TEST(Repository, ProgressSinceTheDefaultBranchCountsCommitsAhead) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    EXPECT_EQ(repo.progress_since_default_branch()->commits_ahead, 0);
    repo.create_branch("lane-a", "main");
    const fs::path path = f.dir / ".worktrees" / "x-lane-a";
    repo.add_worktree("x-lane-a", path, "lane-a");
    write_fixture(path / "a.txt", "1\n");
    git_commit_all(path, "one", 1767225700);
    write_fixture(path / "b.txt", "2\n");
    git_commit_all(path, "two", 1767225800);
    const auto progress = Repository::open(path).progress_since_default_branch();
    ASSERT_TRUE(progress.has_value());
    EXPECT_EQ(progress->commits_ahead, 2);
    EXPECT_EQ(progress->last_commit.seconds, 1767225800);
}

TEST(Repository, ChangedPathsListWhatStatusListsUnderAPrefix) {
    Fixture f;
    write_fixture(f.dir / ".gitignore", "*.log\n");
    write_fixture(f.dir / "src" / "keep.txt", "keep\n");
    write_fixture(f.dir / "src" / "mod.txt", "old\n");
    git_commit_all(f.dir, "base");
    const Repository repo = Repository::open(f.dir);
    EXPECT_EQ(repo.changed_paths(), Paths{});
    EXPECT_EQ(repo.staged_paths(), Paths{});

    write_fixture(f.dir / "src" / "mod.txt", "new\n");
    write_fixture(f.dir / "staged.txt", "staged\n");
    stage(f.dir, "staged.txt");
    write_fixture(f.dir / "kitty-specs" / "001-x" / "tasks" / "WP01.md", "wp\n");
    write_fixture(f.dir / "kitty-specs" / "001-xy" / "spec.md", "sibling\n");
    fs::remove(f.dir / "README.md");
    write_fixture(f.dir / "debug.log", "ignored\n");
    write_fixture(f.dir / "kitty-specs" / "001-x" / "run.log", "ignored\n");

    EXPECT_EQ(repo.changed_paths(),
              (Paths{"README.md", "kitty-specs/001-x/tasks/WP01.md", "kitty-specs/001-xy/spec.md",
                     "src/mod.txt", "staged.txt"}));
    EXPECT_EQ(repo.changed_paths("kitty-specs/001-x/"), Paths{"kitty-specs/001-x/tasks/WP01.md"});
    EXPECT_EQ(repo.changed_paths("kitty-specs/001-x"), Paths{"kitty-specs/001-x/tasks/WP01.md"});
    EXPECT_EQ(repo.changed_paths("src/"), Paths{"src/mod.txt"});
    EXPECT_EQ(repo.changed_paths("docs/"), Paths{});
    EXPECT_EQ(repo.staged_paths(), Paths{"staged.txt"});

    stage(f.dir, "src/mod.txt");
    stage(f.dir, "README.md");
    EXPECT_EQ(repo.staged_paths(), (Paths{"README.md", "src/mod.txt", "staged.txt"}));
    // Staging changes nothing about what differs from HEAD.
    EXPECT_EQ(repo.changed_paths().size(), 5u);
}

// Leaving paths out changes nothing but their absence: the oracle is the full status, less
// them. Deleted files (from disk, from the index) are found though their directory holds
// left-out files, and a whole directory gone from disk too.
TEST(Repository, ChangedPathsLeftOutAreOnlyMissingFromTheFullStatus) {
    Fixture f;
    const std::string m = "kitty-specs/001-x/";
    for (const std::string file :
         {"tasks/WP01.md", "tasks/WP02.md", "tasks/README.md", "tasks/kept.md", "research/a.md",
          "research/b.md", "gone/c.md", "spec.md", "status.events.jsonl"}) {
        write_fixture(f.dir / (m + file), file + "\n");
    }
    write_fixture(f.dir / ".gitignore", "*.log\n");
    git_commit_all(f.dir, "mission");
    const Repository repo = Repository::open(f.dir);
    const auto left_out = [&](const std::string& path) {
        return path.starts_with(m + "tasks/WP") || path == m + "status.events.jsonl";
    };
    const auto expected = [&] {
        Paths out;
        for (const std::string& path : repo.changed_paths(m)) {
            if (!left_out(path)) {
                out.push_back(path);
            }
        }
        return out;
    };
    EXPECT_EQ(repo.changed_paths(m, left_out), Paths{});

    write_fixture(f.dir / (m + "tasks/WP01.md"), "changed\n");
    write_fixture(f.dir / (m + "status.events.jsonl"), "changed\n");
    EXPECT_EQ(repo.changed_paths(m, left_out), Paths{});
    EXPECT_EQ(repo.changed_paths(m).size(), 2u);

    fs::remove(f.dir / (m + "tasks/README.md"));
    fs::remove_all(f.dir / (m + "gone"));
    write_fixture(f.dir / (m + "tasks/notes.md"), "new\n");
    write_fixture(f.dir / (m + "tasks/WP03.md"), "new, left out\n");
    write_fixture(f.dir / (m + "tasks/debug.log"), "ignored\n");
    write_fixture(f.dir / (m + "research/a.md"), "changed\n");
    write_fixture(f.dir / (m + "contracts/api.yaml"), "new\n");
    const Paths found = repo.changed_paths(m, left_out);
    EXPECT_EQ(found, (Paths{m + "contracts/api.yaml", m + "gone/c.md", m + "research/a.md",
                            m + "tasks/README.md", m + "tasks/notes.md"}));
    EXPECT_EQ(found, expected());

    // The index differs from HEAD: a file removed from both the index and the disk (HEAD
    // alone has it), and one added to the index and removed from the disk (the index alone).
    stage(f.dir, m + "tasks/README.md");
    EXPECT_EQ(repo.changed_paths(m, left_out), found);
    write_fixture(f.dir / (m + "tasks/staged.md"), "staged\n");
    stage(f.dir, m + "tasks/staged.md");
    fs::remove(f.dir / (m + "tasks/staged.md"));
    Paths with_staged = found;
    with_staged.push_back(m + "tasks/staged.md");
    EXPECT_EQ(repo.changed_paths(m, left_out), with_staged);
    EXPECT_EQ(repo.changed_paths(m, left_out), expected());
}

TEST(Repository, ChangedPathsInALinkedWorktreeAreThatWorktrees) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    repo.create_branch("lane-a", "main");
    const fs::path lane = f.tmp / "lane-a";
    repo.add_worktree("x-lane-a", lane, "lane-a");
    write_fixture(f.dir / "main-only.txt", "main\n");
    write_fixture(lane / "src" / "lane.txt", "lane\n");
    write_fixture(lane / "README.md", "changed in the lane\n");
    stage(lane, "README.md");

    const auto inside = Repository::discover(lane / "src");
    ASSERT_TRUE(inside.has_value());
    EXPECT_EQ(inside->changed_paths(), (Paths{"README.md", "src/lane.txt"}));
    EXPECT_EQ(inside->staged_paths(), Paths{"README.md"});
    EXPECT_EQ(repo.changed_paths(), Paths{"main-only.txt"});
    EXPECT_EQ(repo.staged_paths(), Paths{});
}

// Several checkouts' status at once (two threads) is each one's own, in the order asked.
TEST(Repository, ChangedPathsOfSeveralCheckoutsAreEachOnesInOrder) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    std::vector<fs::path> dirs{f.dir};
    for (const std::string lane : {"a", "b", "c"}) {
        repo.create_branch("lane-" + lane, "main");
        dirs.push_back(f.tmp / ("lane-" + lane));
        repo.add_worktree("x-lane-" + lane, dirs.back(), "lane-" + lane);
        write_fixture(dirs.back() / (lane + ".txt"), lane + "\n");
    }
    write_fixture(f.dir / "main-only.txt", "main\n");
    fs::remove(dirs[2] / "b.txt"); // lane-b is clean
    dirs.push_back(f.tmp / "missing");
    const auto scans = kitty::changed_paths_of(dirs);
    ASSERT_EQ(scans.size(), 5u);
    EXPECT_EQ(scans[0], Paths{"main-only.txt"});
    EXPECT_EQ(scans[1], Paths{"a.txt"});
    EXPECT_EQ(scans[2], Paths{});
    EXPECT_EQ(scans[3], Paths{"c.txt"});
    EXPECT_EQ(scans[4], std::nullopt) << "no such directory";
    EXPECT_TRUE(kitty::changed_paths_of({}).empty());
}

namespace {

// main: first, then m1. lane-a: first, a1, a2. lane-b: first, b1. Lane commits are made in
// linked worktrees outside the main checkout, so the checkout stays clean.
struct History : Fixture {
    Repository repo = Repository::open(dir);
    std::string a1, a2, b1, m1;
    History() {
        set_identity(dir, "Ada Lovelace", "ada@example.invalid");
        repo.create_branch("lane-a", "main");
        repo.create_branch("lane-b", "main");
        repo.add_worktree("lane-a", tmp / "lane-a", "lane-a");
        repo.add_worktree("lane-b", tmp / "lane-b", "lane-b");
        write_fixture(tmp / "lane-a" / "a.txt", "a1\n");
        a1 = git_commit_all(tmp / "lane-a", "a1", 1767225700);
        write_fixture(tmp / "lane-a" / "a.txt", "a2\n");
        a2 = git_commit_all(tmp / "lane-a", "a2", 1767225800);
        write_fixture(tmp / "lane-b" / "b.txt", "b1\n");
        b1 = git_commit_all(tmp / "lane-b", "b1", 1767225900);
        write_fixture(dir / "m.txt", "m1\n");
        m1 = git_commit_all(dir, "m1", 1767226000);
    }
};

} // namespace

TEST(Repository, MergeBaseAncestryAndCountsFollowTheHistory) {
    History h;
    EXPECT_EQ(h.repo.merge_base("lane-a", "lane-b"), h.first);
    EXPECT_EQ(h.repo.merge_base("lane-a", "main"), h.first);
    EXPECT_EQ(h.repo.merge_base(h.a1, "lane-a"), h.a1);
    EXPECT_FALSE(h.repo.merge_base("lane-a", "no-such-branch").has_value());
    orphan_branch(h.dir, "orphan");
    EXPECT_FALSE(h.repo.merge_base("orphan", "main").has_value());

    EXPECT_TRUE(h.repo.is_ancestor(h.first, "lane-a"));
    EXPECT_TRUE(h.repo.is_ancestor(h.a1, h.a2));
    EXPECT_TRUE(h.repo.is_ancestor("lane-a", "lane-a"));
    EXPECT_FALSE(h.repo.is_ancestor("lane-a", h.a1));
    EXPECT_FALSE(h.repo.is_ancestor("lane-a", "lane-b"));
    EXPECT_FALSE(h.repo.is_ancestor("main", "lane-a"));
    EXPECT_FALSE(h.repo.is_ancestor("orphan", "main"));
    EXPECT_FALSE(h.repo.is_ancestor("no-such-branch", "main"));

    EXPECT_EQ(h.repo.count_commits("main", "lane-a"), 2);
    EXPECT_EQ(h.repo.count_commits("lane-a", "main"), 1);
    EXPECT_EQ(h.repo.count_commits(h.first, "main"), 1);
    EXPECT_EQ(h.repo.count_commits("lane-a", "lane-a"), 0);
    EXPECT_EQ(h.repo.count_commits(h.a2, h.a1), 0);
    expect_error([&] { h.repo.count_commits("main", "no-such-branch"); }, Exit::input,
                 "UNKNOWN_REVISION");
    expect_error([&] { h.repo.count_commits("no-such-branch", "main"); }, Exit::input,
                 "UNKNOWN_REVISION");
}

TEST(Repository, CombineSkipsContainedCommitsAndFastForwards) {
    History h;
    const auto refs = all_refs(h.dir);
    EXPECT_EQ(h.repo.combine_commits({"lane-a", h.first}, "unused"), h.a2);
    EXPECT_EQ(h.repo.combine_commits({"lane-a", h.a1, "lane-a"}, "unused"), h.a2);
    EXPECT_EQ(h.repo.combine_commits({h.first, h.a1, "lane-a"}, "unused"), h.a2);
    EXPECT_EQ(h.repo.combine_commits({"lane-b"}, "unused"), h.b1);
    EXPECT_EQ(all_refs(h.dir), refs);
    expect_error(
        [&] {
            h.repo.combine_commits({"lane-a", "no-such-branch"}, "m");
        },
        Exit::input, "UNKNOWN_REVISION");
}

TEST(Repository, CombineMergesDisjointChangesWithoutMovingARef) {
    History h;
    const auto refs = all_refs(h.dir);
    const std::string merged = h.repo.combine_commits({"lane-a", "lane-b"}, "combine lanes");
    EXPECT_NE(merged, h.a2);
    EXPECT_NE(merged, h.b1);
    const CommitInfo info = commit_info(h.dir, merged);
    EXPECT_EQ(info.parents, (Paths{h.a2, h.b1}));
    EXPECT_EQ(info.message, "combine lanes");
    EXPECT_EQ(file_at(h.dir, merged, "a.txt"), "a2\n");
    EXPECT_EQ(file_at(h.dir, merged, "b.txt"), "b1\n");
    EXPECT_EQ(file_at(h.dir, merged, "README.md"), "hello\n");
    EXPECT_FALSE(file_at(h.dir, merged, "m.txt").has_value());
    EXPECT_EQ(all_refs(h.dir), refs);
    EXPECT_FALSE(fs::exists(h.dir / "a.txt"));
    EXPECT_EQ(kitty::test::slurp(h.tmp / "lane-a" / "a.txt"), "a2\n");
    EXPECT_FALSE(fs::exists(h.tmp / "lane-a" / "b.txt"));

    // The result already holds both lanes; a third revision merges onto it.
    EXPECT_EQ(h.repo.combine_commits({merged, "lane-b", h.a1}, "unused"), merged);
    const std::string three = h.repo.combine_commits({"lane-a", "lane-b", "main"}, "with main");
    // Its first parent is lane-a and lane-b merged again (the same tree; the time may differ).
    const Paths parents = commit_info(h.dir, three).parents;
    ASSERT_EQ(parents.size(), 2u);
    EXPECT_EQ(commit_info(h.dir, parents[0]).parents, (Paths{h.a2, h.b1}));
    EXPECT_EQ(parents[1], h.m1);
    EXPECT_EQ(file_at(h.dir, three, "m.txt"), "m1\n");
    EXPECT_EQ(file_at(h.dir, three, "b.txt"), "b1\n");
    EXPECT_EQ(all_refs(h.dir), refs);
}

TEST(Repository, CombineStopsAtAConflictNamingThePaths) {
    History h;
    // lane-c changes the line of a.txt that lane-a's second commit changes.
    h.repo.create_branch("lane-c", h.a1);
    h.repo.add_worktree("lane-c", h.tmp / "lane-c", "lane-c");
    write_fixture(h.tmp / "lane-c" / "a.txt", "c's a\n");
    write_fixture(h.tmp / "lane-c" / "c.txt", "c\n");
    git_commit_all(h.tmp / "lane-c", "c1", 1767226100);
    const auto refs = all_refs(h.dir);
    try {
        h.repo.combine_commits({"lane-b", "lane-a", "lane-c"}, "combine");
        ADD_FAILURE() << "expected MERGE_CONFLICT";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), Exit::check_failed);
        EXPECT_EQ(e.code(), "MERGE_CONFLICT");
        EXPECT_NE(std::string(e.what()).find("a.txt"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("lane-c"), std::string::npos) << e.what();
        ASSERT_NE(e.details(), nullptr);
        EXPECT_EQ(e.details()->dump(), R"({"conflicting_paths":["a.txt"]})");
    }
    EXPECT_EQ(all_refs(h.dir), refs);
    EXPECT_EQ(kitty::test::slurp(h.tmp / "lane-c" / "a.txt"), "c's a\n");
}

TEST(Repository, CombineNeedsAnIdentityOnlyToMerge) {
    History h;
    set_identity(h.dir, "", "");
    expect_error(
        [&] {
            h.repo.combine_commits({"lane-a", "lane-b"}, "m");
        },
        Exit::input, "GIT_IDENTITY_MISSING");
    EXPECT_EQ(h.repo.combine_commits({h.first, "lane-a"}, "m"), h.a2);
}

namespace {

// Every file under a git directory with its size and content: objects, refs, reflogs, the
// index, config; what an in-memory merge must leave as it was.
std::map<std::string, std::string> git_dir_files(const fs::path& git_dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(git_dir)) {
        if (entry.is_regular_file()) {
            files[entry.path().lexically_relative(git_dir).generic_string()] =
                kitty::test::slurp(entry.path());
        }
    }
    return files;
}

bool has_object(const fs::path& dir, const std::string& id) {
    const Session session;
    const RepoPtr repo = open_raw(dir);
    git_oid oid;
    EXPECT_EQ(git_oid_fromstr(&oid, id.c_str()), 0);
    git_odb* odb = nullptr;
    EXPECT_EQ(git_repository_odb(&odb, repo.get()), 0);
    const bool found = git_odb_exists(odb, &oid) == 1;
    git_odb_free(odb);
    return found;
}

} // namespace

// Issue 21 §1: a trial merge says up to date, fast forward, merged or conflicting, with each
// conflict's path and kind, and moves nothing.
TEST(Repository, TrialMergeReportsTheOutcomeAndEachConflictsKind) {
    History h;
    using Outcome = kitty::TrialMerge::Outcome;
    using Kind = kitty::MergeConflict::Kind;
    const auto refs = all_refs(h.dir);
    EXPECT_EQ(h.repo.trial_merge("lane-a", h.a1, "m").outcome, Outcome::up_to_date);
    const kitty::TrialMerge ff = h.repo.trial_merge(h.a1, "lane-a", "m");
    EXPECT_EQ(ff.outcome, Outcome::fast_forward);
    EXPECT_EQ(ff.commit, h.a2);
    const kitty::TrialMerge clean = h.repo.trial_merge("lane-a", "lane-b", "both lanes");
    EXPECT_EQ(clean.outcome, Outcome::merged);
    EXPECT_EQ(commit_info(h.dir, clean.commit).parents, (Paths{h.a2, h.b1}));
    EXPECT_EQ(file_at(h.dir, clean.commit, "b.txt"), "b1\n");
    EXPECT_EQ(all_refs(h.dir), refs);

    // lane-c, from a1: changes a.txt (content), adds b.txt (add/add with lane-b), deletes
    // README.md, which main changes (modify/delete).
    h.repo.create_branch("lane-c", h.a1);
    h.repo.add_worktree("lane-c", h.tmp / "lane-c", "lane-c");
    write_fixture(h.tmp / "lane-c" / "a.txt", "c's a\n");
    write_fixture(h.tmp / "lane-c" / "b.txt", "c's b\n");
    fs::remove(h.tmp / "lane-c" / "README.md");
    git_commit_all(h.tmp / "lane-c", "c1", 1767226100);
    write_fixture(h.dir / "README.md", "hello from main\n");
    git_commit_all(h.dir, "m2", 1767226200);
    const auto conflicts = [&](const std::string& ours, const std::string& theirs) {
        const kitty::TrialMerge t = h.repo.trial_merge(ours, theirs, "m");
        EXPECT_EQ(t.outcome, Outcome::conflict);
        EXPECT_EQ(t.commit, "");
        std::vector<std::pair<std::string, Kind>> out;
        for (const kitty::MergeConflict& c : t.conflicts) {
            out.emplace_back(c.path, c.kind);
        }
        return out;
    };
    using Found = std::vector<std::pair<std::string, Kind>>;
    EXPECT_EQ(conflicts("lane-a", "lane-c"), (Found{{"a.txt", Kind::content}}));
    EXPECT_EQ(conflicts("lane-b", "lane-c"), (Found{{"b.txt", Kind::add_add}}));
    EXPECT_EQ(conflicts("main", "lane-c"), (Found{{"README.md", Kind::modify_delete}}));
    EXPECT_STREQ(kitty::conflict_kind_name(Kind::add_add), "add/add");
    EXPECT_STREQ(kitty::conflict_kind_name(Kind::modify_delete), "modify/delete");
    EXPECT_STREQ(kitty::conflict_kind_name(Kind::content), "content");
    EXPECT_STREQ(kitty::conflict_kind_name(Kind::rename), "rename");
}

// Merges made through with_objects_in_memory() write nothing under .git: no object, ref,
// reflog or index byte; their commits can be merged again, and are gone with the handle.
TEST(Repository, MergesInMemoryLeaveTheRepositoryAsItWas) {
    History h;
    const fs::path git_dir = h.dir / ".git";
    const auto before = git_dir_files(git_dir);
    std::string merged, again;
    {
        Repository scratch = h.repo.with_objects_in_memory();
        const kitty::TrialMerge t = scratch.trial_merge("lane-a", "lane-b", "in memory");
        ASSERT_EQ(t.outcome, kitty::TrialMerge::Outcome::merged);
        merged = t.commit;
        // The in-memory commit is a commit like any other to the same handle.
        const kitty::TrialMerge next = scratch.trial_merge(merged, "main", "and main");
        ASSERT_EQ(next.outcome, kitty::TrialMerge::Outcome::merged);
        again = next.commit;
        EXPECT_FALSE(scratch.squash_commit("main", again, "squash").empty());
        EXPECT_TRUE(scratch.is_ancestor(merged, again));
    }
    EXPECT_EQ(git_dir_files(git_dir), before);
    EXPECT_FALSE(has_object(h.dir, merged));
    EXPECT_FALSE(has_object(h.dir, again));
    EXPECT_FALSE(h.repo.resolve_commit(merged).has_value());
    // The same merge through the repository itself is written, which the check above would
    // have seen.
    const kitty::TrialMerge real = h.repo.trial_merge("lane-a", "lane-b", "on disk");
    EXPECT_TRUE(has_object(h.dir, real.commit));
    EXPECT_NE(git_dir_files(git_dir), before);
}

// The files two commits differ in are those git itself names (git diff --no-renames
// --name-only): added, deleted, changed, a mode change, a file that became a directory and
// a directory that became a file, deep in unchanged and changed subtrees.
TEST(Repository, FilesChangedAreThoseGitDiffNames) {
    Fixture f;
    for (const std::string d : {"a", "b", "c/d", "c/e", "f"}) {
        write_fixture(f.dir / d / "one.txt", d + "\n");
        write_fixture(f.dir / d / "two.txt", d + " two\n");
    }
    write_fixture(f.dir / "g", "a file that becomes a directory\n");
    write_fixture(f.dir / "g.txt", "sorts between g and g/\n");
    const std::string before = git_commit_all(f.dir, "before", 1767225700);
    write_fixture(f.dir / "a/one.txt", "changed\n");
    fs::remove(f.dir / "b/two.txt");
    write_fixture(f.dir / "c/e/three.txt", "added deep\n");
    fs::permissions(f.dir / "c/d/one.txt", fs::perms::owner_exec, fs::perm_options::add);
    fs::remove_all(f.dir / "f");
    write_fixture(f.dir / "f", "a directory that became a file\n");
    fs::remove(f.dir / "g");
    write_fixture(f.dir / "g/inside.txt", "now a directory\n");
    const std::string after = git_commit_all(f.dir, "after", 1767225800);
    const auto r = kitty::test::run_process({"/usr/bin/git", "-C", f.dir.string(), "diff",
                                             "--no-renames", "--name-only", before, after});
    ASSERT_EQ(r.exit_code, 0);
    Paths expected;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        expected.push_back(line);
    }
    std::sort(expected.begin(), expected.end());
    const Repository repo = Repository::open(f.dir);
    EXPECT_EQ(repo.files_changed(before, after), expected);
    EXPECT_EQ(expected.size(), 9u) << r.out;
    EXPECT_EQ(repo.files_changed(after, before), expected) << "the same either way";
}

TEST(Repository, FilesChangedBetweenTwoCommits) {
    History h;
    EXPECT_EQ(h.repo.files_changed(h.first, "lane-a"), Paths{"a.txt"});
    EXPECT_EQ(h.repo.files_changed("lane-a", "lane-b"), (Paths{"a.txt", "b.txt"}));
    EXPECT_EQ(h.repo.files_changed("main", "main"), Paths{});
    expect_error([&] { h.repo.files_changed("main", "no-such-branch"); }, Exit::input,
                 "UNKNOWN_REVISION");
}

TEST(Repository, SquashWritesOneCommitOnTheTargetWithoutMovingARef) {
    History h;
    const auto refs = all_refs(h.dir);
    const std::string squashed = h.repo.squash_commit("main", "lane-a", "feat: squash lane-a");
    const CommitInfo info = commit_info(h.dir, squashed);
    EXPECT_EQ(info.parents, Paths{h.m1}) << "one parent: the target";
    EXPECT_EQ(info.message, "feat: squash lane-a");
    EXPECT_EQ(file_at(h.dir, squashed, "a.txt"), "a2\n");
    EXPECT_EQ(file_at(h.dir, squashed, "m.txt"), "m1\n");
    EXPECT_EQ(all_refs(h.dir), refs);
    // Nothing to add: the target itself.
    EXPECT_EQ(h.repo.squash_commit("lane-a", h.a1, "unused"), h.a2);
    EXPECT_EQ(h.repo.squash_commit(squashed, "lane-a", "unused"), squashed)
        << "the same tree adds nothing";
    // A conflict lists the paths and writes nothing a ref points at.
    h.repo.create_branch("lane-c", h.first);
    h.repo.add_worktree("lane-c", h.tmp / "lane-c", "lane-c");
    write_fixture(h.tmp / "lane-c" / "a.txt", "c's a\n");
    git_commit_all(h.tmp / "lane-c", "c1", 1767226100);
    const auto before = all_refs(h.dir);
    expect_error([&] { h.repo.squash_commit("lane-a", "lane-c", "x"); }, Exit::check_failed,
                 "MERGE_CONFLICT");
    EXPECT_EQ(all_refs(h.dir), before);
}

TEST(Repository, MoveBranchIsACompareAndSwap) {
    History h;
    h.repo.move_branch("lane-b", h.a2, h.b1, "kitty: test");
    EXPECT_EQ(h.repo.resolve_commit("lane-b"), h.a2);
    // lane-b is no longer at b1: refused, left where it is.
    expect_error([&] { h.repo.move_branch("lane-b", h.first, h.b1, "kitty: test"); },
                 Exit::conflict, "BRANCH_MOVED");
    EXPECT_EQ(h.repo.resolve_commit("lane-b"), h.a2);
}

TEST(Repository, CheckOutMoveBringsACleanCheckoutToTheMovedBranch) {
    History h;
    const std::string squashed = h.repo.squash_commit("main", "lane-a", "squash");
    h.repo.move_branch("main", squashed, h.m1, "kitty: test");
    EXPECT_FALSE(fs::exists(h.dir / "a.txt"));
    EXPECT_FALSE(h.repo.changed_paths().empty()) << "the index is stale until checked out";
    h.repo.check_out_move(h.m1, squashed);
    EXPECT_EQ(kitty::test::slurp(h.dir / "a.txt"), "a2\n");
    EXPECT_EQ(h.repo.changed_paths(), Paths{}) << "index and files follow the branch";

    // A local change the move would overwrite is refused and kept.
    const std::string next = h.repo.squash_commit("main", "lane-b", "squash b");
    write_fixture(h.dir / "b.txt", "mine\n");
    h.repo.move_branch("main", next, squashed, "kitty: test");
    expect_error([&] { h.repo.check_out_move(squashed, next); }, Exit::conflict,
                 "CHECKOUT_CONFLICT");
    EXPECT_EQ(kitty::test::slurp(h.dir / "b.txt"), "mine\n");
}

// A checkout killed half way (some files already at the new commit) is finished by the same
// call: files already holding the new content are not taken for local changes.
TEST(Repository, CheckOutMoveFinishesAnInterruptedCheckout) {
    History h;
    const std::string squashed = h.repo.squash_commit("main", "lane-a", "squash");
    h.repo.move_branch("main", squashed, h.m1, "kitty: test");
    write_fixture(h.dir / "a.txt", "a2\n"); // written before the kill; the index is old
    h.repo.check_out_move(h.m1, squashed);
    EXPECT_EQ(kitty::test::slurp(h.dir / "a.txt"), "a2\n");
    EXPECT_EQ(h.repo.changed_paths(), Paths{});
}

// start_merge leaves what `git merge` leaves on a conflict; finish_merge commits the
// resolution with both parents and clears the merge state.
TEST(Repository, StartAndFinishAMergeInAWorktree) {
    History h;
    write_fixture(h.tmp / "lane-b" / "a.txt", "b's a\n");
    const std::string b2 = git_commit_all(h.tmp / "lane-b", "b2", 1767226100);
    Repository lane_b = Repository::open(h.tmp / "lane-b");
    EXPECT_FALSE(lane_b.merge_head().has_value());
    const Paths conflicts = lane_b.start_merge("lane-a", "Merge lane-a into lane-b");
    EXPECT_EQ(conflicts, Paths{"a.txt"});
    EXPECT_EQ(lane_b.conflicted_paths(), Paths{"a.txt"});
    EXPECT_EQ(lane_b.merge_head(), h.a2);
    const std::string marked = kitty::test::slurp(h.tmp / "lane-b" / "a.txt");
    EXPECT_NE(marked.find("<<<<<<<"), std::string::npos) << marked;
    EXPECT_NE(marked.find(">>>>>>>"), std::string::npos) << marked;
    EXPECT_EQ(lane_b.resolve_commit("lane-b"), b2) << "nothing is committed yet";

    write_fixture(h.tmp / "lane-b" / "a.txt", "both\n");
    const std::string merged = lane_b.finish_merge("Merge lane-a into lane-b");
    EXPECT_EQ(lane_b.resolve_commit("lane-b"), merged);
    EXPECT_TRUE(lane_b.is_ancestor(h.a2, merged));
    EXPECT_TRUE(lane_b.is_ancestor(b2, merged));
    EXPECT_FALSE(lane_b.merge_head().has_value());
    EXPECT_EQ(lane_b.conflicted_paths(), Paths{});
    EXPECT_EQ(lane_b.changed_paths(), Paths{});
    EXPECT_EQ(lane_b.files_changed(b2, merged), (Paths{"a.txt"}));
    expect_error([&] { lane_b.finish_merge("again"); }, Exit::input, "NO_MERGE_IN_PROGRESS");
}

namespace {

// main holds notes.log ("base") and a .gitattributes line giving *.log the merge driver
// `driver`; lane-a and lane-b each append a different line to notes.log and add both.log
// with different content.
struct DriverHistory : Fixture {
    Repository repo = Repository::open(dir);
    explicit DriverHistory(const std::string& driver) {
        set_identity(dir, "Ada Lovelace", "ada@example.invalid");
        write_fixture(dir / ".gitattributes", "*.log merge=" + driver + "\n");
        write_fixture(dir / "notes.log", "base\n");
        git_commit_all(dir, "notes", 1767225700);
        for (const std::string lane : {"a", "b"}) {
            repo.create_branch("lane-" + lane, "main");
            repo.add_worktree("lane-" + lane, tmp / ("lane-" + lane), "lane-" + lane);
            write_fixture(tmp / ("lane-" + lane) / "notes.log", "base\n" + lane + "\n");
            write_fixture(tmp / ("lane-" + lane) / "both.log", lane + " only\n");
            git_commit_all(tmp / ("lane-" + lane), lane, 1767225800);
        }
    }
};

struct DriverCall {
    std::string ancestor, ours, theirs;
};

} // namespace

TEST(MergeDriver, MergesTheFilesItsAttributeNamesInKittysMerges) {
    DriverHistory h("kitty-test-concat");
    // No driver of that name registered: libgit2's line merge conflicts.
    expect_error(
        [&] {
            h.repo.combine_commits({"lane-a", "lane-b"}, "m");
        },
        Exit::check_failed, "MERGE_CONFLICT");
    std::vector<DriverCall> calls;
    kitty::register_merge_driver(
        "kitty-test-concat",
        [&calls](const std::string& ancestor, const std::string& ours, const std::string& theirs) {
            calls.push_back({ancestor, ours, theirs});
            return std::optional<std::string>(ours + theirs);
        });
    const std::string merged = h.repo.combine_commits({"lane-a", "lane-b"}, "m");
    EXPECT_EQ(file_at(h.dir, merged, "notes.log"), "base\na\nbase\nb\n");
    // Added on both sides: no ancestor, an empty one for the driver.
    EXPECT_EQ(file_at(h.dir, merged, "both.log"), "a only\nb only\n");
    ASSERT_EQ(calls.size(), 2u);
    std::sort(calls.begin(), calls.end(),
              [](const DriverCall& x, const DriverCall& y) { return x.ancestor < y.ancestor; });
    EXPECT_EQ(calls[0].ancestor, "");
    EXPECT_EQ(calls[0].ours, "a only\n");
    EXPECT_EQ(calls[0].theirs, "b only\n");
    EXPECT_EQ(calls[1].ancestor, "base\n");
    EXPECT_EQ(calls[1].ours, "base\na\n");
    EXPECT_EQ(calls[1].theirs, "base\nb\n");
    // The squash merge goes through the driver too.
    const std::string squashed = h.repo.squash_commit("lane-b", "lane-a", "s");
    EXPECT_EQ(file_at(h.dir, squashed, "notes.log"), "base\nb\nbase\na\n");
}

TEST(MergeDriver, NulloptOrAnExceptionLeavesTheFileConflicted) {
    DriverHistory h("kitty-test-refuse");
    bool refuse_quietly = true;
    kitty::register_merge_driver("kitty-test-refuse",
                                 [&](const std::string&, const std::string&,
                                     const std::string&) -> std::optional<std::string> {
                                     if (refuse_quietly) {
                                         return std::nullopt;
                                     }
                                     throw kitty::Error(Exit::check_failed, "NOPE",
                                                        "the driver says no");
                                 });
    expect_error(
        [&] {
            h.repo.combine_commits({"lane-a", "lane-b"}, "m");
        },
        Exit::check_failed, "MERGE_CONFLICT");
    refuse_quietly = false;
    try {
        h.repo.combine_commits({"lane-a", "lane-b"}, "m");
        ADD_FAILURE() << "merged";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "MERGE_CONFLICT");
        ASSERT_NE(e.details(), nullptr);
        EXPECT_EQ(e.details()->dump(), R"({"conflicting_paths":["both.log","notes.log"]})");
        EXPECT_EQ(e.notes(),
                  (Paths{"both.log: the driver says no", "notes.log: the driver says no"}));
    }
    // Registering again replaces the function; the later merge uses the new one.
    kitty::register_merge_driver(
        "kitty-test-refuse", [](const std::string&, const std::string& ours, const std::string&) {
            return std::optional<std::string>(ours);
        });
    const std::string merged = h.repo.combine_commits({"lane-a", "lane-b"}, "m");
    EXPECT_EQ(file_at(h.dir, merged, "notes.log"), "base\na\n");
}

// libgit2 reads the attributes from the checkout of the repository the merge runs in: its
// work tree's .gitattributes, then its index's (a rule in either applies, the work tree's
// first), never the commits it merges. (A handle reads its index once: each step opens the
// repository again to see the index stage() wrote.)
TEST(MergeDriver, TheAttributeComesFromTheCheckoutNotTheCommits) {
    DriverHistory h("kitty-test-checkout");
    kitty::register_merge_driver(
        "kitty-test-checkout",
        [](const std::string&, const std::string& ours, const std::string& theirs) {
            return std::optional(ours + theirs);
        });
    const auto combine = [&h](const fs::path& checkout) {
        return Repository::open(checkout).combine_commits({"lane-a", "lane-b"}, "m");
    };
    // Both commits have the line; the work tree has not, the index still has.
    write_fixture(h.dir / ".gitattributes", "# nothing\n");
    EXPECT_EQ(file_at(h.dir, combine(h.dir), "notes.log"), "base\na\nbase\nb\n");
    // Neither has: libgit2's line merge.
    stage(h.dir, ".gitattributes");
    expect_error([&] { combine(h.dir); }, Exit::check_failed, "MERGE_CONFLICT");
    // Only the work tree has (written, not staged): the driver again.
    write_fixture(h.dir / ".gitattributes", "*.log merge=kitty-test-checkout\n");
    EXPECT_EQ(file_at(h.dir, combine(h.dir), "notes.log"), "base\na\nbase\nb\n");
    // The same merge from lane-a's worktree uses that checkout's attributes.
    write_fixture(h.tmp / "lane-a" / ".gitattributes", "# nothing\n");
    stage(h.tmp / "lane-a", ".gitattributes");
    expect_error([&] { combine(h.tmp / "lane-a"); }, Exit::check_failed, "MERGE_CONFLICT");
}

TEST(Repository, LocalConfigIsTheCommonConfigFile) {
    Fixture f;
    Repository repo = Repository::open(f.dir);
    EXPECT_EQ(repo.local_config_path(), fs::canonical(f.dir) / ".git" / "config");
    EXPECT_FALSE(repo.local_config("merge.x.driver").has_value());
    repo.set_local_config("merge.x.driver", "run %O %A %B");
    EXPECT_EQ(repo.local_config("merge.x.driver"), "run %O %A %B");
    EXPECT_NE(kitty::test::slurp(f.dir / ".git" / "config").find("[merge \"x\"]"),
              std::string::npos);
    // A linked worktree shares it.
    repo.create_branch("lane", "main");
    repo.add_worktree("lane", f.tmp / "lane", "lane");
    Repository lane = Repository::open(f.tmp / "lane");
    EXPECT_EQ(lane.local_config_path(), repo.local_config_path());
    EXPECT_EQ(lane.local_config("merge.x.driver"), "run %O %A %B");
    lane.set_local_config("merge.x.name", "X");
    EXPECT_EQ(repo.local_config("merge.x.name"), "X");
}

// A scan whose index holds HEAD's tree skips comparing them (read from git's cached tree, or
// hashed in memory when the cache is incomplete): it still lists every change in the work
// tree, a staged change is still seen, and no object is written to the repository.
TEST(Repository, ChangedPathsWhenTheIndexIsHeadAndWhenItIsNot) {
    Fixture f;
    write_fixture(f.dir / "src" / "a.txt", "a\n");
    write_fixture(f.dir / "src" / "deep" / "b.txt", "b\n");
    write_fixture(f.dir / "docs" / "c.txt", "c\n");
    git_commit_all(f.dir, "base", 1767225700);
    // git's own read-tree leaves a complete cached tree in the index.
    const auto r =
        kitty::test::run_process({"/usr/bin/git", "-C", f.dir.string(), "read-tree", "HEAD"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Repository repo = Repository::open(f.dir);
    EXPECT_EQ(repo.changed_paths(), Paths{});
    write_fixture(f.dir / "src" / "a.txt", "changed\n");
    fs::remove(f.dir / "docs" / "c.txt");
    write_fixture(f.dir / "new.txt", "untracked\n");
    EXPECT_EQ(repo.changed_paths(), (Paths{"docs/c.txt", "new.txt", "src/a.txt"}));

    EXPECT_TRUE(repo.index_is_head());

    // Staging the same content again leaves the cached tree incomplete: it is hashed in
    // memory, of the blobs the repository has, and nothing reaches the object database.
    write_fixture(f.dir / "src" / "deep" / "b.txt", "b\n");
    stage(f.dir, "src/deep/b.txt");
    const auto objects = git_dir_files(f.dir / ".git" / "objects");
    EXPECT_TRUE(repo.index_is_head());
    EXPECT_EQ(repo.changed_paths(), (Paths{"docs/c.txt", "new.txt", "src/a.txt"}));
    EXPECT_EQ(git_dir_files(f.dir / ".git" / "objects"), objects);

    // A staged change differs from HEAD, whatever the work tree holds.
    write_fixture(f.dir / "src" / "deep" / "b.txt", "staged\n");
    stage(f.dir, "src/deep/b.txt");
    write_fixture(f.dir / "src" / "deep" / "b.txt", "b\n");
    EXPECT_FALSE(repo.index_is_head());
    EXPECT_EQ(repo.changed_paths(),
              (Paths{"docs/c.txt", "new.txt", "src/a.txt", "src/deep/b.txt"}));
}
