#!/usr/bin/env bash
# test_lifecycle.sh BUILD_DIR — xturnd's signals and failures on a namespace topology, as root.
#
# SIGHUP reload: a changed password takes effect (old refused, new accepted) while an existing
# allocation stays usable and refreshable; a broken file on SIGHUP keeps the running configuration
# (xturnd stays up, the error is logged); a stricter peer policy revokes a permission in use and
# takes its channel out of the kernel. SIGTERM: exit 0 within 1 s, no XDP program left on the
# interface. kill -9: non-TURN traffic (UDP, ICMP) still reaches the host, and a new xturnd attaches
# and relays. Prints "N passed, M failed" last.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
xt_init "${1:?usage: test_lifecycle.sh BUILD_DIR}"

CFG=$XT_TMP/xturnd.yaml
LOG=$XT_TMP/xturnd.log

start_echo_peer || check "echo peer started" false
start_relay_host_echo

# ---- SIGHUP: new credentials, allocations kept ----
xt_config "$CFG" password=old-password
check_start "xturnd starts" "$CFG"
pid=$XT_PID

in_ns "$P-client" timeout 60 python3 "$TURNCLIENT" --user test --password old-password \
	--password2 new-password --peer "$PEER4:$ECHO_PORT" --count 20 \
	--wait-file "$XT_TMP/go" --hold-timeout 30 hold >"$XT_TMP/hold.out" 2>&1 &
hold=$!
XT_BG_PIDS+=("$hold")
wait_for_line "$XT_TMP/hold.out" READY 100
check "allocation held before the reload: channel echo works" \
	eq "$(kv received "$(grep phase=before "$XT_TMP/hold.out")")" 20

xt_config "$CFG" password=new-password
reloads=$(metric 'xturn_config_reloads_total{result="ok"}')
sighup ok
check "SIGHUP: reload counted as ok" eq "$(metric 'xturn_config_reloads_total{result="ok"}')" $((reloads + 1))
check "SIGHUP: reload logged" grep -q "reload: $CFG" "$LOG"
out=$(tc --user test --password old-password auth)
check "after reload: old password refused (401, 401)" eq "$(kv codes "$out")" "401,401"
out=$(tc --user test --password new-password auth)
check "after reload: new password accepted" eq "$(kv result "$out")" allocated

touch "$XT_TMP/go"
wait "$hold"
check "existing allocation refreshed with the new password" \
	eq "$(kv code "$(grep phase=refresh "$XT_TMP/hold.out")")" 0
check "existing allocation's channel still relays after the reload" \
	eq "$(kv received "$(grep phase=after "$XT_TMP/hold.out")")" 20

# ---- SIGHUP with a broken file: the running configuration stays ----
printf 'interface: xt-relay\nrealm: [unterminated\n' >"$CFG"
errors=$(metric 'xturn_config_reloads_total{result="error"}')
sighup error
check "broken file on SIGHUP: reload error counted" \
	eq "$(metric 'xturn_config_reloads_total{result="error"}')" $((errors + 1))
check "broken file on SIGHUP: error logged, naming the file" \
	grep -q "reload: .*$CFG.*keeping the running configuration" "$LOG"
check "broken file on SIGHUP: xturnd still running" kill -0 "$pid"
check "broken file on SIGHUP: still healthy" \
	in_ns "$P-relay" curl -sf --max-time 2 "http://$XT_METRICS/healthz"
out=$(tc --user test --password new-password auth)
check "broken file on SIGHUP: the last good credentials still work" eq "$(kv result "$out")" allocated

# ---- SIGHUP with a peer policy that refuses a peer in use: its permission and channel go ----
in_ns "$P-client" timeout 60 python3 "$TURNCLIENT" --user test --password new-password \
	--peer "$PEER4:$ECHO_PORT" --count 5 --recv-timeout 0.5 \
	--wait-file "$XT_TMP/go2" --hold-timeout 30 hold >"$XT_TMP/hold2.out" 2>&1 &
hold=$!
XT_BG_PIDS+=("$hold")
wait_for_line "$XT_TMP/hold2.out" READY 100
check "policy reload: the channel relays before it" \
	eq "$(kv received "$(grep phase=before "$XT_TMP/hold2.out")")" 5
