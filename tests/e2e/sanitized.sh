#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The daemon and clients built with ASan+UBSan (make asan) relay media and
# take N verified mappings created and closed over C cycles: no sanitizer
# report, and map entries, file descriptors and memory (VmRSS) back where
# they were after the first cycle. Then one run of the daemon under valgrind
# (memcheck; an error or a definite leak fails). Soak size by environment:
#   NT_SOAK_COUNT=10000 NT_SOAK_CYCLES=100 bash tests/e2e/sanitized.sh
# (the test command runs 100 x 4; the full size takes hours on 2 cores).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
B="$ROOT/build"
A="$B/asan"
P=ntz$$
P=${P:0:8}
PASS=0 FAIL=0
COUNT=${NT_SOAK_COUNT:-100}
CYCLES=${NT_SOAK_CYCLES:-4}
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

nt_check_root
make -s -C "$ROOT" asan >/dev/null
nt_bpffs_ensure
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=none c2=none)"
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
work=$(mktemp -d)
nt_cleanup_push "rm -rf '$work'"
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
# a small quarantine: freed memory is reused, so VmRSS says something
export ASAN_OPTIONS="log_path=$work/asan:detect_leaks=1:quarantine_size_mb=4"
export UBSAN_OPTIONS="log_path=$work/ubsan:print_stacktrace=1"

# token USER [GROUP...]: a token for USER and the groups named (none: any, '*')
token() { nt_token "$B/nattravctl" "$work/secret" 600 "$@"; }
n_mappings() { # not a number when nattravctl fails, so the comparison below fails too
	local out
	out=$(nt_nsexec "$RELAY_NS" "$B/nattravctl" --pin-dir "$NT_PIN_DIR" mappings --json) ||
		{ echo "nattravctl failed"; return 1; }
	printf '%s\n' "$out" | grep -c '"src"' || true
}
daemon_pid() { pgrep -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1; }
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'
start_daemon() { # wrapper... : runs "$@" nattravd-path, then the flags
	nt_nsexec "$RELAY_NS" "$@" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --allow 203.0.113.0/24 \
		--max-connections 20000 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 30 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}
stop_daemon() { # -> $rc, the daemon's exit status
	rc=0
	kill -TERM "$(daemon_pid)"
	wait "$DAEMON" || rc=$?
}
client() { # ns out args...
	local ns=$1 out=$2
	shift 2
	ip netns exec "$ns" "$A/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" --json "$@" >"$out" 2>>"$work/clients.log"
}
vm() { awk '/VmRSS/ {print $2}' "/proc/$(daemon_pid)/status"; }
fds() { ls "/proc/$(daemon_pid)/fd" | wc -l; }

# --- ASan + UBSan: daemon and clients --------------------------------------
start_daemon "$A/nattravd"
client "$C1_NS" "$work/a1" --token "$(token alice)" --group g --send 50 --rate 100 --wait 2 &
a=$!
client "$C2_NS" "$work/a2" --token "$(token bob)" --group g --send 50 --rate 100 --wait 2 &
b=$!
ra=0 rb=0
wait $a || ra=$?
wait $b || rb=$?
check "asan: both clients relayed and exited 0" sh -c "[ $ra -eq 0 ] && [ $rb -eq 0 ] && grep -q '\"received\":50' '$work/a1'"

load() { # cycles -> json
	ip netns exec "$C1_NS" python3 "$HERE/lib/ntproto.py" load --server "$RELAY_V4" --ca "$work/ca.pem" \
		--secret-file "$work/secret" --count "$COUNT" --cycles "$1" --between "sleep 0.5"
}
load 1 >"$work/warm.json"
sleep 1
m0=$(n_mappings) f0=$(fds) v0=$(vm)
load "$CYCLES" >"$work/load.json"
sleep 1
m1=$(n_mappings) f1=$(fds) v1=$(vm)
check "load: every mapping of $CYCLES x $COUNT verified" \
	python3 -c "import json,sys; c=json.load(open('$work/load.json'))['cycles']; sys.exit(not all(x['verified'] == $COUNT for x in c))"
check "load: map entries back to $m0 (now $m1)" test "$m1" -eq "$m0"
check "load: daemon file descriptors back to $f0 (now $f1)" test "$f1" -eq "$f0"
check "load: daemon VmRSS roughly flat ($v0 kB -> $v1 kB, +25% allowed)" test "$v1" -le $((v0 + v0 / 4))
stop_daemon
check "asan: daemon exit 0 after SIGTERM" test "$rc" -eq 0
check "asan/ubsan: no report from daemon or clients" sh -c "! ls '$work'/asan.* '$work'/ubsan.* 2>/dev/null | grep -q ."

# --- valgrind --------------------------------------------------------------
start_daemon valgrind -q --error-exitcode=99 --suppressions="$HERE/valgrind.supp" --leak-check=full --errors-for-leak-kinds=definite \
	--log-file="$work/valgrind.log" "$B/nattravd"
client "$C1_NS" "$work/v1" --token "$(token carol)" --group v --send 20 --rate 50 --wait 2 &
a=$!
client "$C2_NS" "$work/v2" --token "$(token dave)" --group v --send 20 --rate 50 --wait 2 &
b=$!
wait $a || true
wait $b || true
check "valgrind: clients verified through the daemon under memcheck" grep -q '"verified"' "$work/v1"
stop_daemon
check "valgrind: no memcheck error and no definite leak (exit $rc)" test "$rc" -eq 0

if [ "$FAIL" -ne 0 ]; then
	cat "$work"/asan.* "$work"/ubsan.* 2>/dev/null | head -40 || true
	echo "--- valgrind.log"; grep -o "Syscall param [^ ]*\|^==[0-9]*== [A-Z][a-z]* [a-z].*" "$work/valgrind.log" | sort | uniq -c | sort -rn | head -30 || true
	echo "--- where, by the first frames in our code"
	grep -A8 "^==[0-9]*== [A-Z][a-z]* [a-z]" "$work/valgrind.log" | grep -o "by 0x[0-9A-F]*: [a-z_]* (nt_[a-z_]*\.c\|at 0x[0-9A-F]*: [a-z_]* (nt_[a-z_]*\.c\|Syscall param .*" |
		sed 's/0x[0-9A-F]*//' | sort | uniq -c | sort -rn | head -20 || true
	grep -v 'debug libbpf' "$work/daemon.log" | tail -20  || true
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
