#include <cstdlib>

#include <gtest/gtest.h>

#include "kitty/clock.hpp"
#include "kitty/error.hpp"

using kitty::UtcTime;

TEST(Clock, PythonIsoformatDropsZeroFraction) {
    // Values from spec/identity-status.md §2.5 and Appendix B.
    EXPECT_EQ(kitty::python_isoformat({1775735141, 123456}), "2026-04-09T11:45:41.123456+00:00");
    EXPECT_EQ(kitty::python_isoformat({1775735141, 0}), "2026-04-09T11:45:41+00:00");
    EXPECT_EQ(kitty::python_isoformat({1775735141, 5}), "2026-04-09T11:45:41.000005+00:00");
    EXPECT_EQ(kitty::iso_seconds_z({1775735141, 999999}), "2026-04-09T11:45:41Z");
    EXPECT_EQ(kitty::python_isoformat({0, 0}), "1970-01-01T00:00:00+00:00");
    EXPECT_EQ(kitty::python_isoformat({1775735141, 0}, 120), "2026-04-09T13:45:41+02:00");
    EXPECT_EQ(kitty::python_isoformat({1775735141, 7}, -330), "2026-04-09T06:15:41.000007-05:30");
}

TEST(Clock, SourceDateEpochPinsNow) {
    ::setenv("SOURCE_DATE_EPOCH", "1775735141", 1);
    const UtcTime t = kitty::now_utc();
    EXPECT_EQ(t.seconds, 1775735141);
    EXPECT_EQ(t.microseconds, 0);
    ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
    try {
        kitty::now_utc();
        ADD_FAILURE() << "accepted a non-integer SOURCE_DATE_EPOCH";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::usage);
    }
    ::unsetenv("SOURCE_DATE_EPOCH");
    EXPECT_GT(kitty::now_utc().seconds, 1775735141);
}

TEST(Clock, ParsesTheTimestampShapesFoundInMetaFiles) {
    UtcTime t;
    ASSERT_TRUE(kitty::parse_iso_timestamp("2026-04-09T11:45:41.123456+00:00", t));
    EXPECT_EQ(t.seconds, 1775735141);
    EXPECT_EQ(t.microseconds, 123456);
    ASSERT_TRUE(kitty::parse_iso_timestamp("2025-11-02T15:37:41Z", t));
    EXPECT_EQ(kitty::python_isoformat(t), "2025-11-02T15:37:41+00:00");
    ASSERT_TRUE(kitty::parse_iso_timestamp("2026-02-23T14:00:00+01:00", t));
    EXPECT_EQ(kitty::python_isoformat(t), "2026-02-23T13:00:00+00:00");
    ASSERT_TRUE(kitty::parse_iso_timestamp("2026-04-09T07:43:40.7+00:00", t));
    EXPECT_EQ(t.microseconds, 700000);
    EXPECT_FALSE(kitty::parse_iso_timestamp("2026-04-09 07:43:40", t));
    EXPECT_FALSE(kitty::parse_iso_timestamp("2026-02-30T00:00:00Z", t));
    EXPECT_FALSE(kitty::parse_iso_timestamp("2026-04-09T07:43:40+0100", t));
}

// datetime.now().isoformat(): local wall time, naive (checked with Python for these zones).
TEST(Clock, PythonLocalIsoformatFollowsTz) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_EQ(kitty::python_local_isoformat({1767225600, 0}), "2026-01-01T00:00:00");
    ::setenv("TZ", "CET-1", 1); // POSIX rules: no tzdata needed
    ::tzset();
    EXPECT_EQ(kitty::python_local_isoformat({1767225600, 250}), "2026-01-01T01:00:00.000250");
    ::setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
    ::tzset();
    EXPECT_EQ(kitty::python_local_isoformat({1783000000, 0}), "2026-07-02T09:46:40");
    ::unsetenv("TZ");
    ::tzset();
}

// §2.6: sscanf's %2u took "+1" and " 1" for digits, so "2026-+1-+1T+0:+0:+0Z" was a
// timestamp and went into lanes.json. Every field is digits only and range-checked.
TEST(Clock, TimestampFieldsAreDigitsOnly) {
    UtcTime t;
    for (const char* bad :
         {"2026-+1-+1T+0:+0:+0Z", "2026- 1- 1T 0: 0: 0Z", "+026-04-09T07:43:40Z",
          "2026-04-09T07:43:40.+5Z", "2026-04-09T07:43:40.1234567Z", "2026-04-09T24:00:00Z",
          "2026-04-09T07:60:00Z", "2026-04-09T07:43:60Z", "2026-13-09T07:43:40Z",
          "0000-01-01T00:00:00Z", "2026-04-09T07:43:40+24:00", "2026-04-09T07:43:40+01:-1",
          "2026-04-09T07:43:40Z ", "2026-04-09T07:43:40", "2026-04-09", "20260409T074340Z", ""}) {
        EXPECT_FALSE(kitty::parse_iso_timestamp(bad, t)) << bad;
    }
    ASSERT_TRUE(kitty::parse_iso_timestamp("2024-02-29T23:59:59.999999-12:30", t));
    EXPECT_EQ(kitty::python_isoformat(t), "2024-03-01T12:29:59.999999+00:00");
}

// The same reader with Python's fromisoformat forms (credential expiries) is no laxer
// about the digits.
TEST(Clock, PythonFormsAreDigitsOnlyToo) {
    UtcTime t;
    ASSERT_TRUE(kitty::parse_iso_timestamp("20990101T000000", t, kitty::IsoForms::python));
    EXPECT_EQ(t.seconds, 4070908800);
    ASSERT_TRUE(kitty::parse_iso_timestamp("2099-01-01 05:30+0530", t, kitty::IsoForms::python));
    EXPECT_EQ(t.seconds, 4070908800);
    for (const char* bad : {"2099-+1-01", "2099-01-01T+0:00", "2099-01-01T00:00:00+5:30",
                            "2099-01-01T00:00:00+05:", "2099-0101"}) {
        EXPECT_FALSE(kitty::parse_iso_timestamp(bad, t, kitty::IsoForms::python)) << bad;
    }
}

// D14: 9223372036854775807 was accepted and written as a year nobody can read. The bound
// is the last second of year 9999.
TEST(Clock, SourceDateEpochStopsAtYear9999) {
    ::setenv("SOURCE_DATE_EPOCH", "253402300799", 1);
    EXPECT_EQ(kitty::python_isoformat(kitty::now_utc()), "9999-12-31T23:59:59+00:00");
    for (const char* bad : {"253402300800", "9223372036854775807"}) {
        ::setenv("SOURCE_DATE_EPOCH", bad, 1);
        try {
            kitty::now_utc();
            ADD_FAILURE() << "accepted SOURCE_DATE_EPOCH=" << bad;
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.exit(), kitty::Exit::usage);
            EXPECT_EQ(e.code(), "BAD_SOURCE_DATE_EPOCH");
        }
    }
    ::unsetenv("SOURCE_DATE_EPOCH");
}
