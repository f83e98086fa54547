// The status model against ../shared/spec/identity-status.md §4 (section numbers below).
#include <git2.h>

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <thread>

#include "expect_error.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/status.hpp"
#include "process.hpp"

using kitty::StatusEvent;
using kitty::test::expect_error;

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
// The typed lanes are 3.1.1's nine names, in its order, both ways and in JSON; the named
// groups hold what next-loop.md says they do.
TEST(StatusLanes, TypedLanesAreTheNamesAndTheGroups) {
    for (std::size_t i = 0; i < kitty::kStatusLanes.size(); ++i) {
        const auto lane = kitty::lane_of(kitty::kStatusLanes[i]);
        ASSERT_TRUE(lane) << kitty::kStatusLanes[i];
        EXPECT_EQ(static_cast<std::size_t>(*lane), i);
        EXPECT_EQ(kitty::lane_name(*lane), kitty::kStatusLanes[i]);
        EXPECT_EQ(kitty::Json(*lane), kitty::Json(std::string(kitty::kStatusLanes[i])));
    }
    EXPECT_FALSE(kitty::lane_of("doing")); // an alias is canonical_lane's to resolve
    EXPECT_FALSE(kitty::lane_of("Planned"));
    using kitty::WpLane;
    std::string held, on_branch, approved;
    for (std::size_t i = 0; i < kitty::kStatusLanes.size(); ++i) {
        const auto lane = static_cast<WpLane>(i);
        held += kitty::kHeldLanes.contains(lane) ? kitty::lane_name(lane) + " " : "";
        on_branch += kitty::kOnLaneBranchLanes.contains(lane) ? kitty::lane_name(lane) + " " : "";
        approved += kitty::kApprovedLanes.contains(lane) ? kitty::lane_name(lane) + " " : "";
    }
    EXPECT_EQ(held, "claimed in_progress in_review ");
    EXPECT_EQ(on_branch, "claimed in_progress for_review in_review approved ");
    EXPECT_EQ(approved, "approved done ");
    EXPECT_FALSE(kitty::kFinishedLanes.contains(WpLane::blocked));
}

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

// Extending a snapshot by new events is reducing the whole log again: checked on random logs
// with shared timestamps, duplicate ids, rollbacks and odd lanes, split at every point.
TEST(StatusReducer, ExtendingIsReducingAgain) {
    std::mt19937 random(20261206);
    const std::array<const char*, 5> lanes{"planned", "claimed", "in_progress", "for_review",
                                           "doing"};
    const auto pick = [&random](std::size_t n) {
        return static_cast<std::size_t>(
            std::uniform_int_distribution<std::size_t>(0, n - 1)(random));
    };
    int fast = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<StatusEvent> log;
        const std::size_t n = 1 + pick(12);
        int clock = 0;
        for (std::size_t i = 0; i < n; ++i) {
            // Mostly in order, as kitty writes; sometimes a step back, sometimes the same instant.
            clock += static_cast<int>(pick(3)) - (pick(6) == 0 ? 2 : 0);
            StatusEvent e = event("e" + std::to_string(pick(20)), "WP0" + std::to_string(pick(3)),
                                  lanes[pick(lanes.size())], lanes[pick(lanes.size())],
                                  "2026-01-01T00:00:" + std::to_string(10 + clock), pick(4) == 0);
            if (pick(3) == 0) {
                e.from_lane = "for_review";
                e.to_lane = "in_progress";
                e.review_ref = "r";
            }
            log.push_back(e);
        }
        for (std::size_t split = 0; split <= log.size(); ++split) {
            const std::vector<StatusEvent> existing(log.begin(), log.begin() + split);
            const std::vector<StatusEvent> added(log.begin() + split, log.end());
            const auto whole = kitty::reduce_status(log);
            const auto extended =
                kitty::extend_status(kitty::reduce_status(existing), existing, added);
            ASSERT_EQ(kitty::serialize_status_json(extended, "001", "software-dev"),
                      kitty::serialize_status_json(whole, "001", "software-dev"))
                << "round " << round << ", split " << split << ": " << [&] {
                       std::string text;
                       for (const StatusEvent& e : log) {
                           text += e.line();
                       }
                       return text;
                   }();
            EXPECT_EQ(extended.mission_slug, whole.mission_slug);
            fast += split > 0 && split < log.size() && log[split].at > log[split - 1].at;
        }
    }
    EXPECT_GT(fast, 100); // many splits took the path that applies only the new events
}

