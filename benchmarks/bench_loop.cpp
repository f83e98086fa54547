// The agent loop, whole process (issue 14 §6), on real git repositories in temp dirs:
// - `kitty-next` on a finalized 30-WP mission: a query (no agent), the steady-state
//   advancing call of an agent that holds a WP, and an advancing call that claims a fresh WP
//   (budget: 10 ms median each);
// - `kitty-next implement` of a code WP into a new lane worktree of a 1,000-file repository,
//   next to `git worktree add -b` of the same repository in the same run, as two benchmarks
//   and alternated within one (its `ratio` counter; budget: 1.5).
// The fixtures are made with kitty-init, kitty-parse-tasks finalize and the git binary
// (setup only, and the timed `git worktree add` baseline).
// Run: build/benchmarks/bench-loop --benchmark_repetitions=5
//      --benchmark_report_aggregates_only=true
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_process.hpp"

namespace {

namespace fs = std::filesystem;

const char* const kSlug = "001-bench";

using kitty::bench::must;
using kitty::bench::run_quietly;
using kitty::bench::tool;
using kitty::bench::write;

std::string wp_id(int i) {
    char id[8];
    std::snprintf(id, sizeof id, "WP%02d", i);
    return id;
}

// A kitty project in a git repository on `main` whose mission 001-bench has `wps`
// independent code WPs (each its own lane), finalized and committed, plus `files` small
// files in 50 directories. refs/bench/base names that commit, for resets.
class Project {
public:
    Project(int wps, int files) {
        base_ = kitty::bench::make_git_project("kitty-bench-loop");
        root_ = base_ / "project";
        for (int i = 0; i < files; ++i) {
            write(root_ / ("files/d" + std::to_string(i % 50) + "/f" + std::to_string(i) + ".txt"),
                  "file " + std::to_string(i) + "\n");
        }
        const fs::path mission = root_ / "kitty-specs" / kSlug;
        write(mission / "meta.json",
              std::string("{\"mission_number\": \"001\", \"mission_slug\": \"") + kSlug +
                  "\", \"slug\": \"" + kSlug +
                  "\", \"mission_type\": \"software-dev\", \"target_branch\": \"main\", "
                  "\"friendly_name\": \"Bench\"}\n");
        write(mission / "spec.md", "# Spec\n\n- FR-001 The bench requirement\n");
        write(mission / "plan.md", "# Plan\n\nOne module per work package.\n");
        std::string tasks = "# Work Packages: bench\n\n";
        for (int i = 1; i <= wps; ++i) {
            const std::string id = wp_id(i);
            const std::string dir = "src/wp" + id.substr(2);
            char task[8];
            std::snprintf(task, sizeof task, "T%03d", i);
            tasks += "## Work Package " + id + ": Module " + std::to_string(i) +
                     "\n\n**Dependencies**: None\n\n- [ ] " + task + " Build " + dir + "\n\n";
            write(mission / "tasks" / (id + "-module.md"),
                  "---\nwork_package_id: " + id + "\ntitle: Module " + std::to_string(i) +
                      "\nrequirement_refs: [FR-001]\ndependencies: []\nexecution_mode: "
                      "code_change\nauthoritative_surface: " +
                      dir + "/\nowned_files:\n- " + dir + "/**\n---\n\n# " + id + "\n\nBuild " +
                      dir + ".\n");
        }
        write(mission / "tasks.md", tasks);
        must({tool("kitty-parse-tasks"), "finalize", mission.string()}, root_);
        must({"git", "add", "-A"}, root_);
        must({"git", "commit", "-q", "-m", "Bench mission, finalized"}, root_);
        must({"git", "update-ref", "refs/bench/base", "HEAD"}, root_);
    }
    Project(const Project&) = delete;
    Project& operator=(const Project&) = delete;
    ~Project() { fs::remove_all(base_); }

    const fs::path& root() const { return root_; }

