#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Hardening across real NATs (docs/security.md): a peer in a refused range
# gets EVT DENIED over TLS, no UDP reply, and nothing is written; a captured
# ANSWER replayed from the same or another socket, before or after success,
# verifies nothing; PROBEs replayed from another socket get nothing and do not
# stop the real client from verifying; a flood of forged and replayed
# datagrams from one socket gets few replies and a few log lines, not one per
# datagram; no UDP reply is longer than its request, unpadded probes get none,
# replies to one address are rate-limited; a full mapping table refuses new verifications
# with "quota" and keeps the verified ones; TLS 1.0/1.1, renegotiation, a
# wrong CA and a wrong server address are refused; --client-ca requires a
# client certificate.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/relay_env.sh"
nt_relay_env nts c1=cone c2=symmetric c3=none
"$ROOT/scripts/gen-certs.sh" "$work/other" "$RELAY_V4" 2>/dev/null
PY="python3 $HERE/lib/ntproto.py"

start_daemon() { # extra args...
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --log-level debug --config none \
		"$@" 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}
stop_daemon() {
	local pid
	pid=$(daemon_pid)
	[ -n "$pid" ] && kill -TERM "$pid"
	nt_wait_for -t 5 sh -c "! pgrep -f 'nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR'" || true
}
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'

# --- 1. deny list: TEST-NET-3 is a documentation range, refused by default ---
start_daemon
rc=0
client "$C1_NS" "$work/denied" --token "$(token alice)" --group g --send 5 --timeout 5 || rc=$?
check "documentation-range peer refused with EVT DENIED reason=address" \
	sh -c "[ $rc -ne 0 ] && grep -q 'refuses our address' '$work/clients.log' && grep -q 'refused: address documentation' '$work/daemon.log'"
# a signed 403 to that address would make the relay a reflector into the refused range
check "denied: the client learned it over TLS, no UDP 403 was sent" \
	sh -c "grep -q 'refuses our address (EVT DENIED)' '$work/clients.log' && ! grep -q 'UDP error 403' '$work/clients.log'"
check "denied: no mapping written" test "$(n_mappings)" -eq 0
stop_daemon

# --- 2.-4. with the lab's range allowed, one mapping at most ---------------
start_daemon --allow 203.0.113.0/24 --max-mappings 1 --metrics 9471
ip netns exec "$C3_NS" $PY replay --server "$RELAY_V4" --ca "$work/ca.pem" --token "$(token rp)" \
	>"$work/replay.json" 2>>"$work/clients.log" || true
jr() { python3 -c "import json; print(json.load(open('$work/replay.json')).get('$1'))"; }
check "replay: the genuine ANSWER verifies" test "$(jr verified)" = True
check "replay: the ANSWER from another port, before success, verifies nothing" test "$(jr before_other_verified)" = False
check "replay: the same ANSWER again from the same socket verifies nothing" test "$(jr after_same_verified)" = False
check "replay: the same ANSWER from another socket verifies nothing" test "$(jr after_other_verified)" = False
check "replay: the mapping is still the genuine one" sh -c "[ '$(jr status_mapping)' = '$(jr mapping)' ]"
check "replay: a replay from another socket gets at most a smaller signed 438" \
	test "$(jr after_other_reply)" -lt "$(jr replay_len)"
sleep 1

ip netns exec "$C3_NS" $PY probereplay --server "$RELAY_V4" --ca "$work/ca.pem" --token "$(token pr)" \
	>"$work/probereplay.json" 2>>"$work/clients.log" || true
jp() { python3 -c "import json; print(json.load(open('$work/probereplay.json')).get('$1'))"; }
check "probe replay: PROBEs replayed from another socket get no reply ($(jp replay_replies))" \
	test "$(jp replay_replies)" = 0
check "probe replay: the real client's challenge still verifies" test "$(jp verified)" = True
check "probe replay: the answered PROBE replayed later gets nothing ($(jp after_replies))" \
	test "$(jp after_replies)" = 0
check "probe replay: a copy winning the race gets the challenge, the original nothing" \
	sh -c "[ '$(jp race_copy_replies)' = 1 ] && [ '$(jp race_original_replies)' = 0 ]"
check "probe replay: the client's next PROBE verifies again" test "$(jp reverified)" = True
check "probe replay: the mapping is the real client's" \
	sh -c "[ '$(jp status_mapping)' = '$(jp mapping)' ] && [ -n '$(jp mapping)' ]"
sleep 1

# a flood from one socket: replies bounded per session, one summary line, not one per datagram
mark=$(wc -l <"$work/daemon.log")
ip netns exec "$C3_NS" $PY flood --server "$RELAY_V4" --ca "$work/ca.pem" --token "$(token fl)" \
	--seconds 3 >"$work/flood.json" 2>>"$work/clients.log" || true
jf() { python3 -c "import json; print(json.load(open('$work/flood.json')).get('$1'))"; }
nt_wait_for -t 15 sh -c "tail -n +$((mark + 1)) '$work/daemon.log' | grep 'udp: refused' | grep -q 'bad mac'" || true
flood_lines=$(tail -n +$((mark + 1)) "$work/daemon.log" | grep -v '^[^ ]* debug ' | grep -c . || true)
check "flood: $(jf sent) datagrams, $(jf replies) replies: at most 10 a second for the session" \
	python3 -c "import sys; sys.exit(not (int('$(jf sent)') >= 1000 and 1 <= int('$(jf replies)') <= 10 * (float('$(jf secs)') + 2)))"
