// `make demo` as an end-to-end test (issue 15 §2): scripts/demo.sh takes the bundled example
// from `spec-kitty init` to merged on main with a scripted agent; the project it keeps is
// then read with libgit2 directly, independently of kitty.
#include <git2.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "headless_chromium.hpp"
#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::GitView;
using kitty::test::json_lines;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;

namespace {} // namespace

TEST(DemoFlow, TheScriptTakesTheExampleFromInitToMergedOnMain) {
    if (kitty::test::find_on_path("git").empty()) {
        GTEST_SKIP() << "git is not on PATH: the demo's scripted agent commits with it "
                        "(scripts/bootstrap.sh installs it)";
    }
    TempDir tmp;
    const fs::path keep = tmp / "demo";
    kitty::test::ProcessOptions options;
    options.env["KITTY_DEMO_DIR"] = keep.string();
    const fs::path dashboard = tmp / "dashboard.html";
    options.env["KITTY_DEMO_DASHBOARD"] = dashboard.string();
    const auto r = run_process({KITTY_SOURCE_DIR "/scripts/demo.sh",
                                fs::path(kitty::test::tool_path("spec-kitty")).parent_path()},
                               options);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("demo: OK"), std::string::npos) << r.out;
    const fs::path root = keep / "project";
    GitView repo(root);

    // The dashboard of the merged mission: every WP's card in the done column.
    ASSERT_TRUE(fs::exists(dashboard));
    if (!kitty::test::HeadlessChromium::executable().empty()) {
        kitty::test::HeadlessChromium browser(tmp / "chromium");
        browser.open("file://" + dashboard.string());
        EXPECT_EQ(browser.evaluate("Array.from(document.querySelectorAll('[data-lane=done] "
                                   ".card')).map(c => c.dataset.wp).join(',')"),
                  "WP01,WP02,WP03,WP04");
        EXPECT_EQ(browser.evaluate("document.querySelectorAll('.card').length"), 4);
    }

    // What the agent wrote for each WP is on main (WP02 twice: the rejection's fix too),
    // and no file of main carries a conflict marker.
    const auto tree = repo.files("main");
    const std::map<std::string, std::string> work = {
        {"src/search/index/index.py", "# WP01: Search index\n"},
        {"src/search/api/search.py", "# WP02: Query API\n"},
        {"src/search/api/test_search.py", "# WP02: a test for the ranking, as the review asked\n"},
        {"src/cli/notes_search.py", "# WP03: Command-line client\n"},
        {"kitty-specs/001-legacy-search/quickstart.md", "# WP04: Spec and quickstart\n"},
    };
    for (const auto& [path, content] : work) {
        ASSERT_TRUE(tree.count(path)) << path;
        EXPECT_EQ(tree.at(path), content) << path;
    }
    const std::string cycle =
        "kitty-specs/001-legacy-search/tasks/WP02-query-api/review-cycle-1.md";
    ASSERT_TRUE(tree.count(cycle)) << "the rejection's feedback is committed";
    EXPECT_NE(tree.at(cycle).find("Add a test for the ranking."), std::string::npos);
    for (const auto& [path, content] : tree) {
        for (const char* marker : {"<<<<<<< ", "\n=======\n", ">>>>>>> "}) {
            EXPECT_EQ(content.find(marker), std::string::npos) << path << " has " << marker;
        }
    }

    // Refs: main alone; no lane worktree left; the main checkout clean.
    EXPECT_EQ(repo.refs(), std::set<std::string>{"refs/heads/main"});
    EXPECT_EQ(repo.worktrees(), std::set<std::string>{});
    EXPECT_FALSE(fs::exists(root / ".worktrees/001-legacy-search-lane-a"));
    EXPECT_FALSE(fs::exists(root / ".worktrees/001-legacy-search-lane-b"));
    EXPECT_EQ(repo.dirty(), std::vector<std::string>{});

    // The event log: every WP ended done by the merge, after exactly one rejection (WP02's).
    const auto log = json_lines(root / "kitty-specs/001-legacy-search/status.events.jsonl");
    std::map<std::string, Json> last;
    int rejections = 0;
    for (const Json& e : log) {
        last[e["wp_id"].get<std::string>()] = e;
        const std::string from =
            e["from_lane"].is_string() ? e["from_lane"].get<std::string>() : "";
        if (e["to_lane"] == "planned" && (from == "for_review" || from == "in_review")) {
            ++rejections;
            EXPECT_EQ(e["wp_id"], "WP02");
        }
    }
    EXPECT_EQ(rejections, 1);
    ASSERT_EQ(last.size(), 4u);
    for (const auto& [wp, e] : last) {
        EXPECT_EQ(e["to_lane"], "done") << wp;
        EXPECT_EQ(e["actor"], "merge") << wp;
    }

    // 3.1.1's subjects for the squash and the done transitions.
    const auto subjects = repo.subjects("main");
    ASSERT_GE(subjects.size(), 2u);
    EXPECT_EQ(subjects[0], "chore(001-legacy-search): record done transitions for merged WPs");
    EXPECT_EQ(subjects[1], "feat(kitty/mission-001-legacy-search): squash merge of mission");
}
