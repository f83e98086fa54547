// The status model against ../shared/spec/identity-status.md §4 (section numbers below).
#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/status.hpp"
#include "process.hpp"

using kitty::StatusEvent;

namespace {

StatusEvent event(std::string id, std::string wp, std::string from, std::string to, std::string at,
                  bool force = false) {
    StatusEvent e;
    e.event_id = std::move(id);
    e.wp_id = std::move(wp);
    e.from_lane = std::move(from);
    e.to_lane = std::move(to);
    e.at = std::move(at);
    e.actor = "a";
    e.force = force;
    e.mission_slug = "m";
    return e;
}

} // namespace

// §4.2: the real first line of 079's event log, byte for byte.
TEST(StatusEvent, LineIsThe311Format) {
    StatusEvent e = event("01KNRK4RNP4PV7HV6JC0P509F9", "WP01", "planned", "planned",
                          "2026-04-09T07:43:40.726428+00:00", true);
    e.actor = "finalize-tasks";
    e.mission_slug = "079-post-555-release-hardening";
    e.reason = "canonical bootstrap";
    EXPECT_EQ(e.line(),
              "{\"actor\": \"finalize-tasks\", \"at\": \"2026-04-09T07:43:40.726428+00:00\", "
              "\"event_id\": \"01KNRK4RNP4PV7HV6JC0P509F9\", \"evidence\": null, "
              "\"execution_mode\": \"worktree\", \"force\": true, \"from_lane\": \"planned\", "
              "\"mission_slug\": \"079-post-555-release-hardening\", \"policy_metadata\": null, "
              "\"reason\": \"canonical bootstrap\", \"review_ref\": null, \"to_lane\": "
              "\"planned\", \"wp_id\": \"WP01\"}\n");
}

// §4.1.
TEST(StatusLanes, AliasesAndTransitions) {
    EXPECT_EQ(kitty::canonical_lane(" Doing "), "in_progress");
    EXPECT_EQ(kitty::canonical_lane("in_review"), "in_review");
    EXPECT_FALSE(kitty::canonical_lane("review"));
    EXPECT_TRUE(kitty::transition_allowed("planned", "claimed"));
    EXPECT_TRUE(kitty::transition_allowed("in_review", "planned"));
    EXPECT_TRUE(kitty::transition_allowed("blocked", "in_progress"));
    EXPECT_TRUE(kitty::transition_allowed("blocked", "canceled"));
    EXPECT_TRUE(kitty::transition_allowed("approved", "blocked"));
    EXPECT_FALSE(kitty::transition_allowed("planned", "done"));
    EXPECT_FALSE(kitty::transition_allowed("done", "planned"));
    EXPECT_FALSE(kitty::transition_allowed("canceled", "planned"));
    EXPECT_FALSE(kitty::transition_allowed("blocked", "planned"));
    EXPECT_FALSE(kitty::transition_allowed("for_review", "approved"));
}

// §4.3: dedupe by id (first wins), sort by (at, id), force_count, summary, the rollback rule.
TEST(StatusReducer, Deterministic) {
    const auto empty = kitty::reduce_status({});
    EXPECT_EQ(empty.event_count, 0);
    EXPECT_EQ(empty.materialized_at, "");
    EXPECT_EQ(empty.summary.size(), 9u);

    std::vector<StatusEvent> events{
        event("e3", "WP01", "claimed", "in_progress", "2026-01-03"),
        event("e1", "WP01", "planned", "planned", "2026-01-01", true),
        event("e2", "WP01", "planned", "claimed", "2026-01-02"),
        event("e2", "WP01", "planned", "done", "2026-01-09"), // duplicate id: ignored
        event("e0", "WP02", "planned", "planned", "2026-01-01", true),
    };
    auto s = kitty::reduce_status(events);
    EXPECT_EQ(s.event_count, 4);
    EXPECT_EQ(s.last_event_id, "e3");
    EXPECT_EQ(s.materialized_at, "2026-01-03");
    EXPECT_EQ(s.work_packages.at("WP01").lane, "in_progress");
    EXPECT_EQ(s.work_packages.at("WP01").force_count, 1);
    EXPECT_EQ(s.summary.at("in_progress"), 1);
    EXPECT_EQ(s.summary.at("planned"), 1);

    // Two events at the same instant: a rollback (for_review -> in_progress with a review
    // ref) wins over a plain move, whichever sorts last.
    StatusEvent rollback = event("z1", "WP03", "for_review", "in_progress", "2026-02-01");
    rollback.review_ref = "review-1";
    StatusEvent plain = event("z2", "WP03", "for_review", "approved", "2026-02-01");
    s = kitty::reduce_status({rollback, plain});
    EXPECT_EQ(s.work_packages.at("WP03").lane, "in_progress");
    StatusEvent plain_first = event("a0", "WP03", "for_review", "approved", "2026-02-01");
    s = kitty::reduce_status({plain_first, rollback});
    EXPECT_EQ(s.work_packages.at("WP03").lane, "in_progress");
}