check "flood: a summary line with the reasons" \
	sh -c "tail -n +$((mark + 1)) '$work/daemon.log' | grep 'udp: refused' | grep 'bad mac' | grep 'unknown session' | grep 'malformed' | grep -q 'stale answer'"
check "flood: $flood_lines log lines above debug, not one per datagram" test "$flood_lines" -le 12
refused=$(ip netns exec "$RELAY_NS" curl -s 127.0.0.1:9471/metrics |
	awk '/^nattrav_udp_refused_total\{reason="bad_mac"\}/ {print $2}')
check "flood: refused datagrams counted in the metrics ($refused)" test "${refused:-0}" -ge 100
sleep 1

client "$C1_NS" "$work/q1" --token "$(token alice)" --group q --duration 6 &
q1=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/q1'"
before=$(ctl mappings --json | grep -o '"src":"[^"]*"' || true)
rc=0
client "$C2_NS" "$work/q2" --token "$(token bob)" --group q --send 5 --timeout 5 || rc=$?
check "quota: the second verification is refused with reason=quota" \
	sh -c "[ $rc -ne 0 ] && grep -q 'at capacity' '$work/clients.log'"
check "quota: the verified mapping stays, nothing evicted" \
	sh -c "[ '$(ctl mappings --json | grep -o '"src":"[^"]*"' || true)' = '$before' ] && [ -n '$before' ]"
wait $q1 || true

toks=$(for i in 1 2 3 4 5 6 7 8; do printf '%s,' "$(token amp$i)"; done)
ip netns exec "$C3_NS" $PY amp --server "$RELAY_V4" --ca "$work/ca.pem" --tokens "${toks%,}" \
	>"$work/amp.json" 2>>"$work/clients.log" || true
ja() { python3 -c "import json; print(json.load(open('$work/amp.json')).get('$1'))"; }
check "amplification: unpadded probes get no reply" test "$(ja unpadded_replies)" -eq 0
check "amplification: no reply longer than its probe (max ratio $(ja max_ratio))" \
	python3 -c "import sys; sys.exit(not float('$(ja max_ratio)') <= 1.0)"
check "amplification: replies to one address rate-limited ($(ja replies) of $(ja sent) <= 50)" \
	sh -c "[ $(ja replies) -le 50 ] && [ $(ja replies) -ge 1 ] && [ $(ja sent) -ge 80 ]"
check "amplification: refusals counted in the log" grep -q "more than 50 a second to that address" "$work/daemon.log"
withheld=$(ip netns exec "$RELAY_NS" curl -s 127.0.0.1:9471/metrics |
	awk '/^nattrav_udp_replies_withheld_total\{reason="rate"\}/ {print $2}')
check "amplification: refusals counted in the metrics ($withheld)" test "${withheld:-0}" -ge 1

# --- 6. TLS -------------------------------------------------------------------
s_client() { ip netns exec "$C3_NS" timeout 5 openssl s_client -connect "$RELAY_V4:4433" -CAfile "$work/ca.pem" "$@" 2>&1; }
check "TLS 1.1 refused" sh -c "! echo | ip netns exec '$C3_NS' timeout 5 openssl s_client -connect '$RELAY_V4:4433' -tls1_1 >/dev/null 2>&1"
check "TLS 1.0 refused" sh -c "! echo | ip netns exec '$C3_NS' timeout 5 openssl s_client -connect '$RELAY_V4:4433' -tls1 >/dev/null 2>&1"
(printf 'HELLO nattrav/1\n'; sleep 0.5; printf 'R\n'; sleep 1; printf 'PING\n'; sleep 1) |
	s_client -tls1_2 >"$work/reneg.txt" || true
check "TLS 1.2 renegotiation refused" \
	sh -c "grep -q 'OK HELLO' '$work/reneg.txt' && grep -q RENEGOTIATING '$work/reneg.txt' && ! grep -q 'OK PING' '$work/reneg.txt'"
rc=0
ip netns exec "$C3_NS" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/other/ca.pem" \
	--token "$(token t1)" --group t --send 1 --timeout 5 >/dev/null 2>"$work/wrongca.err" || rc=$?
check "client refuses a server certificate from another CA" test "$rc" -ne 0
ip -n "$RELAY_NS" addr add 203.0.113.2/24 dev "$RELAY_IF"
rc=0
ip netns exec "$C3_NS" "$B/nattrav-client" --server 203.0.113.2 --ca "$work/ca.pem" \
	--token "$(token t2)" --group t --send 1 --timeout 5 >/dev/null 2>"$work/wrongip.err" || rc=$?
check "client refuses a certificate for another address (203.0.113.2)" test "$rc" -ne 0
stop_daemon

start_daemon --allow 203.0.113.0/24 --client-ca "$work/ca.pem"
rc=0
client "$C3_NS" "$work/nocert" --token "$(token m1)" --group m --send 1 --timeout 5 || rc=$?
check "mutual TLS: a client without a certificate is refused" test "$rc" -ne 0
rc=0
client "$C3_NS" "$work/othercert" --token "$(token m2)" --group m --send 1 --timeout 5 \
	--cert "$work/other/client.pem" --key "$work/other/client.key" || rc=$?
check "mutual TLS: a certificate from another CA is refused" test "$rc" -ne 0
client "$C3_NS" "$work/withcert" --token "$(token m3)" --group m --send 1 --wait 1 \
	--cert "$work/client.pem" --key "$work/client.key" || true
check "mutual TLS: a client with a good certificate verifies" grep -q '"verified"' "$work/withcert"
stop_daemon

if [ "$NT_FAILED" -ne 0 ]; then
	grep -v 'debug libbpf' "$work/daemon.log" | tail -40
	tail -20 "$work/clients.log"
fi
nt_summary
