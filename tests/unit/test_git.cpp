// kitty::Repository on real repositories made with libgit2 in temp dirs.
#include <git2.h>

#include <set>

#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "expect_error.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Exit;
using kitty::test::expect_error;
using kitty::Repository;
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

TEST(Repository, CommitsTheNamedPathsWithTheConfiguredIdentity) {
    Fixture f;
    set_identity(f.dir, "Ada Lovelace", "ada@example.invalid");
    write_fixture(f.dir / "kitty-specs" / "m" / "tasks" / "WP01.md", "wp\n");
    write_fixture(f.dir / "untouched.txt", "not staged\n");
    fs::remove(f.dir / "README.md");
    Repository repo = Repository::open(f.dir);
    const std::string id = repo.commit_paths(
        {fs::path("kitty-specs/m/tasks/WP01.md"), fs::path("README.md")}, "chore: claim WP01");
    EXPECT_EQ(repo.resolve_commit("HEAD"), id);
    const HeadFacts facts = head_facts(f.dir);
    EXPECT_EQ(facts.author, "Ada Lovelace");
    EXPECT_EQ(facts.message, "chore: claim WP01");
    EXPECT_TRUE(facts.has("kitty-specs/m/tasks/WP01.md"));
    EXPECT_FALSE(facts.has("README.md"));
    EXPECT_FALSE(facts.has("untouched.txt"));
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
    const std::string id = lane.commit_paths({fs::path("src/a.cpp")}, "WP01 work");
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
        repo.commit_paths({fs::path("new.txt")}, "msg");
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
