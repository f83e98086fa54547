// The loop's decisions on in-memory states (ARCHITECTURE.md: decisions are pure functions of
// a typed loop state, tested the way ninja tests its build plan): which WP `next` hands an
// agent, with dependencies, claims, lanes, reviews and rejections.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "acceptance.hpp"
#include "kitty/error.hpp"
#include "loop_decisions.hpp"
#include "loop_model.hpp"
#include "merge_plan.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::loop::LoopState;
using kitty::loop::LoopWp;
using kitty::loop::MissionStep;
using kitty::loop::pick_work;

namespace {

// A lane by its name; a name that is none fails the test.
kitty::WpLane lane(const std::string& name) {
    return kitty::lane_of(name).value();
}

struct Wp {
    std::string id, lane, actor, lane_id;
    std::vector<std::string> deps;
    bool review_claim = false;
};

// A state of WPs in memory; the mission directory exists only because a Mission names one.
class States : public ::testing::Test {
protected:
    kitty::test::TempDir tmp;
    LoopState state(const std::vector<Wp>& wps) {
        fs::create_directories(tmp / "kitty-specs/001-demo");
        LoopState s{kitty::Mission::at_directory(tmp / "kitty-specs/001-demo"),
                    {},
                    true,
                    {},
                    false,
                    {},
                    {}};
        for (const Wp& w : wps) {
            LoopWp wp;
            wp.id = w.id;
            wp.lane = lane(w.lane);
            wp.actor = w.actor;
            wp.has_events = true;
            wp.review_claim = w.review_claim || w.lane == "in_review";
            wp.lane_id = w.lane_id;
            wp.set_frontmatter(w.deps, {}, "", false);
            s.wps.push_back(std::move(wp));
        }
        return s;
    }
};

TEST_F(States, DependenciesDecideWhatIsReady) {
    LoopState s = state({{"WP01", "planned", "", "lane-a", {}},
                         {"WP02", "planned", "", "lane-a", {"WP01"}},
                         {"WP03", "planned", "", "lane-b", {"WP01", "WP02"}}});
    auto pick = pick_work(s, MissionStep::implement, "A");
    ASSERT_NE(pick.wp, nullptr);
    EXPECT_EQ(pick.wp->id, "WP01");
    EXPECT_EQ(pick.action, "implement");
    EXPECT_EQ(pick.reserve_to, kitty::WpLane::claimed);
    s.wps[0].lane = kitty::WpLane::approved;
    EXPECT_EQ(pick_work(s, MissionStep::implement, "A").wp->id, "WP02");
    s.wps[1].lane = kitty::WpLane::done;
    EXPECT_EQ(pick_work(s, MissionStep::implement, "A").wp->id, "WP03");
}

TEST_F(States, AnAgentGetsItsOwnWorkBackFirst) {
    LoopState s = state({{"WP01", "planned", "", "lane-a", {}},
                         {"WP02", "in_progress", "B", "lane-b", {}},
                         {"WP03", "in_review", "B", "lane-c", {}}});
    const auto pick = pick_work(s, MissionStep::implement, "B");
    EXPECT_EQ(pick.wp->id, "WP02");
    EXPECT_EQ(pick.action, "implement");
    EXPECT_FALSE(pick.reserve_to) << "nothing new is reserved";
    s.wps[1].lane = kitty::WpLane::for_review;
    s.wps[1].actor = "B";
    const auto review = pick_work(s, MissionStep::implement, "B");
    EXPECT_EQ(review.wp->id, "WP03");
    EXPECT_EQ(review.action, "review");
}

TEST_F(States, NoWpIsHandedToTwoAgents) {
    LoopState s =
        state({{"WP01", "claimed", "A", "lane-a", {}}, {"WP02", "in_review", "A", "lane-b", {}}});
    const auto pick = pick_work(s, MissionStep::implement, "B");
    EXPECT_EQ(pick.wp, nullptr);
    EXPECT_NE(pick.waiting.find("WP01 is claimed (A)"), std::string::npos) << pick.waiting;
    EXPECT_NE(pick.waiting.find("WP02 is in_review (A)"), std::string::npos) << pick.waiting;
}

TEST_F(States, OneAgentPerLaneWorktree) {
    LoopState s = state({{"WP01", "approved", "", "lane-a", {}},
                         {"WP02", "in_progress", "A", "lane-a", {"WP01"}},
                         {"WP03", "planned", "", "lane-a", {"WP01"}},
                         {"WP04", "planned", "", "lane-b", {}}});
    const auto b = pick_work(s, MissionStep::implement, "B");
    ASSERT_NE(b.wp, nullptr);
    EXPECT_EQ(b.wp->id, "WP04") << "lane-a is A's while WP02 is implemented";
    s.wps[3].lane = kitty::WpLane::in_progress;
    s.wps[3].actor = "C";
    const auto blocked = pick_work(s, MissionStep::implement, "B");
    EXPECT_EQ(blocked.wp, nullptr);
    EXPECT_NE(blocked.waiting.find("WP03 waits for lane-a (WP02, A)"), std::string::npos)
        << blocked.waiting;
    // The lane's own agent may go on with it; a review does not hold the lane.
    s.wps[1].lane = kitty::WpLane::done;
    EXPECT_EQ(pick_work(s, MissionStep::implement, "B").wp->id, "WP03");
    s.wps[1].lane = kitty::WpLane::in_review;
    s.wps[1].actor = "R";
    s.wps[1].review_claim = true;
    EXPECT_EQ(pick_work(s, MissionStep::implement, "B").wp->id, "WP03");
}

TEST_F(States, TheStepDecidesBetweenNewWorkAndReviews) {
    LoopState s =
        state({{"WP01", "planned", "", "lane-a", {}}, {"WP02", "for_review", "A", "lane-b", {}}});
    EXPECT_EQ(pick_work(s, MissionStep::implement, "B").wp->id, "WP01");
    const auto review = pick_work(s, MissionStep::review, "B");
    EXPECT_EQ(review.wp->id, "WP02");
    EXPECT_EQ(review.reserve_to, kitty::WpLane::in_review);
}

TEST_F(States, BlockedAndRejectedWork) {
    LoopState s =
        state({{"WP01", "blocked", "", "lane-a", {}}, {"WP02", "planned", "", "lane-b", {"WP01"}}});
    const auto none = pick_work(s, MissionStep::implement, "A");
    EXPECT_EQ(none.wp, nullptr);
    EXPECT_NE(none.waiting.find("WP01 is blocked"), std::string::npos) << none.waiting;
    EXPECT_NE(none.waiting.find("WP02 waits for WP01"), std::string::npos) << none.waiting;
    // Unblocked and rejected back to planned: handed out again.
    s.wps[0].lane = kitty::WpLane::planned;
    EXPECT_EQ(pick_work(s, MissionStep::review, "A").wp->id, "WP01")
        << "no review waits, so new work";
}

} // namespace

