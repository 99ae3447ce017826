#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# TURN over UDP (RFC 8656, issue 18 items 2-3) across a real NAT, against
# coturn's own client: turnutils_uclient behind a cone NAT, with the REST
# secret an application server would use for coturn (-W), relays through
# nattravd to turnutils_peer (channels, relayed both ways by the XDP
# program; then Send/Data indications, through nattravd) with >= 99 %
# delivery; a wrong secret gets no allocation; peers the relay must
# not reach (RFC 8656 21 and coturn's CVE-2018-4058, CVE-2020-26262:
# loopback, 0.0.0.0, [::], v4-mapped loopback, private, link-local,
# multicast, the relay's media port) get 403 or 443, a lab peer 0; two
# allocations of this relay reach each other (Data indications through
# nattravd, channels hairpinned by XDP); error
# responses pad with zeros (CVE-2020-4067); metrics count it all; nattrav's
# own clients relay beside it; channels a killed nattravd left in XDP are
# removed by the next one. The same over IPv6 (NAT66 client, IPv6 relayed
# address and peer): channels and a hairpin relayed by XDP.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntt --v6 c1=cone c2=symmetric c3=none
MPORT=9475
command -v turnutils_uclient >/dev/null || nt_fail "turnutils_uclient missing (coturn; scripts/deps.sh installs it)"
printf 'rest-secret-%s\n' "$P" >"$work/turn-secret"
TURN_SECRET="rest-secret-$P"

# a control socket of its own: nattravctl turn must not ask another test's relay
NT_CTL_EXTRA=(--ctl-socket "$work/ctl.sock")
lab_daemon --ctl-socket "$work/ctl.sock" --addr "$RELAY_V6" --allow "$C3_IP6/128" \
	--turn-secret-file "$work/turn-secret" --turn-ports 50000-50999 \
	--metrics "$MPORT" --log-level debug

ip netns exec "$C3_NS" turnutils_peer -L "$C3_IP" -L "$C3_IP6" -p 3480 >"$work/peer.log" 2>&1 &
nt_cleanup_push "kill $! 2>/dev/null"
nt_wait_for -t 5 sh -c "ip netns exec '$C3_NS' ss -Hlun 'sport = :3480' | grep -q ." ||
	nt_fail "turnutils_peer did not start"

