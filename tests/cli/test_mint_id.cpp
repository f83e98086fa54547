// kitty-mint-id as users run it: the built binary, in temp projects.
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "kitty/json.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/ulid.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::make_project;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;

namespace {

ProcessResult mint(std::vector<std::string> args, const fs::path& cwd = {},
                   std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), kitty::test::tool_path("kitty-mint-id"));
    return run_process(args, {"", cwd, std::move(env)});
}

// stdout must be exactly one JSON document and a newline.
Json one_document(const ProcessResult& r) {
    EXPECT_TRUE(!r.out.empty() && r.out.back() == '\n') << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    return Json::parse(r.out);
}

} // namespace

TEST(MintIdCli, MintsOneIdAsJson) {
    const auto r = mint({});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
    const Json doc = one_document(r);
    EXPECT_TRUE(kitty::looks_like_ulid(doc["mission_id"].get<std::string>()));
}

TEST(MintIdCli, CountGivesAListAndTextGivesLines) {
    const Json doc = one_document(mint({"--count", "5"}));
    ASSERT_EQ(doc["mission_ids"].size(), 5u);
    const auto text = mint({"--count", "3", "--format", "text"});
    EXPECT_EQ(text.exit_code, 0);
    std::istringstream lines(text.out);
    std::string line, previous;
    int n = 0;
    while (std::getline(lines, line)) {
        EXPECT_TRUE(kitty::looks_like_ulid(line)) << line;
        EXPECT_GT(line, previous);
        previous = line;
        ++n;
    }
    EXPECT_EQ(n, 3);
}

TEST(MintIdCli, UsageErrorsAreExit2WithAnErrorDocument) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--count", "0"}, {"--bogus"}, {"--format", "yaml"}, {"decode"}}) {
        const auto r = mint(args);
        EXPECT_EQ(r.exit_code, 2) << args[0];
        const Json doc = one_document(r);
        EXPECT_EQ(doc["code"], "USAGE");
        EXPECT_TRUE(doc["error"].is_string());
        EXPECT_NE(r.err.find("kitty-mint-id: error:"), std::string::npos);
    }
}

TEST(MintIdCli, DecodeShowsTheEmbeddedTime) {
    const auto r = mint({"decode", "01KNRK4RNP4PV7HV6JC0P509F9"});
    EXPECT_EQ(r.exit_code, 0);
    const Json doc = one_document(r);
    EXPECT_EQ(doc["timestamp"], "2026-04-09T07:43:40.726Z");
    EXPECT_EQ(doc["timestamp_ms"], 1775720620726);
    EXPECT_EQ(doc["randomness"], "25b678ecd2602c5025e9");
    EXPECT_EQ(mint({"decode", "01KNRK4RNP4PV7HV6JC0P509F9", "--format", "text"}).out,
              "2026-04-09T07:43:40.726Z\n");
}

TEST(MintIdCli, DecodeOfAnInvalidIdIsExit3SayingWhy) {
    const auto r = mint({"decode", "01KNRK4RNP4PV7HV6JC0P509FO"});
    EXPECT_EQ(r.exit_code, 3);
    const Json doc = one_document(r);
    EXPECT_EQ(doc["code"], "INVALID_ULID");
    EXPECT_NE(doc["error"].get<std::string>().find("character 26 ('O')"), std::string::npos);
    EXPECT_NE(r.err.find("not a ULID"), std::string::npos);
    const auto text = mint({"decode", "abc", "--format", "text"});
    EXPECT_EQ(text.exit_code, 3);
    EXPECT_EQ(text.out, "") << "text mode errors go to stderr only";
}

