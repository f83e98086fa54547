// The merge of a mission, whole process (issue 15 §4), on a real git repository in a temp
// dir: `kitty-merge` of a 3-lane mission whose work packages are all approved, in a
// repository of 1,000 files, next to a shell script doing the same with the git binary
// (the lanes into the mission branch, the target into it, a squash onto the target and its
// commit; then the lane worktrees and the branches removed). The two alternate within each
// iteration (the order flips every iteration); the time is kitty's, `git_ms` the script's
// and `ratio` kitty's total over the script's (the budget: 2). Measured twice: with the
// cleanup, and without it (--keep-worktrees --keep-branches, the script without its
// cleanup lines).
// The fixture is made with kitty-init, kitty-parse-tasks finalize, kitty-next implement,
// kitty-status move-task and the git binary; every iteration starts from the same
// all-approved state, restored untimed.
// Run: build/benchmarks/bench-merge --benchmark_repetitions=5
//      --benchmark_report_aggregates_only=true
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_process.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kSlug = "001-bench";
const std::string kMissionBranch = "kitty/mission-" + kSlug;
constexpr int kLanes = 3;
constexpr int kFiles = 1000;
constexpr int kDirs = 50;
constexpr int kChangedPerLane = 10;

using kitty::bench::must;
using kitty::bench::run_quietly;
using kitty::bench::tool;
using kitty::bench::write;

int sh(const std::string& script, const fs::path& cwd) {
    return run_quietly({"sh", "-c", script}, cwd);
}

void must_sh(const std::string& script, const fs::path& cwd) {
    if (sh(script, cwd) != 0) {
        throw std::runtime_error("setup failed: " + script + " (in " + cwd.string() + ")");
    }
}

std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string two_digits(int n) {
    char text[8];
    std::snprintf(text, sizeof text, "%02d", n);
    return text;
}

std::string wp_id(int wp) {
    return "WP" + two_digits(wp);
}

// WP n (1-based) owns src/d<n>, one of the 50 directories, and is alone in lane n: lanes
// are lettered in WP order.
std::string lane_id(int wp) {
    return std::string("lane-") + static_cast<char>('a' + wp - 1);
}

std::string wp_dir(int wp) {
    return "src/d" + two_digits(wp);
}

std::string lane_branch(int wp) {
    return kMissionBranch + "-" + lane_id(wp);
}

std::string worktree(int wp) {
    return ".worktrees/" + kSlug + "-" + lane_id(wp);
}

std::string file_path(int i) {
    return "src/d" + two_digits(i % kDirs) + "/f" + std::to_string(i) + ".txt";
}

// The git binary's merge of the mission, as a user would script it in the main checkout.
std::string git_script(bool cleanup) {
    std::string s = "set -e\ngit checkout -q " + kMissionBranch + "\n";
    for (int wp = 1; wp <= kLanes; ++wp) {
        s += "git merge -q --no-edit " + lane_branch(wp) + "\n";
    }
    s += "git merge -q --no-edit main\n"
         "git checkout -q main\n"
         "git merge -q --squash " +
         kMissionBranch +
         "\n"
         "git commit -q -m 'feat(" +
         kMissionBranch + "): squash merge of mission'\n";
    if (cleanup) {
        std::string branches;
        for (int wp = 1; wp <= kLanes; ++wp) {
            s += "git worktree remove --force " + worktree(wp) + "\n";
            branches += " " + lane_branch(wp);
        }
        s += "git branch -q -D" + branches + " " + kMissionBranch + "\n";
    }
    return s;
}

