#!/usr/bin/env bash
# Runs every benchmark in order and prints what each one reports; each ends with one key=value line.
# Expects the release build in build/bin (make bench does that first), or BENCH_BIN_DIR.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

echo "### http: pitwall-server vs nginx (bench/http_bench.sh)"
bash bench/http_bench.sh
echo
kv_bench=${BENCH_BIN_DIR:-build/bin}/pitwall-kv-bench
echo "### kv: embedded vs Redis ($kv_bench)"
if [[ ! -x $kv_bench ]]; then
    echo "run.sh: $kv_bench not built (cmake --preset release && cmake --build --preset release)" >&2
    exit 1
fi
"$kv_bench"
echo
team_week=${BENCH_BIN_DIR:-build/bin}/pitwall-team-week-bench
echo "### sync: a team week against the fakes, with and without the cache ($team_week)"
if [[ ! -x $team_week ]]; then
    echo "run.sh: $team_week not built (cmake --preset release && cmake --build --preset release)" >&2
    exit 1
fi
"$team_week" 2>/dev/null
echo
planner=${BENCH_BIN_DIR:-build/bin}/pitwall-planner-bench
echo "### planner: stage 2 plans vs the optimum of COIN-OR CBC on the same model ($planner)"
if [[ ! -x $planner ]]; then
    echo "run.sh: $planner not built (needs coinor-libcbc-dev; cmake --preset release && cmake --build --preset release)" >&2
    exit 1
fi
"$planner"
echo
echo "### dm: DM throughput through the bridge against the Discord emulator's limits, bot peak RSS (bench/dm_throughput.mjs)"
BENCH_BIN_DIR=${BENCH_BIN_DIR:-build/bin} node bench/dm_throughput.mjs
