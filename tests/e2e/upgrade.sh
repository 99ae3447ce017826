#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Maps pinned by a build of another layout (an upgrade over a running
# relay's pins): loading refuses them with an error that says how to clear
# them, the way it says works, and the program then loads. In a network
# namespace of the test's own, on its lo.
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
in_ns() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; }

attach() { in_ns "$CTL" --pin-dir "$pins" attach --iface lo --addr 127.0.0.1 >"$out" 2>&1; }
fails() { ! "$@"; }
nt_check "attach over stale pins fails" fails attach
nt_check "the error names the pins and the way out" \
	grep -q "another layout pinned under $pins.*detach --iface IF --purge" "$out"
nt_check "detach --purge removes them" sh -c "'$CTL' --pin-dir '$pins' detach --iface lo --purge >/dev/null"
nt_check "no pins left" test ! -e "$pins/nt_groups"
nt_check "then the program loads and attaches" \
	in_ns sh -c "'$CTL' --pin-dir '$pins' attach --iface lo --addr 127.0.0.1 >/dev/null 2>&1 &&
		'$CTL' --pin-dir '$pins' detach --iface lo --purge >/dev/null"
nt_summary
