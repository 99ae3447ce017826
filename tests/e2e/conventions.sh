#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The small conventions of the programs, without a relay: every tool
# answers --version and -V with its name and one version, -h and --help
# with its usage on stdout (exit 0); nattravd.conf(5) documents every key
# nattravd accepts and only those (each key of the page is tried against
# nattravd itself); bash completion of nattravctl offers every command of
# its --help and the options of a command.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/lib.sh"
B="$ROOT/build"
check() { nt_check "$@"; }
work=$(mktemp -d /tmp/nt-conv.XXXXXX)
nt_cleanup_trap
nt_cleanup_push "rm -rf '$work'"

# --- --version, -V, -h, --help -----------------------------------------------
v=$("$B/nattravd" --version | awk '{ print $2 }')
check "nattravd --version: a version ($v)" sh -c "echo '$v' | grep -Eq '^[0-9]+\.[0-9]+'"
for t in nattravd nattravctl nattrav-client; do
	check "$t --version and -V: '$t $v'" sh -c \
		"[ \"\$('$B/$t' --version)\" = '$t $v' ] && [ \"\$('$B/$t' -V)\" = '$t $v' ]"
	for h in -h --help; do
		check "$t $h: usage on stdout, exit 0" sh -c "'$B/$t' $h 2>/dev/null | grep -q '^usage: $t'"
	done
done

# --- nattravd.conf(5) against nattravd ---------------------------------------
page="$ROOT/docs/man/nattravd.conf.5"
sed -n 's/^\.BI \([a-z\\-]*\) .*/\1/p' "$page" | sed 's/\\-/-/g' | sort -u >"$work/page-keys"
"$B/nattravd" --help | grep -oE '^  --[a-z-]+' | sed 's/^  --//' |
	grep -vxE 'config|help|version' | sort -u >"$work/help-keys"
check "nattravd.conf(5) lists the keys of nattravd --help, no more, no fewer" \
	diff -u "$work/help-keys" "$work/page-keys"
unknown=0
while read -r k; do
	printf '%s = x\n' "$k" >"$work/one.conf"
	"$B/nattravd" --config "$work/one.conf" >/dev/null 2>"$work/err" || true
	if grep -q 'unknown setting' "$work/err"; then
		echo "nattravd does not know '$k' of nattravd.conf(5)"
		unknown=1
	fi
done <"$work/page-keys"
check "nattravd takes every key of nattravd.conf(5) in a config file" test "$unknown" -eq 0
printf 'no-such-key = 1\n' >"$work/bad.conf"
check "and refuses one that is not there (the check above can fail)" \
	sh -c "'$B/nattravd' --config '$work/bad.conf' 2>&1 | grep -q \"unknown setting 'no-such-key'\""

# --- bash completion ----------------------------------------------------------
comp=/usr/share/bash-completion/bash_completion
[ -r "$comp" ] || nt_fail "$comp is missing (scripts/deps.sh installs bash-completion)"
complete_words() { # WORDS... (the last one is being completed)
	bash -c '
		. '"$comp"'
		. '"$ROOT"'/scripts/nattravctl.bash-completion
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_nattravctl nattravctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' complete "$@"
}
complete_words nattravctl '' | sort >"$work/comp-cmds"
"$B/nattravctl" --help | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z]+' | tr -d ' ' |
	sort -u >"$work/help-cmds"
check "completion offers every command of nattravctl --help" diff -u "$work/help-cmds" "$work/comp-cmds"
check "completion: 'nattravctl stats --w' gives --watch" test "$(complete_words nattravctl stats --w)" = --watch
check "completion: 'nattravctl --pin-dir /x kick ' gives mapping, session" \
	test "$(complete_words nattravctl --pin-dir /x kick '' | tr '\n' ' ')" = "mapping session "

# --- the Makefile (make -n: nothing is built) ---------------------------------
mk() { make -C "$ROOT" -n -B "$@" 2>/dev/null; }
mk install DESTDIR="$work/d" >"$work/install.n"
check "make install builds the programs and no test, benchmark or fuzz target" sh -c "
	grep -q 'user/nattravd/main.c' '$work/install.n' && ! grep -Eq 'tests/(unit|bpf|bench|fuzz)/' '$work/install.n'"
mk build/nattravctl CFLAGS='-O1 -DNT_T_CFLAGS' CPPFLAGS=-DNT_T_CPPFLAGS LDFLAGS=-Wl,-z,now >"$work/flags.n"
check "CFLAGS, CPPFLAGS, LDFLAGS from the command line reach the compiler and the linker" sh -c "
	grep -E 'user/lib/nt_json.c' '$work/flags.n' | grep -q -- '-DNT_T_CFLAGS.*-DNT_T_CPPFLAGS' &&
	grep -E 'user/nattravctl/main.c' '$work/flags.n' | grep -q -- '-Wl,-z,now' &&
	! grep -E 'clang .*-target bpf' '$work/flags.n' | grep -q NT_T_"
CFLAGS='-O1 -DNT_T_ENV' LDFLAGS=-Wl,-z,relro mk build/nattravctl >"$work/env.n"
check "... and from the environment" sh -c "
	grep -E 'user/nattravctl/main.c' '$work/env.n' | grep -q -- '-DNT_T_ENV.*-Wl,-z,relro'"
check "no -Werror by default, -Werror with WERROR=1" sh -c "
	! env -u WERROR make -C '$ROOT' -n -B build/lib/nt_json.o | grep -q Werror &&
	make -C '$ROOT' -n -B build/lib/nt_json.o WERROR=1 | grep -q Werror"
check "vmlinux.h comes from vmlinux/, not the running kernel's BTF" sh -c "
	make -C '$ROOT' -n -B build/vmlinux/vmlinux.h | grep -q 'cp vmlinux/' &&
	! make -C '$ROOT' -n -B build/vmlinux/vmlinux.h | grep -q 'btf dump'"

nt_summary
