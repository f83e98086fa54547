// Whole-process cost: fork+exec+exit of each binary with --version, of a real
// `kitty-mint-id` mint, of `kitty-lanes compute` on a corpus mission and of `kitty-init`,
// waited for like a shell does. Run with --benchmark_repetitions
// to get the median (scripts/bench.sh does).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

extern char** environ;

namespace {

void run(const std::string& path, std::vector<std::string> args) {
    args.insert(args.begin(), path);
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    if (posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        throw std::runtime_error("cannot spawn " + path);
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    waitpid(pid, &status, 0);
}

void BM_ColdStart(benchmark::State& state, const std::string& tool, std::vector<std::string> args) {
    const std::string path = std::string(KITTY_BIN_DIR) + "/" + tool;
    for (auto _ : state) {
        run(path, args);
    }
}

BENCHMARK_CAPTURE(BM_ColdStart, spec_kitty_version, "spec-kitty", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_mint_id_version, "kitty-mint-id", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_mint_id_mint, "kitty-mint-id", {})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, spec_kitty_mint_id, "spec-kitty", {"mint-id"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_CAPTURE(BM_ColdStart, kitty_lanes_version, "kitty-lanes", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A real mission (079, 10 WP files, the 3.1.1 prose false positives): read tasks.md and
// every WP file, compute, print lanes.json.
BENCHMARK_CAPTURE(BM_ColdStart, kitty_lanes_compute_079, "kitty-lanes",
                  {"compute",
                   std::string(KITTY_SHARED_DIR) +
                       "/corpus/missions/v311-079-post-555-release-hardening",
                   "--target-branch", "main"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// kitty-init into a new directory with two agents: 37 files written as one transaction.
void BM_InitTwoAgents(benchmark::State& state) {
    const std::string path = std::string(KITTY_BIN_DIR) + "/kitty-init";
    std::string base = (std::filesystem::temp_directory_path() / "kitty-bench-XXXXXX").string();
    if (::mkdtemp(base.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    int n = 0;
    for (auto _ : state) {
        run(path, {base + "/p" + std::to_string(n++), "--ai", "claude,codex", "--non-interactive"});
    }
    std::filesystem::remove_all(base);
}
BENCHMARK(BM_InitTwoAgents)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
