#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Groups of more than two through nattravd, across namespaces with real NATs:
# one sender (c1, cone) and four receivers (c2 symmetric, c3 cone, c4 no NAT,
# c5 symmetric) join one group with nattrav-client and verify their mappings.
# Each receiver gets every packet exactly once, the sender none of its own, a
# member of another group nothing; a member that leaves stops receiving at
# once; a sixth member is refused (--max-members 5); the TC program made the
# copies (fanout_copies); an over-rate sender is limited to about
# --max-pps x duration + --burst and counted. Then the same with --xdp-mode off.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
COUNT=800      # packets of the exchange, at 200 pps: 4 s
MAX_PPS=1000   # the relay's per-sender rate in this test: the exchange's 200 pps x 4 copies fit
BURST=100

. "$HERE/lib/relay_env.sh"
nt_relay_env ntg c1=cone c2=symmetric c3=cone c4=none c5=symmetric

n_groups() { ctl_count group groups; }
group_field() { # field: of the only fan-out group (members: how many); fails with nattravctl
	local out
	out=$(ctl groups --json) || { echo "nattravctl groups failed"; return 1; }
	printf '%s\n' "$out" | python3 -c "
import json, sys
for l in sys.stdin:
    if not l.strip():
        continue
    g = json.loads(l)
    print(len(g['members']) if '$1' == 'members' else g['$1'])
    break
else:
    print(-1)"
}
config_rate_is() { # cost_ns burst_ns
	bpftool -j map dump pinned "$NT_PIN_DIR/nt_config" | python3 -c "
import json, sys
v = json.load(sys.stdin)[0]['formatted']['value']
sys.exit(not (v['pkt_cost_ns'] == $1 and v['burst_ns'] == $2))"
}
members_are() { [ "$(group_field members)" -eq "$1" ]; }
no_mappings() { [ "$(n_mappings)" -eq 0 ]; }
# rate_drops of every mapping, summed (the field nattravctl does not show)
rate_drops() {
	{ bpftool -j map dump pinned "$NT_PIN_DIR/nt_mappings4"
	  bpftool -j map dump pinned "$NT_PIN_DIR/nt_mappings"; } | python3 -c "
import json, sys
print(sum(e['formatted']['value']['rate_drops']
	  for l in sys.stdin if l.strip() for e in json.loads(l)))"
}

start_daemon() { # extra args...
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --ctl-socket off \
		--allow 203.0.113.0/24 --max-members 5 --max-pps "$MAX_PPS" --burst "$BURST" \
		--log-level debug \
		"$@" 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ."
}
nt_cleanup_push 'pkill -9 -f "nattravd .*--pin-dir $NT_PIN_DIR"'

verified() { grep -q '"event":"verified"' "$1" 2>/dev/null; }

exchange() { # label
	local l=$1 room="room-$1" pids=() i copies0
	copies0=$(stat_of fanout_copies)
	# receivers first (receive only), c5 leaves mid-stream; c4 also has a member of another group
	for i in 2 3 4; do
		local ns="C${i}_NS"
		client "${!ns}" "$work/$l-c$i" --token "$(token "r$i")" --group "$room" --duration 10 &
		pids+=($!)
	done
	client "$C5_NS" "$work/$l-c5" --token "$(token r5)" --group "$room" --duration 10 --leave-after 4 &
	pids+=($!)
	client "$C4_NS" "$work/$l-other" --token "$(token stranger)" --group "elsewhere" --duration 10 &
	pids+=($!)
	check "$l: the four receivers and the other group's member verified" \
		nt_wait_for -t 10 sh -c "grep -q verified '$work/$l-c2' && grep -q verified '$work/$l-c3' &&
		grep -q verified '$work/$l-c4' && grep -q verified '$work/$l-c5' && grep -q verified '$work/$l-other'"
	check "$l: 4 verified receivers are a fan-out group in nt_groups" test "$(group_field members)" -eq 4
	client "$C1_NS" "$work/$l-c1" --token "$(token sender)" --group "$room" --send $COUNT --rate 200 --wait 1 &
	local snd=$!
	nt_wait_for -t 10 sh -c "grep -q verified '$work/$l-c1'" || true
	check "$l: the sender joined the fan-out list (5 members)" nt_wait_for -t 3 members_are 5
	if client "$C4_NS" "$work/$l-sixth" --token "$(token sixth)" --group "$room" --timeout 5; then rc=0; else rc=$?; fi
	check "$l: a sixth member is refused: ERR 429 group full (--max-members 5)" \
		sh -c "[ $rc -eq 1 ] && grep -q '\"code\":429' '$work/$l-sixth' && grep -q 'group full' '$work/$l-sixth'"
	rc=0
	wait $snd || rc=$?
	check "$l: the sender exits 0" test "$rc" -eq 0
	sleep 1.2 # a tick (500 ms) folds off mode's counters into the map
	local copies
	copies=$(group_field copies_out)
	for i in "${pids[@]}"; do wait "$i" || true; done

	check "$l: c1 verified behind its cone NAT" grep -q "\"mapping\":\"$C1_PUBLIC:" "$work/$l-c1"
	check "$l: c2 verified behind its symmetric NAT" grep -q "\"mapping\":\"$C2_PUBLIC:" "$work/$l-c2"
	check "$l: c5 verified behind its symmetric NAT" grep -q "\"mapping\":\"$C5_PUBLIC:" "$work/$l-c5"
	check "$l: the sender sent $COUNT" test "$(json_field "$work/$l-c1" summary sent)" -eq $COUNT
	for i in 2 3 4; do
		check "$l: receiver c$i got all $COUNT packets exactly once" sh -c "
			[ '$(json_field "$work/$l-c$i" summary received)' -eq $COUNT ] &&
			[ '$(json_field "$work/$l-c$i" summary duplicates)' -eq 0 ] &&
			[ '$(json_field "$work/$l-c$i" summary lost)' -eq 0 ] &&
			[ '$(json_field "$work/$l-c$i" summary own)' -eq 0 ]"
	done
	local r5
	r5=$(json_field "$work/$l-c5" summary received)
	check "$l: c5 left mid-stream: got some ($r5), then nothing (received_after_leave 0)" sh -c "
		[ '$r5' -gt 0 ] && [ '$r5' -lt $COUNT ] &&
		[ '$(json_field "$work/$l-c5" summary received_after_leave)' -eq 0 ]"
	check "$l: the sender got none of its own and nothing else" sh -c "
		[ '$(json_field "$work/$l-c1" summary own)' -eq 0 ] &&
		[ '$(json_field "$work/$l-c1" summary received)' -eq 0 ]"
	check "$l: a member of another group got nothing" \
		test "$(json_field "$work/$l-other" summary received)" -eq 0
	check "$l: GROUP events told members the mode (fanout)" grep -q '"event":"group".*"mode":"fanout"' "$work/$l-c2"
	local want=$((3 * COUNT + r5))
	check "$l: the group's copies_out counts every copy delivered ($copies = $want)" test "$copies" -eq "$want"
	FANOUT_COPIES=$(($(stat_of fanout_copies) - copies0))
	sleep 0.5
	check "$l: no mapping left after the clients closed" nt_wait_for -t 3 no_mappings
	check "$l: the nt_groups entry went with the last member" test "$(n_groups)" -eq 0
}

