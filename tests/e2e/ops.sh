#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Operating a relay: nattravctl status / mappings --json / stats --watch /
# kick over the daemon's control socket (and refused to a non-root user),
# Prometheus metrics scraped with curl during a real exchange (the
# forwarded counter matches nattravctl stats), SIGHUP reload of a deny list
# while two clients exchange media (not one packet lost; a new client from
# the newly denied range is refused), man pages render, make install into a
# temporary DESTDIR and make uninstall from it. Every --json output of
# nattravctl and nattrav-client met on the way is read by a real JSON parser
# (python3 -m json.tool, line by line), and so are outputs that carry odd
# names (quotes, backslashes, control characters, UTF-8) in a group, a
# user, a pin folder and a socket path.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
MPORT=9469

. "$HERE/lib/relay_env.sh"
nt_relay_env nto c1=cone c2=symmetric c3=none c4=none
# the socket's folder must be reachable by "nobody" for the refusal tests
chmod 0755 "$work"
mkdir -m 0755 "$work/run"
SOCK="$work/run/nattravd.sock"

NT_CTL_EXTRA=(--ctl-socket "$SOCK")
# Every line of FILE is one JSON document that python3 -m json.tool reads.
json_lines_ok() {
	local f=$1 n=0 line
	[ -s "$f" ] || { echo "$f: empty"; return 1; }
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s' "$line" | python3 -m json.tool >/dev/null 2>"$work/json.err" ||
			{ echo "$f line $n is not JSON: $line"; cat "$work/json.err"; return 1; }
	done <"$f"
}
JSON_OUT=()
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
metric() { # name{labels} -> value
	ip netns exec "$RELAY_NS" curl -sf "http://127.0.0.1:$MPORT/metrics" |
		awk -v k="$1" '$1 == k { print $2 }'
}

cat >"$work/nattravd.conf" <<EOF
# written by tests/e2e/ops.sh
iface = $RELAY_IF
addr = $RELAY_V4
cert = $work/server.pem
key = $work/server.key
auth-secret-file = $work/secret
pin-dir = $NT_PIN_DIR
ctl-socket = $SOCK
metrics = $MPORT
consent-window = 5
deny = 198.18.0.0/15
# the topology's "internet" is a documentation range, refused by default
allow = 203.0.113.0/24
EOF

start_daemon() {
	nt_nsexec "$RELAY_NS" "$B/nattravd" --config "$work/nattravd.conf" --log-level debug \
		2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ."
}
# $! is the shell running nt_nsexec; signals go to the daemon itself.
daemon_pid() { pgrep -f "nattravd --config $work/nattravd.conf" | head -1; }
nt_cleanup_push 'pkill -9 -f "nattravd --config $work/nattravd.conf"'
nt_cleanup_push 'pkill -9 -f "nattrav-client .*--group ops-$P"'

client() { # ns out args...
	local ns=$1 out=$2
	shift 2
	timeout 40 ip netns exec "$ns" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" --json "$@" >"$out" 2>>"$work/clients.log"
}

# --- status, with and without the daemon ------------------------------------
start_daemon
ctl status >"$work/status" 2>&1 || true
check "status: daemon up, uptime and counts" grep -q '^daemon     up .*sessions' "$work/status"
check "status: interface and XDP mode" grep -Eq "^interface  $RELAY_IF \(ifindex [0-9]+\): XDP (native|skb), program id [0-9]+; TC fan-out program id [0-9]+" "$work/status"
ctl status --json >"$work/status.json"
JSON_OUT+=(status.json)
check "status --json: iface, mode, prog id, daemon facts" python3 -c "
import json; d = json.load(open('$work/status.json'))
assert d['iface'] == '$RELAY_IF' and d['xdp_mode'] in ('native', 'skb') and d['xdp_prog_id'] > 0
assert d['daemon']['up'] and d['daemon']['xdp'] == d['xdp_mode'] and int(d['daemon']['uptime_s']) >= 0"
check "status --json: the daemon's pid and counts are numbers (never \"pid\":?)" python3 -c "
import json; d = json.load(open('$work/status.json'))['daemon']
assert all(type(d[k]) is int for k in ('pid', 'uptime_s', 'sessions', 'groups', 'mappings', 'connections')), d"
check "status --json: no '?' where a value should be" sh -c "! grep -q ':?' '$work/status.json'"

