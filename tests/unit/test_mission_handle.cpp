// The Mission handle: root policy, selectors, identity, worktree rule, and the one guard
// that keeps writes inside the project (findings D05, D06, D07, D15).
#include <gtest/gtest.h>

#include "expect_error.hpp"
#include "kitty/error.hpp"
#include "kitty/mission.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Exit;
using kitty::Mission;
using kitty::test::expect_error;
using kitty::test::make_git_repo;
using kitty::test::make_project;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

void make_mission(const fs::path& dir, const std::string& meta = "{}") {
    write_fixture(dir / "meta.json", meta);
    write_fixture(dir / "tasks" / "WP01-x.md", "---\nwork_package_id: WP01\n---\n");
}

std::size_t entries(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(dir)) {
        ++n;
    }
    return n;
}

} // namespace

TEST(MissionHandle, SelectorGivesPathsIdentityAndRoot) {
    TempDir tmp;
    const fs::path root = fs::canonical(tmp.path()) / "p";
    make_project(root);
    make_mission(root / "kitty-specs" / "001-demo",
                 R"({"mission_slug": "001-demo", "mission_id": "01KNRK4RNP4PV7HV6JC0P509F9"})");
    const Mission m = Mission::open("demo", root);
    EXPECT_EQ(m.dir(), root / "kitty-specs" / "001-demo");
    EXPECT_EQ(m.slug(), "001-demo");
    EXPECT_EQ(m.project_root(), root);
    EXPECT_EQ(m.identity().mission_id, "01KNRK4RNP4PV7HV6JC0P509F9");
    EXPECT_EQ(m.events_log(), m.dir() / "status.events.jsonl");
    EXPECT_EQ(m.worktree_path("lane-a"), root / ".worktrees" / "001-demo-lane-a");
    EXPECT_EQ(Mission::open((root / "kitty-specs/001-demo").string(), "/").dir(), m.dir());
}

TEST(MissionHandle, DotDotIsASelectorNotAPath) {
    TempDir tmp;
    const fs::path root = tmp / "parent" / "p";
    make_project(root);
    make_mission(tmp / "parent"); // a mission-shaped directory above the project
    make_mission(root / "kitty-specs" / "001-demo");
    expect_error([&] { Mission::open("..", root); }, Exit::input, "MISSION_NOT_FOUND");
    expect_error([&] { Mission::open(".", root); }, Exit::input, "MISSION_NOT_FOUND");
}

TEST(MissionHandle, ASelectorNeverLeadsOutOfTheProject) {
    TempDir tmp;
    const fs::path root = tmp / "p";
    make_project(root);
    make_mission(tmp / "outside" / "mission");
    fs::create_directories(root / "kitty-specs");
    fs::create_directory_symlink(tmp / "outside" / "mission", root / "kitty-specs" / "002-evil");
    expect_error([&] { Mission::open("evil", root); }, Exit::input, "OUTSIDE_PROJECT");

    TempDir tmp2;
    make_project(tmp2 / "q");
    make_mission(tmp2 / "elsewhere" / "003-far");
    fs::create_directory_symlink(tmp2 / "elsewhere", tmp2 / "q" / "kitty-specs");
    expect_error([&] { Mission::open("far", tmp2 / "q"); }, Exit::input, "OUTSIDE_PROJECT");
}

TEST(MissionHandle, WritesNeverFollowLinksOut) {
    TempDir tmp;
    const fs::path root = tmp / "p";
    make_project(root);
    const fs::path dir = root / "kitty-specs" / "001-demo";
    make_mission(dir);
    write_fixture(tmp / "outside" / "victim.jsonl", "");
    fs::create_symlink(tmp / "outside" / "victim.jsonl", dir / "status.events.jsonl");
    const Mission m = Mission::open("001-demo", root);
    expect_error([&] { m.writable(m.events_log()); }, Exit::input, "OUTSIDE_PROJECT");
    EXPECT_EQ(m.writable(m.lanes_json()), m.lanes_json());

    fs::remove_all(dir / "tasks");
    fs::create_directories(tmp / "outside" / "tasks");
    fs::create_directory_symlink(tmp / "outside" / "tasks", dir / "tasks");
    expect_error([&] { m.writable(m.tasks_dir() / "WP01-x.md"); }, Exit::input, "OUTSIDE_PROJECT");
}

