#!/usr/bin/env bash
# tests/replay/run.sh BUILD_DIR — the replay layer (no privileges needed).
#
# For every case NAME in this folder (NAME.yaml, NAME.in.pcap, NAME.expected.pcap,
# NAME.expected.maps): replays the input through BUILD_DIR/xturn-replay and compares the frames sent
# and the map changes with the expected files byte for byte (cmp), then has tshark validate the IPv4
# header and UDP checksums of every frame sent (an independent implementation of both). Then checks
# of the tool itself: a two-way capture (input merged with the relay's own output, as tcpdump on the
# relay's NIC would record it) gives the same output; the seed is used; damaged captures neither
# crash it nor get frames with bad checksums out of it.
# Prints "replay: N passed, M failed" last; exits non-zero when anything failed.
set -uo pipefail

build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tool=$build/xturn-replay
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() {
	passed=$((passed + 1))
	echo "PASS $1"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
}

# Every frame: UDP checksum good (IPv4 and IPv6), IPv4 header checksum good, no expert error.
# tshark's status fields: 0 bad, 1 good, 2 not checked. Prints the offending frames, if any.
bad_checksums() {
	tshark -n -r "$1" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields \
		-e frame.number -e ip.checksum.status -e udp.checksum.status -e _ws.expert.severity \
		2>/dev/null |
		awk -F'\t' '{ sev = 0; n = split($4, s, ","); for (i = 1; i <= n; i++) if (s[i] + 0 > sev) sev = s[i] + 0 }
			$3 != "1" || ($2 != "" && $2 != "1") || sev >= 8388608 {
				printf "frame %s (ip %s, udp %s, expert %s) ", $1, $2, $3, $4 }'
}

if [[ ! -x $tool ]]; then
	echo "replay: $tool not built"
	echo "replay: 0 passed, 1 failed"
	exit 1
fi
have_tshark=1
command -v tshark >/dev/null || have_tshark=0
((have_tshark)) || echo "replay: tshark missing (make deps): checksum validation SKIPPED"

shopt -s nullglob
cases=("$here"/*.in.pcap)
for in in "${cases[@]}"; do
	name=$(basename "$in" .in.pcap)
	prefix=$here/$name
	out=$tmp/$name.pcap
	maps=$tmp/$name.maps
	if ! "$tool" --case "$prefix" -w "$out" --maps "$maps" 2>"$tmp/$name.err"; then
		fail "$name" "xturn-replay failed: $(tr '\n' ' ' <"$tmp/$name.err")"
		continue
	fi
	problems=""
	cmp -s "$out" "$prefix.expected.pcap" ||
		problems+="frames differ from $name.expected.pcap ($(cmp "$out" "$prefix.expected.pcap" 2>&1 | head -n 1)); "
	cmp -s "$maps" "$prefix.expected.maps" ||
		problems+="map changes differ: $(diff "$prefix.expected.maps" "$maps" | head -n 3 | tr '\n' ' '); "
	if ((have_tshark)); then
		bad=$(bad_checksums "$out")
		[[ -z $bad ]] || problems+="bad checksums: $bad; "
	fi
	if [[ -z $problems ]]; then
		pass "$name: $(grep -Eo '[0-9]+ frames read' "$tmp/$name.err"), $(grep -Eo '[0-9]+ sent' "$tmp/$name.err"), $(wc -l <"$maps") map changes"
	else
		fail "$name" "$problems"
	fi
done

# A capture taken on the relay's NIC holds both directions: the relay's own frames (source MAC =
# --relay-mac) must be skipped, so the output is the same as from the input alone.
two_way() {
	local name=$1 merged=$tmp/two-way.pcap
	if ! command -v mergecap >/dev/null; then
		echo "replay: mergecap missing: two-way capture check SKIPPED"
		return
	fi
	mergecap -F pcap -w "$merged" "$here/$name.in.pcap" "$here/$name.expected.pcap" 2>/dev/null &&
		"$tool" -q -c "$here/$name.yaml" -r "$merged" -w "$tmp/two-way.out.pcap" \
			--maps "$tmp/two-way.out.maps" &&
		cmp -s "$tmp/two-way.out.pcap" "$here/$name.expected.pcap" &&
		cmp -s "$tmp/two-way.out.maps" "$here/$name.expected.maps"
}
if [[ -e $here/channel_data.in.pcap ]]; then
	if two_way channel_data; then
		pass "two-way capture (channel_data with the relay's own frames merged in)"
	else
		fail "two-way capture" "output differs when the relay's own frames are in the input"
	fi
fi

# Determinism across runs is what the cmp above shows against a file written earlier; this also
# checks that another seed changes the random choices (relay ports), i.e. the seed is used.
if [[ -e $here/allocate_auth.in.pcap ]]; then
	"$tool" -q --case "$here/allocate_auth" --seed 2 -w "$tmp/seed2.pcap" --maps "$tmp/seed2.maps"
	if ! cmp -s "$tmp/seed2.maps" "$here/allocate_auth.expected.maps"; then
		pass "seed changes the relay port"
	else
		fail "seed" "--seed 2 gave the same relay port as --seed 1"
	fi
fi

# Damaged input (tests/replay/mutate.py: the cases' frames merged, bytes overwritten, frames cut,
# time going back and forth): no crash (under ASan in `SANITIZE=1 make check`), good checksums.
if command -v python3 >/dev/null; then
	for seed in 1 2 3 4; do
		python3 "$here/mutate.py" "$seed" "$tmp/mutated.pcap" &&
			"$tool" -q -c "$here/ipv6.yaml" -r "$tmp/mutated.pcap" -w "$tmp/mutated.out.pcap" \
				--linger 4000
		rc=$?
		bad=""
		((have_tshark)) && ((rc == 0)) && bad=$(bad_checksums "$tmp/mutated.out.pcap")
		if ((rc == 0)) && [[ -z $bad ]]; then
			pass "mutated capture $seed"
		else
			fail "mutated capture $seed" "exit $rc ${bad:+bad checksums: $bad}"
		fi
	done
else
	echo "replay: python3 missing: mutated captures SKIPPED"
fi

echo "replay: $passed passed, $failed failed"
((failed == 0))
