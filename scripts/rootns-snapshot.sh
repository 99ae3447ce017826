#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prints the state of a network namespace that tests must leave as they
# found it, normalized so that two snapshots of an untouched namespace are
# equal: links (with XDP programs and link flags), addresses, routes,
# qdiscs, TC filters on every clsact/ingress hook, `bpftool net`, nftables,
# the sysctls the tests use, the network namespaces, BPF pins, bpffs mounts
# and the project's processes. scripts/test.sh diffs one from before the run
# against one from after. Needs root.
#
#   scripts/rootns-snapshot.sh [--bpffs DIR] [NETNS]
#
# NETNS       snapshot that namespace (ip netns exec) instead of the one
#             this runs in; processes are then the ones inside it
# --bpffs DIR list pins under DIR (default /sys/fs/bpf)
#
# Left out because they change on their own: packet and byte counters,
# address lifetimes, peer ifindexes and netns ids (they follow other
# namespaces' churn), nftables set elements that expire.
# NT_ROOTNS_IGNORE, an extended regex: lines matching it are dropped (for a
# machine shared with other test runs: their namespaces and pins).
set -uo pipefail

bpffs=/sys/fs/bpf
ns=
while [ $# -gt 0 ]; do
	case "$1" in
	--bpffs) bpffs=${2:?--bpffs needs a folder}; shift ;;
	-h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "rootns-snapshot.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	*) [ -z "$ns" ] || { echo "rootns-snapshot.sh: one namespace at most" >&2; exit 2; }
	   ns=$1 ;;
	esac
	shift
done
if [ -n "$ns" ] && [ ! -e "/run/netns/$ns" ]; then
	echo "rootns-snapshot.sh: no network namespace '$ns'" >&2
	exit 2
fi

# inns CMD...: CMD in the namespace looked at
inns() {
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

section() { printf '## %s\n' "$1"; }

links() {
	# peer ifindex (@ifN) and link-netnsid change with other namespaces
	inns ip -d link show | sed -E 's/@if[0-9]+:/:/; s/ link-netns(id)? [^ ]+//g; s/[[:space:]]+$//'
}

addrs() {
	# lifetimes count down; DAD clears "tentative" on its own
	inns ip -o addr show | grep -v ' temporary' |
		sed -E 's/\\ +valid_lft.*//; s/ tentative//; s/[[:space:]]+$//' | sort
}

routes() {
	inns ip -4 route show table all | sed -E 's/ expires [0-9]+sec//; s/[[:space:]]+$//' | sort
	inns ip -6 route show table all | grep -v ' proto ra ' |
		sed -E 's/ expires [0-9]+sec//; s/[[:space:]]+$//' | sort
}

qdiscs() {
	# refcnt follows whoever holds the qdisc, not its setup
	inns tc qdisc show | sed -E 's/ refcnt [0-9]+//; s/[[:space:]]+$//'
}

filters() {
	local dev
	for dev in $(inns tc qdisc show | awk '$2 == "clsact" || $2 == "ingress" { print $5 }' | sort -u); do
		echo "dev $dev ingress:"
		inns tc filter show dev "$dev" ingress
		if inns tc qdisc show dev "$dev" | grep -q '^qdisc clsact'; then
			echo "dev $dev egress:"
			inns tc filter show dev "$dev" egress
		fi
	done
}

bpf_net() {
	if command -v bpftool >/dev/null; then
		inns bpftool net show
	else
		echo "(no bpftool)"
	fi
}

nft_rules() {
	if command -v nft >/dev/null; then
		# counters and dynamic set elements move with traffic, not setup
		inns nft list ruleset 2>&1 |
			sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g; s/ expires [0-9a-z]+//g'
	else
		echo "(no nft)"
	fi
}

# Read in the namespace looked at: /proc/sys/net is the reader's namespace's.
# shellcheck disable=SC2016
_SYSCTL_SH='
cd /proc/sys/net || exit 0
for f in ipv4/ip_forward ipv4/conf/*/forwarding ipv4/conf/*/rp_filter \
	ipv6/conf/*/forwarding ipv6/conf/*/disable_ipv6 ipv6/conf/*/accept_dad \
	ipv6/conf/*/accept_ra; do
	[ -r "$f" ] && printf "%s = %s\n" "$f" "$(cat "$f")"
done'

sysctls() { inns sh -c "$_SYSCTL_SH"; }

netns() {
	# "(id: N)" is given on first use by another namespace
	ip netns list | sed -E 's/ \(id: [0-9]+\)//' | sort
}

pins() {
	if [ -d "$bpffs" ]; then
		find "$bpffs" -mindepth 1 | sort
	else
		echo "(no $bpffs)"
	fi
}

bpf_mounts() { findmnt -rn -t bpf -o TARGET | sort; }

# The project's programs still running, and the Redis tests start (counted by
# name: pids change).
procs() {
	local pids
	if [ -n "$ns" ]; then
		pids=$(ip netns pids "$ns" | tr '\n' ',')
		pids=${pids%,}
		[ -n "$pids" ] || return 0
		ps -o comm= -p "$pids"
	else
		ps -e -o comm=
	fi | grep -E '^(nattrav|bench_|redis-server)' | sort | uniq -c
}

snapshot() {
	section links; links
	section addresses; addrs
	section routes; routes
	section qdiscs; qdiscs
	section "tc filters"; filters
	section "bpftool net"; bpf_net
	section nftables; nft_rules
	section sysctls; sysctls
	section "network namespaces"; netns
	section "pins under $bpffs"; pins
	section "bpffs mounts"; bpf_mounts
	section processes; procs
}

if [ -n "${NT_ROOTNS_IGNORE:-}" ]; then
	snapshot 2>&1 | grep -Ev -- "$NT_ROOTNS_IGNORE"
else
	snapshot 2>&1
fi
exit 0
