#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A fleet of three relays sharing group placement in Redis (README "Fleet"):
# topo.sh --relays 3 (relays at 203.0.113.1..3, one certificate for all) and
# redis-server in its own namespace (203.0.113.250, password, no persistence).
#   - the three relays register; nattravctl fleet lists them live
#   - the auth secret file holds two secrets: tokens of either verify
#   - three clients dialing three relays for one group end up on its home and
#     exchange media; the two others sent one redirect each and hold no mapping
#   - a relay at --max-groups places a new group on another relay (redirect)
#   - drain: no new group on the relay, a new member of a group there accepted,
#     the running flow untouched; a client redirected twice stops (no chain)
#   - a relay taken down: its group re-placed for a new client once its
#     heartbeat expired
#   - Redis stopped: new JOINs ERR 503 (no answer within 2 s), then killed:
#     ERR 503 at once, running flows lose nothing; restarted empty: relays
#     register again and re-assert their groups
#   - relays stopped with SIGTERM leave the fleet at once
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
. "$HERE/lib/relay_env.sh"

command -v redis-server >/dev/null || nt_fail "redis-server missing: run scripts/deps.sh"
nt_relay_env ntf --relays 3 c1=cone c2=none c3=symmetric c4=none
# one certificate for every relay: a redirected client checks the relay it is sent to
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY1_V4" "$RELAY2_V4" "$RELAY3_V4" 2>/dev/null
# rotation: the relays verify with either secret, tokens here are minted with the first
mv "$work/secret" "$work/secret.old"
{ openssl rand -hex 32; cat "$work/secret.old"; } >"$work/secret"
REDIS="$REDIS_V4:6379"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/redis.pw"
chmod 600 "$work/redis.pw"

start_redis() {
	printf 'bind %s\nport 6379\nsave ""\nappendonly no\nrequirepass %s\ndir %s\nlogfile %s\n' \
		"$REDIS_V4" "$(cat "$work/redis.pw")" "$work" "$work/redis.log" >"$work/redis.conf"
	ip netns exec "$REDIS_NS" redis-server "$work/redis.conf" &
	REDIS_PID=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$REDIS_NS' ss -Htln 'sport = :6379' | grep -q ."
}
rcli() { ip netns exec "$REDIS_NS" redis-cli -h "$REDIS_V4" -a "$(cat "$work/redis.pw")" --no-auth-warning "$@"; }
nt_cleanup_push 'kill -9 "$REDIS_PID" 2>/dev/null || true'

relay_var() { local v="RELAY$1_$2"; echo "${!v}"; }

start_relay() { # R extra...
	local r=$1
	shift
	nt_nsexec "$(relay_var "$r" NS)" "$B/nattravd" --iface eth0 --addr "$(relay_var "$r" V4)" \
		--pin-dir "$(relay_var "$r" PIN_DIR)" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --ctl-socket "$work/r$r.sock" \
		--metrics 127.0.0.1:9100 --allow 203.0.113.0/24 --log-level debug \
		--redis "$REDIS" --redis-password-file "$work/redis.pw" --relay-id "relay$r" \
		"$@" 2>>"$work/relay$r.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$(relay_var "$r" NS)' ss -Htln 'sport = :4433' | grep -q ."
}
# the pin dir names this test's relay: other tests' relays share the addresses
relay_pat() { echo "nattravd --iface eth0 --addr $(relay_var "$1" V4) --pin-dir $(relay_var "$1" PIN_DIR) --cert"; }
relay_pid() { pgrep -f "$(relay_pat "$1")" | head -1; }
stop_relay() { # R [signal]
	local pid
	pid=$(relay_pid "$1")
	[ -z "$pid" ] || kill "-${2:-TERM}" "$pid"
	nt_wait_for -t 10 relay_gone "$1"
}
relay_gone() { [ -z "$(relay_pid "$1")" ]; }
for r in 1 2 3; do
	nt_cleanup_push "pkill -9 -f '$(relay_pat $r)' || true"
done

