#!/usr/bin/env bash
# tools/bench/bench_relay.sh BUILD_DIR — the network benchmark of `make bench` (never `make check`).
#
# Topology (DESIGN.md §6, the benchmark variant): two namespaces joined by one veth pair, no bridge,
# so that no forwarding work lands on either core:
#   PFX-gen    xF<pid>g  198.18.0.10 (client), 198.18.0.20 (peer)   xturn-load, pinned to CPU 0
#   PFX-relay  xF<pid>r  198.18.0.1  (relay)                       the relay, pinned to CPU 1
# Both ends use threaded NAPI with each NAPI thread pinned to its side's core: on veth the receive
# work otherwise runs on the sender's CPU. xturn-load opens BENCH_FLOWS allocations and echoes for
# the peer itself (--local-echo), so each round trip crosses the relay twice:
#   client -> relay -> peer -> relay -> client.
# The bare XDP_TX reflector crosses it once: client -> reflector -> client (the datagram is the same
# ChannelData the client sends to a relay, so frames are the same size on that leg).
#
# Scenarios: fastpath (xturnd, in-kernel relaying), afxdp (xturnd, xdp.fast_path: false),
# coturn (turnserver, same port range, credentials, peer policy, one relay thread), reflector.
# Per scenario and payload size: a run at a fixed offered rate below every scenario's knee (the
# same packet rate through the relay core for all: BENCH_RATE round trips/s for the relays, twice
# that for the reflector), and a saturation run (as fast as the generator goes, at most BENCH_WINDOW
# packets in flight). Drops are attributed from the veth counters (ring full at the relay's end or
# the generator's) and the generator's AF_XDP statistics. "Delivered pps" counts packets the relay delivered per second, both
# directions summed (the reflector's one direction); loss is round-trip loss at the client.
# Rounds alternate the scenario order (A B C D, then D C B A, ...) to cancel drift; figures are
# medians over rounds.
#
# Relay CPU: run time (schedstat, ns) of every thread of the relay process and of the relay
# interface's NAPI thread (where XDP, the AF_XDP copy and the kernel's UDP receive run), divided by
# the packets that crossed the relay (echoed at the peer + received by the client; for the
# reflector, received). ksoftirqd/1's and /proc/stat's CPU 1 busy time are recorded in the JSON
# too, but other work on the machine lands there.
# Other jobs may share the machine: both NAPI threads run SCHED_FIFO (as softirqs would preempt
# them) and the relay and the generator at nice -10, the same for every scenario; CPU time is
# counted per thread, so what others use is not charged to the relay.
#
# Output: a table, `BENCH <name> <value> <unit>` lines, build/bench/results.json and
# build/bench/relay.png. Environment knobs (defaults): BENCH_SECONDS (3) per run, BENCH_ROUNDS (3),
# BENCH_RATE (25000 round trips/s), BENCH_BURST (16 packets per paced burst), BENCH_FLOWS (16),
# BENCH_WINDOW (256: one veth ring; a closed loop must not overrun it by its own bursts),
# BENCH_SIZES ("100 1000"), BENCH_SCENARIOS ("fastpath afxdp coturn
# reflector"), BENCH_GEN_MODE (xdp | udp).
set -uo pipefail

build=${1:?usage: bench_relay.sh BUILD_DIR}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

SECONDS_PER_RUN=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
RATE=${BENCH_RATE:-25000}
FLOWS=${BENCH_FLOWS:-16}
BURST=${BENCH_BURST:-16}
WINDOW=${BENCH_WINDOW:-256}
SIZES=${BENCH_SIZES:-"100 1000"}
SCENARIOS=${BENCH_SCENARIOS:-"fastpath afxdp coturn reflector"}
GEN_MODE=${BENCH_GEN_MODE:-xdp}

if [[ $(id -u) -ne 0 ]]; then
	echo "bench_relay: SKIPPED (needs root for namespaces and XDP)"
	exit 0
fi
for f in "$build/xturnd" "$build/xturn-load" "$build/tools/bench/reflector.bpf.o" \
	"$build/tools/xturn-load/steer.bpf.o"; do
	[[ -e $f ]] || { echo "bench_relay: $f is missing (make all)" >&2; exit 1; }
