#include "verbs.hpp"

namespace spec_kitty {

// Like git.c's commands[]: add a row here when a tool gains a spec-kitty verb; nothing
// else in the dispatcher needs to change. `spec-kitty x` also runs `kitty-x` when no row
// matches.
std::span<const Verb> verb_table() {
    static const std::vector<Verb> table = {
        {{"agent", "mission", "create"},
         "kitty-mint-id",
         {"create"},
         "Create kitty-specs/NNN-<slug>/ with a fresh mission_id"},
        {{"agent", "mission", "stamp-id"},
         "kitty-mint-id",
         {"stamp"},
         "Give one existing mission a mission_id if it has none"},
        {{"auth", "login"},
         "kitty-auth-refresh",
         {"login"},
         "Log in to the configured spec-kitty server (password from stdin or a prompt)"},
        {{"auth", "logout"}, "kitty-auth-refresh", {"logout"}, "Clear the session"},
        {{"auth", "status"},
         "kitty-auth-refresh",
         {"status"},
         "Logged in or not, user, server, expiries"},
        {{"auth", "refresh"},
         "kitty-auth-refresh",
         {"refresh"},
         "Refresh the session when due (race-safe with other processes)"},
        {{"auth", "token"},
         "kitty-auth-refresh",
         {"token"},
         "Print a valid access token, refreshing when due"},
        {{"init"},
         "kitty-init",
         {},
         "Make a directory a project: .kittify/ and command files for --ai agents (no git)"},
        {{"lanes"},
         "kitty-lanes",
         {},
         "Execution lanes: compute [--write], explain, resolve <mission> <WP>, show"},
        {{"release", "check"},
         "kitty-release-check",
         {},
         "Release gate: version sync, changelog section, tag, progression"},
        {{"release", "prep"},
         "kitty-release-check",
         {"prep"},
         "Draft a release: proposed version, changelog block, PR inputs"},
        {{"release", "extract-changelog"},
         "kitty-release-check",
         {"extract-changelog"},
         "Print one version's CHANGELOG section"},
        {{"agent", "release", "prep"},
         "kitty-release-check",
         {"prep"},
         "Draft a release (spec-kitty 3.1.1's spelling of release prep)"},
        {{"mint-id"},
         "kitty-mint-id",
         {},
         "Mint a mission_id (ULID); 'mint-id decode ID' decodes one"},
    };
    return table;
}

} // namespace spec_kitty
