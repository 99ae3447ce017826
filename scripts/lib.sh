# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Small helpers for nattrav's scripts and end-to-end tests. Source it:
#
#   . "$(dirname "$0")/../scripts/lib.sh"     (or wherever it lives)
#
# It does not change shell options; callers use `set -euo pipefail`.
#
#   nt_log MSG...                 message to stderr
#   nt_fail MSG...                message to stderr, exit 1
#   nt_check_root                 nt_fail unless running as root
#   nt_wait_for [-t SECS] CMD...  run CMD every 0.1 s until it succeeds;
#                                 return 1 after SECS (default 5)
#   nt_nsexec NS CMD...           run CMD inside network namespace NS, with a
#                                 sysfs of that namespace and the ROOT bpffs
#                                 at /sys/fs/bpf (see below)
#   nt_bpffs_ensure               mount bpffs on /sys/fs/bpf (root mount ns)
#                                 if it is not mounted yet
#   nt_token CTL SECRET TTL USER [GROUP...]
#                                 a token (nattravctl at CTL, secret file
#                                 SECRET, TTL s) for USER and the GROUPs
#                                 (none: any group, '*')
#   nt_check WHAT CMD...          run CMD, print "ok - WHAT" / "not ok - WHAT"
#   nt_summary                    print "N passed, N failed"; false if any failed
#   nt_cleanup_push CMD-STRING    register a cleanup command (eval'd later)
#   nt_cleanup_run                run the registered commands, newest first,
#                                 ignoring their failures; runs only once
#   nt_cleanup_trap               trap nt_cleanup_run on EXIT (and turn
#                                 INT/TERM into an exit so it runs then too)
#   nt_udp_send NS SRC_PORT DST_ADDR DST_PORT [COUNT [PAYLOAD [SRC_ADDR]]]
#                                 send COUNT (1) datagrams from NS, bound to
#                                 SRC_PORT (0 = any), payload PAYLOAD
#                                 (default "nt-<n>"); v4 or v6 by DST_ADDR
#                                 (no SO_REUSEADDR: fails if SRC_PORT is taken)
#   nt_udp_request NS SRC_PORT DST_ADDR DST_PORT TIMEOUT [COUNT [PAYLOAD [SRC_ADDR]]]
#                                 nt_udp_send, then print what comes back to
#                                 the same socket ("<addr> <port> <payload>")
#                                 until TIMEOUT s of silence; 1 if nothing
#   nt_ping NS DST [TIMEOUT]      one ICMP/ICMPv6 echo (python3; no ping(8)
#                                 needed); true if answered within TIMEOUT (2)
#   nt_udp_recv NS PORT [TIMEOUT [COUNT [BIND_ADDR]]]
#                                 receive on PORT in NS (dual-stack "::" by
#                                 default) until COUNT datagrams (0 = no
#                                 limit, default) or TIMEOUT s (3) of silence
#                                 have passed; prints one line per datagram:
#                                 "<src-addr> <src-port> <payload>" (v4
#                                 sources as plain a.b.c.d). Exit 0 if
#                                 anything arrived, 1 if nothing did.
#   nt_udp_listening NS PORT      true once something listens on UDP PORT in NS
#                                 (use: nt_wait_for nt_udp_listening NS PORT)
#
# Running a program that pins BPF objects inside a namespace
# ----------------------------------------------------------
# `ip netns exec NS` unshares the mount namespace and mounts a fresh sysfs on
# /sys, so the root's bpffs at /sys/fs/bpf disappears: pins made there land
# nowhere useful (bpftool even auto-mounts a private bpffs that vanishes with
# the command). Binding the root bpffs back from /proc/1/root/sys/fs/bpf
# fails (EINVAL: the source lives in another mount namespace).
# `nsenter --net=/run/netns/NS CMD` keeps the root mount namespace: pins land
# in the root bpffs, `ip link` / `bpftool net` (netlink) see the namespace's
# interfaces, BUT /sys/class/net still shows the root namespace's devices.
# What nt_nsexec does (verified on 6.x): nsenter --net, then `unshare -m`
# (private propagation, so nothing leaks to the root), keep an fd on the
# root bpffs, mount the namespace's own sysfs on /sys, and bind the fd back
# on /sys/fs/bpf (mount --no-canonicalize, otherwise mount(8) resolves
# /proc/self/fd/N to the now-shadowed path). Result: correct /sys/class/net
# AND pins under /sys/fs/bpf/... that are visible from the root namespace
# and from every other nt_nsexec. CMD must be a program, not a shell function.
# Suggested pin dir for a topology with prefix P: /sys/fs/bpf/nattrav-P
# (topo.sh prints it as NT_PIN_DIR and `topo.sh down` removes it).

