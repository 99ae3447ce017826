#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What an operator sees in `bpftool map dump` of a running relay is the
# truth at a glance (issue 16): two clients behind NATs verified and sending,
# nattravd on a media port other than the default; then every map nattravd
# pins is dumped with bpftool: a mapping's key has the client's mapped port
# as its number, its peer the other client's, nt_config the configured media
# port, nt_stats its counters by name (forwarded among them, counting), the
# mapping's times on bpftool's own clock (CLOCK_BOOTTIME: /proc/uptime).
# With --show, the plain dumps are printed too (the README's example).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
. "$HERE/lib/relay_env.sh"
show=false
[ "${1:-}" = --show ] && show=true
MEDIA=3490

nt_relay_env ntd c1=cone c2=symmetric
lab_daemon --media-port "$MEDIA"
client "$C1_NS" "$work/c1" --token "$(token alice)" --group "d-$P" --send 400 --rate 100 &
a=$!
client "$C2_NS" "$work/c2" --token "$(token bob)" --group "d-$P" --send 400 --rate 100 &
b=$!
check "both clients verified" nt_wait_for -t 10 sh -c \
	"grep -q '\"verified\"' '$work/c1' && grep -q '\"verified\"' '$work/c2'"
forwarded_at_least() { [ "$(stat_of forwarded)" -ge "$1" ]; }
check "media relayed by XDP" nt_wait_for -t 10 forwarded_at_least 50
m1=$(json_field "$work/c1" verified mapping)
m2=$(json_field "$work/c2" verified mapping)
echo "# c1 mapped to $m1, c2 to $m2"

# every map nattravd pinned, as JSON and as an operator reads it
maps=()
for f in "$NT_PIN_DIR"/*; do maps+=("$(basename "$f")"); done
for m in "${maps[@]}"; do
	bpftool -j map dump pinned "$NT_PIN_DIR/$m" >"$work/$m.json"
	bpftool map dump pinned "$NT_PIN_DIR/$m" >"$work/$m.txt"
done
uptime_s=$(cut -d' ' -f1 /proc/uptime)
check "the maps pinned are there (${maps[*]})" sh -c \
	"for m in nt_mappings nt_mappings4 nt_config nt_stats nt_groups nt_turn_chans nt_turn_peers; do test -s '$work/'\$m.json || exit 1; done"

check "nt_mappings4: c1's key is its mapped address and port ($m1), its peer c2's ($m2)" \
	python3 - "$work/nt_mappings4.json" "$m1" "$m2" <<'PY'
import json, sys
entries, (a1, p1), (a2, p2) = json.load(open(sys.argv[1])), sys.argv[2].split(":"), sys.argv[3].split(":")
def dotted(b): return ".".join(str(int(x, 16) if isinstance(x, str) else x) for x in b)
for e in entries:
    k, v = e["formatted"]["key"], e["formatted"]["value"]
    if dotted(k["addr"]) == a1 and k["port"] == int(p1):
        peer = v["peer"]
        assert dotted(peer["addr"][12:]) == a2, peer
        assert peer["port"] == int(p2), f"peer port {peer['port']}, not {p2}"
        sys.exit(0)
sys.exit(f"no key {a1}:{p1} among {[e['formatted']['key'] for e in entries]}")
PY
check "nt_config: media_port is the configured $MEDIA" python3 - "$work/nt_config.json" "$MEDIA" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))[0]["formatted"]["value"]
assert v["media_port"] == int(sys.argv[2]), v["media_port"]
PY
check "nt_stats: one entry, every counter by name, forwarded counting" \
	python3 - "$work/nt_stats.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1, f"{len(d)} entries"
names = ["forwarded", "redirected", "pass_control", "pass_other", "drop_unverified",
         "drop_malformed", "drop_fragment", "drop_ip_options", "drop_ttl", "drop_family",
         "drop_no_route", "drop_no_peer", "drop_rate", "pass_fanout", "fanout_copies",
         "drop_no_group", "pass_no_egress"]
cpus = d[0]["formatted"]["values"]
for c in cpus:
    assert list(c["value"]) == names, list(c["value"])
fwd = sum(c["value"]["forwarded"]["packets"] for c in cpus)
assert fwd >= 50, f"forwarded {fwd}"
PY
check "nattravctl stats shows the same forwarded count as bpftool, within the traffic since" \
	python3 - "$work/nt_stats.json" "$(ctl stats --json)" <<'PY'
import json, sys
bt = sum(c["value"]["forwarded"]["packets"] for c in json.load(open(sys.argv[1]))[0]["formatted"]["values"])
ct = json.loads(sys.argv[2])["forwarded"]["packets"]
assert bt <= ct <= bt + 400, (bt, ct)
PY
check "mapping times read against /proc/uptime (CLOCK_BOOTTIME): seen in the last seconds" \
	python3 - "$work/nt_mappings4.json" "$uptime_s" <<'PY'
import json, sys
now = float(sys.argv[2]) * 1e9
for e in json.load(open(sys.argv[1])):
    v = e["formatted"]["value"]
    assert 0 <= now - v["last_seen_ns"] < 5e9, (now, v["last_seen_ns"])
    assert 0 <= now - v["created_ns"] < 30e9, (now, v["created_ns"])
PY
wait $a || true
wait $b || true
if $show; then
	for m in nt_mappings4 nt_config nt_stats; do
		echo "# bpftool map dump pinned $NT_PIN_DIR/$m (uptime $uptime_s)"
		cat "$work/$m.txt"
	done
fi
relay_summary
