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
# replies to one address are rate-limited; a full mapping table refuses new
# verifications with "quota" and keeps the verified ones; TLS 1.0/1.1, TLS 1.2
# CBC suites, renegotiation, a wrong CA and a wrong server address are refused
# (and an OpenSSL server that accepts the old versions shows the probes can
# fail); --client-ca requires a client certificate; a token from --token-file
# or NATTRAV_TOKEN verifies and stays out of ps.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
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
check "flood: STUN Binding answered at the per-address reply rate, not 1:1 ($(jf binding_replies))" \
	python3 -c "import sys; sys.exit(not (1 <= int('$(jf binding_replies)') <= 50 * (float('$(jf secs)') + 2)))"
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
# tls_probe PORT ARGS...: the handshake's own result, as s_client -brief
# reports it: "PROTOCOL CIPHER" when one was established and the certificate
# verified, else "refused: " and the first alert or error s_client saw.
tls_probe() {
	local port=$1 out
	shift
	out=$(echo | ip netns exec "$C3_NS" timeout 5 openssl s_client -brief -connect "$RELAY_V4:$port" \
		-CAfile "$work/ca.pem" -verify_return_error "$@" 2>&1) || true
	if grep -qx 'CONNECTION ESTABLISHED' <<<"$out" && grep -qx 'Verification: OK' <<<"$out"; then
		echo "$(sed -n 's/^Protocol version: //p' <<<"$out") $(sed -n 's/^Ciphersuite: //p' <<<"$out")"
	else
		echo "refused: $(grep -o 'alert [a-z0-9 ]*\|no [a-z ]*cipher[a-z ]*\|unsupported protocol' <<<"$out" | head -1)"
	fi
}
# s_server PORT ARGS...: a plain OpenSSL server with the relay's certificate
s_server() {
	local port=$1
	shift
	ip netns exec "$RELAY_NS" openssl s_server -accept "$port" -cert "$work/server.pem" \
		-key "$work/server.key" -www "$@" >/dev/null 2>&1 &
	nt_cleanup_push "kill $! 2>/dev/null"
	nt_wait_for -t 5 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :$port' | grep -q ." ||
		nt_fail "openssl s_server on port $port did not start"
}
OLD='DEFAULT:@SECLEVEL=0' # this OpenSSL offers TLS 1.0/1.1 and SHA-1 only at level 0
# A control server that accepts what nattravd must refuse: the probes below
# can tell an accepted handshake from a refused one on this OpenSSL.
s_server 4443 -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher "$OLD"
r=$(tls_probe 4443 -tls1 -cipher "$OLD")
check "probe works: a permissive server accepts TLS 1.0 ($r)" test "${r%% *}" = TLSv1
r=$(tls_probe 4443 -tls1_1 -cipher "$OLD")
check "probe works: a permissive server accepts TLS 1.1 ($r)" test "${r%% *}" = TLSv1.1
r=$(tls_probe 4443 -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA)
check "probe works: a permissive server accepts a TLS 1.2 CBC suite ($r)" \
	test "$r" = "TLSv1.2 ECDHE-ECDSA-AES128-SHA"

r=$(tls_probe 4433 -tls1 -cipher "$OLD")
check "TLS 1.0 refused with a protocol_version alert ($r)" test "$r" = "refused: alert protocol version"
r=$(tls_probe 4433 -tls1_1 -cipher "$OLD")
check "TLS 1.1 refused with a protocol_version alert ($r)" test "$r" = "refused: alert protocol version"
r=$(tls_probe 4433 -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA)
check "TLS 1.2 with a CBC suite refused with a handshake_failure alert ($r)" \
	test "$r" = "refused: alert handshake failure"
