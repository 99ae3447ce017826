#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate the checked-in vmlinux/<arch>/vmlinux.h from this kernel's BTF.
# The build uses this copy, never the build host's running kernel: the BPF
# programs are CO-RE, relocated at load time against the target kernel's BTF,
# so the header only declares types. Refresh it when a new kernel type is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
btf=/sys/kernel/btf/vmlinux
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable: this kernel has no BTF" >&2; exit 1; }
out=vmlinux/$(uname -m)/vmlinux.h
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $(uname -r)"
