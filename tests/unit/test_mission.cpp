#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_create.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/ulid.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::make_project;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

kitty::CreatedMission create(const fs::path& root, const std::string& slug,
                             std::optional<std::string> target = std::nullopt) {
    kitty::CreateRequest req;
    req.slug = slug;
    req.start_dir = root;
    req.target_branch = std::move(target);
    return kitty::create_mission(req);
}

} // namespace

TEST(MetaFormat, MatchesTheReferenceBytes) {
    // spec/identity-status.md Appendix B.1: the meta.json 3.1.1 writes.
    const Json meta = {
        {"target_branch", "main"},        {"slug", "003-user-auth"},
        {"mission_type", "software-dev"}, {"mission_slug", "003-user-auth"},
        {"mission_number", "003"},        {"mission_id", "01KNRQK0R1ZDS8Z57M1TRXF0XR"},
        {"friendly_name", "user auth"},   {"created_at", "2026-04-09T11:45:41.123456+00:00"}};
    EXPECT_EQ(kitty::serialize_meta(meta),
              "{\n"
              "  \"created_at\": \"2026-04-09T11:45:41.123456+00:00\",\n"
              "  \"friendly_name\": \"user auth\",\n"
              "  \"mission_id\": \"01KNRQK0R1ZDS8Z57M1TRXF0XR\",\n"
              "  \"mission_number\": \"003\",\n"
              "  \"mission_slug\": \"003-user-auth\",\n"
              "  \"mission_type\": \"software-dev\",\n"
              "  \"slug\": \"003-user-auth\",\n"
              "  \"target_branch\": \"main\"\n"
              "}\n");
}

TEST(MetaFormat, WriteRefusesMissingRequiredFields) {
    TempDir dir;
    try {
        kitty::write_meta(dir.path(), {{"slug", "x"}, {"mission_number", ""}});
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        EXPECT_NE(std::string(e.what()).find("created_at; friendly_name; mission_number; "
                                             "mission_slug; mission_type; target_branch"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "meta.json"));
}

TEST(MetaIdentity, LegacyVariants) {
    TempDir dir;
    // 060's shape: bare slug, feature_* keys, mission instead of mission_type.
    write_fixture(dir / "060-x/meta.json",
                  R"({"feature_number": "060", "slug": "canonical-status-model-cleanup",
                      "mission": "software-dev", "mission_id": "01KN2371WW548PPDMY6HMSB7W2"})");
    auto id = kitty::resolve_identity(dir / "060-x");
    EXPECT_EQ(id.mission_slug, "canonical-status-model-cleanup");
    EXPECT_EQ(id.mission_number, "");
    EXPECT_EQ(id.mission_type, "software-dev");
    EXPECT_EQ(id.mission_id, "01KN2371WW548PPDMY6HMSB7W2");

    write_fixture(
        dir / "079-y/meta.json",
        R"({"mission_number": 79, "mission_slug": "079-post", "mission_type": " research "})");
    id = kitty::resolve_identity(dir / "079-y");
    EXPECT_EQ(id.mission_number, "79");
    EXPECT_EQ(id.mission_type, "research");
    EXPECT_FALSE(id.mission_id);

    write_fixture(dir / "z/meta.json", R"({"mission_number": null, "mission_slug": "042-z"})");
    EXPECT_EQ(kitty::resolve_identity(dir / "z").mission_number, "042");

    fs::create_directories(dir / "no-meta");
    EXPECT_EQ(kitty::resolve_identity(dir / "no-meta").mission_slug, "no-meta");

    write_fixture(dir / "bad/meta.json", "[1, 2]");
    EXPECT_THROW(kitty::resolve_identity(dir / "bad"), kitty::Error);
}

