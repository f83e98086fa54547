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
        if (ec != std::errc() || ptr != end || value < 0) {
            throw Error(Exit::usage, "BAD_SOURCE_DATE_EPOCH",
                        std::string("SOURCE_DATE_EPOCH is not a non-negative integer: '") + sde +
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

bool parse_iso_timestamp(const std::string& text, UtcTime& out) {
    int y = 0;
    unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &s,
                    &consumed) != 6 ||
        consumed != 19) {
        return false;
    }
    std::string rest = text.substr(19);
    int micro = 0;
    if (!rest.empty() && rest[0] == '.') {
        std::size_t i = 1;
        std::string digits;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
            digits += rest[i++];
        }
        if (digits.empty() || digits.size() > 6) {
            return false;
        }
        digits.append(6 - digits.size(), '0');
        micro = std::stoi(digits);
        rest = rest.substr(i);
    }
    int offset_minutes = 0;
    if (rest != "Z") {
        unsigned oh = 0, om = 0;
        int used = 0;
        if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') ||
            std::sscanf(rest.c_str() + 1, "%2u:%2u%n", &oh, &om, &used) != 2 || used != 5 ||
            oh > 23 || om > 59) {
            return false;
        }
        offset_minutes = (rest[0] == '-' ? -1 : 1) * static_cast<int>(oh * 60 + om);
    }
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{mo}, day{d}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59) {
        return false;
    }
    const auto secs = sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} -
                      minutes{offset_minutes};
    out = UtcTime{duration_cast<seconds>(secs).count(), micro};
    return true;
}

} // namespace kitty
