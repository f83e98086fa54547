// Test vectors from spec/identity-status.md §2.6 (checked there against real data).
#include <set>

#include <gtest/gtest.h>

#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/ulid.hpp"

using kitty::parse_ulid;

namespace {

std::array<std::uint8_t, 10> from_hex(const std::string& hex) {
    std::array<std::uint8_t, 10> out{};
    for (std::size_t i = 0; i < 10; ++i) {
        out[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    }
    return out;
}

} // namespace

TEST(Ulid, SpecVectorsRoundTrip) {
    struct Vector {
        const char* text;
        std::uint64_t ms;
        const char* random_hex;
    };
    const Vector vectors[] = {
        {"01KNRK4RNP4PV7HV6JC0P509F9", 1775720620726, "25b678ecd2602c5025e9"},
        {"01KZZD6916PW6XD20W3CMQS3WW", 1786686678054, "b70dd6881c1b297c8f9c"},
        {"01KNS0ZWR30000000000000000", 1775735141123, "00000000000000000000"},
        {"01KNS0ZWR3ZZZZZZZZZZZZZZZZ", 1775735141123, "ffffffffffffffffffff"},
        {"00000000000000000000000000", 0, "00000000000000000000"},
        {"7ZZZZZZZZZZZZZZZZZZZZZZZZZ", (1ULL << 48) - 1, "ffffffffffffffffffff"},
    };
    for (const auto& v : vectors) {
        const kitty::Ulid u = parse_ulid(v.text);
        EXPECT_EQ(u.timestamp_ms(), v.ms) << v.text;
        EXPECT_EQ(u.randomness(), from_hex(v.random_hex)) << v.text;
        EXPECT_EQ(u.str(), v.text);
        EXPECT_EQ(kitty::make_ulid(v.ms, from_hex(v.random_hex)).str(), v.text);
    }
    EXPECT_EQ(kitty::iso_millis_z(1775720620726), "2026-04-09T07:43:40.726Z");
}

TEST(Ulid, RejectsWithReason) {
    const std::pair<const char*, const char*> bad[] = {
        {"01KNRK4RNP4PV7HV6JC0P509F", "25 characters"},
        {"01KNRK4RNP4PV7HV6JC0P509F9X", "27 characters"},
        {"01knrk4rnp4pv7hv6jc0p509f9", "upper-case"},
        {"01KNRK4RNP4PV7HV6JC0P509FI", "character 26 ('I')"},
        {"01KNRK4RNP4PV7HV6JC0P5U9F9", "('U')"},
        {"8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "0-7"},
    };
    for (const auto& [text, why] : bad) {
        try {
            parse_ulid(text);
            ADD_FAILURE() << text << " accepted";
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.exit(), kitty::Exit::input);
            EXPECT_EQ(e.code(), "INVALID_ULID");
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
        }
    }
    EXPECT_FALSE(kitty::looks_like_ulid("01knrk4rnp4pv7hv6jc0p509f9"));
    EXPECT_TRUE(kitty::looks_like_ulid("01KNRK4RNP4PV7HV6JC0P509F9"));
}

TEST(Ulid, MintIsCurrentValidAndStrictlyIncreasing) {
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 20000; ++i) {
        const std::string id = kitty::mint_ulid().str();
        ASSERT_TRUE(kitty::looks_like_ulid(id)) << id;
        ASSERT_GT(id, previous) << "not monotonic";
        previous = id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 20000u);
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const auto ts = static_cast<long long>(parse_ulid(previous).timestamp_ms());
    EXPECT_GE(ts, before);
    EXPECT_LE(ts, after);
}

TEST(Ulid, SameMillisecondIncrementsRandomPart) {
    // Mint until two ids share a millisecond; the second must be the first plus one.
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const kitty::Ulid a = kitty::mint_ulid();
        const kitty::Ulid b = kitty::mint_ulid();
        if (a.timestamp_ms() != b.timestamp_ms()) {
            continue;
        }
        auto r = a.randomness();
        for (int i = 9; i >= 0 && ++r[static_cast<std::size_t>(i)] == 0; --i) {
        }
        EXPECT_EQ(b.randomness(), r);
        return;
    }
    FAIL() << "never minted two ids in one millisecond";
}
