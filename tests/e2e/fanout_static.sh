#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel fan-out across namespaces, with a group written by hand: one sender
# and four receivers, three of them behind NATs (one symmetric). Each
# receiver first knocks on the media port with a control message, as a
# client's probe would, so its NAT opens a pinhole and the relay learns the
# external address:port. Then every receiver must get every packet exactly
# once, the sender none of its own, and the counters must say the TC program
# made the copies.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CTL="$ROOT/build/nattravctl"
P=ntf$$
P=${P:0:8}
COUNT=50

check() { nt_check "$@"; }

nt_check_root
nt_bpffs_ensure
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=none c2=none c3=cone c4=symmetric c5=cone)"
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
ctl() { nt_nsexec "$RELAY_NS" "$CTL" --pin-dir "$NT_PIN_DIR" "$@"; }
check "attach" ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" --media-port 3478
work=$(mktemp -d)
nt_cleanup_push "rm -rf '$work'"

# A member: knock from its media socket (a STUN header: a control message,
# passed up by XDP, as a client's probe would be), wait for the go file,
# send COUNT media packets if it is the sender, and count what arrives.
# Writes "<received> <distinct>".
member_py='
import os, socket, sys, time
relay, port, send, go, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
s.sendto(bytes([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]) + bytes(12), (relay, 3478))
while not os.path.exists(go):
    time.sleep(0.05)
for i in range(send):
    s.sendto(b"\x80\x60%d media" % i, (relay, 3478))
    time.sleep(0.002)
s.settimeout(0.2)
seqs, end = [], time.time() + 2
while time.time() < end:
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        continue
    if src == (relay, 3478) and data[:1] == b"\x80":
        seqs.append(int(data[2:].split(b" ")[0]))
open(out, "w").write("%d %d\n" % (len(seqs), len(set(seqs))))
'
nt_udp_recv "$RELAY_NS" 3478 3 5 0.0.0.0 >"$work/knocks" &
kr=$!
nt_wait_for nt_udp_listening "$RELAY_NS" 3478
pids=()
for i in 1 2 3 4 5; do
	ns_var="C${i}_NS"
	send=0
	[ "$i" -eq 1 ] && send=$COUNT
	ip netns exec "${!ns_var}" python3 -c "$member_py" "$RELAY_V4" $((40000 + i)) "$send" \
		"$work/go" "$work/m$i" &
	pids+=($!)
done
wait $kr || true
check "relay saw 5 knocks" test "$(wc -l <"$work/knocks")" -eq 5
mapfile -t members < <(awk '{print $1 ":" $2}' "$work/knocks")
check "the symmetric NAT gave c4 a random port" \
	sh -c "grep -aq '^$C4_PUBLIC ' '$work/knocks' && ! grep -aq '^$C4_PUBLIC 40004 ' '$work/knocks'"
check "group set" ctl group set 7 "${members[@]}"
touch "$work/go"
for p in "${pids[@]}"; do wait "$p" || true; done

for i in 2 3 4 5; do
	check "receiver c$i got all $COUNT packets exactly once" \
		sh -c "[ \"\$(cat '$work/m$i')\" = '$COUNT $COUNT' ]"
done
check "the sender got none of its own" sh -c "[ \"\$(cat '$work/m1')\" = '0 0' ]"
copies=$(ctl stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['fanout_copies']['packets'])")
check "TC counted $((4 * COUNT)) copies" test "$copies" -eq $((4 * COUNT))
ctl groups
nt_summary
