#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# STUN Binding on the media port across real NATs (issue 18, item 1): coturn's
# turnutils_stunclient, run behind a NAT, learns the NAT's public address
# from nattravd; a request with a broken FINGERPRINT gets nothing; one with an
# unknown comprehension-required attribute gets 420 with UNKNOWN-ATTRIBUTES;
# a flood from one address is answered at the per-address reply rate; the
# metrics count each; nattrav's own clients verify and relay as before.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntu c1=cone c2=symmetric
MPORT=9474
command -v turnutils_stunclient >/dev/null || nt_fail "turnutils_stunclient missing (coturn; scripts/deps.sh installs it)"

lab_daemon --metrics "$MPORT" --log-level debug

ip netns exec "$C1_NS" timeout 10 turnutils_stunclient -p 3478 "$RELAY_V4" >"$work/stunclient" 2>&1 || true
check "turnutils_stunclient behind a NAT learns the NAT's address ($C1_PUBLIC)" \
	grep -Eq "UDP reflexive addr: $C1_PUBLIC:[0-9]+" "$work/stunclient"

# crafted requests: the answer (or none) as the standard says
ip netns exec "$C2_NS" python3 - "$RELAY_V4" "$C2_PUBLIC" >"$work/crafted" 2>&1 <<'PY' || true
import os, socket, struct, sys, zlib
relay, public = sys.argv[1], sys.argv[2]
COOKIE = 0x2112A442

def msg(attrs=b"", fingerprint=True, corrupt=False):
    tid = os.urandom(12)
    body = attrs
    if fingerprint:
        hdr = struct.pack("!HHI", 0x0001, len(body) + 8, COOKIE) + tid
        crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += struct.pack("!HHI", 0x8028, 4, crc ^ (1 if corrupt else 0))
    return tid, struct.pack("!HHI", 0x0001, len(body), COOKIE) + tid + body

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)

def ask(m):
    s.sendto(m, (relay, 3478))
    try:
        return s.recv(2048)
    except socket.timeout:
        return None

tid, m = msg()
r = ask(m)
ok = r is not None and r[:2] == b"\x01\x01" and r[8:20] == tid
if ok:
    # XOR-MAPPED-ADDRESS: the public address of this namespace's NAT
    off = 20
    while off < len(r):
        t, l = struct.unpack("!HH", r[off:off + 4])
        if t == 0x0020:
            ip = bytes(a ^ b for a, b in zip(r[off + 8:off + 12], struct.pack("!I", COOKIE)))
            ok = socket.inet_ntoa(ip) == public
        off += 4 + ((l + 3) & ~3)
print("fingerprinted request answered with our public address:", ok)
print("corrupt fingerprint answered:", ask(msg(corrupt=True)[1]) is not None)
r = ask(msg(attrs=struct.pack("!HH", 0x7777, 4) + b"abcd")[1])
print("unknown attribute 420:", r is not None and r[:2] == b"\x01\x11" and b"\x00\x0a\x00\x02\x77\x77" in r)
answered = 0
for _ in range(300):
    s.sendto(msg()[1], (relay, 3478))
s.settimeout(0.5)
try:
    while True:
        s.recv(2048)
        answered += 1
except socket.timeout:
    pass
print("flood of 300, answered:", answered)
PY
cat "$work/crafted" >>"$work/clients.log"
check "a Binding request with FINGERPRINT: answered with the NAT's address" \
	grep -q 'fingerprinted request answered with our public address: True' "$work/crafted"
check "a broken FINGERPRINT: no answer" grep -q 'corrupt fingerprint answered: False' "$work/crafted"
check "an unknown comprehension-required attribute: 420 naming it" grep -q 'unknown attribute 420: True' "$work/crafted"
flood=$(awk '/flood of 300, answered:/ {print $NF}' "$work/crafted")
check "a flood from one address answered at the reply rate, not 1:1 ($flood of 300)" \
	test "${flood:-300}" -lt 150 -a "${flood:-0}" -gt 0
check "metrics: answered, refused with 420, malformed, rate-limited counted" test "$(metric 'nattrav_stun_binding_requests_total{result="answered"}')" -ge 3 -a \
	"$(metric 'nattrav_stun_binding_requests_total{result="unknown_attribute"}')" -ge 1 -a \
	"$(metric 'nattrav_stun_binding_requests_total{result="malformed"}')" -ge 1 -a \
	"$(metric 'nattrav_stun_binding_requests_total{result="rate_limited"}')" -ge 100

# STUN answers share the per-address reply budget with nattrav's own control
# replies (one anti-reflection rate): let the flood's second pass
sleep 1.5
client "$C1_NS" "$work/c1" --token "$(token alice)" --group "s-$P" --send 100 --rate 100 --wait 2 &
a=$!
client "$C2_NS" "$work/c2" --token "$(token bob)" --group "s-$P" --send 100 --rate 100 --wait 2 &
b=$!
wait $a || true
wait $b || true
check "nattrav's own clients still verify and relay (c1 and c2 received 100)" \
	test "$(json_field "$work/c1" summary received)" = 100 -a "$(json_field "$work/c2" summary received)" = 100

stop_daemon
relay_summary
