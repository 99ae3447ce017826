#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fan-out throughput (issue 5): copies per second delivered to 2, 4, 16 and
# 63 receivers through the kernel path (XDP passes up, TC clones) and the
# userspace path (nattravd --xdp-mode off, recvmmsg/sendmmsg), in one run,
# with the same single CPU doing all of the relay's work in both.
#
# Real nattravd, real nattrav-clients: N receivers and a sender member join
# one group and verify their mappings. Then build/bench/bench_relay injects
# media from the sender member's address:port at the relay's eth0, as a NIC
# would hand frames over (live XDP frames through the XDP program attached
# there: nattrav's, or none in off mode), on CPU 0, where nattravd is pinned
# too. The copies leave through the relay's veth; relay0's NAPI thread counts
# and drops them (bpf/nt_count.bpf.c) on CPU 1. The kernel path is offered
# frames as fast as CPU 0 takes them (twice, the better run kept); the
# userspace path that and a few paced rates; each path's best is kept
# (delivered copies/s; CPU per copy). Writes bench/results/<date>-fanout.md
# and .csv. Needs root; about 5 minutes.
#
#   scripts/bench-fanout.sh [--seconds S] [--receivers "2 4 16 63"]
#                           [--paths "kernel userspace"] [--user-offers "max 150000 ..."]
#                           [--before BUILD_DIR] [--out DIR]
#
# --user-offers: copies/s offered to the userspace path (max: unpaced).
# --before: first run the kernel path with BUILD_DIR's nattravd (another
# build, e.g. of the previous commit) too, reported as "before" beside it.
# --paths xdp-probe: fan-out in XDP (bpf/nt_fanxdp.bpf.c, a probe: no
# daemon, broadcast into a devmap), measured the same way.
# Relay CPU is reported two ways: CPU 0's busy time (everything that ran
# there, other tenants of a shared machine too) and the relay's tasks' CPU
# time (the generator, whose test runs carry the receive path, and nattravd).
# Traffic stays inside the namespaces this script makes (scripts/topo.sh);
# they, the daemon and the pins go away however it ends. Not a test: nothing
# is asserted, the numbers are reported as measured.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib.sh
B="$ROOT/build"

secs=3 outdir=bench/results ns="2 4 16 63" paths="kernel userspace" before=
user_offers="max 150000 300000 450000 600000 900000"
while [ $# -gt 0 ]; do
	case "$1" in
	--user-offers) user_offers=${2:?}; shift ;;
	--receivers) ns=${2:?}; shift ;;
	--paths) paths=${2:?}; shift ;;
	--before) before=${2:?--before needs a build folder}; shift ;;
	--seconds) secs=${2:?}; shift ;;
	--out) outdir=${2:?--out needs a folder}; shift ;;
	-h | --help) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) nt_fail "bench-fanout.sh: unknown argument '$1' (see --help)" ;;
	esac
	shift
done
int_in() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] ||
	nt_fail "bench-fanout.sh: $1 must be a whole number from $3 to $4, not '$2'"; }
int_in --seconds "$secs" 1 600
for n in $ns; do int_in "--receivers" "$n" 2 $((64 - 1)); done # a fan-out group of N + 1
for o in $user_offers; do [ "$o" = max ] || int_in "--user-offers" "$o" 1000 100000000; done
for p in $paths; do
	[ "$p" = kernel ] || [ "$p" = userspace ] || [ "$p" = xdp-probe ] ||
		nt_fail "bench-fanout.sh: --paths takes kernel, userspace and xdp-probe, not '$p'"
done
if [ -n "$before" ]; then
	[ -x "$before/nattravd" ] || nt_fail "bench-fanout.sh: no nattravd in --before '$before'"
	before=$(cd "$before" && pwd)
	paths="before $paths"
fi
nt_check_root
make -s
nt_bpffs_ensure

