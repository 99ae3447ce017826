#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""examples/echo.c in Python, over python/nattrav_client.py: join a group
through a relay, prove the UDP mapping, send every datagram back.

    NATTRAV_CLIENT_LIB=build/libnattrav-client.so.1 \\
        examples/echo.py relay.example.org ca.pem "$TOKEN" room1 60
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from nattrav_client import Client, NattravError  # noqa: E402


def main(argv):
    if len(argv) not in (5, 6):
        print("usage: %s SERVER CA_FILE TOKEN GROUP [SECONDS]" % argv[0], file=sys.stderr)
        return 2
    end = time.monotonic() + int(argv[5]) if len(argv) == 6 else None
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    echoed = failed = 0
    try:
        with Client(argv[1], ca_file=argv[2], token=argv[3], group=argv[4]) as c:
            print("verified", c.verify(10000), flush=True)
            while not stop and (end is None or time.monotonic() < end):
                for kind, item in c.poll(100):
                    if kind == "event":
                        print("event", item.name or "-", item.reason, flush=True)
                        continue
                    try:
                        c.send(item)
                        echoed += 1
                    except NattravError:
                        failed += 1
    except NattravError as e:
        print("echo: %s" % e.strerror, file=sys.stderr)
        return 1
    finally:
        print("echoed %d failed %d" % (echoed, failed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
