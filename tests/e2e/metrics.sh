#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What a dashboard and an alert manager see (issue 16): /metrics parses as
# the Prometheus text format (promtool check metrics, from Debian's
# prometheus package), each family's samples together, each received packet
# counted once (verdicts of received packets and copies sent are separate
# families), process_* and start time there; every expression of
# docs/grafana/nattrav.json and docs/prometheus/alerts.yml names an exported
# metric (and the checker catches one that does not); the rules load
# (promtool check rules); /healthz is 200 while nattrav's XDP program is
# attached and 503 with the reason once it is detached; under journald
# (JOURNAL_STREAM naming its stderr) the daemon's lines carry <N> priorities.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ntm c1=cone c2=symmetric
MPORT=9473

# promtool without the prometheus service: the package's binary, unpacked
# into build/tools (kept between runs), nothing installed on the host
promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
	promtool=$B/tools/promtool
	if [ ! -x "$promtool" ]; then
		mkdir -p "$work/deb" "$B/tools"
		(cd "$work/deb" && apt-get download prometheus >/dev/null 2>&1) ||
			{ apt-get update >/dev/null 2>&1 && (cd "$work/deb" && apt-get download prometheus >/dev/null); }
		dpkg-deb -x "$work"/deb/prometheus_*.deb "$work/deb/x"
		cp "$work/deb/x/usr/bin/promtool" "$promtool"
	fi
fi

touch "$work/daemon.log"
journal=$(stat -c '%d:%i' "$work/daemon.log")
JOURNAL_STREAM=$journal lab_daemon --metrics "$MPORT"

check "journald: lines carry <6> and no timestamp of ours" grep -q '^<6>nattravd up on' "$work/daemon.log"
check "journald: no line without a priority" sh -c "! grep -v '^<[0-7]>' '$work/daemon.log'"

http() { # path -> "status body"
	ip netns exec "$RELAY_NS" curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$MPORT$1"
	printf ' %s' "$(cat "$work/body")"
}
scrape() { ip netns exec "$RELAY_NS" curl -sf "http://127.0.0.1:$MPORT/metrics" >"$1"; }

h=$(http /healthz)
check "healthz: 200 with the program attached ($h)" sh -c "case '$h' in '200 ok: XDP program '*) true ;; *) false ;; esac"

client "$C1_NS" "$work/c1" --token "$(token alice)" --group "m-$P" --send 300 --rate 150 --wait 2 &
a=$!
client "$C2_NS" "$work/c2" --token "$(token bob)" --group "m-$P" --send 300 --rate 150 --wait 2 &
b=$!
wait $a || true
wait $b || true
check "media exchanged (c1 received 300)" test "$(json_field "$work/c1" summary received)" = 300

scrape "$work/metrics.txt"
check "promtool check metrics: no problems" "$promtool" check metrics <"$work/metrics.txt"
check "the scrape: families together, counters counted once, process and start time" python3 - "$work/metrics.txt" <<'PY'
import re, sys, time
seen, order, vals = set(), [], {}
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    name = re.match(r"[a-z_:]+", line).group(0)
    if order and order[-1] != name:
        assert name not in seen, f"{name}: samples split across the scrape"
    if not order or order[-1] != name:
        order.append(name)
    seen.add(name)
    key, v = line.rsplit(" ", 1)
    vals[key] = float(v)
rx = {k: v for k, v in vals.items() if k.startswith("nattrav_received_packets_total{")}
assert not any("fanout_copies" in k or "drop_no_group" in k for k in rx), "copies among received verdicts"
fwd = vals['nattrav_received_packets_total{path="xdp",verdict="forwarded"}']
assert fwd >= 600, f"forwarded {fwd}"
assert vals['nattrav_fanout_sent_packets_total{path="tc"}'] == 0
assert abs(vals["nattrav_start_time_seconds"] - time.time()) < 600
assert abs(vals["process_start_time_seconds"] - vals["nattrav_start_time_seconds"]) < 5
assert vals["process_open_fds"] > 5 and vals["process_resident_memory_bytes"] > 1e6
assert vals["nattrav_tls_certificate_expiry_timestamp_seconds"] > time.time()
assert vals["nattrav_healthy"] == 1
PY

refs="$HERE/lib/check_metric_refs.py"
check "dashboard and alert rules name only exported metrics" \
	python3 "$refs" "$work/metrics.txt" "$ROOT/docs/grafana/nattrav.json" "$ROOT/docs/prometheus/alerts.yml"
sed 's/nattrav_sessions/nattrav_sessions_gone/' "$ROOT/docs/grafana/nattrav.json" >"$work/bad.json"
check "the checker refuses a dashboard naming a metric that is not exported" \
	sh -c "! python3 '$refs' '$work/metrics.txt' '$work/bad.json' >/dev/null"
check "promtool check rules: the alert rules load" "$promtool" check rules "$ROOT/docs/prometheus/alerts.yml"

ip netns exec "$RELAY_NS" ip link set dev "$RELAY_IF" xdp off
ip netns exec "$RELAY_NS" ip link set dev "$RELAY_IF" xdpgeneric off
h=$(http /healthz)
printf '%s\n' "$h" >"$work/healthz-detached"
check "healthz: 503 naming the reason once the program is detached ($h)" \
	grep -Eq "^503 unhealthy: nattrav's XDP program [0-9]+ is not attached to $RELAY_IF\$" "$work/healthz-detached"
scrape "$work/metrics2.txt"
check "nattrav_healthy 0 with the program detached" grep -qx 'nattrav_healthy 0' "$work/metrics2.txt"

stop_daemon
relay_summary
