#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What an operator sees in `bpftool map dump` of a running relay is the
# truth at a glance (issue 16): two clients behind NATs verified and sending,
# nattravd on a media port other than the default, a fan-out group set by
# hand and a TURN channel held in XDP; then every map nattravd pins is dumped
# with bpftool: a mapping's key has the client's mapped port as its number,
# its peer the other client's, nt_config the configured media port,
# nt_stats its counters by name (forwarded among them, counting), the
# mapping's times on bpftool's own clock (CLOCK_BOOTTIME: /proc/uptime),
# the group's members their ports, the TURN channel its peer's port, its
# relayed port and its channel number.
# With --show, the plain dumps are printed too (the README's example).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
. "$HERE/lib/relay_env.sh"
show=false
[ "${1:-}" = --show ] && show=true
MEDIA=3490

nt_relay_env ntd c1=cone c2=symmetric c3=none
printf 'rest-secret-%s\n' "$P" >"$work/turn-secret"
lab_daemon --media-port "$MEDIA" --turn-secret-file "$work/turn-secret" --turn-ports 50000-50999
check "a fan-out group set by hand" ctl group set 9 10.9.0.1:1001 10.9.0.2:1002 10.9.0.3:1003
ip netns exec "$C3_NS" "$B/bench/bench_turn" client --bind "$C3_IP:41000" \
	--server "$RELAY_V4:$MEDIA" --peer "$C1_PUBLIC:3480" --secret "rest-secret-$P" \
	--user hold --channel 0x4001 --hold 30 >"$work/hold.out" 2>&1 &
hold=$!
nt_cleanup_push "kill $hold 2>/dev/null"
check "a TURN client holds a channel" nt_wait_for -t 10 grep -q ready "$work/hold.out"
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
	python3 - "$work/nt_mappings4.json" "$uptime_s" "$m1" "$m2" <<'PY'
import json, sys
now = float(sys.argv[2]) * 1e9
clients = {tuple(int(x) for x in m.replace(":", ".").split(".")) for m in sys.argv[3:5]}
def ident(k): return tuple(int(x, 16) if isinstance(x, str) else x for x in k["addr"]) + (k["port"],)
seen = [e["formatted"]["value"] for e in json.load(open(sys.argv[1])) if ident(e["formatted"]["key"]) in clients]
assert len(seen) == 2, f"{len(seen)} client mappings"
for v in seen:
    assert 0 <= now - v["last_seen_ns"] < 5e9, (now, v["last_seen_ns"])
    assert 0 <= now - v["created_ns"] < 30e9, (now, v["created_ns"])
PY
check "nt_groups: the members' ports are their numbers" python3 - "$work/nt_groups.json" <<'PY'
import json, sys
v = next(e["formatted"]["value"] for e in json.load(open(sys.argv[1])) if e["formatted"]["key"] == 9)
assert v["n_members"] == 3, v["n_members"]
ports = [m["port"] for m in v["members"][:3]]
assert ports == [1001, 1002, 1003], ports
PY
check "nt_turn_chans / nt_turn_peers: channel 16385 (0x4001), peer port 3480, relayed port in 50000-50999" \
	python3 - "$work/nt_turn_chans.json" "$work/nt_turn_peers.json" "$MEDIA" <<'PY'
import json, sys
chans, peers = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(chans) == 1 and len(peers) == 1, (len(chans), len(peers))
k, v = chans[0]["formatted"]["key"], chans[0]["formatted"]["value"]
assert k["channel"] == 0x4001 and v["channel"] == 0x4001, (k["channel"], v["channel"])
assert k["client"]["port"] == 41000, k["client"]  # c3 has no NAT: its own port
assert v["to"]["port"] == 3480, v["to"]
assert 50000 <= v["from"]["port"] <= 50999, v["from"]
pk, pv = peers[0]["formatted"]["key"], peers[0]["formatted"]["value"]
assert pk["peer"]["port"] == 3480 and pk["relayed"]["port"] == v["from"]["port"], pk
assert pv["to"]["port"] == 41000 and pv["from"]["port"] == int(sys.argv[3]), pv
PY
kill "$hold" 2>/dev/null || true
wait $a || true
wait $b || true
if $show; then
	for m in nt_mappings4 nt_config nt_stats nt_groups nt_turn_chans nt_turn_peers; do
		echo "# bpftool map dump pinned $NT_PIN_DIR/$m (uptime $uptime_s)"
		cat "$work/$m.txt"
	done
fi
relay_summary
