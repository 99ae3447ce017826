#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test: installs what is missing, builds, then runs the Criterion unit
# and BPF program tests and the end-to-end namespace tests. Needs root
# (BPF, namespaces). Exit status is non-zero when anything failed.
#
#   scripts/test.sh            everything
#   scripts/test.sh unit       Criterion binaries only
#   scripts/test.sh e2e        namespace tests only
set -uo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
case "$what" in
all | unit | e2e) ;;
-h | --help)
	sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "test.sh: unknown suite '$what' (all, unit, e2e)" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: run as root (BPF programs, network namespaces)" >&2
	exit 2
fi

scripts/deps.sh || exit 1
make -j"$(nproc)" || exit 1

passed=0
failed=0
failures=()

run() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in build/tests/unit/test_* build/tests/bpf/test_*; do
		[ -x "$t" ] || continue
		run "$t" "$t" --jobs 2
	done
fi

if [ "$what" = all ] || [ "$what" = unit ]; then
	run "fuzz (libFuzzer, ASan+UBSan, ${NT_FUZZ_SECONDS:-10}s a target)" scripts/fuzz.sh "${NT_FUZZ_SECONDS:-10}"
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
	for t in tests/e2e/*.sh; do
		run "$t" timeout 600 bash "$t"
	done
fi

echo
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
