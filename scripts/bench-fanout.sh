#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fan-out throughput (issue 5): packets per second delivered to 2, 4, 8 and
# 16 receivers through the kernel path (XDP passes up, TC clones) and the
# userspace path (nattravd --xdp-mode off, sendmmsg), in one run. Real
# nattravd, real nattrav-clients: the receivers join one group and verify
# their mappings; one sender blasts test media at a fixed rate; each
# receiver namespace counts (and drops, so counting costs little) the media
# arriving from the relay with an nftables counter. Writes
# bench/results/<date>-fanout.md and .csv. Needs root; about 90 s.
#
#   scripts/bench-fanout.sh [--rate PPS] [--seconds S] [--out DIR]
#
# Traffic stays inside the namespaces this script makes (scripts/topo.sh);
# they, the daemon and the pins go away however it ends. Not a test: nothing
# is asserted, the numbers are reported as measured.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib.sh
B="$ROOT/build"

rate=100000 secs=3 outdir=bench/results
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) rate=${2:?}; shift ;;
	--seconds) secs=${2:?}; shift ;;
	--out) outdir=${2:?--out needs a folder}; shift ;;
	-h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) nt_fail "bench-fanout.sh: unknown argument '$1' (see --help)" ;;
	esac
	shift
done
nt_check_root
make -s
nt_bpffs_ensure

P=ntb$$
P=${P:0:8}
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
# sender in c1, receivers in c2 (no NAT: the NATs are not what is measured)
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=none c2=none 2>/dev/null)"
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
work=$(mktemp -d)
nt_cleanup_push "rm -rf '$work'"
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
nt_cleanup_push 'pkill -9 -f "nattravd .*--pin-dir $NT_PIN_DIR"'
nt_cleanup_push "ip netns exec '$C2_NS' nft delete table ip ntbench 2>/dev/null"

token() { "$B/nattravctl" token --secret-file "$work/secret" --user "$1" --ttl 600; }
client() { # ns out args...
	local ns=$1 out=$2
	shift 2
	ip netns exec "$ns" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" --json "$@" >"$out" 2>>"$work/clients.log"
}
start_daemon() {
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --ctl-socket off \
		--allow 203.0.113.0/24 --max-members 64 --max-pps 0 "$@" 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ."
}
stop_daemon() {
	pkill -TERM -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" || true
	nt_wait_for -t 5 sh -c "! pgrep -f 'nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR'" || true
}
# media of --size 200 is UDP length 208: counted and dropped before any socket
counter_reset() {
	ip netns exec "$C2_NS" nft delete table ip ntbench 2>/dev/null || true
	ip netns exec "$C2_NS" nft -f - <<EOF
table ip ntbench {
	chain in {
		type filter hook prerouting priority -300;
		ip saddr $RELAY_V4 udp sport 3478 udp length 208 counter drop
	}
}
EOF
}
counter_read() {
	ip netns exec "$C2_NS" nft list table ip ntbench | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# one cell: N receivers, the sender at $rate for $secs; prints "offered delivered"
run_cell() { # label n
	local l=$1 n=$2 pids=() i t0 t1 sent got
	for i in $(seq 1 "$n"); do
		client "$C2_NS" "$work/$l-$n-r$i" --token "$(token "r$i")" --group "bench-$l-$n" --duration $((secs + 8)) &
		pids+=($!)
	done
	for i in $(seq 1 "$n"); do
		nt_wait_for -t 10 grep -q verified "$work/$l-$n-r$i" || nt_log "receiver $i of $n not verified"
	done
	counter_reset
	client "$C1_NS" "$work/$l-$n-s" --token "$(token sender)" --group "bench-$l-$n" \
		--send $((rate * secs)) --rate "$rate" --wait 0 &
	local s=$!
	nt_wait_for -t 10 grep -q verified "$work/$l-$n-s" || true
	t0=$(now_ms)
	wait $s || true
	t1=$(now_ms)
	sleep 0.3 # the last copies in flight
	got=$(counter_read)
	sent=$(python3 -c "
import json
for l in open('$work/$l-$n-s'):
    e = json.loads(l)
    if e.get('event') == 'summary': print(e['sent'])")
	for i in "${pids[@]}"; do kill "$i" 2>/dev/null || true; done
	for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
	echo "$((sent * 1000 / (t1 - t0))) $((got * 1000 / (t1 - t0))) $sent $got $((t1 - t0))"
}

declare -A res
for path in kernel userspace; do
	if [ $path = kernel ]; then start_daemon; else start_daemon --xdp-mode off; fi
	for n in 2 4 8 16; do
		res[$path.$n]=$(run_cell $path $n)
		nt_log "bench-fanout: $path, $n receivers: offered/delivered pps, sent, delivered, ms: ${res[$path.$n]}"
	done
	stop_daemon
done

mkdir -p "$outdir"
base="$outdir/$(date +%F)-fanout"
{
	echo "receivers,path,offered_pps,delivered_pps,sent,delivered,ms,expected_per_packet"
	for n in 2 4 8 16; do
		for path in kernel userspace; do
			read -r o d s g ms <<<"${res[$path.$n]}"
			echo "$n,$path,$o,$d,$s,$g,$ms,$n"
		done
	done
} >"$base.csv"
{
	echo "# Fan-out: kernel (XDP + TC clone) vs userspace (sendmmsg), $(date +%F)"
	echo
	echo "One sender (nattrav-client, --rate $rate for $secs s, 200-byte media) and N"
	echo "receivers (nattrav-clients, verified through nattravd) in one group of N + 1"
	echo "members: each packet the relay takes is owed to N receivers, so delivered"
	echo "pps = N x relayed pps when nothing is lost. Delivered = media counted by"
	echo "nftables in the receivers' namespace. Kernel: nattravd with XDP, copies by"
	echo "the TC program; userspace: nattravd --xdp-mode off (recvmmsg, sendmmsg)."
	echo "Machine: $(nproc) CPUs, kernel $(uname -r); sender, relay and receivers"
	echo "share the CPUs. Measured, not asserted."
	echo
	echo "Offered: what the sender managed to send (it shares the CPUs with the"
	echo "relay's softirq work, so a busy kernel path slows it); delivered share ="
	echo "delivered / (sent x N)."
	echo
	echo "| receivers | offered pps kernel / user | kernel delivered pps | userspace delivered pps | kernel / userspace | delivered share kernel / user |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for n in 2 4 8 16; do
		read -r ko kd ks kg _ <<<"${res[kernel.$n]}"
		read -r uo ud us ug _ <<<"${res[userspace.$n]}"
		ratio=$(python3 -c "print('%.2f' % ($kd / $ud) if $ud else 'n/a')")
		share=$(python3 -c "print('%.0f%% / %.0f%%' % (100 * $kg / ($ks * $n), 100 * $ug / ($us * $n)))")
		echo "| $n | $ko / $uo | $kd | $ud | $ratio | $share |"
	done
} >"$base.md"
nt_log "bench-fanout: wrote $base.csv and $base.md"
cat "$base.md"
