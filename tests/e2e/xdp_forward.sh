#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end through the XDP forwarder, mappings written by hand:
# sender (c1, on the WAN) and a sender behind a cone NAT (c3) -> relay (XDP)
# -> receiver (c2). Packets must arrive rewritten (from relay:media port),
# counters must say XDP forwarded them, an unverified source must be
# dropped and counted, and nothing of it may reach the relay's own stack.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CTL="$ROOT/build/nattravctl"
P=ntx$$
P=${P:0:8}

check() { nt_check "$@"; }

nt_check_root
nt_bpffs_ensure
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" --v6 c1=none c2=none c3=cone)"

ctl() { nt_nsexec "$RELAY_NS" "$CTL" --pin-dir "$NT_PIN_DIR" "$@"; }
stat_of() { ctl stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['packets'])"; }
mapping_packets() {
	ctl mappings --json | python3 -c "
import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m['src'] == '$1': print(m['packets']); break
else: print(-1)"
}

# The relay must know where the receiver is: a real receiver would have
# spoken to the relay's control port first. Forwarding on the relay's
# interface lets bpf_fib_lookup answer with the receiver's MAC.
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
nt_ping "$C2_NS" "$RELAY_V4" && nt_ping "$C2_NS" "$RELAY_V6" || nt_fail "receiver cannot reach the relay"

check "attach the forwarder" ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" --addr "$RELAY_V6" --media-port 3478
check "maps pinned under $NT_PIN_DIR" test -e "$NT_PIN_DIR/nt_mappings"
check "bpftool shows named fields" sh -c "bpftool map dump pinned '$NT_PIN_DIR/nt_config' | grep -q media_port"

check "map c1 -> c2 (v4)" ctl map add "$C1_IP:40000" "$C2_IP:50000"
check "map c3 via its NAT -> c2" ctl map add "$C3_PUBLIC:40003" "$C2_IP:50000"
check "map c1 -> c2 (v6)" ctl map add "[$C1_IP6]:40006" "[$C2_IP6]:50006"

recv_out=$(mktemp); recv6_out=$(mktemp)
nt_cleanup_push "rm -f '$recv_out' '$recv6_out'"
nt_udp_recv "$C2_NS" 50000 3 0 >"$recv_out" &
r1=$!
nt_udp_recv "$C2_NS" 50006 3 0 >"$recv6_out" &
r2=$!
nt_wait_for nt_udp_listening "$C2_NS" 50000
nt_wait_for nt_udp_listening "$C2_NS" 50006

nt_udp_send "$C1_NS" 40000 "$RELAY_V4" 3478 5 "media-v4"
nt_udp_send "$C3_NS" 40003 "$RELAY_V4" 3478 3 "media-nat"
nt_udp_send "$C1_NS" 40006 "$RELAY_V6" 3478 4 "media-v6"
nt_udp_send "$C1_NS" 41000 "$RELAY_V4" 3478 7 "unverified"
wait $r1 $r2 || true

check "receiver got 5 v4 packets from relay:3478" \
	test "$(grep -c "^$RELAY_V4 3478 .*media-v4" "$recv_out")" -eq 5
check "receiver got 3 packets of the NATed sender" \
	test "$(grep -c "^$RELAY_V4 3478 .*media-nat" "$recv_out")" -eq 3
check "receiver got 4 v6 packets from [relay]:3478" \
	test "$(grep -c "^$RELAY_V6 3478 .*media-v6" "$recv6_out")" -eq 4
check "unverified packets never arrived" sh -c "! grep -q unverified '$recv_out'"
check "XDP counted 12 forwarded" test "$(stat_of forwarded)" -eq 12
check "XDP counted 7 unverified drops" test "$(stat_of drop_unverified)" -eq 7
check "mapping c1 counted 5 packets" test "$(mapping_packets "$C1_IP:40000")" -eq 5
check "mapping c3 counted 3 packets" test "$(mapping_packets "$C3_PUBLIC:40003")" -eq 3

check "map del" ctl map del "$C1_IP:40000"
nt_udp_send "$C1_NS" 40000 "$RELAY_V4" 3478 2 "after-del"
check "deleted mapping is dropped as unverified" test "$(stat_of drop_unverified)" -eq 9

# Maps outlive the program: a reload (daemon restart, upgrade) keeps them.
check "detach, keeping the pins" ctl detach --iface "$RELAY_IF"
check "attach again" ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" --addr "$RELAY_V6" --media-port 3478
check "mapping of c3 survived the reload" test "$(mapping_packets "$C3_PUBLIC:40003")" -eq 3
nt_udp_recv "$C2_NS" 50000 2 2 >"$recv_out" &
r1=$!
nt_wait_for nt_udp_listening "$C2_NS" 50000
nt_udp_send "$C3_NS" 40003 "$RELAY_V4" 3478 2 "after-reload"
wait $r1 || true
check "forwarding resumed after the reload" test "$(grep -c after-reload "$recv_out")" -eq 2
check "counters kept across the reload" test "$(stat_of forwarded)" -eq 14

echo "--- bpftool map dump of the mappings ---"
bpftool map dump pinned "$NT_PIN_DIR/nt_mappings4" > "$recv_out"; head -40 "$recv_out"
# IPv4 senders' keys: the address, then the port as bpftool shows it, its number
check "IPv4 keys show their port as a number" grep -q '"port": 40003' "$recv_out"
check "detach" ctl detach --iface "$RELAY_IF" --purge
check "pins removed" test ! -e "$NT_PIN_DIR/nt_mappings" -a ! -e "$NT_PIN_DIR/nt_mappings4"

nt_summary
