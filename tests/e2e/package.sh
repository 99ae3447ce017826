#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages, as an operator and an application developer meet
# them: nattrav (the relay, its tools, unit, sysusers file, man pages, bash
# completion, config as a conffile), libnattrav-client1 (the client
# library in the multiarch folder, with its shlibs and symbols) and
# libnattrav-client-dev (header, .so link, .a, .pc, nattrav_client(3)),
# built at once with dpkg-buildpackage -us -uc -b in a temporary copy of the
# tree (never in the repository). Each one's contents (dpkg-deb -c: what
# belongs there and nothing of the others; no tests), its dependencies
# (nattrav on libnattrav-client1 through shlibs, -dev on exactly this
# version of the library), lintian without errors, Debian's hardening flags
# in every program and the library (hardening-check). All three installed
# with apt-get install ./*.deb: nattravd --version says the package's
# version, nattravctl --help and nattrav-client -h answer from the installed
# paths, nattrav-client runs on the packaged library, the nattrav user
# exists and may read the config, the unit is installed but not enabled; a
# small C program builds with pkg-config --cflags --libs nattrav-client
# (and statically from the .a) and runs on the library. Then purged: every
# path the packages brought under /usr, /etc, /lib and /var/lib/systemd is
# gone again (folders that were there before stay), and so is the library
# from the dynamic linker's cache.
# The nattrav system user is kept by the purge, as Debian keeps system users
# (files it owns elsewhere would go to the next user of its uid): the test
# accepts that one leftover and removes the user itself when it was not
# there before, so the host ends as it was.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
check() { nt_check "$@"; }

nt_check_root
for t in dpkg-buildpackage dh lintian hardening-check apt-get; do
	command -v "$t" >/dev/null || nt_fail "$t is missing (scripts/deps.sh installs it)"
done
PKGS="nattrav libnattrav-client1 libnattrav-client-dev"
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
		nt_fail "the $p package is installed on this host: this test installs and purges it"
	fi
done

work=$(mktemp -d /tmp/nt-pkg.XXXXXX)
had_user=0
getent passwd nattrav >/dev/null && had_user=1
nt_cleanup_trap
nt_cleanup_push "rm -rf '$work'"
# an interrupted run leaves neither the package nor the user behind
nt_cleanup_push "for p in $PKGS; do dpkg-query -W -f='\${Status}' \$p 2>/dev/null | grep -q installed && DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \$p; done"
[ "$had_user" -eq 1 ] || nt_cleanup_push "getent passwd nattrav >/dev/null && userdel nattrav"

