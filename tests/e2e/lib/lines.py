#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Speak the control channel's line protocol by hand: each argument is a
line to send and the reply (OK/ERR; EVT lines are skipped) is printed on a
line of its own. "@sleep S" waits S seconds; "@events" prints the EVT lines
seen so far (and those that arrive within 0.5 s); "@drop" ends the connection
without QUIT or close_notify, as a network failure would; "@reconnect" drops it
so and connects again offering the TLS session, printing "RECONNECTED
resumed" or "RECONNECTED full"; "@ping-until-closed S" sends PING
every S seconds until the relay closes the connection and prints
"CLOSED after T s" (T from the TLS connect); at the end "CLOSED" or "OPEN".
--tls12: TLS 1.2 at most. Exit 0 when the TLS connection came up."""
import argparse, socket, ssl, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=4433)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--tls12", action="store_true", help="TLS 1.2 at most")
    ap.add_argument("lines", nargs="*")
    a = ap.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    if a.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    t0 = time.time()
    tls = ctx.wrap_socket(socket.create_connection((a.server, a.port), timeout=5),
                          server_hostname=a.server)
    buf = b""
    closed = False
    events = []

    def reply(timeout=5):
        nonlocal buf, closed
        end = time.time() + timeout
        while True:
            while b"\n" in buf:
                l, buf = buf.split(b"\n", 1)
                l = l.decode(errors="replace").rstrip("\r")
                if not l.startswith("EVT"):
                    return l
                events.append(l)
            tls.settimeout(max(0.01, end - time.time()))
            try:
                d = tls.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                return None
            except (OSError, ssl.SSLError):
                d = b""
            if not d:
                closed = True
                return None
            buf += d

    for l in a.lines:
        if closed:
            break
        if l.startswith("@sleep "):
            time.sleep(float(l.split()[1]))
            continue
        if l == "@events":
            reply(0.5)
            for e in events:
                print(e, flush=True)
            events.clear()
            continue
        if l == "@drop":
            # RST: no QUIT, no close_notify
            tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            tls.close()
            print("DROPPED", flush=True)
            return 0
        if l == "@reconnect":
            reply(0.5)  # a TLS 1.3 ticket comes after the handshake
            sess = tls.session
            tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            tls.close()
            tls = ctx.wrap_socket(socket.create_connection((a.server, a.port), timeout=5),
                                  server_hostname=a.server, session=sess)
            buf, closed = b"", False
            print("RECONNECTED " + ("resumed" if tls.session_reused else "full"), flush=True)
            continue
        if l.startswith("@ping-until-closed "):
            every = float(l.split()[1])
            while not closed and time.time() - t0 < 120:
                try:
                    tls.sendall(b"PING\n")
                except (OSError, ssl.SSLError):
                    closed = True
                    break
                reply(every)
                if not closed:
                    time.sleep(max(0.0, every - 0.01))
            print("CLOSED after %.1f s" % (time.time() - t0), flush=True)
            continue
        try:
            tls.sendall((l + "\n").encode())
        except (OSError, ssl.SSLError):
            closed = True
            break
        r = reply()
        print(r if r is not None else "(no reply)", flush=True)
    print("CLOSED" if closed else "OPEN")
    return 0


if __name__ == "__main__":
    sys.exit(main())
