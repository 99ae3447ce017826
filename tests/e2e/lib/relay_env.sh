# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# What the end-to-end tests of nattravd share. Source it after scripts/lib.sh:
#
#   nt_relay_env LETTERS CLIENT=KIND...   topology with prefix LETTERS<pid>,
#                                         forwarding on the relay, a work
#                                         folder with certificates and the
#                                         auth secret ($work); all undone on exit
#   token USER [GROUP...]                 a token for USER and GROUPs (none:
#                                         any group), 10 minutes
#   ctl ARGS...                           nattravctl on the relay's maps
#                                         (plus "${NT_CTL_EXTRA[@]}")
#   stat_of COUNTER                       packets of an XDP counter
#   n_mappings                            mappings in the map; not a number
#                                         and false when nattravctl fails
#   ctl_count KEY ARGS...                 JSON objects with KEY that
#                                         `ctl ARGS --json` prints; likewise
#   json_field FILE EVENT FIELD           FIELD of the last EVENT line of a
#                                         client's --json output
#   daemon_pid                            pid of this test's nattravd
#                                         (pattern: $NT_DAEMON_PATTERN)
#   stop_daemon                           SIGTERM to it, then wait for $DAEMON
#   client NS OUT ARGS...                 nattrav-client --json in NS, output
#                                         to OUT, stderr to $work/clients.log
#   check WHAT CMD...                     nt_check
#
# Daemons started with nt_nsexec in the background: $! is the wrapping
# shell, so signals go to daemon_pid.

B="$ROOT/build"
NT_CTL_EXTRA=()

nt_relay_env() {
	P=$1$$
	P=${P:0:8}
	shift
	nt_check_root
	nt_bpffs_ensure
	nt_cleanup_trap
	nt_cleanup_push "'$ROOT/scripts/topo.sh' down --prefix $P --kill"
	eval "$("$ROOT/scripts/topo.sh" up --prefix "$P" "$@")"
	ip netns exec "$RELAY_NS" sysctl -qw net.ipv4.conf.all.forwarding=1
	work=$(mktemp -d)
	nt_cleanup_push "rm -rf '$work'"
	"$ROOT/scripts/gen-certs.sh" "$work" "$RELAY_V4" 2>/dev/null
	NT_DAEMON_PATTERN=${NT_DAEMON_PATTERN:-"nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"}
}

check() { nt_check "$@"; }

# lab_daemon EXTRA...: nattravd on the lab's relay (its certificate, a fresh
# secret unless one is there, the lab's documentation range allowed), its
# log in $work/daemon.log; returns once the control port listens.
lab_daemon() {
	[ -s "$work/secret" ] || openssl rand -hex 32 >"$work/secret"
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --allow 203.0.113.0/24 \
		"$@" 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_cleanup_push 'pkill -9 -f "$NT_DAEMON_PATTERN"'
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		{ tail -5 "$work/daemon.log"; nt_fail "nattravd did not start"; }
}

# metric NAME{LABELS}: its value on the relay's --metrics $MPORT
metric() {
	ip netns exec "$RELAY_NS" curl -sf "http://127.0.0.1:$MPORT/metrics" |
		awk -v k="$1" '$1 == k { print $2 }'
}
# token USER [GROUP...]: a token for USER and the groups named (none: any, '*')
token() { nt_token "$B/nattravctl" "$work/secret" 600 "$@"; }
ctl() { nt_nsexec "$RELAY_NS" "$B/nattravctl" --pin-dir "$NT_PIN_DIR" "${NT_CTL_EXTRA[@]}" "$@"; }
stat_of() { ctl stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['packets'])"; }
# A failed or garbled nattravctl prints its reason instead of a count, so a
# "nothing left" check (count -eq 0) fails rather than passing on no output.
ctl_count() {
	local key=$1 out
	shift
	out=$(ctl "$@" --json) || { echo "nattravctl $* failed"; return 1; }
	printf '%s\n' "$out" | python3 -c '
import json, sys
n = 0
for l in sys.stdin:
    if not l.strip():
        continue
    try:
        o = json.loads(l)
    except ValueError:
        print("nattravctl printed no JSON: " + l.strip()[:60])
        sys.exit(1)
    n += isinstance(o, dict) and sys.argv[1] in o
print(n)' "$key"
}
n_mappings() { ctl_count src mappings; }
daemon_pid() { pgrep -f "$NT_DAEMON_PATTERN" | head -1; }

stop_daemon() {
	local pid
	pid=$(daemon_pid)
	[ -n "$pid" ] && kill -TERM "$pid"
	wait "$DAEMON" 2>/dev/null || true
}

client() {
	local ns=$1 out=$2
	shift 2
	ip netns exec "$ns" "$B/nattrav-client" --server "$RELAY_V4" --ca "$work/ca.pem" --json "$@" >"$out" 2>>"$work/clients.log"
}

json_field() {
	python3 -c "
import json, sys
v = ''
for l in open('$1'):
    try: e = json.loads(l)
    except ValueError: continue
    if e.get('event') == '$2': v = e.get('$3', '')
print(v)"
}

# The count of checks, and on failure the work folder kept in /tmp and the
# daemon log's last LINES lines (default 40); the script's exit status.
relay_summary() {
	if [ "$NT_FAILED" -ne 0 ]; then
		local keep=/tmp/nattrav-e2e-$P
		cp -r "$work" "$keep"
		echo "logs and client output kept in $keep"
		grep -v 'debug libbpf' "$work/daemon.log" | tail -"${1:-40}"
	fi
	nt_summary
}
