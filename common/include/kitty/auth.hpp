// Credentials shared with spec-kitty 3.1.1 ($HOME/.spec-kitty/credentials, TOML, flock on
// credentials.lock) and the token refresh that never logs a user out by a race
// (../shared/spec/auth.md, ARCHITECTURE.md decision 7, docs/tools/kitty-auth-refresh.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kitty/clock.hpp"
#include "kitty/result.hpp"

namespace kitty {

// Where the store lives: $HOME/.spec-kitty (HOME must be set).
struct AuthPaths {
    std::filesystem::path dir;         // 0700
    std::filesystem::path credentials; // 0600, TOML
    std::filesystem::path lock;        // flock(2), shared with spec-kitty
    std::filesystem::path config;      // [sync] server_url

    static AuthPaths from_home();
};

inline constexpr std::string_view kDefaultServerUrl = "https://spec-kitty-dev.fly.dev";
inline constexpr std::chrono::milliseconds kCredentialLockTimeout{10'000};

// An expiry string as 3.1.1's _parse_expiry reads it (Python fromisoformat after "Z" →
// "+00:00"; naive means UTC), or nullopt.
std::optional<UtcTime> parse_expiry(std::string_view text);

// now + seconds, as isoformat() of an aware UTC datetime. A lifetime that ends outside
// the years 1-9999 (where Python's datetime overflows) is Error(Exit::temporary,
// "INVALID_RESPONSE"), so the credentials are left as they were.
std::string expiry_after(UtcTime now, std::int64_t seconds);

// _coerce_lifetime: Python int(value) of a JSON value, else `fallback`; falsy values (absent,
// null, 0, "", false) fall through to `alternate`, then to `fallback`.
std::int64_t token_lifetime(const Json& response, const char* key, const char* alternate,
                            std::int64_t fallback);

// The [tokens], [user] and [server] values; everything else in the file is kept as it is.
struct Credentials {
    std::string access;
    std::string refresh;
    std::string access_expires_at;
    std::string refresh_expires_at;
    std::string username;
    std::optional<std::string> team_slug;
    std::string server_url;

    bool access_valid(UtcTime now) const;
    bool refresh_valid(UtcTime now) const;
};

// The credentials file. Reads and writes happen under the lock the caller holds.
class CredentialStore {
public:
    explicit CredentialStore(AuthPaths paths) : paths_(std::move(paths)) {}

    const AuthPaths& paths() const { return paths_; }

    // nullopt when there is no file or it holds no [tokens]. A symlinked file, unreadable
    // or invalid TOML is Error(Exit::input).
    std::optional<Credentials> load() const;

    // Atomic (temp file, fsync, rename, directory fsync), 0600 in a 0700 directory, in
    // 3.1.1's byte layout; tables and keys other than the ones written are preserved.
    void save(const Credentials& credentials) const;

    // Removes the [tokens], [user] and [server] tables: the file goes when nothing else is
    // left in it. Returns whether there was a session.
    bool clear() const;

    // [sync] server_url of config.toml, or the default.
    std::string configured_server() const;

private:
    AuthPaths paths_;
};

struct AuthOptions {
    std::optional<std::string> cacert;            // an extra CA bundle (also SPEC_KITTY_CA_BUNDLE)
    std::chrono::milliseconds http_timeout{8000}; // the whole exchange; below the lock timeout
    std::chrono::milliseconds lock_timeout = kCredentialLockTimeout;
};

// refresh: "not_needed", "reused_from_disk" or "refreshed" with the new expiries; never a
// token. `force` refreshes even a valid access token.
Outcome auth_refresh_command(const AuthOptions& options, bool force);

// A valid access token (refreshing when due): {access_token, access_expires_at}; text mode
// prints the bare token for $(…).
Outcome auth_token_command(const AuthOptions& options);

// Logged in or not, user, server, expiries, whether a refresh is due. No network.
Outcome auth_status_command(const AuthOptions& options);

// POST /api/v1/token/ with the password read from stdin (a no-echo prompt on a terminal).
Outcome auth_login_command(const AuthOptions& options, const std::optional<std::string>& username,
                           const Prompt& ask);

// Clears the session under the lock.
Outcome auth_logout_command(const AuthOptions& options);

} // namespace kitty