// status.json is written without building the document; it is byte for byte what
// json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) gives (dump_python),
// for any strings and any number of WPs, lanes and events.
TEST(StatusJson, WrittenAsDumpPythonWritesTheDocument) {
    std::mt19937 random(20261208);
    const auto pick = [&random](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
    };
    const std::array<std::string, 7> texts{"",
                                           "claude",
                                           "a\"b\\c",
                                           "\n\t\x01\x7f",
                                           "\xc3\xa9\xe2\x82\xac",
                                           "WP01",
                                           "2026-01-01T00:00:00Z"};
    for (int round = 0; round < 200; ++round) {
        kitty::StatusSnapshot s;
        s.event_count = static_cast<int>(pick(1000));
        s.mission_slug = texts[pick(texts.size())];
        s.materialized_at = texts[pick(texts.size())];
        if (pick(2)) {
            s.last_event_id = texts[pick(texts.size())];
        }
        for (std::size_t i = pick(4); i > 0; --i) {
            s.summary[texts[pick(texts.size())]] = static_cast<int>(pick(50));
        }
        for (std::size_t i = pick(5); i > 0; --i) {
            s.work_packages[texts[pick(texts.size())] + std::to_string(i)] = {
                texts[pick(texts.size())], texts[pick(texts.size())], texts[pick(texts.size())],
                texts[pick(texts.size())], static_cast<int>(pick(3))};
        }
        const std::string number = texts[pick(texts.size())];
        const std::string type = texts[pick(texts.size())];
        kitty::Json wps = kitty::Json::object();
        for (const auto& [wp, st] : s.work_packages) {
            wps[wp] = {{"actor", st.actor},
                       {"force_count", st.force_count},
                       {"lane", st.lane},
                       {"last_event_id", st.last_event_id},
                       {"last_transition_at", st.last_transition_at}};
        }
        kitty::Json summary = kitty::Json::object();
        for (const auto& [lane, n] : s.summary) {
            summary[lane] = n;
        }
        const kitty::Json doc = {
            {"event_count", s.event_count},
            {"last_event_id", s.last_event_id ? kitty::Json(*s.last_event_id) : kitty::Json()},
            {"materialized_at", s.materialized_at},
            {"mission_number", number},
            {"mission_slug", s.mission_slug},
            {"mission_type", type},
            {"summary", summary},
            {"work_packages", wps}};
        ASSERT_EQ(kitty::serialize_status_json(s, number, type),
                  kitty::dump_python(doc, {.indent = 2, .ensure_ascii = false, .sort_keys = true}) +
                      "\n")
            << "round " << round;
    }
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

// The line scanner's strings: escapes of every kind, runs of plain text around them, and a raw
// control character (invalid JSON); a field missing is named.
TEST(StatusLog, ScannerReadsEscapesAndNamesAMissingField) {
    kitty::test::TempDir dir;
    StatusEvent e = event("e1", "WP01", "planned", "claimed", "t");
    e.reason =
        std::string("plain \"quoted\" back\\slash /slash\ttab\nline é ") + "\xF0\x9F\x98\x80 end";
    // The line as 3.1.1 writes it (ensure_ascii: \u escapes, a surrogate pair), and the same
    // with the UTF-8 itself, as a hand edit may leave it: both read the same.
    const std::string escaped = e.line();
    ASSERT_NE(escaped.find("\\u00e9"), std::string::npos);
    ASSERT_NE(escaped.find("\\ud83d\\ude00"), std::string::npos);
    std::string line = escaped;
    line.replace(line.find("\\u00e9"), 6, "é");
    kitty::test::write_fixture(dir / "status.events.jsonl", escaped + line);
    const auto events = kitty::read_status_events(dir / "status.events.jsonl");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].reason, e.reason);
    EXPECT_EQ(events[1].reason, e.reason);
    EXPECT_EQ(events[1].to_lane, "claimed");

    std::string control = e.line();
    control.replace(control.find("plain"), 5, "pl\x01in");
    kitty::test::write_fixture(dir / "status.events.jsonl", e.line() + control);
    expect_error([&] { kitty::read_status_events(dir / "status.events.jsonl"); },
                 kitty::Exit::input, "INVALID_EVENT_LOG");

    std::string no_at = e.line();
    no_at.replace(no_at.find("\"at\""), 4, "\"at_\"");
    kitty::test::write_fixture(dir / "status.events.jsonl", no_at);
    try {
        kitty::read_status_events(dir / "status.events.jsonl");
        ADD_FAILURE() << "a line without at was read";
    } catch (const kitty::Error& err) {
        EXPECT_NE(std::string(err.what()).find("Invalid event structure (no at) on line 1"),
                  std::string::npos)
            << err.what();
    }
}

