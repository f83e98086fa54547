// Core costs: ULID minting and encoding, the Python-exact JSON emitter, meta.json writes, the
// event log's parse and reduction at the size of a 100-WP mission's (725 events).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/status.hpp"
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

namespace {

// 725 events as a 100-WP mission's loop writes them: each WP through the lanes in turn, an
// approval with its review's evidence.
std::string event_log_text() {
    const char* lanes[] = {"planned",   "claimed",  "in_progress", "for_review",
                           "in_review", "approved", "done"};
    std::string text;
    for (int i = 0; i < 725; ++i) {
        kitty::StatusEvent e;
        e.actor = "agent" + std::to_string(i % 8);
        e.at = "2026-12-06T13:49:" + std::to_string(10 + i / 100) + "." +
               std::to_string(100000 + i) + "+00:00";
        e.event_id = kitty::mint_ulid().str();
        e.from_lane = lanes[(i / 100) % 7];
        e.to_lane = lanes[(i / 100 + 1) % 7];
        e.mission_slug = "001-scale";
        e.wp_id = "WP" + std::to_string(10 + i % 90);
        e.force = i % 7 == 0;
        if (e.to_lane == std::string("approved")) {
            e.evidence = kitty::Json{{"review",
                                      {{"reference", "auto-approval:" + e.wp_id},
                                       {"reviewer", e.actor},
                                       {"verdict", "approved"}}}};
        }
        text += e.line();
    }
    return text;
}

void BM_ParseEventLog(benchmark::State& state) {
    const std::string text = event_log_text();
    for (auto _ : state) {
        std::vector<kitty::StatusEvent> events;
        kitty::parse_status_lines(text, "status.events.jsonl", 0, events);
        benchmark::DoNotOptimize(events.data());
    }
    state.SetItemsProcessed(state.iterations() * 725);
}
BENCHMARK(BM_ParseEventLog)->Unit(benchmark::kMicrosecond);

void BM_ReduceEventLog(benchmark::State& state) {
    std::vector<kitty::StatusEvent> events;
    kitty::parse_status_lines(event_log_text(), "status.events.jsonl", 0, events);
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::reduce_status(events));
    }
    state.SetItemsProcessed(state.iterations() * 725);
}
BENCHMARK(BM_ReduceEventLog)->Unit(benchmark::kMicrosecond);

} // namespace
