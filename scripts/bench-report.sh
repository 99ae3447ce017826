#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Turns one scripts/bench run into bench/results/<date>.csv, <date>.md and
# PNG plots. Called by scripts/bench; usable alone on a kept run folder:
#
#   scripts/bench-report.sh RUN_DIR BASE   (BASE: e.g. bench/results/2026-11-25)
#
# RUN_DIR holds relay.csv, latency.csv, ctl.csv, notes.txt, machine.txt and
# xdp.md (scripts/bench-xdp.sh's summary, optional).
set -euo pipefail
run=${1:?run folder}
base=${2:?output base}

python3 - "$run" "$base" <<'EOF'
import csv, os, sys
run, base = sys.argv[1], sys.argv[2]
name = os.path.basename(base)

def rows(f):
    p = os.path.join(run, f)
    return list(csv.DictReader(open(p))) if os.path.exists(p) else []

relay, lat, ctl = rows("relay.csv"), rows("latency.csv"), rows("ctl.csv")
notes = open(os.path.join(run, "notes.txt")).read().strip() if os.path.exists(os.path.join(run, "notes.txt")) else ""
machine = open(os.path.join(run, "machine.txt")).read().strip()
F = lambda r, k: float(r[k]) if r.get(k) not in (None, "") else 0.0

# CPU of the path per packet: per-task times (generator incl. the softirq it runs,
# ksoftirqd, relay processes); the direct cell of the same payload is the cost of
# generating, bridging and counting, subtracted per packet sent.
direct = {r["payload"]: r for r in relay if r["label"] == "direct"}
out = []  # long CSV: section,name,payload,metric,value
res = {}
for r in relay:
    sent, recv, dur = F(r, "sent"), F(r, "received"), F(r, "duration_s")
    path = F(r, "gen_cpu_s") + F(r, "ksoftirqd_cpu_s") + F(r, "relay_proc_cpu_s")
    d = direct.get(r["payload"])
    dcost = (F(d, "gen_cpu_s") + F(d, "ksoftirqd_cpu_s")) / F(d, "sent") if d and F(d, "sent") else 0
    relay_cpu = path - dcost * sent
    m = {
        "relayed_mpps_wall": recv / dur / 1e6 if dur else 0,
        "sent_mpps_wall": sent / dur / 1e6 if dur else 0,
        "loss_pct": F(r, "loss_pct"),
        "path_cpu_s": path,
        "relay_cpu_s": relay_cpu,
        "relay_cpu_us_per_pkt": relay_cpu / recv * 1e6 if recv else float("nan"),
        "relayed_mpps_per_relay_cpu_s": recv / relay_cpu / 1e6 if relay_cpu > 0 and recv else float("nan"),
        "chain_ns_per_frame": F(r, "chain_ns_per_frame"),
        "relay_proc_cpu_s": F(r, "relay_proc_cpu_s"),
        "machine_busy_minus_background_cpu_s": F(r, "busy_cpu_s") - F(r, "background_cpu_s"),
    }
    if d and r["label"] != "direct":
        m["chain_ns_over_direct"] = F(r, "chain_ns_per_frame") - F(d, "chain_ns_per_frame")
    res[(r["label"], r["payload"])] = m
    for k, v in m.items():
        out.append(("relay", r["label"], r["payload"], k, "%.4f" % v))
for r in lat:
    for k in ("received", "lost", "p50_us", "p90_us", "p99_us", "max_us"):
        out.append(("latency", r["relay"], r["size"], k, r[k]))
for r in ctl:
    for k, v in r.items():
        if k != "clients":
            out.append(("control", "nattravd", r["clients"], k, v))
with open(base + ".csv", "w") as f:
    f.write("section,name,payload_or_clients,metric,value\n")
    for o in out:
        f.write(",".join(str(x) for x in o) + "\n")

labels = [l for l in ["direct", "reflector", "nattrav-xdp", "nattrav-user", "nattrav-turn-xdp", "nattrav-turn-user", "coturn"]
          if any(k[0] == l for k in res)]
