#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <memory>

#include <curl/curl.h>

#include "kitty/auth.hpp"
#include "kitty/error.hpp"
#include "kitty/file_lock.hpp"
#include "kitty/json.hpp"
#include "kitty/shared_library.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace {

constexpr std::int64_t kAccessLifetime = 900;
constexpr std::int64_t kRefreshLifetime = 604800;

struct HttpResponse {
    long status = 0;
    std::string body;
};

std::string without_trailing_slash(std::string url) {
    while (url.ends_with("/")) {
        url.pop_back();
    }
    return url;
}

// libcurl is loaded the first time a command talks to the server, so `--version`, `status`
// and `token` never pay the dynamic loader for its TLS and protocol libraries. Members drop
// the curl_ prefix: curl.h defines type-checking macros under some of the real names.
#define KITTY_CURL_FUNCTIONS(X)                                                                    \
    X(global_init)                                                                                 \
    X(easy_init)                                                                                   \
    X(easy_cleanup)                                                                                \
    X(easy_setopt)                                                                                 \
    X(easy_perform)                                                                                \
    X(easy_getinfo)                                                                                \
    X(easy_strerror)                                                                               \
    X(slist_append)                                                                                \
    X(slist_free_all)                                                                              \
    X(url)                                                                                         \
    X(url_cleanup)                                                                                 \
    X(url_get)                                                                                     \
    X(url_set)                                                                                     \
    X(free)

struct LibCurl {
#define KITTY_CURL_MEMBER(name) decltype(&::curl_##name) name;
    KITTY_CURL_FUNCTIONS(KITTY_CURL_MEMBER)
#undef KITTY_CURL_MEMBER
};