// The acceptance gate's verdict (issue 22 §1) on facts in memory: nothing unmet for a ready
// mission; otherwise every unmet check, in a fixed order, with the file, line and fix.
namespace {

kitty::loop::AcceptanceFacts ready_facts() {
    kitty::loop::AcceptanceFacts f;
    f.slug = "001-demo";
    f.wps = {{"WP01", kitty::WpLane::approved, "tasks/WP01.md", "claude", "42", ""},
             {"WP02", kitty::WpLane::done, "tasks/WP02.md", "codex", "43", ""}};
    f.tasks_md = "tasks.md";
    f.lanes_present = true;
    f.lanes_json = "lanes.json";
    return f;
}

std::vector<std::string> codes(const kitty::loop::AcceptanceFacts& f) {
    std::vector<std::string> out;
    for (const auto& p : kitty::loop::acceptance_problems(f)) {
        out.push_back(p.code);
    }
    return out;
}

} // namespace

TEST(Acceptance, AReadyMissionHasNoUnmetCheck) {
    EXPECT_TRUE(kitty::loop::acceptance_problems(ready_facts()).empty());
}

TEST(Acceptance, EveryUnmetCheckIsListedInOrderWithItsFileAndFix) {
    auto f = ready_facts();
    f.wps[1].lane = kitty::WpLane::for_review;
    f.wps[1].shell_pid = "";
    f.unchecked = {{7, "- [ ] T003 Write the tests"}};
    f.clarifications = {{"spec.md", 12}};
    f.missing_artifacts = {"plan.md"};
    f.dirty = {"notes.txt"};
    f.merge_problems = kitty::Json::array(
        {kitty::Json{{"code", "MERGE_CONFLICT_FORECAST"}, {"message", "lane-b would conflict"}}});
    EXPECT_EQ(codes(f), (std::vector<std::string>{
                            "WP_NOT_APPROVED", "MISSING_METADATA", "MISSING_METADATA",
                            "UNCHECKED_SUBTASK", "NEEDS_CLARIFICATION", "MISSING_ARTIFACT",
                            "MAIN_CHECKOUT_DIRTY", "MERGE_CONFLICT_FORECAST"}));
    const auto problems = kitty::loop::acceptance_problems(f);
    EXPECT_EQ(problems[0].message, "WP02 is for_review, not approved or done");
    EXPECT_EQ(problems[0].path, "tasks/WP02.md");
    EXPECT_NE(problems[1].message.find("shell_pid"), std::string::npos);
    EXPECT_NE(problems[2].message.find("assignee"), std::string::npos) << "for_review needs one";
    EXPECT_EQ(problems[3].path, "tasks.md");
    EXPECT_EQ(problems[3].line, 7);
    EXPECT_NE(problems[3].fix.find("mark-status"), std::string::npos);
    EXPECT_EQ(problems[4].path, "spec.md");
    EXPECT_EQ(problems[4].line, 12);
    EXPECT_NE(problems[6].message.find("notes.txt"), std::string::npos);
    EXPECT_NE(problems[7].fix.find("resolve step"), std::string::npos);
}

TEST(Acceptance, LenientSkipsTheFrontmatterAndNoLanesIsUnmet) {
    auto f = ready_facts();
    f.wps[0].agent = "";
    EXPECT_EQ(codes(f), std::vector<std::string>{"MISSING_METADATA"});
    f.strict = false;
    EXPECT_TRUE(codes(f).empty());
    f.lanes_present = false;
    EXPECT_EQ(codes(f), std::vector<std::string>{"MISSING_LANES"});
    f.wps.clear();
    EXPECT_EQ(codes(f), (std::vector<std::string>{"NO_WORK_PACKAGES", "MISSING_LANES"}));
}

// Issue 22 §4: a stale claim is offered before new work, never while its worktree is dirty,
// and never a live or idle one.
TEST_F(States, AStaleClaimWithACleanWorktreeIsTakenOverFirst) {
    LoopState s = state({{"WP01", "in_progress", "A", "lane-a", {}},
                         {"WP02", "planned", "", "lane-b", {}},
                         {"WP03", "in_review", "R", "lane-c", {}}});
    s.wps[0].liveness = kitty::Liveness::idle;
    s.wps[2].liveness = kitty::Liveness::live;
    EXPECT_EQ(pick_work(s, MissionStep::implement, "B").wp->id, "WP02")
        << "an idle holder keeps it";
    s.wps[0].liveness = kitty::Liveness::stale;
    s.wps[0].worktree_dirty = true;
    auto pick = pick_work(s, MissionStep::implement, "B");
    EXPECT_EQ(pick.wp->id, "WP02") << "uncommitted work is never taken from under its owner";
    EXPECT_TRUE(pick.takeover_from.empty());
    s.wps[1].lane = kitty::WpLane::approved;
    pick = pick_work(s, MissionStep::implement, "B");
    EXPECT_EQ(pick.wp, nullptr);
    EXPECT_NE(pick.waiting.find("WP01's claim by A is stale"), std::string::npos) << pick.waiting;
    EXPECT_NE(pick.waiting.find("uncommitted"), std::string::npos);
    s.wps[0].worktree_dirty = false;
    pick = pick_work(s, MissionStep::implement, "B");
    ASSERT_NE(pick.wp, nullptr);
    EXPECT_EQ(pick.wp->id, "WP01");
    EXPECT_EQ(pick.action, "implement");
    EXPECT_EQ(pick.reserve_to, kitty::WpLane::claimed);
    EXPECT_EQ(pick.takeover_from, "A");
    // A stale review claim is taken over as a review.
    s.wps[0].liveness = kitty::Liveness::live;
    s.wps[2].liveness = kitty::Liveness::stale;
    pick = pick_work(s, MissionStep::implement, "B");
    ASSERT_NE(pick.wp, nullptr);
    EXPECT_EQ(pick.wp->id, "WP03");
    EXPECT_EQ(pick.action, "review");
    EXPECT_EQ(pick.reserve_to, kitty::WpLane::in_review);
    EXPECT_EQ(pick.takeover_from, "R");
    // The stale holder itself is given its own work back, not a takeover.
    EXPECT_EQ(pick_work(s, MissionStep::implement, "R").takeover_from, "");
}

