// compute_lanes on synthetic missions of 10 to 10,000 WPs (random dependencies to earlier
// WPs, globs over a module tree so some write scopes overlap, 5% planning artifacts), and
// lanes.json serialisation, and explain's parallelism count. Budget (ARCHITECTURE.md):
// 10,000 WPs under 0.5 s.
#include <unistd.h>

#include <cstdlib>
#include <random>

#include <benchmark/benchmark.h>

#include "kitty/lanes.hpp"
#include "kitty/lanes_report.hpp"

namespace {

kitty::LaneInputs synthetic_mission(int n) {
    std::mt19937 rng(static_cast<unsigned>(n));
    kitty::LaneInputs in;
    in.mission_slug = "bench";
    in.computed_at = "2026-01-01T00:00:00+00:00";
    const int modules = std::max(1, n / 3);
    for (int i = 1; i <= n; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "WP%02d", i);
        std::vector<std::string> deps;
        for (int d = 0; d < 2 && i > 1; ++d) {
            if (rng() % 10 < 3) {
                char dep[16];
                std::snprintf(dep, sizeof dep, "WP%02d", 1 + static_cast<int>(rng() % (i - 1)));
                deps.emplace_back(dep);
            }
        }
        in.graph.emplace_back(id, deps);
        kitty::OwnershipManifest m;
        const bool planning = rng() % 20 == 0;
        m.mode =
            planning ? kitty::ExecutionMode::planning_artifact : kitty::ExecutionMode::code_change;
        if (planning) {
            m.owned_files.push_back("kitty-specs/bench/" + std::string(id) + ".md");
        }
        for (unsigned g = 0; !planning && g < 1 + rng() % 3; ++g) {
            const std::string module = "src/mod" + std::to_string(rng() % modules);
            switch (rng() % 4) {
            case 0:
                m.owned_files.push_back(module + "/**");
                break;
            case 1:
                m.owned_files.push_back("tests/test_" + std::to_string(rng() % modules) + "*.py");
                break;
            default:
                m.owned_files.push_back(module + "/f" + std::to_string(rng() % 50) + ".py");
            }
        }
        in.manifests[id] = std::move(m);
        in.bodies[id] = "Implement the endpoint and its test suite for module " + std::to_string(i);
    }
    return in;
}

void BM_ComputeLanes(benchmark::State& state) {
    const kitty::LaneInputs in = synthetic_mission(static_cast<int>(state.range(0)));
    std::size_t lanes = 0, events = 0;
    for (auto _ : state) {
        const kitty::LanesManifest m = kitty::compute_lanes(in);
        lanes = m.lanes.size();
        events = m.events.size();
        benchmark::DoNotOptimize(m);
    }
    state.counters["lanes"] = static_cast<double>(lanes);
    state.counters["merges"] = static_cast<double>(events);
    state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_ComputeLanes)
    ->RangeMultiplier(10)
    ->Range(10, 10000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

// The worst case for Rule 2: every WP claims the same tree, so every pair is a candidate.
void BM_ComputeLanesAllOverlap(benchmark::State& state) {
    kitty::LaneInputs in;
    in.mission_slug = "bench";
    for (int i = 1; i <= state.range(0); ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "WP%02d", i);
        in.graph.emplace_back(id, std::vector<std::string>{});
        in.manifests[id] = {kitty::ExecutionMode::code_change, {"src/**"}};
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::compute_lanes(in));
    }
}
BENCHMARK(BM_ComputeLanesAllOverlap)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// D12's input: n WPs that all own src/**, so one lane and n(n-1)/2 lost pairs (50 million
// at 10,000). Explain counts them all and keeps the 1,000 it lists; it used to hold every
// pair (73 s and 8.6 GB at 10,000).
void BM_ExplainAllOverlap(benchmark::State& state) {
    kitty::Json graph = kitty::Json::object(), manifests = kitty::Json::object();
    for (int i = 1; i <= state.range(0); ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "WP%05d", i);
        graph[id] = kitty::Json::array();
        manifests[id] = {{"execution_mode", "code_change"}, {"owned_files", {"src/**"}}};
    }
    char tmpl[] = "/tmp/kitty-bench-explain-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    const std::string input = kitty::dump_python({{"mission_slug", "s"},
                                                  {"target_branch", "main"},
                                                  {"computed_at", "2026-01-01T00:00:00+00:00"},
                                                  {"dependency_graph", graph},
                                                  {"ownership_manifests", manifests}});
    if (fd < 0 || ::write(fd, input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
        state.SkipWithError("cannot write the input file");
        return;
    }
    ::close(fd);
    kitty::ComputeLanesRequest request;
    request.input = tmpl;
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::explain_lanes_command(request));
    }
    ::unlink(tmpl);
}
BENCHMARK(BM_ExplainAllOverlap)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_SerializeLanes(benchmark::State& state) {
    const kitty::LanesManifest m = kitty::compute_lanes(synthetic_mission(1000));
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::serialize_lanes(m));
    }
}
BENCHMARK(BM_SerializeLanes)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