P=ntb$$
P=${P:0:8}
nt_cleanup_trap
nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
# sender in c1, receivers in c2 (no NAT: the NATs are not what is measured)
eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" c1=none c2=none 2>/dev/null)"
# One CPU for the relay, the other for the receivers. The generator injects
# the frames at the relay's eth0 as a NIC would hand them over (live XDP
# frames run through the XDP program attached there, nattrav's, or with
# --xdp-mode off none: straight to the stack), pinned to RCPU with nattravd: that CPU
# does all of the relay's work in both paths. The copies leave through the
# veth to relay0, whose NAPI thread (GRO on gives veth one) counts them on
# NCPU.
RCPU=0 NCPU=1
ip -n "$INET_NS" link set "$RELAY_PEER" xdpdrv off # the counter takes its place per cell
ip netns exec "$INET_NS" ethtool -K "$RELAY_PEER" gro on >/dev/null
ip netns exec "$INET_NS" sh -c "echo 1 > /sys/class/net/$RELAY_PEER/threaded" ||
	nt_fail "bench-fanout: no threaded NAPI on $RELAY_PEER"
napi_pin() { # dev cpu: pins the device's NAPI threads
	local p
	for p in $(pgrep "^napi/$1-"); do taskset -pc "$2" "$p" >/dev/null; done
}
work=$(mktemp -d)
nt_cleanup_push "rm -rf '$work'"
[ -z "${NT_BENCH_KEEP:-}" ] || nt_cleanup_push "cp -r '$work/.' '$NT_BENCH_KEEP/'"
"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
nt_cleanup_push 'pkill -9 -f "nattravd .*--pin-dir $NT_PIN_DIR"'
S1=$C1_IP:40000 RPORT=50001 # the sender member; receiver i binds $C2_IP:50000+i

# token USER [GROUP...]: a token for USER and the groups named (none: any, '*')
token() { nt_token "$B/nattravctl" "$work/secret" 600 "$@"; }
client() { # ns out args...
	local ns=$1 out=$2
	shift 2
	exec ip netns exec "$ns" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" --json "$@" >"$out" 2>>"$work/clients.log"
}
dpid=
# The receivers share one address: as many connections from it as there are members.
start_daemon() { # build_dir args...
	local d=$1
	shift
	nt_nsexec "$RELAY_NS" taskset -c "$RCPU" "$d/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --ctl-socket off --log-level warn \
		--allow 203.0.113.0/24 --max-members 64 --max-pps 0 --max-unauth-per-source 128 \
		"$@" 2>>"$work/daemon.log" &
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ cat "$work/daemon.log" >&2; nt_fail "bench-fanout: nattravd did not start"; }
	dpid=$(pgrep -f "$d/nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR" | head -1)
}
stop_daemon() {
	kill -TERM "$dpid" 2>/dev/null || true
	nt_wait_for -t 10 sh -c "! kill -0 $dpid 2>/dev/null" || kill -9 "$dpid" 2>/dev/null || true
}
gen() { # label n offer [bench_relay args...]: one CSV row (bench_relay's columns)
	local l=$1 n=$2 o=$3 rate=()
	shift 3
	[ "$o" = max ] || rate=(--rate $((o / n)))
	"$B/bench/bench_relay" --sender-ns "$C1_NS" --src "$S1" --payload 200 --duration "$secs" \
		--inject --cpu "$RCPU" --label "$l" --recv-ns "$INET_NS" --batch "$(batch "$n")" \
		--recv-dev "$RELAY_PEER" --recv-port "$RPORT" --recv-ports "$n" "${rate[@]}" "$@" \
		2>>"$work/gen.log"
}
# Frames the relay's eth0 has handed to relay0 (taken by its NAPI or dropped
# at its full ring), skbs and XDP frames alike: the copies the relay made.
tx_count() {
	ip -n "$RELAY_NS" -j -s link show "$RELAY_IF" |
		python3 -c 'import json, sys; t = json.load(sys.stdin)[0]["stats64"]["tx"]; print(t["packets"] + t["dropped"])'
}
# gen, with the copies the relay made during it as the last column
gen_made() { # gen's args
	local a b row
	a=$(tx_count)
	row=$(gen "$@")
	b=$(tx_count)
	echo "$row,$((b - a))"
}
# the copies of one batch fit relay0's veth ring (256) however late its
# thread runs: 128 / N input frames, at most 64
batch() { local b=$((128 / $1)); echo $((b > 64 ? 64 : b)); }

