#!/usr/bin/env bash
# Runs every test layer that exists and prints one overall "N passed, M failed" line last.
#   tests/run-tests.sh BUILD_DIR [LAYER...]      layers: unit bpf replay integration fuzz
# Each layer prints its own "<layer>: N passed, M failed"; a layer that cannot run here (not root)
# says so visibly and counts nothing. Exit status is non-zero when anything failed.
set -uo pipefail

build=${1:?usage: run-tests.sh BUILD_DIR [LAYER...]}
shift
layers=("$@")
((${#layers[@]})) || layers=(unit bpf replay integration fuzz)
here=$(cd "$(dirname "$0")" && pwd)
total_passed=0
total_failed=0

# Reads the last "N passed, M failed" of a layer's output and adds it to the totals. A layer that
# exits non-zero without any failure counted is one failure: a crash must never read as success.
count() {
	local layer=$1 out=$2 rc=$3 line p f
	line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [[ -z $line ]]; then
		echo "$layer: no summary line (exit $rc): counted as 1 failure"
		total_failed=$((total_failed + 1))
		return
	fi
	p=${line%% passed*}
	f=${line##*, }
	f=${f%% failed}
	if ((rc != 0 && f == 0)); then
		echo "$layer: exited $rc with no failure counted: counted as 1 failure"
		f=1
	fi
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
}

run_layer() {
	local layer=$1
	shift
	local out rc
	out=$(mktemp)
	echo "==== $layer"
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	count "$layer" "$out" "$rc"
	rm -f "$out"
}

for layer in "${layers[@]}"; do
	case $layer in
	unit)
		run_layer unit "$build/tests/unit-tests"
		;;
	bpf)
		if [[ ! -x $build/tests/bpf-tests ]]; then
			echo "==== bpf: no suite built yet"
		elif [[ $(id -u) -ne 0 ]]; then
			echo "==== bpf: SKIPPED (needs root to load BPF programs)"
		else
			run_layer bpf "$build/tests/bpf-tests"
		fi
		;;
	replay)
		if [[ -x $here/replay/run.sh ]]; then
			run_layer replay "$here/replay/run.sh" "$build"
		else
			echo "==== replay: no cases yet"
		fi
		;;
	integration)
		shopt -s nullglob
		scripts=("$here"/integration/test_*.sh)
		if ((${#scripts[@]} == 0)); then
			echo "==== integration: no tests yet"
		elif [[ $(id -u) -ne 0 ]]; then
			echo "==== integration: SKIPPED (needs root for namespaces and XDP)"
		else
			for t in "${scripts[@]}"; do
				run_layer "integration/$(basename "$t" .sh)" "$t" "$build"
			done
		fi
		;;
	fuzz)
		# libFuzzer targets (always sanitized, built by clang in build/fuzz): the regression
		# inputs, then a short slice of fuzzing each (XT_FUZZ_SECONDS, default 20 s per target)
		if compgen -G "$here/../build/fuzz/fuzz_*" >/dev/null; then
			run_layer fuzz "$here/fuzz/run.sh" "$here/../build/fuzz" "${XT_FUZZ_SECONDS:-20}"
		else
			echo "==== fuzz: no targets built (make fuzz-build)"
		fi
		;;
	*)
		echo "run-tests: unknown layer '$layer'" >&2
		exit 2
		;;
	esac
done

echo
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
