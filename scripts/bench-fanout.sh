#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fan-out throughput (issue 5): copies per second delivered to 2, 4, 8 and
# 16 receivers through the kernel path (XDP passes up, TC clones) and the
# userspace path (nattravd --xdp-mode off, sendmmsg), in one run. Real
# nattravd, real nattrav-clients: the receivers and the sender member join
# one group and verify their mappings (the sender member stays up, receive
# only, bound to a known address:port); then the kernel frame generator of
# scripts/bench-relay.sh (build/bench/bench_relay: live XDP frames, pinned
# to CPU 1) offers media from that same address:port at a fixed rate, the
# same for both paths, and bpf/nt_count.bpf.c counts and drops the copies at
# XDP in the receivers' namespace. Relay CPU per copy from per-task times
# (generator incl. the softirq it runs, ksoftirqd, nattravd), less the cost
# of generating and counting measured by a direct cell (no relay). Writes
# bench/results/<date>-fanout.md and .csv. Needs root; about 80 s.
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

rate=50000 secs=3 outdir=bench/results
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) rate=${2:?}; shift ;;
	--seconds) secs=${2:?}; shift ;;
	--out) outdir=${2:?--out needs a folder}; shift ;;
	-h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
# the sender's bridge-side veth must run XDP for XDP_TX'd frames to be delivered
ip -n "$INET_NS" link set c1w xdpdrv obj "$B/nt_pass.bpf.o" sec xdp
ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
work=$(mktemp -d)
nt_cleanup_push "rm -rf '$work'"
[ -z "${NT_BENCH_KEEP:-}" ] || nt_cleanup_push "cp -r '$work/.' '$NT_BENCH_KEEP/'"
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
nt_cleanup_push 'pkill -9 -f "nattravd .*--pin-dir $NT_PIN_DIR"'
S1=$C1_IP:40000 RPORT=50001 # the sender member; receiver i binds $C2_IP:50000+i

token() { "$B/nattravctl" token --secret-file "$work/secret" --user "$1" --ttl 600; }
client() { # ns out args...
	local ns=$1 out=$2
	shift 2
	exec ip netns exec "$ns" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" --json "$@" >"$out" 2>>"$work/clients.log"
}
dpid=
start_daemon() {
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --ctl-socket off --log-level warn \
		--allow 203.0.113.0/24 --max-members 64 --max-pps 0 "$@" 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ cat "$work/daemon.log" >&2; nt_fail "bench-fanout: nattravd did not start"; }
	dpid=$(pgrep -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1)
}
stop_daemon() {
	kill -TERM "$dpid" 2>/dev/null || true
	nt_wait_for -t 10 sh -c "! kill -0 $dpid 2>/dev/null" || kill -9 "$dpid" 2>/dev/null || true
}
gen() { # label n [bench_relay args...]: one CSV row (bench_relay's columns)
	local l=$1 n=$2
	shift 2
	"$B/bench/bench_relay" --sender-ns "$C1_NS" --src "$S1" --payload 200 --duration "$secs" \
		--rate "$rate" --cpu 1 --label "$l" --recv-ns "$C2_NS" --recv-port "$RPORT" \
		--recv-ports "$n" --batch "$(batch "$n")" "$@" 2>>"$work/gen.log"
}
# Live frames go in batches whose whole path runs before the next batch; the
# copies of one batch must fit the receivers' veth ring (256 frames, one
# namespace for all receivers, XDP counter attached) or they are dropped
# there, a limit of this bench, not of the relay: 128 copies per batch.
batch() { local b=$((128 / $1)); echo $((b > 64 ? 64 : b)); }

# one cell: N receivers and the sender member verified, then the generator
run_cell() { # path n
	local l=$1 n=$2 pids=() i s ok=1
	for i in $(seq 1 "$n"); do
		client "$C2_NS" "$work/$l-$n-r$i" --token "$(token "r$i")" --group "bench-$l-$n" \
			--bind "$C2_IP:$((50000 + i))" --duration $((secs + 15)) &
		pids+=($!)
	done
	client "$C1_NS" "$work/$l-$n-s" --token "$(token sender)" --group "bench-$l-$n" \
		--bind "$S1" --send 0 --duration $((secs + 15)) &
	pids+=($!)
	for f in "$work/$l-$n-s" $(seq -f "$work/$l-$n-r%g" 1 "$n"); do
		nt_wait_for -t 10 grep -q '"verified"' "$f" || { nt_log "bench-fanout: $f not verified"; ok=0; }
	done
	sleep 0.5 # the daemon installs the group's fan-out state
	if [ $ok = 1 ]; then
		gen "$l" "$n" --dst-ns "$RELAY_NS" --dst "$RELAY_V4:3478" --pid "$dpid"
	else
		echo "$l,200,,,,,,,,,,,,"
	fi
	for i in "${pids[@]}"; do kill -TERM "$i" 2>/dev/null || true; done
	for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
}

csv_rows=$work/rows.csv
echo "receivers,$("$B/bench/bench_relay" --header)" >"$csv_rows"
nt_log "bench-fanout: direct cell (generator to one receiver, no relay), $rate pps"
echo "1,$(gen direct 1 --dst-ns "$C2_NS" --dst "$C2_IP:$RPORT")" >>"$csv_rows"
for path in kernel userspace; do
	if [ $path = kernel ]; then start_daemon; else start_daemon --xdp-mode off; fi
	for n in 2 4 8 16; do
		row=$(run_cell $path $n)
		echo "$n,$row" >>"$csv_rows"
		nt_log "bench-fanout: $path, $n receivers: $row"
	done
	stop_daemon
done

