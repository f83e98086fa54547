// The release gate of spec-kitty 3.1.1 (scripts/release/validate_release.py and
// extract_changelog.py) and its release-prep draft (../shared/spec/release.md,
// docs/tools/kitty-release-check.md).
#pragma once

#include <compare>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/result.hpp"

namespace kitty {

// X.Y.Z with an optional a|b|rc|alpha|beta stage and number (case-insensitive), ordered as
// 3.1.1 orders it: (major, minor, patch, stage rank a<b<rc<final, stage number).
struct ReleaseVersion {
    long long major = 0;
    long long minor = 0;
    long long patch = 0;
    int stage_rank = 3;
    long long stage_number = 0;

    auto operator<=>(const ReleaseVersion&) const = default;
};

std::optional<ReleaseVersion> parse_release_version(std::string_view text);

// The version a CHANGELOG line is a heading for ("## [3.1.1] - 2026-04-09" → "3.1.1"), or
// nullopt when the line is not a heading 3.1.1 recognises.
std::optional<std::string> changelog_heading_version(std::string_view line);

// Whether the first section headed `version` (exact match) has a non-blank line.
bool changelog_has_entry(std::string_view changelog, std::string_view version);

// extract_changelog.py: the section's raw lines without leading and trailing blank lines,
// or "Release V\n\nNo changelog entry found for this version." when it has none.
std::string extract_changelog_section(std::string_view changelog, std::string_view version);

// What 3.1.1's release prep proposes for `current` on `channel` (alpha, beta, stable);
// Error(Exit::input) for a version it cannot step.
std::string propose_version(std::string_view current, std::string_view channel);

// [project].version of a pyproject.toml, as written. A missing file, a TOML error, a
// non-table [project], no version or a non-string one is Error(Exit::input) with 3.1.1's
// message.
std::string read_project_version(const std::filesystem::path& pyproject);

enum class ReleaseMode { branch, tag };

struct ReleaseCheckRequest {
    ReleaseMode mode = ReleaseMode::branch;
    std::optional<std::string> tag;
    std::string pyproject = "pyproject.toml";
    std::string changelog = "CHANGELOG.md";
    std::string tag_pattern = "v*.*.*";
    std::filesystem::path start_dir = ".";
};

// The gate: phase A (pyproject version, CHANGELOG readable) stops at its first problem;
// phase B (metadata.yaml sync, changelog section, tag, version progression) reports every
// issue. Exit 1 with `ERROR: message (Hint: …)` lines on stderr when anything is wrong.
Outcome release_check_command(const ReleaseCheckRequest& request);

struct ReleasePrepRequest {
    std::string channel; // alpha, beta or stable
    std::filesystem::path repo = ".";
};

// The release-prep payload: proposed version, changelog draft from accepted WPs of the
// missions accepted since the latest release tag, structured inputs. Writes nothing.
Outcome release_prep_command(const ReleasePrepRequest& request);

// One CHANGELOG section for a release body.
Outcome extract_changelog_command(const std::string& version, const std::string& changelog,
                                  const std::filesystem::path& start_dir);

} // namespace kitty
