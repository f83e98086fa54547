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
