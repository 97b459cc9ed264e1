#!/usr/bin/env bash
# tests/integration/test_load.sh BUILD_DIR — xturn-load against a running xturnd (root).
#
# Its own two-namespace topology (the benchmark's, tools/bench/bench_relay.sh): one veth pair, the
# generator's end holding the client (198.18.0.10) and peer (198.18.0.20) addresses, a
# pass-through XDP program on it (veth hands XDP_TX frames to its peer end only while that end runs
# XDP). Asserts what xturn-load reports, in JSON, for each way of running it: AF_XDP and UDP
# sockets, long-term and REST credentials, its own echo, the echo and sink roles, IPv6, the count
# and duration bounds, and a refused credential. Prints "N passed, M failed" last.
set -uo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
LOAD=$build/xturn-load
PFX=xtFi$$
NS_G=$PFX-gen
NS_R=$PFX-relay
DEV_G=xFi$$g
DEV_R=xFi$$r
tmp=$(mktemp -d /tmp/xtF-load.XXXXXX)
passed=0
failed=0
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$NS_G" "$NS_R"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

g() { nsenter --net="/var/run/netns/$NS_G" "$@"; }
r() { nsenter --net="/var/run/netns/$NS_R" "$@"; }

check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
}

finish() {
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit
}

# json FILE EXPR: evaluates a Python expression over the JSON object j in FILE (exit 0 if true).
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

for f in "$build/xturnd" "$LOAD" "$build/tools/xturn-load/steer.bpf.o"; do
	[[ -e $f ]] || { echo "missing $f"; check "built" false; finish; }
done

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$NS_G" && ip netns add "$NS_R" &&
	ip link add "$DEV_G" netns "$NS_G" type veth peer name "$DEV_R" netns "$NS_R" ||
	{ check "topology" false; finish; }
g ip link set lo up
r ip link set lo up
g sysctl -qw net.ipv6.conf.all.accept_dad=0
r sysctl -qw net.ipv6.conf.all.accept_dad=0
g ip addr add 198.18.0.10/24 dev "$DEV_G"
g ip addr add 198.18.0.20/24 dev "$DEV_G"
g ip -6 addr add fd98:18::10/64 dev "$DEV_G" nodad
g ip -6 addr add fd98:18::20/64 dev "$DEV_G" nodad
r ip addr add 198.18.0.1/24 dev "$DEV_R"
r ip -6 addr add fd98:18::1/64 dev "$DEV_R" nodad
g ip link set "$DEV_G" up
r ip link set "$DEV_R" up
g ethtool -K "$DEV_G" tx off gro on >/dev/null
r ethtool -K "$DEV_R" tx off gro on >/dev/null
check "pass-through XDP program on the generator's end" \
	g ip link set dev "$DEV_G" xdpdrv obj "$build/tools/xturn-load/steer.bpf.o" sec xdp

cat >"$tmp/xturnd.yaml" <<EOF
interface: $DEV_R
addresses: [198.18.0.1, "fd98:18::1"]
listen_port: 3478
relay_ports: {min: 49152, max: 49999}
realm: load.test
auth:
  users:
    - {username: alice, password: wonderland}
  secrets: [load-secret]
allocations: {default_lifetime: 600, max_lifetime: 3600, max_per_user: 256, max_total: 1000}
peers:
  deny: [default]
  allow: [198.18.0.0/24, "fd98:18::/64"]
xdp: {mode: native, zero_copy: auto, fast_path: true, queues: all}
metrics: {listen: "127.0.0.1:9641"}
log: {level: warn, format: text}
EOF
r "$build/xturnd" -c "$tmp/xturnd.yaml" >"$tmp/xturnd.log" 2>&1 &
pids+=($!)
up=1
for _ in $(seq 50); do # bounded: 5 s
	r curl -sf -m 1 http://127.0.0.1:9641/healthz >/dev/null && { up=0; break; }
	sleep 0.1
done
check "xturnd up" test $up -eq 0
((up == 0)) || { cat "$tmp/xturnd.log"; finish; }

ebpf_relayed() {
	r curl -s -m 1 http://127.0.0.1:9641/metrics |
		awk '/^xturn_data_relayed_packets_total\{path="ebpf"/ { s += $2 } END { print s + 0 }'
}

allocations_active() {
	r curl -s -m 1 http://127.0.0.1:9641/metrics | awk '/^xturn_allocations_active / { print $2 }'
}

LT=(--server 198.18.0.1:3478 --user alice --password wonderland)
OUT=$tmp/out.json

# 1. AF_XDP, long-term credentials, its own echo: every packet back, through the fast path.
e0=$(ebpf_relayed)
g timeout 20 "$LOAD" "${LT[@]}" --peer 198.18.0.20:40000 --local-echo -n 4 --rate 20000 \
	--count 2000 -d 5 --mode xdp --xdp-replace --json -q >"$OUT" 2>"$tmp/err"
check "xdp: exit 0" test $? -eq 0
check "xdp: mode reported" json "$OUT" 'j["mode"] == "xdp" and j["flows"] == 4'
check "xdp: 2000 sent (--count), 2000 back, none bad or reordered" \
	json "$OUT" 'j["sent"] == 2000 and j["received"] == 2000 and j["bad"] == 0 and j["reordered"] == 0'