rate() { # label: c1 sends at 4x --max-pps for 2 s to two receivers
	local l=$1 room="rate-$1" a b d0 drop0 dur=2
	local send=$((4 * MAX_PPS * dur))
	drop0=$(stat_of drop_rate)
	client "$C2_NS" "$work/$l-r2" --token "$(token q2)" --group "$room" --duration 9 &
	a=$!
	client "$C3_NS" "$work/$l-r3" --token "$(token q3)" --group "$room" --duration 9 &
	b=$!
	nt_wait_for -t 10 sh -c "grep -q verified '$work/$l-r2' && grep -q verified '$work/$l-r3'" || true
	client "$C1_NS" "$work/$l-s" --token "$(token flood)" --group "$room" --send $send --rate $((4 * MAX_PPS)) --wait 3 &
	local s=$!
	nt_wait_for -t 10 sh -c "grep -q verified '$work/$l-s'" || true
	sleep $((dur + 1))
	d0=$(rate_drops)
	wait $s || true
	wait $a || true
	wait $b || true
	local r2 r3 lo hi
	r2=$(json_field "$work/$l-r2" summary received)
	r3=$(json_field "$work/$l-r3" summary received)
	# the sender pays for both copies: the relay sends max-pps x 2 s + burst
	# in all, half of it to each; the client's own send time wobbles a little
	lo=$((MAX_PPS * dur / 2 * 8 / 10))
	hi=$((MAX_PPS * dur / 2 * 12 / 10 + BURST / 2 + 1))
	check "$l: sender sent $send at $((4 * MAX_PPS)) pps" test "$(json_field "$work/$l-s" summary sent)" -eq $send
	check "$l: each receiver got about $MAX_PPS / 2 pps x $dur s + $BURST / 2 ($r2, $r3 in $lo..$hi)" \
		sh -c "[ $r2 -ge $lo ] && [ $r2 -le $hi ] && [ $r3 -ge $lo ] && [ $r3 -le $hi ] && [ $r2 -eq $r3 ]"
	check "$l: the relay sent no more than the sender's budget ($((r2 + r3)) <= $((2 * hi)))" \
		test $((r2 + r3)) -le $((2 * hi))
	check "$l: the over-rate packets were counted in the mapping's rate_drops ($d0 >= $((send - hi)))" \
		test "$d0" -ge $((send - hi))
	RATE_STAT=$(($(stat_of drop_rate) - drop0))
	RATE_SEND=$send RATE_HI=$hi
}

# --- XDP path -------------------------------------------------------------
start_daemon
check "xdp: program attached" sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
check "max-pps and burst written into nt_config" config_rate_is $((1000000000 / MAX_PPS)) $((BURST * 1000000000 / MAX_PPS))
exchange xdp
check "xdp: TC made every copy (fanout_copies +$FANOUT_COPIES = $((3 * COUNT)) + c5's)" \
	test "$FANOUT_COPIES" -ge $((3 * COUNT))
rate xdp
check "xdp: XDP counted the over-rate drops (drop_rate +$RATE_STAT)" test "$RATE_STAT" -ge $((RATE_SEND - RATE_HI))
stop_daemon

# --- userspace path -------------------------------------------------------
start_daemon --xdp-mode off
check "userspace: no program attached" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
exchange userspace
check "userspace: no copy made by TC (fanout_copies +$FANOUT_COPIES)" test "$FANOUT_COPIES" -eq 0
rate userspace
stop_daemon

relay_summary
