#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The client library's non-blocking API (nt_client_start / fds /
# next_timeout / process) from one epoll loop: build/e2e/nb_pair runs two
# clients behind a symmetric NAT; both join, verify and send media to each
# other; nattravd is stopped with --keep-on-exit (SIGTERM) and started again
# 2 s later; both resume their sessions with the ticket and media continues;
# then the NAT forgets its UDP mappings (a rebinding: new external ports)
# and the library proves the new ones by itself, without nb_pair asking.
# nb_pair keeps SIGPIPE at its default disposition throughout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CONSENT=6

. "$HERE/lib/relay_env.sh"
nt_relay_env ntn c1=symmetric
NB="$B/e2e/nb_pair"
[ -x "$NB" ] || nt_fail "$NB missing: run make"

start_daemon() {
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --log-level debug --config none \
		--consent-window "$CONSENT" --allow 203.0.113.0/24 --keep-on-exit \
		2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'

# field CLIENT EVENT KEY: KEY of the last EVENT line of CLIENT in nb_pair's output
field() {
	python3 -c "
import json, sys
v = ''
for l in open('$work/nb.out'):
    try: e = json.loads(l)
    except ValueError: continue
    if e.get('client') == $1 and e.get('event') == '$2': v = e.get('$3', '')
print(v)"
}
count() { grep -c "\"client\":$1,\"event\":\"$2\"" "$work/nb.out" || true; }

start_daemon
RATE=100 RUN=18
ip netns exec "$C1_NS" "$NB" --server "$RELAY_V4" --ca "$work/ca.pem" --group nb \
	--token "$(token alice nb)" --token "$(token bob nb)" --rate $RATE --run $RUN \
	>"$work/nb.out" 2>"$work/nb.err" &
pair=$!
nt_wait_for -t 10 sh -c "[ \$(grep -c '\"event\":\"verified\"' '$work/nb.out') -ge 2 ]" ||
	{ cat "$work/nb.err"; nt_fail "the two clients did not verify"; }
sleep 3
stop_daemon
check "the XDP program stayed attached with the daemon gone" \
	sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
sleep 2
start_daemon
nt_wait_for -t 10 sh -c "[ \$(grep -c '\"event\":\"reconnected\"' '$work/nb.out') -ge 2 ]" || true
sleep 2
# only UDP: the TLS connections stay (a real rebinding keeps TCP state too)
ip netns exec "$C1_NAT_NS" conntrack -D -p udp >/dev/null 2>&1 || true
rc=0
wait $pair || rc=$?
check "nb_pair ran to the end (exit $rc; SIGPIPE would be 141)" test "$rc" -eq 0
for i in 1 2; do
	check "client $i: joined, then verified behind the NAT ($C1_PUBLIC)" \
		sh -c "[ $(count $i joined) -ge 1 ] && grep -q '\"client\":$i,\"event\":\"verified\",\"mapping\":\"$C1_PUBLIC:' '$work/nb.out'"
	check "client $i: resumed its session after the restart" test "$(field $i summary resumed)" -ge 1
	check "client $i: never had to join again" test "$(field $i summary rejoined)" -eq 0
	check "client $i: got none of its own media" test "$(field $i summary own)" -eq 0
	sent=$(field $((3 - i)) summary sent) got=$(field $i summary received)
	# what the relay drops between the rebinding and the next keepalive's 438 (<= 2 s)
	check "client $i: >= 75 % of the other's media ($got of $sent)" \
		test "${got:-0}" -ge $(( ${sent:-1} * 75 / 100 ))
	after=$(field $i summary after_resume)
	check "client $i: media kept coming after the resumption ($after packets)" \
		test "${after:-0}" -ge $((RATE * 3))
	check "client $i: verified again by itself after the NAT rebinding" \
		test "$(field $i summary verifies)" -ge 2
	check "client $i: a new external port (mappings: $(grep "\"client\":$i,\"event\":\"verified\"" "$work/nb.out" | grep -o '"mapping":"[^"]*"' | sort -u | tr '\n' ' '))" \
		test "$(grep "\"client\":$i,\"event\":\"verified\"" "$work/nb.out" | grep -o '"mapping":"[^"]*"' | sort -u | wc -l)" -ge 2
	after=$(field $i summary after_reverify)
	check "client $i: media kept coming after the re-verification ($after packets)" \
		test "${after:-0}" -ge $((RATE * 2))
done
check "the daemon adopted the mappings and the sessions resumed" \
	grep -q "resumed" "$work/daemon.log"

relay_summary
