#include "kitty/clock.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "kitty/error.hpp"

namespace kitty {
namespace {

struct Civil {
    int year;
    unsigned month, day, hour, minute, second;
};

Civil to_civil(std::int64_t seconds) {
    using namespace std::chrono;
    const sys_seconds tp{std::chrono::seconds(seconds)};
    const auto day_point = floor<days>(tp);
    const year_month_day ymd{day_point};
    const hh_mm_ss hms{tp - day_point};
    return Civil{static_cast<int>(ymd.year()),
                 static_cast<unsigned>(ymd.month()),
                 static_cast<unsigned>(ymd.day()),
                 static_cast<unsigned>(hms.hours().count()),
                 static_cast<unsigned>(hms.minutes().count()),
                 static_cast<unsigned>(hms.seconds().count())};
}

std::string date_time(std::int64_t seconds) {
    const Civil c = to_civil(seconds);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u", c.year, c.month, c.day, c.hour,
                  c.minute, c.second);
    return buf;
}

// isoformat() writes microseconds only when there are some.
std::string with_fraction(std::string text, int microseconds) {
    if (microseconds != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%06d", microseconds);
        text += frac;
    }
    return text;
}

} // namespace

UtcTime now_utc() {
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde != nullptr && *sde != '\0') {
        std::int64_t value = 0;
        const char* end = sde + std::char_traits<char>::length(sde);
        auto [ptr, ec] = std::from_chars(sde, end, value);
        if (ec != std::errc() || ptr != end || value < 0 || value > kMaxUnixSeconds) {
            throw Error(Exit::usage, "BAD_SOURCE_DATE_EPOCH",
                        std::string("SOURCE_DATE_EPOCH is not an integer from 0 to ") +
                            std::to_string(kMaxUnixSeconds) + " (9999-12-31T23:59:59Z): '" + sde +
                            "'",
                        "set it to seconds since the Unix epoch, or unset it");
        }
        return UtcTime{value, 0};
    }
    using namespace std::chrono;
    const auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    return UtcTime{us / 1'000'000, static_cast<int>(us % 1'000'000)};
}

std::string python_isoformat(UtcTime t, int offset_minutes) {
    char zone[24];
    const int m = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
    return with_fraction(date_time(t.seconds + offset_minutes * 60LL), t.microseconds) + zone;
}

std::string python_local_isoformat(UtcTime t) {
    const std::time_t seconds = static_cast<std::time_t>(t.seconds);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    return with_fraction(date_time(t.seconds + local.tm_gmtoff), t.microseconds);
}

std::string iso_seconds_z(UtcTime t) {
    return date_time(t.seconds) + "Z";
}

std::string iso_millis_z(std::uint64_t unix_ms) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(unix_ms % 1000));
    return date_time(static_cast<std::int64_t>(unix_ms / 1000)) + frac + "Z";
}

bool parse_iso_timestamp(std::string_view text, UtcTime& out, IsoForms forms) {
    const bool python = forms == IsoForms::python;
    std::size_t pos = 0;
    const auto is_digit = [&](std::size_t at) {
        return at < text.size() && text[at] >= '0' && text[at] <= '9';
    };
    // `n` digits at pos (and past them), or -1.
    const auto digits = [&](std::size_t n) {
        int v = 0;
        for (std::size_t i = 0; i < n; ++i, ++pos) {
            if (!is_digit(pos)) {
                return -1;
            }
            v = v * 10 + (text[pos] - '0');
        }
        return v;
    };
    const auto take = [&](char c) {
        const bool there = pos < text.size() && text[pos] == c;
        pos += there ? 1 : 0;
        return there;
    };

    const int y = digits(4);
    const bool extended_date = take('-');
    const int mo = extended_date || python ? digits(2) : -1;
    const int d = !extended_date || take('-') ? digits(2) : -1;
    if (y < 1 || mo < 0 || d < 0) {
        return false;
    }
    int h = 0, mi = 0, sec = 0, micro = 0, offset = 0;
    if (pos == text.size()) {
        if (!python) {
            return false;
        }
    } else {
        if (!take('T') && !(python && take(' '))) {
            return false;
        }
        h = digits(2);
        const bool extended_time = pos < text.size() && text[pos] == ':';
        for (int* field : {&mi, &sec}) {
            if (extended_time ? take(':') : python && is_digit(pos)) {
                *field = digits(2);
            } else if (!python) {
                return false;
            }
        }
        if (h < 0 || mi < 0 || sec < 0) {
            return false;
        }
        if (take('.') || (python && take(','))) {
            std::size_t n = 0;
            for (; is_digit(pos); ++pos, ++n) {
                if (n < 6) {
                    micro = micro * 10 + (text[pos] - '0');
                }
            }
            if (n == 0 || (n > 6 && !python)) {
                return false;
            }
            for (; n < 6; ++n) {
                micro *= 10;
            }
        }
        if (pos == text.size()) {
            if (!python) {
                return false; // a naive time: the python form reads it as UTC
            }
        } else if (!take('Z')) {
            const int sign = take('+') ? 1 : take('-') ? -1 : 0;
            const int oh = digits(2);
            int om = 0;
            if (take(':')) {
                om = digits(2);
            } else if (!python) {
                return false;
            } else if (pos < text.size()) {
                om = digits(2);
            }
            if (sign == 0 || oh < 0 || om < 0 || oh > 23 || om > 59) {
                return false;
            }
            offset = sign * (oh * 60 + om);
        }
    }
    if (pos != text.size()) {
        return false;
    }
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) {
        return false;
    }
    const auto total =
        sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{sec} - minutes{offset};
    out = UtcTime{duration_cast<seconds>(total).count(), micro};
    return true;
}

} // namespace kitty
