#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Faults (docs/security.md): two NATed clients streaming 250 pps each way
# ride through kill -9 of nattravd, SIGTERM with --keep-on-exit and an
# upgrade to a build with another map layout, each followed by a restart
# 3 s later: XDP relays meanwhile, the clients reconnect and RESUME, send
# all they were asked to and get >= 99.5 %; adopted mappings of ended calls
# expire; a client whose connection is reset resumes its session and its
# TLS session; a killed client's mapping goes within the consent window;
# attaching the XDP program again over a running one keeps the maps.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CONSENT=4

. "$HERE/lib/relay_env.sh"
nt_relay_env ntf c1=none c2=none c3=cone c4=symmetric
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1  # bpf_fib_lookup

start_daemon() { # NT_NATTRAVD: another build's daemon
	nt_nsexec "$RELAY_NS" "${NT_NATTRAVD:-$B/nattravd}" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --log-level debug --config none \
		--consent-window "$CONSENT" --allow 203.0.113.0/24 "$@" 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'
mapping_of() { grep -o '"event":"verified"[^}]*"mapping":"[^"]*"' "$1" | head -1 | sed 's/.*"mapping":"//;s/"$//'; }

# --- calls ride through a restart: kill -9, SIGTERM with --keep-on-exit, an
# upgrade to another map layout; 250 pps both ways between NATed clients ----
RATE=250 COUNT=3000   # 12 s of media each way
NEW="$ROOT/build/faults-m32"
make -s -C "$ROOT" OUT="$NEW" NT_DEFS=-DNT_GROUP_MAX_MEMBERS=32 "$NEW/nattravd" >"$work/m32.log" 2>&1 ||
	nt_fail "cannot build the other-layout daemon (see $work/m32.log)"

through() { # label, how: kill9 | term | upgrade
	local l=$1 how=$2 a b pid
	client "$C3_NS" "$work/$l-a" --token "$(token "a-$l" "call-$l")" --group "call-$l" \
		--send $COUNT --rate $RATE --wait 3 &
	a=$!
	client "$C4_NS" "$work/$l-b" --token "$(token "b-$l" "call-$l")" --group "call-$l" \
		--send $COUNT --rate $RATE --wait 3 &
	b=$!
	nt_wait_for -t 10 sh -c "grep -q verified '$work/$l-a' && grep -q verified '$work/$l-b'" || true
	sleep 3
	pid=$(daemon_pid)
	case $how in
	kill9) kill -9 "$pid" ;;
	*) kill -TERM "$pid" ;;
	esac
	nt_wait_for -t 5 sh -c "! kill -0 $pid 2>/dev/null" || true
	check "$l: the XDP program stayed attached with the daemon gone" \
		sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
	sleep 3
	if [ "$how" = upgrade ]; then
		NT_NATTRAVD="$NEW/nattravd" start_daemon --keep-on-exit
	else
		start_daemon --keep-on-exit
	fi
	local ra=0 rb=0
	wait $a && ra=0 || ra=$?
	wait $b && rb=0 || rb=$?
	check "$l: both clients stayed up and finished (exit $ra, $rb)" test $((ra + rb)) -eq 0
	local sa sb ga gb
	sa=$(json_field "$work/$l-a" summary sent) sb=$(json_field "$work/$l-b" summary sent)
	ga=$(json_field "$work/$l-a" summary received) gb=$(json_field "$work/$l-b" summary received)
	check "$l: each sent all it was asked to ($sa, $sb of $COUNT)" \
		sh -c "[ '$sa' = $COUNT ] && [ '$sb' = $COUNT ]"
	check "$l: >= 99.5 % delivered each way ($gb of $sa, $ga of $sb)" \
		sh -c "[ ${gb:-0} -ge $((COUNT * 995 / 1000)) ] && [ ${ga:-0} -ge $((COUNT * 995 / 1000)) ]"
	check "$l: both resumed their sessions" \
		sh -c "grep -q '\"event\":\"reconnected\".*resumed' '$work/$l-a' && grep -q '\"event\":\"reconnected\".*resumed' '$work/$l-b'"
}

