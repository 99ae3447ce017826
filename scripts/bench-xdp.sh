#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-packet cost of nattrav's XDP program against a bare reflector, with 1,
# 10k and 1M mappings, and the mapping table at 1M entries (issue 8, items
# 1 and 4). Builds with make, runs build/bench/bench_xdp, writes
# bench/results/<date>-xdp.csv and bench/results/<date>-xdp.md. Needs root.
# Then, on a machine of 2 CPUs or more, the same programs alone on each of
# two CPUs and on both at once (bench_xdp --cpus 2: one pinned injector per
# CPU, a sender of its own each; issue 14, item 3): aggregate rate and
# scaling, the reflector's being the machine's own, in
# bench/results/<date>-xdp-2cpu.csv and .md.
#
# The 1M-mapping cells include frames from 100k distinct IPv4 senders
# (nattrav-senders, issue 14 item 2: cache-cold lookups).
#
#   scripts/bench-xdp.sh           full run (7 rounds, about 6 minutes)
#   scripts/bench-xdp.sh --quick   3 short rounds, about 1 minute
#   scripts/bench-xdp.sh --out DIR results elsewhere (default bench/results)
#   scripts/bench-xdp.sh --no-cpus without the 2-CPU comparison
#   scripts/bench-xdp.sh --variant NAME=FILE
#                                  also another build of nattrav.bpf.o (e.g. of
#                                  an older commit with the same struct
#                                  nt_mapping), alternating in the same
#                                  rounds: defaults, 1-mapping and senders rows
#
# Traffic never leaves a network namespace the benchmark process makes for
# itself (unshare): its veth pair goes away with the process, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

rounds=7 packets=1000000 limit=420 outdir=bench/results cpus=1 run_ms=500 senders=100000
variants=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) rounds=3 packets=150000 limit=180 run_ms=200 senders=20000 ;;
	--out) outdir=${2:?--out needs a folder}; shift ;;
	--no-cpus) cpus=0 ;;
	--variant)
		[ -f "${2#*=}" ] && [ "${2%%=*}" != "$2" ] ||
			nt_fail "bench-xdp.sh: --variant needs NAME=FILE of an object"
		variants+=(--variant "$2") limit=$((limit + 240)); shift ;;
	-h | --help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
	build/bench/bench_xdp --rounds "$rounds" --packets "$packets" --senders "$senders" \
	"${variants[@]}" --csv "$tmp/xdp.csv" --md "$tmp/xdp.md"
mv "$tmp/xdp.csv" "$base.csv"
mv "$tmp/xdp.md" "$base.md"
nt_log "bench-xdp: wrote $base.csv and $base.md"
cat "$base.md"

if [ "$cpus" = 0 ]; then
	exit 0
fi
if [ "$(nproc)" -lt 2 ]; then
	nt_log "bench-xdp: one CPU only, no 2-CPU comparison"
	exit 0
fi
nt_log "bench-xdp: the same programs on one CPU and on two ($rounds rounds, $run_ms ms a run)"
timeout --signal=INT --kill-after=10 "$limit" \
	build/bench/bench_xdp --cpus 2 --rounds "$rounds" --run-ms "$run_ms" \
	--csv "$tmp/xdp-2cpu.csv" --md "$tmp/xdp-2cpu.md"
mv "$tmp/xdp-2cpu.csv" "$base-2cpu.csv"
mv "$tmp/xdp-2cpu.md" "$base-2cpu.md"
nt_log "bench-xdp: wrote $base-2cpu.csv and $base-2cpu.md"
cat "$base-2cpu.md"
