#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# An upgrade over a running relay, and a relay beside another's XDP program.
#
# Two clients behind NATs exchange media through static mappings while
# nattravd stops (--keep-on-exit) and nattravd of a build whose nt_groups
# has another layout (NT_GROUP_MAX_MEMBERS=32) starts over it: the new
# build carries the pinned maps over (the mappings and a group survive, a
# group bigger than the new layout holds is left out with a warning,
# nt_groups has the new value size), swaps the XDP program in one step (a
# new program id) and media keeps flowing, at most 0.5 % of it lost across
# the upgrade. Then the way back to the default layout. Then another's XDP
# program on the interface, then another's TC filter at nattrav's handle:
# nattravctl attach and nattravd refuse to replace them without --force,
# detach leaves them in place, --force replaces them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
. "$HERE/lib/relay_env.sh"
# the other layout, built beside the main build and kept with it
NEW="$ROOT/build/upgrade-m32"

nt_check_root
make -s -C "$ROOT" OUT="$NEW" NT_DEFS=-DNT_GROUP_MAX_MEMBERS=32 "$NEW/nattravd" \
	"$NEW/nattravctl" >/dev/null || nt_fail "cannot build the other layout into $NEW"
nt_relay_env ntw c1=cone c2=cone
ctl_of() { local b=$1; shift; nt_nsexec "$RELAY_NS" "$b/nattravctl" --pin-dir "$NT_PIN_DIR" "$@"; }
xdp_id() {
	ip -n "$RELAY_NS" -d link show dev "$RELAY_IF" |
		sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1
}
xdp_name() {
	ip -n "$RELAY_NS" -d link show dev "$RELAY_IF" |
		sed -n 's/.*prog\/xdp id [0-9]* name \([^ ]*\).*/\1/p' | head -1
}
groups_value_size() {
	bpftool map show pinned "$NT_PIN_DIR/nt_groups" | sed -n 's/.* value \([0-9]*\)B.*/\1/p'
}
# start_daemon BUILD [ARGS...]: nattravd of BUILD; true once it listens
start_daemon() {
	local b=$1
	shift
	nt_nsexec "$RELAY_NS" "$b/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --pin-dir "$NT_PIN_DIR" --config none \
		--ctl-socket off --allow 203.0.113.0/24 --keep-on-exit --log-level debug "$@" \
		2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ."
}
forwarded() { ctl_of "$B" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['forwarded']['packets'])"; }
forwarded_at_least() { [ "$(forwarded)" -ge "$1" ]; }

# A member: knock from its media socket (a control message, passed up by
# XDP, as a client's probe would be), wait for the go file, then send a
# numbered packet every 2 ms until the stop file appears, counting what
# comes back from the relay. Writes "<sent> <received distinct>".
member_py='
import os, socket, sys, threading, time
relay, port, go, stop, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
s.sendto(bytes([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]) + bytes(12), (relay, 3478))
seqs, done = set(), threading.Event()
def recv():
    s.settimeout(0.2)
    while not done.is_set():
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        if src == (relay, 3478) and data[:2] == b"\x80\x60":
            seqs.add(int(data[2:].split(b" ")[0]))
t = threading.Thread(target=recv)
t.start()
while not os.path.exists(go):
    time.sleep(0.05)
sent = 0
while not os.path.exists(stop) and sent < 100000:
    s.sendto(b"\x80\x60%d media" % sent, (relay, 3478))
    sent += 1
    time.sleep(0.002)
time.sleep(1)
done.set()
t.join()
open(out, "w").write("%d %d\n" % (sent, len(seqs)))
'
nt_udp_recv "$RELAY_NS" 3478 3 2 0.0.0.0 >"$work/knocks" &
kr=$!
nt_wait_for nt_udp_listening "$RELAY_NS" 3478
ip netns exec "$C1_NS" python3 -c "$member_py" "$RELAY_V4" 40001 "$work/go" "$work/stop" "$work/m1" &
m1=$!
ip netns exec "$C2_NS" python3 -c "$member_py" "$RELAY_V4" 40002 "$work/go" "$work/stop" "$work/m2" &
m2=$!
nt_cleanup_push "touch '$work/stop'"
wait $kr || true
check "relay saw 2 knocks" test "$(wc -l <"$work/knocks")" -eq 2
e1=$(awk -v a="$C1_PUBLIC" '$1 == a { print $1 ":" $2 }' "$work/knocks")
e2=$(awk -v a="$C2_PUBLIC" '$1 == a { print $1 ":" $2 }' "$work/knocks")

# --- the running relay: the default layout -----------------------------------
check "nattravd (default layout) up" start_daemon "$B"
check "static mapping c1 -> c2" ctl_of "$B" map add "$e1" "$e2"
check "static mapping c2 -> c1" ctl_of "$B" map add "$e2" "$e1"
check "a fan-out group of three" ctl_of "$B" group set 9 10.9.0.1:1 10.9.0.2:2 10.9.0.3:3
big=()
for i in $(seq 1 40); do big+=("10.10.0.$i:$i"); done
check "a group of 40, more than the other layout holds" ctl_of "$B" group set 10 "${big[@]}"
check "nt_groups has the default layout (64 members: 3360 bytes)" test "$(groups_value_size)" = 3360
old_id=$(xdp_id)
touch "$work/go"
check "media flows" nt_wait_for -t 10 forwarded_at_least 300

