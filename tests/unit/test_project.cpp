#include <cstdlib>

#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::test::make_project;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

void add_mission(const fs::path& root, const std::string& dir, const std::string& meta) {
    write_fixture(root / "kitty-specs" / dir / "meta.json", meta);
}

kitty::Exit resolve_error(const fs::path& root, const std::string& selector, std::string* what) {
    try {
        kitty::resolve_mission(root, selector);
    } catch (const kitty::Error& e) {
        *what = e.what();
        return e.exit();
    }
    return kitty::Exit::ok;
}

} // namespace

TEST(ProjectRoot, WalksUpToKittify) {
    TempDir dir;
    make_project(dir.path());
    fs::create_directories(dir / "a/b/c");
    EXPECT_EQ(kitty::locate_project_root(dir / "a/b/c"), dir.path());
    EXPECT_EQ(kitty::locate_project_root(dir.path()), dir.path());
}

TEST(ProjectRoot, NoProjectIsExit3) {
    TempDir dir;
    EXPECT_FALSE(kitty::locate_project_root(dir.path()));
    try {
        kitty::find_project_root(dir.path());
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        EXPECT_EQ(e.code(), "NO_PROJECT");
    }
}

TEST(ProjectRoot, SpecifyRepoRootWins) {
    TempDir a, b;
    make_project(a.path());
    make_project(b.path());
    ::setenv("SPECIFY_REPO_ROOT", b.path().c_str(), 1);
    EXPECT_EQ(kitty::locate_project_root(a.path()), b.path());
    ::setenv("SPECIFY_REPO_ROOT", (b / "nope").c_str(), 1);
    EXPECT_EQ(kitty::locate_project_root(a.path()), a.path());
    ::unsetenv("SPECIFY_REPO_ROOT");
}

TEST(ProjectRoot, LinkedWorktreeResolvesToMainCheckout) {
    TempDir dir;
    make_project(dir.path());
    fs::create_directories(dir / ".git/worktrees/lane-a");
    write_fixture(dir / ".worktrees/lane-a/.git",
                  "gitdir: " + (dir / ".git/worktrees/lane-a").string() + "\n");
    fs::create_directories(dir / ".worktrees/lane-a/.kittify");
    EXPECT_EQ(kitty::locate_project_root(dir / ".worktrees/lane-a"), dir.path());
    EXPECT_TRUE(kitty::is_worktree_context(dir / ".worktrees/lane-a"));
    EXPECT_FALSE(kitty::is_worktree_context(dir.path()));
}

TEST(MissionSelector, AllSelectorKinds) {
    TempDir dir;
    make_project(dir.path());
    add_mission(dir.path(), "001-user-auth",
                R"({"mission_id": "01KNRK4RNP4PV7HV6JC0P509F9", "mission_slug": "001-user-auth"})");
    add_mission(dir.path(), "002-search", R"({"mission_id": "01KZZD6916PW6XD20W3CMQS3WW"})");
    add_mission(dir.path(), "060-legacy", R"({"slug": "canonical-legacy"})");
    const auto dir_of = [&](const std::string& sel) {
        return kitty::resolve_mission(dir.path(), sel).dir_name;
    };
    EXPECT_EQ(dir_of("001-user-auth"), "001-user-auth");
    EXPECT_EQ(dir_of("user-auth"), "001-user-auth");
    EXPECT_EQ(dir_of("search"), "002-search");
    EXPECT_EQ(dir_of("canonical-legacy"), "060-legacy");
    EXPECT_EQ(dir_of("01KZZD6916PW6XD20W3CMQS3WW"), "002-search");
    EXPECT_EQ(dir_of("01KZZD69"), "002-search");
    EXPECT_EQ(dir_of("01kzzd69"), "002-search");
    EXPECT_EQ(kitty::resolve_mission(dir.path(), "01KZZD69").mission_id,
              "01KZZD6916PW6XD20W3CMQS3WW");
    std::string what;
    EXPECT_EQ(resolve_error(dir.path(), "01KZZD6", &what), kitty::Exit::input) << "7-char prefix";
    EXPECT_EQ(resolve_error(dir.path(), "nothing", &what), kitty::Exit::input);
    EXPECT_NE(what.find("no mission matches 'nothing'"), std::string::npos);
}

TEST(MissionSelector, AmbiguityIsExit4ListingCandidates) {
    TempDir dir;
    make_project(dir.path());
    add_mission(dir.path(), "001-user-auth", R"({"mission_id": "01KNRK4RNP4PV7HV6JC0P509F9"})");
    add_mission(dir.path(), "002-user-auth", R"({"mission_id": "01KNRK4RNP4PV7HV6JC0P509FA"})");
    std::string what;
    EXPECT_EQ(resolve_error(dir.path(), "user-auth", &what), kitty::Exit::conflict);
    EXPECT_NE(what.find("001-user-auth (01KNRK4RNP4PV7HV6JC0P509F9)"), std::string::npos) << what;
    EXPECT_NE(what.find("002-user-auth (01KNRK4RNP4PV7HV6JC0P509FA)"), std::string::npos) << what;
    EXPECT_EQ(resolve_error(dir.path(), "01KNRK4RNP", &what), kitty::Exit::conflict);
    EXPECT_EQ(kitty::resolve_mission(dir.path(), "002-user-auth").dir_name, "002-user-auth");
}

TEST(MissionSelector, SelectorsNeverEscapeKittySpecs) {
    TempDir dir;
    make_project(dir.path());
    fs::create_directories(dir / "outside");
    std::string what;
    EXPECT_EQ(resolve_error(dir.path(), "../outside", &what), kitty::Exit::input);
    EXPECT_EQ(resolve_error(dir.path(), "..", &what), kitty::Exit::input);
}
