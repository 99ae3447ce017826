#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The namespace demo: nattravd on a relay, two nattrav-clients behind real
# NATs (c1 cone, c2 symmetric). They authenticate over TLS, prove their NAT
# mappings over UDP, and exchange media that the XDP program relays; the
# counters and the maps are shown while the media flows. Cleans up after
# itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
B="$ROOT/build"
P=demo

nt_check_root
nt_bpffs_ensure
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
step() { printf '\n== %s\n' "$*"; }

step "topology: relay 203.0.113.1, c1 behind a cone NAT, c2 behind a symmetric NAT"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=cone c2=symmetric)"
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
work=$(mktemp -d)
nt_cleanup_push "rm -rf '$work'"
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4"
ctl() { nt_nsexec "$RELAY_NS" "$B/nattravctl" --pin-dir "$NT_PIN_DIR" "$@"; }

step "nattravd --iface $RELAY_IF on the relay (log: $work/nattravd.log)"
nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --pin-dir "$NT_PIN_DIR" \
	--cert "$work/server.pem" --key "$work/server.key" --auth-secret-file "$work/secret" \
	--allow 203.0.113.0/24 2>"$work/nattravd.log" &
nt_cleanup_push "pkill -TERM -f 'nattravd --iface $RELAY_IF --pin-dir $NT_PIN_DIR'; sleep 0.5"
nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ."
grep -m1 "nattravd up" "$work/nattravd.log" | sed 's/^[^ ]* [a-z]* */  /'

step "two clients join group 'demo' and send 300 packets each at 100/s"
# token USER [GROUP...]: a token for USER and the groups named (none: any, '*')
token() { nt_token "$B/nattravctl" "$work/secret" 600 "$@"; }
clients=()
for i in 1 2; do
	ns_var="C${i}_NS"
	ip netns exec "${!ns_var}" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" \
		--token "$(token "user$i" demo)" --group demo --send 300 --rate 100 --json \
		>"$work/c$i.json" 2>&1 &
	clients+=($!)
done
nt_wait_for -t 10 sh -c "grep -q verified '$work/c1.json' && grep -q verified '$work/c2.json'"
for i in 1 2; do
	ns_var="C${i}_IP" pub_var="C${i}_PUBLIC"
	echo "  c$i (${!ns_var} behind ${!pub_var}): $(grep -m1 '"verified"' "$work/c$i.json")"
done
sleep 1.5

step "while the media flows: nattravctl mappings"
ctl mappings
step "nattravctl stats (the XDP program's counters)"
ctl stats
step "bpftool map dump pinned $NT_PIN_DIR/nt_mappings4 (IPv4 senders)"
bpftool map dump pinned "$NT_PIN_DIR/nt_mappings4"
step "bpftool map dump pinned $NT_PIN_DIR/nt_config"
bpftool map dump pinned "$NT_PIN_DIR/nt_config"

wait "${clients[@]}" || true
step "what each client counted"
for i in 1 2; do echo "  c$i: $(grep '"summary"' "$work/c$i.json")"; done
step "done; the relay logged:"
grep -v "debug" "$work/nattravd.log" | sed 's/^/  /' | tail -20