done
if [[ " $SCENARIOS " == *" coturn "* ]] && ! command -v turnserver >/dev/null; then
	echo "bench_relay: turnserver not installed (make deps): coturn scenario skipped" >&2
	SCENARIOS=${SCENARIOS//coturn/}
fi

PFX=xtF$$
NS_GEN=$PFX-gen
NS_RELAY=$PFX-relay
DEV_G=xF$$g
DEV_R=xF$$r
RELAY_IP=198.18.0.1
CLIENT_IP=198.18.0.10
PEER=198.18.0.20:40000
PORT=3478
USER_NAME=bench
PASSWORD=bench-password
REALM=bench.xturn
tmp=$(mktemp -d /tmp/xtF-bench.XXXXXX)
out_dir=$build/bench
mkdir -p "$out_dir"
samples=$tmp/samples.jsonl
: >"$samples"
relay_pids=()
failures=0

in_ns() {
	local ns=$1
	shift
	nsenter --net="/var/run/netns/$ns" "$@"
}

# sysfs shows the devices of the namespace that mounted it: `ip netns exec` remounts it.
sysfs_write() {
	ip netns exec "$1" sh -c "echo $3 > /sys/class/net/$2/$4"
}

relay_stop() {
	local pid
	for pid in "${relay_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${relay_pids[@]}"; do
		# bounded: 50 x 0.1 s, then SIGKILL
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	relay_pids=()
	in_ns "$NS_RELAY" ip link set dev "$DEV_R" xdpdrv off 2>/dev/null
}

cleanup() {
	relay_stop
	in_ns "$NS_GEN" ip link set dev "$DEV_G" xdpdrv off 2>/dev/null
	ip netns pids "$NS_GEN" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns pids "$NS_RELAY" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS_GEN" 2>/dev/null
	ip netns del "$NS_RELAY" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

topo_up() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	ip netns add "$NS_GEN" && ip netns add "$NS_RELAY" || return 1
	ip link add "$DEV_G" netns "$NS_GEN" type veth peer name "$DEV_R" netns "$NS_RELAY" || return 1
	in_ns "$NS_GEN" ip link set lo up
	in_ns "$NS_RELAY" ip link set lo up
	in_ns "$NS_GEN" ip addr add "$CLIENT_IP/24" dev "$DEV_G"
	in_ns "$NS_GEN" ip addr add "${PEER%:*}/24" dev "$DEV_G"
	in_ns "$NS_RELAY" ip addr add "$RELAY_IP/24" dev "$DEV_R"
	in_ns "$NS_GEN" ip link set "$DEV_G" up
	in_ns "$NS_RELAY" ip link set "$DEV_R" up
	# finished checksums from local sockets; GRO gives each end a NAPI instance, which threaded
	# NAPI then runs in a kernel thread that can be pinned
	in_ns "$NS_GEN" ethtool -K "$DEV_G" tx off gro on >/dev/null
	in_ns "$NS_RELAY" ethtool -K "$DEV_R" tx off gro on >/dev/null
	sysfs_write "$NS_GEN" "$DEV_G" 1 threaded
	sysfs_write "$NS_RELAY" "$DEV_R" 1 threaded
	# veth hands XDP_TX frames to its peer end only while that end runs XDP (it queues them
	# without waking the peer's NAPI otherwise, and once the ring is full the pair is stuck):
	# a pass-through program (the steering program with nothing to steer) stays on the
	# generator's end for the whole run; xturn-load --xdp-replace swaps its own in per run.
	in_ns "$NS_GEN" ip link set dev "$DEV_G" xdpdrv \
		obj "$build/tools/xturn-load/steer.bpf.o" sec xdp || return 1
	# bounded: one ping with a 1 s limit
	in_ns "$NS_GEN" ping -c 1 -W 1 "$RELAY_IP" >/dev/null
}

napi_tids() {
	ps -eo pid=,comm= | awk -v p="napi/$1-" 'index($2, p) == 1 { print $1 }'
}

pin_napi() {
	local t
	for t in $(napi_tids "$DEV_R"); do
		taskset -p -c 1 "$t" >/dev/null
		chrt -f -p 50 "$t"
	done
	for t in $(napi_tids "$DEV_G"); do
		taskset -p -c 0 "$t" >/dev/null
		chrt -f -p 50 "$t"
	done
}

# Run time in ns (schedstat) summed over the given /proc/PID or /proc/PID/task/TID directories.
run_ns() {
	local t v s=0
	for t in "$@"; do
		read -r v _ <"$t/schedstat" 2>/dev/null && s=$((s + v))
	done
	echo $s
}

# "relay-process-ns napi-ns ksoftirqd1-ns cpu1-busy-ns"
cpu_snapshot() {
	local tasks=() napi=() p t k busy
	for p in "${relay_pids[@]}"; do
		[[ -d /proc/$p ]] && for t in /proc/"$p"/task/*; do tasks+=("$t"); done
	done
	for t in $(napi_tids "$DEV_R"); do napi+=("/proc/$t"); done
	k=$(ps -eo pid=,comm= | awk '$2 == "ksoftirqd/1" { print "/proc/" $1 }')
	busy=$(awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu1" { printf "%.0f", ($2 + $3 + $4 + $7 + $8 + $9) * (1000000000 / hz) }' /proc/stat)
	echo "$(run_ns "${tasks[@]}") $(run_ns "${napi[@]}") $(run_ns $k) $busy"
}

# Where packets were dropped on the wire between the two: "rx_drop tx_drop xdp_tx_errors" of one
# veth end (/proc/net/dev of the namespace, ethtool's per-queue XDP counters).
dev_drops() {
	local ns=$1 dev=$2 d x
	d=$(in_ns "$ns" awk -v dev="$dev:" '$1 == dev { print $5, $13 }' /proc/net/dev)
	x=$(in_ns "$ns" ethtool -S "$dev" 2>/dev/null | awk '/xdp_tx_errors/ { s += $2 } END { print s + 0 }')
	echo "${d:-0 0} $x"
}

# UDP datagrams the relay namespace's sockets dropped (receive buffer full): coturn's queue.
relay_sock_drops() {
	in_ns "$NS_RELAY" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 + 0; exit }' /proc/net/snmp
}

metrics_relayed() {
	in_ns "$NS_RELAY" curl -s -m 1 "http://127.0.0.1:9641/metrics" 2>/dev/null |
		awk '/^xturn_data_relayed_packets_total\{path="ebpf"/ { e += $2 }
		     /^xturn_data_relayed_packets_total\{path="userspace"/ { u += $2 }
		     END { printf "%d %d\n", e, u }'
}

write_xturnd_config() {
	cat >"$tmp/xturnd.yaml" <<EOF
interface: $DEV_R
addresses: [$RELAY_IP]
listen_port: $PORT
relay_ports: {min: 49152, max: 49999}
realm: $REALM
auth:
  users:
    - {username: $USER_NAME, password: $PASSWORD}
allocations: {default_lifetime: 600, max_lifetime: 3600, max_per_user: 4096, max_total: 10000}
peers:
  deny: [default]
  allow: [198.18.0.0/24]
xdp: {mode: native, zero_copy: auto, fast_path: $1, queues: all}
metrics: {listen: "127.0.0.1:9641"}
log: {level: warn, format: text}
EOF
}

# coturn with the settings xturnd has: one UDP listener on the relay address, the same relay port
# range, long-term credentials in the same realm, the test peers explicitly allowed, no TCP, TLS,
# DTLS or CLI, and one relay thread (xturnd runs one worker per queue; this veth has one).
write_coturn_config() {
	cat >"$tmp/turnserver.conf" <<EOF
listening-ip=$RELAY_IP
relay-ip=$RELAY_IP
listening-port=$PORT
min-port=49152
max-port=49999
realm=$REALM
lt-cred-mech
user=$USER_NAME:$PASSWORD
fingerprint
no-tcp
no-tls
no-dtls
no-tcp-relay
no-cli
no-rfc5780
no-multicast-peers
allowed-peer-ip=198.18.0.0-198.18.0.255
relay-threads=1
user-quota=4096
total-quota=10000
userdb=$tmp/turndb
pidfile=$tmp/turnserver.pid
log-file=stdout
simple-log
no-software-attribute
EOF
}

relay_start() {
	local s=$1 ok=0
	case $s in
	fastpath | afxdp)
		write_xturnd_config "$([[ $s == fastpath ]] && echo true || echo false)"
		# bounded: 5 attempts; the kernel frees the previous run's AF_XDP socket (held by its
		# XSKMAP) a little after that process exits, and until then the queue is busy
		for attempt in 1 2 3 4 5; do
			# nsenter, nice and taskset exec each other: $! is the relay's own pid
			nsenter --net="/var/run/netns/$NS_RELAY" nice -n -10 taskset -c 1 \
				"$build/xturnd" -c "$tmp/xturnd.yaml" >"$tmp/relay-$s.log" 2>&1 &
			relay_pids=($!)
			# bounded: 50 x 0.1 s
			for _ in $(seq 50); do
				in_ns "$NS_RELAY" curl -sf -m 1 http://127.0.0.1:9641/healthz >/dev/null &&
					{ ok=1; break; }
				kill -0 "${relay_pids[0]}" 2>/dev/null || break
				sleep 0.1
			done
			((ok)) && break
			grep -q "resource busy" "$tmp/relay-$s.log" || break
			wait "${relay_pids[0]}" 2>/dev/null
			echo "bench_relay: $s: AF_XDP queue still busy (attempt $attempt), retrying" >&2
			sleep 0.5
		done
		;;
	coturn)
		write_coturn_config
		nsenter --net="/var/run/netns/$NS_RELAY" nice -n -10 taskset -c 1 turnserver \
			-c "$tmp/turnserver.conf" >"$tmp/relay-$s.log" 2>&1 &
		relay_pids=($!)
		for _ in $(seq 50); do
			in_ns "$NS_RELAY" ss -Hlun "src $RELAY_IP:$PORT" 2>/dev/null | grep -q . && { ok=1; break; }
			kill -0 "${relay_pids[0]}" 2>/dev/null || break
			sleep 0.1
		done
		;;
	reflector)
		relay_pids=()
		in_ns "$NS_RELAY" ip link set dev "$DEV_R" xdpdrv \
			obj "$build/tools/bench/reflector.bpf.o" sec xdp >"$tmp/relay-$s.log" 2>&1 && ok=1
		;;
	esac
	if ((!ok)); then
		echo "bench_relay: $s did not start:" >&2
		tail -n 5 "$tmp/relay-$s.log" >&2
		cp "$tmp/relay-$s.log" "$out_dir/relay-$s.failed.log"
		relay_stop
		return 1
	fi
	pin_napi
	return 0
}

# One measurement: scenario, size, phase (fixed | sat), round. Appends one JSON line to $samples.
measure() {
	local s=$1 len=$2 phase=$3 round=$4 args before after m0 m1 d0 d1 json rc
	args=(--bind "$CLIENT_IP" -n "$FLOWS" --size "$len" -d "$SECONDS_PER_RUN" --json -q
		--mode "$GEN_MODE" --xdp-replace --drain-ms 300 --batch "$BURST")
	if [[ $phase == fixed && $s == reflector ]]; then
		# the same packet rate through the relay core: a relay carries each round trip twice
		args+=(--rate $((2 * RATE)))
	elif [[ $phase == fixed ]]; then
		args+=(--rate "$RATE")
	else
		args+=(--rate 0 --window "$WINDOW")
	fi
	if [[ $s == reflector ]]; then
		args+=(--raw --server "$RELAY_IP:$PORT")
	else
		args+=(--server "$RELAY_IP:$PORT" --user "$USER_NAME" --password "$PASSWORD"
			--peer "$PEER" --local-echo)
	fi
	pin_napi
	m0=$(metrics_relayed)
	d0="$(dev_drops "$NS_RELAY" "$DEV_R") $(dev_drops "$NS_GEN" "$DEV_G") $(relay_sock_drops)"
	# The CPU window covers the whole loader run (set-up and drain included: a few dozen
	# control packets against hundreds of thousands relayed).
	before=$(cpu_snapshot)
	json=$(in_ns "$NS_GEN" nice -n -10 taskset -c 0 timeout $((SECONDS_PER_RUN + 30)) "$build/xturn-load" \
		"${args[@]}" 2>"$tmp/load.err")
	rc=$?
	after=$(cpu_snapshot)
	m1=$(metrics_relayed)
	d1="$(dev_drops "$NS_RELAY" "$DEV_R") $(dev_drops "$NS_GEN" "$DEV_G") $(relay_sock_drops)"
	if ((${#relay_pids[@]})) && ! kill -0 "${relay_pids[0]}" 2>/dev/null; then
		echo "bench_relay: $s exited during the $len-byte $phase run; its log:" >&2
		tail -n 5 "$tmp/relay-$s.log" >&2
		cp "$tmp/relay-$s.log" "$out_dir/relay-$s.failed.log"
	fi
	if ((rc != 0)) || [[ $json != "{"* ]]; then
		echo "bench_relay: $s $len $phase: xturn-load failed (exit $rc): $(tail -n 2 "$tmp/load.err")" >&2
		failures=$((failures + 1))
		return 1
	fi
	printf '{"scenario":"%s","size":%s,"phase":"%s","round":%s,"cpu_before":[%s],"cpu_after":[%s],"metrics_before":[%s],"metrics_after":[%s],"drops_before":[%s],"drops_after":[%s],"load":%s}\n' \
		"$s" "$len" "$phase" "$round" "${before// /,}" "${after// /,}" \
		"${m0// /,}" "${m1// /,}" "${d0// /,}" "${d1// /,}" "$json" >>"$samples"
	# settle: late packets of this run must not count in the next
	sleep 0.2
}

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "bench_relay: load average before: $(load_avg) ($(nproc) CPUs); $ROUNDS round(s) of" \
	"${SECONDS_PER_RUN}s runs, fixed rate $RATE pps, $FLOWS flows, generator mode $GEN_MODE"
load_before=$(load_avg)
topo_up || { echo "bench_relay: topology set-up failed" >&2; exit 1; }
pin_napi
if [[ -z $(napi_tids "$DEV_R") || -z $(napi_tids "$DEV_G") ]]; then
	echo "bench_relay: no NAPI threads for $DEV_R/$DEV_G: relay CPU would be misattributed" >&2
	exit 1
fi

read -r -a order <<<"$SCENARIOS"
t0=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
	# A B C D, D C B A, B C D A, A D C B, ...: each scenario takes every position over rounds
	if ((round % 2 == 0)); then
		seq_now=()
		for ((i = ${#order[@]} - 1; i >= 0; i--)); do seq_now+=("${order[i]}"); done
	else
		k=$(((round / 2) % ${#order[@]}))
		seq_now=("${order[@]:k}" "${order[@]:0:k}")
	fi
	for s in "${seq_now[@]}"; do
		echo "bench_relay: round $round: $s"
		if ! relay_start "$s"; then
			failures=$((failures + 1))
			continue
		fi
		for len in $SIZES; do
			measure "$s" "$len" fixed "$round"
			measure "$s" "$len" sat "$round"
		done
		relay_stop
	done
done
load_after=$(load_avg)
echo "bench_relay: measured in $(($(date +%s) - t0)) s; load average after: $load_after"

python3 "$here/relay_report.py" "$samples" "$out_dir" \
	"{\"load_before\":\"$load_before\",\"load_after\":\"$load_after\",\"cpus\":$(nproc),\"kernel\":\"$(uname -r)\",\"seconds_per_run\":$SECONDS_PER_RUN,\"rounds\":$ROUNDS,\"rate\":$RATE,\"flows\":$FLOWS,\"window\":$WINDOW,\"gen_mode\":\"$GEN_MODE\"}" ||
	failures=$((failures + 1))
((failures == 0))