# one cell: N receivers and the sender member verified, then one generator
# run per offer; prints "offer,<bench_relay row>" lines
run_cell() { # path n offers
	local l=$1 n=$2 offers=$3 pids=() i ok=1 o last
	last=$(($(wc -w <<<"$offers") * (secs + 5) + 40 + 2 * n))
	for i in $(seq 1 "$n"); do
		client "$C2_NS" "$work/$l-$n-r$i" --token "$(token "r$i")" --group "bench-$l-$n" \
			--bind "$C2_IP:$((50000 + i))" --duration "$last" &
		pids+=($!)
	done
	client "$C1_NS" "$work/$l-$n-s" --token "$(token sender)" --group "bench-$l-$n" \
		--bind "$S1" --send 0 --duration "$last" &
	pids+=($!)
	# n + 1 TLS handshakes and verifications on the relay's one CPU, maybe shared
	for f in "$work/$l-$n-s" $(seq -f "$work/$l-$n-r%g" 1 "$n"); do
		nt_wait_for -t $((20 + n)) grep -q '"verified"' "$f" ||
			{ nt_log "bench-fanout: $f not verified"; ok=0; }
	done
	# the daemon writes the group's fan-out entry once all have verified
	nt_wait_for -t 20 sh -c "'$B/nattravctl' --pin-dir '$NT_PIN_DIR' groups |
		grep -q ': $((n + 1)) members'" || { nt_log "bench-fanout: no group of $((n + 1))"; ok=0; }
	napi_pin "$RELAY_PEER" "$NCPU"
	for o in $offers; do
		if [ $ok = 1 ]; then
			echo "$o,$(gen_made "$l" "$n" "$o" --dst-ns "$RELAY_NS" --dst "$RELAY_V4:3478" --pid "$dpid")"
		else
			echo "$o,$l,200,,,,,,,,,,,,,,"
		fi
	done
	for i in "${pids[@]}"; do kill -TERM "$i" 2>/dev/null || true; done
	for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
}

# the XDP probe's cell: no daemon, no clients; bench_fanxdp holds the probe on eth0
run_probe_cell() { # n
	local n=$1 lp i pmac
	pmac=$(ip netns exec "$INET_NS" cat "/sys/class/net/$RELAY_PEER/address")
	# ip and taskset exec: $! is the probe's own pid
	ip netns exec "$RELAY_NS" taskset -c "$RCPU" "$B/bench/bench_fanxdp" "$RELAY_IF" "$n" \
		"$RELAY_V4" 3478 "$C2_IP" "$RPORT" "$pmac" >"$work/probe-$n" 2>>"$work/probe.log" &
	lp=$!
	if nt_wait_for -t 10 grep -q ready "$work/probe-$n"; then
		napi_pin "$RELAY_PEER" "$NCPU"
		for i in 1 2; do
			echo "max,$(gen_made xdp-probe "$n" max --dst-ns "$RELAY_NS" --dst "$RELAY_V4:3478" --pid "$lp")"
		done
	else
		nt_log "bench-fanout: the XDP probe did not start ($(tail -1 "$work/probe.log"))"
		echo "max,xdp-probe,200,,,,,,,,,,,,,,"
	fi
	kill -TERM "$lp" 2>/dev/null || true
	nt_wait_for -t 5 sh -c "! kill -0 $lp 2>/dev/null" || kill -9 "$lp" 2>/dev/null || true
	wait "$lp" 2>/dev/null || true
}

csv_rows=$work/rows.csv
echo "receivers,offer,$("$B/bench/bench_relay" --header),made" >"$csv_rows"
for path in $paths; do
	if [ "$path" = xdp-probe ]; then
		for n in $ns; do
			run_probe_cell "$n" | sed "s/^/$n,/" | tee -a "$csv_rows" |
				sed "s/^/bench-fanout: $path, $n receivers: /" >&2
		done
		continue
	fi
	case $path in
	kernel) start_daemon "$B" ;;
	before) start_daemon "$before" ;;
	*) start_daemon "$B" --xdp-mode off ;;
	esac
	offers="max max" # the best of two: the machine is shared
	[ $path = userspace ] && offers=$user_offers
	for n in $ns; do
		run_cell $path "$n" "$offers" | sed "s/^/$n,/" | tee -a "$csv_rows" |
			sed "s/^/bench-fanout: $path, $n receivers: /" >&2
		{ ip -n "$RELAY_NS" -s link show "$RELAY_IF"; ip -n "$INET_NS" -s link show "$RELAY_PEER"
		  "$B/nattravctl" --pin-dir "$NT_PIN_DIR" stats; } >"$work/links-$path-$n" 2>&1 || true
	done
	stop_daemon