const LibCurl& lc() {
    static const LibCurl api = [] {
        static const SharedLibrary library(KITTY_LIBCURL_SONAME, "libcurl4");
        LibCurl loaded{};
#define KITTY_CURL_LOAD(name)                                                                      \
    loaded.name = library.function<decltype(&::curl_##name)>("curl_" #name);
        KITTY_CURL_FUNCTIONS(KITTY_CURL_LOAD)
#undef KITTY_CURL_LOAD
        return loaded;
    }();
    return api;
}

struct UrlCleanup {
    void operator()(CURLU* h) const { lc().url_cleanup(h); }
};
struct EasyCleanup {
    void operator()(CURL* c) const { lc().easy_cleanup(c); }
};
struct SlistCleanup {
    void operator()(curl_slist* l) const { lc().slist_free_all(l); }
};

using UrlHandle = std::unique_ptr<CURLU, UrlCleanup>;

// `url` parsed by libcurl, which then connects to exactly what was checked: HTTPS, or plain
// http for a loopback host only (tests, local development), and never a user name or
// password, which would make the text before the '@' look like the host.
UrlHandle secure_url(const std::string& url) {
    UrlHandle h(lc().url());
    if (!h) {
        throw Error(Exit::internal, "CURL_INIT", "libcurl could not allocate a URL handle");
    }
    const auto part = [&](CURLUPart which) -> std::optional<std::string> {
        char* value = nullptr;
        if (lc().url_get(h.get(), which, &value, 0) != CURLUE_OK || value == nullptr) {
            return std::nullopt;
        }
        std::string out(value);
        lc().free(value);
        return out;
    };
    const std::string hint = "set [sync] server_url in ~/.spec-kitty/config.toml to an https:// "
                             "URL and log in again";
    if (lc().url_set(h.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        throw Error(Exit::auth, "INSECURE_SERVER", "the server URL " + url + " is not a URL", hint);
    }
    if (part(CURLUPART_USER) || part(CURLUPART_PASSWORD) || part(CURLUPART_OPTIONS)) {
        throw Error(Exit::auth, "INSECURE_SERVER",
                    "the server URL has a user name or password before an '@'; kitty sends "
                    "tokens only to a plain host",
                    hint);
    }
    const auto lowered = [](std::string text) {
        std::transform(text.begin(), text.end(), text.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        return text;
    };
    const std::string scheme = lowered(part(CURLUPART_SCHEME).value_or(""));
    const std::string host = lowered(part(CURLUPART_HOST).value_or(""));
    if (scheme == "https" ||
        (scheme == "http" && (host == "127.0.0.1" || host == "localhost" || host == "[::1]"))) {
        return h;
    }
    throw Error(Exit::auth, "INSECURE_SERVER",
                "Authentication requires an HTTPS server URL (got " + url + ")", hint);
}

// One POST of a JSON body, with TLS verification always on and one total timeout. A
// transport failure is Error(Exit::temporary); the body never appears in messages.
HttpResponse post_json(const std::string& url, const Json& body, const AuthOptions& options) {
    static const bool initialised = lc().global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    std::unique_ptr<CURL, EasyCleanup> curl(initialised ? lc().easy_init() : nullptr);
    if (!curl) {
        throw Error(Exit::internal, "CURL_INIT", "libcurl could not be initialised");
    }
    const std::string payload = body.dump();
    HttpResponse response;
    std::unique_ptr<curl_slist, SlistCleanup> headers(
        lc().slist_append(nullptr, "Content-Type: application/json"));
    CURL* c = curl.get();
    const UrlHandle checked = secure_url(url);
    lc().easy_setopt(c, CURLOPT_CURLU, checked.get());
    lc().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    lc().easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    lc().easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    lc().easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    lc().easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.http_timeout.count()));
    lc().easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<std::int64_t>(options.http_timeout.count(), 5000)));
    lc().easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    lc().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    lc().easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    lc().easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    lc().easy_setopt(c, CURLOPT_USERAGENT, "kitty-auth-refresh");
    std::optional<std::string> cacert = options.cacert;
    if (!cacert) {
        if (const char* env = std::getenv("SPEC_KITTY_CA_BUNDLE"); env != nullptr && *env != '\0') {
            cacert = env;
        }
    }
    if (cacert) {
        // The extra CA file, and the system's CA directory beside it.
        lc().easy_setopt(c, CURLOPT_CAINFO, cacert->c_str());
        lc().easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    lc().easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t n, void* out) {
            static_cast<std::string*>(out)->append(data, size * n);
            return size * n;
        });
    lc().easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    const CURLcode rc = lc().easy_perform(c);
    if (rc != CURLE_OK) {
        throw Error(Exit::temporary, "NETWORK_ERROR",
                    "Cannot reach server " + url + ": " + lc().easy_strerror(rc),
                    "check the connection and retry; the credentials were not changed");
    }
    lc().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

// A reply body as JSON; null when it is not JSON (has_token_pair then refuses it).
Json reply_json(const std::string& body) {
    try {
        return parse_json(body, "the server's reply");
    } catch (const Error&) {
        return nullptr;
    }
}

FileLock lock_store(const CredentialStore& store, const AuthOptions& options) {
    try {
        return FileLock::acquire(store.paths().lock, options.lock_timeout);
    } catch (const Error& e) {
        if (e.code() == "LOCK_TIMEOUT") {
            throw Error(Exit::temporary, "LOCK_TIMEOUT",
                        "another process holds " + store.paths().lock.string() +
                            " (a refresh or login in progress)",
                        "retry in a moment; the credentials were not changed");
        }
        throw;
    }
}

Error not_logged_in() {
    return Error(Exit::auth, "NOT_LOGGED_IN", "Not authenticated: there is no session",
                 "log in with `kitty-auth-refresh login` (or spec-kitty auth login)");
}

Json expiries(const Credentials& c) {
    return {{"access_expires_at", c.access_expires_at},
            {"refresh_expires_at", c.refresh_expires_at},
            {"username", c.username},
            {"server", c.server_url}};
}

// Whether a token response carries the access and refresh strings (login and refresh alike).
bool has_token_pair(const Json& body) {
    return body.is_object() && body.contains("access") && body["access"].is_string() &&
           body.contains("refresh") && body["refresh"].is_string();
}

