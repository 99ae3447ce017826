#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every libFuzzer target (tests/fuzz/fuzz_*.c, built with ASan and UBSan)
# for SECONDS each, starting from the seed corpus in tests/fuzz/corpus/<name>.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 10 s, every target
# The test command runs the short version; a longer hunt, e.g. an hour each:
#   scripts/fuzz.sh 3600
# New inputs go to build/fuzz/corpus-<name>, crashes to build/fuzz/crash-*.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
shift || true
[[ $secs =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number" >&2; exit 2; }
make -s fuzz || exit 1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in build/fuzz/fuzz_*; do targets+=("$(basename "$f" | sed 's/^fuzz_//')"); done
fi
passed=0 failed=0
for t in "${targets[@]}"; do
	bin=build/fuzz/fuzz_$t
	[ -x "$bin" ] || { echo "fuzz.sh: no target $t" >&2; failed=$((failed + 1)); continue; }
	mkdir -p "build/fuzz/corpus-$t"
	echo "fuzz: $t for ${secs}s" >&2
	if "$bin" -max_total_time="$secs" -max_len=2048 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/crash-$t-" -print_final_stats=1 \
		"build/fuzz/corpus-$t" "tests/fuzz/corpus/$t" >"build/fuzz/$t.log" 2>&1; then
		echo "ok - fuzz $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "build/fuzz/$t.log" | awk '{print $2}') runs, no crash"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz $t: see build/fuzz/$t.log"
		tail -30 "build/fuzz/$t.log"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
