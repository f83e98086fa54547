// The tasks.md parser against the behaviour spec/parse-tasks.md §1 and §5 record for
// spec-kitty 3.1.1 (each expectation there was confirmed by running the reference).
#include <gtest/gtest.h>

#include "kitty/dependency_graph.hpp"
#include "kitty/json.hpp"
#include "kitty/ownership.hpp"
#include "kitty/tasks_md.hpp"

using kitty::DependencyMap;
using kitty::dump_python;

namespace {

std::string deps(const std::string& text) {
    return dump_python(kitty::dependency_map_json(kitty::parse_dependencies(text)));
}

std::vector<std::string> codes(const kitty::TasksAnalysis& a) {
    std::vector<std::string> out;
    for (const auto& f : a.findings) {
        out.push_back(f.code);
    }
    return out;
}

bool has(const kitty::TasksAnalysis& a, const std::string& code, int line = 0) {
    for (const auto& f : a.findings) {
        if (f.code == code && (line == 0 || f.line == line)) {
            return true;
        }
    }
    return false;
}

} // namespace

// spec §5, the edge-case table.
TEST(TasksParser, EdgeCaseTable) {
    EXPECT_EQ(deps("## WP03\n\n**Dependencies**:\n- WP01\n- WP02\n"), R"({"WP03": ["WP01"]})");
    EXPECT_EQ(deps("## WP03\n\n**Dependencies**: WP02\nDepends on WP01\n"),
              R"({"WP03": ["WP01", "WP02"]})");
    EXPECT_EQ(deps("## WP02 - Build (Depends on WP01)\n\nbody\n"), R"({"WP02": ["WP01"]})");
    EXPECT_EQ(deps("## WP02\n\n- **Priority**: P1. **Dependencies**: WP01, WP03. **Prompt**: "
                   "[tasks/WP02-x.md]\n"),
              R"({"WP02": ["WP01", "WP03", "WP02"]})");
    EXPECT_EQ(deps("## WP02\n\n**Depends on**: WP01\n"), R"({"WP02": []})");
    EXPECT_EQ(deps("## WP01\n\nbody\n\n## Notes\n\nDepends on WP09\n\n## WP02\n\nbody\n"),
              R"({"WP01": ["WP09"], "WP02": []})");
    EXPECT_EQ(deps("## WP01\n\n## Dependencies: WP00\n\nDepends on WP07\n"), R"({"WP01": []})");
    EXPECT_EQ(deps("## WP01\n\nx\n\n##Notes\nDepends on WP07\n"), R"({"WP01": ["WP07"]})");
    EXPECT_EQ(deps("## Work Package WP01: Setup\n\nDependencies: none\n\n## Work Package WP02: "
                   "Build\n\n**Dependencies**: WP01\n\n## Dependency & Execution Summary\n\n- WP02 "
                   "depends on WP01; Depends on WP03\n"),
              R"({"WP01": [], "WP02": ["WP01"]})");
}

// spec §1.3, header recognition.
TEST(TasksParser, HeaderForms) {
    for (const char* yes :
         {"## WP01\n", "## WP01 - Title\n", "## WP01 — Title\n", "## WP01: T\n", "## WP01/x\n",
          "## Work Package WP01\n", "## Work Package WP01: T\n", "### WP01\n", "### WP01: x\n",
          "### WP01– x\n", "##\nWP01\n", "##   Work Package   WP01\n", "## WP01"}) {
        EXPECT_EQ(deps(yes), R"({"WP01": []})") << yes;
    }
    for (const char* no :
         {"### Work Package WP01: x\n", "#### WP01 x\n", "# WP01\n", "## **WP01**\n", "## WP123\n",
          "## WP1\n", "## WP01a\n", "## WP01_x\n", "## work package WP01\n", "## wp01\n",
          "## WP01\xC3\xA9\n", "\xEF\xBB\xBF## WP01\n", "x ## WP01\n"}) {
        EXPECT_EQ(deps(no), "{}") << no;
    }
}

