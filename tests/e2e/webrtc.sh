#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Real WebRTC clients through nattravd's TURN server (issue 18 item 4):
# two headless Chromium instances, one behind a cone NAT and one behind a
# symmetric NAT, open a data channel with iceTransportPolicy "relay" and
# nattravd as their only ICE server, and send N messages of 1000 bytes
# each way; then the same with aiortc (a second, independent WebRTC stack)
# in both namespaces. Both allocations are on the one relay, so each
# allocation's peer is the other's relayed address (a hairpin: nattravd
# hands the data over, its XDP program client to client once both channels
# are bound). Checks: every message arrived, in order, on both sides; the
# selected candidate pair is relay/relay on both sides with the relayed
# addresses on the relay; the descriptions carried relay candidates only;
# nattravd's counters show the data channel relayed by the XDP program.
# Then the two browsers again over TURN/TCP (turn:...?transport=tcp, as
# from networks that let no UDP out): relay candidates reached over TCP,
# the data handed over by nattravd on the streams.
#
#   tests/e2e/webrtc.sh [--turn nattrav|coturn]
#
# --turn coturn (or NT_WEBRTC_TURN=coturn) puts coturn's turnserver on the
# relay instead of nattravd, with the same REST secret: the harness itself
# (browsers, aiortc, signaling, the lab) checked against the reference
# server. NT_WEBRTC_N: messages each way (200). The signaling server
# (tests/e2e/lib/webrtc/signaling.py) runs in the relay's namespace and
# serves the page and the TURN credentials; nothing leaves the lab
# (Chromium's background networking is off, and there is no DNS).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

TURN=${NT_WEBRTC_TURN:-nattrav}
while [ $# -gt 0 ]; do
	case "$1" in
	--turn) TURN=${2:-}; shift 2 || nt_fail "--turn needs nattrav or coturn" ;;
	--turn=*) TURN=${1#--turn=}; shift ;;
	-h | --help) sed -n '4,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) nt_fail "unknown argument '$1' (see --help)" ;;
	esac
done
case "$TURN" in nattrav | coturn) ;; *) nt_fail "--turn: '$TURN' is neither nattrav nor coturn" ;; esac
N=${NT_WEBRTC_N:-200}
[[ "$N" =~ ^[1-9][0-9]{0,4}$ ]] || nt_fail "NT_WEBRTC_N: '$N' is not a count of 1..99999"
# Debian's python3 has python3-aiortc; a python3 earlier on PATH may not
PY=/usr/bin/python3
CHROMIUM=${NT_CHROMIUM:-chromium}
W="$HERE/lib/webrtc"

command -v "$CHROMIUM" >/dev/null || nt_fail "$CHROMIUM missing (scripts/deps.sh installs chromium)"
"$PY" -c 'import aiortc' 2>/dev/null || nt_fail "$PY cannot import aiortc (scripts/deps.sh installs python3-aiortc)"
[ "$TURN" = nattrav ] || command -v turnserver >/dev/null || nt_fail "turnserver missing (coturn)"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntw c1=cone c2=symmetric
MPORT=9476
SPORT=8480
printf 'webrtc-secret-%s\n' "$P" >"$work/turn-secret"
echo "TURN server: $TURN on $RELAY_V4:3478, $N messages each way"

if [ "$TURN" = nattrav ]; then
	lab_daemon --turn-secret-file "$work/turn-secret" --turn-ports 50000-50999 --metrics "$MPORT"
else
	# relay-ip is where the allocations are, the one peer both sides use
	ip netns exec "$RELAY_NS" turnserver -n --use-auth-secret --static-auth-secret="webrtc-secret-$P" \
		--realm=nattrav.test --listening-ip="$RELAY_V4" --relay-ip="$RELAY_V4" --listening-port=3478 \
		--min-port=50000 --max-port=50999 --no-tls --no-dtls --no-tcp --no-cli \
		--allowed-peer-ip="$RELAY_V4" --userdb="$work/turndb" --pidfile="$work/turnserver.pid" --log-file=stdout \
		--simple-log >"$work/turnserver.log" 2>&1 &
	nt_cleanup_push "kill $! 2>/dev/null"
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Hlun 'sport = :3478' | grep -q ." ||
		{ tail -20 "$work/turnserver.log"; nt_fail "turnserver did not start"; }
fi

ip netns exec "$RELAY_NS" "$PY" "$W/signaling.py" --addr "$RELAY_V4" --port "$SPORT" \
	--turn "turn:$RELAY_V4:3478?transport=udp" --secret-file "$work/turn-secret" --n "$N" \
	2>"$work/signal.log" &
nt_cleanup_push "kill $! 2>/dev/null"
nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :$SPORT' | grep -q ." ||
	{ cat "$work/signal.log"; nt_fail "the signaling server did not start"; }
