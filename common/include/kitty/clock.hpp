// Wall-clock time for timestamps that end up in files or output. SOURCE_DATE_EPOCH
// (reproducible-builds.org) pins it so output can be made byte-identical.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kitty {

struct UtcTime {
    std::int64_t seconds = 0; // since the Unix epoch
    int microseconds = 0;
};

// The last second a 4-digit year can write, 9999-12-31T23:59:59Z.
inline constexpr std::int64_t kMaxUnixSeconds = 253402300799;

// Now, or SOURCE_DATE_EPOCH when set (anything but an integer from 0 to kMaxUnixSeconds is
// Error(Exit::usage, "BAD_SOURCE_DATE_EPOCH")).
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

// Which spellings of a timestamp parse_iso_timestamp accepts.
enum class IsoForms {
    // What spec-kitty writes: YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 6 digits,
    // then "Z" or a ±HH:MM offset.
    exact,
    // What Python 3.11's datetime.fromisoformat reads (after a final "Z" becomes +00:00):
    // also YYYYMMDD, a date alone (midnight), a space for the T, HH or HH:MM or HHMMSS, a
    // "," or a longer fraction (cut to microseconds), ±HH or ±HHMM, and no offset (UTC).
    python,
};

// The one ISO-8601 reader: digits only (no signs or spaces inside a field), every field
// range-checked (year 1-9999, a real day of the month, hour 0-23, …), converted to UTC.
// Returns false when `text` is not a timestamp in `forms`.
bool parse_iso_timestamp(std::string_view text, UtcTime& out, IsoForms forms = IsoForms::exact);

} // namespace kitty
