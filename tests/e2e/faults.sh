#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Faults (docs/security.md): kill -9 of nattravd mid-stream leaves the pinned
# maps and the XDP program relaying verified media; a new daemon adopts the
# mappings and expires them once stale; killing a client (its TLS closes)
# removes its mapping within a bounded time; attaching the XDP program again
# over a running one (an upgrade) keeps the maps and the relaying.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CONSENT=4

. "$HERE/lib/relay_env.sh"
nt_relay_env ntf c1=none c2=none
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1  # bpf_fib_lookup

start_daemon() {
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --log-level debug --config none \
		--consent-window "$CONSENT" --allow 203.0.113.0/24 "$@" 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'
mapping_of() { grep -o '"event":"verified"[^}]*"mapping":"[^"]*"' "$1" | head -1 | sed 's/.*"mapping":"//;s/"$//'; }

# --- kill -9 mid-stream ----------------------------------------------------
start_daemon
client "$C1_NS" "$work/k1" --token "$(token alice)" --group k --send 0 --duration 4 &
a=$!
client "$C2_NS" "$work/k2" --token "$(token bob)" --group k --send 0 --duration 4 &
b=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/k1' && grep -q verified '$work/k2'"
m1=$(mapping_of "$work/k1") m2=$(mapping_of "$work/k2")
kill -9 "$(daemon_pid)"
wait $a || true
wait $b || true
check "kill -9: maps still pinned with both mappings" test "$(n_mappings)" -eq 2
check "kill -9: XDP program still attached" sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
fwd0=$(stat_of forwarded)
(nt_udp_recv "$C1_NS" "${m1##*:}" 3 0 0.0.0.0 || true) | wc -l >"$work/recv1" &
r=$!
sleep 0.5
nt_udp_send "$C2_NS" "${m2##*:}" "$RELAY_V4" 3478 50 "media after kill" "${m2%:*}"
wait $r || true
check "kill -9: media still relayed by XDP with no daemon ($(cat "$work/recv1") of 50)" test "$(cat "$work/recv1")" -ge 45
check "kill -9: the XDP program counted it as forwarded" test $(($(stat_of forwarded) - fwd0)) -ge 45

start_daemon
check "restart: the new daemon adopted both mappings" grep -q "adopted 2 mappings" "$work/daemon.log"
nt_wait_for -t $((CONSENT + 6)) sh -c "[ \$('$B/nattravctl' --pin-dir '$NT_PIN_DIR' mappings --json 2>/dev/null | grep -c '\"src\"') -eq 0 ]" || true
check "restart: stale adopted mappings expired" test "$(n_mappings)" -eq 0

# --- TLS closed: the session's entries go --------------------------------
client "$C1_NS" "$work/t1" --token "$(token carol)" --group t --send 0 --duration 30 &
t1=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/t1'"
check "client verified" test "$(n_mappings)" -eq 1

# --- XDP program swapped under live mappings ----------------------------
ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" >/dev/null 2>>"$work/attach.log" || true
check "upgrade: attach over the running program keeps the mappings" test "$(n_mappings)" -eq 1
check "upgrade: XDP still attached" sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"

kill -9 "$(pgrep -f "nattrav-client .*--group t ")"
wait $t1 || true
start=$(date +%s%N)
nt_wait_for -t 5 sh -c "[ \$('$B/nattravctl' --pin-dir '$NT_PIN_DIR' mappings --json 2>/dev/null | grep -c '\"src\"') -eq 0 ]" || true
check "TLS closed (client killed): mapping removed within 5 s ($((($(date +%s%N) - start) / 1000000)) ms)" test "$(n_mappings)" -eq 0

kill -TERM "$(daemon_pid)" || true
if [ "$NT_FAILED" -ne 0 ]; then
	grep -v "debug libbpf" "$work/daemon.log" | tail -3
	cat "$work/attach.log" 2>/dev/null | tail -5
fi
nt_summary
