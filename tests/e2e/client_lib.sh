#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The client library as an application gets it: libnattrav-client.so exports
# only nt_client_* (nm -D; the .a likewise) and nattrav-client runs on it;
# make install into a DESTDIR installs the public header, the libraries and
# the .pc and nothing internal; examples/echo.c builds with pkg-config from
# there (and the header from C++), then echoes media across the NAT lab:
# nattrav-client (cone NAT) gets its RTP back, the Python binding (symmetric
# NAT) gets DTLS records, QUIC, its own framing and random bytes back byte
# for byte, one by one and in batches, and the XDP program relayed them;
# then the same through the daemon's userspace path (--xdp-mode off); and
# examples/echo.py, the Python twin of echo.c, echoes nattrav-client's media.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"

. "$HERE/lib/relay_env.sh"
nt_relay_env ncl c1=cone c2=symmetric c3=symmetric

SO="$B/libnattrav-client.so.1"

# --- exports ------------------------------------------------------------------
nm -D --defined-only "$SO" | awk '$2 != "A" {print $3}' | sed 's/@.*//' >"$work/exports"
check "the .so exports the API ($(wc -l <"$work/exports") symbols, nt_client_open among them)" \
	grep -qx nt_client_open "$work/exports"
check "the .so exports nothing but nt_client_* ($(grep -v '^nt_client_' "$work/exports" | head -3 | tr '\n' ' '))" \
	sh -c "! grep -v '^nt_client_' '$work/exports'"
check "the .so's symbols carry the version NATTRAV_CLIENT_1" \
	sh -c "nm -D --defined-only '$SO' | grep -q 'nt_client_open@@NATTRAV_CLIENT_1'"
check "soname libnattrav-client.so.1" sh -c "readelf -d '$SO' | grep -q 'SONAME.*\[libnattrav-client.so.1\]'"
nm --defined-only -g "$B/libnattrav-client.a" 2>/dev/null | awk 'NF == 3 {print $3}' >"$work/a-exports"
check "the .a defines nothing global but nt_client_* (internals made local)" \
	sh -c "grep -qx nt_client_open '$work/a-exports' && ! grep -v '^nt_client_' '$work/a-exports'"
check "nattrav-client runs on the shared library, not a copy of it" \
	sh -c "ldd '$B/nattrav-client' | grep -q 'libnattrav-client.so.1 => $B/' &&
	       ! nm --defined-only '$B/nattrav-client' | grep -q ' nt_client_open$'"

# --- make install into a DESTDIR, build the example with pkg-config from it ----
dest="$work/dest"
if make -C "$ROOT" -s install DESTDIR="$dest" PREFIX=/usr >"$work/install.log" 2>&1; then rc=0; else rc=$?; fi
check "make install DESTDIR=... PREFIX=/usr succeeds" test "$rc" -eq 0
check "installed headers: nattrav_client.h and nothing internal" \
	sh -c "[ \"\$(cd '$dest/usr/include' && find . -type f)\" = ./nattrav_client.h ]"
for f in libnattrav-client.so.1 libnattrav-client.so libnattrav-client.a pkgconfig/nattrav-client.pc; do
	check "installed: /usr/lib/$f" test -e "$dest/usr/lib/$f"
done
check "installed nattrav-client needs libnattrav-client.so.1, no run path into the build tree" \
	sh -c "readelf -d '$dest/usr/bin/nattrav-client' | grep -q 'NEEDED.*libnattrav-client.so.1' &&
	       ! readelf -d '$dest/usr/bin/nattrav-client' | grep -Eq 'R(UN)?PATH'"
# elsewhere than /usr: the installed tool finds the library by its run path
dest2="$work/dest-opt"
make -C "$ROOT" -s install DESTDIR="$dest2" PREFIX=/opt/nattrav DEB_HOST_MULTIARCH=x86_64-linux-gnu \
	>>"$work/install.log" 2>&1 || true
check "PREFIX=/opt/nattrav with DEB_HOST_MULTIARCH: library in lib/<multiarch>, tool's run path there" \
	sh -c "test -e '$dest2/opt/nattrav/lib/x86_64-linux-gnu/libnattrav-client.so.1' &&
	       grep -qx 'libdir=/opt/nattrav/lib/x86_64-linux-gnu' '$dest2/opt/nattrav/lib/x86_64-linux-gnu/pkgconfig/nattrav-client.pc' &&
	       readelf -d '$dest2/opt/nattrav/bin/nattrav-client' | grep -q 'RUNPATH.*\[/opt/nattrav/lib/x86_64-linux-gnu\]'"
export PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs nattrav-client || echo FAILED)
check "pkg-config: flags into the DESTDIR ($flags)" \
	sh -c "echo '$flags' | grep -q -- '-I$dest/usr/include' && echo '$flags' | grep -q -- '-L$dest/usr/lib -lnattrav-client'"
# shellcheck disable=SC2086
check "examples/echo.c builds against the installed library alone" \
	cc -Wall -Wextra -Werror -o "$work/echo" "$ROOT/examples/echo.c" $flags
cat >"$work/cxx.cc" <<'CXX'
#include <nattrav_client.h>
int main() {
	NT_CLIENT_OPTS(o, .server = "127.0.0.1");
	struct nt_client *c = nullptr;
	int err = nt_client_open(&o, &c);
	nt_client_close(c);
	return err == -22 ? 0 : 1; // no CA, token, group: -EINVAL
}
CXX
# shellcheck disable=SC2086
check "the header builds and links from C++ (extern \"C\")" \
	sh -c "c++ -std=c++20 -Wall -Werror -o '$work/cxx' '$work/cxx.cc' $flags &&
	       LD_LIBRARY_PATH='$dest/usr/lib' '$work/cxx'"
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

