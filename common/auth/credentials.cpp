#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "kitty/atomic_file.hpp"
#include "kitty/auth.hpp"
#include "kitty/error.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

constexpr const char* kKnown[][5] = {
    {"tokens", "access", "refresh", "access_expires_at", "refresh_expires_at"},
    {"user", "username", "team_slug", nullptr, nullptr},
    {"server", "url", nullptr, nullptr, nullptr},
};

// A TOML basic string as toml 0.10.2's dumps writes one: Python's repr() of the value,
// re-quoted with double quotes and its \xNN escapes spelled \u00NN.
std::string toml_string(std::string_view s) {
    const std::string repr = python_repr(s);
    const bool single = repr.front() == '\'';
    const std::string_view body = std::string_view(repr).substr(1, repr.size() - 2);
    std::string out = "\"";
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\\' && i + 1 < body.size()) {
            const char next = body[++i];
            out += single && next == '\'' ? "'" : next == 'x' ? "\\u00" : std::string{'\\', next};
        } else {
            out += body[i] == '"' ? "\\\"" : std::string(1, body[i]);
        }
    }
    return out + "\"";
}

std::optional<toml::table> parse_store(const fs::path& path) {
    std::error_code ec;
    if (fs::is_symlink(path, ec)) {
        throw Error(Exit::input, "SYMLINKED_CREDENTIALS",
                    path.string() + " is a symbolic link; kitty will not read or write "
                                    "credentials through a link",
                    "replace the link with the file itself (chmod 600)")
            .at(path);
    }
    if (!fs::exists(path, ec)) {
        return std::nullopt;
    }
    try {
        return toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        throw Error(Exit::input, "INVALID_CREDENTIALS",
                    path.string() + " is not valid TOML: " + std::string(e.description()),
                    "log in again (kitty-auth-refresh login) to rewrite it")
            .at(path, static_cast<int>(e.source().begin.line));
    }
}

std::string string_at(const toml::table& doc, const char* table, const char* key) {
    if (const auto* v = doc.at_path(std::string(table) + "." + key).as_string()) {
        return v->get();
    }
    return "";
}

} // namespace

AuthPaths AuthPaths::from_home() {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
        throw Error(Exit::input, "NO_HOME", "HOME is not set, so there is no credentials store",
                    "set HOME");
    }
    const fs::path dir = fs::path(home) / ".spec-kitty";
    return {dir, dir / "credentials", dir / "credentials.lock", dir / "config.toml"};
}

std::optional<UtcTime> parse_expiry(std::string_view text) {
    UtcTime at;
    return parse_iso_timestamp(text, at, IsoForms::python) ? std::optional<UtcTime>(at)
                                                           : std::nullopt;
}

std::string expiry_after(UtcTime now, std::int64_t seconds) {
    // Python's datetime overflows outside years 1-9999 and so does 3.1.1's login; an expiry
    // nobody could read back would end the session silently.
    constexpr std::int64_t kMinUnixSeconds = -62135596800; // 0001-01-01T00:00:00Z
    if (seconds > kMaxUnixSeconds - now.seconds || seconds < kMinUnixSeconds - now.seconds) {
        throw Error(Exit::temporary, "INVALID_RESPONSE",
                    "Invalid server response: a token lifetime of " + std::to_string(seconds) +
                        " seconds ends outside the years 1-9999",
                    "retry later; the credentials were not changed");
    }
    return python_isoformat({now.seconds + seconds, now.microseconds});
}

std::int64_t token_lifetime(const Json& response, const char* key, const char* alternate,
                            std::int64_t fallback) {
    const auto truthy = [](const Json& v) {
        return !(v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
                 (v.is_number() && v.get<double>() == 0) ||
                 (v.is_string() && v.get<std::string>().empty()));
    };
    const Json none;
    const Json& first = response.contains(key) ? response[key] : none;
    const Json& second = response.contains(alternate) ? response[alternate] : none;
    const Json& v = truthy(first) ? first : second;
    if (!truthy(v)) {
        return fallback;
    }
    if (v.is_boolean()) {
        return 1;
    }
    // Values beyond int64 saturate; expiry_after refuses them like any absurd lifetime.
    constexpr std::int64_t kLargest = std::numeric_limits<std::int64_t>::max();
    if (v.is_number_unsigned()) {
        return static_cast<std::int64_t>(
            std::min<std::uint64_t>(v.get<std::uint64_t>(), static_cast<std::uint64_t>(kLargest)));
    }
    if (v.is_number_integer()) {
        return v.get<std::int64_t>();
    }
    if (v.is_number_float()) {
        const double d = v.get<double>(); // finite: parse_json refuses the rest
        return d >= 9.2e18 ? kLargest : d <= -9.2e18 ? -kLargest : static_cast<std::int64_t>(d);
    }
    if (v.is_string()) {
        // int("900"): surrounding whitespace, a sign and "_" between digits.
        std::string s(py_strip(v.get<std::string>()));
        bool negative = false;
        if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
            negative = s[0] == '-';
            s.erase(0, 1);
        }
        std::int64_t out = 0;
        bool digit_before = false;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '_' && digit_before && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
                continue;
            }
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
                return fallback;
            }
            out = out > (kLargest - 9) / 10 ? kLargest : out * 10 + (s[i] - '0');
            digit_before = true;
        }
        return !digit_before ? fallback : negative ? -out : out;
    }
    return fallback;
}

