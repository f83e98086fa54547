#include "kitty/ulid.hpp"

#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>

#include "kitty/error.hpp"

namespace kitty {
namespace {

// -Wpedantic accepts the 128-bit integer only as a GNU extension.
__extension__ typedef unsigned __int128 u128;

constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int decode_char(char c) {
    for (int i = 0; i < 32; ++i) {
        if (alphabet[i] == c) {
            return i;
        }
    }
    return -1;
}

void fill_random(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::getrandom(out + done, n - done, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(Exit::internal, "NO_RANDOMNESS", "getrandom failed");
        }
        done += static_cast<std::size_t>(got);
    }
}

std::uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// Adds one to the 80-bit big-endian random part; false when it wrapped around.
bool increment(std::array<std::uint8_t, 16>& bytes) {
    for (int i = 15; i >= 6; --i) {
        if (++bytes[static_cast<std::size_t>(i)] != 0) {
            return true;
        }
    }
    return false;
}

} // namespace

std::string Ulid::str() const {
    // 128 bits as 26 base-32 digits, most significant first (2 pad bits on top).
    u128 v = 0;
    for (auto b : bytes) {
        v = (v << 8) | b;
    }
    std::string out(26, '0');
    for (int i = 25; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = alphabet[static_cast<unsigned>(v & 31)];
        v >>= 5;
    }
    return out;
}

std::uint64_t Ulid::timestamp_ms() const {
    std::uint64_t ms = 0;
    for (int i = 0; i < 6; ++i) {
        ms = (ms << 8) | bytes[static_cast<std::size_t>(i)];
    }
    return ms;
}

std::array<std::uint8_t, 10> Ulid::randomness() const {
    std::array<std::uint8_t, 10> r{};
    std::copy(bytes.begin() + 6, bytes.end(), r.begin());
    return r;
}

std::string Ulid::randomness_hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : randomness()) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

Ulid make_ulid(std::uint64_t timestamp_ms, const std::array<std::uint8_t, 10>& randomness) {
    Ulid u;
    for (int i = 5; i >= 0; --i) {
        u.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(timestamp_ms & 0xFF);
        timestamp_ms >>= 8;
    }
    std::copy(randomness.begin(), randomness.end(), u.bytes.begin() + 6);
    return u;
}

Ulid mint_ulid() {
    static std::mutex m;
    static Ulid last;
    static bool have_last = false;
    std::lock_guard guard(m);
    for (;;) {
        const std::uint64_t now = wall_clock_ms();
        if (have_last && now <= last.timestamp_ms()) {
            Ulid next = last;
            if (increment(next.bytes)) {
                last = next;
                return next;
            }
            // 2^80 ids in one millisecond: wait for the clock rather than repeat.
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        std::array<std::uint8_t, 10> random{};
        fill_random(random.data(), random.size());
        last = make_ulid(now, random);
        have_last = true;
        return last;
    }
}

bool is_crockford_base32(std::string_view text) {
    for (char c : text) {
        if (decode_char(c) < 0) {
            return false;
        }
    }
    return true;
}

bool looks_like_ulid(std::string_view text) {
    return text.size() == 26 && text[0] >= '0' && text[0] <= '7' && is_crockford_base32(text);
}

Ulid parse_ulid(std::string_view text) {
    const auto fail = [&](const std::string& why) {
        return Error(Exit::input, "INVALID_ULID",
                     "'" + std::string(text) + "' is not a ULID: " + why,
                     "a ULID is 26 characters of 0-9 and A-Z without I, L, O and U, "
                     "starting with 0-7");
    };
    if (text.size() != 26) {
        throw fail("it has " + std::to_string(text.size()) + " characters, not 26");
    }
    u128 v = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const int d = decode_char(text[i]);
        if (d < 0) {
            const char c = text[i];
            std::string why = "character " + std::to_string(i + 1) + " ('" + c + "') is not in ";
            why += (c >= 'a' && c <= 'z') ? "the upper-case Crockford alphabet"
                                          : "the Crockford base32 alphabet";
            throw fail(why);
        }
        if (i == 0 && d > 7) {
            throw fail("the first character must be 0-7 (the value would exceed 128 bits)");
        }
        v = (v << 5) | static_cast<unsigned>(d);
    }
    Ulid u;
    for (int i = 15; i >= 0; --i) {
        u.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xFF);
        v >>= 8;
    }
    return u;
}

} // namespace kitty
