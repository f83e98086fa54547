// The dashboard's decisions on in-memory models: who counts as live, idle or stale, and what
// the "needs attention" panel lists, in which order.
#include <gtest/gtest.h>

#include "kitty/dashboard.hpp"

namespace {

kitty::DashboardCard held(const std::string& wp, std::optional<bool> alive, std::int64_t seconds) {
    kitty::DashboardCard card;
    card.wp_id = wp;
    card.lane = "in_progress";
    card.holder = "claude";
    card.signs = {true, alive, -1, seconds};
    card.seconds_in_state = seconds;
    return card;
}

} // namespace

TEST(DashboardLiveness, ALiveShellIsLiveWhateverTheAgeAndNoHolderIsNone) {
    EXPECT_EQ(kitty::card_liveness(held("WP01", true, 99999), 1800), kitty::Liveness::live);
    EXPECT_EQ(kitty::card_liveness(held("WP01", false, 60), 1800), kitty::Liveness::idle);
    EXPECT_EQ(kitty::card_liveness(held("WP01", std::nullopt, 1800), 1800),
              kitty::Liveness::idle); // the lease is not yet over at exactly its length
    EXPECT_EQ(kitty::card_liveness(held("WP01", std::nullopt, 1801), 1800), kitty::Liveness::stale);
    EXPECT_EQ(kitty::card_liveness(held("WP01", false, -1), 1800), kitty::Liveness::idle);
    kitty::DashboardCard free = held("WP02", std::nullopt, 99999);
    free.holder.clear();
    free.signs.held = false;
    EXPECT_EQ(kitty::card_liveness(free, 1800), kitty::Liveness::none);
}

TEST(DashboardAttention, BlockedThenStaleAndDeadHoldersThenConflictsAndUnreadableFiles) {
    kitty::DashboardModel model;
    kitty::DashboardCard blocked;
    blocked.wp_id = "WP09";
    blocked.lane = "blocked";
    blocked.seconds_in_state = 3 * 3600 + 120;
    model.cards = {held("WP01", true, 99999), held("WP02", std::nullopt, 7200), blocked,
                   held("WP03", false, 60), held("WP04", std::nullopt, 60)};
    model.conflicts.push_back({"conflict", "lane-b", "merging lane-a into lane-b would conflict"});
    model.unreadable.push_back({"unreadable", "WP05-x.md", "bad YAML"});
    const auto items = kitty::attention_items(model, 1800);
    ASSERT_EQ(items.size(), 5u);
    EXPECT_EQ(items[0].kind, "blocked");
    EXPECT_EQ(items[0].subject, "WP09");
    EXPECT_EQ(items[0].message, "WP09 is blocked (for 3 h 2 min)");
    EXPECT_EQ(items[1].kind, "stale_claim");
    EXPECT_EQ(items[1].subject, "WP02");
    EXPECT_EQ(items[2].kind, "dead_agent");
    EXPECT_EQ(items[2].subject, "WP03");
    EXPECT_EQ(items[3].kind, "conflict");
    EXPECT_EQ(items[4].kind, "unreadable");
    // A live holder and one merely idle are not a problem.
    model.cards = {held("WP01", true, 99999), held("WP04", std::nullopt, 60)};
    model.conflicts.clear();
    model.unreadable.clear();
    EXPECT_TRUE(kitty::attention_items(model, 1800).empty());
}
