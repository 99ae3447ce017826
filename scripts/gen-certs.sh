#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A throw-away CA and a server certificate for tests and the demo.
#   scripts/gen-certs.sh DIR [SAN ...]     SAN: an IP address or a DNS name
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key,
# DIR/client.pem, DIR/client.key (for mutual TLS) and DIR/secret (auth secret).
# Production relays use certificates from their own CA.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DIR [SAN ...]" >&2; exit 2; }
dir=$1
shift
[ $# -gt 0 ] || set -- 127.0.0.1 localhost
mkdir -p "$dir"
umask 077

san=""
for s in "$@"; do
	if [[ $s =~ ^[0-9.]+$ || $s == *:* ]]; then
		san+="${san:+,}IP:$s"
	else
		san+="${san:+,}DNS:$s"
	fi
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=nattrav test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null

issue() { # name cn extfile
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null
	openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 30 -extfile "$3" -out "$dir/$1.pem" 2>/dev/null
	rm -f "$dir/$1.csr"
}

printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/server.ext"
issue server "$1" "$dir/server.ext"
printf 'extendedKeyUsage=clientAuth\n' >"$dir/client.ext"
issue client "nattrav test client" "$dir/client.ext"
rm -f "$dir"/*.ext "$dir"/ca.srl
openssl rand -hex 32 >"$dir/secret"
echo "certificates in $dir (server SAN: $san)" >&2