    // Back to the finalized mission: no claims, run state, lane worktrees or branches.
    // Worktrees are moved aside, not deleted, until the fixture goes: on an ext4 without a
    // journal every new inode is checked against the ones freed in the last minute, so
    // deleting 1,000 files per iteration would slow each following checkout several-fold.
    void reset() {
        std::error_code ec;
        fs::create_directories(base_ / "trash");
        fs::rename(root_ / ".worktrees", base_ / "trash" / std::to_string(trashed_++), ec);
        fs::remove_all(root_ / ".kittify/runtime");
        fs::remove_all(root_ / ".kittify/workspaces");
        must({"git", "worktree", "prune"}, root_);
        must({"sh", "-c",
              "git for-each-ref --format='%(refname:short)' refs/heads/kitty refs/heads/bench | "
              "xargs -r git branch -q -D"},
             root_);
        must({"git", "reset", "-q", "--hard", "refs/bench/base"}, root_);
    }

private:
    fs::path base_;
    fs::path root_;
    int trashed_ = 0;
};

Project& mission_30() {
    static Project p(30, 0);
    return p;
}

Project& repo_1000() {
    static Project p(4, 1000);
    return p;
}

// A query on a mission in progress (the run started, WP01 held by agent a).
void BM_NextQuery(benchmark::State& state) {
    Project& p = mission_30();
    p.reset();
    must({tool("kitty-next"), "--agent", "a", "--mission", kSlug, "--result", "success"}, p.root());
    for (auto _ : state) {
        if (run_quietly({tool("kitty-next"), "--mission", kSlug}, p.root()) != 0) {
            state.SkipWithError("kitty-next query failed");
            break;
        }
    }
}
BENCHMARK(BM_NextQuery)->Unit(benchmark::kMillisecond)->UseRealTime();

// The agent already holds WP01 (the untimed first call issued implement and claimed it):
// each call completes nothing new and hands the same WP back, the loop's steady state.
void BM_NextAdvancing(benchmark::State& state) {
    Project& p = mission_30();
    p.reset();
    const std::vector<std::string> args{tool("kitty-next"), "--agent", "a", "--mission", kSlug,
                                        "--result",         "success"};
    must(args, p.root());
    for (auto _ : state) {
        if (run_quietly(args, p.root()) != 0) {
            state.SkipWithError("kitty-next advancing failed");
            break;
        }
    }
}
BENCHMARK(BM_NextAdvancing)->Unit(benchmark::kMillisecond)->UseRealTime();

// Each call is a new agent that is handed (and reserved) a WP nobody holds; after all 30
// are out the claims are reset, untimed.
void BM_NextClaimFresh(benchmark::State& state) {
    Project& p = mission_30();
    p.reset();
    int n = 0;
    for (auto _ : state) {
        if (n == 30) {
            state.PauseTiming();
            p.reset();
            n = 0;
            state.ResumeTiming();
        }
        const std::string agent = "agent" + std::to_string(n++);
        if (run_quietly(
                {tool("kitty-next"), "--agent", agent, "--mission", kSlug, "--result", "success"},
                p.root()) != 0) {
            state.SkipWithError("kitty-next claim failed");
            break;
        }
    }
}
BENCHMARK(BM_NextClaimFresh)->Unit(benchmark::kMillisecond)->UseRealTime();

// One lane checkout of the 1,000-file repository, then the repository reset (untimed by
// the callers): kitty's `agent action implement` of a planned code WP (claim, new lane
// branch and worktree, workspace context, claim commit, prompt), or the git binary's
// `git worktree add -b` of the same commit. False when it failed or checked nothing out.
bool checkout_lane(Project& p, bool kitty, int wp) {
    const fs::path worktrees = p.root() / ".worktrees";
    // Lanes are lettered in WP order: WP01 is lane-a.
    const fs::path path =
        kitty ? worktrees / (std::string(kSlug) + "-lane-" + static_cast<char>('a' + wp - 1))
              : worktrees / "bench-wt";
    const int rc = kitty ? run_quietly({tool("kitty-next"), "implement", wp_id(wp), "--agent", "a",
                                        "--mission", kSlug},
                                       p.root())
                         : run_quietly({"git", "worktree", "add", "-q", "-b", "bench/wt",
                                        path.string(), "refs/bench/base"},
                                       p.root());
    return rc == 0 && fs::exists(path / "files/d49/f999.txt");
}

// The two registered side by side; every iteration starts from the reset repository, so
// each kitty iteration creates its lane from scratch.
void BM_ImplementVsWorktreeAdd(benchmark::State& state, bool kitty) {
    Project& p = repo_1000();
    p.reset();
    int i = 0;
    for (auto _ : state) {
        const bool ok = checkout_lane(p, kitty, 1 + i++ % 4);
        state.PauseTiming();
        if (!ok) {
            state.SkipWithError(kitty ? "kitty-next implement did not check the lane out"
                                      : "git worktree add failed");
            break;
        }
        p.reset();
        state.ResumeTiming();
    }
}
BENCHMARK_CAPTURE(BM_ImplementVsWorktreeAdd, kitty_implement, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ImplementVsWorktreeAdd, git_worktree_add, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same pair alternated within each iteration (the order flips every iteration), so
// both see the same machine and file-system state: the time is kitty's, `git_ms` git's,
// and `ratio` kitty's total over git's (the budget: 1.5).
void BM_ImplementOverWorktreeAdd(benchmark::State& state) {
    Project& p = repo_1000();
    p.reset();
    double kitty_s = 0;
    double git_s = 0;
    int i = 0;
    for (auto _ : state) {
        double took[2] = {0, 0};
        bool ok = true;
        for (int k = 0; k < 2 && ok; ++k) {
            const bool kitty = (k + i) % 2 == 0;
            const auto start = std::chrono::steady_clock::now();
            ok = checkout_lane(p, kitty, 1 + i % 4);
            took[kitty ? 0 : 1] =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            p.reset();
        }
        if (!ok) {
            state.SkipWithError("a lane checkout failed");
            break;
        }
        ++i;
        kitty_s += took[0];
        git_s += took[1];
        state.SetIterationTime(took[0]);
    }
    state.counters["git_ms"] = benchmark::Counter(i > 0 ? git_s * 1000 / i : 0);
    state.counters["ratio"] = benchmark::Counter(git_s > 0 ? kitty_s / git_s : 0);
}
BENCHMARK(BM_ImplementOverWorktreeAdd)->Unit(benchmark::kMillisecond)->UseManualTime();

} // namespace

BENCHMARK_MAIN();
