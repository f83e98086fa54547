// The acceptance gate through the built binaries (issue 22 §1, ../shared/spec/next-loop.md
// §9): `spec-kitty accept` and `agent mission accept` on real missions taken to approval by
// the loop commands; a refusal lists every unmet check and writes nothing; success records
// the acceptance in meta.json as 3.1.1 does and commits it; next's accept step waits for the
// same checks.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::approve;
using kitty::test::every_file;
using kitty::test::GitView;
using kitty::test::kThreeWps;
using kitty::test::Project;
using kitty::test::slurp;
using kitty::test::write_fixture;

namespace {

std::vector<std::string> codes(const Json& doc) {
    std::vector<std::string> out;
    for (const Json& problem : doc["summary"]["problems"]) {
        out.push_back(problem["code"].get<std::string>());
    }
    return out;
}

// kThreeWps approved by the loop commands, the planning files written and committed.
void approved_mission(const Project& p) {
    const fs::path dir = p.finalized_mission(kThreeWps);
    write_fixture(dir / "spec.md", "# Spec\n\n- FR-001 It works.\n");
    write_fixture(dir / "plan.md", "# Plan\n");
    p.commit("spec and plan");
    for (const std::string wp : {"WP01", "WP02", "WP03"}) {
        approve(p, wp);
    }
}

void tick_all(const Project& p) {
    p.sk_json({"agent", "tasks", "mark-status", "T001", "T002", "T003", "--status", "done"});
}

} // namespace

// A mission approved but with its subtasks open, a clarification marker left and a stray
// file: every unmet check at once, each with its file and fix, exit 1, not one byte written.
TEST(Accept, AnUnreadyMissionListsEveryUnmetCheckAndWritesNothing) {
    Project p;
    approved_mission(p);
    const fs::path dir = p.root / "kitty-specs/001-demo";
    write_fixture(dir / "plan.md", "# Plan\n\n[NEEDS CLARIFICATION: which index?]\n");
    p.commit("an open question");
    write_fixture(p.root / "stray.txt", "not committed\n");
    const auto before = every_file(p);
    const Json out = p.sk_json({"accept", "--mission", "001-demo"}, 1);
    EXPECT_EQ(every_file(p), before);
    EXPECT_EQ(out["code"], "ACCEPTANCE_CHECKS_FAILED");
    EXPECT_EQ(codes(out), (std::vector<std::string>{"UNCHECKED_SUBTASK", "UNCHECKED_SUBTASK",
                                                    "UNCHECKED_SUBTASK", "NEEDS_CLARIFICATION",
                                                    "MAIN_CHECKOUT_DIRTY"}));
    const Json& clarify = out["summary"]["problems"][3];
    EXPECT_EQ(clarify["path"], (dir / "plan.md").string());
    EXPECT_EQ(clarify["line"], 3);
    EXPECT_EQ(out["summary"]["problems"][0]["path"], (dir / "tasks.md").string());
    EXPECT_FALSE(out["summary"]["problems"][0]["fix"].get<std::string>().empty());
    // The agent spelling is the same command.
    EXPECT_EQ(p.sk_json({"agent", "mission", "accept", "--mission", "001-demo"}, 1)["code"],
              "ACCEPTANCE_CHECKS_FAILED");
    EXPECT_EQ(every_file(p), before);
}

