#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may join what (docs/security.md): a token names its groups, and a
# holder of a valid token for another group cannot join a pair's group
# (ERR 403, the pair hears only each other); v1 tokens, tokens living longer
# than --max-token-ttl and a re-AUTH that drops the joined group are
# refused; per-user quotas (sessions, groups, seats in one group); STATUS
# before AUTH tells nothing of the relay; the HELLO + AUTH deadline is not
# extended by PING; a dropped session resumes with its ticket, an ended or
# changed one does not.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntz c1=cone c2=symmetric c3=none
LINES="python3 $HERE/lib/lines.py --server $RELAY_V4 --ca $work/ca.pem"

start_daemon() { # extra args...
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --allow 203.0.113.0/24 --config none \
		--consent-window 5 "$@" 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'
lines() { ip netns exec "$C3_NS" $LINES "$@" 2>>"$work/lines.err"; }

start_daemon --max-sessions-per-user 3 --max-groups-per-user 2 --max-members 4 \
	--max-token-ttl 3600 --auth-timeout 3

# --- 1. the attacker of the report: a valid token, another group ----------
client "$C1_NS" "$work/a" --token "$(token alice room9)" --group room9 --send 400 --rate 100 --wait 2 &
ALICE=$!
client "$C2_NS" "$work/b" --token "$(token bob room9 lobby)" --group room9 --send 400 --rate 100 --wait 2 &
BOB=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/a' && grep -q verified '$work/b'" || true
rc=0
client "$C3_NS" "$work/m" --token "$(token mallory lobby)" --group room9 --send 200 --rate 100 --timeout 5 || rc=$?
check "mallory (token for lobby) cannot join room9: client fails" test "$rc" -ne 0
check "... with ERR 403 group not allowed" grep -q "403 group not allowed" "$work/clients.log"
check "... and the daemon logged the refusal" grep -q "token does not name group=room9" "$work/daemon.log"
wait $ALICE || true
wait $BOB || true
check "alice received exactly bob's 400 packets" test "$(json_field "$work/a" summary received)" -eq 400
check "bob received exactly alice's 400 packets" test "$(json_field "$work/b" summary received)" -eq 400
check "the pair stayed a pair (no fan-out)" sh -c "! grep -q 'mode=fanout' '$work/a' '$work/b'"

# --- 2. tokens ------------------------------------------------------------
out=$(lines "HELLO nattrav/1" "AUTH $(token carol g1 g2)" "JOIN g2" "LEAVE" "JOIN g3")
check "a token for g1,g2 joins g2" sh -c "echo '$out' | sed -n 3p | grep -q '^OK JOIN'"
check "... and not g3 (403)" sh -c "echo '$out' | sed -n 5p | grep -q '^ERR 403 group not allowed'"
v1="$(python3 -c "
import hmac, hashlib, base64, time
s = open('$work/secret', 'rb').read().rstrip(b'\n')
m = '%d:olduser' % (time.time() + 600)
print(m + ':' + base64.b64encode(hmac.new(s, m.encode(), hashlib.sha256).digest()).decode())")"
out=$(lines "HELLO nattrav/1" "AUTH $v1")
check "a v1 token (no groups) is refused with its reason" sh -c "echo '$out' | grep -q '^ERR 400 token format v1 names no groups'"
long=$("$B/nattravctl" token --secret-file "$work/secret" --user lasting --group '*' --ttl 7200)
out=$(lines "HELLO nattrav/1" "AUTH $long")
check "a token valid for 2 h is refused at --max-token-ttl 3600" sh -c "echo '$out' | grep -q '^ERR 403 token lifetime'"
out=$(lines "HELLO nattrav/1" "AUTH $(token dora g1)" "JOIN g1" "AUTH $(token dora g2)" "STATUS")
check "re-AUTH with a token that drops the joined group is refused" \
	sh -c "echo '$out' | sed -n 4p | grep -q '^ERR 403 new token does not allow'"
check "... and the session stays in g1" sh -c "echo '$out' | sed -n 5p | grep -q 'group=g1'"
check "nattravctl token without --group is a usage error" \
	sh -c "! '$B/nattravctl' token --secret-file '$work/secret' --user x 2>&1 | grep -q '^v2:'"
check "nattravctl token --help shows --group" sh -c "'$B/nattravctl' token --help | grep -q -- '--group G'"

# the two minting examples of docs/protocol.md, run as written there
doc_block() { # LANG: the first such block after "Minting a token"
	awk -v lang="$1" '/^### Minting a token/ { on = 1 } on && $0 == "```" lang { p = 1; next }
		p && /^```/ { exit } p { print }' "$ROOT/docs/protocol.md" |
		sed "s|/etc/nattrav/secret|$work/secret|"
}
doc_block sh >"$work/mint.sh"
doc_block python >"$work/mint.py"
tsh=$(bash "$work/mint.sh")
tpy=$(python3 "$work/mint.py")
out=$(lines "HELLO nattrav/1" "AUTH $tsh" "JOIN lobby")
check "the shell example of protocol.md mints a token for room9,lobby that joins lobby" \
	sh -c "[ \$(wc -l <'$work/mint.sh') -ge 4 ] && echo '$out' | sed -n 3p | grep -q '^OK JOIN'"
out=$(lines "HELLO nattrav/1" "AUTH $tpy" "JOIN room9" "LEAVE" "JOIN lobby")
check "the Python example mints a token that joins room9 and not lobby" \
	sh -c "echo '$out' | sed -n 3p | grep -q '^OK JOIN' && echo '$out' | sed -n 5p | grep -q '^ERR 403'"

# --- 3. per-user quotas ---------------------------------------------------
# sessions: 3 at most (each connection one session)
tq=$(token quinn '*')
for i in 1 2 3 4; do
	lines "HELLO nattrav/1" "AUTH $tq" "JOIN q$((i % 2))" "@sleep 4" >"$work/q$i" &
	eval "Q$i=\$!"
	sleep 0.3
done
wait $Q1 $Q2 $Q3 $Q4 || true
n_ok=$(cat "$work"/q[1-4] | grep -c '^OK JOIN' || true)
check "quinn got 3 sessions of 4 ($n_ok)" test "$n_ok" -eq 3
check "the 4th: ERR 429 too many sessions for this user" grep -q "^ERR 429 too many sessions for this user" "$work/q4"
# groups: 2 at most
lines "HELLO nattrav/1" "AUTH $(token rita '*')" "JOIN r1" "@sleep 4" >"$work/r1" &
R1=$!
lines "HELLO nattrav/1" "AUTH $(token rita '*')" "JOIN r2" "@sleep 4" >"$work/r2" &
R2=$!
sleep 1
out=$(lines "HELLO nattrav/1" "AUTH $(token rita '*')" "JOIN r3" "JOIN r1")
check "rita in 2 groups cannot join a 3rd (429)" sh -c "echo '$out' | sed -n 3p | grep -q '^ERR 429 too many groups for this user'"
wait $R1 $R2 || true
# seats: a user holds at most half of a group (--max-members 4: 2 seats)
for i in 1 2 3; do
	lines "HELLO nattrav/1" "AUTH $(token sam '*')" "JOIN seats" "@sleep 3" >"$work/s$i" &
	eval "S$i=\$!"
	sleep 0.3
done
wait $S1 $S2 $S3 || true
check "sam holds 2 of the 4 seats of a group, not 3" \
	sh -c "[ \$(cat '$work'/s[1-3] | grep -c '^OK JOIN') -eq 2 ] && grep -q 'too many sessions of this user in the group' '$work/s3'"

# --- 4. resume tickets: a dropped session comes back, an ended one does not -
out=$(lines "HELLO nattrav/1" "AUTH $(token uma g1)" "JOIN g1" "@events" "@drop")
tk=$(echo "$out" | sed -n 's/^EVT TICKET session=[0-9a-f]* ticket=\([^ ]*\)$/\1/p')
sid=$(echo "$out" | sed -n 's/^OK JOIN session=\([0-9a-f]*\) .*/\1/p')
check "JOIN is followed by EVT TICKET" test -n "$tk"
out=$(lines "HELLO nattrav/1" "RESUME $tk" "STATUS" "QUIT")
check "after a dropped connection, RESUME gets the same session back" \
	sh -c "echo '$out' | sed -n 2p | grep -q '^OK RESUME session=$sid user=uma group=g1 '"
check "... joined, as before" sh -c "echo '$out' | sed -n 3p | grep -q 'state=joined .*session=$sid'"
out=$(lines "HELLO nattrav/1" "AUTH $(token uma g1)" "@reconnect" "HELLO nattrav/1")
check "a reconnecting client resumes its TLS session (1.3 ticket, no certificate again)" \
	sh -c "echo '$out' | sed -n 3p | grep -q '^RECONNECTED resumed' && echo '$out' | sed -n 4p | grep -q '^OK HELLO'"
out=$(lines --tls12 "HELLO nattrav/1" "@reconnect" "HELLO nattrav/1")
check "... not on TLS 1.2 (no ticket: its resumption has no fresh ECDHE)" \
	sh -c "echo '$out' | sed -n 2p | grep -q '^RECONNECTED full' && echo '$out' | sed -n 3p | grep -q '^OK HELLO'"
out=$(lines "HELLO nattrav/1" "RESUME $tk")
check "a session that ended (QUIT) cannot be resumed" \
	sh -c "echo '$out' | sed -n 2p | grep -q '^ERR 409 session ended'"
bad=$(echo "$tk" | python3 -c "import sys,base64; b=bytearray(base64.b64decode(sys.stdin.read().strip())); b[20]^=1; print(base64.b64encode(bytes(b)).decode())")
out=$(lines "HELLO nattrav/1" "RESUME $bad")
check "a changed ticket is refused (403)" sh -c "echo '$out' | sed -n 2p | grep -q '^ERR 403 ticket not valid'"
out=$(lines "HELLO nattrav/1" "AUTH $(token vic '*')" "RESUME $tk")
check "RESUME after AUTH is refused (409)" sh -c "echo '$out' | sed -n 3p | grep -q '^ERR 409'"

# --- 5. before AUTH: nothing of the relay, and a deadline PING cannot move -
out=$(lines "HELLO nattrav/1" "STATUS")
check "STATUS before AUTH shows the connection's state only" \
	sh -c "echo '$out' | sed -n 2p | grep -q '^OK STATUS state=greeted$'"
out=$(lines "HELLO nattrav/1" "@ping-until-closed 0.5")
t=$(echo "$out" | sed -n 's/^CLOSED after \([0-9.]*\) s$/\1/p')
check "a connection that only PINGs is closed at --auth-timeout 3 s (after ${t:-never} s)" \
	sh -c "[ -n '$t' ] && python3 -c 'import sys; sys.exit(not (2.5 <= $t <= 5.5))'"
out=$(lines "HELLO nattrav/1" "AUTH $(token tess '*')" "@sleep 4.5" "PING")
check "an authenticated connection outlives the deadline" sh -c "echo '$out' | grep -q '^OK PING' && echo '$out' | tail -1 | grep -q OPEN"

relay_summary