// A kitty project in a git repository on `main`: 1,000 small files in 50 directories and
// mission 001-bench with 3 independent code WPs, each in its own lane, implemented (a
// commit changing 10 files of its directory in its lane worktree) and approved through
// kitty. refs/bench/* and a copy of the workspace context files keep that state for
// reset().
class Project {
public:
    Project() {
        base_ = kitty::bench::make_git_project("kitty-bench-merge");
        root_ = base_ / "project";
        for (int i = 0; i < kFiles; ++i) {
            write(root_ / file_path(i), "file " + std::to_string(i) + "\n");
        }
        const fs::path mission = root_ / "kitty-specs" / kSlug;
        write(mission / "meta.json",
              "{\"mission_number\": \"001\", \"mission_slug\": \"" + kSlug + "\", \"slug\": \"" +
                  kSlug +
                  "\", \"mission_type\": \"software-dev\", \"target_branch\": \"main\", "
                  "\"friendly_name\": \"Bench\"}\n");
        write(mission / "spec.md", "# Spec\n\n- FR-001 The bench requirement\n");
        write(mission / "plan.md", "# Plan\n\nOne directory per work package.\n");
        std::string tasks = "# Work Packages: bench\n\n";
        for (int wp = 1; wp <= kLanes; ++wp) {
            const std::string id = wp_id(wp);
            const std::string dir = wp_dir(wp);
            tasks += "## Work Package " + id + ": Module " + std::to_string(wp) +
                     "\n\n**Dependencies**: None\n\n- [ ] T00" + std::to_string(wp) + " Build " +
                     dir + "\n\n";
            write(mission / "tasks" / (id + "-module.md"),
                  "---\nwork_package_id: " + id + "\ntitle: Module " + std::to_string(wp) +
                      "\nrequirement_refs: [FR-001]\ndependencies: []\nexecution_mode: "
                      "code_change\nauthoritative_surface: " +
                      dir + "/\nowned_files:\n- " + dir + "/**\n---\n\n# " + id + "\n\nBuild " +
                      dir + ".\n");
        }
        write(mission / "tasks.md", tasks);
        must({tool("kitty-parse-tasks"), "finalize", mission.string()}, root_);
        must({"git", "add", "-A"}, root_);
        must({"git", "commit", "-q", "-m", "Bench mission, finalized"}, root_);

        for (int wp = 1; wp <= kLanes; ++wp) {
            must({tool("kitty-next"), "implement", wp_id(wp), "--agent", "a", "--mission", kSlug},
                 root_);
            const fs::path lane = root_ / worktree(wp);
            for (int j = 0; j < kChangedPerLane; ++j) {
                write(lane / file_path(wp + kDirs * j), "changed by " + wp_id(wp) + "\n");
            }
            must({"git", "add", "-A"}, lane);
            must({"git", "commit", "-q", "-m", wp_id(wp) + ": module " + std::to_string(wp)}, lane);
            must({tool("kitty-status"), "move-task", wp_id(wp), "--to", "approved", "--agent", "a",
                  "--force", "--mission", kSlug},
                 root_);
        }
        std::string save = "set -e\ngit update-ref refs/bench/main main\n"
                           "git update-ref refs/bench/mission " +
                           kMissionBranch + "\n";
        for (int wp = 1; wp <= kLanes; ++wp) {
            save += "git update-ref refs/bench/" + lane_id(wp) + " " + lane_branch(wp) + "\n";
        }
        must_sh(save, root_);
        fs::copy(root_ / ".kittify/workspaces", base_ / "workspaces", fs::copy_options::recursive);
        // A user's checkouts are older than their index (see reset()).
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        for (int wp = 1; wp <= kLanes; ++wp) {
            must({"git", "status", "--porcelain", "-uno"}, root_ / worktree(wp));
        }
        must({"git", "status", "--porcelain", "-uno"}, root_);
        approved_ = fingerprint();
    }
    Project(const Project&) = delete;
    Project& operator=(const Project&) = delete;
    ~Project() { fs::remove_all(base_); }

    const fs::path& root() const { return root_; }

