#!/usr/bin/env bash
# tests/integration/test_replay_live.sh BUILD_DIR — xturn-replay --live puts a capture's frames on an
# interface: one veth pair in a namespace of our own, tcpdump on the far end, the frames received
# compared byte for byte with the capture. Needs root. Prints "N passed, M failed" last.
set -uo pipefail

build=${1:?usage: test_replay_live.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
tool=$build/xturn-replay
cases=$here/replay
ns=xtE-live-$$
tmp=$(mktemp -d)
passed=0
failed=0
tp=

cleanup() {
	if [[ -n $tp ]]; then
		kill "$tp" 2>/dev/null
		wait "$tp" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

check() {
	if [[ $2 == ok ]]; then
		passed=$((passed + 1))
		echo "PASS $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1: $2"
	fi
}
nse() { nsenter --net=/var/run/netns/"$ns" "$@"; }

# Frames as hex, without timestamps, in order.
frames_hex() { tcpdump -n -t -xx -r "$1" 2>/dev/null | grep -E '^\s+0x'; }

capture() { # IFACE FILE: start tcpdump, wait until it listens
	# Not through nse(): $! must be the process that ends tcpdump (nsenter execs timeout, which
	# passes our TERM on), never a subshell. timeout bounds it should this script die first.
	# --immediate-mode: without it tcpdump holds packets up to a second, and stopping it loses them.
	nsenter --net=/var/run/netns/"$ns" timeout 60 \
		tcpdump -Z root --immediate-mode -i "$1" -n -U -w "$2" 2>"$tmp/tcpdump.err" &
	tp=$!
	for _ in $(seq 50); do
		grep -q listening "$tmp/tcpdump.err" && sleep 0.2 && return 0
		sleep 0.1
	done
	return 1
}
stop_capture() {
	sleep 0.3
	kill "$tp" 2>/dev/null
	wait "$tp" 2>/dev/null
	tp=
}

ip netns add "$ns" || { echo "0 passed, 1 failed"; exit 1; }
nse ip link add xa type veth peer name xb
nse sysctl -qw net.ipv6.conf.xa.disable_ipv6=1 net.ipv6.conf.xb.disable_ipv6=1
nse ip link set xa up
nse ip link set xb up
for _ in $(seq 50); do # frames sent before the carrier is up are lost
	nse ip -o link show xa | grep -q 'state UP' && nse ip -o link show xb | grep -q 'state UP' && break
	sleep 0.1
done

# 1. back to back: every frame arrives, unchanged
capture xb "$tmp/fast.pcap" || echo "tcpdump did not start"
nse "$tool" -q --live xa -r "$cases/channel_data.in.pcap" --fast
stop_capture
if diff -q <(frames_hex "$cases/channel_data.in.pcap") <(frames_hex "$tmp/fast.pcap") >/dev/null; then
	check "--fast: the capture's frames arrive byte for byte" ok
else
	check "--fast: the capture's frames arrive byte for byte" \
		"$(frames_hex "$tmp/fast.pcap" | grep -c . ) hex lines received, $(frames_hex "$cases/channel_data.in.pcap" | grep -c .) sent"
fi

# 2. at the captured pace, with a new destination MAC: takes as long as the capture spans
capture xb "$tmp/pace.pcap" || echo "tcpdump did not start"
start=$(date +%s%N)
nse "$tool" -q --live xa -r "$cases/send_data.in.pcap" --pace --dst-mac 02:aa:bb:cc:dd:ee
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
stop_capture
span_ms=$(tcpdump -tt -n -r "$cases/send_data.in.pcap" 2>/dev/null |
	awk 'NR == 1 { f = $1 } { l = $1 } END { printf "%d", (l - f) * 1000 }')
if ((elapsed_ms >= span_ms && elapsed_ms < span_ms + 2000)); then
	check "--pace: took ${elapsed_ms} ms for a ${span_ms} ms capture" ok
else
	check "--pace" "took ${elapsed_ms} ms for a ${span_ms} ms capture"
fi
sent=$(tcpdump -r "$cases/send_data.in.pcap" 2>/dev/null | wc -l)
rewritten=$(tcpdump -e -n -r "$tmp/pace.pcap" 2>/dev/null | grep -c '> 02:aa:bb:cc:dd:ee')
if ((rewritten == sent)); then
	check "--dst-mac: all $sent frames carry the new destination MAC" ok
else
	check "--dst-mac" "$rewritten of $sent frames carry it"
fi

echo "replay-live: $passed passed, $failed failed"
((failed == 0))
