#!/usr/bin/env bash
# make bench: runs every benchmark binary (build/bench/bench_*) and benchmark script
# (tools/bench/bench_*.sh). Each prints lines "BENCH <name> <value> <unit>". Never part of make check.
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
status=0
ran=0
shopt -s nullglob
for b in "$build"/bench/bench_* "$here"/bench_*.sh; do
	[[ -x $b ]] || continue
	echo "==== $(basename "$b")"
	"$b" "$build" || { echo "bench: $(basename "$b") failed" >&2; status=1; }
	ran=$((ran + 1))
done
((ran)) || echo "bench: no benchmarks yet"
exit $status
