#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# nattrav's main job.
#   scripts/demo.sh                      demo on a namespace topology: a relay,
#                                        two clients behind real NATs (one
#                                        symmetric), media relayed by XDP, maps
#                                        dumped at the end
#   scripts/demo.sh --iface IF [ARGS]    run nattravd on a real interface
#                                        (ARGS go to nattravd; see nattravd --help)
# Installs what is missing and builds first. Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
	sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (XDP, namespaces)" >&2; exit 2; }

scripts/deps.sh
make -j"$(nproc)" >/dev/null

if [ "${1:-}" = --iface ]; then
	exec build/nattravd "$@"
fi
exec scripts/demo-topology.sh