// §4.4: key order and layout of status.json.
TEST(StatusJson, SortedKeysIndentTwo) {
    const auto s = kitty::reduce_status({event("e1", "WP01", "planned", "planned", "t1", true)});
    const std::string text = kitty::serialize_status_json(s, "001", "software-dev");
    EXPECT_TRUE(text.starts_with(
        "{\n  \"event_count\": 1,\n  \"last_event_id\": \"e1\",\n  \"materialized_at\": \"t1\",\n"
        "  \"mission_number\": \"001\",\n  \"mission_slug\": \"m\",\n  \"mission_type\": "
        "\"software-dev\",\n  \"summary\": {\n    \"approved\": 0,\n"))
        << text;
    EXPECT_NE(text.find("\"work_packages\": {\n    \"WP01\": {\n      \"actor\": \"a\",\n"
                        "      \"force_count\": 1,\n      \"lane\": \"planned\","),
              std::string::npos);
    EXPECT_TRUE(text.ends_with("}\n"));
}

// §4.5: weights and Python's round(x, 1).
TEST(StatusProgress, WeightsAndRounding) {
    EXPECT_EQ(kitty::python_round1(0.25), "0.2");
    EXPECT_EQ(kitty::python_round1(2.25), "2.2");
    EXPECT_EQ(kitty::python_round1(0.35), "0.3");
    EXPECT_EQ(kitty::python_round1((0.3 + 0.6 + 0.7) / 3 * 100), "53.3");
    EXPECT_EQ(kitty::python_round1((0.6 + 0.3 + 0.0) / 3 * 100), "30.0");
    const auto s = kitty::reduce_status({event("1", "WP01", "planned", "for_review", "t"),
                                         event("2", "WP02", "planned", "in_progress", "t"),
                                         event("3", "WP03", "planned", "blocked", "t")});
    EXPECT_EQ(kitty::python_round1(kitty::status_progress(s)), "30.0");
}

TEST(StatusLog, ReadErrorsNameTheLine) {
    kitty::test::TempDir dir;
    kitty::test::write_fixture(dir / "status.events.jsonl",
                               event("e1", "WP01", "planned", "planned", "t").line() + "\n{oops\n");
    try {
        kitty::read_status_events(dir / "status.events.jsonl");
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "INVALID_EVENT_LOG");
        EXPECT_EQ(e.line(), 3);
    }
    kitty::test::write_fixture(
        dir / "status.events.jsonl",
        "{\"event_id\": \"x\", \"wp_id\": \"WP01\", \"from_lane\": \"planned\", "
        "\"to_lane\": \"doing\", \"at\": \"t\", \"actor\": \"a\", \"force\": "
        "false, \"execution_mode\": \"worktree\"}\n");
    EXPECT_THROW(kitty::read_status_events(dir / "status.events.jsonl"), kitty::Error);
    kitty::test::write_fixture(
        dir / "status.events.jsonl",
        "{\"event_id\": \"x\", \"wp_id\": \"WP01\", \"from_lane\": \"planned\", "
        "\"to_lane\": \"claimed\", \"at\": \"t\", \"actor\": \"a\", \"force\": "
        "false, \"execution_mode\": \"worktree\", \"feature_slug\": \"old\"}\n");
    EXPECT_EQ(kitty::read_status_events(dir / "status.events.jsonl").at(0).mission_slug, "old");
}

// §2.3 and D02: the line scanner took any run of "+-.eE0-9" for a number, so "force": 1-2
// was read as true while "evidence": 1-2 reached nlohmann's parse_error (exit 70); a deeply
// nested evidence value crashed the recursive dump. All are INVALID_EVENT_LOG, exit 3,
// naming the line.
TEST(StatusLog, MalformedNumbersAndDeepValuesNameTheLine) {
    kitty::test::TempDir dir;
    const std::string good = event("e1", "WP01", "planned", "planned", "t").line();
    std::string line = good;
    line.pop_back();
    const auto with = [&](const std::string& key, const std::string& value) {
        std::string text = line;
        const std::string needle = "\"" + key + "\": ";
        const auto at = text.find(needle) + needle.size();
        const auto end = text.find_first_of(",}", at);
        return text.replace(at, end - at, value);
    };
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"force", "1-2"},
             {"evidence", "1-2"},
             {"force", "1e400"},
             {"evidence", std::string(10000, '9')},
             {"evidence", std::string(100000, '[') + std::string(100000, ']')}}) {
        kitty::test::write_fixture(dir / "status.events.jsonl", good + with(key, value) + "\n");
        try {
            kitty::read_status_events(dir / "status.events.jsonl");
            ADD_FAILURE() << key << ": " << value.substr(0, 10) << " accepted";
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.exit(), kitty::Exit::input);
            EXPECT_EQ(e.code(), "INVALID_EVENT_LOG");
            EXPECT_EQ(e.line(), 2);
        }
    }
    kitty::test::write_fixture(dir / "status.events.jsonl",
                               with("evidence", "{\"tests\": [1, 2.5]}") + "\n" +
                                   with("force", "1") + "\n");
    const auto events = kitty::read_status_events(dir / "status.events.jsonl");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(kitty::dump_python(events[0].evidence), "{\"tests\": [1, 2.5]}");
    EXPECT_TRUE(events[1].force);
}
