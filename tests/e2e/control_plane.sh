#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole flow of DESIGN.md across namespaces with real NATs: nattravd on
# the relay, two nattrav-clients behind a cone and a symmetric NAT. They
# authenticate over TLS, verify their NAT mappings over UDP and exchange
# media through the XDP path; then the same with --xdp-mode off. Also: an
# unverified sender is dropped, a forged token refused, a silent client
# expires after the consent window, a NAT rebinding re-verifies, and closing
# the sessions leaves no map entry behind.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CONSENT=3

. "$HERE/lib/relay_env.sh"
nt_relay_env ntc c1=cone c2=symmetric c3=none

start_daemon() { # extra args...
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --consent-window "$CONSENT" --log-level debug \
		--allow 203.0.113.0/24 "$@" 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ grep -v 'debug libbpf' "$work/daemon.log" | tail -5; nt_fail "nattravd did not start"; }
}
nt_cleanup_push 'pkill -9 -f "nattravd .*--pin-dir $NT_PIN_DIR"'


pair_exchange() { # label: c1 and c2 each send 100 packets to the other
	local label=$1
	client "$C1_NS" "$work/$label-c1" --token "$(token alice)" --group "room-$label" --send 100 --rate 200 --wait 2 &
	local a=$!
	client "$C2_NS" "$work/$label-c2" --token "$(token bob)" --group "room-$label" --send 100 --rate 200 --wait 2 &
	local b=$!
	local ra=0 rb=0
	wait $a || ra=$?
	wait $b || rb=$?
	check "$label: both clients exit 0" test "$ra" -eq 0 -a "$rb" -eq 0
	check "$label: c1 verified behind its cone NAT ($C1_PUBLIC)" \
		sh -c "grep -q '\"verified\".*\"mapping\":\"$C1_PUBLIC:' '$work/$label-c1'"
	check "$label: c2 verified behind its symmetric NAT ($C2_PUBLIC)" \
		sh -c "grep -q '\"verified\".*\"mapping\":\"$C2_PUBLIC:' '$work/$label-c2'"
	check "$label: c1 received c2's 100 packets" test "$(json_field "$work/$label-c1" summary received)" -eq 100
	check "$label: c2 received c1's 100 packets" test "$(json_field "$work/$label-c2" summary received)" -eq 100
	check "$label: nobody received their own packets" \
		test "$(json_field "$work/$label-c1" summary own)" -eq 0 -a "$(json_field "$work/$label-c2" summary own)" -eq 0
}

# --- bad input at start: one clear line, exit 2, nothing attached ----------
daemon_exit() { # args... -> exit status of a daemon that must not start
	local rc=0
	nt_nsexec "$RELAY_NS" "$B/nattravd" --pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" \
		--key "$work/server.key" --auth-secret-file "$work/secret" "$@" \
		>/dev/null 2>"$work/start.err" || rc=$?
	echo "$rc"
}
check "unknown flag: exit 2" test "$(daemon_exit --iface "$RELAY_IF" --bogus)" -eq 2
check "missing interface: exit 2 with one line" \
	sh -c "[ $(daemon_exit --iface nosuch0) -eq 2 ] && [ \$(wc -l <'$work/start.err') -eq 1 ]"
check "bad media port: exit 2" test "$(daemon_exit --iface "$RELAY_IF" --media-port 70000)" -eq 2
check "unreadable secret: exit 2" \
	test "$(daemon_exit --iface "$RELAY_IF" --auth-secret-file /nonexistent)" -eq 2
check "nothing attached after refused starts" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"

# --- XDP path -------------------------------------------------------------
start_daemon
# A client that connects and never speaks must not stall anyone else.
ip netns exec "$C3_NS" python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 4433)); time.sleep(8)' "$RELAY_V4" &
silent_tcp=$!
fwd0=$(stat_of forwarded)
pair_exchange xdp
check "xdp: the XDP program forwarded the media (>= 200 packets)" test $(($(stat_of forwarded) - fwd0)) -ge 200
kill "$silent_tcp" 2>/dev/null || true

# An unverified sender: media straight at the media port without a session.
unv0=$(stat_of drop_unverified)
nt_udp_send "$C3_NS" 45000 "$RELAY_V4" 3478 20 "unverified media"
check "unverified media dropped by XDP and counted" test $(($(stat_of drop_unverified) - unv0)) -eq 20

# A forged token is refused, and nothing is written.
forged="$(token mallory | sed 's/:[^:]*$/:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=/')"
if client "$C3_NS" "$work/forged" --token "$forged" --group room-x --timeout 5; then rc=0; else rc=$?; fi
check "forged token refused (exit 1, ERR 403)" sh -c "[ $rc -eq 1 ] && grep -q '403' '$work/forged'"

# Sessions closed: nothing stale remains.
sleep 1
check "no mapping left after the clients closed" test "$(n_mappings)" -eq 0

# A client that goes silent is expired after the consent window: c3 joins,
# verifies, then its process is stopped (no keepalives, TLS stays open).
client "$C3_NS" "$work/silent" --token "$(token carol)" --group room-s --duration 30 &
silent=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/silent'"
check "silent client verified" test "$(n_mappings)" -eq 1
silent_pid=$(pgrep -f "nattrav-client .*--group room-s")
kill -STOP "$silent_pid"
sleep $((CONSENT + 2))
check "silent client's mapping expired after the consent window" test "$(n_mappings)" -eq 0
check "daemon logged the expiry" grep -q "consent expired" "$work/daemon.log"
kill -CONT "$silent_pid" 2>/dev/null || true
kill "$silent_pid" 2>/dev/null || true
wait "$silent" 2>/dev/null || true

# NAT rebinding: flush c2's NAT conntrack mid-stream; its next packets get a
# new external port, it re-verifies, and media flows again.
client "$C1_NS" "$work/rb-c1" --token "$(token alice)" --group room-rb --duration 8 &
a=$!
client "$C2_NS" "$work/rb-c2" --token "$(token bob)" --group room-rb --send 700 --rate 100 --wait 1 &
b=$!
sleep 3
# only UDP: the TLS connection must survive (a real rebinding keeps TCP state too)
ip netns exec "$C2_NAT_NS" conntrack -D -p udp >/dev/null 2>&1 || true
wait $a || true
wait $b || true
check "rebinding: c2 verified twice (new external port)" \
	test "$(grep -c '"event":"verified"' "$work/rb-c2")" -ge 2
check "rebinding: c1 kept receiving after the rebind (>= 400 of 700)" \
	test "$(json_field "$work/rb-c1" summary received)" -ge 400
stop_daemon
check "SIGTERM: XDP detached" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"

# --- userspace path -------------------------------------------------------
start_daemon --xdp-mode off
fwd0=$(stat_of forwarded)
pair_exchange userspace
check "userspace: no program attached" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
stop_daemon

relay_summary