payloads = ["64", "200", "1200"]
with open(os.path.join(run, "plot-mpps.dat"), "w") as f, open(os.path.join(run, "plot-cpu.dat"), "w") as g:
    f.write("relay " + " ".join(payloads) + "\n")
    g.write("relay " + " ".join(payloads) + "\n")
    for l in labels:
        if l == "direct":
            continue
        f.write(l + " " + " ".join("%.4f" % res.get((l, p), {}).get("relayed_mpps_wall", 0) for p in payloads) + "\n")
        g.write(l + " " + " ".join("%.4f" % res.get((l, p), {}).get("relayed_mpps_per_relay_cpu_s", 0) for p in payloads) + "\n")

def fmt(v, n=2):
    return "n/a" if v != v else ("%.*f" % (n, v))
latd = {r["relay"]: r for r in lat}
L = []
L.append("# nattrav benchmarks (%s)\n" % name)
L.append(machine + "\n")
L.append("One run of `scripts/bench%s`; XDP program cost (items 1, 4) of the same run in "
         "[%s-xdp-quick.md](%s-xdp-quick.md) (`scripts/bench-xdp.sh --quick`).\n" %
         (" --quick" if os.path.exists(os.path.join(run, "quick")) else "", name, name))
L.append("## Relayed packets end to end (IPv4)\n")
L.append("Two clients on a `scripts/topo.sh` bridge, the relay in its own namespace. Frames are generated in the "
         "sender's namespace by `bpf/nt_gen.bpf.c` (live XDP frames, `XDP_TX` out of its eth0, flat out), counted "
         "and dropped by `bpf/nt_count.bpf.c` on the receiver's eth0. `direct` is the sender to the receiver "
         "without a relay (the cost subtracted below). Every cell runs for the same time, one after the other.\n")
L.append("| relay | payload (B) | relayed Mpps (wall) | loss | relay CPU µs/pkt | relayed Mpps per relay CPU-s | XDP chain ns over direct |")
L.append("|---|---|---|---|---|---|---|")
for l in labels:
    for p in payloads:
        m = res.get((l, p))
        if not m:
            continue
        L.append("| %s | %s | %.3f | %.1f%% | %s | %s | %s |" % (
            l, p, m["relayed_mpps_wall"], m["loss_pct"],
            fmt(m["relay_cpu_us_per_pkt"]) if l != "direct" else "(baseline)",
            fmt(m["relayed_mpps_per_relay_cpu_s"]) if l != "direct" else "",
            "%.0f" % m["chain_ns_over_direct"] if "chain_ns_over_direct" in m and l in ("reflector", "nattrav-xdp") else ""))
L.append("")
L.append("![relayed Mpps](%s-mpps.png) ![relayed Mpps per relay CPU-second](%s-cpu.png)\n" % (name, name))
L.append("**CPU accounting.** This 2-CPU machine is shared, so machine-wide `/proc/stat` busy time includes other "
         "tenants (it is in the CSV as `machine_busy_minus_background_cpu_s`, with an idle sample taken before each "
         "cell, for reference only). The figures above use per-task CPU time (`/proc/PID/stat` utime+stime, tick "
         "based) of the tasks doing this cell's work: the generator process (the test run and the softirq it runs "
         "when it re-enables bottom halves: with XDP the whole path, relay included, runs there), the `ksoftirqd` "
         "threads, and the relay's processes (nattravd, turnserver). The `direct` cell's per-packet cost (generate, "
         "bridge, count) times the packets sent is subtracted; what remains is the relay's: its XDP program or "
         "socket delivery and userspace work, and the second bridge crossing every relay needs. For the XDP cells "
         "the kernel's own run time (`chain ns over direct`) is a cross-check. Wall-clock Mpps depend on what else "
         "ran on the machine at the time; the per-CPU-second figures much less.\n")
