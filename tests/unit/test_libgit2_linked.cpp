// The libgit2 the agent loop's tools link in (meson.build): its network parts are stand-ins
// (tools/libgit2_network_stubs.cpp). Linked the same way, this program checks that libgit2
// starts, works on a local repository, and that a remote over HTTPS or SSH fails with an
// error instead of connecting (or crashing).
#include <git2.h>

#include <gtest/gtest.h>

#include <string>

#include "process.hpp"

namespace {

struct Libgit2 {
    Libgit2() { EXPECT_GE(git_libgit2_init(), 1); }
    ~Libgit2() { git_libgit2_shutdown(); }
};

std::string connect_error(git_repository* repo, const char* url) {
    git_remote* remote = nullptr;
    EXPECT_EQ(git_remote_create_anonymous(&remote, repo, url), 0);
    const int rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, nullptr, nullptr, nullptr);
    std::string message = git_error_last() != nullptr ? git_error_last()->message : "";
    git_remote_free(remote);
    EXPECT_LT(rc, 0) << url;
    return message;
}

} // namespace

TEST(LinkedLibgit2, LocalWorkRunsAndRemotesFail) {
    const Libgit2 library;
    kitty::test::TempDir tmp;
    kitty::test::make_git_repo(tmp / "r");
    kitty::test::write_fixture(tmp / "r" / "a.txt", "a\n");
    const std::string commit = kitty::test::git_commit_all(tmp / "r", "first", 1767225600);
    git_repository* repo = nullptr;
    ASSERT_EQ(git_repository_open(&repo, (tmp / "r").c_str()), 0);
    git_oid head;
    ASSERT_EQ(git_reference_name_to_id(&head, repo, "HEAD"), 0);
    EXPECT_EQ(std::string(git_oid_tostr_s(&head)), commit);

    EXPECT_NE(connect_error(repo, "https://127.0.0.1:9/x.git").find("TLS is not available"),
              std::string::npos);
    EXPECT_FALSE(connect_error(repo, "ssh://git@127.0.0.1:9/x.git").empty());
    git_repository_free(repo);
}