done

mkdir -p "$outdir"
base="$outdir/$(date +%F)-fanout"
python3 - "$csv_rows" "$base" "$secs" "$(nproc)" "$(uname -r)" <<'EOF'
import csv, sys
rows_f, base, secs, ncpu, kver = sys.argv[1:]
rows = list(csv.DictReader(open(rows_f)))
F = lambda r, k: float(r[k]) if r.get(k) not in (None, "") else 0.0
cells = {}
with open(base + ".csv", "w") as o:
    w = csv.writer(o)
    w.writerow(["receivers", "path", "offer_copies_per_s", "frames_in", "copies_delivered",
                "duration_s", "delivered_copies_per_s", "delivered_share", "relay_cpu_busy_s",
                "nattravd_cpu_s", "relay_cpu_us_per_copy", "relay_task_cpu_s",
                "relay_task_cpu_us_per_copy", "background_busy_cpus", "copies_made",
                "relay_task_cpu_us_per_copy_made"])
    for r in rows:
        n, l = int(r["receivers"]), r["label"]
        sent, got, t = F(r, "sent"), F(r, "received"), F(r, "duration_s")
        busy = F(r, "pinned_cpu_busy_s")
        task = F(r, "gen_cpu_s") + F(r, "relay_proc_cpu_s")
        if task > float(ncpu) * max(F(r, "duration_s"), 1.0) * 2:
            task = 0.0  # a process's CPU time misread (it exited meanwhile): not reported
        pps = got / t if t else 0.0
        share = got / (sent * n) if sent else 0.0
        us = 1e6 * busy / got if got else 0.0
        tus = 1e6 * task / got if got else 0.0
        made = F(r, "made")
        mus = 1e6 * task / made if made else 0.0
        w.writerow([n, l, r["offer"], int(sent), int(got), "%.3f" % t, "%.0f" % pps,
                    "%.3f" % share, "%.2f" % busy, r["relay_proc_cpu_s"], "%.3f" % us,
                    "%.2f" % task, "%.3f" % tus, r["idle_busy_rate"], int(made), "%.3f" % mus])
        best = cells.get((l, n))
        if best is None or pps > best["pps"]:
            cells[(l, n)] = dict(pps=pps, share=share, offer=r["offer"],
                                 us=best["us"] if best else us,
                                 tus=best["tus"] if best else tus,
                                 mus=best["mus"] if best else mus, made=made / t if t else 0.0)
        if us > 0 and us < cells[(l, n)]["us"]:
            cells[(l, n)]["us"] = us
        if tus > 0 and tus < cells[(l, n)]["tus"]:
            cells[(l, n)]["tus"] = tus
        if mus > 0 and mus < cells[(l, n)]["mus"]:
            cells[(l, n)]["mus"] = mus
offers = sorted({r["offer"] for r in rows if r["label"] == "userspace"},
                key=lambda x: (x != "max", float(x) if x != "max" else 0.0))
L = ["# Fan-out: kernel (XDP + TC clone) vs userspace (sendmmsg), %s" % base.rsplit("/", 1)[-1][:10], ""]
L.append(("Real nattravd and nattrav-clients: N receivers and a sender member join a group "
          "of N + 1 and verify their mappings. `build/bench/bench_relay --inject` then hands "
          "200-byte media from the sender member's address:port to the relay's eth0 as a NIC "
          "would (live XDP frames through the XDP program attached there: nattrav's on the "
          "kernel path, none with `--xdp-mode off`), on CPU 0, where nattravd is pinned too: "
          "that one CPU does all of the relay's work on both paths (receive, XDP, the stack, "
          "then TC's clones or nattravd's recvmmsg/sendmmsg). The copies leave through the "
          "relay's veth; relay0's NAPI thread counts and drops them on CPU 1 "
          "(`bpf/nt_count.bpf.c`). Each run lasts %s s. Machine: %s CPUs (shared), kernel %s. "
          "Measured, not asserted.") % (secs, ncpu, kver))