TEST(Takeovers, ThePreviousHolderIsToldUntilItActsAgain) {
    using kitty::StatusEvent;
    const auto event = [](std::string wp, std::string actor, bool force,
                          std::optional<std::string> reason) {
        StatusEvent e;
        e.wp_id = std::move(wp);
        e.actor = std::move(actor);
        e.force = force;
        e.reason = std::move(reason);
        e.at = "2026-01-01T00:00:00Z";
        return e;
    };
    const std::string reason = kitty::loop::takeover_reason("A", 40 * 60, 30 * 60);
    EXPECT_EQ(reason, "Taken over from A: no sign of life for 40 min (lease 30 min)");
    std::vector<StatusEvent> log = {event("WP01", "A", false, "Reserved for A by next"),
                                    event("WP01", "B", true, reason),
                                    event("WP02", "C", true, "Taken over from AB: …")};
    auto told = kitty::loop::unseen_takeovers(kitty::loop::digest_status(log), "A");
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].wp_id, "WP01");
    EXPECT_EQ(told[0].by, "B");
    EXPECT_TRUE(kitty::loop::unseen_takeovers(kitty::loop::digest_status(log), "B").empty());
    log.push_back(event("WP03", "A", false, std::nullopt));
    EXPECT_TRUE(kitty::loop::unseen_takeovers(kitty::loop::digest_status(log), "A").empty())
        << "A acted since";
    // A forced move without the takeover reason is not one.
    EXPECT_TRUE(kitty::loop::unseen_takeovers(
                    kitty::loop::digest_status({event("WP01", "B", true, "fix")}), "A")
                    .empty());
}

TEST(Liveness, ALiveShellOrARecentHeartbeatIsLiveSilenceBeyondTheLeaseIsStale) {
    using kitty::classify_holder;
    using kitty::Liveness;
    EXPECT_EQ(classify_holder({false, true, 0, 0}, 1800), Liveness::none);
    EXPECT_EQ(classify_holder({true, true, -1, 99999}, 1800), Liveness::live);
    EXPECT_EQ(classify_holder({true, false, 300, 99999}, 1800), Liveness::live);
    EXPECT_EQ(classify_holder({true, false, 301, 99999}, 1800), Liveness::idle);
    EXPECT_EQ(classify_holder({true, std::nullopt, 1801, 99999}, 1800), Liveness::stale);
    EXPECT_EQ(classify_holder({true, std::nullopt, -1, 1801}, 1800), Liveness::stale);
    EXPECT_EQ(classify_holder({true, std::nullopt, 99999, 60}, 1800), Liveness::idle)
        << "a transition a minute ago is a sign of life";
    EXPECT_EQ(classify_holder({true, std::nullopt, -1, -1}, 1800), Liveness::idle)
        << "no sign known is not proof of death";
    EXPECT_EQ(kitty::wp_holder("in_progress", "implement-command", "claude"), "claude");
    EXPECT_EQ(kitty::wp_holder("in_progress", "codex", "claude"), "codex");
    EXPECT_EQ(kitty::wp_holder("for_review", "codex", "claude"), "");
}

// tasks.md's subtasks per WP, as 3.1.1 finds them: a heading of two to four '#' naming WPs
// opens their section; a box line (`- [ ]`, `- [x]`, indented or not) belongs to each WP the
// section names; anything else is skipped.
TEST_F(States, SubtasksAreTheBoxesUnderTheHeadingsThatNameTheirWps) {
    const LoopState s = state({});
    kitty::test::write_fixture(s.mission.tasks_md(),
                               "- [ ] T000 before any heading\n"
                               "# WP09 one '#' is no heading\n"
                               "## WP01 and WP02 together\n"
                               "- [ ] T001 first\n"
                               "  - [x] T002 indented, done\n"
                               "\t-  [X] T003 tab\n"
                               "-[ ] T004 no space\n"
                               "- not a box\n"
                               "text - [ ] T099 not at the start\n"
                               " ## WP03 indented is no heading\n"
                               "- [ ] T005 still WP01's and WP02's\n"
                               "##### WP05 five is no heading\n"
                               "#### Work for WP04\n"
                               "- [x] T006\n"
                               "## Notes naming no WP\n"
                               "- [ ] T007 still WP04's: that heading opened no section\n");
    const auto all = kitty::loop::subtasks_by_wp(s.mission);
    const auto ids = [&](const std::string& wp) {
        std::vector<std::string> out;
        if (const auto it = all.find(wp); it != all.end()) {
            for (const kitty::loop::Subtask& t : it->second) {
                out.push_back(t.id + (t.done ? "+" : ""));
            }
        }
        return out;
    };
    const std::vector<std::string> shared{"T001", "T002+", "T003+", "T004", "T005"};
    EXPECT_EQ(ids("WP01"), shared);
    EXPECT_EQ(ids("WP02"), shared);
    EXPECT_EQ(ids("WP04"), (std::vector<std::string>{"T006+", "T007"}));
    EXPECT_TRUE(ids("WP03").empty());
    EXPECT_TRUE(ids("WP05").empty());
    EXPECT_TRUE(ids("WP09").empty());
    EXPECT_EQ(all.size(), 3u);
}

