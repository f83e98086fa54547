// ULIDs: 48-bit millisecond timestamp + 80 random bits, 26 characters of upper-case
// Crockford base32, as python-ulid's str(ULID()) writes them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kitty {

struct Ulid {
    std::array<std::uint8_t, 16> bytes{};

    std::string str() const;
    std::uint64_t timestamp_ms() const;
    std::array<std::uint8_t, 10> randomness() const;
    std::string randomness_hex() const; // 20 lower-case hex digits

    friend bool operator==(const Ulid&, const Ulid&) = default;
};

// A new ULID from the wall clock and getrandom(2). Monotonic within a process: a second
// ULID in the same millisecond is the previous one plus one.
Ulid mint_ulid();

// A ULID from its parts (tests and benchmarks).
Ulid make_ulid(std::uint64_t timestamp_ms, const std::array<std::uint8_t, 10>& randomness);

// Strict parse, as python-ulid's ULID.from_str: exactly 26 characters of the upper-case
// alphabet, first character 0-7. Failure is Error(Exit::input, "INVALID_ULID") saying why.
Ulid parse_ulid(std::string_view text);

// True when `text` has the shape of a ULID (^[0-7][0-9A-HJKMNP-TV-Z]{25}$).
bool looks_like_ulid(std::string_view text);

// True when every character of `text` is in the upper-case Crockford alphabet.
bool is_crockford_base32(std::string_view text);

} // namespace kitty