// Ready: meta.json gets 3.1.1's acceptance keys (sorted, as 3.1.1 writes it), one history
// entry with both commits, "Accept <slug>" is committed and the checkout stays clean.
TEST(Accept, AReadyMissionIsAcceptedAndCommitted) {
    Project p;
    approved_mission(p);
    tick_all(p);
    const std::string parent = GitView(p.root).tip("main");
    // checklist and --no-commit check and write nothing.
    const auto before = every_file(p);
    EXPECT_EQ(p.sk_json({"accept", "--mode", "checklist"})["result"], "ready");
    EXPECT_EQ(p.sk_json({"accept", "--no-commit"})["commit_created"], false);
    EXPECT_EQ(every_file(p), before);

    const auto r = kitty::test::run_process(
        {kitty::test::tool_path("spec-kitty"), "accept", "--mission", "001-demo", "--json"},
        {"", p.root, {{"HOME", p.home.string()}, {"USER", "ada"}}});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const Json out = kitty::parse_json(r.out, "stdout");
    EXPECT_EQ(out["accepted_by"], "ada");
    EXPECT_EQ(out["mode"], "local") << "no remote: auto is local";
    EXPECT_EQ(out["parent_commit"], parent);
    EXPECT_EQ(out["commit_created"], true);
    const std::string accept_commit = out["accept_commit"].get<std::string>();

    GitView git(p.root);
    const auto subjects = git.subjects("main");
    ASSERT_GE(subjects.size(), 2u);
    EXPECT_EQ(subjects[1], "Accept 001-demo");
    EXPECT_EQ(git.parents("main"), std::vector<std::string>{accept_commit});
    EXPECT_EQ(git.dirty(), std::vector<std::string>{});

    const fs::path meta_file = p.root / "kitty-specs/001-demo/meta.json";
    const Json meta = kitty::read_json_file(meta_file);
    EXPECT_EQ(meta["accepted_at"], out["accepted_at"]);
    EXPECT_EQ(meta["accepted_by"], "ada");
    EXPECT_EQ(meta["acceptance_mode"], "local");
    EXPECT_EQ(meta["accepted_from_commit"], parent);
    EXPECT_EQ(meta["accept_commit"], accept_commit);
    ASSERT_EQ(meta["acceptance_history"].size(), 1u);
    EXPECT_EQ(meta["acceptance_history"][0],
              Json::parse(R"({"accept_commit": ")" + accept_commit +
                          R"(", "acceptance_mode": "local", "accepted_at": ")" +
                          out["accepted_at"].get<std::string>() +
                          R"(", "accepted_by": "ada", "accepted_from_commit": ")" + parent +
                          R"("})"));
    // 3.1.1's write_meta: sorted keys, two-space indent, one trailing newline.
    const std::string text = slurp(meta_file);
    EXPECT_EQ(text,
              kitty::dump_python(meta, {.indent = 2, .ensure_ascii = false, .sort_keys = true}) +
                  "\n");
    EXPECT_LT(text.find("\"accept_commit\""), text.find("\"accepted_at\""));
}

// The history keeps the last 20 acceptances (3.1.1's HISTORY_CAP).
TEST(Accept, TheHistoryIsBounded) {
    Project p;
    approved_mission(p);
    tick_all(p);
    for (int i = 0; i < 21; ++i) {
        p.sk_json({"accept", "--actor", "run-" + std::to_string(i)});
    }
    const Json meta = kitty::read_json_file(p.root / "kitty-specs/001-demo/meta.json");
    ASSERT_EQ(meta["acceptance_history"].size(), 20u);
    EXPECT_EQ(meta["acceptance_history"][0]["accepted_by"], "run-1");
    EXPECT_EQ(meta["acceptance_history"][19]["accepted_by"], "run-20");
    EXPECT_EQ(p.sk_json({"accept", "--mode", "sideways"}, 2)["code"], "BAD_MODE");
}

// next's accept step completes only when the gate's checks pass, and says which fail.
TEST(Accept, NextsAcceptStepWaitsForTheSameChecks) {
    Project p;
    approved_mission(p);
    Json d = p.next("claude");
    for (int i = 0; i < 4 && d["action"] != "accept"; ++i) {
        d = p.next("claude", "success");
    }
    ASSERT_EQ(d["action"], "accept") << d.dump();
    const Json waiting = p.next("claude", "success");
    EXPECT_EQ(waiting["kind"], "step");
    EXPECT_EQ(waiting["action"], "accept");
    ASSERT_EQ(waiting["guard_failures"].size(), 3u) << waiting.dump();
    EXPECT_NE(waiting["guard_failures"][0].get<std::string>().find("tasks.md"), std::string::npos);
    tick_all(p);
    EXPECT_EQ(p.next("claude", "success")["kind"], "terminal");
}