// The derived frontmatter cache's text reads back as written, whatever bytes its fields
// hold; a damaged line is never read as a different entry.
TEST(FrontmatterCache, EntriesReadBackExactly) {
    using kitty::loop::FrontmatterCacheEntry;
    using Front = kitty::loop::LoopWp::Frontmatter;
    const std::vector<FrontmatterCacheEntry> entries = {
        {"WP01-a.md", 774, 1796575799069105722, 66,
         Front{{"WP00"}, {"src/a/**"}, "claude", false, "4242"}, ""},
        {"WP02-b.md", 0, -1, 0, Front{{}, {""}, "", true, ""}, ""},
        {"WP03 100%\t\n\x1f.md", 1, 2, 3,
         Front{{"", "WP%01", "a\tb"}, {"x\ny", "\x1f"}, "ag\x01ent%", false, "\t"},
         "---\nagent: x\n---\n\n# WP03\twith a tab\n\x1f%\r\n"},
        {"WP04-\xc3\xa9.md", 9, 9, 9, Front{{"WP01", "WP02"}, {}, "\xe2\x82\xac", true, "1"},
         "\xe2\x82\xac"},
    };
    const std::string text = kitty::loop::format_frontmatter_cache(entries);
    EXPECT_EQ(kitty::loop::parse_frontmatter_cache(text), entries);
    // One line per entry after the version line: no field carries a newline or a tab of its own.
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
        for (const FrontmatterCacheEntry& e :
             kitty::loop::parse_frontmatter_cache(std::string_view(text).substr(0, cut))) {
            EXPECT_NE(std::find(entries.begin(), entries.end(), e), entries.end())
                << "cut at " << cut << " read " << e.name;
        }
    }
    const std::string header = "kitty wp-frontmatter cache 4\n";
    for (const std::string bad :
         {"WP01.md\t1\t2\t3\t0\tx\t7\t\t",     // a field short
          "WP01.md\t1\t2\t3\t0\tx\t7\t\t\t\t", // a field over
          "WP01.md\t1x\t2\t3\t0\tx\t7\t\t\t", "WP01.md\t1\t2\t3\t2\tx\t7\t\t\t",
          "WP%1.md\t1\t2\t3\t0\tx\t7\t\t\t", "WP%zz.md\t1\t2\t3\t0\tx\t7\t\t\t",
          "WP01.md\t1\t2\t3\t0\tx\t7\tWP00\t\t", "WP01.md\t1\t2\t3\t0\tx\t7\t\t\t%zz"}) {
        EXPECT_TRUE(kitty::loop::parse_frontmatter_cache(header + bad + "\n").empty()) << bad;
    }
    EXPECT_EQ(
        kitty::loop::parse_frontmatter_cache(header + "WP01.md\t1\t2\t3\t0\tx\t7\t\t\t\n").size(),
        1u);
    EXPECT_TRUE(kitty::loop::parse_frontmatter_cache("kitty wp-frontmatter cache 2\n" +
                                                     text.substr(header.size()))
                    .empty())
        << "another version";
}

// The derived lanes.json cache reads back the manifest exactly, and only when it is whole.
TEST(LanesCache, TheManifestReadsBackExactlyAndOnlyWhole) {
    kitty::loop::LanesCacheEntry entry{18452, 1796575799069105722, 42, {}};
    kitty::LanesManifest& m = entry.manifest;
    m.mission_slug = "001-scale";
    m.mission_id = "01KMISSION";
    m.mission_branch = "kitty/mission-001-scale";
    m.target_branch = "main";
    m.computed_at = "2026-12-06T10:00:00+00:00";
    m.independent_wps_collapsed = 3;
    m.lanes = {{"lane-a", {"WP01", "WP02"}, {"src/a/**", "docs/%x\tz"}, {"api"}, {}, 0},
               {"lane-b\n", {"WP03"}, {}, {}, {"lane-a"}, -2},
               {"lane-planning", {"WP00"}, {""}, {}, {}, 7}};
    m.events = {{"WP01", "WP02", "dependency", "WP02 depends on WP01"},
                {"WP03", "WP04", "write_scope_overlap", "src/\x1f**\r\n"}};
    const std::string text = kitty::loop::format_lanes_cache(entry);
    const auto back = kitty::loop::parse_lanes_cache(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->manifest, m);
    EXPECT_EQ(std::tie(back->size, back->mtime_ns, back->ino),
              std::tie(entry.size, entry.mtime_ns, entry.ino));
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
        EXPECT_FALSE(kitty::loop::parse_lanes_cache(std::string_view(text).substr(0, cut)))
            << "cut at " << cut;
    }
    EXPECT_FALSE(kitty::loop::parse_lanes_cache(text + "lane\tx\n")) << "after the end";
    std::string bad = text;
    bad.replace(bad.find("lane\tlane-a\t0"), 14, "lane\tlane-a\tz");
    EXPECT_FALSE(kitty::loop::parse_lanes_cache(bad)) << "a group that is no number";
    EXPECT_FALSE(
        kitty::loop::parse_lanes_cache("kitty lanes cache 0\n" + text.substr(text.find('\n') + 1)));
}

// The derived forecast cache reads back its key and answer exactly, and only when whole.
TEST(ForecastCache, TheAnswerReadsBackExactlyAndOnlyWhole) {
    using kitty::MergeConflict;
    using kitty::loop::ForecastCacheEntry;
    ForecastCacheEntry clean;
    clean.key = "0.1.0\nmain 1234\tx\n{\"lanes\": [\"%\x1f\"]}\n";
    ForecastCacheEntry conflict;
    conflict.key = "k";
    conflict.conflict = true;
    conflict.lane_id = "lane-b";
    conflict.other_branch = "kitty/mission-001-demo-lane-a";
    conflict.other_commit = "0123456789abcdef0123456789abcdef01234567";
    conflict.stop_lane_id = "lane-b\t";
    conflict.conflicts = {{"README.md", MergeConflict::Kind::content},
                          {"a b/\xc3\xa9\n%.txt", MergeConflict::Kind::rename},
                          {"", MergeConflict::Kind::modify_delete}};
    ForecastCacheEntry none_listed = conflict;
    none_listed.conflicts.clear();
    for (const ForecastCacheEntry& entry : {clean, conflict, none_listed}) {
        const std::string text = kitty::loop::format_forecast_cache(entry);
        EXPECT_EQ(kitty::loop::parse_forecast_cache(text), entry) << text;
        for (std::size_t cut = 0; cut < text.size(); ++cut) {
            EXPECT_FALSE(kitty::loop::parse_forecast_cache(std::string_view(text).substr(0, cut)))
                << "cut at " << cut;
        }
        EXPECT_FALSE(kitty::loop::parse_forecast_cache(text + "path\t0\tx\n")) << "after the end";
        EXPECT_FALSE(kitty::loop::parse_forecast_cache("kitty forecast cache 0\n" +
                                                       text.substr(text.find('\n') + 1)));
    }
    const std::string text = kitty::loop::format_forecast_cache(conflict);
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"path\t0", "path\t4"},
                                   {"path\t0", "path\tx"},
                                   {"conflict\t", "conflicts\t"}}) {
        std::string bad = text;
        bad.replace(bad.find(from), from.size(), to);
        EXPECT_FALSE(kitty::loop::parse_forecast_cache(bad)) << to;
    }
    std::string listed_when_clean = kitty::loop::format_forecast_cache(clean);
    listed_when_clean.insert(listed_when_clean.rfind("end\n"), "path\t0\tx\n");
    EXPECT_FALSE(kitty::loop::parse_forecast_cache(listed_when_clean));
}