// spec §1.1/§1.4: family order, bullets, case, unanchored ids, Unicode classes.
TEST(TasksParser, PatternSemantics) {
    EXPECT_EQ(deps("## WP05\n### Dependencies\n- WP01 (foo)\n- Depends on WP03\n- WP04\n"),
              R"({"WP05": ["WP03", "WP01"]})");
    EXPECT_EQ(deps("## WP05\n### Dependencies\n\n- WP01\n\n* WP02 (note WP07)\n## x\n- WP03\n"),
              R"({"WP05": ["WP01", "WP02"]})");
    EXPECT_EQ(deps("## WP05\n### Dependencies\n- **WP01**\n- WP02\n"), R"({"WP05": []})");
    EXPECT_EQ(deps("## WP05\n#### **Dependencies**\n- WP02\n## Dependencies\n- WP01\n"),
              R"({"WP05": ["WP02", "WP01"]})");
    EXPECT_EQ(deps("## WP05\nDepends on wp01.\n"), R"({"WP05": []})");
    EXPECT_EQ(deps("## WP05\nDepends on WP012\n"), R"({"WP05": ["WP01"]})");
    EXPECT_EQ(deps("## WP05\nDepends on WP01, WP02, and WP03\n"), R"({"WP05": ["WP01", "WP02"]})");
    EXPECT_EQ(deps("## WP05\nDepends on WP01 and WP02\n"), R"({"WP05": ["WP01"]})");
    EXPECT_EQ(deps("## WP05\nNo dependencies: WP01 is unrelated\n"), R"({"WP05": ["WP01"]})");
    EXPECT_EQ(deps("## WP05\ndependencies: [WP01]\n"), R"({"WP05": ["WP01"]})");
    EXPECT_EQ(deps("## WP05\n(depends: WP01, WP02) after WP03, blocked by WP04\n"),
              R"({"WP05": []})");
    // \s crosses newlines and includes NBSP; \d is any Unicode decimal digit.
    EXPECT_EQ(deps("## WP05\nDepends\non\nWP01\n"), R"({"WP05": ["WP01"]})");
    EXPECT_EQ(deps("## WP05\nDepends\xC2\xA0on WP01\n"), R"({"WP05": ["WP01"]})");
    EXPECT_EQ(deps("## WP\xD9\xA0\xD9\xA1\nx\n"), R"({"WP\u0660\u0661": []})");
    // A duplicate header: the last text wins, the first position stays.
    EXPECT_EQ(deps("## WP01\nDepends on WP05\n## WP02\n## WP01\nDepends on WP06\n"),
              R"({"WP01": ["WP06"], "WP02": []})");
    EXPECT_EQ(deps(""), "{}");
    EXPECT_EQ(deps("no headers here\nDepends on WP01\n"), "{}");
}

// spec §1.9: the requirement-refs parse is a different splitter and needs a colon.
TEST(TasksParser, RequirementRefs) {
    const auto a = kitty::analyse_tasks_md(
        "## WP01\n**Requirement Refs**: FR-001, c-002, FR-001 NFR-3\n#### WP02\n"
        "**Requirements**: FR-004\n### Work Package WP03\n### Requirement Refs\n- FR-005\n"
        "## WP04\n**Requirement Refs**:\n- FR-006\n- FR-007\n",
        "tasks.md");
    ASSERT_EQ(a.requirement_refs.size(), 4U);
    EXPECT_EQ(a.requirement_refs[0].first, "WP01");
    EXPECT_EQ(a.requirement_refs[0].second, (std::vector<std::string>{"FR-001", "C-002", "NFR-3"}));
    EXPECT_EQ(a.requirement_refs[1].first, "WP02");
    EXPECT_EQ(a.requirement_refs[1].second, (std::vector<std::string>{"FR-004"}));
    EXPECT_TRUE(a.requirement_refs[2].second.empty());
    EXPECT_EQ(a.requirement_refs[3].second, (std::vector<std::string>{"FR-006"}));
    EXPECT_EQ(kitty::extract_requirement_ids("xFR-001 FR-002x NFR-010, fr-3"),
              (std::vector<std::string>{"NFR-010", "FR-3"}));
}

// spec §1.6, the worked example of detect_cycles.
TEST(DependencyGraph, DetectCycles) {
    const DependencyMap g = {
        {"WP01", {"WP02"}}, {"WP02", {"WP03"}}, {"WP03", {"WP01"}}, {"WP04", {"WP04", "WP01"}}};
    const auto cycles = kitty::detect_cycles(g);
    ASSERT_EQ(cycles.size(), 2U);
    EXPECT_EQ(cycles[0], (std::vector<std::string>{"WP01", "WP02", "WP03", "WP01"}));
    EXPECT_EQ(cycles[1], (std::vector<std::string>{"WP04", "WP04"}));
    EXPECT_TRUE(kitty::detect_cycles({{"WP01", {"WP09"}}, {"WP02", {"WP01"}}}).empty());
}

