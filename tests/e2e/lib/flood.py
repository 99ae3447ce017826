#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A host that tries to hold every control slot of a relay without a token:
--plain N TCP connections that never speak, and --tls M TLS connections that
send HELLO and then PING every --ping seconds, each reopened as soon as the
relay closes it, for --duration seconds. Prints one JSON object with what it
managed: connects tried, accepted (TLS up), closed by the relay, and the
most connections it held open at once."""
import argparse, json, selectors, socket, ssl, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=4433)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--plain", type=int, default=1500)
    ap.add_argument("--tls", type=int, default=800)
    ap.add_argument("--ping", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=20.0)
    a = ap.parse_args()

    ctx = ssl.create_default_context(cafile=a.ca)
    sel = selectors.DefaultSelector()
    res = {"tried": 0, "tls_up": 0, "closed": 0, "held_max": 0, "pings": 0}
    conns = {}  # socket -> state dict

    def open_one(kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        res["tried"] += 1
        try:
            s.connect((a.server, a.port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            return
        st = {"kind": kind, "sock": s, "tls": None, "up": False, "next": 0.0, "connected": False}
        conns[s] = st
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, st)

    def drop(st):
        s = st["tls"] or st["sock"]
        try:
            sel.unregister(st["sock"])
        except (KeyError, ValueError):
            pass
        conns.pop(st["sock"], None)
        try:
            s.close()
        except OSError:
            pass
        res["closed"] += 1

    want = {"plain": a.plain, "tls": a.tls}
    have = {"plain": 0, "tls": 0}
    end = time.time() + a.duration
    while time.time() < end:
        have = {"plain": 0, "tls": 0}
        for st in conns.values():
            have[st["kind"]] += 1
        # reopen a bounded number per round, as a busy client host would
        for kind in ("plain", "tls"):
            for _ in range(min(200, want[kind] - have[kind])):
                open_one(kind)
        res["held_max"] = max(res["held_max"], len(conns))
        now = time.time()
        for key, ev in sel.select(timeout=0.05):
            st = key.data
            if st["sock"] not in conns:
                continue
            try:
                if not st["connected"]:
                    if st["sock"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        drop(st)
                        continue
                    st["connected"] = True
                    if st["kind"] == "plain":
                        sel.modify(st["sock"], selectors.EVENT_READ, st)
                        continue
                    st["tls"] = ctx.wrap_socket(st["sock"], server_hostname=a.server,
                                                do_handshake_on_connect=False)
                if st["kind"] == "plain":
                    if not st["sock"].recv(4096):
                        drop(st)
                    continue
                if not st["up"]:
                    st["tls"].do_handshake()
                    st["up"] = True
                    res["tls_up"] += 1
                    st["tls"].send(b"HELLO nattrav/1\n")
                    st["next"] = now + a.ping
                    sel.modify(st["sock"], selectors.EVENT_READ, st)
                    continue
                if not st["tls"].recv(4096):
                    drop(st)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue
            except (OSError, ssl.SSLError):
                drop(st)
        for st in list(conns.values()):
            if st["up"] and now >= st["next"]:
                try:
                    st["tls"].send(b"PING\n")
                    res["pings"] += 1
                except (OSError, ssl.SSLError):
                    drop(st)
                    continue
                st["next"] = now + a.ping
    for st in list(conns.values()):
        drop(st)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
