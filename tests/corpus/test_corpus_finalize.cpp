// Parity with the whole of spec-kitty 3.1.1's `agent mission finalize-tasks` on every
// mission of ../shared/corpus (expected/finalize/, corpus/README.md): each mission is copied
// into a fresh git project, as the reference run did, and the built kitty-parse-tasks
// finalizes it, with and without --validate-only. The outcome must be 3.1.1's (success, or
// a failure on the same problem with the same messages); on success the files written are
// 3.1.1's, byte for byte after the documented normalisation. Where kitty differs on purpose
// (ARCHITECTURE.md, "Decisions"), the table below names the mission and the decision.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "kitty/json.hpp"
#include "kitty/regex.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::slurp;

namespace {

enum class Mode { finalize, validate_only };

enum class Decision {
    none,
    // Decision 1: every check before any write. 3.1.1's ownership check fails after it has
    // rewritten WP files, and leaves them rewritten; kitty writes nothing.
    nothing_written_on_failure,
    // 3.1.1 crashes writing frontmatter that holds a `lane:` key ("cannot represent an
    // object: <Lane.DONE: 'done'>"); kitty writes the lane and finalizes, so it reaches the
    // outcome 3.1.1's --validate-only reached.
    lane_key_crash,
    // 3.1.1's --validate-only still regenerates tasks.md from wps.yaml; kitty's writes
    // nothing.
    validate_only_writes_nothing,
};

struct Difference {
    const char* mission;
    Mode mode;
    Decision decision;
};

constexpr Difference kDifferences[] = {
    {"head-083-agent-skills-codex-vibe", Mode::finalize, Decision::lane_key_crash},
    {"head-083-agent-skills-codex-vibe", Mode::validate_only,
     Decision::validate_only_writes_nothing},
    {"head-stable-320-p0-cli-stabilization-01KQSNGY", Mode::finalize, Decision::lane_key_crash},
    {"v311-057-doctrine-stack-init-and-profile-integration", Mode::finalize,
     Decision::lane_key_crash},
    {"v311-047-mutmut-mutation-testing-ci", Mode::finalize, Decision::nothing_written_on_failure},
    {"v311-047-namespace-aware-artifact-body-sync", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-048-tracker-publish-resource-routing", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-049-fix-merge-target-resolution", Mode::finalize, Decision::nothing_written_on_failure},
    {"v311-050-state-model-cleanup-foundations", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-051-canonical-state-authority-single-metadata-writer", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-052-acceptance-pipeline-regression-fixes", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-053-orchestrator-api-json-contract-fidelity", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-054-state-architecture-cleanup-phase-2", Mode::finalize,
     Decision::nothing_written_on_failure},
    {"v311-056-documentation-parity-sprint", Mode::finalize, Decision::nothing_written_on_failure},
};

Decision decision_for(const std::string& mission, Mode mode) {
    for (const Difference& d : kDifferences) {
        if (d.mission == mission && d.mode == mode) {
            return d.decision;
        }
    }
    return Decision::none;
}

// The decision 3.1.1's recorded run calls for: the table must name exactly these.
Decision implied_decision(const Json& expected, Mode mode) {
    const Json& out = expected["stdout"];
    const bool changed = !expected["mission_files_changed"].empty();
    if (expected["exit_code"] != 0 && out.is_object() &&
        out.value("error", "").starts_with("cannot represent an object: <Lane.")) {
        return Decision::lane_key_crash;
    }
    if (expected["exit_code"] != 0 && changed) {
        return Decision::nothing_written_on_failure;
    }
    if (mode == Mode::validate_only && changed) {
        return Decision::validate_only_writes_nothing;
    }
    return Decision::none;
}

std::vector<std::string> mission_ids() {
    std::vector<std::string> ids;
    const fs::path shared = kitty::test::shared_dir();
    if (shared.empty()) {
        return ids;
    }
    for (const auto& e : fs::directory_iterator(shared / "corpus/missions")) {
        ids.push_back(e.path().filename().string());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

// Every regular file under `root` (but .git/), by relative path.
std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::end(it); ++it) {
        if (it->path().filename() == ".git") {
            it.disable_recursion_pending();
        } else if (it->is_regular_file()) {
            files[fs::relative(it->path(), root).string()] = slurp(it->path());
        }
    }
    return files;
}

// The README's normalisation of the status log, status.json and lanes.json: timestamps
// become "<TS>", event ids "<ULID-n>" numbered by first appearance (events file first).
std::map<std::string, std::string> normalised(std::map<std::string, std::string> files) {
    static const kitty::Regex stamp(
        R"re("(at|materialized_at|last_transition_at|computed_at)": "[^"]*")re");
    static const kitty::Regex ulid(R"re("(?:event_id|last_event_id)": "([0-9A-Z]{26})")re");
    std::map<std::string, int> numbers;
    for (const char* name : {"status.events.jsonl", "status.json", "lanes.json"}) {
        const auto it = files.find(name);
        if (it == files.end()) {
            continue;
        }
        std::string& text = it->second;
        RE2::GlobalReplace(&text, stamp, R"("\1": "<TS>")");
        re2::StringPiece rest(text);
        std::string id;
        std::vector<std::string> ids;
        while (RE2::FindAndConsume(&rest, ulid, &id)) {
            ids.push_back(id);
        }
        for (const std::string& seen : ids) {
            const int n = numbers.emplace(seen, static_cast<int>(numbers.size()) + 1).first->second;
            RE2::GlobalReplace(&text, kitty::Regex("\"" + seen + "\""),
                               "\"<ULID-" + std::to_string(n) + ">\"");
        }
    }
    return files;
}

// A WP file with its branch_strategy value masked: kitty words that note itself.
std::string masked(std::string wp) {
    static const kitty::Regex strategy(R"((?m)^branch_strategy:.*(?:\n[ \t]+.*)*)");
    RE2::GlobalReplace(&wp, strategy, "branch_strategy: <masked>");
    return wp;
}

// An overlap message names its two WPs in file-reading order, which is directory order in
// 3.1.1: compare each pair unordered, and the messages as a set.
std::multiset<std::string> messages(const Json& list) {
    static const kitty::Regex overlap(
        R"(^Overlap: (WP\d+) \((.*)\) and (WP\d+) \((.*)\) claim overlapping paths\.$)");
    std::multiset<std::string> out;
    for (const Json& m : list) {
        std::string a, ga, b, gb;
        const std::string text = m.get<std::string>();
        if (RE2::FullMatch(text, overlap, &a, &ga, &b, &gb)) {
            const std::string first = a + " (" + ga + ")", second = b + " (" + gb + ")";
            out.insert(std::min(first, second) + " & " + std::max(first, second));
        } else {
            out.insert(text);
        }
    }
    return out;
}

// docs/exit-codes.md: a missing input is 3, a failed check 1.
int documented_exit(const std::string& code) {
    return code == "NO_TASKS_DIR" || code == "NO_SPEC" ? 3 : 1;
}

struct Finalized {
    fs::path project, mission;
    kitty::test::ProcessResult result;
    Json doc;
    std::map<std::string, std::string> mission_before, mission_after;
    std::set<std::string> mission_changed, other_changed;
    std::string head_before, head_after;
};

// The reference setup: `git init -b main`, .kittify/, the mission at kitty-specs/<slug>/
// committed; then finalize.
Finalized finalize(const fs::path& source, const fs::path& tmp, Mode mode) {
    Finalized run;
    run.project = tmp / "p";
    const std::string id = source.filename().string();
    const std::string slug = id.substr(id.find('-') + 1);
    run.mission = run.project / "kitty-specs" / slug;
    kitty::test::make_git_repo(run.project, "main");
    kitty::test::make_project(run.project);
    fs::create_directories(run.mission);
    for (const auto& f : fs::directory_iterator(source)) {
        if (f.path().filename() != "expected") {
            fs::copy(f.path(), run.mission / f.path().filename(), fs::copy_options::recursive);
        }
    }
    kitty::test::git_commit_all(run.project, "Mission " + slug);
    run.head_before = slurp(run.project / ".git/refs/heads/main");
    const auto before = snapshot(run.project);
    run.mission_before = snapshot(run.mission);

    std::vector<std::string> args = {kitty::test::tool_path("kitty-parse-tasks"), "finalize",
                                     run.mission.string()};
    if (mode == Mode::validate_only) {
        args.push_back("--validate-only");
    }
    run.result = kitty::test::run_process(args, {"", run.project, {}});
    run.doc = Json::parse(run.result.out);

    run.head_after = slurp(run.project / ".git/refs/heads/main");
    const auto after = snapshot(run.project);
    run.mission_after = snapshot(run.mission);
    const std::string prefix = fs::relative(run.mission, run.project).string() + "/";
    for (const auto& [path, bytes] : after) {
        const auto old = before.find(path);
        if (old == before.end() || old->second != bytes) {
            if (path.starts_with(prefix)) {
                run.mission_changed.insert(path.substr(prefix.size()));
            } else {
                run.other_changed.insert(path);
            }
        }
    }
    return run;
}

// The WPs whose only change 3.1.1 reports is its branch_strategy wording: kitty keeps an
// existing value that names the same branches, so it leaves these files as they are.
std::set<std::string> wording_only(const Json& validate_only) {
    std::set<std::string> wps;
    const Json& out = validate_only["stdout"];
    if (out.is_object() && out.contains("would_modify")) {
        for (const Json& w : out["would_modify"]) {
            if (w["changes"].size() == 1 && w["changes"].contains("branch_strategy")) {
                wps.insert(w["wp_id"].get<std::string>());
            }
        }
    }
    return wps;
}

const Json& lanes_of(const Json& doc) {
    return doc.contains("validation") ? doc["validation"]["lanes_preview"] : doc["lanes"];
}

const Json& bootstrap_of(const Json& doc) {
    return doc.contains("validation") ? doc["validation"]["bootstrap_preview"] : doc["bootstrap"];
}

class CorpusFinalize : public ::testing::TestWithParam<std::string> {
protected:
    fs::path source() const { return kitty::test::shared_dir() / "corpus/missions" / GetParam(); }
    Json expected(Mode mode) const {
        return Json::parse(
            slurp(source() / "expected/finalize" /
                  (mode == Mode::finalize ? "finalize.json" : "validate-only.json")));
    }

    void check(Mode mode) const;
    void same_failure(const Finalized& run, const Json& reference) const;
    void same_success(const Finalized& run, const Json& reference, Mode mode) const;
};

void CorpusFinalize::same_failure(const Finalized& run, const Json& reference) const {
    const Json& want = reference["stdout"];
    ASSERT_TRUE(run.doc.contains("code")) << run.result.out;
    const std::string code = run.doc["code"];
    EXPECT_EQ(run.result.exit_code, documented_exit(code)) << run.result.out;
    std::string error = want["error"];
    for (std::size_t at; (at = error.find("<PROJ>")) != std::string::npos;) {
        error.replace(at, 6, run.project.string());
    }
    EXPECT_EQ(run.doc["error"], error);
    for (const char* key :
         {"cycles", "wp_id", "errors", "missing_requirement_refs_wps", "unknown_requirement_refs",
          "unmapped_functional_requirements", "dependency_conflicts"}) {
        if (want.contains(key)) {
            EXPECT_EQ(run.doc[key], want[key]) << key;
        }
    }
    if (want.contains("ownership_errors")) {
        EXPECT_EQ(messages(run.doc["ownership_errors"]), messages(want["ownership_errors"]));
    }
    // The error is on stderr too, whatever the format.
    EXPECT_NE(run.result.err.find(error.substr(0, error.find('\n'))), std::string::npos)
        << run.result.err;
    EXPECT_TRUE(run.mission_changed.empty()) << *run.mission_changed.begin();
}

void CorpusFinalize::same_success(const Finalized& run, const Json& reference, Mode mode) const {
    const Json& want = reference["stdout"];
    ASSERT_EQ(run.result.exit_code, 0) << run.result.out << run.result.err;
    EXPECT_EQ(run.doc["result"], mode == Mode::finalize ? "success" : "validation_passed");
    EXPECT_EQ(lanes_of(run.doc), lanes_of(want));
    EXPECT_EQ(bootstrap_of(run.doc), bootstrap_of(want));
    EXPECT_EQ(run.doc["wp_count"], want["wp_count"]);

    const std::set<std::string> keep = wording_only(expected(Mode::validate_only));
    const auto got = normalised(run.mission_after);
    const Json& listed = reference["mission_files_changed"];
    for (const Json& name : listed) {
        const std::string path = name;
        const bool written = run.mission_changed.count(path) > 0;
        if (path.starts_with("tasks/") && keep.count(path.substr(6, 4))) {
            EXPECT_FALSE(written) << path << ": only 3.1.1's wording of branch_strategy differs";
            continue;
        }
        ASSERT_TRUE(written) << path << " was not written";
        const std::string reference = slurp(source() / "expected/finalize/files" / path);
        if (path.starts_with("tasks/")) {
            EXPECT_EQ(masked(got.at(path)), masked(reference)) << path;
        } else {
            EXPECT_EQ(got.at(path), reference) << path;
        }
    }
    for (const std::string& path : run.mission_changed) {
        EXPECT_NE(std::find(listed.begin(), listed.end(), Json(path)), listed.end())
            << path << " written; 3.1.1 leaves it as it is";
    }
}

void CorpusFinalize::check(Mode mode) const {
    const Json want = expected(mode);
    const Decision decision = decision_for(GetParam(), mode);
    ASSERT_EQ(decision, implied_decision(want, mode))
        << "the table of deliberate differences does not match 3.1.1's recorded run";

    kitty::test::TempDir tmp;
    const Finalized run = finalize(source(), tmp.path(), mode);
    // 3.1.1 commits and adds a project block to .kittify/config.yaml; kitty does neither.
    EXPECT_EQ(run.head_after, run.head_before) << "kitty never commits";
    EXPECT_TRUE(run.other_changed.empty()) << *run.other_changed.begin();

    switch (decision) {
    case Decision::none:
        if (want["exit_code"] == 0) {
            same_success(run, want, mode);
        } else {
            same_failure(run, want);
        }
        break;
    case Decision::nothing_written_on_failure:
        same_failure(run, want); // which also checks that nothing was written
        break;
    case Decision::validate_only_writes_nothing:
        ASSERT_EQ(run.result.exit_code, 0) << run.result.out;
        EXPECT_EQ(lanes_of(run.doc), lanes_of(want["stdout"]));
        EXPECT_TRUE(run.mission_changed.empty()) << *run.mission_changed.begin();
        break;
    case Decision::lane_key_crash: {
        // The checks 3.1.1 ran before crashing are those its --validate-only ran.
        const Json reached = expected(Mode::validate_only);
        if (reached["exit_code"] != 0) {
            same_failure(run, reached);
            break;
        }
        ASSERT_EQ(run.result.exit_code, 0) << run.result.out << run.result.err;
        EXPECT_EQ(lanes_of(run.doc), lanes_of(reached["stdout"]));
        EXPECT_EQ(bootstrap_of(run.doc), bootstrap_of(reached["stdout"]));
        std::set<std::string> would_modify;
        for (const Json& w : reached["stdout"]["would_modify"]) {
            would_modify.insert(w["wp_id"].get<std::string>());
        }
        for (const std::string& path : run.mission_changed) {
            if (path.starts_with("tasks/")) {
                EXPECT_TRUE(would_modify.count(path.substr(6, 4))) << path;
            } else {
                EXPECT_TRUE(path == "lanes.json" || path == "status.events.jsonl" ||
                            path == "status.json")
                    << path;
            }
        }
        // The lanes step's own reference (pinned computed_at, target main).
        if (fs::exists(source() / "expected/lanes.json")) {
            EXPECT_EQ(normalised({{"lanes.json", run.mission_after.at("lanes.json")}}),
                      normalised({{"lanes.json", slurp(source() / "expected/lanes.json")}}));
        }
        break;
    }
    }
}

TEST_P(CorpusFinalize, Finalize) {
    check(Mode::finalize);
}

TEST_P(CorpusFinalize, ValidateOnly) {
    check(Mode::validate_only);
}

INSTANTIATE_TEST_SUITE_P(Missions, CorpusFinalize, ::testing::ValuesIn(mission_ids()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             std::string name = info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

// All 82 missions take part, and every row of the table names one of them.
TEST(CorpusFinalizeTable, CoversTheCorpus) {
    const std::vector<std::string> ids = mission_ids();
    EXPECT_EQ(ids.size(), 82u);
    for (const Difference& d : kDifferences) {
        EXPECT_NE(std::find(ids.begin(), ids.end(), d.mission), ids.end()) << d.mission;
    }
}

} // namespace
