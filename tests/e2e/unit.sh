#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The systemd unit, really run: nattravd starts as the unit's User= with
# exactly its CapabilityBoundingSet= and AmbientCapabilities= (read from
# scripts/nattravd.service, applied with setpriv), its UMask= and LimitCORE=,
# in a mount namespace laid out as the unit's TemporaryFileSystem= and
# BindPaths= make it (only the pin folder of bpffs visible) after the unit's
# own ExecStartPre= command gave that folder to the user. Two clients behind
# NATs then exchange media relayed by XDP. sd_notify: READY=1 once the
# control port listens, RELOADING=1 with MONOTONIC_USEC and READY=1 around a
# SIGHUP, STOPPING=1 at SIGTERM. A load refused for a missing capability
# says which one and exits 2, with no word of pins; pins of another user and
# maps of another layout pinned are named as the cause when they are.
#
# The user is made from scripts/nattrav.sysusers when the host lacks it and
# removed again at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
UNIT="$ROOT/scripts/nattravd.service"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntu c1=cone c2=symmetric
command -v setpriv >/dev/null || nt_fail "setpriv (util-linux) is missing"
command -v systemd-sysusers >/dev/null || nt_fail "systemd-sysusers is missing"
command -v strace >/dev/null || nt_fail "strace is missing (scripts/deps.sh installs it)"

