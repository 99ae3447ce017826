#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate the checked-in vmlinux/<arch>/vmlinux.h from this kernel's BTF.
# The build prefers the running kernel's BTF; this copy is for machines without it.
set -euo pipefail
cd "$(dirname "$0")/.."
btf=/sys/kernel/btf/vmlinux
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable: this kernel has no BTF" >&2; exit 1; }
out=vmlinux/$(uname -m)/vmlinux.h
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $(uname -r)"
