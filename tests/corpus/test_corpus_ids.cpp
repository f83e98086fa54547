// Real mission_ids from ../shared/corpus decode, through the built kitty-mint-id, to
// times consistent with their meta.json created_at (spec/identity-status.md §2.6).
#include <gtest/gtest.h>

#include "kitty/clock.hpp"
#include "kitty/json.hpp"
#include "kitty/mission_meta.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;

TEST(CorpusIds, DecodeConsistentlyWithCreatedAt) {
    int native = 0, backfilled = 0;
    for (const auto& entry :
         fs::directory_iterator(kitty::test::shared_dir() / "corpus/missions")) {
        const auto id = kitty::resolve_identity(entry.path());
        if (!id.mission_id) {
            continue;
        }
        const auto r = kitty::test::run_process(
            {kitty::test::tool_path("kitty-mint-id"), "decode", *id.mission_id});
        ASSERT_EQ(r.exit_code, 0) << entry.path() << r.err;
        const auto id_ms = Json::parse(r.out)["timestamp_ms"].get<std::int64_t>();

        const Json meta = *kitty::load_meta(entry.path());
        kitty::UtcTime created;
        ASSERT_TRUE(kitty::parse_iso_timestamp(meta["created_at"].get<std::string>(), created))
            << entry.path();
        const std::int64_t created_ms = created.seconds * 1000 + created.microseconds / 1000;
        // Post-ADR directories are named <slug>-<first 8 chars of the id>: minted at
        // creation, just before created_at was taken. Others were backfilled later.
        const std::string name = entry.path().filename().string();
        if (name.ends_with("-" + id.mission_id->substr(0, 8))) {
            EXPECT_LE(id_ms, created_ms) << name;
            EXPECT_GT(id_ms, created_ms - 1000) << name;
            ++native;
        } else {
            EXPECT_GE(id_ms, created_ms) << name << ": id minted before the mission existed";
            ++backfilled;
        }
    }
    EXPECT_GT(native, 10);
    EXPECT_GT(backfilled, 30);
}
