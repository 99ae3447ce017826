#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Network-namespace topology with real NATs for nattrav's demo, end-to-end
# tests and benchmarks. See usage() below.
#
#   ${P}-inet    bridge br0 = the "internet", 203.0.113.0/24, 2001:db8:ffff::/64
#   ${P}-relay   eth0 203.0.113.1, 2001:db8:ffff::1 (bridge port "relay0")
#   ${P}-relayR  with --relays N, R = 2..N: eth0 203.0.113.R, 2001:db8:ffff::R
#                (bridge port "relayR"), pin dir /sys/fs/bpf/nattrav-P-rR
#   ${P}-redis   with --relays N > 1: eth0 203.0.113.250 (bridge port "redis0"),
#                an empty namespace for a test's redis-server
#   ${P}-cI      kind none: eth0 203.0.113.(100+I), 2001:db8:ffff::(100+I)
#                           (bridge port "cIw")
#   ${P}-nI      kind cone/symmetric: NAT router, wan0 203.0.113.(10+I),
#                2001:db8:ffff::(10+I) (bridge port "nIw"), lan0 10.0.I.1/24,
#                fd00:0:0:I::1/64; nftables masquerade on wan0
#   ${P}-cI      behind it: eth0 10.0.I.2/24, fd00:0:0:I::2/64, default via .1
#
# The veths are created directly inside the namespaces (`ip -n A link add ...
# peer netns B`), never in the root namespace.
#
# NAT kinds: "cone" = plain masquerade: conntrack keeps the source port when it
# is free, and the same internal addr:port maps to the same external port for
# every destination (endpoint-independent mapping; filtering stays
# address-and-port dependent). "symmetric" = masquerade fully-random: a fresh
# random external port for each new conntrack entry, i.e. per destination.
#
# XDP on veth (checked once on kernel 6.18, iproute2 6.1, with a throw-away
# reflector on the relay's eth0 that swaps MACs/IPs/ports and returns XDP_TX):
#   - pass program on the bridge-side peer relay0 in NATIVE mode (`xdpdrv`,
#     or plain `xdp`, which picks driver mode on veth): the reflected frames
#     cross br0 and arrive in the client namespace with valid UDP checksums,
#     also back through a cone NAT (conntrack reverse-translates them).
#   - GENERIC mode (`xdpgeneric`) on the peer, or no program: nothing arrives;
#     the relay eth0's ethtool stat rx_queue_0_xdp_tx_errors counts each frame.
#   - `ethtool -K relay0 gro on` without a program: no error counted, but the
#     frames did not arrive either.
# So topo.sh attaches build/nt_pass.bpf.o with `xdpdrv` on relay0.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck disable=SC1091
. "$HERE/lib.sh"

PREFIX=nt
V6=0
KILL=0
PASS_OBJ=${NT_PASS_OBJ:-$ROOT/build/nt_pass.bpf.o}
CLIENTS=()   # "index kind"
RELAYS=1

usage() {
	cat <<EOF
usage: $(basename "$0") up   [--prefix P] [--v6] [--relays N] cI=KIND ...
       $(basename "$0") down [--prefix P] [--kill]
       $(basename "$0") show [--prefix P]

  up     build the topology (tearing down leftovers of prefix P first) and
         print shell assignments on stdout, for  eval "\$($0 up ...)";
         progress goes to stderr.
         KIND is none (client directly on the WAN), cone (masquerade) or
         symmetric (masquerade fully-random); I is 1..89.
  down   delete every namespace of prefix P and /sys/fs/bpf/nattrav-P;
         never fails. --kill first kills the processes still running in them.
  show   addresses, routes and NAT rules of prefix P.

  --prefix P   namespace name prefix (default nt; letters, digits, _; <= 8)
  --v6         also configure IPv6 (WAN 2001:db8:ffff::/64, LANs fd00:0:0:I::/64,
               masquerade for v6 too)
  --relays N   N relay namespaces (1..8, default 1) for a fleet; with N > 1 also
               a namespace for Redis

  Env: NT_PASS_OBJ  pass-through XDP object for the relay's bridge-side peer
                    (default build/nt_pass.bpf.o, from make)

Printed by up (I for each client):
  NT_PREFIX INET_NS INET_BR RELAY_NS RELAY_IF RELAY_PEER RELAY_V4 RELAY_V6
  RELAY_MAC NT_PIN_DIR NT_CLIENTS="1 2 ..."
  CI_NS CI_IF CI_IP CI_IP6 CI_PUBLIC CI_PUBLIC6 CI_NAT CI_NAT_NS CI_GW
  (RELAY_V6, CI_IP6, CI_PUBLIC6 are empty without --v6; CI_NAT_NS and CI_GW
  are empty for kind none)
  NT_RELAYS="1 2 ..." and for each relay R (relay 1 is the RELAY_* above):
  RELAYR_NS RELAYR_IF RELAYR_PEER RELAYR_V4 RELAYR_V6 RELAYR_PIN_DIR;
  with --relays N > 1: REDIS_NS REDIS_V4
EOF
}

