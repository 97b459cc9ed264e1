# tests/integration/lib.sh — shared helpers of the integration tests; source it, then call xt_init.
#
#   source "$(dirname "$0")/lib.sh"
#   xt_init "$1"                 # BUILD_DIR; makes the topology (tools/topology.sh) under prefix $P
#   xt_config FILE [KEY=VALUE...] # writes an xturnd config (see xt_config below for the keys)
#   xt_start FILE                # runs xturnd in $P-relay, waits for /healthz (bounded)
#   check_start NAME FILE        # the same, counted as an assertion
#   check NAME CMD...            # one assertion: CMD's exit status 0 = pass
#   known_bug NAME WHY CMD...    # an assertion that a known bug elsewhere makes fail (not counted)
#   xt_finish                    # prints "N passed, M failed" and returns non-zero on failure
#
# Everything is torn down by an EXIT trap: xturnd and helper processes (killed by pid), the
# namespaces (topo_down), the temporary directory. Every wait is bounded.

XT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XT_TESTS=$XT_ROOT/tests/integration
TURNCLIENT=$XT_TESTS/turnclient.py
UDP_ECHO=$XT_TESTS/udp_echo.py
source "$XT_ROOT/tools/topology.sh"

XT_PASSED=0
XT_FAILED=0
XT_PID=
XT_BG_PIDS=()
XT_METRICS=127.0.0.1:9641
RELAY4=198.18.0.1 RELAY6=fd98:18::1
CLIENT4=198.18.0.10 CLIENT2_4=198.18.0.11 PEER4=198.18.0.20 PEER6=fd98:18::20
ECHO_PORT=3490

xt_log() { printf '# %s\n' "$*"; }

xt_cleanup() {
	local pid
	[[ -n $XT_PID ]] && kill -9 "$XT_PID" 2>/dev/null
	for pid in "${XT_BG_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null # reaps them here, quietly (no "Killed" lines)
	[[ -n ${P:-} ]] && topo_down "$P"
	[[ -n ${XT_TMP:-} && -d $XT_TMP ]] && rm -rf "$XT_TMP"
	return 0
}

# xt_init BUILD_DIR: checks the binary, makes the namespace topology, installs the trap.
xt_init() {
	XT_BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
	XTURND=$XT_BUILD/xturnd
	P=${XT_PREFIX:-xtD}$$ # XT_PREFIX: a test family's own namespace prefix
	XT_TMP=$(mktemp -d /tmp/xt-integ.XXXXXX)
	trap xt_cleanup EXIT
	trap 'exit 130' INT TERM
	if [[ ! -x $XTURND ]]; then
		echo "no xturnd in $XT_BUILD"
		check "xturnd is built" false
		xt_finish
		exit 1
	fi
	if ! topo_up "$P" >"$XT_TMP/topo.log" 2>&1; then
		cat "$XT_TMP/topo.log"
		check "topology up" false
		xt_finish
		exit 1
	fi
}

# check NAME CMD...: runs CMD (output kept quiet unless it fails) and counts the result.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		XT_PASSED=$((XT_PASSED + 1))
		echo "ok   - $name"
	else
		XT_FAILED=$((XT_FAILED + 1))
		echo "FAIL - $name"
		[[ -n $out ]] && printf '       %s\n' "${out//$'\n'/$'\n       '}"
	fi
	return 0
}

# Assertions usable as check commands; each says what it saw when it fails.
eq() { [[ $1 == "$2" ]] || { echo "expected '$2', got '$1'"; return 1; }; }
ge() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2)) || { echo "expected >= $2, got '$1'"; return 1; }; }
le() { [[ $1 =~ ^[0-9]+$ ]] && (($1 <= $2)) || { echo "expected <= $2, got '$1'"; return 1; }; }
contains() { grep -q -- "$2" <<<"$1" || { echo "'$2' not in: $1"; return 1; }; }
lacks() { ! grep -q -- "$2" <<<"$1" || { echo "'$2' unexpectedly in: $1"; return 1; }; }

# check_start NAME CONFIG: xt_start counted as one assertion (in this shell, so XT_PID survives).
check_start() {
	if xt_start "$2" >"$XT_TMP/start.out" 2>&1; then
		XT_PASSED=$((XT_PASSED + 1))
		echo "ok   - $1"
	else
		XT_FAILED=$((XT_FAILED + 1))
		echo "FAIL - $1"
		sed 's/^/       /' "$XT_TMP/start.out"
	fi
}

