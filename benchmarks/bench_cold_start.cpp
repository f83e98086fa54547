// Whole-process cost: fork+exec+exit of each binary with --version, of a real
// `kitty-mint-id` mint, of `kitty-lanes compute` on a corpus mission and of `kitty-init`,
// waited for like a shell does. Run with --benchmark_repetitions
// to get the median (scripts/bench.sh does).

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_process.hpp"

namespace {

void run(const std::string& path, std::vector<std::string> args) {
    args.insert(args.begin(), path);
    kitty::bench::run_quietly(args);
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
// Every other tool's --version: none of them may pay for libgit2 or libcurl up front.
BENCHMARK_CAPTURE(BM_ColdStart, kitty_init_version, "kitty-init", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_parse_tasks_version, "kitty-parse-tasks", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_status_version, "kitty-status", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_next_version, "kitty-next", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_workspace_version, "kitty-workspace", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_merge_version, "kitty-merge", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_release_check_version, "kitty-release-check", {"--version"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdStart, kitty_auth_refresh_version, "kitty-auth-refresh", {"--version"})
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

// A scratch project with an empty mission 001-bench (kitty-specs/001-bench/tasks/).
std::string scratch_project() {
    std::string base = (std::filesystem::temp_directory_path() / "kitty-bench-XXXXXX").string();
    if (::mkdtemp(base.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    std::filesystem::create_directories(std::filesystem::path(base) /
                                        "kitty-specs/001-bench/tasks");
    std::filesystem::create_directories(std::filesystem::path(base) / ".kittify");
    return base;
}

// kitty-status on a mission with 30 WPs and 5,000 events (budget: 20 ms).
void BM_StatusFiveThousandEvents(benchmark::State& state) {
    const std::string base = scratch_project();
    const std::filesystem::path mission = std::filesystem::path(base) / "kitty-specs/001-bench";
    std::ofstream(mission / "meta.json") << "{\"mission_number\": \"001\", \"mission_slug\": "
                                            "\"001-bench\", \"mission_type\": \"software-dev\"}\n";
    const char* lanes[] = {"planned",    "claimed",   "in_progress",
                           "for_review", "in_review", "approved"};
    std::ofstream log(mission / "status.events.jsonl");
    for (int i = 0; i < 5000; ++i) {
        char wp[8];
        std::snprintf(wp, sizeof wp, "WP%02d", 1 + i % 30);
        char at[40];
        std::snprintf(at, sizeof at, "2026-01-01T00:%02d:%02d.%06d+00:00", i / 3600 % 60,
                      i / 60 % 60, i);
        log << "{\"actor\": \"a\", \"at\": \"" << at << "\", \"event_id\": \"e" << i
            << "\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, "
               "\"from_lane\": \"planned\", \"mission_slug\": \"001-bench\", \"policy_metadata\": "
               "null, \"reason\": null, \"review_ref\": null, \"to_lane\": \""
            << lanes[(i / 30) % 6] << "\", \"wp_id\": \"" << wp << "\"}\n";
    }
    log.close();
    for (int i = 1; i <= 30; ++i) {
        char wp[8];
        std::snprintf(wp, sizeof wp, "WP%02d", i);
        std::ofstream(mission / "tasks" / (std::string(wp) + "-task.md"))
            << "---\nwork_package_id: " << wp << "\ntitle: Task " << wp
            << "\nexecution_mode: code_change\nowned_files:\n- src/" << wp << "/**\n---\nBody.\n";
    }
    const std::string path = std::string(KITTY_BIN_DIR) + "/kitty-status";
    for (auto _ : state) {
        run(path, {mission.string()});
    }
    std::filesystem::remove_all(base);
}
BENCHMARK(BM_StatusFiveThousandEvents)->Unit(benchmark::kMillisecond)->UseRealTime();

// finalize on a 30-WP mission (budget: 20 ms), --validate-only and a real run (after the
// first, a run rewrites lanes.json only).
void BM_Finalize(benchmark::State& state, bool validate_only) {
    const std::string base = scratch_project();
    const std::filesystem::path mission = std::filesystem::path(base) / "kitty-specs/001-bench";
    std::ofstream spec(mission / "spec.md");
    std::ofstream tasks(mission / "tasks.md");
    tasks << "# Tasks\n\n";
    for (int i = 1; i <= 30; ++i) {
        char wp[8];
        std::snprintf(wp, sizeof wp, "WP%02d", i);
        spec << "- FR-" << 100 + i << " requirement " << i << "\n";
        tasks << "## Work Package " << wp << ": Task " << i << "\n\n**Dependencies**: "
              << (i > 3 ? "WP0" + std::to_string(1 + i % 3) : std::string("None")) << "\n\n";
        std::ofstream(mission / "tasks" / (std::string(wp) + "-task.md"))
            << "---\nwork_package_id: " << wp << "\ntitle: Task " << i << "\nrequirement_refs: [FR-"
            << 100 + i << "]\nexecution_mode: code_change\n"
            << "authoritative_surface: src/m" << i << "/\nowned_files:\n- src/m" << i
            << "/**\n---\n\nWork on src/m" << i << ".\n";
    }
    spec.close();
    tasks.close();
    const std::string path = std::string(KITTY_BIN_DIR) + "/kitty-parse-tasks";
    std::vector<std::string> args{"finalize", mission.string(), "--target-branch", "main"};
    if (validate_only) {
        args.push_back("--validate-only");
    } else {
        run(path, args);
    }
    for (auto _ : state) {
        run(path, args);
    }
    std::filesystem::remove_all(base);
}
BENCHMARK_CAPTURE(BM_Finalize, validate_only_30_wps, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Finalize, finalize_30_wps, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
