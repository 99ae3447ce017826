#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Relayed packets per second end to end (issue 8, item 2): two clients on a
# scripts/topo.sh topology, one relay between them, frames injected in the
# sender's namespace by build/bench/bench_relay (live XDP frames) and
# counted by XDP on the receiver. Relays, one after the other on the same
# topology: direct (no relay, the baseline), the bare XDP reflector,
# nattravd with XDP, nattravd --xdp-mode off, nattravd as a TURN server
# (channels relayed by XDP, and by nattravd), coturn. Also one-way latency
# at a moderate rate (1000 pps, 200 B) through each real relay.
#
#   scripts/bench-relay.sh --out DIR [--quick]
#
# Writes DIR/relay.csv (one row per relay and payload, bench_relay's columns)
# and DIR/latency.csv. Needs root, build/ made, coturn installed (else its
# rows are skipped and said so in DIR/notes.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh
B=$ROOT/build

dur=3 out= quick=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) dur=1 quick=1 ;;
	--out) out=${2:?--out needs a folder}; shift ;;
	-h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) nt_fail "bench-relay.sh: unknown argument '$1'" ;;
	esac
	shift
done
[ -n "$out" ] || nt_fail "bench-relay.sh: --out DIR is required"
nt_check_root
nt_bpffs_ensure
mkdir -p "$out"
P=nbr$$
P=${P:0:8}
work=$(mktemp -d)
nt_cleanup_trap
nt_cleanup_push "rm -rf '$work'"
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=none c2=none 2>/dev/null)"
# the sender's bridge-side veth must run XDP for XDP_TX'd frames to be delivered
ip -n "$INET_NS" link set c1w xdpdrv obj "$B/nt_pass.bpf.o" sec xdp
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
csv=$out/relay.csv lat=$out/latency.csv notes=$out/notes.txt
"$B/bench/bench_relay" --header >"$csv"
echo "relay,size,rate,count,received,lost,p50_us,p90_us,p99_us,max_us" >"$lat"
: >>"$notes"
PAYLOADS="64 200 1200"
S1=$C1_IP:40000 S2=$C2_IP:50000

cell() { # label payload [bench_relay args...]
	local label=$1 pl=$2
	shift 2
	"$B/bench/bench_relay" --sender-ns "$C1_NS" --src "$S1" --payload "$pl" --duration "$dur" \
		--cpu 1 --label "$label" "$@" >>"$csv" || nt_log "bench-relay: $label $pl B failed"
}
to_c2() { cell "$1" "$2" --dst-ns "$RELAY_NS" --dst "$RELAY_V4:3478" --recv-ns "$C2_NS" \
	--recv-port 50000 "${@:3}"; }

nt_log "bench-relay: direct (no relay) and the bare XDP reflector, ${dur} s per cell"
for pl in $PAYLOADS; do
	cell direct "$pl" --dst-ns "$C2_NS" --dst "$S2" --recv-ns "$C2_NS" --recv-port 50000
	cell reflector "$pl" --dst-ns "$RELAY_NS" --reflect-ns "$RELAY_NS" --dst "$RELAY_V4:3478" \
		--recv-ns "$C1_NS" --recv-port 40000
done

# --- nattravd: two verified clients, then the generator speaks as c1 -------
hold=$((3 + 3 * (dur + 3) + 5))
# token USER [GROUP...]: a token for USER and the groups named (none: any, '*')
token() { nt_token "$B/nattravctl" "$work/secret" 3600 "$@"; }
json_lat() { # file -> "received,lost,p50,p90,p99,max" of the summary line
	python3 -c "
import json, sys
s = None
for l in open('$1'):
    try: e = json.loads(l)
    except ValueError: continue
    if e.get('event') == 'summary': s = e
if s: l = s['latency_us']; print(','.join(str(x) for x in (s['received'], s['lost'], l['p50'], l['p90'], l['p99'], l['max'])))
else: print(',,,,,')"
}
nattrav_run() { # label xdp-mode
	local label=$1 mode=$2 dpid c1 c2
	nt_log "bench-relay: $label (nattravd --xdp-mode $mode)"
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --xdp-mode "$mode" --log-level warn \
		--allow 203.0.113.0/24 --max-pps 0 \
		2>>"$work/daemon-$label.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ nt_log "bench-relay: nattravd did not start"; cat "$work/daemon-$label.log" >&2; return 1; }
	dpid=$(pgrep -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1)
	nt_cleanup_push "kill $dpid"
	ip netns exec "$C2_NS" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" \
		--token "$(token bob)" --group bench --bind "$S2" --duration "$hold" --json \
		>"$work/$label-c2" 2>>"$work/clients.log" &
	c2=$!
	nt_cleanup_push "kill $c2"
	nt_wait_for -t 10 grep -q '"verified"' "$work/$label-c2" ||
		{ nt_log "bench-relay: c2 not verified:"; tail -3 "$work/clients.log" >&2; }
	ip netns exec "$C1_NS" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" \
		--token "$(token alice)" --group bench --bind "$S1" --send 2000 --rate 1000 \
		--size 200 --duration "$hold" --json >"$work/$label-c1" 2>>"$work/clients.log" &
	c1=$!
	nt_cleanup_push "kill $c1"
	nt_wait_for -t 10 grep -q '"verified"' "$work/$label-c1" ||
		{ nt_log "bench-relay: c1 not verified:"; tail -3 "$work/clients.log" >&2; }
	sleep 2.5 # the 2000 latency probes
	for pl in $PAYLOADS; do to_c2 "$label" "$pl" --pid "$dpid"; done
	kill -TERM "$c1" "$c2" 2>/dev/null || true
	wait "$c1" "$c2" 2>/dev/null || true
	echo "$label,200,1000,2000,$(json_lat "$work/$label-c2")" >>"$lat"
	kill -TERM "$dpid" 2>/dev/null || true
	nt_wait_for -t 10 sh -c "! kill -0 $dpid" || kill -9 "$dpid" 2>/dev/null || true
}
nattrav_run nattrav-xdp native
nattrav_run nattrav-user off