// Takes the token pair of a response that has_token_pair and its expiries from now.
void take_tokens(Credentials& c, const Json& body) {
    const UtcTime now = now_utc();
    c.access = body["access"];
    c.refresh = body["refresh"];
    c.access_expires_at =
        expiry_after(now, token_lifetime(body, "access_lifetime", "expires_in", kAccessLifetime));
    c.refresh_expires_at = expiry_after(
        now, token_lifetime(body, "refresh_lifetime", "refresh_expires_in", kRefreshLifetime));
}

struct RefreshResult {
    std::string outcome; // not_needed, reused_from_disk, refreshed
    Credentials credentials;
};

// The transaction: one lock from the read, through the HTTP call, to the save.
RefreshResult refresh_transaction(const AuthOptions& options, bool force) {
    CredentialStore store(AuthPaths::from_home());
    // What prompted this refresh, read before waiting for the lock.
    const auto before = store.load();
    const FileLock lock = lock_store(store, options);
    auto current = store.load();
    if (!current) {
        throw not_logged_in();
    }
    const UtcTime now = now_utc();
    if (current->access_valid(now)) {
        if (before && before->access != current->access) {
            return {"reused_from_disk", *current}; // another process rotated meanwhile
        }
        if (!force) {
            return {"not_needed", *current};
        }
    }
    if (!current->refresh_valid(now)) {
        throw Error(Exit::auth, "NO_REFRESH_TOKEN", "No valid refresh token. Please log in again.",
                    "log in with `kitty-auth-refresh login`");
    }
    const std::string stored = without_trailing_slash(current->server_url);
    const std::string configured = without_trailing_slash(store.configured_server());
    if (stored.empty()) {
        throw Error(Exit::auth, "NO_SERVER", "the session records no server",
                    "log in again so the session knows its server");
    }
    if (stored != configured) {
        throw Error(Exit::auth, "SERVER_MISMATCH",
                    "the session belongs to " + stored + " but config.toml names " + configured +
                        "; the refresh token is only ever sent to its own server",
                    "log in to " + configured +
                        " (kitty-auth-refresh login), or set [sync] "
                        "server_url back to " +
                        stored);
    }
    const std::string sent = current->refresh;
    const HttpResponse r =
        post_json(stored + "/api/v1/token/refresh/", Json{{"refresh", sent}}, options);
    if (r.status == 401) {
        const auto disk = store.load();
        if (disk && disk->refresh != sent) {
            return {"reused_from_disk", *disk}; // stale 401: someone else rotated
        }
        store.clear();
        throw Error(Exit::auth, "SESSION_EXPIRED", "Session expired. Please log in again.",
                    "log in with `kitty-auth-refresh login`");
    }
    if (r.status >= 500) {
        throw Error(Exit::temporary, "SERVER_ERROR",
                    "Server error: " + std::to_string(r.status) + " from " + stored,
                    "retry later; the credentials were not changed");
    }
    if (r.status != 200) {
        throw Error(Exit::auth, "REFRESH_REFUSED",
                    "the server refused the refresh: HTTP " + std::to_string(r.status),
                    "retry, and log in again if it persists; the credentials were not changed");
    }
    const Json body = reply_json(r.body);
    if (!has_token_pair(body)) {
        throw Error(Exit::temporary, "INVALID_RESPONSE", "Invalid server response",
                    "retry later; the credentials were not changed");
    }
    Credentials next = *current;
    take_tokens(next, body);
    if (const auto team = body.find("team_slug");
        team != body.end() && team->is_string() && !team->get<std::string>().empty()) {
        next.team_slug = team->get<std::string>();
    }
    if (next.username.empty()) {
        next.username = "unknown";
    }
    store.save(next);
    return {"refreshed", next};
}

} // namespace

Outcome auth_refresh_command(const AuthOptions& options, bool force) {
    const RefreshResult r = refresh_transaction(options, force);
    Json doc = {{"outcome", r.outcome}};
    doc.update(expiries(r.credentials));
    return Outcome::success(doc, r.outcome + ": access token valid until " +
                                     r.credentials.access_expires_at + "\n");
}