// A review's evidence (a nested value) is read apart by the full parser, brackets and quotes
// inside its strings included, with its keys sorted as the line writer writes them; a field
// given twice counts with its last value, as in Python's json.loads.
TEST(StatusLog, NestedEvidenceAndRepeatedFields) {
    kitty::test::TempDir dir;
    StatusEvent e = event("e1", "WP01", "for_review", "approved", "t");
    e.evidence = kitty::Json::parse(
        R"({"review": {"reviewer": "rev", "reference": "a } \" ] { [ b", "verdict": ["ok", {}]}})");
    const std::string line = e.line();
    std::string repeated = event("e2", "WP02", "planned", "claimed", "t").line();
    repeated.replace(repeated.find("\"wp_id\""), 0,
                     "\"wp_id\": \"WP09\", \"to_lane\": \"blocked\", ");
    kitty::test::write_fixture(dir / "status.events.jsonl", line + repeated);
    const auto events = kitty::read_status_events(dir / "status.events.jsonl");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].evidence["review"]["reference"], "a } \" ] { [ b");
    EXPECT_EQ(events[0].evidence["review"]["verdict"], kitty::Json::parse(R"(["ok", {}])"));
    EXPECT_EQ(events[0].line(), line);
    // wp_id and to_lane are each given twice: WP09 then WP02, claimed then blocked.
    EXPECT_EQ(events[1].wp_id, "WP02");
    EXPECT_EQ(events[1].to_lane, "blocked");
    // What the full parser makes of the same line.
    EXPECT_EQ(kitty::parse_json(repeated, "x")["wp_id"], "WP02");
    EXPECT_EQ(kitty::parse_json(repeated, "x")["to_lane"], "blocked");
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

namespace {

// An event-log line as the merge driver reads it: any JSON object with event_id and at.
std::string raw_event(const std::string& id, const std::string& at, const std::string& extra = "") {
    return "{\"event_id\": \"" + id + "\", \"at\": \"" + at + "\"" +
           (extra.empty() ? "" : ", " + extra) + "}\n";
}

// The error merge_event_logs throws for the three sides, or a failure when it merges.
kitty::Error merge_error(const std::string& base, const std::string& ours,
                         const std::string& theirs) {
    try {
        kitty::merge_event_logs(base, ours, theirs);
    } catch (const kitty::Error& e) {
        return e;
    }
    ADD_FAILURE() << "merged";
    return kitty::Error(kitty::Exit::ok, "", "");
}

} // namespace

// §4.9: the union by event_id, sorted by (at, event_id), one json.dumps(sort_keys) line each.
TEST(EventLogMerge, UnionSortedByTimeThenId) {
    const StatusEvent planned = event("01A", "WP01", "planned", "planned", "2026-01-01T00:00:00Z");
    const StatusEvent claimed = event("01B", "WP01", "planned", "claimed", "2026-01-02T00:00:00Z");
    const StatusEvent other = event("01C", "WP02", "planned", "claimed", "2026-01-02T00:00:00Z");
    const std::string base = planned.line();
    const std::string merged =
        kitty::merge_event_logs(base, base + other.line(), base + claimed.line());
    EXPECT_EQ(merged, planned.line() + claimed.line() + other.line());
    // The time sorts before the id, and both as strings ("10" < "9").
    EXPECT_EQ(kitty::merge_event_logs("", raw_event("a", "9") + raw_event("z", "10"),
                                      raw_event("b", "10")),
              "{\"at\": \"10\", \"event_id\": \"b\"}\n{\"at\": \"10\", \"event_id\": "
              "\"z\"}\n{\"at\": \"9\", \"event_id\": \"a\"}\n");
    // Keys sorted at every level, non-ASCII escaped, as json.dumps(sort_keys=True) writes.
    EXPECT_EQ(kitty::merge_event_logs("", "", raw_event("x", "t", R"("z": {"b": 1, "a": "é"})")),
              "{\"at\": \"t\", \"event_id\": \"x\", \"z\": {\"a\": \"\\u00e9\", \"b\": 1}}\n");
    EXPECT_EQ(kitty::merge_event_logs("", "", ""), "");
}

