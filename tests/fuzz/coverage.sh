#!/usr/bin/env bash
# tests/fuzz/coverage.sh [TARGET...] — line coverage of the module sources reached by the kept fuzz
# corpora (build/fuzz/corpus/<target>, grown by make fuzz / make check). Builds each target again
# with clang's source-based coverage (no sanitizers) in build/fuzz-cov, runs every corpus input once,
# and prints llvm-cov's report for the files that target exercises. Not part of make check.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/fuzz-cov
targets=("$@")
((${#targets[@]})) || targets=(fuzz_stun fuzz_turn_server fuzz_pkt_parse fuzz_pipeline fuzz_config)
declare -A files=(
	[fuzz_stun]="turn/stun.c turn/auth.c turn/hmac.c"
	[fuzz_turn_server]="turn/server.c turn/stun.c turn/auth.c turn/policy.c turn/ports.c turn/timers.c"
	[fuzz_pkt_parse]="pkt/parse.c pkt/build.c pkt/csum.c"
	[fuzz_pipeline]="app/pipeline.c pkt/parse.c turn/server.c"
	[fuzz_config]="config/config.c app/turn_setup.c"
)
srcs="pkt/*.c turn/*.c config/config.c app/pipeline.c app/neigh.c app/log.c app/turn_setup.c"
mkdir -p "$out"
for t in "${targets[@]}"; do
	corpus=build/fuzz/corpus/$t
	[[ -d $corpus ]] || { echo "$t: no corpus in $corpus (run make fuzz first)"; continue; }
	# shellcheck disable=SC2086
	clang -std=gnu11 -O1 -g -D_GNU_SOURCE -I. -fprofile-instr-generate -fcoverage-mapping \
		-fsanitize=fuzzer -o "$out/$t" "tests/fuzz/$t.c" $srcs -lcrypto -lz -lyaml -lmnl -lpthread
	rm -f "$out/$t".*.profraw
	LLVM_PROFILE_FILE="$out/$t.%p.profraw" "$out/$t" -runs=0 "$corpus" >/dev/null 2>&1
	llvm-profdata merge -sparse "$out/$t".*.profraw -o "$out/$t.profdata"
	echo "==== $t ($(find "$corpus" -type f | wc -l) corpus inputs)"
	# shellcheck disable=SC2086
	llvm-cov report "$out/$t" -instr-profile="$out/$t.profdata" ${files[$t]}
done