// The status digest a call keeps instead of the events: extending the digest of a log's
// prefix by the rest is digesting the whole log, or refused (the digest untouched) when an
// event sorts among the earlier ones; its cache text reads back as it was; and what the loop
// asks of it answers as a scan of the events would (the oracles below). Random logs with
// shared timestamps, steps back, repeated ids, rollbacks, review claims, review-cycle files and
// takeovers, split at every point.
TEST(StatusDigest, ExtendingIsDigestingAgainAndTheCacheReadsBack) {
    using kitty::StatusEvent;
    using kitty::loop::StatusDigest;
    std::mt19937 random(20261207);
    const auto pick = [&random](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
    };
    const std::array<const char*, 6> lanes{"planned",    "claimed", "in_progress",
                                           "for_review", "doing",   "in_review"};
    const std::array<const char*, 3> actors{"A", "B", "C\tx"};
    // What a scan of the events answers: the previous loop code's.
    const auto scan_takeovers = [](const std::vector<StatusEvent>& log, const std::string& from) {
        std::vector<std::string> out;
        for (const StatusEvent& e : log) {
            if (e.actor == from) {
                out.clear();
            } else if (e.force && e.reason &&
                       e.reason->starts_with("Taken over from " + from + ":")) {
                out.push_back(e.wp_id + "/" + e.actor + "/" + e.at);
            }
        }
        return out;
    };
    int extended = 0;
    int refused = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<StatusEvent> log;
        const std::size_t n = 1 + pick(14);
        int clock = 0;
        for (std::size_t i = 0; i < n; ++i) {
            clock += static_cast<int>(pick(3)) - (pick(6) == 0 ? 2 : 0);
            StatusEvent e;
            e.event_id = "e" + std::to_string(pick(24));
            e.wp_id = "WP0" + std::to_string(pick(3));
            e.from_lane = lanes[pick(lanes.size())];
            e.to_lane = lanes[pick(lanes.size())];
            e.at = "2026-01-01T00:00:" + std::to_string(10 + clock);
            e.actor = actors[pick(actors.size())];
            e.mission_slug = pick(2) ? "m" : "m2";
            e.force = pick(4) == 0;
            switch (pick(6)) {
            case 0:
                e.from_lane = "for_review";
                e.to_lane = "in_progress";
                e.review_ref = "review-cycle://m/" + e.wp_id + "-x/review-cycle-" +
                               std::to_string(pick(3)) + ".md";
                break;
            case 1:
                e.to_lane = "in_progress";
                e.review_ref = "action-review-claim";
                break;
            case 2:
                e.force = true;
                e.reason = "Taken over from " + std::string(actors[pick(actors.size())]) +
                           ": no sign of life";
                break;
            default:
                break;
            }
            log.push_back(e);
        }
        const StatusDigest whole = kitty::loop::digest_status(log);
        EXPECT_EQ(whole.status, kitty::reduce_status(log));
        for (std::size_t split = 0; split <= log.size(); ++split) {
            const std::vector<StatusEvent> existing(log.begin(), log.begin() + split);
            const std::vector<StatusEvent> added(log.begin() + split, log.end());
            StatusDigest d = kitty::loop::digest_status(existing);
            const auto cached = kitty::loop::parse_status_cache(
                kitty::loop::format_status_cache({split * 7, 99u + split, d}));
            ASSERT_TRUE(cached) << "round " << round << ", split " << split;
            EXPECT_EQ(cached->digest, d);
            EXPECT_EQ(cached->size, split * 7);
            EXPECT_EQ(cached->hash, 99u + split);
            if (kitty::loop::extend_digest(d, added)) {
                ASSERT_EQ(d, whole) << "round " << round << ", split " << split;
                ++extended;
            } else {
                ASSERT_EQ(d, kitty::loop::digest_status(existing)) << "refused: untouched";
                ++refused;
            }
        }
        for (const char* actor : actors) {
            std::vector<std::string> told;
            for (const auto& t : kitty::loop::unseen_takeovers(whole, actor)) {
                told.push_back(t.wp_id + "/" + t.by + "/" + t.at);
            }
            EXPECT_EQ(told, scan_takeovers(log, actor)) << "round " << round << ", " << actor;
        }
        for (const char* wp : {"WP00", "WP01", "WP02"}) {
            std::optional<std::string> latest;
            for (const StatusEvent& e : log) {
                if (e.wp_id == wp && kitty::loop::is_review_cycle_ref(e)) {
                    latest = e.review_ref;
                }
            }
            const auto it = whole.review_cycle_refs.find(wp);
            EXPECT_EQ(it == whole.review_cycle_refs.end() ? std::nullopt
                                                          : std::optional(it->second),
                      latest);
        }
    }
    EXPECT_GT(extended, 500);
    EXPECT_GT(refused, 100);
    // FNV-1a's published 64-bit values: a cache is read by other builds than its writer's.
    EXPECT_EQ(kitty::loop::event_id_hash(""), 0xcbf29ce484222325ULL);
    EXPECT_EQ(kitty::loop::event_id_hash("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(kitty::loop::event_id_hash("foobar"), 0x85944171f73967e8ULL);
    // A cache text cut short, or with a line that does not read, is no cache.
    const std::string text =
        kitty::loop::format_status_cache({1, 2, kitty::loop::digest_status({[] {
                                              StatusEvent e;
                                              e.event_id = "e1";
                                              e.wp_id = "WP01";
                                              e.to_lane = "claimed";
                                              e.actor = "A";
                                              e.at = "t";
                                              return e;
                                          }()})});
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
        EXPECT_FALSE(kitty::loop::parse_status_cache(std::string_view(text).substr(0, cut)));
    }
    EXPECT_FALSE(kitty::loop::parse_status_cache(text + "id\te2\n"));
    std::string bad = text;
    bad.replace(bad.find("\nact\tA\t0\n"), 10, "\nact\tA\tx\n");
    EXPECT_FALSE(kitty::loop::parse_status_cache(bad));
}