TEST(MintIdCli, VersionAndHelp) {
    const auto v = mint({"--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_TRUE(v.out.starts_with("kitty-mint-id 0.1.0")) << v.out;
    const auto h = mint({"create", "--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.out.find("--target-branch"), std::string::npos);
}

TEST(MintIdCli, CreatePrintsTheReferenceKeysInOrder) {
    TempDir dir;
    make_project(dir.path());
    const auto r = mint({"create", "user-auth", "--target-branch", "main"}, dir.path(),
                        {{"SOURCE_DATE_EPOCH", "1775735141"}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json doc = one_document(r);
    std::vector<std::string> keys;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        keys.push_back(it.key());
    }
    // spec/identity-status.md §2.10, plus kitty_version before spec_kitty_version.
    const std::vector<std::string> expected = {"result",
                                               "mission_slug",
                                               "mission_number",
                                               "mission_id",
                                               "mission_type",
                                               "slug",
                                               "friendly_name",
                                               "feature_dir",
                                               "spec_file",
                                               "meta_file",
                                               "created_at",
                                               "created_files",
                                               "write_mode",
                                               "next_step",
                                               "current_branch",
                                               "CURRENT_BRANCH",
                                               "target_branch",
                                               "base_branch",
                                               "TARGET_BRANCH",
                                               "BASE_BRANCH",
                                               "planning_base_branch",
                                               "PLANNING_BASE_BRANCH",
                                               "merge_target_branch",
                                               "MERGE_TARGET_BRANCH",
                                               "EXPECTED_TARGET_BRANCH",
                                               "EXPECTED_BASE_BRANCH",
                                               "branch_matches_target",
                                               "BRANCH_MATCHES_TARGET",
                                               "branch_strategy_summary",
                                               "runtime_vars",
                                               "NOW_UTC_ISO",
                                               "branch_context",
                                               "kitty_version",
                                               "spec_kitty_version"};
    EXPECT_EQ(keys, expected);
    EXPECT_EQ(doc["feature_dir"], (dir / "kitty-specs/001-user-auth").string());
    EXPECT_EQ(doc["created_at"], "2026-04-09T11:45:41+00:00");
    const Json meta = Json::parse(slurp(dir / "kitty-specs/001-user-auth/meta.json"));
    EXPECT_EQ(meta["mission_id"], doc["mission_id"]);
}

TEST(MintIdCli, CreateErrors) {
    TempDir dir;
    auto r = mint({"create", "x"}, dir.path());
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(one_document(r)["code"], "NO_PROJECT");
    make_project(dir.path());
    r = mint({"create", "User_Auth"}, dir.path());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(one_document(r)["code"], "INVALID_SLUG");
    r = mint({"create", "x", "--project", (dir / "nowhere").string()});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(fs::exists(dir / "kitty-specs"));
}

TEST(MintIdCli, StampBySelector) {
    TempDir dir;
    make_project(dir.path());
    kitty::test::write_fixture(dir / "kitty-specs/060-legacy/meta.json",
                               "{\"slug\": \"legacy\"}\n");
    auto r = mint({"stamp", "legacy"}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json doc = one_document(r);
    EXPECT_EQ(doc["minted"], true);
    r = mint({"stamp", (dir / "kitty-specs/060-legacy").string()});
    doc = one_document(r);
    EXPECT_EQ(doc["minted"], false);
    EXPECT_EQ(kitty::resolve_identity(dir / "kitty-specs/060-legacy").mission_id,
              doc["mission_id"].get<std::string>());
    r = mint({"stamp", "missing"}, dir.path());
    EXPECT_EQ(r.exit_code, 3);
}

TEST(MintIdCli, SixteenConcurrentCreatesGetDistinctNumbersAndIds) {
    TempDir dir;
    make_project(dir.path());
    constexpr int n = 16;
    std::vector<ProcessResult> results(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            results[static_cast<std::size_t>(i)] =
                mint({"create", i % 2 ? "same-slug" : "slug-" + std::to_string(i)}, dir.path());
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::string> numbers, ids;
    for (const auto& r : results) {
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const Json doc = Json::parse(r.out);
        numbers.insert(doc["mission_number"].get<std::string>());
        ids.insert(doc["mission_id"].get<std::string>());
        const fs::path meta_file = doc["meta_file"].get<std::string>();
        const std::string bytes = slurp(meta_file);
        const Json meta = Json::parse(bytes);
        EXPECT_EQ(bytes, kitty::serialize_meta(meta));
        EXPECT_EQ(meta["mission_id"], doc["mission_id"]) << "output disagrees with disk";
    }
    EXPECT_EQ(numbers.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(*numbers.begin(), "001");
    EXPECT_EQ(*numbers.rbegin(), "016");
}

// D02: a meta.json nested 100,000 deep was a SIGSEGV in stamp. It is INVALID_JSON, exit 3,
// and the file is left as it was.
TEST(MintIdCli, DeeplyNestedMetaJsonIsInvalidJson) {
    TempDir dir;
    make_project(dir.path());
    const fs::path meta = dir / "kitty-specs/001-demo/meta.json";
    const std::string text = "{\"mission_slug\": \"001-demo\", \"x\": " + std::string(100000, '[') +
                             std::string(100000, ']') + "}\n";
    kitty::test::write_fixture(meta, text);
    const auto r = mint({"stamp", meta.parent_path().string()}, dir.path());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(one_document(r)["code"], "INVALID_JSON");
    EXPECT_EQ(slurp(meta), text);
}

// D14: SOURCE_DATE_EPOCH=9223372036854775807 was accepted and meta.json got a year nobody
// can read. Past 9999-12-31T23:59:59Z it is a usage error and nothing is created.
TEST(MintIdCli, SourceDateEpochPastYear9999IsUsage) {
    TempDir dir;
    make_project(dir.path());
    const auto r =
        mint({"create", "sde"}, dir.path(), {{"SOURCE_DATE_EPOCH", "9223372036854775807"}});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(one_document(r)["code"], "BAD_SOURCE_DATE_EPOCH");
    EXPECT_FALSE(fs::exists(dir / "kitty-specs/001-sde"));
    const auto last = mint({"create", "sde"}, dir.path(), {{"SOURCE_DATE_EPOCH", "253402300799"}});
    ASSERT_EQ(last.exit_code, 0) << last.err;
    EXPECT_EQ(kitty::read_json_file(dir / "kitty-specs/001-sde/meta.json")["created_at"],
              "9999-12-31T23:59:59+00:00");
}
