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
# Each frame is owed two copies: both paths must deliver some and never more
# than owed (how many arrive depends on the machine: not asserted here).
delivered() { # path runs
	awk -F, -v p="$1" -v want="$2" '$2 == p && $5 > 0 && $8 <= 1.0 { ok++ }
		END { exit ok == want ? 0 : 1 }' "$csv" || { grep -E "^2,$1," "$csv" >&2; return 1; }
}
nt_check "kernel path: copies delivered, none beyond the two owed" delivered kernel 2
nt_check "userspace path: copies delivered, none beyond the two owed" delivered userspace 1
nt_check "the report has a row for 2 receivers" grep -q '^| 2 | [1-9]' "${csv%.csv}.md"
nt_summary