// An agent's name: checked by hand, against the rule's pattern as the oracle, on every name
// of up to three characters of this alphabet and on the length limit.
TEST(AgentNames, AreTheRulesPattern) {
    const RE2 rule("^[A-Za-z0-9][A-Za-z0-9._-]*$");
    ASSERT_TRUE(rule.ok());
    const auto accepted = [](const std::string& name) {
        try {
            kitty::loop::checked_agent(name);
            return true;
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.code(), "BAD_AGENT");
            EXPECT_EQ(e.exit(), kitty::Exit::usage);
            return false;
        }
    };
    int valid = 0;
    for (const std::string& name : kitty::test::every_text(
             {"a", "Z", "0", "9", ".", "_", "-", " ", "/", "\xC3", "\xA9"}, 3)) {
        const bool want = RE2::FullMatch(name, rule);
        valid += want ? 1 : 0;
        ASSERT_EQ(accepted(name), want) << "'" << name << "'";
    }
    EXPECT_GT(valid, 100);
    EXPECT_TRUE(accepted("a" + std::string(63, '-')));
    EXPECT_FALSE(accepted("a" + std::string(64, '-')));
}

// A WP named on the command line: the usual spellings are read by hand, against the two
// patterns as the oracle, on every text of up to five characters of this alphabet.
TEST(WpIdsOnTheCommandLine, AreThePatterns) {
    const RE2 named("(?i)^WP(\\d+)(?:[-_.].*)?$");
    const RE2 number("^(\\d+)$");
    ASSERT_TRUE(named.ok());
    ASSERT_TRUE(number.ok());
    int read = 0;
    for (const std::string& text :
         kitty::test::every_text({"W", "w", "P", "p", "0", "7", "-", ".", "x", "\n"}, 5)) {
        std::string digits;
        const bool want =
            RE2::FullMatch(text, named, &digits) || RE2::FullMatch(text, number, &digits);
        try {
            EXPECT_EQ(kitty::loop::normalize_wp_id(text), "WP" + digits) << text;
            EXPECT_TRUE(want) << "'" << text << "'";
            ++read;
        } catch (const kitty::Error& e) {
            EXPECT_FALSE(want) << "'" << text << "'";
            EXPECT_EQ(e.code(), "UNKNOWN_WP");
        }
    }
    EXPECT_GT(read, 200);
}

// tasks.md's subtask lines are read by hand; the three patterns 3.1.1's reading is written
// in are the oracle, on every text of up to six or seven bytes of these alphabets (valid
// and broken UTF-8 included).
TEST(SubtaskLines, AreThePatterns) {
    const RE2 heading(R"(^#{2,4}\s.*WP\d+)");
    const RE2 name(R"(\b(WP\d+)\b)");
    const RE2 box(R"(^\s*-\s*\[([ xX])\]\s*(T\d+)?)");
    ASSERT_TRUE(heading.ok() && name.ok() && box.ok());
    int headings = 0, names = 0, boxes = 0;
    for (const std::string& text :
         kitty::test::every_text({"#", " ", "\t", "WP", "0", "x", "\xC3\xA9", "\xFF"}, 7)) {
        for (const std::string& line : {text, "##" + text, "### " + text}) {
            const bool want = RE2::PartialMatch(line, heading);
            headings += want ? 1 : 0;
            ASSERT_EQ(kitty::loop::is_wp_heading(line), want) << "'" << line << "'";
        }
    }
    for (const std::string& text :
         kitty::test::every_text({"WP", "0", "_", "a", " ", "\xC3\xA9", "\xFF"}, 8)) {
        std::vector<std::string> want;
        re2::StringPiece rest(text);
        for (std::string id; RE2::FindAndConsume(&rest, name, &id);) {
            want.push_back(id);
        }
        names += want.empty() ? 0 : 1;
        ASSERT_EQ(kitty::loop::wp_names(text), want) << "'" << text << "'";
    }
    for (const std::string& text : kitty::test::every_text(
             {" ", "\t", "-", "[ ]", "[x]", "[X]", "[", "]", "T1", "1", "\xC3\xA9"}, 7)) {
        std::string mark, id;
        const bool want = RE2::PartialMatch(text, box, &mark, &id);
        const auto got = kitty::loop::subtask_box(text);
        ASSERT_EQ(got.has_value(), want) << "'" << text << "'";
        if (want) {
            boxes += id.empty() ? 0 : 1;
            EXPECT_EQ(std::string(1, got->mark), mark) << "'" << text << "'";
            EXPECT_EQ(got->id, id) << "'" << text << "'";
        }
    }
    EXPECT_GT(headings, 1000);
    EXPECT_GT(names, 100);
    EXPECT_GT(boxes, 100);
}

namespace {

using kitty::loop::decide_move;
using kitty::loop::Move;
using Steps = std::vector<std::pair<std::string, std::string>>;

LoopWp wp_in(const std::string& lane, const std::string& actor = "", bool review_claim = false,
             const std::string& frontmatter_agent = "") {
    LoopWp wp;
    wp.id = "WP01";
    wp.lane = ::lane(lane);
    wp.actor = actor;
    wp.has_events = true;
    wp.review_claim = review_claim || lane == "in_review";
    wp.set_frontmatter({}, {}, frontmatter_agent, false);
    return wp;
}

kitty::MoveTaskRequest move_request(const std::string& agent, const std::string& note = "",
                                    bool force = false) {
    kitty::MoveTaskRequest r;
    r.wp_id = "WP01";
    r.agent = agent;
    r.note = note;
    r.force = force;
    return r;
}

// The hand-off verdict with the WP's open subtasks `open`; counts how often they are read.
struct Verdict {
    std::vector<std::string> open;
    int subtask_reads = 0;
    Move operator()(const LoopWp& wp, const kitty::MoveTaskRequest& r, const std::string& to,
                    const std::optional<std::string>& feedback = std::nullopt) {
        return decide_move(wp, r, ::lane(to), feedback, [this] {
            ++subtask_reads;
            return open;
        });
    }
};

// The lanes a move walks, by name.
Steps walk(const Move& m) {
    Steps out;
    for (const auto& [from, to] : m.steps) {
        out.emplace_back(kitty::lane_name(from), kitty::lane_name(to));
    }
    return out;
}

std::string refusal(const std::function<void()>& decide) {
    try {
        decide();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::check_failed) << e.code();
        return e.code();
    }
    return "(accepted)";
}

} // namespace

