// WP frontmatter read and write against spec/parse-tasks.md §2.2–2.4 and the §3.9
// worked example (whose output was produced by the reference modules).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <optional>
#include <string>
#include <vector>

#include "kitty/error.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "process.hpp"

using kitty::WpFrontmatter;

namespace {

WpFrontmatter parse(const std::string& yaml, const std::string& body = "\nbody\n") {
    return kitty::parse_wp_file("---\n" + yaml + "---\n" + body, "tasks/WP01-x.md");
}

std::string error_code(const std::string& text) {
    try {
        kitty::parse_wp_file(text, "tasks/WP01-x.md");
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        return e.code();
    }
    return "";
}

} // namespace

TEST(WpFrontmatter, AcceptsWhat311Accepts) {
    EXPECT_EQ(parse("work_package_id: WP01\ndependencies: WP01, WP02\n").dependencies(),
              (std::vector<std::string>{"WP01", "WP02"}));
    EXPECT_TRUE(parse("work_package_id: WP01\ndependencies: '[]'\n").dependencies().empty());
    EXPECT_EQ(parse("work_package_id: WP01\ndependencies: [WP02, WP03]\n").dependencies(),
              (std::vector<std::string>{"WP02", "WP03"}));
    EXPECT_EQ(parse("work_package_id: WP01\nrequirement_refs: FR-001, FR-002\n")
                  .list_field("requirement_refs"),
              (std::vector<std::string>{"FR-001", "FR-002"}));
    EXPECT_EQ(parse("work_package_id: WP01\nlane: doing\n").string_field("lane"), "in_progress");
    EXPECT_EQ(parse("work_package_id: WP01\nphase: 3\n").string_field("phase"), "3");
    EXPECT_EQ(parse("work_package_id: WP123\n").work_package_id(), "WP123");
    EXPECT_EQ(parse("work_package_title: Old\nwork_package_id: WP01\n").string_field("title"),
              "Old");
    EXPECT_FALSE(parse("work_package_id: WP01\nshell_pid: ''\n").fields.count("shell_pid"));
    EXPECT_EQ(parse("work_package_id: WP01\nshell_pid: \"65044\"\n").fields.at("shell_pid").text,
              "65044");
    EXPECT_FALSE(
        parse("work_package_id: WP01\nbase_commit: unknown\n").fields.count("base_commit"));
    const auto crlf = kitty::parse_wp_file(
        "\xEF\xBB\xBF---\r\nwork_package_id: WP01\r\ntitle: T\r\n---\r\n\r\n# WP01\r\n", "x.md");
    EXPECT_EQ(crlf.string_field("title"), "T");
    EXPECT_EQ(crlf.body, "\n# WP01\n");
}

// shell_pid as 3.1.1 writes it (unquoted), as kitty writes it (quoted), and the fields that
// hold no scalar.
TEST(WpFrontmatter, ScalarTextIsTheValueOfAnyScalarAsWritten) {
    EXPECT_EQ(parse("work_package_id: WP01\nshell_pid: 21012\n").scalar_text("shell_pid"), "21012");
    EXPECT_EQ(parse("work_package_id: WP01\nshell_pid: \"65044\"\n").scalar_text("shell_pid"),
              "65044");
    EXPECT_EQ(parse("work_package_id: WP01\nagent: claude\n").scalar_text("agent"), "claude");
    EXPECT_EQ(parse("work_package_id: WP01\n").scalar_text("shell_pid"), "");
    EXPECT_EQ(parse("work_package_id: WP01\nassignee: null\n").scalar_text("assignee"), "");
    EXPECT_EQ(parse("work_package_id: WP01\nowned_files: [a, b]\n").scalar_text("owned_files"), "");
}

