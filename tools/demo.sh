#!/usr/bin/env bash
# tools/demo.sh BUILD_DIR — `make demo`: xturn relaying end to end on a namespace topology.
#
# Makes the topology of tools/topology.sh (client, client2, relay, peer on one L2 segment), runs
# xturnd with config/demo.yaml on the relay's interface, coturn's turnutils_peer and a kernel UDP
# echo on the peer, then drives the relay from the client namespace with coturn's turnutils_uclient
# (several clients, hundreds of messages) and with tests/integration/turnclient.py over channels (the
# in-kernel fast path). Prints what happened, from the tools' own reports and xturnd's /metrics;
# full logs go to BUILD_DIR/demo/. Everything is torn down on exit. Needs root.
set -uo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
out=$build/demo
config=config/demo.yaml
clients=${DEMO_CLIENTS:-8}
messages=${DEMO_MESSAGES:-100}
size=${DEMO_SIZE:-120}
channel_msgs=${DEMO_CHANNEL_MESSAGES:-500}

if [[ $(id -u) -ne 0 ]]; then
	echo "make demo needs root (network namespaces, XDP): run it as root, e.g. sudo make demo" >&2
	exit 1
fi
if [[ ! -x $build/xturnd ]]; then
	echo "no $build/xturnd: run 'make' first" >&2
	exit 1
fi
for tool in turnutils_uclient turnutils_peer python3 curl; do
	command -v "$tool" >/dev/null || { echo "missing $tool: run 'make deps'" >&2; exit 1; }
done

