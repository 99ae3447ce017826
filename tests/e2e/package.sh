#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian package, as an operator meets it: built once with
# dpkg-buildpackage -us -uc -b in a temporary copy of the tree (never in
# the repository), its contents (dpkg-deb -c: the programs, unit, sysusers
# file, man pages, bash completion, config as a conffile; no tests, no
# static library), lintian without errors, Debian's hardening flags in every
# program (hardening-check), installed with apt-get install ./nattrav_*.deb:
# nattravd --version says the package's version, nattravctl --help and
# nattrav-client -h answer from the installed paths, the nattrav user exists
# and may read the config, the unit is installed but not enabled. Then
# purged: every path the package brought under /usr, /etc, /lib and
# /var/lib/systemd is gone again (folders that were there before stay).
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
if dpkg-query -W -f='${Status}' nattrav 2>/dev/null | grep -q 'installed'; then
	nt_fail "the nattrav package is installed on this host: this test installs and purges it"
fi

work=$(mktemp -d /tmp/nt-pkg.XXXXXX)
had_user=0
getent passwd nattrav >/dev/null && had_user=1
nt_cleanup_trap
nt_cleanup_push "rm -rf '$work'"
# an interrupted run leaves neither the package nor the user behind
nt_cleanup_push "dpkg-query -W -f='\${Status}' nattrav 2>/dev/null | grep -q installed && DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nattrav"
[ "$had_user" -eq 1 ] || nt_cleanup_push "getent passwd nattrav >/dev/null && userdel nattrav"

# What exists now of the names the package may touch: compared after the purge.
snapshot() {
	{
		find /usr /etc /lib /var/lib/systemd /var/lib/dpkg/info -xdev -name '*nattrav*' 2>/dev/null
		ls /etc/systemd/system/*/nattravd.service 2>/dev/null
		dpkg-query -W -f='${Package} ${Status}\n' nattrav 2>/dev/null
		getent group nattrav
	} | sort || true
}
snapshot >"$work/before"

# --- build, in a copy: the tree is left as it is ----------------------------
tree_state() {
	(cd "$ROOT" && git status --porcelain --ignored 2>/dev/null; ls -a debian
		for f in ../nattrav*.deb ../nattrav*.changes ../nattrav*.buildinfo; do
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
tree_state >"$work/tree.after"
check "the build wrote nothing into the tree or beside it" diff -u "$work/tree.before" "$work/tree.after"

# --- contents ----------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/sbin/nattravd /usr/sbin/nattravctl /usr/bin/nattrav-client \
	/lib/systemd/system/nattravd.service /usr/lib/sysusers.d/nattrav.conf \
	/etc/nattrav/nattravd.conf /usr/share/bash-completion/completions/nattravctl \
	/usr/share/man/man8/nattravd.8.gz /usr/share/man/man8/nattravctl.8.gz \
	/usr/share/man/man1/nattrav-client.1.gz /usr/share/man/man5/nattravd.conf.5.gz \
	/usr/share/doc/nattrav/copyright; do
	check "package holds $f" grep -qx "$f" "$work/contents"
done
check "package holds no test, benchmark, header or static library" \
	sh -c "! grep -E '/test_|/bench|criterion|/include/|\.a\$' '$work/contents'"
check "the config is a conffile" sh -c "dpkg-deb -e '$deb' '$work/ctrl' && grep -qx /etc/nattrav/nattravd.conf '$work/ctrl/conffiles'"

# --- lintian and hardening --------------------------------------------------
lintian --allow-root "$deb" >"$work/lintian" 2>&1 || true
check "lintian: no errors" sh -c "! grep -q '^E:' '$work/lintian'"
sed -n 's/^W: /lintian warning: /p' "$work/lintian"
dpkg-deb -x "$deb" "$work/root"
for b in usr/sbin/nattravd usr/sbin/nattravctl usr/bin/nattrav-client; do
	hardening-check "$work/root/$b" >"$work/hc" 2>&1 || true
	check "$b: PIE, stack protector, fortify, relro, bindnow (hardening-check)" sh -c "
		grep -q 'Position Independent Executable: yes' '$work/hc' &&
		grep -q 'Stack protected: yes' '$work/hc' &&
		grep -q 'Fortify Source functions: yes' '$work/hc' &&
		grep -q 'Read-only relocations: yes' '$work/hc' &&
		grep -q 'Immediate binding: yes' '$work/hc'"
done

# --- install ----------------------------------------------------------------
apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 "$@"
}
if apt_get install "$deb" >"$work/install.log" 2>&1; then rc=0; else rc=$?; fi
check "apt-get install ./nattrav_${version}_*.deb" test "$rc" -eq 0
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

# --- purge ------------------------------------------------------------------
if apt_get purge nattrav >"$work/purge.log" 2>&1; then rc=0; else rc=$?; fi
check "apt-get purge nattrav" test "$rc" -eq 0
gone=1
while read -r f; do
	[ -n "$f" ] || continue
	# a folder that existed before (/usr/share/man/man5, ...) stays; the rest goes
	if [ -e "$f" ] && ! [ -d "$f" ]; then
		echo "left after purge: $f"
		gone=0
	fi
done <"$work/contents"
check "purge removed every file the package brought" test "$gone" -eq 1
snapshot >"$work/after"
# Debian keeps system users on purge: the nattrav group (of the user) is the one leftover allowed
if [ "$had_user" -eq 0 ]; then
	grep -v '^nattrav:' "$work/after" >"$work/after.nouser" || true
	mv "$work/after.nouser" "$work/after"
	userdel nattrav 2>/dev/null || true
	if getent group nattrav >/dev/null; then groupdel nattrav 2>/dev/null || true; fi
fi
check "the host is as it was before the install (nattrav paths, unit links, dpkg state)" \
	diff -u "$work/before" "$work/after"
check "the nattrav user is as it was before the test" \
	test "$(getent passwd nattrav >/dev/null && echo 1 || echo 0)" = "$had_user"

nt_summary