rctl() { # R args...: nattravctl on relay R's maps and control socket
	local r=$1
	shift
	nt_nsexec "$(relay_var "$r" NS)" "$B/nattravctl" --pin-dir "$(relay_var "$r" PIN_DIR)" \
		--ctl-socket "$work/r$r.sock" "$@"
}
fleet() { ip netns exec "$RELAY1_NS" "$B/nattravctl" fleet --config none --redis "$REDIS" --redis-password-file "$work/redis.pw" "$@"; }
n_live() { fleet --json | grep -c '"relay"' || true; }
live_is() { [ "$(n_live)" -eq "$1" ]; }
mappings_are() { [ "$(mappings_of "$1")" -eq "$2" ]; }
home_is() { [ "$(rcli GET "nattrav:group:$1")" = "$2" ]; }
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
fleet_has() { local o; o=$(fleet --json) && grep -q "$1" <<<"$o"; }
# output taken whole first: grep -q leaving early would SIGPIPE the writer (pipefail)
status_says() { local o; o=$(rctl "$1" status "${@:3}") && grep -q "$2" <<<"$o"; }
drain_says() { local o; o=$(rctl "$1" drain "${@:3}") && grep -q "$2" <<<"$o"; }
mappings_of() { # R: mappings in relay R's map
	local out
	out=$(rctl "$1" mappings --json) || { echo "nattravctl failed"; return 1; }
	printf '%s\n' "$out" | grep -c '"src"' || true
}
metric() { # R NAME{labels}: its value in relay R's scrape
	ip netns exec "$(relay_var "$1" NS)" curl -s http://127.0.0.1:9100/metrics |
		awk -v m="$2" '$1 == m { print $2 }'
}
# fclient NS R OUT ARGS...: nattrav-client in NS dialing relay R, JSON lines to OUT
fclient() {
	local ns=$1 r=$2 out=$3
	shift 3
	ip netns exec "$ns" "$B/nattrav-client" --server "$(relay_var "$r" V4)" --ca "$work/ca.pem" \
		--json "$@" >"$out" 2>>"$work/clients.log"
}
has() { grep -q "$2" "$1" 2>/dev/null; }
redirected_to() { json_field "$1" redirected to; }
connected_to() { json_field "$1" connected server; }

start_redis
start_relay 1
start_relay 2 --max-groups 1
start_relay 3

# --- registration ----------------------------------------------------------
check "three relays registered and live in nattravctl fleet" nt_wait_for -t 10 live_is 3
fleet >"$work/fleet.txt"
check "nattravctl fleet names each relay with its advertised address" sh -c "
	grep -q '^relay1 .*203.0.113.1:4433' '$work/fleet.txt' &&
	grep -q '^relay2 .*203.0.113.2:4433' '$work/fleet.txt' &&
	grep -q '^relay3 .*203.0.113.3:4433' '$work/fleet.txt'"
check "relay2 advertises its --max-groups 1" fleet_has '"relay":"relay2".*"max_groups":1,'
check "every relay reports Redis up" sh -c "
	[ '$(metric 1 nattrav_fleet_redis_up)' = 1 ] && [ '$(metric 2 nattrav_fleet_redis_up)' = 1 ] &&
	[ '$(metric 3 nattrav_fleet_redis_up)' = 1 ]"

# --- token rotation: a token of the second (old) secret still verifies ----------
fclient "$C4_NS" 3 "$work/old-c4" --token "$(nt_token "$B/nattravctl" "$work/secret.old" 600 old roomO)" \
	--group roomO --duration 1 || true
check "a token minted with the second secret of --auth-secret-file is accepted" \
	has "$work/old-c4" '"event":"verified"'
rc=0
fclient "$C4_NS" 3 "$work/bad-c4" --token "$(nt_token "$B/nattravctl" "$work/ca.key" 600 x roomO)" \
	--group roomO --timeout 5 || rc=$?
check "a token of a secret the relays do not hold is refused (ERR 403)" \
	sh -c "[ $rc -eq 1 ] && grep -q '\"code\":403' '$work/bad-c4'"