source tools/topology.sh
P=xtD$$
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	topo_down "$P"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bg() { # NS LOG CMD...: a background process in a namespace, stopped on exit
	local ns=$1 log=$2
	shift 2
	nsenter --net="/var/run/netns/$ns" "$@" >"$log" 2>&1 &
	pids+=($!)
}
wait_for() { # TENTHS CMD...: polls CMD until it succeeds
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
metrics() { in_ns "$P-relay" curl -s --max-time 2 http://127.0.0.1:9641/metrics; }
m() { awk -v s="$1" '$1 == s { v = $2 } END { print v + 0 }' <<<"$2"; }
sum() { awk -v p="$1" 'index($1, p) == 1 { v += $2 } END { print v + 0 }' <<<"$2"; }
bold() { [[ -t 1 ]] && printf '\033[1m%s\033[0m\n' "$*" || printf '%s\n' "$*"; }

rm -rf "$out"
mkdir -p "$out"
bold "xturn demo: a STUN/TURN relay on XDP and AF_XDP, end to end in network namespaces"
echo
topo_up "$P" >"$out/topology.log" 2>&1 || { cat "$out/topology.log"; exit 1; }
echo "  topology   client 198.18.0.10, client2 198.18.0.11, peer 198.18.0.20 and the relay"
echo "             198.18.0.1 / fd98:18::1 (interface xt-relay) on one Ethernet segment"
echo "             (namespaces $P-*; no route leaves them)"


xpid=
nsenter --net="/var/run/netns/$P-relay" "$build/xturnd" -c "$config" >"$out/xturnd.log" 2>&1 &
xpid=$!
pids+=("$xpid")
if ! wait_for 50 in_ns "$P-relay" curl -sf --max-time 1 http://127.0.0.1:9641/healthz; then
	echo "xturnd did not come up; its log:" >&2
	cat "$out/xturnd.log" >&2
	exit 1
fi
mode=$(sed -nE 's/.*xdp: attached to xt-relay .* in ([a-z]+) mode.*/\1/p' "$out/xturnd.log" | head -n1)
xsk=$(sed -nE 's/.*AF_XDP socket in ([a-z-]+) mode.*/\1/p' "$out/xturnd.log" | head -n1)
echo "  xturnd     $config: XDP ${mode:-?} mode, AF_XDP ${xsk:-?} mode, metrics on 127.0.0.1:9641"

bg "$P-peer" "$out/turnutils_peer.log" timeout 300 turnutils_peer -L 198.18.0.20 -L fd98:18::20 -p 3480
bg "$P-peer" "$out/udp_echo.log" python3 tests/integration/udp_echo.py --bind 198.18.0.20 \
	--bind fd98:18::20 --port 3490 --max-seconds 300
wait_for 30 grep -q listening "$out/udp_echo.log"
sleep 0.3
echo

# 1. coturn's client. Its channel numbers go up to 0x7FFF (RFC 5766); RFC 8656 allows 0x4FFF, so
# it uses channels only when xturnd accepts the legacy range, else Send indications.
if grep -q 'legacy_channels' config/config.c 2>/dev/null && grep -q 'legacy_channels: *true' "$config"; then
	uflags=() how="channels"
else
	uflags=(-s) how="Send indications"
fi
bold "[1/2] coturn turnutils_uclient -> relay -> turnutils_peer"
echo "      $clients clients x $messages messages of $size bytes, relayed with $how"
before=$(metrics)
start=$(date +%s%N)
in_ns "$P-client" timeout 120 turnutils_uclient "${uflags[@]}" -m "$clients" -n "$messages" \
	-l "$size" -u demo -w demo-password -e 198.18.0.20 -r 3480 198.18.0.1 >"$out/uclient.log" 2>&1
urc=$?
secs=$((($(date +%s%N) - start) / 1000000))
totals=$(sed -nE 's/.*start_mclient: tot_send_msgs=([0-9]+), tot_recv_msgs=([0-9]+)$/\1 \2/p' \
	"$out/uclient.log" | tail -n1)
lost=$(sed -nE 's/.*Total lost packets ([0-9]+) \(([0-9.]+)%\).*/\1 \2/p' "$out/uclient.log" | tail -n1)
rtt=$(sed -nE 's/.*Average round trip delay ([0-9.]+) ms.*/\1/p' "$out/uclient.log" | tail -n1)
read -r usent urecv <<<"${totals:-? ?}"
read -r ulost upct <<<"${lost:-? ?}"
upct=$(printf '%.2f' "${upct:-100}")
printf '      sent %s, received %s, lost %s (%s%%), average round trip %.2f ms, %d.%01d s\n' \
	"$usent" "$urecv" "$ulost" "$upct" "${rtt:-0}" $((secs / 1000)) $((secs % 1000 / 100))
((urc == 0)) || echo "      turnutils_uclient exited with status $urc (see $out/uclient.log)"
mid=$(metrics)

# 2. channels through the in-kernel fast path (channel numbers of RFC 8656).
bold "[2/2] turnclient.py over TURN channels -> relay -> kernel UDP echo on the peer"
echo "      $channel_msgs ChannelData messages to 198.18.0.20 and back, relayed by the XDP program"
in_ns "$P-client" timeout 120 python3 tests/integration/turnclient.py --server 198.18.0.1 \
	--user demo --password demo-password --peer 198.18.0.20:3490 --count "$channel_msgs" \
	--size "$size" echo >"$out/turnclient.log" 2>&1
tline=$(grep -m1 '^sent=' "$out/turnclient.log")
read -r csent crecv < <(sed -nE 's/^sent=([0-9]+) received=([0-9]+) .*/\1 \2/p' <<<"$tline")
echo "      sent ${csent:-?}, echoed back ${crecv:-?}"
after=$(metrics)
echo "$after" >"$out/metrics.txt"

# The report, from xturnd's own counters.
echo
bold "What xturnd did (from /metrics)"
allocs=$(m 'xturn_requests_total{method="allocate",code="0"}' "$after")
challenges=$(m 'xturn_requests_total{method="allocate",code="401"}' "$after")
printf '  %-28s %s (%s answered 401 first, to hand out a nonce), %s still active\n' \
	"allocations made" "$allocs" "$challenges" "$(m xturn_allocations_active "$after")"
printf '  %-28s %s permissions, %s channel bindings\n' "requests answered" \
	"$(m 'xturn_requests_total{method="create_permission",code="0"}' "$after")" \
	"$(m 'xturn_requests_total{method="channel_bind",code="0"}' "$after")"
for path in ebpf userspace; do
	p=$(sum "xturn_data_relayed_packets_total{path=\"$path\"" "$after")
	b=$(sum "xturn_data_relayed_bytes_total{path=\"$path\"" "$after")
	if [[ $path == ebpf ]]; then
		label="relayed in the kernel"
		what="XDP_TX, ChannelData of bound channels"
	else
		label="relayed in user space"
		what="AF_XDP worker: indications, channels not in the kernel maps"
	fi
	printf '  %-28s %8s packets %10s bytes   (%s)\n' "$label" "$p" "$b" "$what"
done
for phase in uclient turnclient; do
	if [[ $phase == uclient ]]; then a=$before z=$mid; else a=$mid z=$after; fi
	k=$(($(sum 'xturn_data_relayed_packets_total{path="ebpf"' "$z") -
		$(sum 'xturn_data_relayed_packets_total{path="ebpf"' "$a")))
	u=$(($(sum 'xturn_data_relayed_packets_total{path="userspace"' "$z") -
		$(sum 'xturn_data_relayed_packets_total{path="userspace"' "$a")))
	printf '  %-28s %s packets in the kernel, %s in user space\n' "  of which [$([[ $phase == uclient ]] && echo 1 || echo 2)/2]" "$k" "$u"
done
drops=$(awk '/^xturn_drops_total/ && $2 > 0 { sub(/^xturn_drops_total/, "", $1); printf "%s %s  ", $1, $2 }' <<<"$after")
printf '  %-28s %s\n' "drops" "${drops:-none}"
echo
ok=1
[[ $urc == 0 && $usent == "$urecv" && ${crecv:-0} == "${csent:-x}" ]] || ok=0
if ((ok)); then
	bold "Result: every message came back: $usent + ${csent} relayed both ways, none lost."
else
	bold "Result: some messages were lost; see the logs."
fi
echo "Logs and metrics: $out/ (xturnd.log, uclient.log, turnutils_peer.log, turnclient.log, metrics.txt)"

# Stop xturnd the normal way, so that it detaches its XDP program, and check it did.
kill -TERM "$xpid" 2>/dev/null
wait_for 20 bash -c "! kill -0 $xpid"
((ok))