TEST(TasksAnalysis, SourcesTitlesLinesAndSubtasks) {
    const auto a = kitty::analyse_tasks_md(
        "# Tasks\n\n## Work Package WP01: Setup (Priority: P0)\n\n- [ ] T001 Create core\n"
        "- [x] T002 [P] Add tests (WP01)\n\n## WP02 — API\n\nDepends on WP01\n"
        "### Dependencies\n- WP01\n- WP03\n\n## WP03\n**Dependencies**: WP01\n",
        "tasks.md");
    ASSERT_EQ(a.sections.size(), 3U);
    const auto& wp1 = a.sections[0];
    EXPECT_EQ(wp1.title, "Setup (Priority: P0)");
    EXPECT_EQ(wp1.first_line, 3);
    EXPECT_EQ(wp1.last_line, 7);
    ASSERT_EQ(wp1.subtasks.size(), 2U);
    EXPECT_EQ(wp1.subtasks[0].id, "T001");
    EXPECT_FALSE(wp1.subtasks[0].done);
    EXPECT_FALSE(wp1.subtasks[0].parallel);
    EXPECT_EQ(wp1.subtasks[0].text, "Create core");
    EXPECT_EQ(wp1.subtasks[0].line, 5);
    EXPECT_TRUE(wp1.subtasks[1].done);
    EXPECT_TRUE(wp1.subtasks[1].parallel);
    EXPECT_EQ(wp1.subtasks[1].text, "Add tests (WP01)");

    const auto& wp2 = a.sections[1];
    EXPECT_EQ(wp2.title, "API");
    ASSERT_EQ(wp2.dependencies.size(), 2U);
    EXPECT_EQ(wp2.dependencies[0].id, "WP01");
    EXPECT_EQ(wp2.dependencies[0].pattern, kitty::DependencyPattern::depends_on);
    EXPECT_EQ(wp2.dependencies[0].at.line, 10);
    EXPECT_EQ(wp2.dependencies[0].at.column, 12);
    EXPECT_EQ(wp2.dependencies[1].id, "WP03");
    EXPECT_EQ(wp2.dependencies[1].pattern, kitty::DependencyPattern::dependencies_heading);
    EXPECT_EQ(wp2.dependencies[1].at.line, 13);
    EXPECT_EQ(wp2.dependencies[1].at.column, 3);
    EXPECT_EQ(a.sections[2].dependencies[0].pattern, kitty::DependencyPattern::dependencies_colon);
    EXPECT_TRUE(a.findings.empty()); // WP02 → WP03 → WP01 is no cycle
}

