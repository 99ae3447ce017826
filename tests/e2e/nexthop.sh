#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Next hops found by nattravd, not by the FIB: the relay does not route
# (forwarding off, as on a locked-down internet-facing host) and two clients
# behind cone NATs whose WAN side is on the relay's own segment exchange
# media through XDP. bpf_fib_lookup would answer "forwarding disabled" and
# the frames would go back to the sender's own NAT; with --next-hop daemon
# they must arrive. Then a NAT router changes its MAC in the middle of a
# call: the daemon's netlink monitor must rewrite the mapping so media keeps
# arriving. A group of three (copied by the TC program) must work the same
# way, a peer the relay cannot reach must be refused, and --next-hop fib
# with forwarding off must warn at start.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
COUNT=1000

. "$HERE/lib/relay_env.sh"
nt_relay_env ntn c1=cone c2=cone c3=cone
# nt_relay_env turns forwarding on: this test is about a relay without it
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=0 \
	net.ipv4.conf."$RELAY_IF".forwarding=0 net.ipv6.conf.all.forwarding=0

start_daemon() { # extra args...
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --log-level debug \
		--allow 203.0.113.0/24 "$@" 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ grep -v 'debug libbpf' "$work/daemon.log" | tail -5; nt_fail "nattravd did not start"; }
}
nt_cleanup_push 'pkill -9 -f "nattravd .*--pin-dir $NT_PIN_DIR"'

check "relay forwarding is off" \
	test "$(ip netns exec "$RELAY_NS" sysctl -n net.ipv4.conf."$RELAY_IF".forwarding)" -eq 0

# The route the daemon wrote for peer address ADDR (hex MAC of route_dmac), from bpftool.
route_dmac_of_peer() {
	{ bpftool -j map dump pinned "$NT_PIN_DIR/nt_mappings4"
	  bpftool -j map dump pinned "$NT_PIN_DIR/nt_mappings"; } | python3 -c "
import ipaddress, json, sys
want = ipaddress.ip_address('$1').packed
for e in [e for l in sys.stdin if l.strip() for e in json.loads(l)]:
    v = e['formatted']['value']
    if bytes(v['peer']['addr'][12:]) == want and v['route_expires_ns'] == 2**64 - 1:
        print(':'.join('%02x' % b for b in v['route_dmac'])); break"
}

# --- media between two NATs on the relay's segment, forwarding off ---------
start_daemon
check "the daemon resolves next hops itself" grep -q "next hops: daemon" "$work/daemon.log"
fwd0=$(stat_of forwarded)
client "$C1_NS" "$work/c1" --token "$(token alice)" --group room --send $COUNT --rate 500 --wait 2 --wait-peer 30 &
a=$!
client "$C2_NS" "$work/c2" --token "$(token bob)" --group room --send $COUNT --rate 500 --wait 2 --wait-peer 30 &
b=$!
ra=0 rb=0
wait $a || ra=$?
wait $b || rb=$?
check "both clients exit 0" test "$ra" -eq 0 -a "$rb" -eq 0
r1=$(json_field "$work/c1" summary received)
r2=$(json_field "$work/c2" summary received)
echo "c1 received $r1 of $COUNT, c2 received $r2 of $COUNT"
check "c1 received >= 99 % of c2's packets" test "${r1:-0}" -ge $((COUNT * 99 / 100))
check "c2 received >= 99 % of c1's packets" test "${r2:-0}" -ge $((COUNT * 99 / 100))
check "XDP forwarded them (>= $((2 * COUNT * 99 / 100)))" \
	test $(($(stat_of forwarded) - fwd0)) -ge $((2 * COUNT * 99 / 100))
check "nothing passed for a missing egress port" test "$(stat_of pass_no_egress)" -eq 0

# --wait-peer: a client alone in its group sends nothing and says why
rc=0
client "$C1_NS" "$work/alone" --token "$(token alice)" --group nobody-else --send 10 --wait-peer 1 ||
	rc=$?
check "--wait-peer alone: exit 1, nothing sent ($(json_field "$work/alone" summary sent))" \
	test "$rc" -eq 1 -a "$(json_field "$work/alone" summary sent)" = 0
check "--wait-peer alone: told why" \
	grep -q 'no other member of the group verified within 1 s' "$work/clients.log"

# --- a group of three: the TC program's copies use the daemon's next hops ---
cp0=$(stat_of fanout_copies)
pids=()
for c in 1 2 3; do
	ns_var=C${c}_NS
	client "${!ns_var}" "$work/g$c" --token "$(token "user$c")" --group trio --send 300 --rate 300 --wait 3 &
	pids+=($!)
done
rcs=0
for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
check "the three clients exit 0" test "$rcs" -eq 0
for c in 1 2 3; do
	r=$(json_field "$work/g$c" summary received)
	echo "c$c received ${r:-0} of 600"
	check "c$c received >= 99 % of the others' 600 packets" test "${r:-0}" -ge 594
