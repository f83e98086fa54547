// Parity with spec-kitty 3.1.1 on the real missions of ../shared/corpus: the dependency
// map byte for byte (through the built binary), which WP files its frontmatter reader
// accepts (index.json), and the frontmatter writer on files 3.1.x itself last wrote.
#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/json.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;

namespace {

fs::path missions() {
    return kitty::test::shared_dir() / "corpus/missions";
}

std::vector<fs::path> mission_dirs() {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(missions())) {
        dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

} // namespace

TEST(CorpusTasks, DependencyMapIsByteIdentical) {
    int compared = 0;
    for (const fs::path& dir : mission_dirs()) {
        const auto r = kitty::test::run_process({kitty::test::tool_path("kitty-parse-tasks"),
                                                 "--deps-only", (dir / "tasks.md").string()});
        ASSERT_EQ(r.exit_code, 0) << dir << r.err;
        EXPECT_EQ(r.out, kitty::test::slurp(dir / "expected/deps.json")) << dir;
        ++compared;
    }
    EXPECT_EQ(compared, 82);
}

TEST(CorpusTasks, FrontmatterReaderAcceptsWhat311Accepts) {
    const Json index =
        Json::parse(kitty::test::slurp(kitty::test::shared_dir() / "corpus/index.json"));
    for (const Json& record : index) {
        const fs::path dir = missions() / record["id"].get<std::string>();
        int readable = 0, unreadable = 0;
        std::set<std::string> reasons;
        for (const fs::path& file : kitty::list_wp_files(dir / "tasks")) {
            try {
                kitty::read_wp_file(file);
                ++readable;
            } catch (const kitty::Error& e) {
                ++unreadable;
                EXPECT_EQ(e.code(), "UNKNOWN_KEY") << file;
                const std::string what = e.what();
                const auto open = what.find('\'');
                reasons.insert(what.substr(open + 1, what.find('\'', open + 1) - open - 1));
            }
        }
        EXPECT_EQ(readable, record["wp_files_readable_311"].get<int>()) << dir;
        EXPECT_EQ(unreadable, record["wp_files_unreadable_311"].get<int>()) << dir;
        // Each key kitty names is one 3.1.1 rejected ("extra key: tracker_refs").
        for (const std::string& key : reasons) {
            EXPECT_NE(std::find(record["unreadable_reasons"].begin(),
                                record["unreadable_reasons"].end(), "extra key: " + key),
                      record["unreadable_reasons"].end())
                << dir << " " << key;
        }
    }
}

// Read, write, read again: the same values, and writing is idempotent.
TEST(CorpusTasks, FrontmatterRoundTrips) {
    int files = 0;
    for (const fs::path& dir : mission_dirs()) {
        for (const fs::path& file : kitty::list_wp_files(dir / "tasks")) {
            kitty::WpFrontmatter fm;
            try {
                fm = kitty::read_wp_file(file);
            } catch (const kitty::Error&) {
                continue;
            }
            const std::string written = kitty::serialize_wp_file(fm);
            const kitty::WpFrontmatter again = kitty::parse_wp_file(written, file);
            EXPECT_EQ(again.to_json(), fm.to_json()) << file;
            EXPECT_EQ(again.body, fm.body) << file;
            EXPECT_EQ(kitty::serialize_wp_file(again), written) << file;
            ++files;
        }
    }
    EXPECT_EQ(files, 442 - 24);
}

// WP files whose frontmatter was last written by spec-kitty's ruamel writer (finalize or
// a later full rewrite), with no single-line edits since: rewriting them changes nothing.
TEST(CorpusTasks, WriterReproducesRuamelOutput) {
    for (const char* rel : {
             "head-autonomous-runtime-safety-followups-01KS52BD/tasks/"
             "WP01-retrospect-schema-reconciliation.md",
             "head-autonomous-runtime-safety-followups-01KS52BD/tasks/"
             "WP03-owned-files-validator.md",
             "head-autonomous-runtime-safety-followups-01KS52BD/tasks/"
             "WP06-focused-pr-workflow-docs.md",
             "head-cli-decision-moment-widen-mode-readiness-01KRC12S/tasks/"
             "WP01-plan-widen-fixture-repair.md",
             "head-logged-out-teamspace-cli-recovery-01KRC6CY/tasks/WP02-wire-sync-commands.md",
             "head-mission-state-migration-determinism-cleanup-01KRC7JG/tasks/"
             "WP02-manifest-expansion-and-secret-scrub.md",
             "head-stable-320-p0-cli-stabilization-01KQSNGY/tasks/"
             "WP05-fresh-surface-smoke-and-release-evidence.md",
             "v311-079-post-555-release-hardening/tasks/WP01-init-coherence.md",
         }) {
        const fs::path file = missions() / rel;
        EXPECT_EQ(kitty::serialize_wp_file(kitty::read_wp_file(file)),
                  kitty::read_text_file(file, kitty::Bom::strip))
            << file;
    }
}

// The real-world traps named in corpus/README.md are reported.
TEST(CorpusTasks, SelfDependencyFromPromptLinkIsExplained) {
    const auto r =
        kitty::test::run_process({kitty::test::tool_path("kitty-parse-tasks"),
                                  (missions() / "head-ci-suite-map-bind-01KWNPMP").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json doc = Json::parse(r.out);
    int self = 0;
    for (const Json& f : doc["findings"]) {
        if (f["code"] == "SELF_DEPENDENCY") {
            ++self;
            EXPECT_NE(f["message"].get<std::string>().find("Prompt link"), std::string::npos);
        }
    }
    EXPECT_EQ(self, 3); // WP03, WP04, WP05 (corpus/index.json self_dependencies)
}
