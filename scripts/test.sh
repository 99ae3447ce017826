#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test: installs what is missing, builds, then runs the Criterion unit
# and BPF program tests and the end-to-end namespace tests. Needs root
# (BPF, namespaces). Exit status is non-zero when anything failed, and
# when the run left the root network namespace other than it found it
# (scripts/rootns-snapshot.sh before and after; the diff is printed).
#
#   scripts/test.sh                  everything
#   scripts/test.sh unit             Criterion binaries and fuzz targets only
#   scripts/test.sh e2e              namespace tests only
#   scripts/test.sh SUITE NAME...    only these of the suite: e2e scripts
#                                    (upgrade or upgrade.sh), unit and BPF
#                                    binaries (test_conf), fuzz
#
# NT_FUZZ_SECONDS: seconds a fuzz target (10). NT_ROOTNS_IGNORE: extended
# regex of snapshot lines not compared (on a machine shared with other
# test runs: their namespaces and pins).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

what=${1:-all}
case "$what" in
all | unit | e2e) ;;
-h | --help)
	sed -n '3,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "test.sh: unknown suite '$what' (all, unit, e2e)" >&2
	exit 2
	;;
esac
[ $# -eq 0 ] || shift
names=("$@")
declare -A named=()

# wanted NAME: no names given, or NAME (with or without .sh) is one of them
wanted() {
	local n
	[ ${#names[@]} -gt 0 ] || return 0
	for n in "${names[@]}"; do
		if [ "$n" = "$1" ] || [ "$n.sh" = "$1" ]; then
			named[$n]=1
			return 0
		fi
	done
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: run as root (BPF programs, network namespaces)" >&2
	exit 2
fi

scripts/deps.sh || exit 1
make -j"$(nproc)" WERROR=1 || exit 1

passed=0
failed=0
failures=()
snap=$(mktemp -d)
trap 'rm -rf "$snap"' EXIT
scripts/rootns-snapshot.sh >"$snap/before"

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
		wanted "${t##*/}" || continue
		run "$t" "$t" --jobs 2
	done
fi

if { [ "$what" = all ] || [ "$what" = unit ]; } && wanted fuzz; then
	run "fuzz (libFuzzer, ASan+UBSan, ${NT_FUZZ_SECONDS:-10}s a target)" scripts/fuzz.sh "${NT_FUZZ_SECONDS:-10}"
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
	for t in tests/e2e/*.sh; do
		wanted "${t##*/}" || continue
		run "$t" timeout 600 bash "$t"
	done
fi

for n in "${names[@]}"; do
	[ -n "${named[$n]:-}" ] && continue
	echo "FAILED: no test named '$n' in suite $what"
	failures+=("no test named '$n'")
	failed=$((failed + 1))
done

scripts/rootns-snapshot.sh >"$snap/after"
if ! diff -u "$snap/before" "$snap/after" >"$snap/diff"; then
	echo
	echo "=== the root network namespace changed during the run (- before, + after):"
	cat "$snap/diff"
	failures+=("root namespace changed")
	failed=$((failed + 1))
fi

echo
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