TEST(EventLogMerge, IdenticalEventsAreKeptOnce) {
    const std::string line = event("01A", "WP01", "planned", "planned", "t").line();
    EXPECT_EQ(kitty::merge_event_logs(line, line, line + line), line);
    // Python's dict equality: key order and 1 == 1.0 do not make two payloads differ; the
    // last side's spelling is written.
    EXPECT_EQ(kitty::merge_event_logs(raw_event("x", "t", "\"n\": 1, \"m\": [true]"),
                                      R"({"m": [1], "at": "t", "n": 1.0, "event_id": "x"})", ""),
              "{\"at\": \"t\", \"event_id\": \"x\", \"m\": [1], \"n\": 1.0}\n");
}

TEST(EventLogMerge, AnEventDeletedOnOneSideComesBackFromTheBase) {
    const std::string a = event("01A", "WP01", "planned", "planned", "t1").line();
    const std::string b = event("01B", "WP02", "planned", "planned", "t2").line();
    const std::string c = event("01C", "WP02", "planned", "claimed", "t3").line();
    EXPECT_EQ(kitty::merge_event_logs(a + b, b + c, b), a + b + c);
    EXPECT_EQ(kitty::merge_event_logs(a + b, "", ""), a + b);
}

TEST(EventLogMerge, ConflictingPayloadsNameTheId) {
    const StatusEvent mine = event("01A", "WP01", "planned", "claimed", "t");
    StatusEvent theirs = mine;
    theirs.actor = "someone else";
    const kitty::Error e = merge_error("", mine.line(), theirs.line());
    EXPECT_EQ(e.exit(), kitty::Exit::check_failed);
    EXPECT_EQ(e.code(), "EVENT_LOG_CONFLICT");
    EXPECT_STREQ(e.what(), "Conflicting payloads found for event_id '01A'");
    // A key present on one side only is a different payload too.
    EXPECT_EQ(merge_error(raw_event("x", "t"), raw_event("x", "t", "\"n\": null"), "").code(),
              "EVENT_LOG_CONFLICT");
    EXPECT_EQ(
        merge_error(raw_event("x", "t", "\"n\": true"), "", raw_event("x", "t", "\"n\": 2")).code(),
        "EVENT_LOG_CONFLICT");
    // Every side is read first: a bad line in theirs wins over a conflict of the others.
    EXPECT_EQ(merge_error(mine.line(), theirs.line(), "nope").code(), "INVALID_EVENT_LOG");
}

TEST(EventLogMerge, InvalidLinesNameTheSideAndTheLine) {
    const std::string good = raw_event("x", "t");
    struct Case {
        std::string base, ours, theirs;
        std::string message;
        int line;
    };
    for (const Case& c : std::vector<Case>{
             {good + "\n{oops\n", "", "", "base: invalid JSON on line 3: ", 3},
             {"", "[1, 2]\n", "", "ours: line 1 is not a JSON object", 1},
             {"", "", good + "{\"at\": \"t\"}\n", "theirs: line 2 is missing a valid event_id", 2},
             {"", "", "{\"event_id\": 7, \"at\": \"t\"}\n",
              "theirs: line 1 is missing a valid event_id", 1},
             {"", "{\"event_id\": \"  \", \"at\": \"t\"}\n", "",
              "ours: line 1 is missing a valid event_id", 1},
             {"{\"event_id\": \"x\"}\n", "", "", "base: line 1 is missing a valid at timestamp", 1},
             {"", "{\"event_id\": \"x\", \"at\": null}\n", "",
              "ours: line 1 is missing a valid at timestamp", 1},
             {"", "\xEF\xBB\xBF" + good, "", "ours: invalid JSON on line 1: unexpected UTF-8 BOM",
              1},
             {"", good + "\"\xFF\"\n", "", "ours: invalid UTF-8 on line 2", 2},
             {"", "",
              "{\"event_id\": \"x\", \"at\": \"t\", \"deep\": " + std::string(600, '[') +
                  std::string(600, ']') + "}\n",
              "theirs: invalid JSON on line 1: nested deeper than 512 levels", 1},
         }) {
        const kitty::Error e = merge_error(c.base, c.ours, c.theirs);
        EXPECT_EQ(e.exit(), kitty::Exit::input) << c.message;
        EXPECT_EQ(e.code(), "INVALID_EVENT_LOG") << c.message;
        EXPECT_EQ(std::string(e.what()).substr(0, c.message.size()), c.message);
        EXPECT_EQ(e.line(), c.line) << c.message;
    }
}