Outcome auth_token_command(const AuthOptions& options) {
    const RefreshResult r = refresh_transaction(options, false);
    return Outcome::success({{"access_token", r.credentials.access},
                             {"access_expires_at", r.credentials.access_expires_at}},
                            r.credentials.access + "\n");
}

Outcome auth_status_command(const AuthOptions& options) {
    CredentialStore store(AuthPaths::from_home());
    const FileLock lock = lock_store(store, options);
    const auto c = store.load();
    const UtcTime now = now_utc();
    if (!c || (!c->access_valid(now) && !c->refresh_valid(now))) {
        return Outcome::success({{"logged_in", false}},
                                "Not authenticated. Log in with `kitty-auth-refresh login`.\n");
    }
    Json doc = {{"logged_in", true},
                {"username", c->username},
                {"server", c->server_url.empty() ? store.configured_server() : c->server_url},
                {"access_expires_at", c->access_expires_at},
                {"refresh_expires_at", c->refresh_expires_at},
                {"access_valid", c->access_valid(now)},
                {"refresh_valid", c->refresh_valid(now)},
                {"refresh_due", !c->access_valid(now)}};
    const std::string text =
        "Authenticated as " + c->username + " on " + doc["server"].get<std::string>() +
        "\n  access token:  " + (c->access_valid(now) ? "valid" : "expired (refresh due)") +
        " until " + c->access_expires_at + "\n  refresh token: valid until " +
        c->refresh_expires_at + "\n";
    return Outcome::success(doc, text);
}

Outcome auth_login_command(const AuthOptions& options, const std::optional<std::string>& username,
                           const Prompt& ask) {
    CredentialStore store(AuthPaths::from_home());
    std::string user = username.value_or("");
    if (user.empty()) {
        user = ask("Username: ", true).value_or("");
    }
    user = std::string(py_strip(user));
    const std::string password = ask("Password: ", false).value_or("");
    if (user.empty() || password.empty()) {
        throw Error(Exit::usage, "MISSING_CREDENTIALS", "a username and a password are required",
                    "pass --username and give the password on stdin or at the prompt");
    }
    const std::string server = without_trailing_slash(store.configured_server());
    const HttpResponse r = post_json(server + "/api/v1/token/",
                                     Json{{"username", user}, {"password", password}}, options);
    if (r.status == 401) {
        throw Error(Exit::auth, "INVALID_LOGIN", "Invalid username or password",
                    "check the credentials and try again");
    }
    if (r.status >= 500) {
        throw Error(Exit::temporary, "SERVER_ERROR", "Server error: " + std::to_string(r.status),
                    "retry later");
    }
    const Json body = reply_json(r.body);
    if (r.status != 200) {
        throw Error(Exit::auth, "LOGIN_REFUSED",
                    "the server refused the login: HTTP " + std::to_string(r.status), "");
    }
    if (!has_token_pair(body)) {
        throw Error(Exit::temporary, "INVALID_RESPONSE", "Invalid server response", "retry later");
    }
    Credentials c;
    take_tokens(c, body);
    c.username = user;
    if (const auto team = body.find("team_slug"); team != body.end() && team->is_string()) {
        c.team_slug = team->get<std::string>();
    }
    c.server_url = server;
    const FileLock lock = lock_store(store, options);
    store.save(c);
    Json doc = {{"logged_in", true}};
    doc.update(expiries(c));
    return Outcome::success(doc, "Logged in as " + user + " on " + server + "\n");
}

Outcome auth_logout_command(const AuthOptions& options) {
    CredentialStore store(AuthPaths::from_home());
    const FileLock lock = lock_store(store, options);
    const bool had = store.clear();
    return Outcome::success({{"logged_out", had}},
                            had ? "Logged out.\n" : "No active session. Already logged out.\n");
}

} // namespace kitty