L.append("**Reading it.** The end-to-end rates are bounded by the topology, not by the XDP relays: a veth hop "
         "whose peer passes the frame to a bridge builds an skb, and the `direct` path alone (no relay) does about "
         "0.5 Mpps on one core. Every relay's cost includes its second bridge crossing (XDP_TX, pass, bridge, "
         "receiver's veth), about 1 µs here, which is most of the XDP rows; the XDP program itself costs ~0.2 µs "
         "(see the -xdp file). So the ratios to coturn and to the userspace path are lower bounds of what the "
         "relay alone would show. The userspace relays are offered more than they can take (the generator does "
         "not slow down): their loss is drops at the socket, and their CPU includes those drops.\n")

def ratio(a, b, p="200", k="relayed_mpps_per_relay_cpu_s"):
    try:
        return res[(a, p)][k] / res[(b, p)][k]
    except (KeyError, ZeroDivisionError):
        return float("nan")
L.append("Targets (packets per relay CPU-second):\n")
for p in payloads:
    a, b, c = ratio("nattrav-xdp", "coturn", p), ratio("nattrav-xdp", "nattrav-user", p), ratio("reflector", "nattrav-xdp", p)
    L.append("- %s B: nattrav XDP = %sx coturn (target ≥ 5x: %s), %sx its userspace path (≥ 3x: %s), reflector = %sx nattrav XDP (≤ 1.5x: %s)" % (
        p, fmt(a, 1), "met" if a >= 5 else "NOT met", fmt(b, 1), "met" if b >= 3 else "NOT met",
        fmt(c, 2), "met" if c <= 1.5 else "NOT met"))
    if ("nattrav-turn-xdp", p) in res:
        t, u = ratio("nattrav-turn-xdp", "coturn", p), ratio("nattrav-turn-xdp", "nattrav-turn-user", p)
        L.append("- %s B, TURN (the same ChannelData to nattravd and to coturn): nattrav's XDP channels = %sx coturn (target ≥ 5x: %s), %sx nattravd's userspace TURN" % (
            p, fmt(t, 1), "met" if t >= 5 else "NOT met", fmt(u, 1)))
L.append("")
if lat:
    L.append("## Latency at 1000 pps, 200 B (one way, same clock)\n")
    L.append("| relay | received | lost | p50 µs | p90 µs | p99 µs | max µs |")
    L.append("|---|---|---|---|---|---|---|")
    for r in lat:
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (r["relay"], r["received"], r["lost"], r["p50_us"], r["p90_us"], r["p99_us"], r["max_us"]))
    L.append("\nnattrav: `nattrav-client` to `nattrav-client` through nattravd; coturn: `build/bench/bench_turn` "
             "(ChannelData) to its receiver. Both ends stamp and read CLOCK_REALTIME of this machine.\n")
if ctl:
    L.append("## Control plane (nattravd, XDP native)\n")
    L.append("| concurrent clients | joined | verified | failed | TLS sessions/s | per daemon CPU-s | verifications/s | per daemon CPU-s | reconnects/s, full TLS | per daemon CPU-s | reconnects/s, resumed TLS | per daemon CPU-s | daemon RSS per session | map memory per mapping |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in ctl:
        if r.get("note"):
            L.append("| %s | %s |" % (r["clients"], r["note"]))
            continue
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s B | %s B |" % (r["clients"], r["joined"], r["verified"], r["failed"],
                 r["sessions_per_s"], r.get("session_per_daemon_cpu_s", ""), r["verifications_per_s"],
                 r.get("verification_per_daemon_cpu_s", ""), r.get("reconnect_full_per_s", ""),
                 r.get("reconnect_full_per_daemon_cpu_s", ""), r.get("reconnect_resumed_per_s", ""),
                 r.get("reconnect_resumed_per_daemon_cpu_s", ""), r["rss_bytes_per_session"], r["map_bytes_per_mapping"]))
    L.append("\n`build/bench/bench_ctl` (one epoll loop, non-blocking OpenSSL, 64 handshakes or verifications in "
             "flight) opens every session from one client namespace and keeps them all open: TCP, TLS 1.3 (ECDSA P-256 "
             "certificate, checked), `HELLO`/`AUTH`/`JOIN` pipelined, then PROBE/CHALLENGE/ANSWER and `EVT VERIFIED`; "
             "then it drops every connection and reconnects with `HELLO`/`RESUME`, once with full handshakes and once "
             "offering the relay's TLS 1.3 ticket (resumed). The load generator runs on the same 2 CPUs as the daemon "
             "and its handshakes cost more than the daemon's, so the rates per second are floors; per daemon CPU-second "
             "is what one relay core does. Clients use 1000 source addresses (the relay answers one address at most "
             "50 probes a second and admits 8 unauthenticated connections per address). RSS from `/proc/PID/status` "
             "before and with all sessions open; map memory from the pinned `nt_mappings4`' fdinfo memlock (the clients are IPv4).\n")