    // Back to the all-approved state: the branches where they were, main checked out with
    // its index and files, the lane worktrees (checked out again with the git binary where
    // a merge removed them) and their context files.
    void reset() {
        std::error_code ec;
        fs::remove_all(root_ / ".kittify/runtime/merge", ec);
        std::string script = "set -e\ngit checkout -q -f -B main refs/bench/main\n"
                             "git update-ref refs/heads/" +
                             kMissionBranch + " refs/bench/mission\n";
        for (int wp = 1; wp <= kLanes; ++wp) {
            script += "git update-ref refs/heads/" + lane_branch(wp) + " refs/bench/" +
                      lane_id(wp) + "\n";
        }
        script += "git worktree prune\n";
        for (int wp = 1; wp <= kLanes; ++wp) {
            if (!fs::exists(root_ / worktree(wp))) {
                // A fresh checkout's files are as new as its index, so every reader would
                // re-read them all (racy git), which a user's lane, checked out long
                // before its merge, does not make it do: the files are dated back and the
                // index refreshed.
                script += "git worktree add -q " + worktree(wp) + " " + lane_branch(wp) +
                          "\nfind " + worktree(wp) +
                          " -type f -exec touch -m -d '1 minute ago' {} +\ngit -C " + worktree(wp) +
                          " status --porcelain -uno >/dev/null\n";
            }
        }
        must_sh(script, root_);
        fs::copy(base_ / "workspaces", root_ / ".kittify/workspaces",
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        // A user's files are on disk, not in the page cache waiting for writeback; where
        // the file system discards freed blocks (ext4 -o discard), deleting them costs
        // far more (1,000 small files: about 2 s instead of 30 ms here), for both sides.
        must({"sync", "-f", root_.string()}, root_);
    }

    // What a user sees of the state: branches, worktrees, status of every checkout, the
    // workspace context files, kitty's run state. Equal to the all-approved one after a
    // reset, or the reset is not restoring what it claims to.
    std::string fingerprint() const {
        const fs::path out = base_ / "fingerprint.txt";
        std::string script = "set -e\nexec > " + out.string() +
                             "\ngit for-each-ref --format='%(refname) %(objectname)' refs/heads\n"
                             "git worktree list --porcelain\n"
                             "git status --porcelain --untracked-files=all\n";
        for (int wp = 1; wp <= kLanes; ++wp) {
            script += "git -C " + worktree(wp) + " status --porcelain --untracked-files=all\n";
        }
        script += "cat .kittify/workspaces/*\n"
                  "find .kittify/runtime -type f | sort\n";
        must_sh(script, root_);
        return read(out);
    }

    const std::string& approved() const { return approved_; }

    // After a merge: main (checked out, clean) has every lane's files, and with `cleanup`
    // the lane worktrees and branches and the mission branch are gone.
    bool merged(bool cleanup) const {
        std::string script = "set -e\ntest -z \"$(git status --porcelain)\"\n"
                             "test \"$(git symbolic-ref HEAD)\" = refs/heads/main\n";
        for (int wp = 1; wp <= kLanes; ++wp) {
            script +=
                "git diff --quiet refs/bench/" + lane_id(wp) + " main -- " + wp_dir(wp) + "\n";
            if (cleanup) {
                script += "test ! -e " + worktree(wp) + "\n! git rev-parse -q --verify " +
                          lane_branch(wp) + "\n";
            }
        }
        if (cleanup) {
            script += "! git rev-parse -q --verify " + kMissionBranch + "\n";
        }
        return sh(script, root_) == 0;
    }

private:
    fs::path base_;
    fs::path root_;
    std::string approved_;
};

int run_kitty(const Project& p, bool cleanup) {
    std::vector<std::string> args{tool("kitty-merge"), "--mission", kSlug};
    if (!cleanup) {
        args.push_back("--keep-worktrees");
        args.push_back("--keep-branches");
    }
    return run_quietly(args, p.root());
}

int run_git(const Project& p, bool cleanup) {
    return sh(git_script(cleanup), p.root());
}

// The fixture, with the reset checked once against the state the setup made: after a
// kitty merge and after the script, each with the cleanup.
Project& project() {
    static Project& p = []() -> Project& {
        static Project made;
        for (const bool kitty : {true, false}) {
            if ((kitty ? run_kitty(made, true) : run_git(made, true)) != 0 || !made.merged(true)) {
                throw std::runtime_error(std::string(kitty ? "kitty-merge" : "the git script") +
                                         " did not merge the fixture");
            }
            made.reset();
            if (made.fingerprint() != made.approved()) {
                throw std::runtime_error("reset does not restore the all-approved state:\n" +
                                         made.approved() + "\n---\n" + made.fingerprint());
            }
        }
        return made;
    }();
    return p;
}

// kitty-merge and the git script alternated within each iteration, each from the reset
// all-approved state: the time is kitty's, `git_ms` the script's, `ratio` kitty's total
// over the script's.
void BM_MergeOverGitMerge(benchmark::State& state, bool cleanup) {
    Project& p = project();
    p.reset();
    double kitty_s = 0;
    double git_s = 0;
    int i = 0;
    for (auto _ : state) {
        double took[2] = {0, 0};
        const char* failed = nullptr;
        for (int k = 0; k < 2 && failed == nullptr; ++k) {
            const bool kitty = (k + i) % 2 == 0;
            const auto start = std::chrono::steady_clock::now();
            const int rc = kitty ? run_kitty(p, cleanup) : run_git(p, cleanup);
            took[kitty ? 0 : 1] =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (rc != 0 || !p.merged(cleanup)) {
                failed = kitty ? "kitty-merge failed or did not merge the lanes"
                               : "the git script failed or did not merge the lanes";
            }
            p.reset();
        }
        if (failed != nullptr) {
            state.SkipWithError(failed);
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
// An even number of iterations, so that each side goes first equally often.
BENCHMARK_CAPTURE(BM_MergeOverGitMerge, with_cleanup, true)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_MergeOverGitMerge, keep_worktrees_and_branches, false)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(6);

} // namespace

BENCHMARK_MAIN();
