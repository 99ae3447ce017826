#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of scripts/topo.sh: builds c1=cone c2=symmetric c3=none (with v6),
# checks reachability, NAT source addresses, port behaviour of both NAT
# kinds and the pass program on the relay's bridge-side peer, then tears it
# all down (trap on EXIT, also on failure); then a fleet (--relays 3): the
# variables, reachability, the pass program on each relay's peer, and down.
# Last line: "N passed, N failed".
#
#   tests/e2e/topo_selftest.sh [--prefix P]      (root; default prefix ntst)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TOPO=$ROOT/scripts/topo.sh
# shellcheck disable=SC1091
. "$ROOT/scripts/lib.sh"

PREFIX=ntst
[ "${1:-}" != --prefix ] || PREFIX=${2:?--prefix needs a value}

PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/nt-topo-selftest.XXXXXX)

ok() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$*"; }
ko() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$*"; }
check() { # DESCRIPTION CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else ko "$d"; fi
}

finish() {
	nt_cleanup_run
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
}

# recv_from NS PORT SENDER-NS SRC-PORT DST DST-PORT: start a receiver in NS,
# send one datagram, print "<src-addr> <src-port>" of what arrived.
recv_from() {
	local ns=$1 port=$2 out=$TMP/recv.$RANDOM pid
	nt_udp_recv "$ns" "$port" 2 1 >"$out" &
	pid=$!
	if ! nt_wait_for nt_udp_listening "$ns" "$port"; then
		wait "$pid" || true
		return 1
	fi
	nt_udp_send "$3" "$4" "$5" "$6" 1 probe || true
	wait "$pid" || true
	awk '{print $1, $2; exit}' "$out"
}