TEST(WpFrontmatter, RejectsWhat311Rejects) {
    const std::string head = "---\nwork_package_id: WP01\n";
    EXPECT_EQ(error_code(head + "dependencies:\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "requirement_refs: [FR-001, 5]\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "tracker_refs: []\n---\n"), "UNKNOWN_KEY");
    EXPECT_EQ(error_code(head + "scope: codebase-wide\n---\n"), "UNKNOWN_KEY");
    EXPECT_EQ(error_code(head + "title: 123\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "created_at: 2026-04-01T00:00:00Z\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "mission_number: 079\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "lane: wip\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "title: '  '\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code(head + "base_commit: xyz\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code("---\ntitle: T\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code("---\nwork_package_id: wp02\n---\n"), "INVALID_FIELD");
    EXPECT_EQ(error_code("no frontmatter\n"), "NO_FRONTMATTER");
    EXPECT_EQ(error_code("---\nwork_package_id: WP01\n"), "MALFORMED_FRONTMATTER");
    EXPECT_EQ(error_code(head + "a: [\n---\n"), "INVALID_YAML");
    EXPECT_EQ(error_code("---\n- a\n---\n"), "INVALID_YAML");

    try {
        kitty::parse_wp_file(head + "title: T\ntracker_refs: []\n---\n", "tasks/WP01-x.md");
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.line(), 4); // the key's line in the file
        EXPECT_NE(std::string(e.what()).find("tracker_refs"), std::string::npos);
    }
    try {
        kitty::parse_wp_file("nothing", "tasks/WP01-x.md");
    } catch (const kitty::Error& e) {
        EXPECT_STREQ(e.what(), "File has no frontmatter: tasks/WP01-x.md");
    }
}

// spec §3.9: WP01 as finalize-tasks rewrites it (branch_strategy text is ours).
TEST(WpFrontmatter, WritesThe311ByteFormat) {
    WpFrontmatter fm = parse("work_package_id: \"WP01\"\ntitle: \"Setup\"\nsubtasks: [\"T001\", "
                             "\"T002\"]\nhistory:\n  - at: \"2026-04-01T00:00:00Z\"\n    actor: "
                             "\"system\"\n    action: \"Prompt generated via /spec-kitty.tasks\"\n",
                             "\n# WP01 – Setup\n...\n");
    fm.set_list("dependencies", {});
    fm.set_list("requirement_refs", {"FR-001", "C-001"});
    fm.set_string("planning_base_branch", "main");
    fm.set_string("merge_target_branch", "main");
    fm.set_string("branch_strategy", "Plan on main, merge to main.");
    fm.set_string("execution_mode", "code_change");
    fm.set_list("owned_files", {"src/demo/core.py", "src/demo/util/**"});
    fm.set_string("authoritative_surface", "src/demo/");
    EXPECT_EQ(kitty::serialize_wp_file(fm), R"(---
work_package_id: WP01
title: Setup
dependencies: []
requirement_refs:
- FR-001
- C-001
planning_base_branch: main
merge_target_branch: main
branch_strategy: Plan on main, merge to main.
subtasks:
- T001
- T002
history:
- at: '2026-04-01T00:00:00Z'
  actor: system
  action: Prompt generated via /spec-kitty.tasks
authoritative_surface: src/demo/
execution_mode: code_change
owned_files:
- src/demo/core.py
- src/demo/util/**
tags: []
---

# WP01 – Setup
...
)");
}

TEST(WpFrontmatter, LaneIsWrittenNotACrash) {
    const WpFrontmatter fm = parse("work_package_id: WP01\nlane: doing\nshell_pid: '12'\n");
    const std::string out = kitty::serialize_wp_file(fm);
    EXPECT_NE(out.find("\nlane: in_progress\n"), std::string::npos);
    EXPECT_NE(out.find("\nshell_pid: 12\n"), std::string::npos);
    EXPECT_EQ(kitty::parse_wp_file(out, "x.md").to_json(), fm.to_json());
}

TEST(WpFrontmatter, AtomicWriteAndFileNames) {
    kitty::test::TempDir dir;
    const auto path = dir / "WP01-x.md";
    kitty::test::write_fixture(path, "---\nwork_package_id: WP01\n---\nbody\n");
    kitty::write_wp_file(path, kitty::read_wp_file(path));
    EXPECT_EQ(kitty::test::slurp(path),
              "---\nwork_package_id: WP01\ndependencies: []\nrequirement_refs: []\nsubtasks: "
              "[]\nhistory: []\nowned_files: []\ntags: []\n---\nbody\n");
    EXPECT_EQ(kitty::wp_id_from_filename("WP01-x.md"), "WP01");
    EXPECT_EQ(kitty::wp_id_from_filename("WP01_x.md"), "WP01");
    EXPECT_EQ(kitty::wp_id_from_filename("WP01.md"), "WP01");
    EXPECT_EQ(kitty::wp_id_from_filename("WP1-x.md"), std::nullopt);
    EXPECT_EQ(kitty::wp_id_from_filename("WP001-x.md"), std::nullopt);
}

// The id and SHA rules are checked by hand for ASCII text; 3.1.1's patterns are the oracle.
TEST(WpFrontmatter, IdAndShaRulesAreThe311Patterns) {
    const auto id_ok = [](const std::string& quoted) {
        return error_code("---\nwork_package_id: " + quoted + "\n---\n").empty();
    };
    EXPECT_TRUE(id_ok("WP01"));
    EXPECT_TRUE(id_ok("WP0123"));
    EXPECT_TRUE(id_ok("\"WP01\\n\""));
    EXPECT_TRUE(id_ok("WP\u0661\u0662")); // Arabic-Indic digits are Python's \d
    EXPECT_TRUE(id_ok("WP0\u0661"));
    EXPECT_TRUE(id_ok("WP\U0001D7CE\U0001D7CF")); // mathematical digits, Nd too
    EXPECT_FALSE(id_ok("WP1"));
    EXPECT_FALSE(id_ok("WP"));
    EXPECT_FALSE(id_ok("WP01x"));
    EXPECT_FALSE(id_ok("\"WP01\\n\\n\""));
    EXPECT_FALSE(id_ok("\"WP01\\r\""));
    EXPECT_FALSE(id_ok("WP\u2160\u2161")); // Roman numerals are Nl, not Nd
    EXPECT_FALSE(id_ok("xWP01"));

    const auto sha_ok = [](const std::string& quoted) {
        return error_code("---\nwork_package_id: WP01\nbase_commit: " + quoted + "\n---\n").empty();
    };
    EXPECT_TRUE(sha_ok("abc1234"));
    EXPECT_TRUE(sha_ok("'0123456789abcdef0123456789abcdef01234567'"));
    EXPECT_TRUE(sha_ok("\"abc1234\\n\""));
    EXPECT_FALSE(sha_ok("abc123"));
    EXPECT_FALSE(sha_ok("'0123456789abcdef0123456789abcdef012345678'"));
    EXPECT_FALSE(sha_ok("ABC1234"));
    EXPECT_FALSE(sha_ok("\"abc1234\\n\\n\""));
    EXPECT_FALSE(sha_ok("abc1234g"));

    // File names: every name of up to six pieces of these, against the pattern.
    const RE2 name_rule("^(WP[0-9]{2})(?:[-_.]|$)");
    ASSERT_TRUE(name_rule.ok());
    int matched = 0;
    for (const std::string& name :
         kitty::test::every_text({"W", "P", "0", "7", "-", "_", ".", "x", "\u0661"}, 6)) {
        std::string id;
        const bool want = RE2::PartialMatch(name, name_rule, &id);
        matched += want ? 1 : 0;
        ASSERT_EQ(kitty::wp_id_from_filename(name),
                  want ? std::optional<std::string>(id) : std::nullopt)
            << name;
    }
    EXPECT_GT(matched, 100);
}

// The WP files of a tasks directory: regular files named WP*.md, in byte order of their
// names (as 3.1.1's sorted(glob("WP*.md")) gives them).
TEST(ListWpFiles, TakesRegularWpMarkdownFilesInNameOrder) {
    kitty::test::TempDir dir;
    for (const char* name : {"WP10-a.md", "WP02-b.md", "WP1.md", "README.md", "WP03.txt"}) {
        kitty::test::write_fixture(dir / name, "x\n");
    }
    std::filesystem::create_directory(dir / "WP04.md");
    // Links are taken for what they lead to: a file, a directory, nothing.
    std::filesystem::create_symlink("README.md", dir / "WP05-link.md");
    std::filesystem::create_symlink("WP04.md", dir / "WP06-dir.md");
    std::filesystem::create_symlink("missing.md", dir / "WP07-broken.md");
    std::vector<std::string> names;
    for (const std::filesystem::path& file : kitty::list_wp_files(dir.path())) {
        EXPECT_EQ(file.parent_path(), dir.path());
        names.push_back(file.filename().string());
    }
    EXPECT_EQ(names,
              (std::vector<std::string>{"WP02-b.md", "WP05-link.md", "WP1.md", "WP10-a.md"}));
    EXPECT_EQ(kitty::list_wp_names(dir.path()), names);
    EXPECT_EQ(kitty::list_wp_names(dir / "missing"), std::vector<std::string>{});
}