# --- helpers ----------------------------------------------------------------

ns_names() {
	ip netns list 2>/dev/null | awk '{print $1}' |
		grep -E "^${PREFIX}-(inet|relay[0-9]*|redis|c[0-9]+|n[0-9]+)\$" || true
}

ns_add() {
	ip netns add "$1" || nt_fail "cannot create namespace $1"
	ip -n "$1" link set lo up
	ip netns exec "$1" sh -c '
		sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	' || nt_fail "sysctl in $1"
}

# veth NS_A DEV_A NS_B DEV_B: create the pair inside the namespaces, checksum
# offload off on both ends, both up.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" ||
		nt_fail "cannot create veth $1/$2 <-> $3/$4"
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
	ip netns exec "$3" ethtool -K "$4" tx off >/dev/null
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# wan_port NS DEV BRPORT: veth from NS/DEV to a port of br0 in the inet ns.
wan_port() {
	veth "$1" "$2" "$INET" "$3"
	ip -n "$INET" link set "$3" master br0
}

addr4() { ip -n "$1" addr add "$3" dev "$2"; }
addr6() { [ "$V6" -eq 0 ] || ip -n "$1" -6 addr add "$3" dev "$2" nodad; }

nat_rules() { # NS KIND
	local opt=""
	[ "$2" = symmetric ] && opt=" fully-random"
	ip netns exec "$1" nft -f - <<EOF || nt_fail "nftables in $1"
table inet nattrav {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade$opt
	}
}
EOF
}

parse_common() { # sets PREFIX, V6, KILL, CLIENTS from "$@"
	while [ $# -gt 0 ]; do
		case $1 in
		--prefix) [ $# -ge 2 ] || nt_fail "--prefix needs a value"; PREFIX=$2; shift ;;
		--prefix=*) PREFIX=${1#--prefix=} ;;
		--v6) V6=1 ;;
		--kill) KILL=1 ;;
		--relays)
			[ $# -ge 2 ] || nt_fail "--relays needs a value"
			[[ $2 =~ ^[1-8]$ ]] || nt_fail "bad --relays '$2' (1..8)"
			RELAYS=$2; shift ;;
		-h|--help) usage; exit 0 ;;
		c[0-9]*=*)
			local idx=${1%%=*} kind=${1#*=}
			idx=${idx#c}
			if ! [[ $idx =~ ^[1-9][0-9]?$ ]] || [ "$idx" -gt 89 ]; then
				nt_fail "bad client index in '$1' (c1..c89)"
			fi
			case $kind in none|cone|symmetric) ;;
			*) nt_fail "bad NAT kind '$kind' in '$1' (none, cone, symmetric)" ;;
			esac
			local c
			for c in "${CLIENTS[@]}"; do
				[ "${c%% *}" != "$idx" ] || nt_fail "client c$idx given twice"
			done
			CLIENTS+=("$idx $kind") ;;
		*) nt_fail "unknown argument '$1' (see --help)" ;;
		esac
		shift
	done
	[[ $PREFIX =~ ^[A-Za-z0-9_]{1,8}$ ]] || nt_fail "bad prefix '$PREFIX' (letters, digits, _; 1..8 chars)"
	INET=$PREFIX-inet
	RELAY=$PREFIX-relay
	PIN_DIR=/sys/fs/bpf/nattrav-$PREFIX
}

# --- down / show ----------------------------------------------------------

cmd_down() {
	local ns pids
	for ns in $(ns_names); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			if [ "$KILL" -eq 1 ]; then
				# shellcheck disable=SC2086
				kill $pids 2>/dev/null || true
			else
				nt_log "warning: processes still in $ns: $(tr '\n' ' ' <<<"$pids")(use --kill)"
			fi
		fi
		ip netns del "$ns" 2>/dev/null || nt_log "warning: cannot delete $ns"
	done
	local d
	for d in "$PIN_DIR" "$PIN_DIR"-r[0-9]; do
		[ -d "$d" ] || continue
		rm -rf "$d" 2>/dev/null || nt_log "warning: cannot remove $d"
	done
	return 0
}