TEST(EventLogMerge, BlankLinesAndLineEndingsAreSkipped) {
    const std::string a = event("01A", "WP01", "planned", "planned", "t1").line();
    const std::string b = event("01B", "WP01", "planned", "claimed", "t2").line();
    std::string crlf_b = b;
    crlf_b.insert(crlf_b.size() - 1, "\r");
    EXPECT_EQ(kitty::merge_event_logs("\n   \n" + a + "\t\n", "\r\n" + crlf_b, "  " + a), a + b);
    // A line number counts the blank lines before it.
    EXPECT_EQ(merge_error("", "\n\n \n{", "").line(), 4);
}

TEST(EventLogMerge, DriverWritesTheUnionOverOurs) {
    kitty::test::TempDir dir;
    const std::string a = event("01A", "WP01", "planned", "planned", "t1").line();
    const std::string b = event("01B", "WP01", "planned", "claimed", "t2").line();
    const std::string c = event("01C", "WP02", "planned", "planned", "t3").line();
    kitty::test::write_fixture(dir / "O", a);
    kitty::test::write_fixture(dir / "A", a + c);
    kitty::test::write_fixture(dir / "B", a + b);
    const kitty::Outcome outcome = kitty::event_log_driver_command(dir / "O", dir / "A", dir / "B");
    EXPECT_EQ(outcome.exit, kitty::Exit::ok);
    EXPECT_EQ(outcome.text, "");
    EXPECT_EQ(outcome.document["events"], 3);
    EXPECT_EQ(outcome.document["path"], (dir / "A").string());
    EXPECT_EQ(kitty::test::slurp(dir / "A"), a + b + c);
    EXPECT_EQ(kitty::test::slurp(dir / "B"), a + b);

    // A conflict or a bad line leaves ours as it was and names the file.
    StatusEvent changed = event("01C", "WP02", "planned", "planned", "t3");
    changed.actor = "other";
    kitty::test::write_fixture(dir / "B", changed.line());
    expect_error([&] { kitty::event_log_driver_command(dir / "O", dir / "A", dir / "B"); },
                 kitty::Exit::check_failed, "EVENT_LOG_CONFLICT");
    kitty::test::write_fixture(dir / "B", "nope\n");
    try {
        kitty::event_log_driver_command(dir / "O", dir / "A", dir / "B");
        ADD_FAILURE() << "merged";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "INVALID_EVENT_LOG");
        EXPECT_EQ(e.path(), dir / "B");
        EXPECT_EQ(std::string(e.what()).find((dir / "B").string() + ": invalid JSON on line 1"), 0u)
            << e.what();
    }
    EXPECT_EQ(kitty::test::slurp(dir / "A"), a + b + c);
    // A side that does not exist has no events.
    kitty::event_log_driver_command(dir / "none", dir / "A", dir / "also-none");
    EXPECT_EQ(kitty::test::slurp(dir / "A"), a + b + c);
}

namespace {

// The content of `path` in the commit `revision` of the repository at `dir` (libgit2).
std::string blob_at(const std::filesystem::path& dir, const std::string& revision,
                    const std::string& path) {
    git_libgit2_init();
    git_repository* repo = nullptr;
    EXPECT_EQ(git_repository_open(&repo, dir.c_str()), 0);
    git_object* object = nullptr;
    EXPECT_EQ(git_revparse_single(&object, repo, (revision + ":" + path).c_str()), 0);
    std::string text;
    if (object != nullptr) {
        const auto* blob = reinterpret_cast<const git_blob*>(object);
        text.assign(static_cast<const char*>(git_blob_rawcontent(blob)),
                    static_cast<std::size_t>(git_blob_rawsize(blob)));
    }
    git_object_free(object);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return text;
}

// A repository whose main has init's .gitattributes line and a mission event log with one
// event; lane-a and lane-b (worktrees beside it) each append their own event.
struct EventLogBranches {
    kitty::test::TempDir tmp;
    std::filesystem::path dir = tmp / "repo";
    std::string log = "kitty-specs/001-x/status.events.jsonl";
    std::string base = event("01A", "WP01", "planned", "planned", "2026-01-01T00:00:00Z").line();
    EventLogBranches(const StatusEvent& on_a, const StatusEvent& on_b) {
        kitty::test::make_git_repo(dir);
        kitty::test::write_fixture(dir / ".git" / "config",
                                   kitty::test::slurp(dir / ".git" / "config") +
                                       "[user]\n\tname = Ada\n\temail = ada@example.invalid\n");
        kitty::test::write_fixture(
            dir / ".gitattributes",
            "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n");
        kitty::test::write_fixture(dir / log, base);
        kitty::test::git_commit_all(dir, "mission");
        kitty::Repository repo = kitty::Repository::open(dir);
        for (const auto& [lane, added] : {std::pair{"lane-a", &on_a}, std::pair{"lane-b", &on_b}}) {
            repo.create_branch(lane, "main");
            repo.add_worktree(lane, tmp / lane, lane);
            kitty::test::write_fixture(tmp / lane / log, base + added->line());
            kitty::test::git_commit_all(tmp / lane, lane, 1767225700);
        }
    }
};

} // namespace