check "xdp: the peer side echoed each one" json "$OUT" 'j["echoed"] == 2000'
check "xdp: round-trip percentiles ordered" \
	json "$OUT" '0 < j["rtt_us"]["p50"] <= j["rtt_us"]["p99"] <= j["rtt_us"]["p999"] <= j["rtt_us"]["max"]'
e1=$(ebpf_relayed)
check "xdp: xturnd relayed both directions in the kernel ($((e1 - e0)))" test $((e1 - e0)) -ge 4000
check "the generator's pass-through program is back after the run" \
	bash -c "nsenter --net=/var/run/netns/$NS_G ip link show $DEV_G | grep -q xturn_load_stee"

# 2. kernel UDP sockets, REST credentials.
g timeout 20 "$LOAD" --server 198.18.0.1:3478 --secret load-secret --user bob \
	--peer 198.18.0.20:40001 --local-echo -n 3 --rate 10000 --count 1000 -d 5 --mode udp \
	--json -q >"$OUT" 2>"$tmp/err"
check "udp + REST: exit 0" test $? -eq 0
check "udp + REST: 1000 sent, 1000 back" \
	json "$OUT" 'j["mode"] == "udp" and j["sent"] == 1000 and j["received"] == 1000 and j["bad"] == 0'
check "every run deleted its allocations on the way out (active: $(allocations_active))" \
	test "$(allocations_active)" = 0

# 3. the echo role as a separate process, the client on AF_XDP.
g timeout 20 "$LOAD" --role echo --listen 198.18.0.20:40002 -d 10 --json >"$tmp/echo.json" 2>&1 &
epid=$!
pids+=($epid)
sleep 0.3
g timeout 20 "$LOAD" "${LT[@]}" --peer 198.18.0.20:40002 -n 2 --rate 5000 --count 500 -d 5 \
	--xdp-replace --json -q >"$OUT" 2>"$tmp/err"
check "external echo: 500 sent, 500 back" json "$OUT" 'j["sent"] == 500 and j["received"] == 500'
kill -INT $epid 2>/dev/null
wait $epid 2>/dev/null
check "echo role: stops on SIGINT with its summary (500 echoed)" \
	json "$tmp/echo.json" 'j["role"] == "echo" and j["received"] == 500 and j["echoed"] == 500'

# 4. the sink role: one-way delay, sequence gaps, nothing sent back.
g timeout 20 "$LOAD" --role sink --listen 198.18.0.20:40003 --count 800 -d 10 --json \
	>"$tmp/sink.json" 2>&1 &
spid=$!
pids+=($spid)
sleep 0.3
g timeout 20 "$LOAD" "${LT[@]}" --peer 198.18.0.20:40003 -n 2 --rate 8000 --count 800 -d 5 \
	--drain-ms 50 --xdp-replace --json -q >"$OUT" 2>"$tmp/err"
wait $spid
check "sink role: ends at --count with 800 received in order" \
	json "$tmp/sink.json" 'j["received"] == 800 and j["reordered"] == 0 and j["bad"] == 0 and j["sent"] == 800'
check "sink role: one-way delays measured" json "$tmp/sink.json" 'j["one_way_us"]["count"] == 800'
check "client facing a sink: nothing comes back" json "$OUT" 'j["sent"] == 800 and j["received"] == 0'

# 5. IPv6 end to end, both I/O paths.
for m in xdp udp; do
	g timeout 20 "$LOAD" --server "[fd98:18::1]:3478" --user alice --password wonderland \
		--peer "[fd98:18::20]:40004" --local-echo -n 2 --rate 5000 --count 500 -d 5 \
		--mode $m --xdp-replace --json -q >"$OUT" 2>"$tmp/err"
	check "IPv6 $m: 500 sent, 500 back" \
		json "$OUT" "j['mode'] == '$m' and j['sent'] == 500 and j['received'] == 500"
done

# 6. the duration bound: 1000 pps for 0.5 s is about 500 packets, and the run ends on time.
t0=$(date +%s%N)
g timeout 20 "$LOAD" "${LT[@]}" --peer 198.18.0.20:40005 --local-echo --rate 1000 -d 0.5 \
	--xdp-replace --json -q >"$OUT" 2>"$tmp/err"
t1=$(date +%s%N)
check "duration: ~500 sent in 0.5 s at 1000 pps" json "$OUT" '450 <= j["sent"] <= 550'
check "duration: finished within 3 s (set-up and drain included)" \
	test $(((t1 - t0) / 1000000)) -lt 3000

# 7. refused credentials: exit 1, the server's answer named.
g timeout 20 "$LOAD" --server 198.18.0.1:3478 --user alice --password nope \
	--peer 198.18.0.20:40000 -d 0.2 -q >"$OUT" 2>"$tmp/err"
check "wrong password: exit 1" test $? -eq 1
check "wrong password: 401 reported" grep -q "error 401" "$tmp/err"
# a peer outside the allow list: 403 on CreatePermission
g timeout 20 "$LOAD" "${LT[@]}" --peer 10.1.2.3:40000 -d 0.2 -q >"$OUT" 2>"$tmp/err"
check "forbidden peer: 403 reported" grep -q "CreatePermission: server answered error 403" "$tmp/err"
check "forbidden peer: the allocation made before the 403 was deleted" \
	test "$(allocations_active)" = 0
# usage errors: exit 2
g "$LOAD" --rate -5 >/dev/null 2>&1
check "bad option value: exit 2" test $? -eq 2

finish