L.append("## Not measured\n")
L.append("- rtpengine: not attempted. It needs an ng-protocol (bencode over UDP) offer/answer with SDP per call to "
         "open its userspace relay ports; within this benchmark's time budget it was left out rather than half done.")
L.append("- IPv6 end to end: item 2 runs IPv4 only (the XDP program cost for IPv6 is in the -xdp file).")
L.append("- nattravd runs with `--max-pps 0` (no per-sender limit) and `--allow 203.0.113.0/24` (the namespace "
         "internet is a documentation range it refuses by default).")
L.append("- Latency under load: latency is measured at 1000 pps only, not at the saturation rates above.")
for n in notes.splitlines():
    L.append("- " + n)
L.append("")
open(base + ".md", "w").write("\n".join(L))

# the short table for the README
S = ["| relay | Mpps relayed (64/200/1200 B) | relay CPU µs/pkt (200 B) | Mpps per relay CPU-s (200 B) | loss (200 B) | latency p50/p99 µs |",
     "|---|---|---|---|---|---|"]
for l in labels:
    if l == "direct":
        continue
    m = res.get((l, "200"), {})
    lr = latd.get(l)
    S.append("| %s | %s | %s | %s | %s | %s |" % (l, " / ".join("%.3f" % res.get((l, p), {}).get("relayed_mpps_wall", 0) for p in payloads),
             fmt(m.get("relay_cpu_us_per_pkt", float("nan"))), fmt(m.get("relayed_mpps_per_relay_cpu_s", float("nan"))),
             "%.1f%%" % m.get("loss_pct", 0), "%s / %s" % (lr["p50_us"], lr["p99_us"]) if lr else "—"))
S.append("")
S.append("| control plane | TLS sessions/s | verifications/s | daemon RSS per session | map memory per mapping |")
S.append("|---|---|---|---|---|")
for r in ctl:
    S.append("| %s clients | %s | %s | %s B | %s B |" % (r["clients"], r["sessions_per_s"], r["verifications_per_s"], r["rss_bytes_per_session"], r["map_bytes_per_mapping"]))
open(os.path.join(run, "readme-table.md"), "w").write("\n".join(S) + "\n")
EOF

if command -v gnuplot >/dev/null; then
	for what in mpps cpu; do
		case $what in
		mpps) title="relayed Mpps end to end (wall clock)" ;;
		cpu) title="relayed Mpps per relay CPU-second" ;;
		esac
		gnuplot <<EOF || echo "bench-report: gnuplot failed for $what" >&2
set terminal pngcairo size 800,450 noenhanced
set output "$base-$what.png"
set title "$title"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set key top right title "UDP payload (B)"
set yrange [0:*]
set grid ytics
plot "$run/plot-$what.dat" using 2:xtic(1) title columnheader(2), '' using 3 title columnheader(3), '' using 4 title columnheader(4)
EOF
	done
else
	echo "bench-report: no gnuplot, no plots" >&2
fi