# --- one group, three relays dialed ------------------------------------------
COUNT=300
fclient "$C1_NS" 1 "$work/a-c1" --token "$(token u1 roomA)" --group roomA --duration 12 &
a1=$!
check "roomA: c1 verified on relay1 (the group's first member places it there)" \
	nt_wait_for -t 10 has "$work/a-c1" '"event":"verified"'
check "roomA: homed on relay1 in Redis" home_is roomA relay1
fclient "$C2_NS" 2 "$work/a-c2" --token "$(token u2 roomA)" --group roomA --duration 10 &
a2=$!
check "roomA: c2 dialed relay2, was redirected and verified" \
	nt_wait_for -t 10 has "$work/a-c2" '"event":"verified"'
fclient "$C3_NS" 3 "$work/a-c3" --token "$(token u3 roomA)" --group roomA --send $COUNT --rate 100 --wait 1 &
a3=$!
check "roomA: c3 dialed relay3, was redirected and verified" \
	nt_wait_for -t 10 has "$work/a-c3" '"event":"verified"'
nt_wait_for -t 5 mappings_are 1 3 || true
m1=$(mappings_of 1) m2=$(mappings_of 2) m3=$(mappings_of 3)
check "roomA: relay1 holds 3 mappings, relay2 and relay3 none ($m1 $m2 $m3)" \
	sh -c "[ '$m1' -eq 3 ] && [ '$m2' -eq 0 ] && [ '$m3' -eq 0 ]"
rc=0
wait $a3 || rc=$?
check "roomA: the sender exits 0" test "$rc" -eq 0
wait $a1 || true
wait $a2 || true
check "roomA: c2 and c3 were redirected from relay2 / relay3 to relay1" sh -c "
	[ '$(redirected_to "$work/a-c2")' = 203.0.113.1:4433 ] &&
	[ '$(redirected_to "$work/a-c3")' = 203.0.113.1:4433 ] &&
	[ '$(json_field "$work/a-c2" redirected from)' = 203.0.113.2 ] &&
	[ '$(json_field "$work/a-c3" redirected from)' = 203.0.113.3 ]"
check "roomA: c1 was not redirected" sh -c "! grep -q redirected '$work/a-c1'"
check "roomA: all connected to relay1" sh -c "
	[ '$(connected_to "$work/a-c2")' = 203.0.113.1:4433 ] && [ '$(connected_to "$work/a-c3")' = 203.0.113.1:4433 ]"
for c in 1 2; do
	check "roomA: c$c got all $COUNT packets of c3 exactly once" sh -c "
		[ '$(json_field "$work/a-c$c" summary received)' -eq $COUNT ] &&
		[ '$(json_field "$work/a-c$c" summary duplicates)' -eq 0 ] &&
		[ '$(json_field "$work/a-c$c" summary lost)' -eq 0 ]"
