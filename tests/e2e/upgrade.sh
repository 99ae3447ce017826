#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Maps pinned by a build of another layout (an upgrade over a running
# relay's pins): loading refuses them with an error that says how to clear
# them, the way it says works, and the program then loads. Detaching from
# an interface with nothing on it (no clsact qdisc even) succeeds. Every
# attach and detach runs on the lo of a network namespace of the test's own.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
CTL="$ROOT/build/nattravctl"

nt_check_root
nt_bpffs_ensure
pins=/sys/fs/bpf/ntupg$$
out=$(mktemp)
nt_cleanup_trap
nt_cleanup_push "rm -rf '$pins' '$out'"
mkdir -p "$pins"
# nt_groups as an older build would have pinned it: the same name, another value size
bpftool map create "$pins/nt_groups" type hash key 4 value 1824 entries 16 name nt_groups flags 1
# Everything that touches an interface runs in a namespace of its own: its
# lo starts without a clsact qdisc, as lo does on a fresh machine.
in_ns() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; }

attach() { in_ns "$CTL" --pin-dir "$pins" attach --iface lo --addr 127.0.0.1 >"$out" 2>&1; }
fails() { ! "$@"; }
nt_check "attach over stale pins fails" fails attach
nt_check "the error names the pins and the way out" \
	grep -q "another layout pinned under $pins.*detach --iface IF --purge" "$out"
nt_check "detach --purge removes them, on an lo without a clsact qdisc" \
	in_ns sh -c "'$CTL' --pin-dir '$pins' detach --iface lo --purge >'$out' 2>&1"
nt_check "and says nothing about a missing qdisc" fails grep -qi "qdisc\|invalid" "$out"
nt_check "no pins left" test ! -e "$pins/nt_groups"
nt_check "then the program loads and attaches" \
	in_ns sh -c "'$CTL' --pin-dir '$pins' attach --iface lo --addr 127.0.0.1 >/dev/null 2>&1 &&
		'$CTL' --pin-dir '$pins' detach --iface lo --purge >/dev/null"
nt_check "detach takes off both programs, keeping a clsact qdisc it did not make" \
	in_ns sh -c "tc qdisc add dev lo clsact &&
		'$CTL' --pin-dir '$pins' attach --iface lo --addr 127.0.0.1 >/dev/null 2>&1 &&
		ip link show dev lo | grep -q xdp &&
		tc filter show dev lo ingress | grep -q nt_tc_fanout &&
		'$CTL' --pin-dir '$pins' detach --iface lo --purge >/dev/null &&
		! ip link show dev lo | grep -q xdp &&
		tc qdisc show dev lo | grep -q clsact &&
		! tc filter show dev lo ingress | grep -q ."
nt_check "detach where nothing is attached, clsact present, succeeds" \
	in_ns sh -c "tc qdisc add dev lo clsact && '$CTL' --pin-dir '$pins' detach --iface lo >/dev/null"
nt_check "detach on an interface that does not exist still fails" \
	fails in_ns sh -c "'$CTL' --pin-dir '$pins' detach --iface nt-none$$ 2>/dev/null"
nt_summary