# --- the example echoes across the NAT lab -------------------------------------
nt_cleanup_push 'pkill -9 -f "nattravd --iface $RELAY_IF .*--pin-dir $NT_PIN_DIR"'

# echo_round LABEL [nattravd args...]: echo (c3), nattrav-client (c1), Python (c2)
echo_round() {
	local l=$1 fwd0 fwd echoed
	shift
	nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
		--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
		--auth-secret-file "$work/secret" --config none --ctl-socket off \
		--allow 203.0.113.0/24 --log-level debug "$@" 2>>"$work/daemon.log" &
	DAEMON=$!
	nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
		nt_fail "nattravd did not start"

	ip netns exec "$C3_NS" env LD_LIBRARY_PATH="$dest/usr/lib" "$work/echo" "$RELAY_V4" \
		"$work/ca.pem" "$(token "echo-$l")" "room-$l" 60 >"$work/echo-$l.out" 2>>"$work/clients.log" &
	ECHO=$!
	nt_cleanup_push "kill $ECHO 2>/dev/null"
	check "$l: echo (built from the DESTDIR, symmetric NAT) verified its mapping" \
		nt_wait_for -t 15 grep -q '^verified ' "$work/echo-$l.out"

	client "$C1_NS" "$work/cli-$l" --token "$(token "cli-$l")" --group "room-$l" \
		--send 100 --rate 200 --size 300 || true
	# its own SSRC coming back: counted as "own", not as received from others
	check "$l: nattrav-client got its 100 packets back from echo ($(json_field "$work/cli-$l" summary own))" \
		test "$(json_field "$work/cli-$l" summary own)" = 100

	[ "$l" = xdp ] && fwd0=$(($(stat_of forwarded) + $(stat_of redirected)))
	ip netns exec "$C2_NS" env NATTRAV_CLIENT_LIB="$SO" python3 "$HERE/lib/py_media_peer.py" \
		--server "$RELAY_V4" --ca "$work/ca.pem" --token "$(token "py-$l")" --group "room-$l" \
		>"$work/py-$l.json" 2>>"$work/clients.log" || true
	jp() { python3 -c "import json; print(json.load(open('$work/py-$l.json')).get('$1'))" 2>/dev/null || echo none; }
	check "$l: python binding (symmetric NAT) verified" test "$(jp verified)" = True
	check "$l: python: every datagram came back byte for byte ($(jp echoed_equal) of $(jp sent); missing: $(jp missing))" \
		sh -c "[ '$(jp sent)' -ge 15 ] && [ '$(jp echoed_equal)' = '$(jp sent)' ]"
	check "$l: python: a batch of 40 DTLS-range datagrams went in one call and came back unchanged ($(jp batch_equal))" \
		sh -c "[ '$(jp batch_sent)' = 40 ] && [ '$(jp batch_equal)' = 40 ]"
	if [ "$l" = xdp ]; then
		fwd=$(($(stat_of forwarded) + $(stat_of redirected) - fwd0))
		check "$l: the XDP program relayed them both ways ($fwd packets >= 2 x 55)" test "$fwd" -ge 110
	else
		check "$l: no XDP program attached" sh -c "! ip -n '$RELAY_NS' link show '$RELAY_IF' | grep -q xdp"
	fi

	kill -TERM $ECHO
	wait $ECHO || true
	echoed=$(sed -n 's/^echoed \([0-9]*\) failed 0$/\1/p' "$work/echo-$l.out")
	check "$l: echo left cleanly, having echoed all 155 datagrams ($(tail -1 "$work/echo-$l.out"))" \
		test "${echoed:-0}" -ge 155
	kill -TERM "$(daemon_pid)" 2>/dev/null || true
	wait "$DAEMON" 2>/dev/null || true
}

echo_round xdp
echo_round userspace --xdp-mode off

# --- examples/echo.py, the same flow over the Python binding -----------------------
nt_nsexec "$RELAY_NS" "$B/nattravd" --iface "$RELAY_IF" --addr "$RELAY_V4" \
	--pin-dir "$NT_PIN_DIR" --cert "$work/server.pem" --key "$work/server.key" \
	--auth-secret-file "$work/secret" --config none --ctl-socket off \
	--allow 203.0.113.0/24 --log-level debug 2>>"$work/daemon.log" &
DAEMON=$!
nt_wait_for -t 10 sh -c "ip netns exec '$RELAY_NS' ss -Htln 'sport = :4433' | grep -q ." ||
	nt_fail "nattravd did not start"
ip netns exec "$C3_NS" env NATTRAV_CLIENT_LIB="$SO" python3 "$ROOT/examples/echo.py" "$RELAY_V4" \
	"$work/ca.pem" "$(token echo-py)" room-py 60 >"$work/echo-py.out" 2>>"$work/clients.log" &
ECHO=$!
nt_cleanup_push "kill $ECHO 2>/dev/null"
check "echo.py (symmetric NAT) verified its mapping" nt_wait_for -t 15 grep -q '^verified ' "$work/echo-py.out"
client "$C1_NS" "$work/cli-py" --token "$(token cli-py)" --group room-py --send 50 --rate 100 || true
check "nattrav-client got its 50 packets back from echo.py ($(json_field "$work/cli-py" summary own))" \
	test "$(json_field "$work/cli-py" summary own)" = 50
kill -TERM $ECHO
wait $ECHO || true
check "echo.py left cleanly ($(tail -1 "$work/echo-py.out"))" grep -qx 'echoed 50 failed 0' "$work/echo-py.out"
kill -TERM "$(daemon_pid)" 2>/dev/null || true
wait "$DAEMON" 2>/dev/null || true
relay_summary