# --- what the unit says ------------------------------------------------------
unit_key() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
setpriv_caps() { # "CAP_A CAP_B" -> "+a,+b"
	local c out=
	for c in $1; do
		c=${c#CAP_}
		out+="${out:+,}+${c,,}"
	done
	echo "$out"
}
U=$(unit_key User)
G=$(unit_key Group)
BOUND=$(unit_key CapabilityBoundingSet)
AMBIENT=$(unit_key AmbientCapabilities)
UMASK=$(unit_key UMask)
PRE=$(unit_key ExecStartPre)
UNIT_PIN=$(unit_key BindPaths)
check "unit: User= and Group= set, not root" test -n "$U" -a -n "$G" -a "$U" != root
check "unit: ambient set inside the bounding set" \
	sh -c "for c in $AMBIENT; do echo ' $BOUND ' | grep -q \" \$c \" || exit 1; done"
check "unit: CAP_PERFMON granted (the verifier needs it)" sh -c "echo ' $AMBIENT ' | grep -q ' CAP_PERFMON '"
check "unit: Type=notify, RestartPreventExitStatus=2, LimitCORE=0" \
	sh -c "[ '$(unit_key Type)' = notify ] && [ '$(unit_key RestartPreventExitStatus)' = 2 ] && [ '$(unit_key LimitCORE)' = 0 ]"
pre_ok() { [[ $PRE == +*"$UNIT_PIN"* ]] && [ "$(unit_key TemporaryFileSystem)" = /sys/fs/bpf ]; }
check "unit: the ExecStartPre= runs as root (+) on the bound pin folder" pre_ok

# --- the user, made as make install makes it -----------------------------------
if ! getent passwd "$U" >/dev/null; then
	snap=$(mktemp -d)
	cp -a /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow- "$snap/" 2>/dev/null || true
	# userdel and groupdel rewrite the "-" backups: put them back as found
	nt_cleanup_push "rm -rf '$snap'"
	nt_cleanup_push "cp -a '$snap'/. /etc/"
	nt_cleanup_push "userdel '$U'; getent group '$G' >/dev/null && groupdel '$G'"
	systemd-sysusers "$ROOT/scripts/nattrav.sysusers" 2>/dev/null
fi
check "user $U exists (sysusers file)" sh -c "getent passwd '$U' >/dev/null"
UID_=$(id -u "$U")
GID_=$(getent group "$G" | cut -d: -f3)

# --- files as the docs say: root:nattrav 0640; runtime dir the user's ------
chmod 0755 "$work"
mkdir -m 0750 "$work/run" && chown "$U:$G" "$work/run"
cat >"$work/nattravd.conf" <<EOF
# written by tests/e2e/unit.sh
iface = $RELAY_IF
addr = $RELAY_V4
cert = $work/server.pem
key = $work/server.key
auth-secret-file = $work/secret
pin-dir = $NT_PIN_DIR
ctl-socket = $work/run/nattravd.sock
allow = 203.0.113.0/24
EOF
for f in nattravd.conf server.pem server.key secret; do
	chown "root:$G" "$work/$f" && chmod 0640 "$work/$f"
done

# sd_notify's receiving end, as systemd's: one datagram a line in notify.log
NOTIFY="$work/notify.sock"
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
' "$NOTIFY" "$work/notify.log" &
NOTIFY_PID=$!
nt_cleanup_push "kill $NOTIFY_PID"
nt_wait_for test -S "$NOTIFY"

# In the relay's namespace, as the unit: bpffs hidden behind a tmpfs but for
# the pin folder, then the unit's user, capabilities, umask and core limit.
# shellcheck disable=SC2016
_UNIT_SH='
exec 3<"$PIN" || exit 125
mount -t sysfs sysfs /sys || exit 125
mount -t tmpfs -o mode=0755 tmpfs /sys/fs/bpf || exit 125
mkdir "$PIN" && mount --no-canonicalize --bind /proc/self/fd/3 "$PIN" || exit 125
exec 3<&-
umask "$UMASK"
ulimit -c 0
exec setpriv --reuid="$UID_" --regid="$GID_" --init-groups --no-new-privs \
	--bounding-set=-all,"$BOUNDC" --inh-caps=-all,"$AMBC" --ambient-caps=-all,"$AMBC" "$@"'

run_as_unit() { # bounding ambient args... (the daemon in the foreground)
	local pre=${PRE#+}
	# the unit's own ExecStartPre=, on this test's pin folder
	[ -n "${NO_PRE:-}" ] || sh -c "${pre//$UNIT_PIN/$NT_PIN_DIR}" || return 125
	BOUNDC=$(setpriv_caps "$1") AMBC=$(setpriv_caps "$2") PIN=$NT_PIN_DIR UMASK=$UMASK \
		UID_=$UID_ GID_=$GID_ NOTIFY_SOCKET=$NOTIFY \
		nsenter --net="/run/netns/$RELAY_NS" -- unshare -m --propagation private \
		sh -c "$_UNIT_SH" unit "${@:3}"
}
NT_DAEMON_PATTERN="^$B/nattravd --config $work/nattravd.conf"
nt_cleanup_push "pkill -9 -f '$NT_DAEMON_PATTERN'"

# Pins an earlier run made as root: the ExecStartPre= must hand them over.
ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" --media-port 3478 >/dev/null 2>&1
ctl detach --iface "$RELAY_IF" >/dev/null 2>&1
check "pins left by a root run are root's" test "$(stat -c %U "$NT_PIN_DIR/nt_mappings")" = root

# --- up as the unit, media through XDP ---------------------------------------
# under strace: every system call it makes must pass the unit's SystemCallFilter=
install -m 0600 -o "$U" /dev/null "$work/syscalls"
run_as_unit "$BOUND" "$AMBIENT" strace -f -qq -o "$work/syscalls" \
	"$B/nattravd" --config "$work/nattravd.conf" --log-level debug 2>>"$work/daemon.log" &
DAEMON=$!
nt_wait_for -t 10 grep -q READY=1 "$work/notify.log" ||
	{ grep -v 'debug libbpf' "$work/daemon.log" | tail -8; nt_fail "nattravd did not become ready"; }
check "READY=1 came when the control port listens" \
	sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ."
pid=$(daemon_pid)
check "daemon runs as $U" test "$(stat -c %U "/proc/$pid")" = "$U"
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")
bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$pid/status")
want=0
for c in $AMBIENT; do
	want=$((want | 1 << $(python3 -c "import sys; print({'CAP_NET_ADMIN': 12, 'CAP_NET_BIND_SERVICE': 10, 'CAP_PERFMON': 38, 'CAP_BPF': 39, 'CAP_SYS_ADMIN': 21}['$c'])")))
done
check "daemon's effective and bounding sets are exactly the unit's ($AMBIENT)" \
	test "$((16#$eff))" -eq "$want" -a "$((16#$bnd))" -eq "$want"
check "XDP attached by the unprivileged daemon" sh -c "ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
check "pins handed to $U by the ExecStartPre=" \
	sh -c "[ \"\$(stat -c %U '$NT_PIN_DIR' '$NT_PIN_DIR'/* | sort -u)\" = '$U' ]"
check "control socket in the runtime folder, 0660" test "$(stat -c %a "$work/run/nattravd.sock")" = 660

fwd0=$(stat_of forwarded)
client "$C1_NS" "$work/c1" --token "$(token alice)" --group "unit-$P" --send 100 --rate 200 --wait 2 &
a=$!
client "$C2_NS" "$work/c2" --token "$(token bob)" --group "unit-$P" --send 100 --rate 200 --wait 2 &
b=$!
ra=0 rb=0
wait $a || ra=$?
wait $b || rb=$?
check "both clients behind NATs exit 0" test "$ra" -eq 0 -a "$rb" -eq 0
check "c1 received c2's 100 packets" test "$(json_field "$work/c1" summary received)" -eq 100
check "c2 received c1's 100 packets" test "$(json_field "$work/c2" summary received)" -eq 100
check "XDP forwarded them (forwarded counter +200 or more)" test $(($(stat_of forwarded) - fwd0)) -ge 200
check "nattravctl status as root reaches the daemon's socket" \
	sh -c "'$B/nattravctl' --pin-dir '$NT_PIN_DIR' --ctl-socket '$work/run/nattravd.sock' status | grep -q '^daemon     up'"

# --- reload and stop, told to systemd -------------------------------------
kill -HUP "$pid"
nt_wait_for -t 5 sh -c "grep -c READY=1 '$work/notify.log' | grep -qx 2" || true
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1" python3 -c "
import time
l = [x.split() for x in open('$work/notify.log')]
i = next(i for i, x in enumerate(l) if 'RELOADING=1' in x)
us = int(next(f for f in l[i] if f.startswith('MONOTONIC_USEC=')).split('=')[1])
assert 0 < us <= time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
assert any('READY=1' in x for x in l[i + 1:])"
check "SIGHUP reloaded" grep -q "reloaded:" "$work/daemon.log"
kill -TERM "$pid"
rc=0
wait "$DAEMON" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
check "SIGTERM: STOPPING=1 sent" grep -q STOPPING=1 "$work/notify.log"
check "SIGTERM: XDP detached" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"

# The system calls of that whole run (start, relaying, reload, stop) against
# the unit's SystemCallFilter= (its @groups as this systemd expands them),
# and no memory both writable and executable (MemoryDenyWriteExecute=).
filter_ok() {
	python3 - "$work/syscalls" "$(sed -n 's/^SystemCallFilter=//p' "$UNIT" | tr '\n' ' ')" <<'PY'
import re, subprocess, sys
def expand(name, seen):
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True,
                         text=True, check=True).stdout.splitlines()[1:]
    names = set()
    for l in (x.strip() for x in out):
        if l.startswith("@") and l not in seen:
            seen.add(l)
            names |= expand(l, seen)
        elif l and not l.startswith(("#", "@")):
            names.add(l)
    return names
allowed = set()
for tok in sys.argv[2].split():
    assert not tok.startswith("~"), "deny lists are not handled here"
    allowed |= expand(tok, set()) if tok.startswith("@") else {tok}
used, wx = set(), []
for l in open(sys.argv[1]):
    m = re.match(r"\d+\s+([a-z0-9_]+)\(", l)
    if m:
        used.add(m.group(1))
        if m.group(1) in ("mmap", "mprotect", "pkey_mprotect") and "PROT_WRITE" in l and "PROT_EXEC" in l:
            wx.append(l.strip())
print("system calls used:", len(used), "outside the filter:", sorted(used - allowed) or "none")
sys.exit(1 if used - allowed or wx or len(used) < 20 else 0)
PY
}
check "every system call made passes the unit's SystemCallFilter=, none maps W+X" filter_ok

# --- without CAP_PERFMON: the reason, the capability, exit 2 -------------------
less=${AMBIENT//CAP_PERFMON/}
rc=0
run_as_unit "$less" "$less" timeout 20 "$B/nattravd" --config "$work/nattravd.conf" >"$work/noperfmon.log" 2>&1 || rc=$?
check "no CAP_PERFMON: exit 2 (RestartPreventExitStatus=2: no restart loop)" test "$rc" -eq 2
check "no CAP_PERFMON: the message names CAP_PERFMON as missing" \
	grep -q "error the process lacks CAP_PERFMON" "$work/noperfmon.log"
check "no CAP_PERFMON: the verifier's reason is given" \
	grep -q "error cannot load the XDP program: the verifier refused it: .*prohibited for !root" "$work/noperfmon.log"
check "no CAP_PERFMON: no word of pins of another layout" sh -c "! grep -qi 'another layout' '$work/noperfmon.log'"
check "no CAP_PERFMON: nothing attached" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"

# --- pins of root's without the ExecStartPre=: the owner is named, not the layout --
rm -f "$NT_PIN_DIR"/nt_*
ctl attach --iface "$RELAY_IF" --addr "$RELAY_V4" --media-port 3478 >/dev/null 2>&1
ctl detach --iface "$RELAY_IF" >/dev/null 2>&1
rc=0
NO_PRE=1 run_as_unit "$BOUND" "$AMBIENT" timeout 20 "$B/nattravd" --config "$work/nattravd.conf" \
	>"$work/rootpins.log" 2>&1 || rc=$?
check "root's pins, no ExecStartPre=: refused, the message says whose they are" \
	sh -c "[ $rc -eq 1 ] && grep -q 'error the maps pinned under $NT_PIN_DIR are not open to uid $UID_' '$work/rootpins.log'"
check "root's pins, no ExecStartPre=: no capability or layout blamed" \
	sh -c "! grep -Eq 'lacks CAP|another layout' '$work/rootpins.log'"

# --- maps of another layout pinned: then, and only then, the pins are named ----
odd="$NT_PIN_DIR-odd"
nt_cleanup_push "rm -rf '$odd'"
mkdir "$odd"
bpftool map create "$odd/nt_config" type array key 4 value 8 entries 1 name nt_config
rc=0
nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" --pin-dir "$odd" \
	--cert "$work/server.pem" --key "$work/server.key" --auth-secret-file "$work/secret" \
	--ctl-socket off >"$work/odd.log" 2>&1 || rc=$?
check "foreign pinned map: refused (exit 1)" test "$rc" -eq 1
check "foreign pinned map: the message names the pins of another layout" \
	grep -q "error maps of another layout pinned under $odd" "$work/odd.log"
check "foreign pinned map: no capability blamed" sh -c "! grep -q 'lacks CAP' '$work/odd.log'"

relay_summary