// next-loop.md §7.3: a move forward on planned … done walks every lane in between, one event
// each; its readiness checks run for for_review, approved and done.
TEST(HandoffVerdict, AForwardMoveWalksEveryLaneInBetween) {
    Verdict decide;
    const Move m = decide(wp_in("in_progress", "claude"), move_request("claude"), "for_review");
    EXPECT_EQ(m.from, kitty::WpLane::in_progress);
    EXPECT_EQ(walk(m), (Steps{{"in_progress", "for_review"}}));
    EXPECT_TRUE(m.needs_readiness);
    EXPECT_FALSE(m.forced);
    EXPECT_EQ(decide.subtask_reads, 1);
    // §7.4: an approval after the review claim walks in_progress → for_review → in_review →
    // approved.
    const Move approve = decide(wp_in("in_progress", "rev", true), move_request("rev"), "approved");
    EXPECT_EQ(walk(approve), (Steps{{"in_progress", "for_review"},
                                    {"for_review", "in_review"},
                                    {"in_review", "approved"}}));
    EXPECT_TRUE(approve.needs_readiness);
}

// §7.2 step 5: unticked subtasks refuse a hand-off, not a forced one (which reads none).
TEST(HandoffVerdict, OpenSubtasksRefuseAHandOffUnlessForced) {
    Verdict decide{{"- [ ] T002 write the parser"}};
    EXPECT_EQ(refusal([&] {
                  decide(wp_in("in_progress", "claude"), move_request("claude"), "for_review");
              }),
              "UNCHECKED_SUBTASKS");
    decide.subtask_reads = 0;
    const Move forced =
        decide(wp_in("in_progress", "claude"), move_request("claude", "", true), "for_review");
    EXPECT_EQ(decide.subtask_reads, 0);
    EXPECT_TRUE(forced.forced);
    EXPECT_FALSE(forced.needs_readiness);
    EXPECT_EQ(walk(forced), (Steps{{"in_progress", "for_review"}})); // forced: one event
}

// §7.2 step 2: the agent the WP is assigned to, unless --force.
TEST(HandoffVerdict, AnotherAgentsWpIsRefusedUnlessForced) {
    Verdict decide;
    EXPECT_EQ(
        refusal([&] { decide(wp_in("in_progress", "claude"), move_request("rev"), "for_review"); }),
        "AGENT_MISMATCH");
    // Not held (for_review): the WP file's agent is the owner.
    EXPECT_EQ(refusal([&] {
                  decide(wp_in("for_review", "claude", false, "claude"), move_request("rev"),
                         "in_progress");
              }),
              "AGENT_MISMATCH");
    EXPECT_NO_THROW(
        decide(wp_in("in_progress", "claude"), move_request("rev", "", true), "for_review"));
    // Without --agent, nobody is compared.
    EXPECT_NO_THROW(decide(wp_in("in_progress", "claude"), move_request(""), "for_review"));
}

// §7.2 step 4 and §7.4: back to planned from a review is a rejection: feedback required,
// even with --force, one event.
TEST(HandoffVerdict, ARejectionNeedsFeedbackAndIsOneEvent) {
    Verdict decide;
    const LoopWp reviewed = wp_in("in_progress", "rev", true);
    EXPECT_EQ(refusal([&] { decide(reviewed, move_request("rev"), "planned"); }),
              "FEEDBACK_REQUIRED");
    EXPECT_EQ(refusal([&] { decide(reviewed, move_request("rev", "", true), "planned"); }),
              "FEEDBACK_REQUIRED");
    EXPECT_EQ(
        refusal([&] { decide(reviewed, move_request("rev"), "planned", std::string(" \n")); }),
        "FEEDBACK_REQUIRED");
    const Move m = decide(reviewed, move_request("rev"), "planned", std::string("fix the tests"));
    EXPECT_TRUE(m.rejection);
    EXPECT_EQ(walk(m), (Steps{{"in_progress", "planned"}}));
    EXPECT_FALSE(m.needs_readiness);
    // From approved (a verdict taken back) too.
    EXPECT_TRUE(
        decide(wp_in("approved"), move_request(""), "planned", std::string("regressed")).rejection);
}

// Releasing a claim back to planned, or a review back to for_review, needs a reason.
TEST(HandoffVerdict, AReleaseNeedsAReason) {
    Verdict decide;
    EXPECT_EQ(
        refusal([&] { decide(wp_in("claimed", "claude"), move_request("claude"), "planned"); }),
        "REASON_REQUIRED");
    const Move released =
        decide(wp_in("claimed", "claude"), move_request("claude", "not started"), "planned");
    EXPECT_FALSE(released.rejection);
    EXPECT_EQ(walk(released), (Steps{{"claimed", "planned"}}));
    const LoopWp reviewed = wp_in("in_progress", "rev", true);
    EXPECT_EQ(refusal([&] { decide(reviewed, move_request("rev"), "for_review"); }),
              "REASON_REQUIRED");
    const Move handed_back = decide(reviewed, move_request("rev", "out of time"), "for_review");
    EXPECT_TRUE(handed_back.review_release);
    EXPECT_FALSE(handed_back.needs_readiness); // a review handed back is no hand-off
    EXPECT_EQ(walk(handed_back), (Steps{{"in_progress", "for_review"}}));
}

// identity-status.md §4.1: a pair the matrix lacks is refused without --force; with it, one
// forced event. A move to the lane the WP is in is refused.
TEST(HandoffVerdict, IllegalTransitionsAndNoMoves) {
    Verdict decide;
    EXPECT_EQ(refusal([&] { decide(wp_in("done"), move_request(""), "in_progress"); }),
              "ILLEGAL_TRANSITION");
    const Move forced = decide(wp_in("done"), move_request("", "reopen", true), "in_progress");
    EXPECT_TRUE(forced.forced);
    EXPECT_EQ(walk(forced), (Steps{{"done", "in_progress"}}));
    EXPECT_EQ(refusal([&] { decide(wp_in("approved"), move_request(""), "approved"); }),
              "ALREADY_IN_LANE");
}

namespace {

using kitty::merge_detail::decide_plan;
using kitty::merge_detail::PlanChecks;
using kitty::merge_detail::PlanFacts;

// The facts of a ready merge of the States mission below: main checked out and clean, the
// mission branch there, lane-a and lane-b with tips the mission branch holds.
PlanFacts ready_merge() {
    PlanFacts f;
    f.target_exists = true;
    f.checked_out = "main";
    f.mission_tip = "m1";
    f.lanes["lane-a"].tip = "a1";
    f.lanes["lane-b"].tip = "b1";
    return f;
}

std::vector<std::string> problem_codes(const kitty::merge_detail::Plan& plan) {
    std::vector<std::string> codes;
    for (const kitty::Json& p : plan.problems) {
        codes.push_back(p["code"].get<std::string>());
    }
    return codes;
}

std::vector<std::string> step_branches(const kitty::merge_detail::Plan& plan) {
    std::vector<std::string> out;
    for (const auto& s : plan.steps) {
        out.push_back(s.branch);
    }
    return out;
}

} // namespace