# --- odd names through every JSON writer ---------------------------------------
ODD=$'q"b\\s\x01\t\x7f\xc3\xa9\xe2\x82\xac'
ODD_DIR="$NT_PIN_DIR-$ODD"
ctl --pin-dir "$ODD_DIR" status --json >"$work/odd-pin.json" 2>"$work/odd-pin.err" || true
JSON_OUT+=(odd-pin.json)
check "status --json, pin folder with a quote, backslash, control chars, UTF-8: read back exactly" \
	python3 -c "
import json, sys
d = json.load(open('$work/odd-pin.json', encoding='utf-8'))
assert d['pin_dir'] == sys.argv[1] and d['maps'] is False and d['daemon']['up'], d" "$ODD_DIR"
ctl --ctl-socket "$work/run/$ODD.sock" status --json >"$work/odd-sock.json" 2>/dev/null || true
JSON_OUT+=(odd-sock.json)
check "status --json, daemon socket path of odd bytes: the error names it exactly" \
	python3 -c "
import json, sys
d = json.load(open('$work/odd-sock.json', encoding='utf-8'))
assert not d['daemon']['up'] and sys.argv[1] in d['daemon']['error'], d" "$work/run/$ODD.sock"
# a group name and a user name the relay refuses: the error event still parses
client "$C1_NS" "$work/odd-group" --token "$(token alice)" --group "$ODD" --timeout 3 || true
JSON_OUT+=(odd-group)
check "nattrav-client --json, group of odd bytes: an error event, parsed" python3 -c "
import json; e = [json.loads(l) for l in open('$work/odd-group', encoding='utf-8')]
assert e and e[-1]['event'] == 'error' and e[-1]['message'], e"
# v2:<expiry>:<user>:<groups>:<mac>, the user replaced
IFS=: read -r tv texp _ tgroups tmac <<<"$(token alice)"
client "$C1_NS" "$work/odd-user" --token "$tv:$texp:$ODD:$tgroups:$tmac" --group "ops-$P-o" --timeout 3 || true
JSON_OUT+=(odd-user)
check "nattrav-client --json, token with a user of odd bytes: an error event, parsed" python3 -c "
import json; e = [json.loads(l) for l in open('$work/odd-user', encoding='utf-8')]
assert e and e[-1]['event'] == 'error', e"

# --- a real exchange: mappings, stats --watch, metrics ----------------------
m_fwd0=$(metric 'nattrav_received_packets_total{path="xdp",verdict="forwarded"}')
check "metrics: nattrav_up 1 before any client" test "$(metric nattrav_up)" = 1
client "$C1_NS" "$work/x-c1" --token "$(token alice)" --group "ops-$P-x" --send 300 --rate 100 --wait 2 &
a=$!
client "$C2_NS" "$work/x-c2" --token "$(token bob)" --group "ops-$P-x" --send 300 --rate 100 --wait 2 &
b=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/x-c1' && grep -q verified '$work/x-c2'" || true
sleep 0.5
ctl mappings --json >"$work/mappings.json"
JSON_OUT+=(mappings.json)
ctl stats --json >"$work/stats.json"
ctl stats --json --watch 1 --count 2 >"$work/stats-watch.json"
ctl config --json >"$work/config.json"
ctl groups --json >"$work/groups.json" || true
JSON_OUT+=(stats.json stats-watch.json config.json)
check "stats --watch --json: two documents, the second with rates" python3 -c "
import json; r = [json.loads(l) for l in open('$work/stats-watch.json')]
assert len(r) == 2 and r[1]['round'] == 2 and 'pps' in r[1]['forwarded'], r"
check "config --json: the media port" python3 -c "
import json; assert json.load(open('$work/config.json'))['media_port'] == 3478"
check "groups --json: every line parses (none or more groups)" sh -c "
	[ ! -s '$work/groups.json' ] || python3 -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)' '$work/groups.json'"