SIG="http://$RELAY_V4:$SPORT"

# box ROOM KEY: what the signaling server holds (false while nothing)
box() { ip netns exec "$RELAY_NS" curl -sf --max-time 5 "$SIG/box/$1/$2"; }
# field FILE EXPR: a Python expression on the JSON object r of FILE
field() { "$PY" -c 'import json,sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo "?"; }
# types ROOM KEY: the candidate types of the description ROOM/KEY ("none": none)
types() {
	box "$1" "$2" | "$PY" -c 'import json,sys
t = [l.split(" typ ")[1].split()[0] for l in json.load(sys.stdin)["sdp"].splitlines() if l.startswith("a=candidate:")]
print(" ".join(sorted(t)) or "none")' 2>/dev/null || echo "?"
}
xdp_to_peer() { metric 'nattrav_turn_relayed_packets_total{direction="to_peer",path="xdp"}'; }
relayed() { # every relayed packet, both directions and paths
	ip netns exec "$RELAY_NS" curl -sf "http://127.0.0.1:$MPORT/metrics" |
		awk '$1 ~ /^nattrav_turn_relayed_packets_total\{/ { s += $2 } END { print s + 0 }'
}

# checks_for NAME ROOM: the exchange's assertions; false if any failed
checks_for() {
	local name=$1 room=$2 role f failed0=$NT_FAILED t
	for role in offer answer; do
		f="$work/$room-result-$role.json"
		box "$room" "result-$role" >"$f" || echo '{}' >"$f"
		check "$name $role: received $(field "$f" 'r["received"]') of $N in order, sent $(field "$f" 'r["sent"]'), $(field "$f" 'r["bad"]') out of order (error: $(field "$f" 'r.get("error")'))" \
			test "$(field "$f" 'r["received"] == r["sent"] == '"$N"' and r["bad"] == 0')" = True
		check "$name $role: selected pair $(field "$f" 'r["pair"]["local_type"]')/$(field "$f" 'r["pair"]["remote_type"]') (relay/relay)" \
			test "$(field "$f" 'r["pair"]["local_type"] + "/" + r["pair"]["remote_type"]')" = relay/relay
		check "$name $role: relayed addresses $(field "$f" 'r["pair"]["local_address"]') and $(field "$f" 'r["pair"]["remote_address"]') are the relay's ($RELAY_V4)" \
			test "$(field "$f" 'r["pair"]["local_address"] + " " + r["pair"]["remote_address"]')" = "$RELAY_V4 $RELAY_V4"
		t=$(types "$room" "$role")
		check "$name $role: its description carried relay candidates only ($t)" \
			sh -c "[ '$t' != none ] && [ -z \"\$(echo '$t' | tr ' ' '\n' | grep -vx relay)\" ]"
	done
	[ "$NT_FAILED" -eq "$failed0" ]
}

# show_logs ROOM FILES...: what each side logged, for a failed exchange
show_logs() {
	local room=$1 role f
	shift
	for role in offer answer; do
		echo "--- $room $role: page/peer log"
		box "$room" "log-$role" | tail -40 || echo "(none)"
	done
	for f in "$@"; do
		echo "--- $f (last 40 lines)"
		grep -v 'dbus\|Fontconfig\|chromium: 9:' "$f" | tail -40 || true
	done
	[ "$TURN" = coturn ] && { echo "--- turnserver log"; tail -30 "$work/turnserver.log"; }
	return 0
}

# --- Chromium: one headless browser in each NATed namespace ----------------
# browser NS ROLE [ROOM TRANSPORT]: the page as ROLE (in ROOM, reaching its
# TURN server over TRANSPORT, udp or tcp), its own profile and HOME, in its own
# process group (setsid), so that it and its renderers go at once
browser() {
	local d="$work/chromium-$2${3:+-$3}"
	mkdir -p "$d/home" "$d/tmp"
	# TMPDIR too: a killed Chromium leaves its singleton folder there
	setsid ip netns exec "$1" env HOME="$d/home" XDG_CONFIG_HOME="$d/home" XDG_CACHE_HOME="$d/home" TMPDIR="$d/tmp" \
		timeout 180 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$d/profile" --no-first-run --no-default-browser-check \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --disable-domain-reliability \
		--disable-client-side-phishing-detection --disable-breakpad --no-pings \
		--metrics-recording-only --password-store=basic --use-mock-keychain \
		--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater \
		--enable-logging=stderr --v=0 \
		"$SIG/page.html?role=$2&room=${3:-chromium}&transport=${4:-udp}" >"$d.log" 2>&1 &
	BROWSERS+=("$!")
	nt_cleanup_push "kill -- -$! 2>/dev/null"
}
both_results() { box "$1" result-offer >/dev/null && box "$1" result-answer >/dev/null; }

BROWSERS=()
before_xdp=0 before_all=0
if [ "$TURN" = nattrav ]; then
	before_xdp=$(xdp_to_peer)
	before_all=$(relayed)
fi
browser "$C1_NS" offer
browser "$C2_NS" answer
nt_wait_for -t 120 both_results chromium || echo "chromium: no result from both sides after 120 s"
if [ "$TURN" = nattrav ]; then
	xdp=$(($(xdp_to_peer) - ${before_xdp:-0}))
	all=$(($(relayed) - ${before_all:-0}))
fi
for b in "${BROWSERS[@]}"; do kill -- "-$b" 2>/dev/null || true; done
failed0=$NT_FAILED
checks_for chromium chromium || true
if [ "$TURN" = nattrav ]; then
	# each side's N messages go client -> relay -> peer once: 2N to the peer
	check "chromium: nattravd relayed the data channel, $all packets in all" test "$all" -ge $((2 * N))
	check "chromium: relayed to the peer by the XDP program ($xdp packets, >= $N)" test "$xdp" -ge "$N"
fi
[ "$NT_FAILED" -eq "$failed0" ] || show_logs chromium "$work/chromium-offer.log" "$work/chromium-answer.log"

# --- Chromium over TCP: browsers whose networks let no UDP out --------------
# turn:...?transport=tcp: both allocations over TCP connections to nattravd,
# which hands the data from one to the other (no XDP: a TCP stream)
if [ "$TURN" = nattrav ]; then
	tcp0=$(metric 'nattrav_turn_relayed_packets_total{direction="to_client",path="userspace"}')
	BROWSERS=()
	browser "$C1_NS" offer chromium-tcp tcp
	browser "$C2_NS" answer chromium-tcp tcp
	nt_wait_for -t 120 both_results chromium-tcp || echo "chromium over TCP: no result from both sides after 120 s"
	tcp1=$(metric 'nattrav_turn_relayed_packets_total{direction="to_client",path="userspace"}')
	for b in "${BROWSERS[@]}"; do kill -- "-$b" 2>/dev/null || true; done
	failed0=$NT_FAILED
	checks_for "chromium over TCP" chromium-tcp || true
	for role in offer answer; do
		f="$work/chromium-tcp-result-$role.json"
		check "chromium over TCP $role: its relay candidate reached nattravd over $(field "$f" 'r["pair"]["local_relay_protocol"]') (tcp)" \
			test "$(field "$f" 'r["pair"]["local_relay_protocol"]')" = tcp
	done
	check "chromium over TCP: nattravd delivered the data channel on the streams ($((tcp1 - tcp0)) packets, >= $((2 * N)))" \
		test $((tcp1 - tcp0)) -ge $((2 * N))
	[ "$NT_FAILED" -eq "$failed0" ] ||
		show_logs chromium-tcp "$work/chromium-offer-chromium-tcp.log" "$work/chromium-answer-chromium-tcp.log"
fi

# --- aiortc: the other stack, one peer in each NATed namespace -------------
if [ "$TURN" = nattrav ]; then
	before_xdp=$(xdp_to_peer)
	before_all=$(relayed)
fi
ip netns exec "$C1_NS" timeout 150 "$PY" "$W/aiortc_peer.py" "$SIG" aiortc offer --timeout 90 \
	>"$work/aiortc-offer.out" 2>"$work/aiortc-offer.log" &
a=$!
nt_cleanup_push "kill $a 2>/dev/null"
ip netns exec "$C2_NS" timeout 150 "$PY" "$W/aiortc_peer.py" "$SIG" aiortc answer --timeout 90 \
	>"$work/aiortc-answer.out" 2>"$work/aiortc-answer.log" &
b=$!
nt_cleanup_push "kill $b 2>/dev/null"
wait "$a" || true
wait "$b" || true
failed0=$NT_FAILED
checks_for aiortc aiortc || true
if [ "$TURN" = nattrav ]; then
	xdp=$(($(xdp_to_peer) - ${before_xdp:-0}))
	all=$(($(relayed) - ${before_all:-0}))
	check "aiortc: nattravd relayed the data channel, $all packets in all" test "$all" -ge $((2 * N))
	check "aiortc: relayed to the peer by the XDP program ($xdp packets, >= $N)" test "$xdp" -ge "$N"
fi
[ "$NT_FAILED" -eq "$failed0" ] || show_logs aiortc "$work/aiortc-offer.log" "$work/aiortc-answer.log"

if [ "$TURN" = nattrav ]; then
	stop_daemon
	relay_summary
else
	[ "$NT_FAILED" -eq 0 ] || { cp -r "$work" "/tmp/nattrav-e2e-$P"; echo "logs kept in /tmp/nattrav-e2e-$P"; }
	nt_summary
fi