// §4.9 through a real libgit2 merge: the .gitattributes line of the checkout routes the
// event log to the driver registered in process.
TEST(EventLogMerge, KittysOwnMergesUseTheDriver) {
    const StatusEvent b = event("01C", "WP02", "planned", "claimed", "2026-01-03T00:00:00Z");
    const StatusEvent a = event("01B", "WP01", "planned", "claimed", "2026-01-02T00:00:00Z");
    EventLogBranches h(b, a);
    // The only test of this program that registers it: until then, libgit2's line merge
    // conflicts.
    expect_error(
        [&] {
            kitty::Repository::open(h.dir).combine_commits({"lane-a", "lane-b"}, "m");
        },
        kitty::Exit::check_failed, "MERGE_CONFLICT");
    kitty::register_kitty_merge_drivers();
    kitty::register_kitty_merge_drivers(); // twice is harmless
    kitty::Repository repo = kitty::Repository::open(h.dir);
    const std::string merged = repo.combine_commits({"lane-a", "lane-b"}, "m");
    EXPECT_EQ(blob_at(h.dir, merged, h.log), h.base + a.line() + b.line());
    const std::string squashed = repo.squash_commit("lane-b", "lane-a", "s");
    EXPECT_EQ(blob_at(h.dir, squashed, h.log), h.base + a.line() + b.line());

    // The same event_id with two payloads: the log stays conflicted, and the error says why.
    StatusEvent changed = a;
    changed.actor = "someone else";
    EventLogBranches conflicting(a, changed);
    try {
        kitty::Repository::open(conflicting.dir).combine_commits({"lane-a", "lane-b"}, "m");
        ADD_FAILURE() << "merged";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.code(), "MERGE_CONFLICT");
        EXPECT_EQ(e.notes(), std::vector<std::string>{
                                 h.log + ": Conflicting payloads found for event_id '01B'"});
    }
}

TEST(MissionState, FromTheLanesOfItsWorkPackages) {
    using kitty::mission_state;
    EXPECT_EQ(mission_state({}, false, false), "planning");
    EXPECT_EQ(mission_state({"planned", "planned"}, false, false), "planning");
    EXPECT_EQ(mission_state({"planned", "approved"}, true, false), "in_progress");
    EXPECT_EQ(mission_state({"blocked", "done"}, true, true), "in_progress");
    EXPECT_EQ(mission_state({"approved", "done", "canceled"}, true, false), "approved");
    EXPECT_EQ(mission_state({"approved", "approved"}, true, true), "accepted");
    EXPECT_EQ(mission_state({"done", "canceled"}, true, false), "merged");
    EXPECT_EQ(mission_state({"done"}, true, true), "merged");
}

