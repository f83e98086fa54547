// Wall-clock time for timestamps that end up in files or output. SOURCE_DATE_EPOCH
// (reproducible-builds.org) pins it so output can be made byte-identical.
#pragma once

#include <cstdint>
#include <string>

namespace kitty {

struct UtcTime {
    std::int64_t seconds = 0; // since the Unix epoch
    int microseconds = 0;
};

// Now, or SOURCE_DATE_EPOCH when set (a non-integer value is Error(Exit::usage)).
UtcTime now_utc();

// Python's datetime.isoformat() of an aware UTC datetime:
// 2026-04-09T11:45:41.123456+00:00, without the fraction when it is zero.
// With offset_minutes, the same instant in that zone: 2026-04-09T13:45:41+02:00.
std::string python_isoformat(UtcTime t, int offset_minutes = 0);

// Python's datetime.now().isoformat(): local time (TZ), naive, fraction as above.
std::string python_local_isoformat(UtcTime t);

// 2026-04-09T11:45:41Z (strftime %Y-%m-%dT%H:%M:%SZ).
std::string iso_seconds_z(UtcTime t);

// 2026-04-09T07:43:40.726Z for a millisecond count (ULID timestamps).
std::string iso_millis_z(std::uint64_t unix_ms);

// Parses an ISO-8601 timestamp as spec-kitty files hold them (YYYY-MM-DDTHH:MM:SS, an
// optional fraction of up to 6 digits, then "Z" or a ±HH:MM offset) into UTC. Returns
// false when it is not one.
bool parse_iso_timestamp(const std::string& text, UtcTime& out);

} // namespace kitty
