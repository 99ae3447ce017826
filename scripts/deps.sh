#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs what building, testing and the demo need on Debian (root).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

# hiredis: nattravd's fleet (--redis); redis-server, redis-tools: tests/e2e/fleet.sh
# starts its own server in a namespace (the package's service is not used).
# chromium, python3-aiortc: tests/e2e/webrtc.sh, WebRTC clients through TURN.
pkgs=(
	make gcc g++ binutils clang llvm libclang-rt-dev libbpf-dev bpftool libelf-dev zlib1g-dev libssl-dev
	libcriterion-dev libsystemd-dev pkg-config iproute2 nftables conntrack ethtool
	openssl tcpdump libcap2-bin valgrind strace curl python3 procps util-linux man-db groff-base
	coturn debhelper dpkg-dev devscripts lintian bash-completion
	libhiredis-dev redis-server redis-tools
	chromium python3-aiortc
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# apt's downloads as root: on some hosts its _apt sandbox user cannot resolve names
	apt_opts=(-o APT::Sandbox::User=root)
	apt-get "${apt_opts[@]}" update -qq
	apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# coturn is here for its client tools (turnutils_*) and as the benchmarks'
	# baseline, redis-server for the fleet tests, which start their own:
	# neither service the packages may start is wanted on the host
	for svc in coturn redis-server; do
		if [[ " ${missing[*]} " == *" $svc "* ]] && command -v systemctl >/dev/null &&
			systemctl is-enabled "$svc" >/dev/null 2>&1; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi
	done
fi

# bpffs: pinned maps live here.
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
fi