TEST(Slug, ValidationFollowsTheReferenceRegexWithALengthCap) {
    for (const std::string& ok : std::vector<std::string>{
             "user-auth", "fix-bug-123", "123", "1", "068-feature-name", std::string(64, 'a')}) {
        EXPECT_NO_THROW(kitty::validate_slug(ok)) << ok;
    }
    for (const std::string& bad :
         std::vector<std::string>{"", "User-Auth", "user_auth", "-x", "x-", "a--b", "user-auth\n",
                                  "../evil", "a/b", "caf\xc3\xa9", std::string(65, 'a')}) {
        try {
            kitty::validate_slug(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.exit(), kitty::Exit::usage);
            EXPECT_EQ(e.code(), "INVALID_SLUG");
        }
    }
}

TEST(MissionNumber, ScansKittySpecsAndWorktrees) {
    TempDir dir;
    make_project(dir.path());
    EXPECT_EQ(kitty::next_mission_number(dir.path()), 1);
    fs::create_directories(dir / "kitty-specs/007-a");
    fs::create_directories(dir / ".worktrees/012-b-lane-a");
    write_fixture(dir / "kitty-specs/500-not-a-dir", "");
    fs::create_directories(dir / "kitty-specs/12-too-short");
    fs::create_directories(dir / "kitty-specs/no-number");
    EXPECT_EQ(kitty::next_mission_number(dir.path()), 13);
    // Past 999 the whole number counts (3.1.1 re-reads "100" and reuses 1000).
    fs::create_directories(dir / "kitty-specs/999-x");
    fs::create_directories(dir / "kitty-specs/1000-y");
    EXPECT_EQ(kitty::next_mission_number(dir.path()), 1001);
}

TEST(CreateMission, WritesTheMissionLayout) {
    TempDir dir;
    make_project(dir.path());
    ::setenv("SOURCE_DATE_EPOCH", "1775735141", 1);
    const auto created = create(dir.path(), "user-auth", "main");
    ::unsetenv("SOURCE_DATE_EPOCH");
    const fs::path m = dir / "kitty-specs/001-user-auth";
    EXPECT_EQ(created.mission_dir, m);
    for (const char* p :
         {"spec.md", "meta.json", "tasks/README.md", "tasks/.gitkeep", "status.events.jsonl"}) {
        EXPECT_TRUE(fs::is_regular_file(m / p)) << p;
    }
    for (const char* p : {"checklists", "research", "tasks"}) {
        EXPECT_TRUE(fs::is_directory(m / p)) << p;
    }
    EXPECT_EQ(slurp(m / "status.events.jsonl"), "");
    const std::string readme = slurp(m / "tasks/README.md");
    EXPECT_TRUE(readme.starts_with("# Tasks Directory\n"));
    EXPECT_EQ(readme.find("{planning_branch}"), std::string::npos);
    EXPECT_NE(readme.find("`main`"), std::string::npos);

    const std::string bytes = slurp(m / "meta.json");
    const Json meta = Json::parse(bytes);
    EXPECT_EQ(bytes, kitty::serialize_meta(meta)) << "not in the 3.1.1 byte format";
    std::vector<std::string> keys;
    for (auto it = meta.begin(); it != meta.end(); ++it) {
        keys.push_back(it.key());
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"created_at", "friendly_name", "mission_id",
                                              "mission_number", "mission_slug", "mission_type",
                                              "slug", "target_branch"}));
    EXPECT_EQ(meta["created_at"], "2026-04-09T11:45:41+00:00");
    EXPECT_EQ(meta["friendly_name"], "user auth");
    EXPECT_EQ(meta["mission_number"], "001");
    EXPECT_EQ(meta["slug"], "001-user-auth");
    EXPECT_TRUE(kitty::looks_like_ulid(meta["mission_id"].get<std::string>()));

    const Json out = created.to_json();
    EXPECT_EQ(out.begin().key(), "result");
    EXPECT_EQ(out.back(), "3.1.1");
    EXPECT_EQ(out["mission_id"], meta["mission_id"]);
    EXPECT_EQ(out["NOW_UTC_ISO"], "2026-04-09T11:45:41Z");
    EXPECT_EQ(out["created_files"].size(), 3u);
}

