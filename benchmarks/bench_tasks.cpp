// The tasks.md parser and the WP frontmatter reader: the whole corpus in one process
// (budget: under 100 ms), synthetic 30- and 2,000-WP files (linear scaling, ns/byte), and
// a 1 MB tasks.md on one line (D13: line length must cost linear time too).
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "kitty/tasks_md.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> corpus_files(const std::string& name) {
    std::vector<std::string> texts;
    const fs::path root = fs::path(KITTY_SHARED_DIR) / "corpus/missions";
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(root, ec)) {
        if (e.path().filename() == name ||
            (name == "WP" && e.path().parent_path().filename() == "tasks")) {
            texts.push_back(kitty::read_file_bytes(e.path()));
        }
    }
    return texts;
}

std::size_t total_size(const std::vector<std::string>& texts) {
    std::size_t bytes = 0;
    for (const std::string& t : texts) {
        bytes += t.size();
    }
    return bytes;
}

std::string synthetic(int wps) {
    std::string t = "# Work Packages\n\nPreamble.\n\n";
    for (int i = 1; i <= wps; ++i) {
        const std::string id = "WP" + std::string(i < 10 ? "0" : "") + std::to_string(i % 100);
        t += "## Work Package " + id + ": Part " + std::to_string(i) + " (Priority: P1)\n\n";
        t += "**Goal**: build the thing.\n**Requirement Refs**: FR-00" + std::to_string(i % 9) +
             "\n\n### Included Subtasks\n";
        for (int s = 0; s < 4; ++s) {
            t += "- [ ] T" + std::to_string(1000 + i * 4 + s) + " [P] Implement `src/x" +
                 std::to_string(s) + ".py` (" + id + ")\n";
        }
        t += "\n### Dependencies\n- Depends on WP0" + std::to_string(i % 9) +
             ".\n\n### Risks\n- none\n\n---\n\n";
    }
    return t + "## Dependency & Execution Summary\n\n- WP02 depends on WP01.\n";
}

void BM_CorpusDependencyMaps(benchmark::State& state) {
    const std::vector<std::string> texts = corpus_files("tasks.md");
    const std::size_t bytes = total_size(texts);
    for (auto _ : state) {
        for (const std::string& t : texts) {
            benchmark::DoNotOptimize(kitty::parse_dependencies(kitty::normalize_newlines(t)));
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
    state.counters["files"] = static_cast<double>(texts.size());
}
BENCHMARK(BM_CorpusDependencyMaps)->Unit(benchmark::kMillisecond);

void BM_CorpusFullAnalysis(benchmark::State& state) {
    const std::vector<std::string> texts = corpus_files("tasks.md");
    const std::size_t bytes = total_size(texts);
    for (auto _ : state) {
        for (const std::string& t : texts) {
            benchmark::DoNotOptimize(kitty::analyse_tasks_md(kitty::normalize_newlines(t), "t"));
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_CorpusFullAnalysis)->Unit(benchmark::kMillisecond);

void BM_SyntheticAnalysis(benchmark::State& state) {
    const std::string text = synthetic(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::analyse_tasks_md(text, "t"));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["ns_per_byte"] = benchmark::Counter(
        static_cast<double>(text.size()),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SyntheticAnalysis)->Arg(30)->Arg(2000)->Unit(benchmark::kMicrosecond);

// One WP whose section is a single 1 MB line of "Depends on WPnn é " (98 distinct ids, so
// 98 column lookups far into the line, and a dependency phrase every 19 bytes).
void BM_LongSingleLine(benchmark::State& state) {
    std::string text = "## WP01 a\n";
    for (int i = 0; text.size() < (1U << 20); ++i) {
        const int n = 2 + i % 98;
        text += "Depends on WP" + std::string(n < 10 ? "0" : "") + std::to_string(n) + " \u00e9 ";
    }
    text += "\n";
    for (int n = 2; n < 100; ++n) {
        text += "## WP" + std::string(n < 10 ? "0" : "") + std::to_string(n) + "\n";
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::analyse_tasks_md(text, "t"));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_LongSingleLine)->Unit(benchmark::kMillisecond);

void BM_CorpusFrontmatterRead(benchmark::State& state) {
    const std::vector<std::string> texts = corpus_files("WP");
    for (auto _ : state) {
        for (const std::string& t : texts) {
            try {
                benchmark::DoNotOptimize(kitty::parse_wp_file(t, "WP01.md"));
            } catch (const std::exception&) {
            }
        }
    }
    state.counters["files"] = static_cast<double>(texts.size());
}
BENCHMARK(BM_CorpusFrontmatterRead)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
