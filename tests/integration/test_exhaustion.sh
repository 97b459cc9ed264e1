#!/usr/bin/env bash
# test_exhaustion.sh BUILD_DIR — xturnd when its resources run out, on a namespace topology, as root.
#
# A relay port range of 3 ports, a quota of 2 allocations per user, 8 s lifetimes, and fast-path maps
# of 2 channels (XTURN_TEST_MAX_CHANNELS, app/daemon.c's test-only knob). Three clients bind a
# channel each: the third finds the maps full, which is counted (xturn_fastpath_events_total
# {event="map_full"}) and changes nothing for the client: its ChannelBind succeeds and its data is
# relayed by user space. Then a third allocation of one user is refused 486 and a fourth allocation
# 508; once the allocations expire (no Refresh, no delete), both succeed again and every channel the
# fast path held has been removed from the maps. Prints "N passed, M failed" last.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# this test's namespaces carry its own prefix (lib.sh's xt_init names them xtD<pid>)
XT_PREFIX=xtG
xt_init "${1:?usage: test_exhaustion.sh BUILD_DIR}"

CFG=$XT_TMP/xturnd.yaml
LIFETIME=8

start_echo_peer || check "echo peer started" false
xt_config "$CFG"
sed -i -e 's/^relay_ports:.*/relay_ports: {min: 49152, max: 49154}/' \
	-e "s/^allocations:.*/allocations: {default_lifetime: $LIFETIME, max_lifetime: $LIFETIME, max_per_user: 2, max_total: 1000}/" \
	"$CFG"
export XTURN_TEST_MAX_CHANNELS=2
check_start "xturnd starts (3 relay ports, quota 2, maps of 2 channels)" "$CFG"
unset XTURN_TEST_MAX_CHANNELS
check "the test knob is logged" grep -q "XTURN_TEST_MAX_CHANNELS=2" "$XT_LOG"

# echo_as USER PASSWORD CHANNEL: one client: allocate, bind CHANNEL to the echo peer, 20 datagrams.
echo_as() {
	tc --user "$1" --password "$2" --peer "$PEER4:$ECHO_PORT" --channel "$3" --count 20 \
		--recv-timeout 1 echo
}

t_start=$(date +%s)
out1=$(echo_as test test-password 0x4001)
out2=$(echo_as test test-password 0x4002)
m_before=$(metrics)
out3=$(echo_as other other-password 0x4003)
m_after=$(metrics)
check "channel 1 (fast path): echo 20/20" eq "$(kv received "$out1")" 20
check "channel 2 (fast path): echo 20/20" eq "$(kv received "$out2")" 20
check "channel 3 (maps full): ChannelBind succeeds, echo 20/20" eq "$(kv received "$out3")" 20
check "maps full: counted as map_full" \
	eq "$(metric 'xturn_fastpath_events_total{event="map_full"}' "$m_after")" 1
check "maps full: two channels installed" \
	eq "$(metric 'xturn_fastpath_events_total{event="installed"}' "$m_after")" 2
ub=$(($(relayed userspace to_peer "$m_after") - $(relayed userspace to_peer "$m_before")))
eb=$(($(relayed ebpf to_peer "$m_after") - $(relayed ebpf to_peer "$m_before")))
xt_log "channel 3: $ub bytes to the peer through user space, $eb through the fast path"
check "maps full: channel 3 relayed by user space (2000 bytes to the peer)" eq "$ub" 2000
check "maps full: nothing of channel 3 through the fast path" eq "$eb" 0

# ---- quotas: 486 for the user, 508 for the port range ----
out=$(tc --user test --password test-password auth)
check "third allocation of user test: 486" eq "$(kv result "$out")" refused_486
out=$(tc --user other --password other-password auth)
check "fourth allocation (3 ports in use): 508" eq "$(kv result "$out")" refused_508
check "three allocations active" eq "$(metric xturn_allocations_active)" 3
elapsed=$(($(date +%s) - t_start))
((elapsed < LIFETIME)) || xt_log "warning: set-up took ${elapsed} s, close to the ${LIFETIME} s lifetime"

# ---- expiry gives everything back ----
for ((i = 0; i < 100; i++)); do
	[[ $(metric xturn_allocations_active) == 0 ]] && break
	sleep 0.2
done
check "all three allocations expire (no Refresh)" eq "$(metric xturn_allocations_active)" 0
m=$(metrics)
check "expiry removed both installed channels from the maps" \
	eq "$(metric 'xturn_fastpath_events_total{event="removed"}' "$m")" 2
check "no channel left" eq "$(metric xturn_channels_active "$m")" 0
out=$(tc --user test --password test-password auth)
check "after expiry: user test allocates again" eq "$(kv result "$out")" allocated
out=$(tc --user test --password test-password auth)
check "after expiry: and again (quota 2)" eq "$(kv result "$out")" allocated
out=$(tc --user other --password other-password auth)
check "after expiry: a third port is free" eq "$(kv result "$out")" allocated
out=$(tc --user other --password other-password auth)
check "after expiry: 508 again once the range is full again" eq "$(kv result "$out")" refused_508
xt_finish