# --- the upgrade, media flowing ------------------------------------------------
stop_daemon || true
check "--keep-on-exit: the program stays while no daemon runs" test "$(xdp_id)" = "$old_id"
check "nattravd of the other layout up over it" start_daemon "$NEW"
new_id=$(xdp_id)
check "a new program replaced the old one (id $old_id -> $new_id)" \
	sh -c "[ -n '$new_id' ] && [ '$new_id' != '$old_id' ]"
check "the daemon log says nt_groups was carried over" \
	grep -q "nt_groups carried over to the new layout: 1 entries, 1 left out (the first: more members than the new layout holds)" "$work/daemon.log"
check "nt_groups has the new layout (32 members: 1696 bytes)" test "$(groups_value_size)" = 1696
ctl_of "$NEW" groups >"$work/groups-new" 2>&1 || true
check "the group kept its three members" grep -q '^group 9: 3 members' "$work/groups-new"
check "the group too big for it is gone" sh -c "! grep -q '^group 10:' '$work/groups-new'"
check "the mappings are all there (2 + 3 + 40 of the groups)" \
	test "$(ctl_of "$NEW" mappings --json | grep -c '"src"')" -eq 45
before=$(forwarded)
check "media flows through the new program" nt_wait_for -t 10 forwarded_at_least $((before + 300))
touch "$work/stop"
wait $m1 $m2 || true
read -r sent1 got1 <"$work/m1" || { sent1=1 got1=0; }
read -r sent2 got2 <"$work/m2" || { sent2=1 got2=0; }
echo "# c1 sent $sent1, c2 got $got2; c2 sent $sent2, c1 got $got1"
check "c2 got at least 99.5 % of c1's media across the upgrade" test $((got2 * 1000)) -ge $((sent1 * 995))
check "c1 got at least 99.5 % of c2's media across the upgrade" test $((got1 * 1000)) -ge $((sent2 * 995))

# --- and back to the default layout --------------------------------------------
stop_daemon || true
check "nattravd of the default layout up again" start_daemon "$B"
check "nt_groups has the default layout again" test "$(groups_value_size)" = 3360
ctl_of "$B" groups >"$work/groups-back" 2>&1 || true
check "the group still has its three members" grep -q '^group 9: 3 members' "$work/groups-back"
check "the mappings are all there" test "$(ctl_of "$B" mappings --json | grep -c '"src"')" -eq 45
stop_daemon || true

# --- another's XDP program on the interface -------------------------------------
ctl_of "$B" detach --iface "$RELAY_IF" --purge >/dev/null
check "detach removed nattrav's program" test -z "$(xdp_id)"
ip -n "$RELAY_NS" link set dev "$RELAY_IF" xdpgeneric obj "$B/nt_pass.bpf.o" sec xdp
foreign=$(xdp_id)
fails() { ! "$@"; }
check "attach refuses to replace another's program" \
	fails ctl_of "$B" attach --iface "$RELAY_IF" --addr "$RELAY_V4" 2>"$work/attach.err"
check "the refusal names it and --force" \
	grep -q "runs XDP program $foreign (nt_pass), not nattrav's.*--force" "$work/attach.err"
check "nothing pinned by the refused attach" test ! -e "$NT_PIN_DIR/nt_mappings"
: >"$work/daemon.log"
start_daemon "$B" || true
nt_wait_for -t 5 sh -c "! kill -0 $DAEMON" || true
if wait "$DAEMON"; then rc=0; else rc=$?; fi
check "nattravd refuses to start over it (exit status $rc)" test "$rc" -ne 0
check "nattravd's error names it" \
	grep -q "runs XDP program $foreign (nt_pass), not nattrav's" "$work/daemon.log"
check "the other program is untouched" test "$(xdp_id)" = "$foreign"
ctl_of "$B" detach --iface "$RELAY_IF" >"$work/detach.out" 2>&1
check "detach leaves it in place, and says so" \
	sh -c "[ '$(xdp_id)' = '$foreign' ] && grep -q 'not nattrav.s: left in place' '$work/detach.out'"
check "attach --force replaces it" \
	ctl_of "$B" attach --iface "$RELAY_IF" --addr "$RELAY_V4" --force
check "nattrav's program runs" test "$(xdp_name)" = nt_xdp
ctl_of "$B" detach --iface "$RELAY_IF" --purge >/dev/null
check "detach --purge leaves no program" test -z "$(xdp_id)"

# --- another's TC filter at nattrav's handle and priority ------------------------
ip netns exec "$RELAY_NS" tc qdisc replace dev "$RELAY_IF" clsact
ip netns exec "$RELAY_NS" tc filter add dev "$RELAY_IF" ingress prio 0x4e54 handle 0x4e54 \
	bpf da obj "$B/nt_pass.bpf.o" sec xdp
tc_name() { ip netns exec "$RELAY_NS" tc filter show dev "$RELAY_IF" ingress | sed -n 's/.* name \([^ ]*\) .*/\1/p'; }
check "attach refuses to replace another's TC filter" \
	fails ctl_of "$B" attach --iface "$RELAY_IF" --addr "$RELAY_V4" 2>"$work/attach.err"
check "the refusal names it" grep -q "runs TC program [0-9]* (nt_pass), not nattrav's" "$work/attach.err"
check "attach --force replaces it" ctl_of "$B" attach --iface "$RELAY_IF" --addr "$RELAY_V4" --force
check "nattrav's TC program runs" test "$(tc_name)" = nt_tc_fanout
ctl_of "$B" detach --iface "$RELAY_IF" --purge >/dev/null
check "detach removed it" test -z "$(tc_name)"
relay_summary
