// Core costs: ULID minting and encoding, the Python-exact JSON emitter, meta.json writes.
#include <benchmark/benchmark.h>

#include "kitty/json.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/ulid.hpp"

namespace {

void BM_MintUlid(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::mint_ulid());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MintUlid);

void BM_MintUlidString(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::mint_ulid().str());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MintUlidString);

void BM_ParseUlid(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::parse_ulid("01KNRK4RNP4PV7HV6JC0P509F9"));
    }
}
BENCHMARK(BM_ParseUlid);

kitty::Json sample_meta() {
    return {{"target_branch", "main"},
            {"slug", "003-user-auth"},
            {"mission_type", "software-dev"},
            {"mission_slug", "003-user-auth"},
            {"mission_number", "003"},
            {"mission_id", "01KNRQK0R1ZDS8Z57M1TRXF0XR"},
            {"friendly_name", "user auth \xc3\xa9"},
            {"created_at", "2026-04-09T11:45:41+00:00"}};
}

void BM_SerializeMeta(benchmark::State& state) {
    const kitty::Json meta = sample_meta();
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::serialize_meta(meta));
    }
}
BENCHMARK(BM_SerializeMeta);

void BM_DumpPythonAscii(benchmark::State& state) {
    const kitty::Json meta = sample_meta();
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::dump_python(meta));
    }
}
BENCHMARK(BM_DumpPythonAscii);

} // namespace

BENCHMARK_MAIN();
