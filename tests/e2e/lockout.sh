#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# No pre-auth lockout (docs/security.md): one host on the relay's segment
# holds 1500 plain TCP connections and 800 TLS connections that PING every
# 5 s, reopening each as soon as it is closed, against a relay at
# --max-connections 256. Two real clients behind NATs still verify within
# their default timeout and exchange media with >= 99 % delivered; the
# flooding host never holds more than --max-unauth-per-source connections;
# refusals are summed up in a few log lines, not one line each.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntl c1=cone c2=symmetric c3=none
MPORT=9470
FLOOD_S=40

nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
	--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
	--auth-secret-file "$work/secret" --allow 203.0.113.0/24 --config none \
	--max-connections 256 --metrics "$MPORT" 2>>"$work/daemon.log" &
DAEMON=$!
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'
nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
	nt_fail "nattravd did not start"
metric() {
	ip netns exec "$RELAY_NS" curl -sf "http://127.0.0.1:$MPORT/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}

# the flood, from c3 (directly on the relay's segment)
(
	ulimit -n 8192
	exec ip netns exec "$C3_NS" python3 "$HERE/lib/flood.py" --server "$RELAY_V4" \
		--ca "$work/ca.pem" --plain 1500 --tls 800 --ping 5 --duration "$FLOOD_S"
) >"$work/flood.json" 2>"$work/flood.err" &
FLOOD=$!
sleep 5

# meanwhile: the most unauthenticated connections the relay held
(
	max=0
	for _ in $(seq 1 60); do
		n=$(metric nattrav_connections_unauthenticated || echo 0)
		[ -n "$n" ] && [ "$n" -gt "$max" ] && max=$n
		sleep 0.5
	done
	echo "$max"
) >"$work/unauth_max" &
SAMPLER=$!

client "$C1_NS" "$work/a" --token "$(token alice flood-room)" --group flood-room --send 1000 --rate 100 --wait 2 --wait-peer 30 &
A1=$!
client "$C2_NS" "$work/b" --token "$(token bob flood-room)" --group flood-room --send 1000 --rate 100 --wait 2 --wait-peer 30 &
A2=$!
rc1=0 rc2=0
wait $A1 || rc1=$?
wait $A2 || rc2=$?
wait $SAMPLER || true
refused=$(($(metric 'nattrav_connections_refused_total{budget="per_source"}') +
	$(metric 'nattrav_connections_refused_total{budget="unauthenticated"}')))
stall=$(metric nattrav_event_loop_stall_max_seconds)
wait $FLOOD || true

check "the flood really ran ($(cat "$work/flood.json"))" \
	python3 -c "import json,sys; r=json.load(open('$work/flood.json')); sys.exit(not r['tried'] > 2300)"
check "the relay refused the flood's excess ($refused connections)" test "$refused" -gt 1000
# 8 from the flooding host, and the two clients for the moment before their AUTH
check "at most 8 + 2 connections were unauthenticated at once ($(cat "$work/unauth_max"))" \
	sh -c "[ $(cat "$work/unauth_max") -ge 1 ] && [ $(cat "$work/unauth_max") -le 10 ]"
check "alice verified and finished during the flood" test "$rc1" -eq 0
check "bob verified and finished during the flood" test "$rc2" -eq 0
ra=$(json_field "$work/a" summary received)
rb=$(json_field "$work/b" summary received)
check "alice received >= 99 % of bob's 1000 packets (${ra:-0})" test "${ra:-0}" -ge 990
check "bob received >= 99 % of alice's 1000 packets (${rb:-0})" test "${rb:-0}" -ge 990
nlog=$(grep -c "refused .* connections in the last" "$work/daemon.log" || true)
check "refusals were summed up in a few lines ($nlog for a ${FLOOD_S}-s flood)" \
	sh -c "[ $nlog -ge 1 ] && [ $nlog -le $((FLOOD_S / 10 + 2)) ]"
check "no line per refused or timed-out connection at the default log level" \
	sh -c "! grep -qE 'connection from .* refused|TLS handshake timeout|not authenticated in time' '$work/daemon.log'"
echo "# the event loop's longest round during the flood: ${stall} s"

relay_summary