cmd_show() {
	local ns
	for ns in $(ns_names | sort); do
		echo "== $ns"
		ip -n "$ns" -br addr show | grep -v '^lo '
		ip -n "$ns" route show | sed 's/^/  route /'
		case $ns in
		"$PREFIX"-n*) ip netns exec "$ns" nft list ruleset | sed 's/^/  /' ;;
		"$PREFIX"-inet) echo "  relay0 XDP: $(ip -n "$ns" link show relay0 |
			grep -oE 'mtu [0-9]+ xdp[a-z]*|prog/xdp id [0-9]+' | sed 's/^mtu [0-9]* //' |
			tr '\n' ' ')" ;;
		esac
	done
}

# --- up ------------------------------------------------------------------

build_inet_relay() {
	ns_add "$INET"
	ip -n "$INET" link add br0 type bridge
	ip -n "$INET" link set br0 up
	ns_add "$RELAY"
	wan_port "$RELAY" eth0 relay0
	addr4 "$RELAY" eth0 203.0.113.1/24
	addr6 "$RELAY" eth0 2001:db8:ffff::1/64
	# Native mode: see the note at the top (generic XDP on the peer does not
	# make veth accept XDP_TX frames).
	[ -f "$PASS_OBJ" ] || nt_fail "$PASS_OBJ missing: run make first"
	ip -n "$INET" link set dev relay0 xdpdrv obj "$PASS_OBJ" sec xdp ||
		nt_fail "cannot attach $PASS_OBJ (native XDP) to $INET/relay0"
}

# relay R of a fleet (2..8): like the first, at 203.0.113.R
build_relay() { # R
	local r=$1 ns=$PREFIX-relay$1
	ns_add "$ns"
	wan_port "$ns" eth0 "relay$r"
	addr4 "$ns" eth0 "203.0.113.$r/24"
	addr6 "$ns" eth0 "2001:db8:ffff::$r/64"
	ip -n "$INET" link set dev "relay$r" xdpdrv obj "$PASS_OBJ" sec xdp ||
		nt_fail "cannot attach $PASS_OBJ (native XDP) to $INET/relay$r"
}

build_redis() {
	local ns=$PREFIX-redis
	ns_add "$ns"
	wan_port "$ns" eth0 redis0
	addr4 "$ns" eth0 203.0.113.250/24
	addr6 "$ns" eth0 2001:db8:ffff::250/64
}

build_client() { # IDX KIND
	local i=$1 kind=$2 c=$PREFIX-c$1 n=$PREFIX-n$1
	ns_add "$c"
	if [ "$kind" = none ]; then
		wan_port "$c" eth0 "c${i}w"
		addr4 "$c" eth0 "203.0.113.$((100 + i))/24"
		addr6 "$c" eth0 "2001:db8:ffff::$((100 + i))/64"
		return
	fi
	ns_add "$n"
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
	[ "$V6" -eq 0 ] || ip netns exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
	wan_port "$n" wan0 "n${i}w"
	addr4 "$n" wan0 "203.0.113.$((10 + i))/24"
	addr6 "$n" wan0 "2001:db8:ffff::$((10 + i))/64"
	veth "$n" lan0 "$c" eth0
	addr4 "$n" lan0 "10.0.$i.1/24"
	addr6 "$n" lan0 "fd00:0:0:$i::1/64"
	addr4 "$c" eth0 "10.0.$i.2/24"
	addr6 "$c" eth0 "fd00:0:0:$i::2/64"
	ip -n "$c" route add default via "10.0.$i.1"
	[ "$V6" -eq 0 ] || ip -n "$c" -6 route add default via "fd00:0:0:$i::1"
	nat_rules "$n" "$kind"
}

