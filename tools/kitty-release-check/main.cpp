// kitty-release-check: the release gate for CI, release-prep drafts, changelog sections.
#include "kitty/cli.hpp"
#include "kitty/release.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool(
        "kitty-release-check",
        "Check that a commit is ready to be released, as spec-kitty 3.1.1's release gate does:\n"
        "[project].version of pyproject.toml is a release version, .kittify/metadata.yaml's\n"
        "spec_kitty.version equals it, CHANGELOG.md has a populated section for it, in tag mode\n"
        "the tag is v<version>, and the version is greater than every existing release tag.\n"
        "Every problem is reported (ERROR: lines on stderr) and the exit status is 1.\n"
        "Tags and the repository root are read with libgit2; no git binary is needed.");
    CLI::App& app = tool.app();
    kitty::ReleaseCheckRequest check;
    const std::map<std::string, kitty::ReleaseMode> modes{{"branch", kitty::ReleaseMode::branch},
                                                          {"tag", kitty::ReleaseMode::tag}};
    app.add_option("--mode", check.mode,
                   "branch (before tagging) or tag (the tag must be v<version>; its own tag is "
                   "not counted as an earlier release)")
        ->transform(CLI::CheckedTransformer(modes))
        ->option_text("branch|tag");
    app.add_option("--tag", check.tag,
                   "The tag being released (tag mode; default: GITHUB_REF_NAME, else a "
                   "refs/tags/ GITHUB_REF)");
    app.add_option("--pyproject", check.pyproject, "pyproject.toml to read")
        ->default_str("pyproject.toml");
    app.add_option("--changelog", check.changelog, "CHANGELOG.md to read")
        ->default_str("CHANGELOG.md");
    app.add_option("--tag-pattern", check.tag_pattern, "Which tags are releases (a git glob)")
        ->default_str("v*.*.*");
    bool ignored = false;
    app.add_flag("--fail-on-missing-tag", ignored,
                 "Accepted for compatibility; has no effect (as in 3.1.1)");
    std::function<kitty::Outcome()> action = [&] { return kitty::release_check_command(check); };

    kitty::ReleasePrepRequest prep;
    CLI::App* p = app.add_subcommand(
        "prep", "Draft a release: the proposed version for a channel, a changelog block from the "
                "WPs accepted since the latest release tag, and the inputs for the release PR. "
                "Writes nothing.");
    p->add_option("--channel", prep.channel, "alpha, beta or stable")
        ->required()
        ->check(CLI::IsMember({"alpha", "beta", "stable"}));
    p->add_option("--repo", prep.repo, "The repository (default: .)");
    p->callback([&] { action = [&] { return kitty::release_prep_command(prep); }; });

    std::string version, changelog = "CHANGELOG.md";
    CLI::App* x = app.add_subcommand("extract-changelog",
                                     "Print one version's CHANGELOG section, for a release body "
                                     "(--format text prints the bare section)");
    x->add_option("version", version, "The version, without the v")->required();
    x->add_option("--changelog", changelog, "CHANGELOG.md to read")->default_str("CHANGELOG.md");
    x->callback([&] {
        action = [&] { return kitty::extract_changelog_command(version, changelog, "."); };
    });

    return tool.run(argc, argv, [&] { return action(); });
}