TEST(CreateMission, DuplicateSlugTakesTheNextNumber) {
    TempDir dir;
    make_project(dir.path());
    const auto a = create(dir.path(), "user-auth");
    const auto b = create(dir.path(), "user-auth");
    EXPECT_EQ(a.mission_dir.filename(), "001-user-auth");
    EXPECT_EQ(b.mission_dir.filename(), "002-user-auth");
    EXPECT_NE(a.meta["mission_id"], b.meta["mission_id"]);
}

TEST(CreateMission, TargetBranchDefaultsToTheCheckedOutBranch) {
    TempDir dir;
    make_project(dir.path());
    EXPECT_EQ(create(dir.path(), "a").meta["target_branch"], "main") << "no repository";
    kitty::test::make_git_repo(dir.path(), "develop");
    const auto created = create(dir.path(), "b");
    EXPECT_EQ(created.meta["target_branch"], "develop");
    EXPECT_EQ(created.to_json()["branch_matches_target"], true);
    const auto other = create(dir.path(), "c", "release");
    EXPECT_EQ(other.to_json()["current_branch"], "develop");
    EXPECT_EQ(other.to_json()["branch_matches_target"], false);
    // In a repository the creation lock lives with spec-kitty's locks.
    EXPECT_TRUE(fs::exists(dir / ".git/spec-kitty-locks/mission-create.lock"));
}

TEST(CreateMission, UsesTheProjectSpecTemplate) {
    TempDir dir;
    make_project(dir.path());
    write_fixture(dir / ".kittify/templates/spec-template.md", "# Our template\n");
    ::chmod((dir / ".kittify/templates/spec-template.md").c_str(), 0640);
    const auto created = create(dir.path(), "x");
    EXPECT_EQ(slurp(created.mission_dir / "spec.md"), "# Our template\n");
    struct stat st {};
    ::stat((created.mission_dir / "spec.md").c_str(), &st);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(CreateMission, DocumentationTypeGetsItsState) {
    TempDir dir;
    make_project(dir.path());
    kitty::CreateRequest req{"guide", "documentation", "The Guide", "main", dir.path()};
    const auto created = kitty::create_mission(req);
    const std::string bytes = slurp(created.mission_dir / "meta.json");
    EXPECT_NE(bytes.find("  \"documentation_state\": {\n"
                         "    \"coverage_percentage\": 0.0,\n"
                         "    \"divio_types_selected\": [],\n"
                         "    \"generators_configured\": [],\n"
                         "    \"iteration_mode\": \"initial\",\n"
                         "    \"last_audit_date\": null,\n"
                         "    \"target_audience\": \"developers\"\n"
                         "  },\n"),
              std::string::npos)
        << bytes;
    EXPECT_NE(bytes.find("\"friendly_name\": \"The Guide\""), std::string::npos);
}

TEST(CreateMission, RefusesOutsideAProjectAndInsideAWorktree) {
    TempDir dir;
    try {
        create(dir.path(), "x");
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
    }
    make_project(dir.path());
    fs::create_directories(dir / ".worktrees/001-x-lane-a");
    try {
        create(dir / ".worktrees/001-x-lane-a", "x");
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "IN_WORKTREE");
    }
    EXPECT_FALSE(fs::exists(dir / "kitty-specs"));
}

TEST(CreateMission, AFailedCreationLeavesNoDirectory) {
    TempDir dir;
    make_project(dir.path());
    fs::create_directories(dir / "kitty-specs");
    // In a child process, a 100-byte file size limit makes the tasks/README.md write fail
    // after the mission directory and its first files exist.
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{100, 100};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        try {
            create(dir.path(), "x");
        } catch (const kitty::Error& e) {
            ::_exit(static_cast<int>(e.exit()));
        }
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), static_cast<int>(kitty::Exit::input));
    EXPECT_TRUE(fs::is_empty(dir / "kitty-specs"));
}

// Stamps a mission of a project rooted at the mission's parent.
static kitty::StampResult stamp(const fs::path& mission_dir) {
    make_project(mission_dir.parent_path());
    return kitty::stamp_mission(kitty::Mission::at_directory(mission_dir));
}