done
check "the TC program made the copies" test $(($(stat_of fanout_copies) - cp0)) -ge 1188

# --- a NAT router changes its MAC during a call ----------------------------
# Counts, inside c2's NAT, the relayed media it forwards to c2.
ip netns exec "$C2_NAT_NS" nft -f - <<EOF
table inet ntcount {
	chain relayed {
		type filter hook forward priority 0;
		ip saddr $RELAY_V4 udp sport 3478 counter
	}
}
EOF
nat_forwarded() {
	ip netns exec "$C2_NAT_NS" nft -j list chain inet ntcount relayed | python3 -c "
import json, sys
for o in json.load(sys.stdin)['nftables']:
    for x in o.get('rule', {}).get('expr', []):
        if 'counter' in x: print(x['counter']['packets'])"
}
client "$C1_NS" "$work/c1b" --token "$(token alice)" --group call --send 6000 --rate 400 --wait 2 &
a=$!
client "$C2_NS" "$work/c2b" --token "$(token bob)" --group call --send 0 --duration 20 &
b=$!
has_route_to_c2() { [ -n "$(route_dmac_of_peer "$C2_PUBLIC")" ]; }
nat_got_media() { [ "$(nat_forwarded)" -gt 0 ]; }
new_mac_written() { [ "$(route_dmac_of_peer "$C2_PUBLIC")" = "$new_mac" ]; }
nt_wait_for -t 10 has_route_to_c2 || nt_fail "no daemon route towards c2 was written"
nt_wait_for -t 10 nat_got_media || nt_fail "media did not reach c2's NAT before the change"
old_mac=$(route_dmac_of_peer "$C2_PUBLIC")
new_mac=02:00:5e:00:53:02
check "the mapping towards c2 holds its NAT's MAC ($old_mac)" \
	test "$old_mac" = "$(ip -n "$C2_NAT_NS" -br link show wan0 | awk '{print $3}')"
# The NAT's interface gets a new MAC, and the relay learns it (as from a
# gratuitous ARP): the old MAC is gone from the segment.
ip -n "$C2_NAT_NS" link set wan0 address "$new_mac"
ip -n "$RELAY_NS" neigh replace "$C2_PUBLIC" lladdr "$new_mac" dev "$RELAY_IF" nud reachable
check "the daemon rewrote the mapping with the new MAC" nt_wait_for -t 5 new_mac_written
n0=$(nat_forwarded)
sleep 1
n1=$(nat_forwarded)
echo "c2's NAT forwarded $n0, then $n1 relayed packets"
check "media reaches c2's NAT after the change" test "$n1" -gt "$n0"
# The neighbour entry flushed: the last answer stays in use while the kernel re-resolves.
ip -n "$RELAY_NS" neigh flush dev "$RELAY_IF"
sleep 1
n2=$(nat_forwarded)
check "media reaches c2's NAT after a neighbour flush" test "$n2" -gt "$n1"
wait $a || true
kill -INT "$(pgrep -f "nattrav-client .*--group call --send 0" | head -1)" 2>/dev/null || true
wait $b || true
check "c2 received media after the change" test "$(json_field "$work/c2b" summary received)" -gt 0
stop_daemon

# --- a peer the relay cannot reach is refused, never installed --------------
# A policy rule sends route lookups without ports (the daemon's own query;
# the challenge over UDP and the TLS replies have source ports) to a table
# where c1's public address is unreachable.
start_daemon
ip -n "$RELAY_NS" route add unreachable "$C1_PUBLIC/32" table 100
ip -n "$RELAY_NS" rule add not sport 1-65534 lookup 100 pref 100
m0=$(n_mappings)
rc=0
client "$C1_NS" "$work/c1u" --token "$(token alice)" --group solo --send 0 --timeout 5 || rc=$?
check "the client of an unreachable peer fails" test "$rc" -ne 0
check "it is told why (EVT DENIED reason=unreachable)" \
	grep -q '"error".*relay cannot send media to our mapping.*reason=unreachable' "$work/c1u"
check "the daemon logged it" grep -q "peer $C1_PUBLIC:[0-9]* unreachable: no route" "$work/daemon.log"
check "no mapping was installed" test "$(n_mappings)" -eq "$m0"
ip -n "$RELAY_NS" rule del pref 100
ip -n "$RELAY_NS" route del unreachable "$C1_PUBLIC/32" table 100
stop_daemon

# --- fib mode on a host that does not route: a clear warning ---------------
start_daemon --next-hop fib
check "fib mode with forwarding off warns at start" \
	grep -q "next-hop fib with IPv4 forwarding off on $RELAY_IF" "$work/daemon.log"
stop_daemon

relay_summary