NT_PY=${NT_PY:-$(command -v python3 || true)}

nt_log() { printf '%s\n' "$*" >&2; }

nt_token() {
	local ctl=$1 secret=$2 ttl=$3 user=$4 g args=()
	shift 4
	[ $# -gt 0 ] || set -- '*'
	for g in "$@"; do args+=(--group "$g"); done
	"$ctl" token --secret-file "$secret" --user "$user" "${args[@]}" --ttl "$ttl"
}

nt_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

nt_check_root() {
	[ "$(id -u)" -eq 0 ] || nt_fail "must run as root (network namespaces, nftables, XDP)"
}

nt_wait_for() {
	local secs=5 end
	if [ "${1:-}" = "-t" ]; then
		secs=$2
		shift 2
	fi
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

nt_bpffs_ensure() {
	if ! mount -t bpf | grep -q ' on /sys/fs/bpf '; then
		mount -t bpf bpf /sys/fs/bpf || nt_fail "cannot mount bpffs on /sys/fs/bpf"
	fi
}

# Inner script for nt_nsexec; $0 is "nt_nsexec", "$@" the command.
# shellcheck disable=SC2016
_NT_NSEXEC_SH='
exec 3</sys/fs/bpf || exit 125
mount -t sysfs sysfs /sys || exit 125
mount --no-canonicalize --bind /proc/self/fd/3 /sys/fs/bpf || exit 125
exec 3<&-
exec "$@"'

nt_nsexec() {
	local ns=$1
	shift
	[ -e "/run/netns/$ns" ] || { nt_log "nt_nsexec: no network namespace $ns"; return 1; }
	[ $# -gt 0 ] || { nt_log "nt_nsexec: no command"; return 1; }
	nsenter --net="/run/netns/$ns" -- \
		unshare -m --propagation private sh -c "$_NT_NSEXEC_SH" nt_nsexec "$@"
}

# Test results ---------------------------------------------------------------
# nt_check WHAT CMD...   run CMD; print "ok - WHAT" or "not ok - WHAT" and count
# nt_summary             print "N passed, N failed"; false when any failed

NT_PASSED=0
NT_FAILED=0

nt_check() {
	local what=$1
	shift
	if "$@"; then
		NT_PASSED=$((NT_PASSED + 1))
		echo "ok - $what"
	else
		NT_FAILED=$((NT_FAILED + 1))
		echo "not ok - $what"
	fi
}

nt_summary() {
	echo "$NT_PASSED passed, $NT_FAILED failed"
	[ "$NT_FAILED" -eq 0 ]
}

# Cleanup stack -------------------------------------------------------------

NT_CLEANUP=()
_NT_CLEANED=0

nt_cleanup_push() { NT_CLEANUP+=("$*"); }

nt_cleanup_run() {
	local i
	[ "$_NT_CLEANED" -eq 0 ] || return 0
	_NT_CLEANED=1
	for ((i = ${#NT_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${NT_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	return 0
}

nt_cleanup_trap() {
	trap 'nt_cleanup_run' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# UDP helpers ----------------------------------------------------------------

# shellcheck disable=SC2016
_NT_UDP_SEND_PY='
import socket, sys
sport, dst, dport, count, payload, src = sys.argv[1:7]
wait = float(sys.argv[7])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((src or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), int(sport)))
for n in range(int(count)):
    s.sendto((payload or "nt-%d" % n).encode(), (dst, int(dport)))
if wait > 0:
    s.settimeout(wait)
    got = 0
    while True:
        try:
            data, a = s.recvfrom(65535)
        except socket.timeout:
            break
        print(a[0], a[1], data.decode(errors="replace"), flush=True)
        got += 1
    sys.exit(0 if got else 1)
'

nt_udp_send() {
	[ $# -ge 4 ] || { nt_log "usage: nt_udp_send NS SRC_PORT DST_ADDR DST_PORT [COUNT [PAYLOAD [SRC_ADDR]]]"; return 2; }
	ip netns exec "$1" "$NT_PY" -c "$_NT_UDP_SEND_PY" "$2" "$3" "$4" "${5:-1}" "${6:-}" "${7:-}" "${NT_UDP_WAIT:-0}"
}

# nt_udp_request: nt_udp_send, then print the replies that come back to the
# same socket ("<addr> <port> <payload>") until TIMEOUT s of silence.
nt_udp_request() {
	[ $# -ge 5 ] || { nt_log "usage: nt_udp_request NS SRC_PORT DST_ADDR DST_PORT TIMEOUT [COUNT [PAYLOAD [SRC_ADDR]]]"; return 2; }
	local ns=$1 sp=$2 da=$3 dp=$4 to=$5
	shift 5
	NT_UDP_WAIT=$to nt_udp_send "$ns" "$sp" "$da" "$dp" "$@"
}

# shellcheck disable=SC2016
_NT_PING_PY='
import os, select, socket, struct, sys, time
dst, timeout = sys.argv[1], float(sys.argv[2])
v6 = ":" in dst
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    typ, rtyp = 128, 129
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    typ, rtyp = 8, 0
ident = os.getpid() & 0xffff
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
body = b"nattrav-ping"
hdr = struct.pack("!BBHHH", typ, 0, 0, ident, 1)
if not v6:
    hdr = struct.pack("!BBHHH", typ, 0, csum(hdr + body), ident, 1)
s.sendto(hdr + body, (dst, 0))
end = time.time() + timeout
while time.time() < end:
    if not select.select([s], [], [], max(0, end - time.time()))[0]:
        break
    pkt, a = s.recvfrom(2048)
    icmp = pkt if v6 else pkt[(pkt[0] & 15) * 4:]
    if len(icmp) >= 8 and icmp[0] == rtyp and struct.unpack("!H", icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
'

# nt_ping NS DST [TIMEOUT]: one ICMP(v6) echo from NS; true if answered.
# (Debian's ping is not installed everywhere; this needs only python3.)
nt_ping() {
	[ $# -ge 2 ] || { nt_log "usage: nt_ping NS DST [TIMEOUT]"; return 2; }
	ip netns exec "$1" "$NT_PY" -c "$_NT_PING_PY" "$2" "${3:-2}"
}

# shellcheck disable=SC2016
_NT_UDP_RECV_PY='
import socket, sys
port, timeout, count, addr = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.settimeout(timeout)
got = 0
while count == 0 or got < count:
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        break
    host = src[0][7:] if src[0].startswith("::ffff:") else src[0]
    print(host, src[1], data.decode(errors="replace"), flush=True)
    got += 1
sys.exit(0 if got else 1)
'

nt_udp_recv() {
	[ $# -ge 2 ] || { nt_log "usage: nt_udp_recv NS PORT [TIMEOUT [COUNT [BIND_ADDR]]]"; return 2; }
	ip netns exec "$1" "$NT_PY" -c "$_NT_UDP_RECV_PY" "$2" "${3:-3}" "${4:-0}" "${5:-::}"
}

nt_udp_listening() {
	ip netns exec "$1" ss -Hunl "sport = :$2" 2>/dev/null | grep -q .
}