L.append("")
L.append(("The kernel path is offered frames as fast as CPU 0 takes them (a batch's whole "
          "path runs before the next; nothing queues), twice, the better run shown (the "
          "machine is shared). The userspace path is offered that "
          "too and paced rates (copies/s: %s): unpaced, the frames its socket drops still "
          "cost the CPU their receive, so a lower offer can deliver more; its best is shown, "
          "with the offer. Relay CPU per copy = CPU 0's busy time (`/proc/stat`) / copies "
          "delivered, the lowest of a path's runs (for userspace often a run below "
          "saturation); per CPU-s compares those.") % ", ".join(offers))
L.append("")
L.append("| receivers | kernel copies/s | userspace copies/s (offer) | kernel / userspace | relay CPU µs/copy kernel / user | kernel / userspace per CPU-s | delivered share kernel / user |")
L.append("|---:|---:|---:|---:|---:|---:|---:|")
for n in sorted({int(r["receivers"]) for r in rows}):
    none = dict(pps=0.0, us=0.0, share=0.0, offer="not run")
    k, u = cells.get(("kernel", n), none), cells.get(("userspace", n), none)
    ratio = "%.2f" % (k["pps"] / u["pps"]) if u["pps"] and k["pps"] else "n/a"
    cratio = "%.2f" % (u["us"] / k["us"]) if k["us"] and u["us"] else "n/a"
    L.append("| %d | %.0f | %.0f (%s) | %s | %.2f / %.2f | %s | %.0f%% / %.0f%% |" % (
        n, k["pps"], u["pps"], u["offer"], ratio, k["us"], u["us"], cratio,
        100 * k["share"], 100 * u["share"]))
L.append("")
L.append(("Every path of this run, both measures of relay CPU per copy (the lowest of a "
          "path's runs): CPU 0's busy time, and the relay's tasks' CPU time (the generator, "
          "whose test runs carry the receive path and the kernel's fan-out, plus nattravd), "
          "which other tenants of the machine do not inflate; and that task time per copy "
          "made (frames the relay's eth0 handed to relay0, taken or dropped at its full "
          "ring: receiver loss is not the relay's). \"vs userspace\": the "
          "userspace path's CPU per copy over this path's, i.e. copies per relay CPU-second "
          "against the userspace path's. Labels: `before` the kernel path with the "
          "`--before` build, `xdp-probe` fan-out in XDP (`bpf/nt_fanxdp.bpf.c`). Other "
          "tenants kept %.1f of the %s CPUs busy on average (the generator's idle samples)."
          ) % (sum(F(r, "idle_busy_rate") for r in rows) / max(len(rows), 1), ncpu))
L.append("")
L.append("| receivers | path | copies/s delivered / made | relay CPU µs/copy: CPU 0 busy / tasks / tasks per copy made | vs userspace per CPU-s: busy / tasks / per copy made |")
L.append("|---:|:--|---:|---:|---:|")
order = ["before", "kernel", "xdp-probe", "userspace"]
for n in sorted({int(r["receivers"]) for r in rows}):
    u = cells.get(("userspace", n))
    for l in order:
        c = cells.get((l, n))
        if not c:
            continue
        vs = lambda k: "%.2f" % (u[k] / c[k]) if u and u[k] and c[k] else "n/a"
        L.append("| %d | %s | %.0f / %.0f | %.2f / %.2f / %.2f | %s / %s / %s |" % (
            n, l, c["pps"], c["made"], c["us"], c["tus"], c["mus"], vs("us"), vs("tus"),
            vs("mus")))
open(base + ".md", "w").write("\n".join(L) + "\n")
EOF
nt_log "bench-fanout: wrote $base.csv and $base.md"
cat "$base.md"
