// Field-by-field merges of kitty's own mission files (issue 21 §3), on texts written here
// from what each side of a parallel mission does: the loop's frontmatter edits, activity-log
// appends and subtask ticks.
#include <gtest/gtest.h>

#include "kitty/file_merge.hpp"

using kitty::merge_tasks_md;
using kitty::merge_wp_files;

namespace {

std::string wp(const std::string& front, const std::string& log) {
    return "---\nwork_package_id: WP01\ntitle: Alpha\n" + front +
           "---\n\n# WP01: Alpha\n\nDo it.\n\n## Activity Log\n\n" + log;
}

} // namespace

TEST(WpFileMerge, DifferentKeysAndBothSidesLogLinesMerge) {
    const std::string base =
        wp("agent: claude\nshell_pid: '1'\n", "- 2026-01-01T09:00:00Z – claude – started\n");
    const std::string ours =
        wp("agent: codex\nshell_pid: '1'\n", "- 2026-01-01T09:00:00Z – claude – started\n"
                                             "- 2026-01-01T11:00:00Z – codex – took over\n");
    const std::string theirs =
        wp("agent: claude\nshell_pid: '2'\n", "- 2026-01-01T09:00:00Z – claude – started\n"
                                              "- 2026-01-01T10:00:00Z – claude – committed\n");
    EXPECT_EQ(merge_wp_files(base, ours, theirs),
              wp("agent: codex\nshell_pid: '2'\n", "- 2026-01-01T09:00:00Z – claude – started\n"
                                                   "- 2026-01-01T10:00:00Z – claude – committed\n"
                                                   "- 2026-01-01T11:00:00Z – codex – took over\n"));
}

TEST(WpFileMerge, OneKeyChangedTwoWaysStaysConflicted) {
    const std::string base = wp("agent: claude\n", "");
    EXPECT_EQ(merge_wp_files(base, wp("agent: codex\n", ""), wp("agent: gemini\n", "")),
              std::nullopt);
    // Changed alike is no conflict; a key one side added is kept.
    EXPECT_EQ(
        merge_wp_files(base, wp("agent: codex\n", ""), wp("agent: codex\nreviewed_by: x\n", "")),
        wp("agent: codex\nreviewed_by: x\n", ""));
}

TEST(WpFileMerge, HistoryEntriesAreAUnionAndTheBodyMergesAsAWhole) {
    const std::string base = wp("history:\n- at: '1'\n  lane: planned\n", "");
    const std::string ours = wp("history:\n- at: '1'\n  lane: planned\n- at: '2'\n", "");
    const std::string theirs = wp("history:\n- at: '1'\n  lane: planned\n- at: '3'\n", "");
    EXPECT_EQ(merge_wp_files(base, ours, theirs),
              wp("history:\n- at: '1'\n  lane: planned\n- at: '2'\n- at: '3'\n", ""));
    // The prose above the log changed on both sides differently: conflicted.
    std::string a = base, b = base;
    a.replace(a.find("Do it."), 6, "Do it now.");
    b.replace(b.find("Do it."), 6, "Do it later.");
    EXPECT_EQ(merge_wp_files(base, a, b), std::nullopt);
    // A file without frontmatter: only one side's change merges.
    EXPECT_EQ(merge_wp_files("x\n", "y\n", "x\n"), "y\n");
    EXPECT_EQ(merge_wp_files("x\n", "y\n", "z\n"), std::nullopt);
}

TEST(TasksMdMerge, TicksFromBothSidesAreKeptDoneWins) {
    const std::string base =
        "# Tasks\n\n## WP01\n\n- [ ] T001 One\n- [ ] T002 Two\n- [x] T003 Three\n";
    const std::string ours =
        "# Tasks\n\n## WP01\n\n- [x] T001 One\n- [ ] T002 Two\n- [x] T003 Three\n";
    const std::string theirs =
        "# Tasks\n\n## WP01\n\n- [ ] T001 One\n- [X] T002 Two\n- [ ] T003 Three\n";
    EXPECT_EQ(merge_tasks_md(base, ours, theirs),
              "# Tasks\n\n## WP01\n\n- [x] T001 One\n- [x] T002 Two\n- [x] T003 Three\n");
    // One side alone unticking is kept: only a tick against a tick is decided by done.
    EXPECT_EQ(merge_tasks_md(base, base, theirs), theirs);
    // Text changed on one side and ticks on the other.
    const std::string edited =
        "# Tasks\n\n## WP01\n\n- [ ] T001 One, done well\n- [ ] T002 Two\n- [x] T003 Three\n"
        "- [ ] T004 Four\n";
    EXPECT_EQ(merge_tasks_md(base, edited,
                             theirs.substr(0, theirs.find("- [ ] T003")) + "- [x] T003 Three\n"),
              "# Tasks\n\n## WP01\n\n- [ ] T001 One, done well\n- [x] T002 Two\n- [x] T003 Three\n"
              "- [ ] T004 Four\n");
    // Text changed on both sides: conflicted.
    EXPECT_EQ(merge_tasks_md(base, edited, base + "- [ ] T009 Nine\n"), std::nullopt);
}
