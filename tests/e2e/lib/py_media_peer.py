#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Through python/nattrav_client.py: join a group whose other member echoes
media (examples/echo.c), send datagrams of every kind one at a time and in a
batch, and report as JSON which came back byte for byte.

    py_media_peer.py --server ADDR --ca FILE --token TOKEN --group NAME
"""
import argparse
import json
import os
import select
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
import nattrav_client  # noqa: E402


def dtls_client_hello():
    """A DTLS 1.2 record carrying a ClientHello (RFC 6347 4.2.2), as a real stack sends it."""
    body = b"\xfe\xfd" + os.urandom(32)           # client_version, random
    body += b"\x00"                               # session_id
    body += b"\x00"                               # cookie (first flight)
    suites = [0xc02b, 0xc02f, 0xc00a, 0xc014]
    body += struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
    body += b"\x01\x00"                           # compression: null
    ext = struct.pack("!HH", 0x000e, 5) + b"\x00\x02\x00\x01\x00"   # use_srtp
    ext += struct.pack("!HH", 0x0017, 0)          # extended_master_secret
    body += struct.pack("!H", len(ext)) + ext
    hs = struct.pack("!B", 1) + struct.pack("!I", len(body))[1:]     # ClientHello, length
    hs += struct.pack("!H", 0) + b"\x00\x00\x00" + struct.pack("!I", len(body))[1:]
    hs += body
    # content type 22 (handshake), DTLS 1.0 record version, epoch 0, seq 0
    return struct.pack("!BHH", 22, 0xfeff, 0) + b"\x00" * 6 + struct.pack("!H", len(hs)) + hs


def payloads():
    p = {
        "dtls_client_hello": dtls_client_hello(),
        "dtls_app_data": struct.pack("!BHH", 23, 0xfefd, 1) + b"\x00\x00\x00\x00\x00\x07"
        + struct.pack("!H", 64) + os.urandom(64),
        "quic_initial": b"\xc3\x00\x00\x00\x01\x08" + os.urandom(8) + b"\x00" + os.urandom(1185),
        "own_framing_zero": b"\x00\x01\x00\x08" + b"\x21\x12\xa4\x43" + os.urandom(40),
        "stun_like_no_cookie": b"\x00\x01\x00\x00" + b"\x00" * 16,
        "one_byte": b"\xff",
        "rtp": b"\x80\x60\x00\x01" + os.urandom(160),
        "random_1400": os.urandom(1400),
    }
    for first in range(20, 64, 7):   # the whole DTLS range of RFC 7983
        p["first_byte_%d" % first] = bytes([first]) + os.urandom(99)
    return p


def wait_echo(c, want, secs):
    """True once a datagram equal to want came back within secs."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for kind, item in c.poll(100):
            if kind == "media" and item == want:
                return True
    return False


def main():
    ap = argparse.ArgumentParser()
    for a in ("--server", "--ca", "--token", "--group"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    out = {"verified": False, "sent": 0, "echoed_equal": 0, "missing": [],
           "batch_sent": 0, "batch_equal": 0}
    with nattrav_client.Client(args.server, ca_file=args.ca, token=args.token,
                               group=args.group) as c:
        out["mapping"] = c.verify(10000)
        out["verified"] = True
        # the relay has our mapping: the first echo may still race the peer's
        # view of the group, so each datagram gets a few tries
        for name, data in payloads().items():
            out["sent"] += 1
            for _ in range(5):
                c.send(data)
                if wait_echo(c, data, 1.0):
                    out["echoed_equal"] += 1
                    break
            else:
                out["missing"].append(name)
        batch = [bytes([20 + i % 44]) + struct.pack("!I", i) + os.urandom(200) for i in range(40)]
        out["batch_sent"] = c.send_batch(batch)
        got, end = [], time.monotonic() + 5
        while len(got) < len(batch) and time.monotonic() < end:
            select.select([c.udp_fd()], [], [], 0.2)
            got += c.recv_batch(64, 2048)
        want = set(batch)
        out["batch_equal"] = sum(1 for g in got if g in want)
        out["batch_received"] = len(got)
    print(json.dumps(out))
    return 0 if out["echoed_equal"] == out["sent"] else 1


if __name__ == "__main__":
    sys.exit(main())