namespace {

// A token is usable while it is non-empty and `now` is before its parsable expiry.
bool unexpired(const std::string& token, const std::string& expires_at, UtcTime now) {
    const auto at = parse_expiry(expires_at);
    return !token.empty() && at &&
           now.seconds * 1'000'000LL + now.microseconds <
               at->seconds * 1'000'000LL + at->microseconds;
}

} // namespace

bool Credentials::access_valid(UtcTime now) const {
    return unexpired(access, access_expires_at, now);
}

bool Credentials::refresh_valid(UtcTime now) const {
    return unexpired(refresh, refresh_expires_at, now);
}

std::optional<Credentials> CredentialStore::load() const {
    const auto doc = parse_store(paths_.credentials);
    if (!doc || !doc->get("tokens")) {
        return std::nullopt;
    }
    Credentials c;
    c.access = string_at(*doc, "tokens", "access");
    c.refresh = string_at(*doc, "tokens", "refresh");
    c.access_expires_at = string_at(*doc, "tokens", "access_expires_at");
    c.refresh_expires_at = string_at(*doc, "tokens", "refresh_expires_at");
    c.username = string_at(*doc, "user", "username");
    if (const auto* team = doc->at_path("user.team_slug").as_string()) {
        c.team_slug = team->get();
    }
    c.server_url = string_at(*doc, "server", "url");
    return c;
}

void CredentialStore::save(const Credentials& c) const {
    toml::table rest = parse_store(paths_.credentials).value_or(toml::table{});
    // Keys of the three tables that 3.1.1 does not write stay in their table, after the
    // known ones; sub-tables and everything else stay where they are, after [server].
    const auto unknown_lines = [&](const char* const* known) {
        std::string lines;
        auto* table = rest.get_as<toml::table>(known[0]);
        if (table == nullptr) {
            return lines;
        }
        for (std::size_t k = 1; k < 5 && known[k] != nullptr; ++k) {
            table->erase(known[k]);
        }
        std::vector<std::string> moved;
        for (auto& [key, value] : *table) {
            if (!value.is_table() && !value.is_array_of_tables()) {
                toml::table one;
                one.insert(key, value);
                std::ostringstream os;
                os << toml::toml_formatter{one};
                lines += os.str() + "\n";
                moved.emplace_back(key.str());
            }
        }
        for (const std::string& key : moved) {
            table->erase(key);
        }
        if (table->empty()) {
            rest.erase(known[0]);
        }
        return lines;
    };
    std::string out =
        "[tokens]\naccess = " + toml_string(c.access) + "\nrefresh = " + toml_string(c.refresh) +
        "\naccess_expires_at = " + toml_string(c.access_expires_at) +
        "\nrefresh_expires_at = " + toml_string(c.refresh_expires_at) + "\n" +
        unknown_lines(kKnown[0]) + "\n[user]\nusername = " + toml_string(c.username) + "\n";
    if (c.team_slug) {
        out += "team_slug = " + toml_string(*c.team_slug) + "\n";
    }
    out += unknown_lines(kKnown[1]) + "\n[server]\nurl = " + toml_string(c.server_url) + "\n" +
           unknown_lines(kKnown[2]);
    if (!rest.empty()) {
        std::ostringstream os;
        os << toml::toml_formatter{rest};
        out += "\n" + os.str() + "\n";
    }
    std::error_code ec;
    if (!fs::exists(paths_.dir, ec)) {
        if (::mkdir(paths_.dir.c_str(), 0700) != 0 && errno != EEXIST) {
            throw system_error(Exit::input, "cannot create", paths_.dir, errno);
        }
    }
    write_file_atomic(paths_.credentials, out, 0600);
}

bool CredentialStore::clear() const {
    auto doc = parse_store(paths_.credentials);
    if (!doc) {
        return false;
    }
    const bool had = doc->get("tokens") != nullptr;
    for (const auto& known : kKnown) {
        doc->erase(known[0]);
    }
    if (doc->empty()) {
        fs::remove(paths_.credentials);
    } else {
        std::ostringstream os;
        os << toml::toml_formatter{*doc};
        write_file_atomic(paths_.credentials, os.str() + "\n", 0600);
    }
    return had;
}

std::string CredentialStore::configured_server() const {
    std::error_code ec;
    if (!fs::exists(paths_.config, ec)) {
        return std::string(kDefaultServerUrl);
    }
    try {
        const toml::table config = toml::parse_file(paths_.config.string());
        if (const auto* url = config.at_path("sync.server_url").as_string()) {
            return url->get();
        }
    } catch (const toml::parse_error&) {
        // 3.1.1 reads an invalid config as empty, so the default applies.
    }
    return std::string(kDefaultServerUrl);
}

} // namespace kitty