// The guard walks each component below the project root, however the root is named: through
// a link, relatively, or with ".." that climbs out; a link made after an earlier check is seen.
TEST(MissionHandle, WritesCheckEveryComponentBelowTheRoot) {
    TempDir tmp;
    const fs::path real = tmp / "real";
    make_project(real);
    fs::create_directories(real / "kitty-specs" / "inner");
    fs::create_directories(tmp / "outside");
    fs::create_directory_symlink(real, tmp / "via-link");
    for (const fs::path& root : {tmp / "via-link", real}) {
        SCOPED_TRACE(root);
        EXPECT_EQ(kitty::writable_in_project(root, root / "a" / "b" / "new.txt"),
                  root / "a" / "b" / "new.txt")
            << "parents that do not exist yet";
        expect_error([&] { kitty::writable_in_project(root, root / ".." / "outside" / "x"); },
                     Exit::input, "OUTSIDE_PROJECT");
        expect_error(
            [&] { kitty::writable_in_project(root, root / "kitty-specs" / ".." / ".." / "x"); },
            Exit::input, "OUTSIDE_PROJECT");
    }
    // A link inside the project to a directory inside it is a path inside it.
    fs::create_directory_symlink(real / "kitty-specs" / "inner", real / "alias");
    EXPECT_NO_THROW(kitty::writable_in_project(real, real / "alias" / "f.txt"));
    const fs::path deep = real / "kitty-specs" / "inner" / "d";
    fs::create_directories(deep);
    EXPECT_NO_THROW(kitty::writable_in_project(real, deep / "f.txt"));
    fs::remove_all(deep);
    fs::create_directory_symlink(tmp / "outside", deep);
    expect_error([&] { kitty::writable_in_project(real, deep / "f.txt"); }, Exit::input,
                 "OUTSIDE_PROJECT");
    expect_error([&] { kitty::writable_in_project(real, deep / "new" / "f.txt"); }, Exit::input,
                 "OUTSIDE_PROJECT");
    // A relative root, from the directory above it.
    const fs::path cwd = fs::current_path();
    fs::current_path(tmp.path());
    EXPECT_NO_THROW(kitty::writable_in_project("real", "real/kitty-specs/f.txt"));
    expect_error([&] { kitty::writable_in_project("real", "real/kitty-specs/inner/d/f.txt"); },
                 Exit::input, "OUTSIDE_PROJECT");
    fs::current_path(cwd);
}

TEST(MissionHandle, AStrayMissionIsReadableButNeverMadeAProject) {
    TempDir tmp;
    const fs::path dir = tmp / "home" / "user" / "m";
    make_mission(dir, R"({"mission_slug": "m"})");
    const std::size_t before = entries(tmp.path());
    const Mission m = Mission::open(dir.string(), tmp.path());
    EXPECT_FALSE(m.root().has_value());
    EXPECT_EQ(m.identity().mission_slug, "m");
    expect_error([&] { m.lock_dir(); }, Exit::input, "NO_PROJECT");
    expect_error([&] { m.writable(m.lanes_json()); }, Exit::input, "NO_PROJECT");
    expect_error([&] { m.worktree_path("lane-a"); }, Exit::input, "NO_PROJECT");
    EXPECT_FALSE(fs::exists(tmp / "home" / ".kittify"));
    EXPECT_EQ(entries(tmp.path()), before);
}

TEST(MissionHandle, UnsafeNamesAreRefused) {
    TempDir tmp;
    make_project(tmp / "p");
    make_mission(tmp / "p" / "kitty-specs" / "001-demo");
    const Mission m = Mission::open("001-demo", tmp / "p");
    for (const std::string lane : {"../../etc", "", "..", "a/b"}) {
        expect_error([&] { m.worktree_path(lane); }, Exit::input, "UNSAFE_NAME");
    }
    EXPECT_EQ(kitty::checked_path_component("lane-planning", "lane"), "lane-planning");
}

TEST(MissionHandle, LockDirIsSharedWithSpecKittyAndStaysInside) {
    TempDir tmp;
    const fs::path root = fs::canonical(tmp.path()) / "p";
    make_project(root);
    make_mission(root / "kitty-specs" / "001-demo");
    const Mission plain = Mission::open("001-demo", root);
    EXPECT_EQ(plain.repository(), nullptr);
    EXPECT_EQ(plain.lock_dir(), root / ".kittify" / "locks");

    fs::create_directories(tmp / "elsewhere");
    fs::create_directory_symlink(tmp / "elsewhere", root / ".kittify" / "locks");
    expect_error([&] { plain.lock_dir(); }, Exit::input, "OUTSIDE_PROJECT");

    make_git_repo(root);
    const Mission in_git = Mission::open("001-demo", root);
    ASSERT_NE(in_git.repository(), nullptr);
    EXPECT_EQ(in_git.lock_dir(), root / ".git" / "spec-kitty-locks");
}