# known_bug NAME WHY CMD...: an assertion that fails today because of a bug owned elsewhere (WHY
# names it). A failure is printed as KNOWN and not counted, so that make check stays usable for
# everyone else; a pass counts as a pass and says the marker can go. XT_STRICT=1 counts failures.
XT_KNOWN=0
known_bug() {
	local name=$1 why=$2 out
	shift 2
	if [[ ${XT_STRICT:-0} == 1 ]]; then
		check "$name" "$@"
	elif out=$("$@" 2>&1); then
		XT_PASSED=$((XT_PASSED + 1))
		echo "ok   - $name (marked known_bug: $why; it passes now, drop the marker)"
	else
		XT_KNOWN=$((XT_KNOWN + 1))
		echo "KNOWN- $name [$why]"
		[[ -n $out ]] && printf '       %s\n' "${out//$'\n'/$'\n       '}"
	fi
	return 0
}

xt_finish() {
	((XT_KNOWN)) && echo "# $XT_KNOWN known bug(s) not counted (XT_STRICT=1 counts them)"
	echo "$XT_PASSED passed, $XT_FAILED failed"
	((XT_FAILED == 0))
}

# kv KEY TEXT: the value of the first KEY=value in TEXT (turnclient.py output), or empty.
kv() { grep -o -m1 -E "(^| )$1=[^ ]*" <<<"$2" | head -n1 | sed -E "s/^ ?$1=//"; }

# ---- configuration ----

# xt_config FILE [KEY=VALUE...]: an xturnd configuration for the topology. Keys (defaults):
#   fast_path=true  password=test-password  user=test  allow='[198.18.0.0/24, "fd98:18::/64"]'
#   deny='[default]'  extra=''  (raw YAML lines appended)
#   legacy_channels=auto (on when this xturnd knows allocations.legacy_channels; anything else: off)
xt_config() {
	local file=$1 k
	shift
	local fast_path=true password=test-password user=test extra= legacy= legacy_channels=auto
	local allow='[198.18.0.0/24, "fd98:18::/64"]' deny='[default]'
	for k in "$@"; do
		case ${k%%=*} in
		fast_path | password | user | allow | deny | extra | legacy_channels) local "$k" ;;
		*) echo "xt_config: unknown key $k" >&2; return 1 ;;
		esac
	done
	# RFC 5766 clients (turnutils_uclient) pick channels up to 0x7FFF; accept them when this
	# xturnd knows the option.
	[[ $legacy_channels == auto ]] && xt_has_legacy_channels && legacy=", legacy_channels: true"
	cat >"$file" <<EOF
# integration test configuration (tests/integration/lib.sh)
interface: xt-relay
addresses: [$RELAY4, "$RELAY6"]
listen_port: 3478
relay_ports: {min: 49152, max: 49999}
realm: test.xturn
auth:
  users:
    - {username: $user, password: $password}
    - {username: other, password: other-password}
allocations: {default_lifetime: 600, max_lifetime: 3600, max_per_user: 64, max_total: 1000$legacy}
peers:
  deny: $deny
  allow: $allow
xdp: {mode: auto, zero_copy: auto, fast_path: $fast_path, queues: all}
metrics: {listen: "$XT_METRICS"}
log: {level: info, format: text}
$extra
EOF
}

# xt_has_legacy_channels: true when this xturnd accepts allocations.legacy_channels (asked of the
# binary with --check-config, so that a stale build is not fed a key it refuses).
xt_has_legacy_channels() {
	if [[ -z ${XT_LEGACY:-} ]]; then
		printf '%s\n' "interface: xt-relay" "addresses: [$RELAY4]" "realm: probe" \
			"auth: {users: [{username: a, password: b}]}" \
			"allocations: {legacy_channels: true}" >"$XT_TMP/legacy-probe.yaml"
		"$XTURND" -c "$XT_TMP/legacy-probe.yaml" --check-config >/dev/null 2>&1 && XT_LEGACY=1 ||
			XT_LEGACY=0
	fi
	((XT_LEGACY))
}

# ---- xturnd ----

# xt_start CONFIG [LOG]: starts xturnd in the relay namespace and waits (<= 5 s) for /healthz.
# XT_PID is xturnd's own pid (nsenter execs it).
xt_start() {
	local cfg=$1 i
	XT_LOG=${2:-$XT_TMP/xturnd.log}
	nsenter --net="/var/run/netns/$P-relay" "$XTURND" -c "$cfg" >>"$XT_LOG" 2>&1 &
	XT_PID=$!
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$XT_PID" 2>/dev/null; then
			echo "xturnd exited during start-up:"
			tail -n 20 "$XT_LOG"
			XT_PID=
			return 1
		fi
		if in_ns "$P-relay" curl -sf --max-time 1 "http://$XT_METRICS/healthz" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "xturnd not healthy within 5 s:"
	tail -n 20 "$XT_LOG"
	return 1
}