done
check "roomA: relay2 and relay3 sent exactly one redirect each, relay1 none" sh -c "
	[ '$(metric 2 'nattrav_fleet_placements_total{result=\"redirect\"}')' = 1 ] &&
	[ '$(metric 3 'nattrav_fleet_placements_total{result=\"redirect\"}')' = 1 ] &&
	[ '$(metric 1 'nattrav_fleet_placements_total{result=\"redirect\"}')' = 0 ] &&
	[ '$(metric 1 'nattrav_fleet_placements_total{result=\"here\"}')' = 1 ]"

# --- --max-groups full -----------------------------------------------------
fclient "$C1_NS" 2 "$work/b-c1" --token "$(token u1 roomB)" --group roomB --duration 60 &
B1=$!
check "roomB: placed on relay2, its first group" nt_wait_for -t 10 has "$work/b-c1" '"event":"verified"'
check "roomB: not redirected" sh -c "! grep -q redirected '$work/b-c1'"
sleep 2.5 # a heartbeat: every relay's view has relay2 at 1 of 1
fclient "$C2_NS" 2 "$work/c-c2" --token "$(token u2 roomC)" --group roomC --duration 2 || true
to=$(redirected_to "$work/c-c2")
check "roomC: relay2 at --max-groups 1 sent the new group elsewhere ($to)" sh -c "
	[ '$to' = 203.0.113.1:4433 ] || [ '$to' = 203.0.113.3:4433 ]"
check "roomC: the client verified there" has "$work/c-c2" '"event":"verified"'
check "roomC: relay2 holds roomB's mapping only" test "$(mappings_of 2)" -eq 1

# --- drain ------------------------------------------------------------------
fclient "$C3_NS" 1 "$work/d-c3" --token "$(token u3 roomD)" --group roomD --duration 14 &
d3=$!
check "roomD: a receiver on relay1" nt_wait_for -t 10 has "$work/d-c3" '"event":"verified"'
check "drain on relay1" drain_says 1 'draining: on' on
check "drain: nattravctl drain --json shows it" drain_says 1 '"draining":true' --json
check "drain: nattravctl status names the relay and its drain" status_says 1 'relay relay1, draining'
check "drain: nattravctl status --json too" status_says 1 '"draining":true,"relay_id":"relay1"' --json
sleep 2.5 # the heartbeat carries draining to the others' views
check "drain: nattravctl fleet shows relay1 draining" fleet_has '"relay":"relay1".*"draining":true'
fclient "$C4_NS" 1 "$work/d-c4" --token "$(token u4 roomD)" --group roomD --send $COUNT --rate 100 --wait 1 || true
check "drain: a new member of roomD (live on relay1) is accepted there, not redirected" sh -c "
	grep -q '\"event\":\"verified\"' '$work/d-c4' && ! grep -q redirected '$work/d-c4'"
fclient "$C4_NS" 1 "$work/e-c4" --token "$(token u4 roomE)" --group roomE --duration 2 || true
to=$(redirected_to "$work/e-c4")
check "drain: a new group dialing relay1 is placed elsewhere ($to)" sh -c "
	[ -n '$to' ] && [ '$to' != 203.0.113.1:4433 ] && grep -q '\"event\":\"verified\"' '$work/e-c4'"
# a chain: roomZ homed (by hand) on draining relay1, which holds none of it:
# relay2 sends the client to relay1, relay1 sends it on; the client stops there
rcli SET nattrav:group:roomZ relay1 PX 60000 >/dev/null
rc=0
fclient "$C4_NS" 2 "$work/z-c4" --token "$(token u4 roomZ)" --group roomZ --timeout 5 || rc=$?
check "a second redirect is not followed: exit 1, ERR 300 reported, no session" sh -c "
	[ $rc -eq 1 ] && grep -q '\"code\":300' '$work/z-c4' && grep -q 'not followed' '$work/z-c4' &&
	! grep -q '\"event\":\"connected\"' '$work/z-c4'"
wait $d3 || true
check "drain: the running receiver got all $COUNT packets of the new member" sh -c "
	[ '$(json_field "$work/d-c3" summary received)' -eq $COUNT ] &&
	[ '$(json_field "$work/d-c3" summary lost)' -eq 0 ]"
check "drain off on relay1" drain_says 1 'draining: off' off

# --- a relay taken down ------------------------------------------------------
fclient "$C3_NS" 3 "$work/f-c3" --token "$(token u3 roomF)" --group roomF --duration 1 || true
check "roomF: homed on relay3" home_is roomF relay3
stop_relay 3 KILL
check "relay3 down: its heartbeat expires and nattravctl fleet shows two relays" \
	nt_wait_for -t 15 live_is 2
fclient "$C1_NS" 1 "$work/f-c1" --token "$(token u1 roomF)" --group roomF --duration 2 || true
check "roomF: re-placed on relay1 for a new client (no redirect to the dead relay)" sh -c "
	grep -q '\"event\":\"verified\"' '$work/f-c1' && ! grep -q redirected '$work/f-c1'"
check "roomF: homed on relay1 in Redis now" home_is roomF relay1

# --- Redis stopped, killed, restarted ------------------------------------------
fclient "$C3_NS" 1 "$work/g-c3" --token "$(token u3 roomG)" --group roomG --duration 20 &
g3=$!
check "roomG: a receiver on relay1" nt_wait_for -t 10 has "$work/g-c3" '"event":"verified"'
fclient "$C4_NS" 1 "$work/g-c4" --token "$(token u4 roomG)" --group roomG --send 1200 --rate 100 --wait 2 &
g4=$!
check "roomG: a sender on relay1" nt_wait_for -t 10 has "$work/g-c4" '"event":"verified"'
t0=$(metric 1 nattrav_fleet_placement_timeouts_total)
kill -STOP "$REDIS_PID"
# a client that gives up while its JOIN waits on Redis: the answer finds no connection
rc=0
fclient "$C2_NS" 1 "$work/h-c2" --token "$(token u2 roomH2)" --group roomH2 --timeout 1 || rc=$?
check "Redis stopped: a client giving up before the answer exits 1 (no reply within its 1 s)" \
	sh -c "[ $rc -eq 1 ] && ! grep -q '\"code\":503' '$work/h-c2'"
rc=0
fclient "$C1_NS" 1 "$work/h-c1" --token "$(token u1 roomH)" --group roomH --timeout 8 || rc=$?
check "Redis stopped: a new group gets ERR 503 (no answer within 2 s), not the client's timeout" sh -c "
	[ $rc -eq 1 ] && grep -q '\"code\":503' '$work/h-c1'"
check "Redis stopped: counted as a placement timeout" \
	test "$(metric 1 nattrav_fleet_placement_timeouts_total)" -gt "$t0"
kill -CONT "$REDIS_PID"
kill -KILL "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
check "Redis killed: relay1 sees it down" nt_wait_for -t 10 metric_is 1 nattrav_fleet_redis_up 0
rc=0
fclient "$C1_NS" 1 "$work/i-c1" --token "$(token u1 roomI)" --group roomI --timeout 8 || rc=$?
check "Redis down: a new group gets ERR 503" sh -c "[ $rc -eq 1 ] && grep -q '\"code\":503' '$work/i-c1'"
sleep 1
start_redis
check "Redis back (empty): the two live relays registered again" nt_wait_for -t 15 live_is 2
check "Redis back: relay1 re-asserted roomG" nt_wait_for -t 10 home_is roomG relay1
fclient "$C1_NS" 2 "$work/j-c1" --token "$(token u1 roomG)" --group roomG --duration 2 || true
check "Redis back: a new member of roomG dialing relay2 is sent to relay1" \
	test "$(redirected_to "$work/j-c1")" = 203.0.113.1:4433
rc=0
wait $g4 || rc=$?
wait $g3 || true
check "roomG: the sender exits 0" test "$rc" -eq 0
check "roomG: the running flow lost nothing through Redis' outage (1200 received once)" sh -c "
	[ '$(json_field "$work/g-c3" summary received)' -eq 1200 ] &&
	[ '$(json_field "$work/g-c3" summary lost)' -eq 0 ] &&
	[ '$(json_field "$work/g-c3" summary duplicates)' -eq 0 ]"
kill "$B1" 2>/dev/null || true
wait "$B1" 2>/dev/null || true

stop_relay 1 || true
stop_relay 2 || true
check "relay1 exited on SIGTERM" relay_gone 1
check "relay2 exited on SIGTERM" relay_gone 2
check "a clean exit leaves the fleet at once (no heartbeat keys, nattravctl fleet empty)" sh -c "
	[ '$(rcli EXISTS nattrav:relay:relay1 nattrav:relay:relay2)' = 0 ] && [ '$(n_live)' = 0 ]"
if [ "$NT_FAILED" -ne 0 ]; then
	keep=/tmp/nattrav-e2e-$P
	cp -r "$work" "$keep"
	echo "logs and client output kept in $keep"
	for r in 1 2 3; do
		echo "== relay$r"
		grep -v 'debug libbpf' "$work/relay$r.log" | grep -i 'fleet\|redirect\|join\|error' | tail -15
	done
fi
nt_summary
