#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of scripts/rootns-snapshot.sh, on a namespace of the test's own
# (never the root one): two snapshots of an untouched namespace are equal;
# each kind of leftover scripts/test.sh watches for (link, XDP program,
# qdisc, TC filter, address, route, sysctl, nftables table, pin, namespace,
# process) shows in the diff; undoing them gives the first snapshot back.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
SNAP=$ROOT/scripts/rootns-snapshot.sh
CTL=$ROOT/build/nattravctl

nt_check_root
nt_bpffs_ensure
[ -x "$CTL" ] || nt_fail "$CTL missing: run make first"
ns=ntsnap$$
other=ntsnap$$-x
pins=/sys/fs/bpf/ntsnap$$
work=$(mktemp -d)
nt_cleanup_trap
nt_cleanup_push "rm -rf '$work' '$pins'"
nt_cleanup_push "ip netns del '$ns'"
nt_cleanup_push "ip netns del '$other'"
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$pins"

# Other test runs on this machine add and remove namespaces of their own:
# only this test's count. Nothing is ignored otherwise (NT_ROOTNS_IGNORE is
# for scripts/test.sh's own snapshots).
snap() { # OUT
	NT_ROOTNS_IGNORE='' "$SNAP" --bpffs "$pins" "$ns" | awk -v p="ntsnap$$" '
		/^## / { sec = $0 }
		sec != "## network namespaces" || /^## / || index($0, p) == 1' >"$1"
}
changed() { # WHAT-REGEX: a line the diff added or removed matches it
	{ diff "$work/before" "$work/after" || true; } | sed -n 's/^[<>] //p' | grep -E "$1" >/dev/null
}

snap "$work/before"
snap "$work/again"
nt_check "an untouched namespace snapshots the same twice" diff -u "$work/before" "$work/again"
nt_check "the snapshot sees the namespace's lo" grep -q '^1: lo:' "$work/before"
nt_check "a namespace that does not exist is an error" \
	sh -c "! '$SNAP' ntsnap-none$$ >/dev/null 2>&1"

# what tests could leave behind
in_ns() { ip netns exec "$ns" "$@"; }
ip -n "$ns" link add ntdum0 type bridge
ip -n "$ns" link set ntdum0 up
ip -n "$ns" link add ntveth0 type veth peer name ntveth1
# nattrav's own: XDP program, clsact qdisc, TC filter, pinned maps
nt_nsexec "$ns" "$CTL" --pin-dir "$pins/nt" attach --iface ntveth0 --addr 198.51.100.7 \
	--mode skb >/dev/null
ip -n "$ns" addr add 198.51.100.7/24 dev ntdum0
ip -n "$ns" route add 203.0.113.0/24 via 198.51.100.1
in_ns tc qdisc add dev lo clsact
in_ns sysctl -qw net.ipv4.ip_forward=1
in_ns nft add table inet ntsnap
mkdir "$pins/leftover"
ip netns add "$other"
# a process named like the project's programs (comm keeps 15 characters)
cp "$(command -v sleep)" "$work/nattrav-snap"
nt_cleanup_push "ip netns pids '$ns' | xargs -r kill"
ip netns exec "$ns" "$work/nattrav-snap" 600 &
nt_wait_for sh -c "ip netns pids '$ns' | xargs -r ps -o comm= -p | grep -q nattrav-snap"

snap "$work/after"
nt_check "a new link shows" changed '^[0-9]+: ntdum0:'
nt_check "an XDP program shows in the links" changed 'prog/xdp id [0-9]+'
nt_check "an XDP program shows in bpftool net" changed 'ntveth0\([0-9]+\) generic id'
nt_check "a TC program shows in bpftool net" changed 'ntveth0\([0-9]+\) clsact/ingress nt_tc_fanout'
nt_check "an address shows" changed '198\.51\.100\.7/24'
nt_check "a route shows" changed '203\.0\.113\.0/24 via 198\.51\.100\.1'
nt_check "a clsact qdisc shows" changed '^qdisc clsact .* dev lo'
nt_check "a TC filter shows" changed 'bpf .*nt_tc_fanout'
nt_check "a sysctl shows" changed 'ipv4/ip_forward = 1'
nt_check "an nftables table shows" changed 'table inet ntsnap'
nt_check "a pin shows" changed "^$pins/leftover\$"
nt_check "pinned maps show" changed "^$pins/nt/nt_mappings\$"
nt_check "a namespace shows" changed "^ntsnap$$-x\$"
nt_check "a process of the project shows" changed '[0-9]+ nattrav-snap$'

ip netns pids "$ns" | xargs -r kill
wait
ip netns del "$other"
rmdir "$pins/leftover"
nt_nsexec "$ns" "$CTL" --pin-dir "$pins/nt" detach --iface ntveth0 --purge >/dev/null
in_ns nft delete table inet ntsnap
in_ns sysctl -qw net.ipv4.ip_forward=0
in_ns tc qdisc del dev lo clsact
ip -n "$ns" link del ntveth0
ip -n "$ns" link del ntdum0
snap "$work/undone"
nt_check "undone, the snapshot is the first one again" sh -c "diff '$work/before' '$work/undone' >/dev/null || { diff -u '$work/before' '$work/undone' >&2; false; }"
nt_summary
