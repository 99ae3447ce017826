#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Control plane (issue 8, item 3; issue 14, item 4): TLS sessions set up and
# mappings verified per second with 1k and 10k concurrent clients, then every
# connection dropped and resumed (RESUME) with full TLS handshakes and again
# with resumed ones (TLS 1.3 tickets); the daemon's CPU per operation and
# operations per daemon CPU-second; daemon RSS per session and map memory per
# mapping. nattravd (XDP native, ECDSA P-256 certificate from gen-certs.sh)
# runs in the relay namespace of a topo.sh topology; build/bench/bench_ctl
# opens every session from one client namespace and keeps them all open: TCP
# and UDP from 1000 addresses (198.18.0.1-198.18.3.232), each client its own
# user, two per group. A count the open files limit does not allow (and
# cannot be raised to: CAP_SYS_RESOURCE) gets a row saying so, not figures.
#
#   scripts/bench-ctl.sh --out DIR [--quick]    (--quick: 1k and 2k clients)
#   NT_BENCH_CTL_COUNTS="10000 100000" scripts/bench-ctl.sh --out DIR
#   NT_NATTRAVD=OTHER/build/nattravd ...   (another build's daemon: before/after;
#                                          the file must be named nattravd)
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
	-h | --help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
cols="clients joined verified failed sessions_per_s verifications_per_s daemon_cpu_ms_per_session
daemon_cpu_ms_per_verification rss_bytes_per_session map_bytes_per_mapping daemon_rss_kib_before
daemon_rss_kib_after map_memlock_before map_memlock_after session_per_daemon_cpu_s
verification_per_daemon_cpu_s client_cpu_ms_per_session client_cpu_ms_per_verification
reconnect_full_n reconnect_full_per_s daemon_cpu_ms_per_reconnect_full
reconnect_full_per_daemon_cpu_s reconnect_resumed_n reconnect_resumed_per_s
daemon_cpu_ms_per_reconnect_resumed reconnect_resumed_per_daemon_cpu_s
reconnect_resumed_tls_reused client_cpu_ms_per_reconnect_full client_cpu_ms_per_reconnect_resumed note"
echo $cols | tr ' ' , >"$csv"

# one fd per session on each side: raise the limit for this script's children
most=0
for n in $counts; do [ "$n" -le "$most" ] || most=$n; done
[ "$(ulimit -Hn)" -ge $((most + 1000)) ] || ulimit -Hn $((most + 1000)) 2>/dev/null ||
	nt_log "bench-ctl: open files hard limit $(ulimit -Hn), cannot raise it to $((most + 1000))"
# the measured reason a count cannot run here, for its row
no_room() { # clients
	local capeff
	capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	if (((0x$capeff >> 24) & 1)); then
		echo "not run: open files hard limit $(ulimit -Hn) < $(($1 + 1000)) needed and raising it failed"
	else
		echo "not run: open files hard limit $(ulimit -Hn) < $(($1 + 1000)) needed; raising it needs CAP_SYS_RESOURCE and this process has not got it (CapEff $capeff)"
	fi
}
for n in $counts; do
	if [ "$(ulimit -Hn)" -lt $((n + 1000)) ]; then
		why=$(no_room "$n")
		nt_log "bench-ctl: $n clients $why"
		echo $cols | tr ' ' '\n' | awk -v n="$n" -v why="$why" \
			'$1 == "clients" { r = r n } $1 == "note" { r = r why } $1 != "note" { r = r "," } END { print r }' >>"$csv"
		continue
	fi
	nt_log "bench-ctl: $n concurrent clients"
	max=$((n + 100))
	# --consent-window 300: dropped sessions wait that long for their RESUME
	# (the reconnect phases take longer than the default 30 s with 19k here)
	(
		ulimit -n "$(ulimit -Hn)" # 10k sessions need 10k fds
		nt_nsexec "$RELAY_NS" "${NT_NATTRAVD:-$B/nattravd}" --iface "$RELAY_IF" --addr "$RELAY_V4" \
			--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
			--auth-secret-file "$work/secret" --log-level "${NT_BENCH_LOG:-error}" --allow 198.18.0.0/22 --consent-window 300 \
			--max-connections "$max" --max-mappings "$max" --max-groups "$max"
	) 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ cat "$work/daemon.log" >&2; nt_fail "bench-ctl: nattravd did not start"; }
	dpid=$(pgrep -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1)
	nt_cleanup_push "kill $dpid"
	sleep 0.5 # idle RSS settles
	nt_nsexec "$C1_NS" "$B/bench/bench_ctl" --server "$RELAY_V4" --ca "$work/ca.pem" \
		--secret "$work/secret" --clients "$n" --inflight 64 --timeout $((30 + n / 200)) --pid "$dpid" \
		--src-base 198.18.0.1 --src-count "$nsrc" --reconnect \
		--map "$NT_PIN_DIR/nt_mappings4" >"$work/ctl-$n" || true
	cat "$work/ctl-$n" >&2
	[ -z "${NT_BENCH_LOG:-}" ] || tail -20 "$work/daemon.log" >&2
	python3 - "$work/ctl-$n" $cols >>"$csv" <<'EOF'
import sys
kv = {}
for l in open(sys.argv[1]):
    for w in l.split():
        k, _, v = w.partition("=")
        kv[k] = v
print(",".join(kv.get(c, "") for c in sys.argv[2:]))
EOF
	kill -TERM "$dpid" 2>/dev/null || true
	nt_wait_for -t 20 sh -c "! kill -0 $dpid" || kill -9 "$dpid" 2>/dev/null || true
	wait 2>/dev/null || true
done
nt_log "bench-ctl: wrote $csv"