# xt_stop [SIGNAL]: stops xturnd (default TERM), waits <= 3 s, then kills it. Sets XT_RC.
xt_stop() {
	local sig=${1:-TERM} i
	XT_RC=
	[[ -z $XT_PID ]] && return 0
	kill -"$sig" "$XT_PID" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		kill -0 "$XT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$XT_PID" 2>/dev/null; then
		kill -9 "$XT_PID" 2>/dev/null
	fi
	wait "$XT_PID" 2>/dev/null
	XT_RC=$?
	XT_PID=
}

# ---- metrics ----

# metrics: the whole /metrics text.
metrics() { in_ns "$P-relay" curl -s --max-time 2 "http://$XT_METRICS/metrics"; }

# metric SERIES [TEXT]: the value of one series, e.g.
#   metric 'xturn_data_relayed_bytes_total{path="ebpf",direction="to_peer"}'
# 0 when absent (counters not yet touched may be omitted).
metric() {
	local text=${2-$(metrics)}
	awk -v s="$1" '$1 == s { print $2; found = 1; exit } END { if (!found) print 0 }' <<<"$text"
}

# relayed PATH DIRECTION [TEXT]: bytes relayed on path ebpf|userspace towards to_peer|to_client.
relayed() { metric "xturn_data_relayed_bytes_total{path=\"$1\",direction=\"$2\"}" "${3-$(metrics)}"; }

# sighup RESULT: sends SIGHUP to xturnd ($XT_PID) and waits, at most 3 s, until
# xturn_config_reloads_total{result="RESULT"} (ok or error) has grown; the caller checks by how much.
sighup() {
	local series="xturn_config_reloads_total{result=\"$1\"}" before i
	before=$(metric "$series")
	kill -HUP "$XT_PID"
	for ((i = 0; i < 30; i++)); do
		(($(metric "$series") > before)) && return 0
		sleep 0.1
	done
	return 1
}

# ---- helpers in the namespaces ----

# bg NS CMD...: runs CMD in a namespace in the background, remembered for cleanup. Sets BG_PID.
bg() {
	local ns=$1
	shift
	nsenter --net="/var/run/netns/$ns" "$@" &
	BG_PID=$!
	XT_BG_PIDS+=("$BG_PID")
}

# start_echo_peer: the kernel UDP echo peer on the peer host, v4 and v6, port $ECHO_PORT.
start_echo_peer() {
	bg "$P-peer" python3 "$UDP_ECHO" --bind "$PEER4" --bind "$PEER6" --port "$ECHO_PORT" \
		--max-seconds 600 >"$XT_TMP/echo.log" 2>&1
	wait_for_line "$XT_TMP/echo.log" listening 50
}

# wait_for_line FILE PATTERN TENTHS: waits until FILE has a line matching PATTERN.
wait_for_line() {
	local i
	for ((i = 0; i < $3; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# tc ARGS...: turnclient.py in the client namespace, bounded by timeout(1).
tc() { in_ns "$P-client" timeout 60 python3 "$TURNCLIENT" "$@"; }

# start_relay_host_echo: a kernel UDP echo on the relay host itself, on RELAY_ECHO_PORT (7777: outside
# the listen port and the relay range), to show that non-TURN traffic still reaches its kernel.
RELAY_ECHO_PORT=7777
start_relay_host_echo() {
	bg "$P-relay" python3 "$UDP_ECHO" --bind "$RELAY4" --bind "$RELAY6" --port "$RELAY_ECHO_PORT" \
		--max-seconds 600 >"$XT_TMP/relay-echo.log" 2>&1
	wait_for_line "$XT_TMP/relay-echo.log" listening 50 || check "relay host echo started" false
}

# non_turn_ok LABEL: plain UDP to the relay host's echo and ICMP, v4 and v6, reach its kernel.
non_turn_ok() {
	local addr out
	for addr in "$RELAY4" "[$RELAY6]"; do
		out=$(tc --peer "$addr:$RELAY_ECHO_PORT" --count 3 --recv-timeout 1 udp)
		check "$1: UDP to $addr:$RELAY_ECHO_PORT reaches the relay host" eq "$(kv received "$out")" 3
	done
	check "$1: ICMP echo to $RELAY4" in_ns "$P-client" ping -c 2 -i 0.2 -W 1 "$RELAY4"
	check "$1: ICMPv6 echo to $RELAY6" in_ns "$P-client" ping -6 -c 2 -i 0.2 -W 1 "$RELAY6"
}

# xdp_attached: true when xt-relay carries an XDP program.
xdp_attached() { in_ns "$P-relay" ip link show dev xt-relay | grep -q 'xdp'; }

