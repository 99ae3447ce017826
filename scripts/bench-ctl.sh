#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Control plane (issue 8, item 3): TLS sessions set up and mappings verified
# per second with 1k and 10k concurrent clients, daemon RSS per session and
# map memory per mapping. nattravd (XDP native) runs in the relay namespace
# of a topo.sh topology; build/bench/bench_ctl opens every session from one
# client namespace and keeps them all open: TCP and UDP from 1000 addresses
# (198.18.0.1-198.18.3.232), each client its own user, two per group.
#
#   scripts/bench-ctl.sh --out DIR [--quick]    (--quick: 1k and 2k clients)
#   NT_BENCH_CTL_COUNTS="10000 100000" scripts/bench-ctl.sh --out DIR
#   NT_NATTRAVD=OTHER/build/nattravd ...   (another build's daemon: before/after)
#
# Writes DIR/ctl.csv. Needs root and build/ made.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh
B=$ROOT/build

counts=${NT_BENCH_CTL_COUNTS:-"1000 10000"} out=
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) counts="1000 2000" ;;
	--out) out=${2:?--out needs a folder}; shift ;;
	-h | --help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) nt_fail "bench-ctl.sh: unknown argument '$1'" ;;
	esac
	shift
done
[ -n "$out" ] || nt_fail "bench-ctl.sh: --out DIR is required"
nt_check_root
nt_bpffs_ensure
mkdir -p "$out"
P=nbc$$
P=${P:0:8}
work=$(mktemp -d)
nt_cleanup_trap
nt_cleanup_push "rm -rf '$work'"
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=none 2>/dev/null)"
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
# nattravd answers probes from one address at most 50 times a second (an
# amplification limit), and admits 8 connections per address before AUTH:
# the clients use 1000 addresses, 198.18.0.1-198.18.3.232 (the benchmarking
# range, RFC 2544; --allow lets them be peers), routed to the relay over c1
nsrc=1000
for i in $(seq 0 $((nsrc - 1))); do
	echo "addr add 198.18.$(((i + 1) / 256)).$(((i + 1) % 256))/32 dev eth0"
done | ip -n "$C1_NS" -batch -
ip -n "$RELAY_NS" route add 198.18.0.0/22 via "$C1_IP"
csv=$out/ctl.csv
echo "clients,joined,verified,failed,sessions_per_s,verifications_per_s,daemon_cpu_ms_per_session,daemon_cpu_ms_per_verification,rss_bytes_per_session,map_bytes_per_mapping,daemon_rss_kib_before,daemon_rss_kib_after,map_memlock_before,map_memlock_after" >"$csv"

# one fd per session on each side: raise the limit for this script's children
most=0
for n in $counts; do [ "$n" -le "$most" ] || most=$n; done
[ "$(ulimit -Hn)" -ge $((most + 1000)) ] || ulimit -Hn $((most + 1000)) ||
	nt_fail "bench-ctl: cannot raise the open files limit to $((most + 1000))"
for n in $counts; do
	nt_log "bench-ctl: $n concurrent clients"
	max=$((n + 100))
	(
		ulimit -n "$(ulimit -Hn)" # 10k sessions need 10k fds
		nt_nsexec "$RELAY_NS" "${NT_NATTRAVD:-$B/nattravd}" --iface "$RELAY_IF" --addr "$RELAY_V4" \
			--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
			--auth-secret-file "$work/secret" --log-level "${NT_BENCH_LOG:-error}" --allow 198.18.0.0/22 \
			--max-connections "$max" --max-mappings "$max" --max-groups "$max"
	) 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ cat "$work/daemon.log" >&2; nt_fail "bench-ctl: nattravd did not start"; }
	dpid=$(pgrep -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1)
	nt_cleanup_push "kill $dpid"
	sleep 0.5 # idle RSS settles
	nt_nsexec "$C1_NS" "$B/bench/bench_ctl" --server "$RELAY_V4" --ca "$work/ca.pem" \
		--secret "$work/secret" --clients "$n" --inflight 64 --timeout $((30 + n / 200)) --pid "$dpid" \
		--src-base 198.18.0.1 --src-count "$nsrc" \
		--map "$NT_PIN_DIR/nt_mappings4" >"$work/ctl-$n" || true
	cat "$work/ctl-$n" >&2
	[ -z "${NT_BENCH_LOG:-}" ] || tail -20 "$work/daemon.log" >&2
	python3 - "$work/ctl-$n" >>"$csv" <<'EOF'
import sys
kv = {}
for l in open(sys.argv[1]):
    for w in l.split():
        k, _, v = w.partition("=")
        kv[k] = v
cols = ["clients", "joined", "verified", "failed", "sessions_per_s", "verifications_per_s",
        "daemon_cpu_ms_per_session", "daemon_cpu_ms_per_verification", "rss_bytes_per_session",
        "map_bytes_per_mapping", "daemon_rss_kib_before", "daemon_rss_kib_after",
        "map_memlock_before", "map_memlock_after"]
print(",".join(kv.get(c, "") for c in cols))
EOF
	kill -TERM "$dpid" 2>/dev/null || true
	nt_wait_for -t 20 sh -c "! kill -0 $dpid" || kill -9 "$dpid" 2>/dev/null || true
	wait 2>/dev/null || true
done
nt_log "bench-ctl: wrote $csv"