main() {
	nt_check_root
	nt_cleanup_push "rm -rf '$TMP'"
	nt_cleanup_push "'$TOPO' down --prefix '$PREFIX' --kill"
	trap 'finish' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local vars
	if ! vars=$("$TOPO" up --prefix "$PREFIX" --v6 c1=cone c2=symmetric c3=none); then
		ko "topo.sh up"
		return
	fi
	ok "topo.sh up"
	eval "$vars"

	check "up printed the expected variables" \
		test "$RELAY_NS $RELAY_V4 $C1_PUBLIC $C2_PUBLIC $C3_PUBLIC $C1_IP $C3_IP $NT_CLIENTS" = \
		"$PREFIX-relay 203.0.113.1 203.0.113.11 203.0.113.12 203.0.113.103 10.0.1.2 203.0.113.103 1 2 3"

	local i ns v
	for i in 1 2 3; do
		ns=C${i}_NS
		check "c$i pings relay $RELAY_V4" nt_ping "${!ns}" "$RELAY_V4"
		check "c$i pings relay $RELAY_V6" nt_ping "${!ns}" "$RELAY_V6"
	done

	# NAT source addresses as seen by the relay.
	for i in 1 2 3; do
		ns=C${i}_NS v=C${i}_PUBLIC
		check "relay sees c$i's UDP from ${!v}" \
			test "$(recv_from "$RELAY_NS" 4000 "${!ns}" 0 "$RELAY_V4" 4000 | cut -d' ' -f1)" = "${!v}"
	done
	v=$(recv_from "$RELAY_NS" 4000 "$C1_NS" 0 "$RELAY_V6" 4000 | cut -d' ' -f1)
	check "relay sees c1's UDP over v6 from $C1_PUBLIC6 (got $v)" test "$v" = "$C1_PUBLIC6"

	# Port behaviour: same source port to two destinations (relay, c3).
	local a b
	a=$(recv_from "$RELAY_NS" 4001 "$C1_NS" 5001 "$RELAY_V4" 4001)
	b=$(recv_from "$C3_NS" 4001 "$C1_NS" 5001 "$C3_IP" 4001)
	check "cone: same external port for two destinations ($a / $b)" \
		test -n "$a" -a "$a" = "$b" -a "$a" = "$C1_PUBLIC 5001"
	a=$(recv_from "$RELAY_NS" 4002 "$C2_NS" 5002 "$RELAY_V4" 4002)
	b=$(recv_from "$C3_NS" 4002 "$C2_NS" 5002 "$C3_IP" 4002)
	check "symmetric: different external ports per destination ($a / $b)" \
		test -n "$a" -a -n "$b" -a "${a%% *}" = "$C2_PUBLIC" -a "${b%% *}" = "$C2_PUBLIC" \
		-a "${a#* }" != "${b#* }"

	# Client-to-client across both NATs (c3 is public): c2 -> c3 works.
	check "c3 sees c2's UDP from $C2_PUBLIC" \
		test "$(recv_from "$C3_NS" 4003 "$C2_NS" 0 "$C3_IP" 4003 | cut -d' ' -f1)" = "$C2_PUBLIC"

	# The pass program sits on the relay's bridge-side peer, in native mode.
	# ("mtu N xdp" = driver mode; generic would read "xdpgeneric")
	check "nt_pass attached in driver mode to $INET_NS/$RELAY_PEER" \
		sh -c "ip -n '$INET_NS' -d link show '$RELAY_PEER' | grep -q 'prog/xdp id' &&
		       ip -n '$INET_NS' link show '$RELAY_PEER' | grep -qE 'mtu [0-9]+ xdp '"

	# nt_nsexec: sees the namespace's sysfs, pins land in the root bpffs.
	v=$(nt_nsexec "$RELAY_NS" ls /sys/class/net | tr '\n' ' ')
	check "nt_nsexec: /sys/class/net is the namespace's ($v)" test "$v" = "eth0 lo "
	if command -v bpftool >/dev/null; then
		nt_bpffs_ensure
		mkdir -p "$NT_PIN_DIR"
		nt_nsexec "$RELAY_NS" bpftool map create "$NT_PIN_DIR/selftest" type array \
			key 4 value 4 entries 1 name nt_selftest 2>/dev/null || true
		check "nt_nsexec: pin from inside lands in the root bpffs" test -e "$NT_PIN_DIR/selftest"
	fi

	"$TOPO" down --prefix "$PREFIX" --kill
	check "topo.sh down removes every namespace" \
		sh -c "! ip netns list | grep -qE '^$PREFIX-'"
	check "topo.sh down removes $NT_PIN_DIR" test ! -e "$NT_PIN_DIR"
	check "topo.sh down twice does not fail" "$TOPO" down --prefix "$PREFIX"

	# A fleet: --relays 3, the single-relay variables unchanged beside the new ones.
	if ! vars=$("$TOPO" up --prefix "$PREFIX" --relays 3 c1=cone); then
		ko "topo.sh up --relays 3"
		return
	fi
	ok "topo.sh up --relays 3"
	eval "$vars"
	check "--relays 3: RELAY_* is relay 1, NT_RELAYS lists three, a Redis namespace" \
		sh -c "[ '$RELAY_NS' = '$PREFIX-relay' ] && [ '$RELAY_V4' = 203.0.113.1 ] &&
		       [ '$RELAY1_NS' = '$RELAY_NS' ] && [ '$RELAY1_PIN_DIR' = '$NT_PIN_DIR' ] &&
		       [ '$NT_RELAYS' = '1 2 3' ] && [ '$RELAY3_NS' = '$PREFIX-relay3' ] &&
		       [ '$RELAY3_V4' = 203.0.113.3 ] && [ '$RELAY2_PIN_DIR' = '$NT_PIN_DIR-r2' ] &&
		       [ '$REDIS_NS' = '$PREFIX-redis' ] && [ '$REDIS_V4' = 203.0.113.250 ]"
	for r in 2 3; do
		local ns="RELAY${r}_NS" v4="RELAY${r}_V4" peer="RELAY${r}_PEER"
		check "c1 pings relay $r (${!v4})" nt_ping "$C1_NS" "${!v4}"
		check "nt_pass attached in driver mode to $INET_NS/${!peer}" \
			sh -c "ip -n '$INET_NS' link show '${!peer}' | grep -qE 'mtu [0-9]+ xdp '"
	done
	check "relay 2 reaches relay 1" nt_ping "$RELAY2_NS" "$RELAY_V4"
	check "relay 2 reaches the Redis namespace" nt_ping "$RELAY2_NS" "$REDIS_V4"
	mkdir -p "$RELAY2_PIN_DIR"
	"$TOPO" down --prefix "$PREFIX" --kill
	check "topo.sh down removes the relays, Redis and relay 2's pin dir" \
		sh -c "! ip netns list | grep -qE '^$PREFIX-' && [ ! -e '$RELAY2_PIN_DIR' ]"
}

main