print_vars() {
	local e i kind C ids=() mac
	mac=$(ip -n "$RELAY" -br link show eth0 | awk '{print $3}')
	printf "NT_PREFIX='%s'\nINET_NS='%s'\nINET_BR=br0\n" "$PREFIX" "$INET"
	printf "RELAY_NS='%s'\nRELAY_IF=eth0\nRELAY_PEER=relay0\nRELAY_MAC=%s\n" "$RELAY" "$mac"
	printf "RELAY_V4=203.0.113.1\nRELAY_V6='%s'\nNT_PIN_DIR='%s'\n" \
		"$([ "$V6" -eq 1 ] && echo 2001:db8:ffff::1)" "$PIN_DIR"
	for e in "${CLIENTS[@]}"; do
		i=${e%% *} kind=${e#* } C=C$i
		ids+=("$i")
		printf "%s_NS='%s-c%s'\n%s_IF=eth0\n%s_NAT=%s\n" "$C" "$PREFIX" "$i" "$C" "$C" "$kind"
		if [ "$kind" = none ]; then
			printf "%s_IP=203.0.113.%s\n%s_PUBLIC=203.0.113.%s\n" "$C" $((100 + i)) "$C" $((100 + i))
			printf "%s_NAT_NS=''\n%s_GW=''\n" "$C" "$C"
			if [ "$V6" -eq 1 ]; then
				printf "%s_IP6=2001:db8:ffff::%s\n%s_PUBLIC6=2001:db8:ffff::%s\n" "$C" $((100 + i)) "$C" $((100 + i))
			else
				printf "%s_IP6=''\n%s_PUBLIC6=''\n" "$C" "$C"
			fi
		else
			printf "%s_IP=10.0.%s.2\n%s_PUBLIC=203.0.113.%s\n" "$C" "$i" "$C" $((10 + i))
			printf "%s_NAT_NS='%s-n%s'\n%s_GW=10.0.%s.1\n" "$C" "$PREFIX" "$i" "$C" "$i"
			if [ "$V6" -eq 1 ]; then
				printf "%s_IP6=fd00:0:0:%s::2\n%s_PUBLIC6=2001:db8:ffff::%s\n" "$C" "$i" "$C" $((10 + i))
			else
				printf "%s_IP6=''\n%s_PUBLIC6=''\n" "$C" "$C"
			fi
		fi
	done
	printf "NT_CLIENTS='%s'\n" "${ids[*]}"
	local r rs=()
	for r in $(seq 1 "$RELAYS"); do
		rs+=("$r")
		if [ "$r" -eq 1 ]; then
			printf "RELAY1_NS='%s'\nRELAY1_PIN_DIR='%s'\n" "$RELAY" "$PIN_DIR"
		else
			printf "RELAY%s_NS='%s-relay%s'\nRELAY%s_PIN_DIR='%s-r%s'\n" \
				"$r" "$PREFIX" "$r" "$r" "$PIN_DIR" "$r"
		fi
		printf "RELAY%s_IF=eth0\nRELAY%s_PEER=relay%s\nRELAY%s_V4=203.0.113.%s\n" \
			"$r" "$r" "$([ "$r" -eq 1 ] && echo 0 || echo "$r")" "$r" "$r"
		printf "RELAY%s_V6='%s'\n" "$r" "$([ "$V6" -eq 1 ] && echo "2001:db8:ffff::$r")"
	done
	printf "NT_RELAYS='%s'\n" "${rs[*]}"
	if [ "$RELAYS" -gt 1 ]; then
		printf "REDIS_NS='%s-redis'\nREDIS_V4=203.0.113.250\n" "$PREFIX"
	fi
}

cmd_up() {
	local e
	[ ${#CLIENTS[@]} -gt 0 ] || nt_log "note: no clients given (cI=none|cone|symmetric)"
	cmd_down
	nt_log "topo: building prefix $PREFIX (v6=$V6)"
	build_inet_relay
	local r
	for r in $(seq 2 "$RELAYS"); do
		nt_log "topo: relay $r"
		build_relay "$r"
	done
	[ "$RELAYS" -eq 1 ] || build_redis
	for e in "${CLIENTS[@]}"; do
		nt_log "topo: client c${e%% *} (${e#* })"
		build_client "${e%% *}" "${e#* }"
	done
	nt_log "topo: up"
	print_vars
}

main() {
	local cmd=${1:-}
	case $cmd in
	up|down|show) shift ;;
	-h|--help|help) usage; exit 0 ;;
	"") usage >&2; exit 2 ;;
	*) nt_log "unknown command '$cmd'"; usage >&2; exit 2 ;;
	esac
	parse_common "$@"
	nt_check_root
	if [ "$cmd" = up ]; then
		# A failure half-way leaves nothing behind.
		# shellcheck disable=SC2154
		trap 'rc=$?; [ $rc -eq 0 ] || { nt_log "topo: up failed, tearing down $PREFIX"; cmd_down; }' EXIT
		cmd_up
		trap - EXIT
	else
		"cmd_$cmd"
	fi
}

main "$@"
