#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded number of inputs over a scratch copy of its seed corpus, so
# that the inputs it adds never land in the repository.
#
#   fuzz/run.sh <fuzzer-binary> <seed-corpus-dir> <runs> [extra libFuzzer flags...]
#
# Exits with the fuzzer's status. On a crash the scratch directory (corpus + crash-* input) is kept and
# its path printed; otherwise it is removed. A missing binary is an error: build it with
#   cmake --preset fuzz && cmake --build --preset fuzz -j2
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: $0 <fuzzer-binary> <seed-corpus-dir> <runs> [libFuzzer flags...]" >&2
    exit 2
fi
binary=$1
seeds=$2
runs=$3
shift 3

if [[ ! -x $binary ]]; then
    echo "fuzzer not built: $binary (run: cmake --preset fuzz && cmake --build --preset fuzz -j2)" >&2
    exit 1
fi
if [[ ! -d $seeds ]]; then
    echo "no seed corpus: $seeds" >&2
    exit 1
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pitwall-fuzz-$(basename "$binary").XXXXXX")
keep=0
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    if [[ $keep -eq 0 ]]; then
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

mkdir "$scratch/corpus"
cp -R "$seeds"/. "$scratch/corpus/"

status=0
"$binary" -runs="$runs" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$scratch/" "$@" "$scratch/corpus" || status=$?

if [[ $status -ne 0 ]]; then
    keep=1
    echo "fuzzer failed (status $status); inputs kept in $scratch" >&2
fi
exit "$status"
