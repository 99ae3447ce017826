#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The fan-out benchmark works end to end (short cells, two receivers): both
# paths deliver copies to the receivers' counter and the report is written.
# Speeds are not asserted here (shared machines); scripts/bench-fanout.sh
# reports them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

nt_check_root
out=$(mktemp -d)
nt_cleanup_trap
nt_cleanup_push "rm -rf '$out'"

run() { "$ROOT/scripts/bench-fanout.sh" --seconds 1 --receivers 2 --user-offers 100000 \
	--out "$out" >"$out/log" 2>&1 || { tail -20 "$out/log" >&2; return 1; }; }
nt_check "bench-fanout.sh runs" run
csv=$(ls "$out"/*-fanout.csv 2>/dev/null | head -1)
nt_check "it wrote the CSV and the report" test -s "$csv" -a -s "${csv%.csv}.md"
# kernel: every frame injected is owed two copies; almost all must be counted
nt_check "kernel path: copies delivered, ~2 per frame" awk -F, \
	'$2 == "kernel" && $5 > 0 && $8 > 0.9 { ok++ } END { exit ok == 2 ? 0 : 1 }' "$csv"
nt_check "userspace path: copies delivered" awk -F, \
	'$2 == "userspace" && $5 > 0 { ok++ } END { exit ok == 1 ? 0 : 1 }' "$csv"
nt_check "the report has a row for 2 receivers" grep -q '^| 2 | [1-9]' "${csv%.csv}.md"
nt_summary
