#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small TURN (RFC 8656) client for the tests: long-term credentials with
coturn's REST usernames, Allocate, CreatePermission, ChannelBind, Send.

usage: turnclient.py SERVER SECRET check-peers PEER...
    allocate, then one CreatePermission per PEER (IPv4 or IPv6 address,
    v4-mapped IPv6 too); print one line "PEER CODE" per peer (0 = success)
usage: turnclient.py SERVER SECRET padding
    print the bytes of an error response's padding (must be zeros)
usage: turnclient.py SERVER SECRET tcp-limits N
    open N TCP connections to the TURN port and hold them: print "open K"
    (K still open after a second: the relay closes what it refused), then
    on one more send bytes that are neither STUN nor ChannelData and print
    "garbage closed|open", and a Binding request on another, "binding OK|-"
usage: turnclient.py SERVER SECRET hairpin N [GO-FILE]
    two allocations on the server, each the other's peer (what two WebRTC
    clients with relay candidates only do): print the codes of a
    ChannelBind to the server's own media port and of each side's
    CreatePermission and ChannelBind, then "indications SENT RECEIVED" for
    N Send indications each way (Data indications expected) and
    "channels SENT RECEIVED" for N ChannelData each way (ChannelData on the
    receiver's own channel number expected); with GO-FILE, print "holding"
    and keep both allocations until GO-FILE exists, then release them
"""
import base64
import hashlib
import hmac
import ipaddress
import os
import selectors
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
        self.s = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET,
                               socket.SOCK_DGRAM)
        self.s.settimeout(2)
        self.username = f"{int(time.time()) + ttl}:{user}".encode()
        pw = base64.b64encode(hmac.new(secret.encode(), self.username, hashlib.sha1).digest())
        self.pw = pw
        self.realm = self.nonce = None
        self.key = None

    def request(self, method, attrs=b"", sign=True, raw=False):
        tid = self.last_tid = os.urandom(12)
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


def xor_addr_decode(v, tid):
    port = struct.unpack("!H", v[2:4])[0] ^ (COOKIE >> 16)
    pad = struct.pack("!I", COOKIE) + tid
    raw = bytes(b ^ p for b, p in zip(v[4:], pad))
    return str(ipaddress.ip_address(raw)), port


def signed(t, method, attrs, tid):
    body = attrs + attr(0x0006, t.username) + attr(0x0014, t.realm) + attr(0x0015, t.nonce)
    hdr = struct.pack("!HHI", method, len(body) + 24, COOKIE) + tid
    body += attr(0x0008, hmac.new(t.key, hdr + body, hashlib.sha1).digest())
    return struct.pack("!HHI", method, len(body), COOKIE) + tid + body


def code_of(t, method, attrs_of_tid):
    tid = os.urandom(12)
    t.s.sendto(signed(t, method, attrs_of_tid(tid), tid), t.server)
    typ, a = parse(t.s.recv(2048))
    return 0 if typ == method | 0x0100 else Turn.code(a)


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


def hairpin(server, secret, n, go_file=None):
    a, b = Turn(server, secret, "ann"), Turn(server, secret, "ben")
    # the relayed addresses (XOR-RELAYED-ADDRESS, decoded with the request's tid)
    ra, rb = (xor_addr_decode(t.allocate()[0x0016], t.last_tid) for t in (a, b))
    print("relayed", f"{ra[0]}:{ra[1]}", f"{rb[0]}:{rb[1]}")
    # the relay's own address, but not one of its relayed ports: refused
    print("bind-own-media-port", code_of(a, 0x0009, lambda tid: attr(0x000C, b"\x40\x00\0\0") +
                                        attr(0x0012, xor_addr(server, 3478, tid))))
    for t, peer, name in ((a, rb, "a"), (b, ra, "b")):
        print(f"permission-{name}", code_of(t, 0x0008, lambda tid: attr(0x0012, xor_addr(peer[0], peer[1], tid))))

    def count(s, want_chan, peer, m):
        if 0x40 <= m[0] <= 0x7f:
            ch, ln = struct.unpack("!HH", m[:4])
            return int(ch == want_chan and m[4:4 + ln].startswith(b"hp-"))
        if struct.unpack("!H", m[:2])[0] == 0x0017:
            typ, at = parse(m)
            return int(xor_addr_decode(at.get(0x0012, b"\0" * 8), m[8:20]) == peer and
                       at.get(0x0013, b"").startswith(b"hp-"))
        return 0

    def exchange(send_a, send_b, want_a, want_b):
        """n each way; read while sending, as a socket's buffer holds only so many"""
        got = 0
        sel = selectors.DefaultSelector()
        sel.register(a.s, selectors.EVENT_READ, (want_a, rb))
        sel.register(b.s, selectors.EVENT_READ, (want_b, ra))
        i, idle_until = 0, None
        while True:
            if i < n:
                send_a(i)
                send_b(i)
                i += 1
                if i == n:
                    idle_until = time.monotonic() + 1
            for key, _ in sel.select(0.002 if i < n else 0.2):
                got += count(key.fileobj, *key.data, key.fileobj.recv(2048))
            if i == n and time.monotonic() > idle_until:
                sel.close()
                return got

    def send_ind(t, peer, i):
        tid = os.urandom(12)
        body = attr(0x0012, xor_addr(peer[0], peer[1], tid)) + attr(0x0013, b"hp-%d" % i)
        t.s.sendto(struct.pack("!HHI", 0x0016, len(body), COOKIE) + tid + body, t.server)

    def send_chan(t, chan, i):
        d = b"hp-%d" % i
        t.s.sendto(struct.pack("!HH", chan, len(d)) + d, t.server)

    print("indications", 2 * n, exchange(lambda i: send_ind(a, rb, i), lambda i: send_ind(b, ra, i),
                                         None, None))
    print("bind-a", code_of(a, 0x0009, lambda tid: attr(0x000C, b"\x40\x01\0\0") + attr(0x0012, xor_addr(rb[0], rb[1], tid))))
    print("bind-b", code_of(b, 0x0009, lambda tid: attr(0x000C, b"\x40\x02\0\0") + attr(0x0012, xor_addr(ra[0], ra[1], tid))))
    print("channels", 2 * n, exchange(lambda i: send_chan(a, 0x4001, i), lambda i: send_chan(b, 0x4002, i),
                                      0x4001, 0x4002))
    if go_file:
        print("holding", flush=True)
        for _ in range(600):
            if os.path.exists(go_file):
                break
            time.sleep(0.1)
    for s in (a.s, b.s):
        s.settimeout(2)
    # released: the other's hairpin channel leaves XDP with it
    print("release-a", code_of(a, 0x0004, lambda tid: attr(0x000D, b"\0\0\0\0")))
    print("release-b", code_of(b, 0x0004, lambda tid: attr(0x000D, b"\0\0\0\0")))


def tcp_limits(server, n):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    conns = []
    for _ in range(n):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.settimeout(2)
        try:
            c.connect((server, 3478))
            conns.append(c)
        except OSError:
            pass
    time.sleep(1)
    still = 0
    for c in conns:
        c.setblocking(False)
        try:
            still += c.recv(1) != b""  # data: none is owed; b"": closed
        except BlockingIOError:
            still += 1                 # nothing to read, still open
        except OSError:
            pass
    print("open", still)
    for c in conns:
        c.close()
    g = socket.create_connection((server, 3478), timeout=2)
    g.sendall(b"\xff" * 64)
    try:
        print("garbage", "closed" if g.recv(1) == b"" else "open")
    except (socket.timeout, OSError) as e:
        print("garbage", "closed" if not isinstance(e, socket.timeout) else "open")
    b = socket.create_connection((server, 3478), timeout=2)
    tid = os.urandom(12)
    b.sendall(struct.pack("!HHI", 0x0001, 0, COOKIE) + tid)
    r = b.recv(2048)
    print("binding", "OK" if len(r) >= 20 and r[:2] == b"\x01\x01" and r[8:20] == tid else "-")


def main():
    server, secret, cmd = sys.argv[1:4]
    t = Turn(server, secret)
    if cmd == "check-peers":
        check_peers(t, sys.argv[4:])
    elif cmd == "tcp-limits":
        tcp_limits(server, int(sys.argv[4]))
    elif cmd == "hairpin":
        hairpin(server, secret, int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None)
    elif cmd == "padding":
        padding(t)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