mkdir -p "$outdir"
base="$outdir/$(date +%F)-fanout"
python3 - "$csv_rows" "$base" "$rate" "$secs" "$(nproc)" "$(uname -r)" <<'EOF'
import csv, sys
rows_f, base, rate, secs, ncpu, kver = sys.argv[1:]
rows = list(csv.DictReader(open(rows_f)))
F = lambda r, k: float(r[k]) if r.get(k) not in (None, "") else 0.0
cpu = lambda r: F(r, "gen_cpu_s") + F(r, "ksoftirqd_cpu_s") + F(r, "relay_proc_cpu_s")
d = next(r for r in rows if r["label"] == "direct")
dcost = cpu(d) / F(d, "sent") if F(d, "sent") else 0.0
res = {}
with open(base + ".csv", "w") as o:
    w = csv.writer(o)
    w.writerow(["receivers", "path", "offered_pps", "sent", "delivered", "duration_s",
                "delivered_pps", "delivered_share", "gen_cpu_s", "ksoftirqd_cpu_s",
                "relay_proc_cpu_s", "direct_cpu_s_per_frame", "relay_cpu_us_per_copy"])
    for r in rows:
        n, l = int(r["receivers"]), r["label"]
        sent, got, t = F(r, "sent"), F(r, "received"), F(r, "duration_s")
        pps = got / t if t else 0.0
        share = got / (sent * n) if sent else 0.0
        net = cpu(r) - (dcost * sent if l != "direct" else 0.0)
        us = 1e6 * net / got if got else 0.0
        res[(l, n)] = (sent / t if t else 0.0, pps, share, us, sent, got)
        w.writerow([n, l, "%.0f" % (sent / t if t else 0), int(sent), int(got), "%.3f" % t,
                    "%.0f" % pps, "%.3f" % share, r["gen_cpu_s"], r["ksoftirqd_cpu_s"],
                    r["relay_proc_cpu_s"], "%.3g" % dcost, "%.3f" % us])
L = ["# Fan-out: kernel (XDP + TC clone) vs userspace (sendmmsg), %s" % base.rsplit("/", 1)[-1][:10], ""]
L.append(("Real nattravd and nattrav-clients: N receivers and one sender member join "
          "a group of N + 1 and verify their mappings (the sender member stays up, receive "
          "only, bound to %s's port 40000). Then the kernel frame generator of "
          "`scripts/bench-relay.sh` (`build/bench/bench_relay`, live XDP frames from "
          "`bpf/nt_gen.bpf.c`, pinned to CPU 1) sends 200-byte media from that same "
          "address:port to the relay at a fixed %s pps for %s s, the same offer for both "
          "paths and every N, and `bpf/nt_count.bpf.c` counts and drops the copies at XDP "
          "in the receivers' namespace. Each packet is owed to N receivers: delivered "
          "share = delivered / (sent x N). Kernel: nattravd with XDP, copies by the TC "
          "program; userspace: nattravd --xdp-mode off (recvmmsg, sendmmsg). Machine: %s "
          "CPUs (shared), kernel %s. Measured, not asserted.") % ("the sender namespace", rate, secs, ncpu, kver))
L.append("")
L.append(("Relay CPU per copy: per-task CPU time (`/proc/PID/stat`) of the generator "
          "(including the softirq it runs: with live frames the whole path, relay and "
          "receivers' XDP counter included, runs there), the ksoftirqd threads and "
          "nattravd, less the cost of generating, bridging and counting one frame measured "
          "by a direct cell (generator straight to one receiver, no relay: %.2f µs per "
          "frame), divided by the copies delivered. Tick-granular (10 ms), so read it "
          "to about 10%%.") % (dcost * 1e6))
L.append("")
L.append(("The generator offers 50 ms worth of frames per live-frame test run, in "
          "batches whose whole path (relay, copies, receivers' counter) runs on the "
          "generator's CPU before the next batch; batches are of 128 / N frames (at most "
          "64) so that one batch's copies fit the receivers' veth ring (256 frames, all "
          "receivers share one interface), a limit of this bench. So the kernel path, "
          "which does all its work in that softirq, slows the generator down once the "
          "copies fill that one CPU (one flow, one CPU, as with RSS on a NIC): its offered "
          "column then says what it took, every packet sent is still delivered N times, "
          "and delivered copies/s is its ceiling. The userspace path takes the full "
          "offer into its socket (softirq on CPU 1) and relays what nattravd (CPU 0) "
          "manages; the rest is dropped at its socket or never copied. Per relay "
          "CPU-second = the ratio of the CPU per copy columns."))
L.append("")
L.append("| receivers | offered pps (kernel / user) | kernel delivered copies/s | userspace delivered copies/s | kernel / userspace | relay CPU µs/copy kernel / user | kernel / userspace per relay CPU-s | delivered share kernel / user |")
L.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in (2, 4, 8, 16):
    k, u = res.get(("kernel", n)), res.get(("userspace", n))
    if not k or not u:
        L.append("| %d | n/a | | | | | | |" % n)
        continue
    ratio = "%.2f" % (k[1] / u[1]) if u[1] else "n/a"
    cratio = "%.2f" % (u[3] / k[3]) if k[3] > 0 else "n/a"
    L.append("| %d | %.0f / %.0f | %.0f | %.0f | %s | %.2f / %.2f | %s | %.0f%% / %.0f%% |" % (
        n, k[0], u[0], k[1], u[1], ratio, k[3], u[3], cratio, 100 * k[2], 100 * u[2]))
open(base + ".md", "w").write("\n".join(L) + "\n")
EOF
nt_log "bench-fanout: wrote $base.csv and $base.md"
cat "$base.md"
