#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A DTLS handshake between two applications through the relay's XDP path
# (issue 15): build/e2e/dtls_peer, on the shared client library, behind a
# cone and a symmetric NAT, joins one group, proves its mapping and runs
# OpenSSL's DTLS over nt_client media; the server's certificate checks out
# against the lab CA, both sides read the other's message, and the records
# were relayed by the XDP program (its forwarded counter moved by at least
# the handshake's datagrams; nattravd's own userspace path relayed none).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntd c1=cone c2=symmetric
MPORT=9476
lab_daemon --metrics "$MPORT"
check "dtls_peer runs on the shared library" sh -c "ldd '$B/e2e/dtls_peer' | grep -q 'libnattrav-client.so.1 => $B/'"

fwd0=$(metric 'nattrav_received_packets_total{path="xdp",verdict="forwarded"}')
# the DTLS server answers as the relay's own lab certificate (any will do)
ip netns exec "$C2_NS" timeout 40 "$B/e2e/dtls_peer" server "$RELAY_V4" "$work/ca.pem" \
	"$(token bob)" "d-$P" "$work/server.pem" "$work/server.key" >"$work/server.out" 2>"$work/server.err" &
s=$!
ip netns exec "$C1_NS" timeout 40 "$B/e2e/dtls_peer" client "$RELAY_V4" "$work/ca.pem" \
	"$(token alice)" "d-$P" >"$work/client.out" 2>"$work/client.err" &
c=$!
wait $s || true
wait $c || true
cat "$work/server.err" "$work/client.err" >>"$work/clients.log"
check "DTLS client: handshake done, certificate checked, the server's message read ($(cat "$work/client.out"))" \
	grep -Eq '^dtls ok DTLSv1\.2 ECDHE-[A-Z0-9-]+ got=hello from the server$' "$work/client.out"
check "DTLS server: the client's message read ($(cat "$work/server.out"))" \
	grep -Eq '^dtls ok DTLSv1\.2 .* got=hello from the client$' "$work/server.out"
fwd1=$(metric 'nattrav_received_packets_total{path="xdp",verdict="forwarded"}')
us=$(metric 'nattrav_received_packets_total{path="userspace",verdict="forwarded"}')
check "the records crossed the relay's XDP path ($((fwd1 - fwd0)) forwarded, userspace $us)" \
	test $((fwd1 - fwd0)) -ge 6 -a "${us:-1}" = 0

stop_daemon
relay_summary
