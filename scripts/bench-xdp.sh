#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-packet cost of nattrav's XDP program against a bare reflector, with 1,
# 10k and 1M mappings, and the mapping table at 1M entries (issue 8, items
# 1 and 4). Builds with make, runs build/bench/bench_xdp, writes
# bench/results/<date>-xdp.csv and bench/results/<date>-xdp.md. Needs root.
#
#   scripts/bench-xdp.sh           full run (7 rounds, about 3 minutes)
#   scripts/bench-xdp.sh --quick   3 short rounds, about 25 s
#   scripts/bench-xdp.sh --out DIR results elsewhere (default bench/results)
#
# Traffic never leaves a network namespace the benchmark process makes for
# itself (unshare): its veth pair goes away with the process, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

rounds=7 packets=1000000 limit=420 outdir=bench/results
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) rounds=3 packets=150000 limit=120 ;;
	--out) outdir=${2:?--out needs a folder}; shift ;;
	-h | --help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) nt_fail "bench-xdp.sh: unknown argument '$1' (see --help)" ;;
	esac
	shift
done
nt_check_root

nt_log "bench-xdp: building"
make -s build/bench/bench_xdp

mkdir -p "$outdir"
base="$outdir/$(date +%F)-xdp"
tmp=$(mktemp -d)
nt_cleanup_push "rm -rf '$tmp'"
nt_cleanup_trap

nt_log "bench-xdp: $rounds rounds of $packets frames per cell (stops after ${limit} s at most)"
timeout --signal=INT --kill-after=10 "$limit" \
	build/bench/bench_xdp --rounds "$rounds" --packets "$packets" \
	--csv "$tmp/xdp.csv" --md "$tmp/xdp.md"
mv "$tmp/xdp.csv" "$base.csv"
mv "$tmp/xdp.md" "$base.md"
nt_log "bench-xdp: wrote $base.csv and $base.md"
cat "$base.md"
