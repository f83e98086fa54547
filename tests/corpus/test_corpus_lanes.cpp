// Parity with spec-kitty 3.1.1's lanes step on the real missions of ../shared/corpus:
// lanes.json byte for byte where 3.1.1 wrote one, the same failure (same WP, nothing
// written) where it raised, and a refusal where finalize-tasks would not compute lanes.
// Everything runs through the built binaries, with --write into a copy of each mission.
#include <gtest/gtest.h>

#include "kitty/json.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::tool_path;

namespace {

// As corpus/README.md prescribes: the slug without its source prefix, target branch main,
// computed_at pinned.
std::vector<std::string> pinned(const Json& record) {
    return {"--mission-slug",  record["mission_slug"].get<std::string>(),
            "--target-branch", "main",
            "--computed-at",   "2026-01-01T00:00:00+00:00"};
}

struct Mission {
    Json record;
    fs::path dir;
};

std::vector<Mission> missions() {
    const fs::path root = kitty::test::shared_dir() / "corpus";
    std::vector<Mission> out;
    for (const Json& record : Json::parse(slurp(root / "index.json"))) {
        out.push_back({record, root / "missions" / record["id"].get<std::string>()});
    }
    return out;
}

// A private copy of the mission's inputs (without the committed lanes.json), so --write
// has somewhere to write and "nothing written" can be checked.
// A copy of the mission inside a project at `into` (kitty writes only inside a project).
fs::path copy_mission(const Mission& m, const fs::path& into) {
    fs::create_directories(into / ".kittify");
    const fs::path dir = into / "kitty-specs" / m.record["id"].get<std::string>();
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(m.dir)) {
        const std::string name = e.path().filename().string();
        if (name != "expected" && name != "lanes.json") {
            fs::copy(e.path(), dir / name, fs::copy_options::recursive);
        }
    }
    return dir;
}

kitty::test::ProcessResult lanes(std::vector<std::string> args, const Json& record,
                                 const std::string& input = {}) {
    args.insert(args.begin(), tool_path("kitty-lanes"));
    for (const std::string& a : pinned(record)) {
        args.push_back(a);
    }
    kitty::test::ProcessOptions options;
    options.input = input;
    return run_process(args, options);
}

} // namespace

TEST(CorpusLanes, WrittenFilesAreByteIdenticalAndFailuresWriteNothing) {
    kitty::test::TempDir tmp;
    std::map<std::string, int> seen;
    for (const Mission& m : missions()) {
        const std::string status = m.record["lanes_status"].get<std::string>();
        ++seen[status];
        const fs::path dir = copy_mission(m, tmp.path());
        const auto r = lanes({"compute", dir.string(), "--write"}, m.record);
        const fs::path written = dir / "lanes.json";
        if (status == "lanes") {
            ASSERT_EQ(r.exit_code, 0) << dir << r.err;
            EXPECT_EQ(slurp(written), slurp(m.dir / "expected/lanes.json")) << dir;
            EXPECT_EQ(Json::parse(r.out)["changed"], true) << dir;
            continue;
        }
        EXPECT_FALSE(fs::exists(written)) << dir;
        const Json error = Json::parse(r.out);
        if (status == "error") {
            // "LaneComputationError: Executable WP 'WP07' has no ownership manifest. …"
            const std::string expected = slurp(m.dir / "expected/lanes.error.txt");
            const std::string wp = expected.substr(expected.find('\'') + 1, 4);
            EXPECT_NE(error["error"].get<std::string>().find(wp), std::string::npos) << dir;
            // 3.1.1 silently drops a manifest whose execution_mode is not one of its two
            // values (062's WP08 says "review"); kitty names the file and line instead.
            if (error["code"] == "INVALID_EXECUTION_MODE") {
                EXPECT_EQ(r.exit_code, 3) << dir;
                EXPECT_GT(error["line"].get<int>(), 1) << dir;
            } else {
                EXPECT_EQ(error["code"], "MISSING_MANIFEST") << dir;
                EXPECT_EQ(r.exit_code, 1) << dir;
            }
        } else if (status == "skipped") {
            const std::string reason = slurp(m.dir / "expected/lanes.skipped.txt");
            EXPECT_EQ(r.exit_code, 1) << dir;
            EXPECT_EQ(error["code"], reason.find("empty dependency graph") != std::string::npos
                                         ? "NO_WORK_PACKAGES"
                                         : "NO_OWNERSHIP_MANIFESTS")
                << dir << r.out;
        } else {
            // Needs ownership inference first (finalize-tasks' job): refused, not guessed.
            EXPECT_EQ(status, "unreproducible");
            EXPECT_EQ(r.exit_code, 1) << dir;
        }
    }
    EXPECT_EQ(seen["lanes"], 52);
    EXPECT_EQ(seen["error"], 3);
    EXPECT_EQ(seen["skipped"], 22);
    EXPECT_EQ(seen["unreproducible"], 5);
}

// The pipeline of ARCHITECTURE.md gives the same bytes as reading the mission directly.
TEST(CorpusLanes, ParseTasksPipeGivesTheSameBytes) {
    int compared = 0;
    for (const Mission& m : missions()) {
        if (m.record["lanes_status"] != "lanes" || m.record["has_wps_yaml"] == true) {
            continue; // kitty-parse-tasks reads tasks.md; wps.yaml missions lane from wps.yaml
        }
        const auto parsed = run_process({tool_path("kitty-parse-tasks"), (m.dir / "").string()});
        ASSERT_NE(parsed.out, "") << m.dir;
        const auto r = lanes({"compute", "-"}, m.record, parsed.out);
        ASSERT_EQ(r.exit_code, 0) << m.dir << r.err;
        EXPECT_EQ(r.out, slurp(m.dir / "expected/lanes.json")) << m.dir;
        ++compared;
    }
    EXPECT_EQ(compared, 50);
}

// Every lanes.json committed upstream, whichever spec-kitty wrote it, can be shown; those
// 3.1.1 itself wrote are recognised as its shape.
TEST(CorpusLanes, ShowReadsEveryCommittedFile) {
    int shown = 0;
    for (const Mission& m : missions()) {
        if (!fs::exists(m.dir / "lanes.json")) {
            continue;
        }
        const auto r = run_process({tool_path("kitty-lanes"), "show", (m.dir / "").string()});
        ASSERT_NE(r.exit_code, 3) << m.dir << r.out;
        const Json doc = Json::parse(r.out);
        EXPECT_EQ(doc["ok"], r.exit_code == 0) << m.dir;
        // Files from before lane-planning leave planning WPs in no lane (076, 078).
        const bool planning_outside =
            doc["shape"].get<std::string>().find("planning WPs outside") != std::string::npos;
        EXPECT_EQ(r.exit_code, planning_outside ? 1 : 0) << m.dir << r.err;
        const Json committed = Json::parse(slurp(m.dir / "lanes.json"));
        EXPECT_EQ(doc["manifest"]["lanes"].size(), committed["lanes"].size()) << m.dir;
        if (m.record["committed_lanes_vs_oracle"] == "identical") {
            EXPECT_EQ(doc["shape"], "3.1.1") << m.dir;
            EXPECT_EQ(kitty::dump_python(doc["manifest"], {.indent = 2}) + "\n",
                      slurp(m.dir / "lanes.json"))
                << m.dir;
        }
        ++shown;
    }
    EXPECT_EQ(shown, 30);
}
