#!/usr/bin/env bash
# tests/fuzz/run.sh FUZZ_BUILD SECONDS [TARGET...] — the fuzz layer (make fuzz, make check).
#
# For each libFuzzer target FUZZ_BUILD/fuzz_* (or the TARGETs named):
#   1. replays every input kept under tests/fuzz/regressions/<target>/ (crashes found earlier,
#      fixed since): one assertion per target that has any;
#   2. fuzzes for SECONDS from the seeds (tests/fuzz/seeds.py, written afresh for each run) and the
#      corpus grown by earlier runs (FUZZ_BUILD/corpus/<target>, kept between runs): one assertion.
# A crash leaves its input in FUZZ_BUILD/artifacts/<target>/; once the bug is fixed, copy it to
# tests/fuzz/regressions/<target>/ so that it is replayed for ever. Prints executions per second
# and coverage per target and "fuzz: N passed, M failed" last; exits non-zero on any failure.
set -uo pipefail

build=${1:?usage: run.sh FUZZ_BUILD SECONDS [TARGET...]}
seconds=${2:?usage: run.sh FUZZ_BUILD SECONDS [TARGET...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

targets=("$@")
if ((${#targets[@]} == 0)); then
	for bin in "$build"/fuzz_*; do
		[[ -x $bin && ! -d $bin ]] && targets+=("$(basename "$bin")")
	done
fi
if ((${#targets[@]} == 0)); then
	echo "no fuzz targets in $build (make fuzz-build)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# Seeds per run (two runs may share FUZZ_BUILD: the corpus directories take that, a seed
# directory removed under another run's feet would not).
mkdir -p "$build"
seeds=$(mktemp -d "$build/seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT
if ! python3 "$here/seeds.py" "$seeds"; then
	fail "seed corpora (tests/fuzz/seeds.py)"
fi

for t in "${targets[@]}"; do
	bin=$build/$t
	if [[ ! -x $bin ]]; then
		fail "$t: not built"
		continue
	fi
	log=$build/logs/$t.log
	mkdir -p "$build/corpus/$t" "$seeds/$t" "$build/artifacts/$t" "$build/logs"
	opts=(-timeout=25 -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/$t/")
	[[ -f $here/$t.dict ]] && opts+=(-dict="$here/$t.dict")

	# 1. regressions: each input file given by name is run once
	shopt -s nullglob
	reg=("$here/regressions/$t"/*)
	shopt -u nullglob
	if ((${#reg[@]})); then
		if timeout 300 "$bin" "${opts[@]}" "${reg[@]}" >"$log" 2>&1; then
			ok "$t: ${#reg[@]} regression input(s) replayed"
		else
			fail "$t: a regression input fails again:"
			grep -aE 'assertion failed|ERROR: |SUMMARY|Running: ' "$log" | tail -n 4 | sed 's/^/       /'
		fi
	fi

	# 2. a bounded fuzzing session; new inputs go to the first directory (the kept corpus)
	timeout $((seconds + 120)) "$bin" "${opts[@]}" -max_total_time="$seconds" \
		-print_final_stats=1 "$build/corpus/$t" "$seeds/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -aEo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
	if ((rc == 0)); then
		ok "$t: ${seconds} s, ${runs:-?} runs (${speed:-?}/s), ${cov:-no coverage line}"
	else
		fail "$t: crashed (exit $rc) after ${runs:-?} runs; input in $build/artifacts/$t/, log $log"
		grep -aE 'assertion failed|ERROR: |SUMMARY|runtime error|^    #[0-9] ' "$log" | head -n 12 |
			sed 's/^/       /'
	fi
done

echo "fuzz: $passed passed, $failed failed"
((failed == 0))
