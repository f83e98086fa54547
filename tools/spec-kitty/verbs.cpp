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
