#!/usr/bin/env bash
# `make bench`: Google Benchmark suites, medians of repeated runs.
set -euo pipefail
build=${1:-build}
"$build/benchmarks/bench-core" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
"$build/benchmarks/bench-tasks" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
"$build/benchmarks/bench-lanes" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
"$build/benchmarks/bench-release" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
"$build/benchmarks/bench-loop" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
"$build/benchmarks/bench-merge" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
if [ -x "$build/benchmarks/bench-auth" ]; then
    "$build/benchmarks/bench-auth" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
fi
"$build/benchmarks/bench-cold-start" --benchmark_repetitions=10 \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.5
# The loop at scale: 8 concurrent scripted agents from finalize-tasks to merged on a
# generated mission of 10 and of 100 WPs (per-command CPU and wall, status-lock hold), and
# the growth of per-call CPU from the one to the other.
small=$(mktemp)
trap 'rm -f "$small"' EXIT
python3 benchmarks/scale_loop.py --bin "$build/tools" --wps 10 --agents 8 --save "$small"
python3 benchmarks/scale_loop.py --bin "$build/tools" --wps 100 --agents 8 --compare-with "$small"
# The merge forecast and lane sync against git on a 100-WP, 8-lane mission in a
# 1,000-file repository (merge --dry-run vs git merge-tree; lanes sync vs git merge).
python3 benchmarks/merge_forecast.py --bin "$build/tools"
# The loop at scale with a commit on the target every 10 approved WPs: resolve steps.
python3 benchmarks/scale_loop.py --bin "$build/tools" --wps 100 --agents 8 --target-commits 10