r=$(tls_probe 4433 -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
check "TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 accepted ($r)" \
	test "$r" = "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256"
r=$(tls_probe 4433 -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305)
check "TLS 1.2 with ECDHE-ECDSA-CHACHA20-POLY1305 accepted ($r)" \
	test "$r" = "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305"
r=$(tls_probe 4433)
check "TLS 1.3 accepted with an AEAD suite ($r)" sh -c "case '$r' in 'TLSv1.3 TLS_AES_'*_GCM_* | 'TLSv1.3 TLS_CHACHA20_POLY1305_'*) ;; *) exit 1;; esac"

# The client keeps the same policy: it refuses servers that only speak TLS 1.1
# or only a CBC suite, at the handshake.
s_server 4444 -tls1_1 -cipher "$OLD"
s_server 4445 -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA
rc=0
ip netns exec "$C3_NS" "$B/nattrav-client" --server "$RELAY_V4:4444" --ca "$work/ca.pem" \
	--token "$(token t0)" --group t --timeout 5 >/dev/null 2>"$work/tls11.err" || rc=$?
check "client refuses a TLS 1.1 server: $(cat "$work/tls11.err")" \
	sh -c "[ $rc -eq 1 ] && grep -q 'TLS handshake with $RELAY_V4 failed: .*\(unsupported protocol\|alert protocol version\)' '$work/tls11.err'"
rc=0
ip netns exec "$C3_NS" "$B/nattrav-client" --server "$RELAY_V4:4445" --ca "$work/ca.pem" \
	--token "$(token t0)" --group t --timeout 5 >/dev/null 2>"$work/cbc.err" || rc=$?
check "client refuses a CBC-only TLS 1.2 server: $(cat "$work/cbc.err")" \
	sh -c "[ $rc -eq 1 ] && grep -q 'TLS handshake with $RELAY_V4 failed: .*alert handshake failure' '$work/cbc.err'"

(printf 'HELLO nattrav/1\n'; sleep 0.5; printf 'R\n'; sleep 1; printf 'PING\n'; sleep 1) |
	ip netns exec "$C3_NS" timeout 5 openssl s_client -connect "$RELAY_V4:4433" -CAfile "$work/ca.pem" \
		-tls1_2 >"$work/reneg.txt" 2>&1 || true
check "TLS 1.2 renegotiation refused" \
	sh -c "grep -q 'OK HELLO' '$work/reneg.txt' && grep -q RENEGOTIATING '$work/reneg.txt' && ! grep -q 'OK PING' '$work/reneg.txt'"
rc=0
ip netns exec "$C3_NS" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/other/ca.pem" \
	--token "$(token t1)" --group t --send 1 --timeout 5 >/dev/null 2>"$work/wrongca.err" || rc=$?
check "client refuses a server certificate from another CA: $(cat "$work/wrongca.err")" \
	sh -c "[ $rc -eq 1 ] && grep -q 'server certificate of $RELAY_V4 refused: unable to get local issuer certificate' '$work/wrongca.err'"
# nattravd listens on --addr only: the control server on 4443, with the same
# certificate (for 203.0.113.1), answers on the second address.
ip -n "$RELAY_NS" addr add 203.0.113.2/24 dev "$RELAY_IF"
rc=0
ip netns exec "$C3_NS" "$B/nattrav-client" --server 203.0.113.2:4443 --ca "$work/ca.pem" \
	--token "$(token t2)" --group t --send 1 --timeout 5 >/dev/null 2>"$work/wrongip.err" || rc=$?
check "client refuses a certificate for another address (203.0.113.2): $(cat "$work/wrongip.err")" \
	sh -c "[ $rc -eq 1 ] && grep -q 'server certificate of 203.0.113.2 refused: IP address mismatch' '$work/wrongip.err'"
stop_daemon

start_daemon --allow 203.0.113.0/24 --client-ca "$work/ca.pem"
rc=0
client "$C3_NS" "$work/nocert" --token "$(token m1)" --group m --send 1 --timeout 5 || rc=$?
check "mutual TLS: a client without a certificate is refused (peer did not return a certificate)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'TLS handshake with $C3_IP:[0-9]* failed: .*peer did not return a certificate' '$work/daemon.log'"
rc=0
client "$C3_NS" "$work/othercert" --token "$(token m2)" --group m --send 1 --timeout 5 \
	--cert "$work/other/client.pem" --key "$work/other/client.key" || rc=$?
# (the client sees the alert or, on TLS 1.3, a reset on its first write: the daemon's reason is the one to check)
check "mutual TLS: a certificate from another CA is refused (certificate verify failed)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'TLS handshake with $C3_IP:[0-9]* failed: .*certificate verify failed' '$work/daemon.log'"
client "$C3_NS" "$work/withcert" --token "$(token m3)" --group m --send 1 --wait 1 \
	--cert "$work/client.pem" --key "$work/client.key" || true
check "mutual TLS: a client with a good certificate verifies" grep -q '"verified"' "$work/withcert"
stop_daemon

# --- 7. tokens out of the argument list -----------------------------------------
# args_of GROUP: the argument list of the running client of GROUP, as ps shows it
args_of() { ps -o args= -p "$(pgrep -f "nattrav-client .*--group $1( |\$)" | head -1)"; }
start_daemon --allow 203.0.113.0/24
tok=$(token filed)
(umask 077 && printf '%s\n' "$tok" >"$work/tok")
client "$C3_NS" "$work/tf" --token-file "$work/tok" --group tf --duration 3 &
tf=$!
nt_wait_for -t 10 grep -q '"verified"' "$work/tf" || true
args=$(args_of tf || true)
wait $tf || true
check "--token-file: the client verifies with the token of the file" grep -q '"verified"' "$work/tf"
check "--token-file: ps shows the file, not the token ($args)" \
	sh -c "echo \"\$1\" | grep -q -- '--token-file $work/tok' && ! echo \"\$1\" | grep -qF -- '${tok##*:}'" _ "$args"
tok=$(token envd)
NATTRAV_TOKEN=$tok client "$C3_NS" "$work/te" --group te --duration 3 &
te=$!
nt_wait_for -t 10 grep -q '"verified"' "$work/te" || true
args=$(args_of te || true)
wait $te || true
check "NATTRAV_TOKEN: the client verifies with the token of the environment" grep -q '"verified"' "$work/te"
check "NATTRAV_TOKEN: ps does not show the token ($args)" \
	sh -c "echo \"\$1\" | grep -q -- '--group te' && ! echo \"\$1\" | grep -qF -- '${tok##*:}'" _ "$args"
printf '%s\n' "$(token mallory | sed 's/:[^:]*$/:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=/')" >"$work/forged.tok"
rc=0
client "$C3_NS" "$work/tforged" --token-file "$work/forged.tok" --group tf --timeout 5 || rc=$?
check "--token-file: a forged token in the file is refused with ERR 403" \
	sh -c "[ $rc -eq 1 ] && grep -q '\"code\":403' '$work/tforged'"
: >"$work/empty.tok"
for f in "$work/empty.tok:the file is empty" "$work/none.tok:No such file or directory"; do
	rc=0
	ip netns exec "$C3_NS" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" \
		--token-file "${f%%:*}" --group tf >/dev/null 2>"$work/tokfile.err" || rc=$?
	check "--token-file ${f%%:*}: exit 2, '${f#*:}'" \
		sh -c "[ $rc -eq 2 ] && grep -q '^nattrav-client: --token-file ${f%%:*}: ${f#*:}\$' '$work/tokfile.err'"
done
stop_daemon

if [ "$NT_FAILED" -ne 0 ]; then
	grep -v 'debug libbpf' "$work/daemon.log" | tail -40
	tail -20 "$work/clients.log"
fi
nt_summary
