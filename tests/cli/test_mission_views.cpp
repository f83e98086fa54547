// Mission views (issue 22 §3): `mission list|current|info` about mission types, as 3.1.1
// means them, and `status --all`, one row per mission, through the built binaries.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::approve;
using kitty::test::kThreeWps;
using kitty::test::Project;

TEST(MissionViews, StatusAllHasOneRowPerMissionWithItsStateProgressLanesAndTarget) {
    Project p;
    p.finalized_mission(kThreeWps);
    approve(p, "WP01");
    EXPECT_EQ(p.sk_json({"status", "--all"})["missions"][0]["state"], "in_progress");
    approve(p, "WP02");
    approve(p, "WP03");
    p.sk_json({"agent", "mission", "create", "later", "--mission-type", "research"});
    const Json all = p.sk_json({"status", "--all"});
    ASSERT_EQ(all["missions"].size(), 2u) << all;
    const Json& demo = all["missions"][0];
    EXPECT_EQ(demo["mission_slug"], "001-demo");
    EXPECT_EQ(demo["state"], "approved");
    EXPECT_EQ(demo["work_packages"], 3);
    EXPECT_EQ(demo["by_lane"], (Json{{"approved", 3}}));
    // 3.1.1's lane weight of approved is 0.8.
    EXPECT_EQ(demo["progress_percentage"], 80.0);
    EXPECT_EQ(demo["lanes"], 3); // lane-a, lane-b, lane-planning
    EXPECT_EQ(demo["target_branch"], "main");
    EXPECT_EQ(demo["mission_id"],
              kitty::parse_json(kitty::test::slurp(p.root / "kitty-specs/001-demo/meta.json"),
                                "meta")["mission_id"]);
    const Json& later = all["missions"][1];
    EXPECT_EQ(later["mission_slug"], "002-later");
    EXPECT_EQ(later["state"], "planning");
    EXPECT_EQ(later["work_packages"], 0);
    EXPECT_EQ(later["lanes"], nullptr);
    EXPECT_EQ(later["mission_type"], "research");

    // Text: a header and one line per mission.
    const auto text = p.run({kitty::test::tool_path("spec-kitty"), "status", "--all"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_TRUE(text.out.starts_with("MISSION ")) << text.out;
    EXPECT_NE(text.out.find("001-demo"), std::string::npos);
    EXPECT_NE(text.out.find("approved"), std::string::npos);
    EXPECT_NE(text.out.find("002-later"), std::string::npos);

    // One unreadable mission is a row and a warning, not a failed list.
    kitty::test::write_fixture(p.root / "kitty-specs/002-later/status.events.jsonl", "{oops\n");
    const auto r = p.sk({"status", "--all"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(kitty::parse_json(r.out, "out")["missions"][1]["state"], "unreadable");
    EXPECT_NE(r.err.find("warning: 002-later: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Invalid JSON on line 1"), std::string::npos) << r.err;
    EXPECT_EQ(p.sk({"status", "--all", "--mission", "001-demo"}).exit_code, 2);
}

TEST(MissionViews, MissionListCurrentAndInfoAreAboutMissionTypes) {
    Project p;
    p.finalized_mission(kThreeWps);
    p.sk_json({"agent", "mission", "create", "later", "--mission-type", "research"});
    const Json list = p.sk_json({"mission", "list"});
    ASSERT_EQ(list["mission_types"].size(), 2u) << list;
    const Json& dev = list["mission_types"][0];
    EXPECT_EQ(dev["key"], "software-dev");
    EXPECT_EQ(dev["runs"], true);
    EXPECT_EQ(dev["missions"], Json::array({"001-demo"}));
    const Json& research = list["mission_types"][1];
    EXPECT_EQ(research["key"], "research");
    EXPECT_EQ(research["runs"], false);
    EXPECT_EQ(research["missions"], Json::array({"002-later"}));

    // The nine steps of the loop, in the order next issues them.
    const Json info = p.sk_json({"mission", "info", "software-dev"});
    std::vector<std::string> steps;
    for (const Json& s : info["steps"]) {
        steps.push_back(s["id"]);
    }
    EXPECT_EQ(steps, (std::vector<std::string>{"discovery", "specify", "plan", "tasks_outline",
                                               "tasks_packages", "tasks_finalize", "implement",
                                               "review", "accept"}));
    EXPECT_EQ(info["required_artifacts"], Json::array({"spec.md", "plan.md", "tasks.md"}));
    EXPECT_EQ(p.sk_json({"mission", "info", "nope"}, 3)["code"], "UNKNOWN_MISSION_TYPE");

    const Json current = p.sk_json({"mission", "current", "--mission", "001-demo"});
    EXPECT_EQ(current["mission_type"], "software-dev");
    EXPECT_EQ(current["runs"], true);
    EXPECT_EQ(current["type"]["key"], "software-dev");
    const Json other = p.sk_json({"mission", "current", "--mission", "later"});
    EXPECT_EQ(other["mission_type"], "research");
    EXPECT_EQ(other["runs"], false);
    // Standing in a mission directory picks it.
    EXPECT_EQ(
        p.sk_json({"mission", "current"}, 0, p.root / "kitty-specs/002-later")["mission_slug"],
        "002-later");
}