PY="python3 $HERE/lib/turnclient.py"
# uclient LOG [--v6] FLAGS...: turnutils_uclient in c1 to turnutils_peer in c3, 300 packets
uclient() {
	local log=$1 peer=$C3_IP server=$RELAY_V4
	shift
	[ "${1:-}" != --v6 ] || { peer=$C3_IP6 server=$RELAY_V6; shift; }
	ip netns exec "$C1_NS" timeout 40 turnutils_uclient -u alice -e "$peer" -r 3480 \
		-n 300 -l 160 -z 5 -c "$@" "$server" >"$log" 2>&1 || true
}
lost() { sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' "$1" | tail -1; }
sent() { sed -n 's/.*tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1/p' "$1" | tail -1; }
# delivered LOG WHAT: all 300 sent, at most 3 lost (>= 99 % delivered), by uclient's own count
delivered() {
	local l s
	l=$(lost "$1")
	s=$(sent "$1")
	check "turnutils_uclient $2: ${s:-0} sent, ${l:-?} lost (>= 99 % delivered)" \
		test "${s:-0}" -ge 300 -a "${l:-300}" -le 3
}
# relayed DIRECTION PATH: nattrav_turn_relayed_packets_total of those labels
relayed() { metric "nattrav_turn_relayed_packets_total{direction=\"$1\",path=\"$2\"}"; }

uclient "$work/uclient-chan.log" -W "$TURN_SECRET"
delivered "$work/uclient-chan.log" "over channels"
xdp_to_peer=$(relayed to_peer xdp)
xdp_to_client=$(relayed to_client xdp)
us_to_peer=$(relayed to_peer userspace)
check "channels: the relay counted them all (xdp $xdp_to_peer + userspace $us_to_peer to the peer)" \
	test $((${xdp_to_peer:-0} + ${us_to_peer:-0})) -ge 297
# the first datagrams may pass through nattravd while the channel is being installed
check "channels: relayed by the XDP program both ways (to peer $xdp_to_peer, to client $xdp_to_client)" \
	test "${xdp_to_peer:-0}" -ge 250 -a "${xdp_to_client:-0}" -ge 250
check "channels: ChannelData passed up by XDP, bound by ChannelBind" \
	test "$(metric 'nattrav_turn_requests_total{method="channel_bind",result="ok"}')" -ge 1

uclient "$work/uclient-send.log" -W "$TURN_SECRET" -s
delivered "$work/uclient-send.log" "with Send/Data indications"
# IPv6 all the way: client behind NAT66, relayed address and peer IPv6
xdp0=$(relayed to_peer xdp)
xdpc0=$(relayed to_client xdp)
uclient "$work/uclient-v6.log" --v6 -W "$TURN_SECRET"
delivered "$work/uclient-v6.log" "over IPv6 channels"
xdp1=$(relayed to_peer xdp)
xdpc1=$(relayed to_client xdp)
check "IPv6 channels: relayed by the XDP program both ways (to peer $((xdp1 - xdp0)), to client $((xdpc1 - xdpc0)))" \
	test $((xdp1 - xdp0)) -ge 250 -a $((xdpc1 - xdpc0)) -ge 250

# TURN over TCP (a client whose network lets no UDP out): the same channels on its stream
us0=$(relayed to_peer userspace)
uclient "$work/uclient-tcp.log" -W "$TURN_SECRET" -t
delivered "$work/uclient-tcp.log" "over TCP"
us1=$(relayed to_peer userspace)
check "over TCP: relayed by nattravd ($((us1 - us0)) to the peer)" test $((us1 - us0)) -ge 297
check "over TCP: the allocation ended with its connection" \
	grep -q 'released: its TCP connection closed' "$work/daemon.log"
# and over TLS (turns:, port 5349 by default, nattravd's certificate)
us0=$(relayed to_peer userspace)
uclient "$work/uclient-tls.log" -W "$TURN_SECRET" -t -S -p 5349
delivered "$work/uclient-tls.log" "over TLS"
us1=$(relayed to_peer userspace)
check "over TLS: relayed by nattravd ($((us1 - us0)) to the peer)" test $((us1 - us0)) -ge 297
check "over TLS: a TLS 1.2+ handshake with nattravd's certificate" \
	sh -c "echo | ip netns exec '$C2_NS' timeout 5 openssl s_client -connect '$RELAY_V4:5349' \
		-CAfile '$work/ca.pem' -verify_return_error 2>&1 | grep -q 'Verify return code: 0'"

# TCP is hostile input too: 16 connections without an allocation from one address, a stream of
# neither STUN nor ChannelData closed; STUN Binding answered on the stream
ref0=$(metric nattrav_turn_tcp_refused_total)
ip netns exec "$C2_NS" $PY "$RELAY_V4" "$TURN_SECRET" tcp-limits 20 >"$work/tcp-limits" 2>&1 || true
cat "$work/tcp-limits" >>"$work/clients.log"
tl() { awk -v k="$1" '$1 == k { print $2 }' "$work/tcp-limits"; }
check "over TCP: 16 connections without an allocation from one address held, the rest refused ($(tl open) open, $(($(metric nattrav_turn_tcp_refused_total) - ref0)) refused)" \
	test "$(tl open)" = 16 -a $(($(metric nattrav_turn_tcp_refused_total) - ref0)) -ge 4
check "over TCP: a stream of neither STUN nor ChannelData is closed" test "$(tl garbage)" = closed
check "over TCP: a STUN Binding request is answered on the stream" test "$(tl binding)" = OK

check "indications: counted as Send" \
	test "$(metric 'nattrav_turn_requests_total{method="send",result="ok"}')" -ge 297

unauth0=$(metric 'nattrav_turn_requests_total{method="allocate",result="unauthorized"}')
uclient "$work/uclient-wrong.log" -W "not-the-secret"
check "a wrong REST secret: no allocation, nothing relayed" \
	sh -c "grep -q 'Cannot complete Allocation' '$work/uclient-wrong.log' && ! grep -q 'tot_recv_msgs=[1-9]' '$work/uclient-wrong.log'"

check "a wrong REST secret: the Allocates answered 401" \
	test "$(metric 'nattrav_turn_requests_total{method="allocate",result="unauthorized"}')" -gt "$unauth0"

ip netns exec "$C2_NS" $PY "$RELAY_V4" "$TURN_SECRET" check-peers \
	"$C3_IP" 127.0.0.1 0.0.0.0 10.0.2.2 169.254.1.1 224.0.0.1 255.255.255.255 "$RELAY_V4" \
	:: ::1 ::ffff:127.0.0.1 >"$work/peers" 2>&1 || true
cat "$work/peers" >>"$work/clients.log"
code() { awk -v p="$1" '$1 == p { print $2 }' "$work/peers"; }
check "a lab peer: permission granted" test "$(code "$C3_IP")" = 0
for p in 127.0.0.1 0.0.0.0 10.0.2.2 169.254.1.1 224.0.0.1 255.255.255.255; do
	check "no open relay: peer $p refused (403)" test "$(code "$p")" = 403
done
# the relay's own address: a permission (its allocations are peers), but a
# channel only to its relayed ports (hairpin below), not to its media port
check "the relay's own address: permission granted (its allocations are peers)" \
	test "$(code "$RELAY_V4")" = 0
for p in :: ::1 ::ffff:127.0.0.1; do
	check "no open relay: IPv6 peer $p on an IPv4 allocation refused (443)" test "$(code "$p")" = 443
done
# two allocations of this relay as each other's peer (WebRTC with relay
# candidates on both sides): Data indications through nattravd, then the
# channels hairpinned by the XDP program, client to client
xdp0=$(relayed to_peer xdp)
ip netns exec "$C1_NS" $PY "$RELAY_V4" "$TURN_SECRET" hairpin 200 "$work/hairpin.go" \
	>"$work/hairpin" 2>&1 &
hairpin=$!
nt_cleanup_push "kill $hairpin 2>/dev/null"
nt_wait_for -t 60 grep -q '^holding' "$work/hairpin" || true
# per allocation, as nattravctl and the metrics show it, while both are held
ctl turn --json >"$work/turn.json" 2>>"$work/clients.log" || true
ctl turn >"$work/turn.txt" 2>&1 || true
cat "$work/turn.txt" >>"$work/clients.log"
ann() { python3 -c "import json,sys
for l in open('$work/turn.json'):
    o = json.loads(l)
    if o['user'] == '$1': print(o['$2'])"; }
check "nattravctl turn: ann's allocation, 1 channel in XDP, 1 permission" \
	test "$(ann ann channels)/$(ann ann xdp_channels)/$(ann ann permissions)" = 1/1/1
check "nattravctl turn: ann's 200 indications to ben through nattravd, 200 ChannelData by XDP" \
	test "$(ann ann to_peer_packets)" = 200 -a "$(ann ann xdp_to_peer_packets)" -ge 190
check "nattravctl turn: ben's client got ann's 200 and 200 (xdp $(ann ben xdp_to_client_packets))" \
	test "$(ann ben to_client_packets)" = 200 -a "$(ann ben xdp_to_client_packets)" -ge 190
check "nattravctl turn: a table with both allocations" \
	sh -c "grep -q '^RELAYED' '$work/turn.txt' && grep -c ' ann \| ben ' '$work/turn.txt' | grep -qx 2"
rel=$(ann ann relayed)
check "metrics: ann's allocation counted apart ($rel)" \
	test "$(metric "nattrav_turn_allocation_relayed_packets_total{relayed=\"$rel\",user=\"ann\",direction=\"to_peer\",path=\"userspace\"}")" = 200
touch "$work/hairpin.go"
wait "$hairpin" || true
cat "$work/hairpin" >>"$work/clients.log"
hp() { awk -v k="$1" '$1 == k { print $2 " " $3 }' "$work/hairpin"; }
check "hairpin: a channel to the relay's own media port refused (403)" \
	test "$(hp bind-own-media-port)" = "403 "
check "hairpin: each allocation permits the other's relayed address" \
	test "$(hp permission-a)$(hp permission-b)" = "0 0 "
read -r isent irecv <<<"$(hp indications)"
check "hairpin: Send indications arrive as Data indications ($irecv of ${isent:-?})" \
	test "${isent:-0}" = 400 -a "${irecv:-0}" -ge 396
check "hairpin: both channels bound" test "$(hp bind-a)$(hp bind-b)" = "0 0 "
read -r csent crecv <<<"$(hp channels)"
check "hairpin: ChannelData arrives on the receiver's own channel ($crecv of ${csent:-?})" \
	test "${csent:-0}" = 400 -a "${crecv:-0}" -ge 396
xdp1=$(relayed to_peer xdp)
check "hairpin: both allocations released" test "$(hp release-a)$(hp release-b)" = "0 0 "
check "hairpin: the channels relayed client to client by XDP ($((xdp1 - xdp0)) of 400)" \
	test $((xdp1 - xdp0)) -ge 380

# the same over IPv6 (allocations of the IPv6 family, clients behind NAT66)
xdp0=$(relayed to_peer xdp)
ip netns exec "$C2_NS" $PY "$RELAY_V6" "$TURN_SECRET" hairpin 100 >"$work/hairpin6" 2>&1 || true
cat "$work/hairpin6" >>"$work/clients.log"
hp6() { awk -v k="$1" '$1 == k { print $2 " " $3 }' "$work/hairpin6"; }
check "IPv6: relayed addresses on the relay's IPv6 address ($(hp6 relayed))" \
	grep -q "^relayed \[\?$RELAY_V6" "$work/hairpin6"
read -r csent crecv <<<"$(hp6 channels)"
check "IPv6 hairpin: ChannelData arrives on the receiver's own channel ($crecv of ${csent:-?})" \
	test "${csent:-0}" = 200 -a "${crecv:-0}" -ge 198
xdp1=$(relayed to_peer xdp)
check "IPv6 hairpin: relayed client to client by XDP ($((xdp1 - xdp0)) of 200)" \
	test $((xdp1 - xdp0)) -ge 190

ip netns exec "$C2_NS" $PY "$RELAY_V4" "$TURN_SECRET" padding >"$work/padding" 2>&1 || true
check "error responses pad with zero bytes ($(cat "$work/padding"))" grep -Eq '^padding (0+|none)$' "$work/padding"

client "$C1_NS" "$work/c1" --token "$(token alice)" --group "t-$P" --send 100 --rate 100 --wait 2 &
a=$!
client "$C2_NS" "$work/c2" --token "$(token bob)" --group "t-$P" --send 100 --rate 100 --wait 2 &
b=$!
wait $a || true
wait $b || true
check "nattrav's own clients relay beside TURN (c1 and c2 received 100)" \
	test "$(json_field "$work/c1" summary received)" = 100 -a "$(json_field "$work/c2" summary received)" = 100

# a relay killed with a channel in XDP: its successor clears what has no allocation behind it
chans() { bpftool -j map dump pinned "$NT_PIN_DIR/nt_turn_chans" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
ip netns exec "$C1_NS" "$B/bench/bench_turn" client --bind "$C1_IP:41000" --server "$RELAY_V4:3478" \
	--peer "$C3_IP:3480" --secret "$TURN_SECRET" --user hold --hold 30 >"$work/hold.out" 2>&1 &
hold=$!
nt_cleanup_push "kill $hold 2>/dev/null"
nt_wait_for -t 10 grep -q ready "$work/hold.out" || true
check "a held allocation's channel is in XDP ($(chans) entries)" test "$(chans)" = 1
kill -9 "$(daemon_pid)"
wait "$DAEMON" 2>/dev/null || true
check "after kill -9 the channel is still pinned" test "$(chans)" = 1
lab_daemon --turn-secret-file "$work/turn-secret" --turn-ports 50000-50999 --metrics "$MPORT"
check "the next nattravd removes it: no allocation outlives its process ($(chans) left)" \
	sh -c "[ \"\$(bpftool -j map dump pinned '$NT_PIN_DIR/nt_turn_chans' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')\" = 0 ] &&
	       grep -q 'TURN: 2 channel entries a previous run left in XDP removed' '$work/daemon.log'"
kill "$hold" 2>/dev/null || true

# a client over --max-pps (2000 by default): ChannelData beyond the rate dropped, counted
rate0=$(metric 'nattrav_turn_dropped_packets_total{reason="rate"}')
ip netns exec "$C1_NS" "$B/bench/bench_turn" client --bind "$C1_IP:41002" --server "$RELAY_V4:3478" \
	--peer "$C3_IP:3480" --secret "$TURN_SECRET" --user flood --send 4000 --rate 40000 \
	--hold 1 >"$work/flood.out" 2>&1 || true
rate1=$(metric 'nattrav_turn_dropped_packets_total{reason="rate"}')
check "a TURN client sending 20x --max-pps is held to it ($((rate1 - rate0)) of 4000 dropped)" \
	test $((rate1 - rate0)) -ge 2000

# SIGHUP with a new certificate and key in their files: TURN over TLS serves it
tls_fp() {
	echo | ip netns exec "$C2_NS" timeout 5 openssl s_client -connect "$RELAY_V4:5349" 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
fp0=$(tls_fp)
mkdir "$work/newcert"
"$ROOT/scripts/gen-certs.sh" "$work/newcert" "$RELAY_V4" 2>/dev/null
cp "$work/newcert/server.pem" "$work/server.pem"
cp "$work/newcert/server.key" "$work/server.key"
kill -HUP "$(daemon_pid)"
for _ in $(seq 1 25); do
	fp1=$(tls_fp)
	[ -z "$fp1" ] || [ "$fp1" = "$fp0" ] || break
	sleep 0.2
done
check "SIGHUP: TURN over TLS serves the new certificate" \
	test -n "$fp0" -a -n "$fp1" -a "$fp0" != "$fp1"

stop_daemon
check "no relayed port left open after stop" \
	sh -c "! ip netns exec '$RELAY_NS' ss -Hlun | grep -q ':50[0-9][0-9][0-9] '"
relay_summary