start_daemon --keep-on-exit
through kill9 kill9
check "kill -9: the new daemon adopted both mappings" grep -q "adopted 2 mappings" "$work/daemon.log"
check "kill -9: and gave them back to their sessions" grep -q "resumed session=.*mapping adopted" "$work/daemon.log"
through term term
check "SIGTERM --keep-on-exit: the clients were told BYE reason=restart" \
	grep -q '"reason":"restart"' "$work/term-a"
through upgrade upgrade
check "upgrade: the other-layout daemon carried the maps over" \
	grep -qi "migrat" "$work/daemon.log"
# a call whose clients die with the daemon: adopted, never resumed, expired
client "$C3_NS" "$work/x-a" --token "$(token x-a)" --group x --send 0 --duration 30 --no-reconnect &
client "$C4_NS" "$work/x-b" --token "$(token x-b)" --group x --send 0 --duration 30 --no-reconnect &
nt_wait_for -t 10 sh -c "grep -q verified '$work/x-a' && grep -q verified '$work/x-b'" || true
kill -9 "$(daemon_pid)"
pkill -9 -f "nattrav-client .*--group x " || true
wait || true
check "--no-reconnect: the clients ended with the connection" \
	sh -c "grep -q '\"event\":\"closed\"' '$work/x-a' || ! grep -q reconnected '$work/x-a'"
start_daemon   # this build's layout again: carried back from the other one
check "restart: the two mappings of the dead call were adopted" \
	sh -c "grep 'adopted [0-9]* mappings' '$work/daemon.log' | tail -1 | grep -q 'adopted 2 mappings'"
sleep 1
check "restart: they relay until the consent window ends" test "$(n_mappings)" -eq 2
nt_wait_for -t $((CONSENT + 4)) sh -c "[ \$('$B/nattravctl' --pin-dir '$NT_PIN_DIR' mappings --json 2>/dev/null | grep -c '\"src\"') -eq 0 ]" || true
check "restart: adopted mappings whose sessions did not come back expired" test "$(n_mappings)" -eq 0

# --- TLS closed: the session's entries go --------------------------------
client "$C1_NS" "$work/t1" --token "$(token carol)" --group t --send 0 --duration 30 &
t1=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/t1'"
check "client verified" test "$(n_mappings)" -eq 1

# --- XDP program swapped under live mappings ----------------------------
ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" >/dev/null 2>>"$work/attach.log" || true
check "upgrade: attach over the running program keeps the mappings" test "$(n_mappings)" -eq 1
check "upgrade: XDP still attached" sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"

# --- the connection reset under a running daemon: the client comes back
# with RESUME over a resumed TLS session (its 1.3 ticket: no certificate,
# no signature) ----------------------------------------------------------
ip netns exec "$RELAY_NS" ss -K state established '( sport = :4433 )' >/dev/null
nt_wait_for -t 10 sh -c "grep -q '\"event\":\"reconnected\"' '$work/t1'" || true
check "connection reset: the client came back with RESUME" grep -q '"event":"reconnected".*resumed' "$work/t1"
check "... over a resumed TLS session" grep -q "TLS up with $C1_IP:[0-9]* (.*, resumed)" "$work/daemon.log"

kill -9 "$(pgrep -f "nattrav-client .*--group t ")"
wait $t1 || true
start=$(date +%s%N)
# killed: its TLS connection drops without a QUIT, so the session waits a
# consent window for a RESUME that does not come, then goes with its mapping
nt_wait_for -t $((CONSENT + 4)) sh -c "[ \$('$B/nattravctl' --pin-dir '$NT_PIN_DIR' mappings --json 2>/dev/null | grep -c '\"src\"') -eq 0 ]" || true
check "TLS dropped (client killed): mapping removed within the consent window + 4 s ($((($(date +%s%N) - start) / 1000000)) ms)" test "$(n_mappings)" -eq 0

kill -TERM "$(daemon_pid)" || true
if [ "$NT_FAILED" -ne 0 ]; then
	grep -v "debug libbpf" "$work/daemon.log" | tail -3
	cat "$work/attach.log" 2>/dev/null | tail -5
fi
nt_summary