// The merge plan (ARCHITECTURE.md decision 10) on in-memory states and facts.
class MergePlans : public States {
protected:
    // WP01 in lane-a; WP02 in lane-b, which depends on lane-a; WP03 a planning WP.
    LoopState mission(const std::string& wp01, const std::string& wp02,
                      const std::string& wp03 = "approved") {
        fs::create_directories(tmp / ".kittify"); // a project: the plan names its checkouts
        LoopState s = state({{"WP01", wp01, "", "lane-a", {}},
                             {"WP02", wp02, "", "lane-b", {"WP01"}},
                             {"WP03", wp03, "", "lane-planning", {}}});
        kitty::LanesManifest lanes;
        lanes.mission_slug = "001-demo";
        lanes.mission_branch = "kitty/mission-001-demo";
        lanes.target_branch = "main";
        lanes.lanes = {{"lane-b", {"WP02"}, {}, {}, {"lane-a"}, 0},
                       {"lane-a", {"WP01"}, {}, {}, {}, 0},
                       {"lane-planning", {"WP03"}, {}, {}, {}, 0}};
        s.lanes = lanes;
        return s;
    }
};

TEST_F(MergePlans, AReadyMissionMergesItsLanesInDependencyOrderThenThePlanningLane) {
    const LoopState s = mission("approved", "approved");
    const auto plan = decide_plan(s, {}, true, PlanChecks::all, ready_merge());
    EXPECT_TRUE(plan.problems.empty()) << plan.problems.dump();
    EXPECT_EQ(plan.target, "main");
    EXPECT_EQ(plan.strategy, "squash");
    EXPECT_EQ(step_branches(plan),
              (std::vector<std::string>{"kitty/mission-001-demo-lane-a",
                                        "kitty/mission-001-demo-lane-b", "main"}));
    EXPECT_EQ(plan.approved, (std::vector<std::string>{"WP01", "WP02", "WP03"}));
}

TEST_F(MergePlans, EveryProblemIsReportedInOrder) {
    const LoopState s = mission("approved", "for_review");
    PlanFacts f = ready_merge();
    f.checked_out = "kitty/mission-001-demo-lane-a";
    f.main_changes = {"kitty-specs/001-demo/status.events.jsonl", "src/app.py"};
    f.lanes["lane-a"].stale = std::vector<std::string>{"src/app.py"};
    f.lanes["lane-b"].tip.reset();
    f.lanes["lane-b"].changes = {"src/b.py"};
    f.unlisted = {{"kitty/mission-001-demo-lane-c", "c1", false},
                  {"kitty/mission-001-demo-lane-d", "d1", true}};
    const auto plan = decide_plan(s, {}, true, PlanChecks::all, f);
    EXPECT_EQ(problem_codes(plan),
              (std::vector<std::string>{"WP_NOT_APPROVED", "TARGET_NOT_CHECKED_OUT",
                                        "MAIN_CHECKOUT_DIRTY", "LANE_STALE", "LANE_BRANCH_MISSING",
                                        "LANE_DIRTY", "UNMERGED_LANE_BRANCH"}));
    // The status files are the done commit's own, not uncommitted work in the way.
    EXPECT_EQ(plan.problems[2]["paths"], kitty::Json::array({"src/app.py"}));
    EXPECT_TRUE(plan.conflict); // a checkout in the way is a conflict with existing state
    // A step-only plan (the loop's forecast) scans nothing and looks for no other branch.
    const auto steps_only = decide_plan(s, {}, false, PlanChecks::steps_only, ready_merge());
    EXPECT_EQ(problem_codes(steps_only), (std::vector<std::string>{"WP_NOT_APPROVED"}));
}

TEST_F(MergePlans, ApprovedWorkOutsideTheLanesIsRefused) {
    LoopState s = mission("approved", "approved");
    s.lanes->lanes.erase(s.lanes->lanes.begin()); // lane-b dropped from lanes.json
    const auto plan = decide_plan(s, {}, true, PlanChecks::all, ready_merge());
    EXPECT_EQ(problem_codes(plan), (std::vector<std::string>{"WP_NOT_IN_LANES"}));
    EXPECT_EQ(plan.problems[0]["wp_id"], "WP02");
}

TEST_F(MergePlans, DoneWorkIsNotMergedAgainAndWithoutAMissionBranchNoLaneIs) {
    const LoopState done = mission("done", "done", "done");
    const auto nothing = decide_plan(done, {}, true, PlanChecks::all, ready_merge());
    EXPECT_TRUE(nothing.approved.empty());
    EXPECT_TRUE(nothing.steps.empty());
    const LoopState s = mission("approved", "done", "done");
    PlanFacts f = ready_merge();
    f.mission_tip.clear();
    const auto plan = decide_plan(s, {}, true, PlanChecks::all, f);
    EXPECT_EQ(problem_codes(plan), (std::vector<std::string>{"MISSION_BRANCH_MISSING"}));
    EXPECT_TRUE(plan.steps.empty());
}

TEST_F(MergePlans, TheTargetAndStrategyComeFromTheRequestThenLanesJsonAndTheConfig) {
    const LoopState s = mission("approved", "approved");
    PlanFacts f = ready_merge();
    f.configured_strategy = "merge";
    kitty::MergeRequest request;
    EXPECT_EQ(decide_plan(s, request, true, PlanChecks::all, f).strategy, "merge");
    request.strategy = "squash";
    request.target_branch = "release";
    const auto plan = decide_plan(s, request, true, PlanChecks::all, f);
    EXPECT_EQ(plan.strategy, "squash");
    EXPECT_EQ(plan.target, "release");
    EXPECT_EQ(problem_codes(plan), (std::vector<std::string>{"TARGET_NOT_CHECKED_OUT"}));
    f.configured_strategy = "rebase";
    try {
        decide_plan(s, {}, true, PlanChecks::all, f);
        ADD_FAILURE() << "a configured rebase strategy was accepted";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "UNSUPPORTED_STRATEGY");
        EXPECT_EQ(e.exit(), kitty::Exit::usage);
    }
}