check "mappings --json: two mappings on the xdp path" python3 -c "
import json; ms = [json.loads(l) for l in open('$work/mappings.json')]
assert len(ms) == 2 and all(m['path'] == 'xdp' for m in ms), ms"
check "metrics during the exchange: 2 sessions, 2 xdp mappings, 1 group" sh -c "
	[ \"\$(ip netns exec '$RELAY_NS' curl -sf http://127.0.0.1:$MPORT/metrics | grep -E '^nattrav_(sessions|mappings\\{path=\"xdp\"\\}|groups) ' | awk '{print \$2}' | tr '\n' ' ')\" = '2 2 1 ' ]"
ctl stats --watch 1 --count 2 >"$work/watch"
check "stats --watch --count 2: two rounds, the second with rates" \
	sh -c "[ \$(grep -c '^nattrav counters' '$work/watch') -eq 2 ] && grep -q 'PKT/S' '$work/watch' &&
	       awk '\$1 == \"forwarded\" && NF == 5 && \$4 + 0 > 0 { f = 1 } END { exit !f }' '$work/watch'"
wait $a || true
wait $b || true
check "exchange: both clients received 300" \
	test "$(json_field "$work/x-c1" summary received)" = 300 -a "$(json_field "$work/x-c2" summary received)" = 300
sleep 0.5
m_fwd=$(metric 'nattrav_received_packets_total{path="xdp",verdict="forwarded"}')
c_fwd=$(stat_of forwarded)
check "metrics: forwarded ($m_fwd) == nattravctl stats ($c_fwd), +600 during the exchange" \
	test "$m_fwd" = "$c_fwd" -a $((m_fwd - m_fwd0)) -ge 600
check "metrics: 2 verifications ok, TLS handshakes counted" \
	test "$(metric 'nattrav_verifications_total{result="ok",reason="verified"}')" -ge 2 -a \
	"$(metric 'nattrav_tls_handshakes_total{result="ok"}')" -ge 2
check "metrics: sessions ended counted as expiries" \
	test "$(metric 'nattrav_expiries_total{reason="session_end"}')" -ge 2
check "metrics: nattrav_info names the mode" \
	sh -c "ip netns exec '$RELAY_NS' curl -sf http://127.0.0.1:$MPORT/metrics | grep -Eq '^nattrav_info\\{version=\"[0-9][^\"]*\",iface=\"$RELAY_IF\",xdp_mode=\"(native|skb)\"\\} 1'"
check "metrics: other path 404, POST 405, garbage 400" sh -c "
	[ \"\$(ip netns exec '$RELAY_NS' curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$MPORT/)\" = 404 ] &&
	[ \"\$(ip netns exec '$RELAY_NS' curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:$MPORT/metrics)\" = 405 ] &&
	printf 'hello\r\n\r\n' | ip netns exec '$RELAY_NS' python3 -c '
import socket, sys
s = socket.create_connection((\"127.0.0.1\", $MPORT)); s.sendall(sys.stdin.buffer.read())
sys.exit(0 if s.recv(100).startswith(b\"HTTP/1.0 400\") else 1)'"

# --- kick --------------------------------------------------------------------
client "$C1_NS" "$work/k-c1" --token "$(token alice)" --group "ops-$P-k" --duration 6 &
a=$!
client "$C2_NS" "$work/k-c2" --token "$(token bob)" --group "ops-$P-k" --duration 6 &
b=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/k-c1' && grep -q verified '$work/k-c2'" || true
sleep 0.3
ctl mappings --json >"$work/k-mappings.json"
c1_map=$(python3 -c "
import json
for l in open('$work/k-mappings.json'):
    m = json.loads(l)
    if m['src'].startswith('$C1_PUBLIC:'): print(m['src'])")
c2_sess=$(python3 -c "
import json
for l in open('$work/k-mappings.json'):
    m = json.loads(l)
    if m['src'].startswith('$C2_PUBLIC:'): print(m['session'])")
if nt_nsexec "$RELAY_NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$B/nattravctl" --ctl-socket "$SOCK" kick "$c1_map" >"$work/nobody1" 2>&1; then rc=0; else rc=$?; fi
check "kick as nobody: refused by the socket's permissions (0660)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'no permission' '$work/nobody1' && [ \"\$(stat -c %a '$SOCK')\" = 660 ]"
chmod 0666 "$SOCK"
if nt_nsexec "$RELAY_NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$B/nattravctl" --ctl-socket "$SOCK" kick "$c1_map" >"$work/nobody2" 2>&1; then rc=0; else rc=$?; fi
chmod 0660 "$SOCK"
check "kick as nobody through an open socket: refused by SO_PEERCRED (403)" \
	sh -c "[ $rc -eq 1 ] && grep -q '403' '$work/nobody2'"
check "mapping still there after the refused kicks" grep -q "$c1_map" <(ctl mappings)
ctl kick "$c1_map" >"$work/kick1" 2>&1 || true
check "kick mapping: nattravctl reports it" grep -q "mapping $c1_map removed" "$work/kick1"
nt_wait_for -t 3 sh -c "grep -q '\"expired\".*\"reason\":\"admin\"' '$work/k-c1'" || true
check "kick mapping: the client got EVT EXPIRED reason=admin" \
	grep -q '"expired".*"reason":"admin"' "$work/k-c1"
check "kick mapping: the daemon logged it" grep -q "mapping $c1_map .*removed: kicked by the operator" "$work/daemon.log"
ctl kick session "$c2_sess" --json >"$work/kick2.json" 2>"$work/kick2.err" || true
JSON_OUT+=(kick2.json)
check "kick session --json: nattravctl reports it" python3 -c "
import json; d = json.load(open('$work/kick2.json'))
assert d == {'kicked': 'session', 'session': '$c2_sess', 'user': 'bob'}, d"
sleep 0.5
ctl mappings --json >"$work/k-after.json"
check "kick session: its mapping is gone" sh -c "! grep -q '$c2_sess' '$work/k-after.json'"
nt_wait_for -t 3 sh -c "grep -q '\"bye\"' '$work/k-c2'" || true
check "kick session: the client got BYE reason=admin" grep -q '"bye".*admin' "$work/k-c2"
if ctl kick 192.0.2.1:9 >"$work/kick3" 2>&1; then rc=0; else rc=$?; fi
check "kick of an unknown mapping: exit 1, 404" sh -c "[ $rc -eq 1 ] && grep -q '404' '$work/kick3'"
if ctl kick session zz >"$work/kick4" 2>&1; then rc=0; else rc=$?; fi
check "kick of a malformed id: exit 2" test "$rc" -eq 2
wait $a || true
wait $b || true
check "metrics: admin expiries counted" test "$(metric 'nattrav_expiries_total{reason="admin"}')" -ge 2

# --- SIGHUP: a new deny list, no packet lost ---------------------------------
client "$C1_NS" "$work/r-c1" --token "$(token alice)" --group "ops-$P-r" --send 600 --rate 100 --wait 2 &
a=$!
client "$C2_NS" "$work/r-c2" --token "$(token bob)" --group "ops-$P-r" --send 600 --rate 100 --wait 2 &
b=$!
nt_wait_for -t 10 sh -c "grep -q verified '$work/r-c1' && grep -q verified '$work/r-c2'" || true
sleep 1.5
sed -i "s|^deny = .*|deny = $C3_PUBLIC/32|" "$work/nattravd.conf"
kill -HUP "$(daemon_pid)"
nt_wait_for -t 3 grep -q 'reloaded: .*1 deny ranges' "$work/daemon.log" || true
check "reload: the daemon applied the new deny list" grep -q 'reloaded: .*1 deny ranges' "$work/daemon.log"
if client "$C3_NS" "$work/r-c3" --token "$(token carol)" --group "ops-$P-r3" --timeout 5 --duration 2; then rc=0; else rc=$?; fi
check "reload: a new client from the denied range is refused" \
	sh -c "[ $rc -ne 0 ] && grep -q 'refuses our address (EVT DENIED)' '$work/r-c3'"
if client "$C4_NS" "$work/r-c4" --token "$(token dave)" --group "ops-$P-r4" --timeout 5 --duration 2; then rc=0; else rc=$?; fi
check "reload: a new client from elsewhere still verifies" grep -q '"verified"' "$work/r-c4"
wait $a || true
wait $b || true
check "reload: no packet lost across the reload (c1 lost 0, received 600)" \
	test "$(json_field "$work/r-c1" summary lost)" = 0 -a "$(json_field "$work/r-c1" summary received)" = 600
check "reload: no packet lost across the reload (c2 lost 0, received 600)" \
	test "$(json_field "$work/r-c2" summary lost)" = 0 -a "$(json_field "$work/r-c2" summary received)" = 600
check "metrics: the refusal counted (address_denied)" \
	test "$(metric 'nattrav_verifications_total{result="failed",reason="address_denied"}')" -ge 1

# --- the daemon down: status from the maps alone -----------------------------
echo "keep-on-exit = yes" >>"$work/nattravd.conf"
kill -HUP "$(daemon_pid)"
sleep 0.3
stop_daemon
check "SIGTERM: the control socket is removed" test ! -e "$SOCK"
ctl status >"$work/status-down" 2>&1 || true
ctl status --json >"$work/status-down.json" 2>/dev/null || true
JSON_OUT+=(status-down.json)
check "status --json with the daemon down: up false, the reason, no daemon counts" python3 -c "
import json; d = json.load(open('$work/status-down.json'))
assert d['daemon']['up'] is False and 'not running' in d['daemon']['error'] and d['maps'], d"
check "status with the daemon down: says so, still shows the interface from the maps" \
	sh -c "grep -q '^daemon     down: nattravd is not running' '$work/status-down' &&
	       grep -q '^interface  $RELAY_IF ' '$work/status-down'"
nt_nsexec "$RELAY_NS" "$B/nattravctl" --pin-dir "$NT_PIN_DIR" detach --iface "$RELAY_IF" --purge >/dev/null
"$B/nattravctl" token --secret-file "$work/secret" --user alice --group g1 --group g2 --json >"$work/token.json"
JSON_OUT+=(token.json)

# --- every --json output above, through python3 -m json.tool -----------------
JSON_OUT+=(x-c1 x-c2 k-c1 k-c2 k-mappings.json k-after.json r-c1 r-c2 r-c3 r-c4)
for f in "${JSON_OUT[@]}"; do
	check "$f: every line is JSON (python3 -m json.tool)" json_lines_ok "$work/$f"
done

# --- man pages and make install ----------------------------------------------
for m in "$ROOT"/docs/man/*.[1358]; do
	check "man page $(basename "$m") renders without warnings" \
		sh -c "MANWIDTH=80 man --warnings -l '$m' 2>'$work/man.err' | grep -q 'SYNOPSIS' && ! [ -s '$work/man.err' ]"
done
dest="$work/dest"
if make -C "$ROOT" -s install DESTDIR="$dest" PREFIX=/usr >"$work/install.log" 2>&1; then rc=0; else rc=$?; fi
check "make install DESTDIR=... PREFIX=/usr succeeds" test "$rc" -eq 0
for f in usr/sbin/nattravd usr/sbin/nattravctl usr/bin/nattrav-client \
	usr/lib/libnattrav-client.so.1 usr/lib/libnattrav-client.a usr/lib/pkgconfig/nattrav-client.pc \
	usr/include/nattrav_client.h usr/lib/systemd/system/nattravd.service \
	usr/share/man/man8/nattravd.8 usr/share/man/man8/nattravctl.8 \
	usr/share/man/man1/nattrav-client.1 usr/share/man/man3/nattrav_client.3 \
	etc/nattrav/nattravd.conf usr/lib/sysusers.d/nattrav.conf \
	usr/share/man/man5/nattravd.conf.5 usr/share/bash-completion/completions/nattravctl; do
	check "installed: /$f" test -s "$dest/$f"
done
check "installed unit runs /usr/sbin/nattravd" grep -q '^ExecStart=/usr/sbin/nattravd ' "$dest/usr/lib/systemd/system/nattravd.service"
check "installed sysusers file makes the unit's User=" sh -c "
	u=\$(sed -n 's/^User=//p' '$dest/usr/lib/systemd/system/nattravd.service')
	[ -n \"\$u\" ] && grep -Eq \"^u[[:space:]]+\$u[[:space:]]\" '$dest/usr/lib/sysusers.d/nattrav.conf'"
check "installed config is the example, all of it commented" \
	sh -c "! grep -Ev '^[[:space:]]*(#|$)' '$dest/etc/nattrav/nattravd.conf' | grep -q ."
check "installed nattravd runs (--help)" sh -c "'$dest/usr/sbin/nattravd' --help >/dev/null"
check "installed programs answer --version" sh -c "
	'$dest/usr/sbin/nattravd' --version | grep -q '^nattravd [0-9]' &&
	'$dest/usr/sbin/nattravctl' --version | grep -q '^nattravctl [0-9]' &&
	LD_LIBRARY_PATH='$dest/usr/lib' '$dest/usr/bin/nattrav-client' --version | grep -q '^nattrav-client [0-9]'"
make -C "$ROOT" -s uninstall DESTDIR="$dest" PREFIX=/usr >>"$work/install.log" 2>&1 || true
check "make uninstall removes all but the operator's config" \
	test "$(cd "$dest" && find . -type f)" = ./etc/nattrav/nattravd.conf

relay_summary 30
