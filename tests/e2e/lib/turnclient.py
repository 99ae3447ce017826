#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small TURN (RFC 8656) client for the tests: long-term credentials with
coturn's REST usernames, Allocate, CreatePermission, ChannelBind, Send.

usage: turnclient.py SERVER SECRET check-peers PEER...
    allocate, then one CreatePermission per PEER (IPv4 or IPv6 address,
    v4-mapped IPv6 too); print one line "PEER CODE" per peer (0 = success)
usage: turnclient.py SERVER SECRET padding
    print the bytes of an error response's padding (must be zeros)
"""
import base64
import hashlib
import hmac
import ipaddress
import os
import socket
import struct
import sys
import time
import zlib

COOKIE = 0x2112A442


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def xor_addr(ip, port, tid):
    a = ipaddress.ip_address(ip)
    pad = struct.pack("!I", COOKIE) + tid
    raw = a.packed
    x = bytes(b ^ p for b, p in zip(raw, pad))
    fam = 1 if a.version == 4 else 2
    return struct.pack("!BBH", 0, fam, port ^ (COOKIE >> 16)) + x


def parse(m):
    typ, ln = struct.unpack("!HH", m[:4])
    attrs, off = {}, 20
    while off < 20 + ln:
        t, l = struct.unpack("!HH", m[off:off + 4])
        attrs.setdefault(t, m[off + 4:off + 4 + l])
        off += 4 + ((l + 3) & ~3)
    return typ, attrs


class Turn:
    def __init__(self, server, secret, user="alice", ttl=600):
        self.server = (server, 3478)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2)
        self.username = f"{int(time.time()) + ttl}:{user}".encode()
        pw = base64.b64encode(hmac.new(secret.encode(), self.username, hashlib.sha1).digest())
        self.pw = pw
        self.realm = self.nonce = None
        self.key = None

    def request(self, method, attrs=b"", sign=True, raw=False):
        tid = os.urandom(12)
        body = attrs
        if sign and self.key:
            body += attr(0x0006, self.username) + attr(0x0014, self.realm) + attr(0x0015, self.nonce)
            hdr = struct.pack("!HHI", method, len(body) + 24, COOKIE) + tid
            mac = hmac.new(self.key, hdr + body, hashlib.sha1).digest()
            body += attr(0x0008, mac)
        hdr = struct.pack("!HHI", method, len(body) + 8, COOKIE) + tid
        crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(0x8028, struct.pack("!I", crc))
        msg = struct.pack("!HHI", method, len(body), COOKIE) + tid + body
        self.s.sendto(msg, self.server)
        r = self.s.recv(2048)
        return r if raw else parse(r)

    @staticmethod
    def code(attrs):
        e = attrs.get(0x0009)
        return e[2] * 100 + e[3] if e else 0

    def allocate(self):
        rt = attr(0x0019, bytes([17, 0, 0, 0]))
        typ, a = self.request(0x0003, rt, sign=False)
        if self.code(a) != 401:
            raise SystemExit(f"first Allocate: {self.code(a)}, want 401")
        self.realm, self.nonce = a[0x0014], a[0x0015]
        self.key = hashlib.md5(self.username + b":" + self.realm + b":" + self.pw).digest()
        typ, a = self.request(0x0003, rt)
        if typ != 0x0103:
            raise SystemExit(f"Allocate: error {self.code(a)}")
        return a


def check_peers(t, peers):
    t.allocate()
    for p in peers:
        # build the request by hand so the XOR uses its own transaction id
        tid = os.urandom(12)
        body = attr(0x0012, xor_addr(p, 9, tid))
        body += attr(0x0006, t.username) + attr(0x0014, t.realm) + attr(0x0015, t.nonce)
        hdr = struct.pack("!HHI", 0x0008, len(body) + 24, COOKIE) + tid
        body += attr(0x0008, hmac.new(t.key, hdr + body, hashlib.sha1).digest())
        msg = struct.pack("!HHI", 0x0008, len(body), COOKIE) + tid + body
        t.s.sendto(msg, t.server)
        typ, a = parse(t.s.recv(2048))
        print(p, 0 if typ == 0x0108 else Turn.code(a))


def padding(t):
    # an unauthenticated Allocate: 401 with REALM "nattrav" (7 bytes, 1 of padding)
    # and the reason "Unauthorized" (12 bytes, none): every padding byte must be 0
    r = t.request(0x0003, attr(0x0019, bytes([17, 0, 0, 0])), sign=False, raw=True)
    off, pads = 20, b""
    while off < len(r):
        ty, l = struct.unpack("!HH", r[off:off + 4])
        p = (4 - l % 4) % 4
        pads += r[off + 4 + l:off + 4 + l + p]
        off += 4 + l + p
    print("padding", pads.hex() or "none")


def main():
    server, secret, cmd = sys.argv[1:4]
    t = Turn(server, secret)
    if cmd == "check-peers":
        check_peers(t, sys.argv[4:])
    elif cmd == "padding":
        padding(t)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