TEST(TasksAnalysis, Findings) {
    const auto self = kitty::analyse_tasks_md(
        "## WP01\n## WP02\n\n- **Dependencies**: WP01 · **Prompt**: [tasks/WP02-x.md]\n", "t.md");
    ASSERT_TRUE(has(self, "SELF_DEPENDENCY", 4));
    EXPECT_NE(self.findings[0].message.find("Prompt link"), std::string::npos);
    EXPECT_EQ(self.findings[0].severity, "warning");
    EXPECT_FALSE(has(self, "DEPENDENCY_CYCLE")); // a self-loop is reported once, as above

    EXPECT_TRUE(
        has(kitty::analyse_tasks_md("## WP01\nDepends on WP09\n", "t"), "UNKNOWN_DEPENDENCY", 2));
    for (const char* ignored :
         {"## WP01\n## WP02\n**Depends on**: WP01\n", "## WP01\n## WP02\nDepends on: WP01\n",
          "## WP01\n## WP02\n**Depends on** WP01\n", "## WP01\n## WP02\n(depends: WP01)\n",
          "## WP01\n## WP02\n## WP03\nDepends on WP01 and WP02\n"}) {
        EXPECT_TRUE(has(kitty::analyse_tasks_md(ignored, "t"), "IGNORED_DEPENDENCY_PHRASE"))
            << ignored;
    }
    EXPECT_TRUE(has(kitty::analyse_tasks_md("## WP01\n## WP02\nDepends on wp01\n", "t"),
                    "LOWERCASE_WP_ID", 3));
    // Declared in an accepted form too: nothing is lost, nothing is reported.
    EXPECT_TRUE(
        kitty::analyse_tasks_md("## WP01\n## WP02\n**Depends on**: WP01\nDepends on WP01\n", "t")
            .findings.empty());
    EXPECT_TRUE(has(kitty::analyse_tasks_md("## WP01\nx\n## WP01\n", "t"), "DUPLICATE_SECTION"));
    const auto headers = kitty::analyse_tasks_md(
        "## WP01\n#### WP02 x\n### Work Package WP03: y\n## **WP04**\n", "t");
    EXPECT_TRUE(has(headers, "UNRECOGNISED_HEADER", 2));
    EXPECT_TRUE(has(headers, "UNRECOGNISED_HEADER", 3));
    EXPECT_TRUE(has(headers, "UNRECOGNISED_HEADER", 4));
    EXPECT_FALSE(has(headers, "UNRECOGNISED_HEADER", 1));
    EXPECT_TRUE(has(kitty::analyse_tasks_md("\xEF\xBB\xBF## WP01\n", "t"), "BOM_HIDES_HEADER", 1));
    // Issue 20 §7: WP100 is no WP for 3.1.1 (parity kept: no section), but it is reported.
    const auto long_ids = kitty::analyse_tasks_md(
        "## WP99\nx\n## WP100: more\nDepends on WP99\n### Work Package WP1234\n", "t");
    EXPECT_TRUE(has(long_ids, "WP_ID_OVER_TWO_DIGITS", 3));
    EXPECT_TRUE(has(long_ids, "WP_ID_OVER_TWO_DIGITS", 5));
    EXPECT_FALSE(has(long_ids, "WP_ID_OVER_TWO_DIGITS", 1));
    EXPECT_EQ(long_ids.dependency_map().size(), 1u) << "only WP99, as 3.1.1 reads it";

    const auto cycle = kitty::analyse_tasks_md(
        "## WP01\nDepends on WP02\n## WP02\nDepends on WP03\n## WP03\nDepends on WP01\n", "t");
    ASSERT_EQ(codes(cycle), (std::vector<std::string>{"DEPENDENCY_CYCLE"}));
    EXPECT_EQ(cycle.findings[0].severity, "error");
    EXPECT_EQ(cycle.findings[0].line, 2);
    EXPECT_NE(cycle.findings[0].message.find("WP01 → WP02 → WP03 → WP01"), std::string::npos);
}

// Columns count code points from the line start, also far into a long line (D13: each
// lookup used to walk from the line start, quadratic in the line's length).
TEST(TasksAnalysis, ColumnsOnALongLine) {
    std::string line;
    for (int i = 0; i < 3000; ++i) {
        line += "\u00e9";
    }
    line += " Depends on WP02";
    for (int i = 0; i < 2000; ++i) {
        line += " \u00fc";
    }
    line += " Dependencies: WP03, WP04";
    const auto a = kitty::analyse_tasks_md(
        "# Tasks\n\n## WP01 One\n\n" + line + "\n\n## WP02\n\n## WP03\n\n## WP04\n", "tasks.md");
    ASSERT_EQ(a.sections.size(), 4U);
    const auto& deps = a.sections[0].dependencies;
    ASSERT_EQ(deps.size(), 3U);
    EXPECT_EQ(deps[0].id, "WP02");
    EXPECT_EQ(deps[0].at.line, 5);
    EXPECT_EQ(deps[0].at.column, 3013);
    EXPECT_EQ(deps[1].id, "WP03");
    EXPECT_EQ(deps[1].at.column, 7032);
    EXPECT_EQ(deps[2].id, "WP04");
    EXPECT_EQ(deps[2].at.line, 5);
    EXPECT_EQ(deps[2].at.column, 7038);
}

// infer_ownership of 3.1.1 (spec/parse-tasks.md §3.5) finds the paths in a WP's text:
// sorted, directories as dir/**, a path under a kept directory dropped, and the surface the
// common leading segments. (The path pattern once failed to compile, so every WP fell back
// to src/**: mission v311-057.)
TEST(InferOwnership, ExtractsPathsFromTheText) {
    const auto o = kitty::infer_ownership(
        "---\ntitle: x\n---\nEdit `src/specify_cli/cli/commands/init.py` and the files in "
        "src/specify_cli/upgrade/migrations/ (src/specify_cli/upgrade/migrations/m_1.py).\n",
        "057-x");
    EXPECT_EQ(o.execution_mode, "code_change");
    EXPECT_EQ(o.owned_files, (std::vector<std::string>{"src/specify_cli/cli/commands/init.py",
                                                       "src/specify_cli/upgrade/migrations/**"}));
    EXPECT_EQ(o.authoritative_surface, "src/specify_cli/");
    EXPECT_FALSE(o.warning);
}
