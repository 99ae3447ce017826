#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small nattrav client in Python for the hardening tests: the TLS line
protocol and the UDP control messages of docs/protocol.md, built byte by
byte so a test can capture, replay, forge and flood them.

  ntproto.py replay  --server IP --ca FILE --token T   ANSWER replayed from the
                     same and another socket, before and after success
  ntproto.py amp     --server IP --ca FILE --tokens T1,T2,...  padded and
                     unpadded probes from many sockets: reply sizes and counts
  ntproto.py load    --server IP --ca FILE --secret-file F --count N --cycles C
                     N verified sessions at once, closed, C times
  ntproto.py probereplay --server IP --ca FILE --token T   PROBEs replayed from
                     another socket, after and before the original: the real
                     client still verifies
  ntproto.py flood   --server IP --ca FILE --token T --seconds S   forged,
                     unknown-session, malformed and replayed datagrams from
                     one socket: how many replies came back
Prints one JSON object; exit 0 when the run itself worked (the caller judges)."""
import argparse, base64, hashlib, hmac, json, os, select, socket, ssl, struct, sys, time, zlib

COOKIE = 0x2112A442
PROBE, CHALLENGE, ANSWER, KEEPALIVE = 0x02C1, 0x03C1, 0x02C2, 0x02D3
A_SID, A_CH, A_XOR, A_MI, A_FP, A_PAD = 0x4E01, 0x4E02, 0x0020, 0x001C, 0x8028, 0x8E05
A_SEQ = 0x4E04
PROBE_MIN = 144


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def build(typ, tid, attrs, key, fp=True):
    body = b"".join(attr(t, v) for t, v in attrs)
    hdr = lambda n: struct.pack("!HHI", typ, n, COOKIE) + tid
    mac = hmac.new(key, hdr(len(body) + 36) + body, hashlib.sha256).digest()
    body += attr(A_MI, mac)
    if fp:
        crc = (zlib.crc32(hdr(len(body) + 8) + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(A_FP, struct.pack("!I", crc))
    return hdr(len(body)) + body


def parse(b):
    typ, n, cookie = struct.unpack("!HHI", b[:8])
    out, off = {"type": typ, "tid": b[8:20]}, 20
    while off + 4 <= len(b):
        t, l = struct.unpack("!HH", b[off:off + 4])
        out[t] = b[off + 4:off + 4 + l]
        off += 4 + l + (-l % 4)
    return out


def xor_v4(ip, port):
    a = struct.unpack("!I", socket.inet_aton(ip))[0] ^ COOKIE
    return struct.pack("!BBHI", 0, 1, port ^ 0x2112, a)


def unxor_v4(v):
    _, fam, port, a = struct.unpack("!BBHI", v[:8])
    return socket.inet_ntoa(struct.pack("!I", a ^ COOKIE)), port ^ 0x2112


class Session:
    def __init__(self, server, ca, token, group="sec", port=4433, cert=None):
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(*cert)
        raw = socket.create_connection((server, port), timeout=5)
        self.tls = ctx.wrap_socket(raw, server_hostname=server)
        self.buf, self.events = b"", []
        self.cmd("HELLO nattrav/1")
        r = self.cmd("AUTH " + token)
        if not r.startswith("OK"):
            raise RuntimeError(r)
        r = self.cmd("JOIN " + group)
        if not r.startswith("OK"):
            raise RuntimeError(r)
        f = dict(kv.split("=", 1) for kv in r.split()[2:] if "=" in kv)
        self.sid, self.key = int(f["session"], 16), bytes.fromhex(f["key"])
        self.pseq = 0  # NT-SEQUENCE of our PROBEs: new and higher for each
        h, p = f["media"].rsplit(":", 1)
        self.media = (h.strip("[]"), int(p))

    def line(self, timeout=5):
        end = time.time() + timeout
        while b"\n" not in self.buf:
            self.tls.settimeout(max(0.01, end - time.time()))
            try:
                d = self.tls.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                return None
            if not d:
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode().rstrip("\r")

    def cmd(self, c):
        self.tls.sendall((c + "\n").encode())
        while True:
            l = self.line()
            if l is None or not l.startswith("EVT"):
                return l or ""
            self.events.append(l)

    def wait_event(self, name, timeout):
        end = time.time() + timeout
        for e in self.events:
            if e.startswith("EVT " + name):
                self.events.remove(e)
                return e
        while time.time() < end:
            l = self.line(end - time.time())
            if l is None:
                continue
            if l.startswith("EVT " + name):
                return l
            self.events.append(l)
        return None

    def probe(self, sock, pad=True, send=True):
        tid = os.urandom(12)
        self.pseq += 1
        attrs = [(A_SID, struct.pack("!Q", self.sid)), (A_SEQ, struct.pack("!Q", self.pseq))]
        msg = build(PROBE, tid, attrs, self.key)
        if pad and len(msg) < PROBE_MIN:
            attrs.append((A_PAD, b"\0" * (PROBE_MIN - len(msg) - 4)))
            msg = build(PROBE, tid, attrs, self.key)
        if send:
            sock.sendto(msg, self.media)
        return msg

    def answer_for(self, ch):
        ip, port = unxor_v4(ch[A_XOR])
        tid = os.urandom(12)
        return build(ANSWER, tid, [(A_SID, struct.pack("!Q", self.sid)), (A_CH, ch[A_CH]),
                                   (A_XOR, xor_v4(ip, port))],
                     self.key)

    def verify(self, sock, timeout=3):
        self.probe(sock)
        ch = recv_msg(sock, timeout)
        if not ch or ch["type"] != CHALLENGE:
            return None
        ans = self.answer_for(ch)
        sock.sendto(ans, self.media)
        return ans

    def close(self):
        # QUIT, as a client does that means to end: a connection that just
        # drops leaves its session waiting for a RESUME (docs/protocol.md)
        try:
            self.tls.settimeout(1)
            self.tls.sendall(b"QUIT\n")
            self.line(1)
        except (OSError, ValueError):
            pass
        try:
            self.tls.close()
        except OSError:
            pass


def recv_msg(sock, timeout):
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return None
    d, _ = sock.recvfrom(2048)
    m = parse(d)
    m["len"] = len(d)
    return m


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    return s


def cmd_replay(a):
    s = Session(a.server, a.ca, a.token, "replay")
    good, other = udp(), udp()
    res = {}
    s.probe(good)
    ch = recv_msg(good, 3)
    res["challenge"] = bool(ch and ch["type"] == CHALLENGE)
    ans = s.answer_for(ch)
    other.sendto(ans, s.media)  # before success, from another port
    res["before_other_verified"] = s.wait_event("VERIFIED", 1.5) is not None
    good.sendto(ans, s.media)
    ev = s.wait_event("VERIFIED", 3)
    res["verified"] = ev is not None
    res["mapping"] = ev.split("mapping=")[1].split()[0] if ev else None
    for who, sock in (("same", good), ("other", other)):  # after success
        sock.sendto(ans, s.media)
        res["after_%s_verified" % who] = s.wait_event("VERIFIED", 1.5) is not None
        r = recv_msg(sock, 0.5)
        res["after_%s_reply" % who] = r["len"] if r else 0
    res["replay_len"] = len(ans)
    st = s.cmd("STATUS")
    res["status_mapping"] = st.split("mapping=")[1].split()[0] if "mapping=" in st else None
    s.close()
    print(json.dumps(res))


def cmd_amp(a):
    sessions = [Session(a.server, a.ca, t, "amp") for t in a.tokens.split(",")]
    socks = [udp() for _ in range(len(sessions) * 10)]
    res = {"sent": 0, "bytes_in": 0, "replies": 0, "bytes_out": 0, "max_ratio": 0.0,
           "unpadded_replies": 0}
    # unpadded probes first: nothing may come back
    for s in sessions:
        s.probe(socks[0], pad=False)
    while recv_msg(socks[0], 0.5):
        res["unpadded_replies"] += 1
    time.sleep(1.1)  # fresh rate window
    sizes = {}
    for i, sock in enumerate(socks):
        s = sessions[i % len(sessions)]
        sizes[i] = len(s.probe(sock))
        res["sent"] += 1
        res["bytes_in"] += sizes[i]
    for i, sock in enumerate(socks):
        while True:
            m = recv_msg(sock, 0.3)
            if not m:
                break
            res["replies"] += 1
            res["bytes_out"] += m["len"]
            res["max_ratio"] = max(res["max_ratio"], m["len"] / sizes[i])
    for s in sessions:
        s.close()
    print(json.dumps(res))


def drain(sock, timeout):
    """Datagrams that arrive on sock within timeout: how many."""
    n = 0
    while recv_msg(sock, timeout):
        n += 1
    return n


def cmd_probereplay(a):
    s = Session(a.server, a.ca, a.token, "probereplay")
    good, other = udp(), udp()
    res = {}
    # two probes; the first challenge stays unanswered, the second is the real one
    old = s.probe(good)
    res["old_challenge"] = bool(recv_msg(good, 3))
    cur = s.probe(good)
    ch = recv_msg(good, 3)
    res["challenge"] = bool(ch and ch["type"] == CHALLENGE)
    # an attacker on the path sends both again from its own socket
    other.sendto(cur, s.media)
    other.sendto(old, s.media)
    res["replay_replies"] = drain(other, 1.0)
    good.sendto(s.answer_for(ch), s.media)
    ev = s.wait_event("VERIFIED", 3)
    res["verified"] = ev is not None
    res["mapping"] = ev.split("mapping=")[1].split()[0] if ev else None
    # after success: the answered probe replayed from anywhere gets nothing
    other.sendto(cur, s.media)
    good.sendto(cur, s.media)
    res["after_replies"] = drain(other, 0.5) + drain(good, 0.5)
    # a copy that wins the race to the server takes that probe only
    first = s.probe(good, send=False)
    other.sendto(first, s.media)
    time.sleep(0.05)
    good.sendto(first, s.media)
    res["race_copy_replies"] = drain(other, 1.0)
    res["race_original_replies"] = drain(good, 1.0)
    s.probe(good)  # the client's next probe, as it retransmits
    ch = recv_msg(good, 3)
    if ch and ch["type"] == CHALLENGE:
        good.sendto(s.answer_for(ch), s.media)
    res["reverified"] = s.wait_event("VERIFIED", 3) is not None
    st = s.cmd("STATUS")
    res["status_mapping"] = st.split("mapping=")[1].split()[0] if "mapping=" in st else None
    s.close()
    print(json.dumps(res))


def cmd_flood(a):
    s = Session(a.server, a.ca, a.token, "flood")
    sock = udp()
    ans = s.verify(sock)  # verified, then its ANSWER is stale: replays get a signed 438
    s.wait_event("VERIFIED", 3)
    # replies: nattrav's own (bounded per session); binding: standard STUN
    # Binding answers (RFC 8489, bounded by the per-address reply rate)
    res = {"sent": 0, "replies": 0, "binding_replies": 0, "stale_sent": 0}
    forged_key = os.urandom(32)
    sid = struct.pack("!Q", s.sid)
    end = time.time() + a.seconds
    t0 = time.time()
    while time.time() < end:
        for msg in (
            build(PROBE, os.urandom(12), [(A_SID, sid), (A_SEQ, struct.pack("!Q", 1 << 40)),
                                          (A_PAD, b"\0" * 52)], forged_key),  # bad MAC
            build(KEEPALIVE, os.urandom(12), [(A_SID, struct.pack("!Q", s.sid ^ 1)),
                                              (A_SEQ, struct.pack("!Q", 1))], forged_key),
            os.urandom(12) + b"\0" * 8,  # junk: media to the relay, never a reply
            b"\x00\x01\x00\x00" + struct.pack("!I", COOKIE) + os.urandom(12),  # STUN Binding
            # a PROBE whose length field claims more than it holds: malformed
            b"\x02\xc1\x00\x08" + struct.pack("!I", COOKIE) + os.urandom(12),
            ans,  # an authentic ANSWER, replayed
        ):
            sock.sendto(msg, s.media)
            res["sent"] += 1
        res["stale_sent"] += 1
        while True:
            r, _, _ = select.select([sock], [], [], 0)
            if not r:
                break
            data, _ = sock.recvfrom(2048)
            res["binding_replies" if data[:2] == b"\x01\x01" else "replies"] += 1
        time.sleep(0.002)
    while True:
        r, _, _ = select.select([sock], [], [], 1.0)
        if not r:
            break
        data, _ = sock.recvfrom(2048)
        res["binding_replies" if data[:2] == b"\x01\x01" else "replies"] += 1
    res["secs"] = round(time.time() - t0, 2)
    s.close()
    print(json.dumps(res))


def token(secret, user, ttl=600, groups=("*",)):
    """A v2 token (docs/protocol.md section 1) for user and groups."""
    msg = "v2:%d:%s:%s" % (int(time.time()) + ttl, user, ",".join(groups))
    mac = hmac.new(secret, msg.encode(), hashlib.sha256).digest()
    return "%s:%s" % (msg, base64.b64encode(mac).decode())


def cmd_load(a):
    secret = open(a.secret_file, "rb").read().rstrip(b"\n")
    out = {"cycles": []}
    for c in range(a.cycles):
        live, ok = [], 0
        t0 = time.time()
        for i in range(a.count):
            s = Session(a.server, a.ca, token(secret, "u%d" % i), "load%d" % (i % 64))
            u = udp()
            if s.verify(u):
                ok += s.wait_event("VERIFIED", 3) is not None
            live.append((s, u))
        for s, u in live:
            s.close()
            u.close()
        out["cycles"].append({"verified": ok, "secs": round(time.time() - t0, 2)})
        if a.between:
            os.system(a.between)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["replay", "amp", "load", "probereplay", "flood"])
    p.add_argument("--server", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--token")
    p.add_argument("--tokens")
    p.add_argument("--secret-file")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--cycles", type=int, default=1)
    p.add_argument("--between", help="shell command run after each cycle")
    p.add_argument("--seconds", type=float, default=3)
    a = p.parse_args()
    {"replay": cmd_replay, "amp": cmd_amp, "load": cmd_load, "probereplay": cmd_probereplay,
     "flood": cmd_flood}[a.mode](a)


if __name__ == "__main__":
    main()
