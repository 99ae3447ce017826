#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The namespace demo: a relay (XDP forwarder) and two clients, c1 behind a
# cone NAT and c2 on the WAN. Mappings are written by hand with nattravctl;
# media is relayed by the XDP program in both directions; the maps are
# dumped at the end. Cleans up after itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
CTL="$ROOT/build/nattravctl"
P=demo

nt_check_root
nt_bpffs_ensure
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
step() { printf '\n== %s\n' "$*"; }

step "topology: relay 203.0.113.1, c1 behind a cone NAT, c2 on the WAN"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=cone c2=none)"
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
ctl() { nt_nsexec "$RELAY_NS" "$CTL" --pin-dir "$NT_PIN_DIR" "$@"; }

step "load the XDP forwarder on the relay's $RELAY_IF"
ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" --media-port 3478

step "verified mappings, written by hand: c1 ($C1_IP:40001 behind $C1_PUBLIC) <-> c2 ($C2_IP:40002)"
nt_ping "$C1_NS" "$RELAY_V4" && nt_ping "$C2_NS" "$RELAY_V4"
ctl map add "$C1_PUBLIC:40001" "$C2_IP:40002" --group 1
ctl map add "$C2_IP:40002" "$C1_PUBLIC:40001" --group 1

step "c2 listens on 40002 while c1 sends 5 packets to the relay"
out=$(mktemp)
nt_cleanup_push "rm -f '$out'"
nt_udp_recv "$C2_NS" 40002 2 5 >"$out" &
r=$!
nt_wait_for nt_udp_listening "$C2_NS" 40002
nt_udp_send "$C1_NS" 40001 "$RELAY_V4" 3478 5 "hello from c1"
wait $r || true
sed 's/^/  c2 received from /' "$out"

step "c2 answers with 3 packets; c1 receives them through the pinhole its NAT opened"
nt_udp_recv "$C1_NS" 40001 2 3 >"$out" &
r=$!
nt_wait_for nt_udp_listening "$C1_NS" 40001
nt_udp_send "$C2_NS" 40002 "$RELAY_V4" 3478 3 "hello from c2"
wait $r || true
sed 's/^/  c1 received from /' "$out"

step "counters (nattravctl stats)"
ctl stats
step "mappings (nattravctl mappings)"
ctl mappings
step "bpftool map dump pinned $NT_PIN_DIR/nt_mappings"
bpftool map dump pinned "$NT_PIN_DIR/nt_mappings"
step "bpftool map dump pinned $NT_PIN_DIR/nt_config"
bpftool map dump pinned "$NT_PIN_DIR/nt_config"
step "done; tearing the topology down"