xt_config "$CFG" password=new-password allow='["fd98:18::/64"]' deny="[default, \"$PEER4/32\"]"
reloads=$(metric 'xturn_config_reloads_total{result="ok"}')
sighup ok
check "policy reload: counted as ok" eq "$(metric 'xturn_config_reloads_total{result="ok"}')" $((reloads + 1))
# two: this client's, and the first held allocation's (still alive, same peer)
check "policy reload: both permissions to $PEER4 revoked" \
	eq "$(metric xturn_permissions_revoked_total)" 2
check "policy reload: logged" grep -q "2 permission(s) revoked by the peer policy" "$LOG"
m0=$(metrics)
touch "$XT_TMP/go2"
wait "$hold"
m1=$(metrics)
check "policy reload: the allocation itself still refreshes" \
	eq "$(kv code "$(grep phase=refresh "$XT_TMP/hold2.out")")" 0
check "policy reload: nothing reaches the refused peer or comes back" \
	eq "$(kv received "$(grep phase=after "$XT_TMP/hold2.out")")" 0
check "policy reload: nothing relayed in the kernel any more (channel unbound)" \
	eq "$(relayed ebpf to_peer "$m1")" "$(relayed ebpf to_peer "$m0")"

# ---- non-TURN traffic while xturnd runs ----
non_turn_ok "xturnd running"

# ---- SIGTERM: exit 0 within 1 s, XDP detached ----
check "XDP program attached while running" xdp_attached
t0=$(date +%s%N)
kill -TERM "$XT_PID"
for ((i = 0; i < 40; i++)); do
	kill -0 "$XT_PID" 2>/dev/null || break
	sleep 0.025
done
t1=$(date +%s%N)
wait "$XT_PID"
rc=$?
XT_PID=
ms=$(((t1 - t0) / 1000000))
xt_log "SIGTERM to exit: ${ms} ms"
check "SIGTERM: exits within 1 s (${ms} ms)" le "$ms" 1000
check "SIGTERM: exit status 0" eq "$rc" 0
check "SIGTERM: no XDP program left on xt-relay" bash -c "! nsenter --net=/var/run/netns/$P-relay \
	ip link show dev xt-relay | grep -q xdp"
non_turn_ok "after SIGTERM"

# ---- kill -9: the kernel keeps the host reachable; a new xturnd attaches cleanly ----
xt_config "$CFG" password=new-password
check_start "xturnd starts again" "$CFG"
kill -9 "$XT_PID"
wait "$XT_PID" 2>/dev/null
XT_PID=
if xdp_attached; then
	xt_log "after kill -9 an XDP program is still attached to xt-relay:"
	in_ns "$P-relay" ip -d link show dev xt-relay | grep -A1 xdp | sed 's/^/#   /'
else
	xt_log "after kill -9 no XDP program is attached to xt-relay"
fi
non_turn_ok "after kill -9"
# The XDP program was attached without a bpf_link (netlink), so it outlives its process; a new
# xturnd must take over (or replace) it rather than refuse to start.
XT_LOG=$XT_TMP/restart.log
xt_start "$CFG" "$XT_TMP/restart.log" >"$XT_TMP/restart.out" 2>&1
started=$?
check "restart after kill -9: xturnd attaches over the orphaned program" \
	bash -c "grep -iE 'error|attached' '$XT_TMP/restart.out' | head -n 3; exit $started"
if ((started != 0)); then
	xt_log "detaching the orphaned program by hand to go on"
	in_ns "$P-relay" ip link set dev xt-relay xdp off
	check_start "restart after detaching by hand" "$CFG"
fi
check "restarted xturnd: channel data relayed" eq "$(kv received "$(tc --user test \
	--password new-password --peer "$PEER4:$ECHO_PORT" --count 20 echo)")" 20
non_turn_ok "after restart"
xt_stop TERM
check "final SIGTERM: exit status 0" eq "$XT_RC" 0
check "final SIGTERM: no XDP program left" bash -c "! nsenter --net=/var/run/netns/$P-relay \
	ip link show dev xt-relay | grep -q xdp"

xt_finish
