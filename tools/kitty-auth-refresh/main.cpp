// kitty-auth-refresh: the spec-kitty session in ~/.spec-kitty/credentials, refreshed safely.
#include "kitty/auth.hpp"
#include "kitty/cli.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-auth-refresh",
        "Refresh the spec-kitty session in ~/.spec-kitty/credentials without ever logging anyone\n"
        "out by a race: the credentials lock (flock, shared with spec-kitty) is held from the\n"
        "read, through the HTTP call, to the save; a token another process already rotated is\n"
        "reused without a network call; a 401 only clears the session when the refresh token on\n"
        "disk is still the one that was rejected. The refresh token is only sent to the server\n"
        "the session was created with, over HTTPS with verification.\n"
        "Without a command: refresh when the access token has expired.");
    CLI::App& app = tool.app();
    kitty::AuthOptions options;
    std::optional<std::string> cacert;
    app.add_option("--cacert", cacert,
                   "An extra CA certificate bundle to trust (also SPEC_KITTY_CA_BUNDLE)");
    double lock_seconds = 10;
    app.add_option("--lock-timeout", lock_seconds,
                   "Seconds to wait for the credentials lock before giving up with exit 75")
        ->default_str("10")
        ->check(kitty::finite_range(0.0, 3600.0));
    double http_seconds = 8;
    app.add_option("--timeout", http_seconds,
                   "Seconds the whole HTTP exchange may take (kept below the lock timeout)")
        ->default_str("8")
        ->check(kitty::finite_range(0.1, 60.0));
    bool force = false;
    std::function<kitty::Outcome()> action = [&] {
        return kitty::auth_refresh_command(options, force);
    };

    CLI::App* refresh = app.add_subcommand(
        "refresh", "Refresh when the access token has expired (always with --force); prints "
                   "what happened and the new expiries, never a token");
    refresh->add_flag("--force", force, "Refresh even when the access token is still valid");
    refresh->callback(
        [&] { action = [&] { return kitty::auth_refresh_command(options, force); }; });

    app.add_subcommand("token", "Print a valid access token, refreshing when due "
                                "(--format text prints the bare token)")
        ->callback([&] { action = [&] { return kitty::auth_token_command(options); }; });
    app.add_subcommand("status", "Logged in or not, user, server, expiries, whether a refresh "
                                 "is due; no network")
        ->callback([&] { action = [&] { return kitty::auth_status_command(options); }; });

    std::optional<std::string> username;
    CLI::App* login = app.add_subcommand(
        "login", "Log in to the configured server: the password is read from stdin (without "
                 "echo on a terminal), never from the command line");
    login->add_option("--username,-u", username, "The account (asked for when missing)");
    login->callback([&] {
        action = [&] { return kitty::auth_login_command(options, username, kitty::ask_terminal); };
    });

    app.add_subcommand("logout", "Clear the session (other tables in the file are kept)")
        ->callback([&] { action = [&] { return kitty::auth_logout_command(options); }; });

    return tool.run(argc, argv, [&] {
        options.cacert = cacert;
        options.lock_timeout =
            std::chrono::milliseconds(static_cast<long long>(lock_seconds * 1000));
        options.http_timeout =
            std::chrono::milliseconds(static_cast<long long>(http_seconds * 1000));
        return action();
    });
}