// Issue 21 §3 through real libgit2 merges, in a repository whose .gitattributes says nothing:
// tasks.md and a WP file changed on two branches merge field by field; any other file keeps
// git's text merge (and its conflict).
TEST(EventLogMerge, MissionFilesMergeFieldByFieldWithoutAttributes) {
    kitty::register_kitty_merge_drivers();
    kitty::test::TempDir tmp;
    const std::filesystem::path dir = tmp / "repo";
    kitty::test::make_git_repo(dir);
    // The merge commits with the repository's identity, never the user's.
    kitty::test::write_fixture(
        dir / ".git/config", kitty::test::slurp(dir / ".git/config") +
                                 "[user]\n\tname = Merge Tester\n\temail = merge@kitty.invalid\n");
    const std::string tasks = "kitty-specs/001-x/tasks.md";
    const std::string wp = "kitty-specs/001-x/tasks/WP01-alpha.md";
    const auto wp_text = [](const std::string& agent, const std::string& log) {
        return "---\nwork_package_id: WP01\nagent: " + agent +
               "\n---\n\n# WP01\n\n## Activity Log\n\n- 2026-01-01T09:00:00Z – a – start\n" + log;
    };
    kitty::test::write_fixture(dir / tasks, "## WP01\n\n- [ ] T001 a\n- [ ] T002 b\n");
    kitty::test::write_fixture(dir / wp, wp_text("claude", ""));
    kitty::test::write_fixture(dir / "src.txt", "one\n");
    kitty::test::git_commit_all(dir, "mission");
    kitty::Repository repo = kitty::Repository::open(dir);
    const std::map<std::string, std::array<std::string, 3>> sides = {
        {"lane-a",
         {"## WP01\n\n- [x] T001 a\n- [ ] T002 b\n",
          wp_text("claude", "- 2026-01-01T10:00:00Z – a – ticked\n"), "one\n"}},
        {"lane-b",
         {"## WP01\n\n- [ ] T001 a\n- [x] T002 b\n",
          wp_text("codex", "- 2026-01-01T11:00:00Z – b – took it\n"), "one\n"}}};
    for (const auto& [lane, files] : sides) {
        repo.create_branch(lane, "main");
        repo.add_worktree(lane, tmp / lane, lane);
        kitty::test::write_fixture(tmp / lane / tasks, files[0]);
        kitty::test::write_fixture(tmp / lane / wp, files[1]);
        kitty::test::git_commit_all(tmp / lane, lane, 1767225700);
    }
    const std::string merged = repo.combine_commits({"lane-a", "lane-b"}, "m");
    EXPECT_EQ(blob_at(dir, merged, tasks), "## WP01\n\n- [x] T001 a\n- [x] T002 b\n");
    EXPECT_EQ(blob_at(dir, merged, wp), wp_text("codex", "- 2026-01-01T10:00:00Z – a – ticked\n"
                                                         "- 2026-01-01T11:00:00Z – b – took it\n"));
    // An ordinary file changed on both sides still conflicts, as git's text merge has it.
    kitty::test::write_fixture(tmp / "lane-a" / "src.txt", "two\n");
    kitty::test::git_commit_all(tmp / "lane-a", "a", 1767225800);
    kitty::test::write_fixture(tmp / "lane-b" / "src.txt", "three\n");
    kitty::test::git_commit_all(tmp / "lane-b", "b", 1767225800);
    expect_error(
        [&] {
            repo.combine_commits({"lane-a", "lane-b"}, "m");
        },
        kitty::Exit::check_failed, "MERGE_CONFLICT");
}

// Found by the loop's concurrency test under ASan: a read of the log without the status lock
// saw half of another process's append and failed with "Invalid JSON". A half-written last
// line is read again until its writer finishes it; one that stays unfinished is an error.
TEST(StatusLog, AHalfWrittenAppendIsReadOnceItIsWhole) {
    kitty::test::TempDir tmp;
    const auto log = tmp / "status.events.jsonl";
    StatusEvent first, second;
    first.actor = second.actor = "a";
    first.at = "2026-01-01T00:00:00+00:00";
    second.at = "2026-01-01T00:00:01+00:00";
    first.event_id = "01KAAAAAAAAAAAAAAAAAAAAAAA";
    second.event_id = "01KBBBBBBBBBBBBBBBBBBBBBBB";
    first.from_lane = "planned";
    first.to_lane = second.from_lane = "claimed";
    second.to_lane = "in_progress";
    first.mission_slug = second.mission_slug = "001-x";
    first.wp_id = second.wp_id = "WP01";
    const std::string line = second.line();
    kitty::test::write_fixture(log, first.line() + line.substr(0, line.size() / 2));
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::FILE* f = std::fopen(log.c_str(), "a");
        std::fputs(line.substr(line.size() / 2).c_str(), f);
        std::fclose(f);
    });
    const auto events = kitty::read_status_events(log);
    writer.join();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].event_id, second.event_id);

    kitty::test::write_fixture(log, first.line() + line.substr(0, line.size() / 2));
    expect_error([&] { kitty::read_status_events(log); }, kitty::Exit::input, "INVALID_EVENT_LOG");
}