TEST(StampMission, AMissionOutsideAnyProjectIsNotWritten) {
    TempDir dir;
    write_fixture(dir / "home/user/m/meta.json", "{\"slug\": \"m\"}");
    try {
        kitty::stamp_mission(kitty::Mission::at_directory(dir / "home/user/m"));
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "NO_PROJECT");
        EXPECT_EQ(e.exit(), kitty::Exit::input);
    }
    EXPECT_EQ(slurp(dir / "home/user/m/meta.json"), "{\"slug\": \"m\"}");
    EXPECT_FALSE(fs::exists(dir / "home/.kittify"));
    EXPECT_FALSE(fs::exists(dir / "home/user/.kittify"));
}

TEST(StampMission, CanonicalFileStaysCanonical) {
    TempDir dir;
    const Json meta = {{"created_at", "2026-04-07T16:43:59.260544+00:00"},
                       {"friendly_name", "123 test feature"},
                       {"mission_number", "074"},
                       {"mission_slug", "074-123-test-feature"},
                       {"mission_type", "software-dev"},
                       {"slug", "074-123-test-feature"},
                       {"target_branch", "main"}};
    write_fixture(dir / "074/meta.json", kitty::serialize_meta(meta));
    const auto r = stamp(dir / "074");
    EXPECT_TRUE(r.minted);
    Json expected = meta;
    expected["mission_id"] = r.mission_id;
    EXPECT_EQ(slurp(dir / "074/meta.json"), kitty::serialize_meta(expected));
    // A second stamp keeps the id and the bytes.
    const std::string before = slurp(dir / "074/meta.json");
    const auto again = stamp(dir / "074");
    EXPECT_FALSE(again.minted);
    EXPECT_EQ(again.mission_id, r.mission_id);
    EXPECT_EQ(slurp(dir / "074/meta.json"), before);
}

TEST(StampMission, HandWrittenFileKeepsEveryByteAndGainsALastMember) {
    TempDir dir;
    const std::string original = "{\n    \"mission_slug\": \"079-post\",\n    \"owner\": \"r\",\n"
                                 "    \"github_meta_issue\": 566,\n    \"ratio\": 1.50\n}\n";
    write_fixture(dir / "079/meta.json", original);
    const auto r = stamp(dir / "079");
    ASSERT_TRUE(r.minted);
    EXPECT_EQ(slurp(dir / "079/meta.json"),
              "{\n    \"mission_slug\": \"079-post\",\n    \"owner\": \"r\",\n"
              "    \"github_meta_issue\": 566,\n    \"ratio\": 1.50,\n    \"mission_id\": \"" +
                  r.mission_id + "\"\n}\n");

    write_fixture(dir / "one/meta.json", "{\"slug\": \"x\"}");
    const auto one = stamp(dir / "one");
    EXPECT_EQ(slurp(dir / "one/meta.json"),
              "{\"slug\": \"x\", \"mission_id\": \"" + one.mission_id + "\"}");

    write_fixture(dir / "crlf/meta.json", "{\r\n  \"slug\": \"x\"\r\n}\r\n");
    const auto crlf = stamp(dir / "crlf");
    EXPECT_EQ(slurp(dir / "crlf/meta.json"),
              "{\r\n  \"slug\": \"x\",\r\n  \"mission_id\": \"" + crlf.mission_id + "\"\r\n}\r\n");
}

TEST(StampMission, RefusesBadInputWithoutWriting) {
    TempDir dir;
    fs::create_directories(dir / "none");
    EXPECT_THROW(stamp(dir / "none"), kitty::Error);
    EXPECT_FALSE(fs::exists(dir / "none/meta.json"));
    write_fixture(dir / "bad/meta.json", "{\"slug\": ");
    EXPECT_THROW(stamp(dir / "bad"), kitty::Error);
    EXPECT_EQ(slurp(dir / "bad/meta.json"), "{\"slug\": ");
    write_fixture(dir / "empty-id/meta.json", "{\"mission_id\": \"\"}");
    try {
        stamp(dir / "empty-id");
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::conflict);
    }
    EXPECT_EQ(slurp(dir / "empty-id/meta.json"), "{\"mission_id\": \"\"}");
}