# --- nattravd as a TURN server: the same ChannelData load coturn gets below --
# TURN client: one allocation with coturn's REST credentials, channel bound to
# c2; the channel is relayed by the XDP program (turn-xdp) or by nattravd
# (--xdp-mode off: turn-user).
turn_latency() { # label pid
	ip netns exec "$C2_NS" "$B/bench/bench_turn" recv --bind "$S2" --count 2000 --timeout 3 \
		>"$work/$1-recv" &
	local r=$! tc
	nt_wait_for nt_udp_listening "$C2_NS" 50000
	ip netns exec "$C1_NS" "$B/bench/bench_turn" client --bind "$S1" --server "$RELAY_V4:3478" \
		--peer "$S2" --send 2000 --rate 1000 --size 200 --hold "$hold" "${@:3}" >"$work/$1-c1" &
	tc=$!
	nt_cleanup_push "kill $tc"
	wait "$r" || true
	TURN_CLIENT=$tc
	if ! grep -q ready "$work/$1-c1"; then
		echo "$1: TURN allocation failed, no rows" >>"$notes"
		return 1
	fi
	( eval "$(tr ' ' '\n' <"$work/$1-recv" | grep '=')"
	  echo "$1,200,1000,2000,${received:-},${lost:-},${p50_us:-},${p90_us:-},${p99_us:-},${max_us:-}" >>"$lat" )
}
nattrav_turn_run() { # label xdp-mode
	local label=$1 mode=$2 dpid
	nt_log "bench-relay: $label (nattravd --turn-secret-file, --xdp-mode $mode)"
	echo "bench-turn-secret" >"$work/turn-secret"
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --xdp-mode "$mode" --log-level warn \
		--allow 203.0.113.0/24 --max-pps 0 --turn-secret-file "$work/turn-secret" \
		2>>"$work/daemon-$label.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ nt_log "bench-relay: nattravd did not start"; cat "$work/daemon-$label.log" >&2; return 1; }
	dpid=$(pgrep -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1)
	nt_cleanup_push "kill $dpid"
	if turn_latency "$label" "$dpid" --secret bench-turn-secret --user bench; then
		for pl in $PAYLOADS; do to_c2 "$label" "$pl" --channel 0x4000 --pid "$dpid"; done
	fi
	kill -TERM "$TURN_CLIENT" "$dpid" 2>/dev/null || true
	wait "$TURN_CLIENT" 2>/dev/null || true
	nt_wait_for -t 10 sh -c "! kill -0 $dpid" || kill -9 "$dpid" 2>/dev/null || true
}
nattrav_turn_run nattrav-turn-xdp native
nattrav_turn_run nattrav-turn-user off

# --- coturn: one allocation, channel bound to c2, ChannelData from c1 -----
if command -v turnserver >/dev/null; then
	nt_log "bench-relay: coturn ($(turnserver --version 2>/dev/null | head -1 || true))"
	# tuned as coturn's docs advise for throughput: a relay thread per CPU,
	# no logging, no auth, UDP only, nothing but relaying
	ip netns exec "$RELAY_NS" turnserver -n --no-auth --listening-ip "$RELAY_V4" \
		--relay-ip "$RELAY_V4" --listening-port 3478 --min-port 49152 --max-port 65535 \
		--relay-threads "$(nproc)" --no-tls --no-dtls --no-tcp-relay --no-cli \
		--no-stdout-log --log-file /dev/null --simple-log --no-rfc5780 \
		--no-stun-backward-compatibility --pidfile "$work/turn.pid" \
		--userdb "$work/turndb" >"$work/turn.out" 2>&1 &
	tpid=$!
	nt_cleanup_push "kill $tpid"
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Huln 'sport = :3478' | grep -q ."
	ip netns exec "$C2_NS" "$B/bench/bench_turn" recv --bind "$S2" --count 2000 --timeout 3 \
		>"$work/turn-recv" &
	r=$!
	nt_wait_for nt_udp_listening "$C2_NS" 50000
	ip netns exec "$C1_NS" "$B/bench/bench_turn" client --bind "$S1" --server "$RELAY_V4:3478" \
		--peer "$S2" --send 2000 --rate 1000 --size 200 --hold "$hold" >"$work/turn-c1" &
	tc=$!
	nt_cleanup_push "kill $tc"
	wait "$r" || true
	if grep -q ready "$work/turn-c1"; then
		eval "$(tr ' ' '\n' <"$work/turn-recv" | grep '=')"
		echo "coturn,200,1000,2000,${received:-},${lost:-},${p50_us:-},${p90_us:-},${p99_us:-},${max_us:-}" >>"$lat"
		for pl in $PAYLOADS; do to_c2 coturn "$pl" --channel 0x4000 --pid "$tpid"; done
	else
		echo "coturn: TURN allocation failed, no rows" >>"$notes"
	fi
	kill -TERM "$tc" "$tpid" 2>/dev/null || true
	wait "$tc" "$tpid" 2>/dev/null || true
else
	echo "coturn: not installed (apt-get install coturn), no rows" >>"$notes"
fi
nt_log "bench-relay: wrote $csv and $lat"