# What exists now of the names the package may touch: compared after the purge.
snapshot() {
	{
		find /usr /etc /lib /var/lib/systemd /var/lib/dpkg/info -xdev -name '*nattrav*' 2>/dev/null
		ls /etc/systemd/system/*/nattravd.service 2>/dev/null
		# shellcheck disable=SC2086
		dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null
		ldconfig -p | grep nattrav
		getent group nattrav
	} | sort || true
}
snapshot >"$work/before"

# --- build, in a copy: the tree is left as it is ----------------------------
tree_state() {
	(cd "$ROOT" && git status --porcelain --ignored 2>/dev/null; ls -a debian
		for f in ../nattrav*.deb ../libnattrav*.deb ../nattrav*.changes ../nattrav*.buildinfo; do
			[ ! -e "$f" ] || echo "$f"
		done) | sort
}
tree_state >"$work/tree.before"
src="$work/nattrav"
mkdir -p "$src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^build/' |
		tar --null -cf - -T -) | tar -C "$src" -xf -
else
	tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
version=$(cd "$src" && dpkg-parsechangelog -SVersion)
upstream=${version%-*}
if (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then rc=0; else rc=$?; fi
check "dpkg-buildpackage -us -uc -b succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { tail -30 "$work/build.log"; nt_summary; exit 1; }
deb=$(ls "$work"/nattrav_"$version"_*.deb)
libdeb=$(ls "$work"/libnattrav-client1_"$version"_*.deb)
devdeb=$(ls "$work"/libnattrav-client-dev_"$version"_*.deb)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch
# where ldd and ld.so.cache see it: /lib is /usr/lib on a merged-/usr host
so_re="(/usr)?/lib/$multiarch/libnattrav-client\.so\.1"
tree_state >"$work/tree.after"
check "the build wrote nothing into the tree or beside it" diff -u "$work/tree.before" "$work/tree.after"

# --- contents ----------------------------------------------------------------
# files and links only, sorted (folders like /usr/share/man are shared)
contents() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$' | sort; }
contents "$deb" >"$work/contents.nattrav"
contents "$libdeb" >"$work/contents.lib"
contents "$devdeb" >"$work/contents.dev"
cat "$work"/contents.* >"$work/contents"
for f in /usr/sbin/nattravd /usr/sbin/nattravctl /usr/bin/nattrav-client \
	/lib/systemd/system/nattravd.service /usr/lib/sysusers.d/nattrav.conf \
	/etc/nattrav/nattravd.conf /usr/share/bash-completion/completions/nattravctl \
	/usr/share/man/man8/nattravd.8.gz /usr/share/man/man8/nattravctl.8.gz \
	/usr/share/man/man1/nattrav-client.1.gz /usr/share/man/man5/nattravd.conf.5.gz \
	/usr/share/doc/nattrav/copyright; do
	check "nattrav holds $f" grep -qx "$f" "$work/contents.nattrav"
done
check "nattrav holds no test, benchmark, header, library or man3 page" \
	sh -c "! grep -E '/test_|/bench|criterion|/include/|\.a\$|\.so|\.pc\$|/man3/' '$work/contents.nattrav'"
check "the config is a conffile" sh -c "dpkg-deb -e '$deb' '$work/ctrl' && grep -qx /etc/nattrav/nattravd.conf '$work/ctrl/conffiles'"
sort >"$work/expect.lib" <<EOF
$libdir/libnattrav-client.so.1
$libdir/libnattrav-client.so.1.0.0
/usr/share/doc/libnattrav-client1/changelog.gz
/usr/share/doc/libnattrav-client1/copyright
EOF
sort >"$work/expect.dev" <<EOF
/usr/include/nattrav_client.h
$libdir/libnattrav-client.a
$libdir/libnattrav-client.so
$libdir/pkgconfig/nattrav-client.pc
/usr/share/doc/libnattrav-client-dev/changelog.gz
/usr/share/doc/libnattrav-client-dev/copyright
/usr/share/man/man3/nattrav_client.3.gz
EOF
check "libnattrav-client1 holds $libdir/libnattrav-client.so.1 (and .so.1.0.0), its docs and nothing else" \
	diff -u "$work/expect.lib" "$work/contents.lib"
check "libnattrav-client-dev holds the header, .so link, .a, .pc, nattrav_client(3) and its docs" \
	diff -u "$work/expect.dev" "$work/contents.dev"
check "no file is in two packages" test -z "$(sort "$work/contents" | uniq -d)"
dpkg-deb -e "$libdeb" "$work/ctrl.lib"
check "libnattrav-client1: Section libs, Multi-Arch same" \
	test "$(dpkg-deb -f "$libdeb" Section Multi-Arch | tr '\n' ' ')" = "Section: libs Multi-Arch: same "
check "libnattrav-client1: shlibs (dh_makeshlibs) name it for libnattrav-client.so.1" \
	grep -qx "libnattrav-client 1 libnattrav-client1 (>= $version)" "$work/ctrl.lib/shlibs"
check "libnattrav-client1: a symbols file with nt_client_open of version NATTRAV_CLIENT_1" \
	grep -q '^ nt_client_open@NATTRAV_CLIENT_1 ' "$work/ctrl.lib/symbols"
check "libnattrav-client1: the ldconfig trigger" grep -qx 'activate-noawait ldconfig' "$work/ctrl.lib/triggers"
check "nattrav depends on libnattrav-client1 (through shlibs: nattrav-client links it)" \
	sh -c "dpkg-deb -f '$deb' Depends | grep -q 'libnattrav-client1 (>= $version)'"
check "libnattrav-client-dev depends on libnattrav-client1 (= $version)" \
	sh -c "dpkg-deb -f '$devdeb' Depends | grep -q 'libnattrav-client1 (= $version)'"

# --- lintian and hardening --------------------------------------------------
for d in "$deb" "$libdeb" "$devdeb"; do
	p=$(dpkg-deb -f "$d" Package)
	lintian --allow-root "$d" >"$work/lintian.$p" 2>&1 || true
	check "lintian $p: no errors" sh -c "! grep -q '^E:' '$work/lintian.$p'"
	sed -n 's/^W: /lintian warning: /p' "$work/lintian.$p"
	dpkg-deb -x "$d" "$work/root"
done
for b in usr/sbin/nattravd usr/sbin/nattravctl usr/bin/nattrav-client "${libdir#/}/libnattrav-client.so.1.0.0"; do
	hardening-check "$work/root/$b" >"$work/hc" 2>&1 || true
	check "$b: PIE, stack protector, fortify, relro, bindnow (hardening-check)" sh -c "
		grep -Eq 'Position Independent Executable: (yes|no, regular shared library)' '$work/hc' &&
		grep -q 'Stack protected: yes' '$work/hc' &&
		grep -q 'Fortify Source functions: yes' '$work/hc' &&
		grep -q 'Read-only relocations: yes' '$work/hc' &&
		grep -q 'Immediate binding: yes' '$work/hc'"
done

# --- install ----------------------------------------------------------------
apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 "$@"
}
if apt_get install "$deb" "$libdeb" "$devdeb" >"$work/install.log" 2>&1; then rc=0; else rc=$?; fi
check "apt-get install ./nattrav_*.deb ./libnattrav-client1_*.deb ./libnattrav-client-dev_*.deb" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -20 "$work/install.log"
check "nattravd --version from /usr/sbin says $upstream" \
	test "$(/usr/sbin/nattravd --version)" = "nattravd $upstream"
check "nattravctl --help from /usr/sbin" sh -c "/usr/sbin/nattravctl --help | grep -q '^usage: nattravctl'"
check "nattravctl --version says $upstream" test "$(/usr/sbin/nattravctl --version)" = "nattravctl $upstream"
check "nattrav-client -h from /usr/bin" sh -c "/usr/bin/nattrav-client -h | grep -q '^usage: nattrav-client'"
check "the nattrav system user exists, without a login shell" \
	sh -c "getent passwd nattrav | grep -q ':/usr/sbin/nologin\$'"
check "the config is root:nattrav 0640" test "$(stat -c '%U:%G %a' /etc/nattrav/nattravd.conf)" = "root:nattrav 640"
check "the unit runs /usr/sbin/nattravd" grep -q '^ExecStart=/usr/sbin/nattravd ' /lib/systemd/system/nattravd.service
check "the unit is not enabled by the install (the relay needs its settings first)" \
	sh -c "! ls /etc/systemd/system/*/nattravd.service 2>/dev/null | grep -q ."
check "man nattravd.conf finds the page" sh -c "man -w nattravd.conf | grep -q 'man5/nattravd.conf.5'"
check "man 3 nattrav_client finds the page" sh -c "man -w 3 nattrav_client | grep -q 'man3/nattrav_client.3'"
check "nattrav-client runs on $libdir/libnattrav-client.so.1" \
	sh -c "ldd /usr/bin/nattrav-client | grep -Eq 'libnattrav-client\.so\.1 => $so_re '"
check "the dynamic linker's cache knows libnattrav-client.so.1" \
	sh -c "ldconfig -p | grep -Eq 'libnattrav-client\.so\.1 .*=> $so_re\$'"

# An application of the -dev package: no network needed, only the library's
# own answers (an RTP-like packet encoded and decoded; nt_client_open
# refusing options without CA, token and group, with a reason).
cat >"$work/app.c" <<'APP'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <nattrav_client.h>

int main(void)
{
	struct nt_client_media m = { .pt = NT_CLIENT_MEDIA_PT, .ssrc = 0x1234, .seq = 77 }, back;
	unsigned char pkt[160];
	struct nt_client *c = NULL;
	int n, err;

	n = nt_client_media_encode(pkt, sizeof(pkt), sizeof(pkt), &m);
	if (n != (int)sizeof(pkt) || nt_client_media_decode(pkt, n, &back) || back.seq != 77 ||
	    back.ssrc != 0x1234)
		return 1;
	NT_CLIENT_OPTS(o, .server = "127.0.0.1");
	err = nt_client_open(&o, &c);
	printf("media seq %llu, open: %s (%s)\n", (unsigned long long)back.seq, strerror(-err),
	       c ? nt_client_error(c) : "no client");
	nt_client_close(c);
	return err == -EINVAL ? 0 : 2;
}
APP
# pkg-config's default search path, as an application's build sees it
flags=$(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_SYSROOT_DIR \
	pkg-config --cflags --libs nattrav-client 2>&1 || echo FAILED)
check "pkg-config --cflags --libs nattrav-client: -lnattrav-client ($flags)" \
	sh -c "echo '$flags' | grep -q -- '-lnattrav-client' && ! echo '$flags' | grep -q FAILED"
# shellcheck disable=SC2086
if cc -Wall -Wextra -Werror -o "$work/app" "$work/app.c" $flags >"$work/app.log" 2>&1; then rc=0; else rc=$?; fi
check "a C program builds against the installed -dev package with pkg-config" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$work/app.log"
check "it runs on $libdir/libnattrav-client.so.1" \
	sh -c "ldd '$work/app' | grep -Eq 'libnattrav-client\.so\.1 => $so_re '"
"$work/app" >"$work/app.out" 2>&1 && rc=0 || rc=$?
check "and gets the library's answers: media round trip, nt_client_open refusing with a reason ($(cat "$work/app.out"))" \
	sh -c "[ $rc -eq 0 ] && grep -q '^media seq 77, open: Invalid argument (.\+)\$' '$work/app.out'"
static=$(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR pkg-config --static --libs-only-l nattrav-client |
	sed 's/-lnattrav-client//')
# shellcheck disable=SC2086
check "it builds from the static library too, needing no libnattrav-client.so at run time" \
	sh -c "cc -o '$work/app-static' '$work/app.c' \$(pkg-config --cflags nattrav-client) \
			-Wl,-Bstatic -lnattrav-client -Wl,-Bdynamic $static &&
		! readelf -d '$work/app-static' | grep -q 'NEEDED.*nattrav' && '$work/app-static' >/dev/null"

# --- purge ------------------------------------------------------------------
# shellcheck disable=SC2086
if apt_get purge $PKGS >"$work/purge.log" 2>&1; then rc=0; else rc=$?; fi
check "apt-get purge $PKGS" test "$rc" -eq 0
gone=1
while read -r f; do
	[ -n "$f" ] || continue
	# a folder that existed before (/usr/share/man/man5, ...) stays; the rest goes
	if { [ -e "$f" ] || [ -L "$f" ]; } && ! [ -d "$f" ]; then
		echo "left after purge: $f"
		gone=0
	fi
done <"$work/contents"
check "purge removed every file the packages brought" test "$gone" -eq 1
snapshot >"$work/after"
# Debian keeps system users on purge: the nattrav group (of the user) is the one leftover allowed
if [ "$had_user" -eq 0 ]; then
	grep -v '^nattrav:' "$work/after" >"$work/after.nouser" || true
	mv "$work/after.nouser" "$work/after"
	userdel nattrav 2>/dev/null || true
	if getent group nattrav >/dev/null; then groupdel nattrav 2>/dev/null || true; fi
fi
check "the host is as it was before the install (nattrav paths, unit links, dpkg state, ld.so cache)" \
	diff -u "$work/before" "$work/after"
check "the nattrav user is as it was before the test" \
	test "$(getent passwd nattrav >/dev/null && echo 1 || echo 0)" = "$had_user"

nt_summary
