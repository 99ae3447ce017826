#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The WebRTC test's signaling server: a JSON mailbox over HTTP and the
page the browsers load. Standard library only.

usage: signaling.py --addr IP --port PORT --turn URL --secret-file FILE [--n N] [--size S]

  GET  /page.html              the test page (page.html beside this file)
  GET  /config?user=NAME       {"iceServers": [...], "n": N, "size": S}:
                               N messages of S bytes each way; the TURN URL
                               with REST credentials minted as an
                               application server does for coturn's
                               use-auth-secret (username "<expiry>:<user>",
                               password base64(HMAC-SHA1(secret, username)))
  POST /box/ROOM/KEY           store the body under ROOM/KEY; KEYs starting
                               with "log-" append a line instead
  GET  /box/ROOM/KEY           what is stored (404 while nothing is)

Bodies are bounded (256 KiB) and so is the mailbox (256 keys, 4096 log
lines a key), so a runaway page cannot fill the lab's memory.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MAX_BODY = 256 * 1024
MAX_KEYS = 256
MAX_LOG_LINES = 4096
NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

box = {}
lock = threading.Lock()


def credentials(secret, user, ttl=600):
    username = f"{int(time.time()) + ttl}:{user}"
    mac = hmac.new(secret, username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode()


class Handler(BaseHTTPRequestHandler):
    server_version = "nt-signal"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def reply(self, code, body=b"", ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def key(self, path):
        parts = path.split("/")
        if len(parts) != 4 or parts[1] != "box" or not NAME.match(parts[2]) or not NAME.match(parts[3]):
            return None
        return parts[2] + "/" + parts[3]

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/page.html":
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html"), "rb") as f:
                return self.reply(200, f.read(), "text/html; charset=utf-8")
        if url.path == "/config":
            user = parse_qs(url.query).get("user", ["webrtc"])[0]
            if not NAME.match(user):
                return self.reply(400, b'{"error":"bad user"}')
            transport = parse_qs(url.query).get("transport", ["udp"])[0]
            if transport not in ("udp", "tcp"):
                return self.reply(400, b'{"error":"transport is udp or tcp"}')
            username, password = credentials(self.server.secret, user)
            turn = self.server.turn.replace("transport=udp", "transport=" + transport)
            cfg = {"iceServers": [{"urls": [turn], "username": username,
                                   "credential": password}], "n": self.server.n,
                   "size": self.server.size}
            return self.reply(200, json.dumps(cfg).encode())
        k = self.key(url.path)
        if k is None:
            return self.reply(404, b'{"error":"no such path"}')
        with lock:
            v = box.get(k)
        if v is None:
            return self.reply(404, b'{"error":"nothing yet"}')
        if isinstance(v, list):
            return self.reply(200, "".join(l + "\n" for l in v).encode(), "text/plain; charset=utf-8")
        return self.reply(200, v)

    def do_POST(self):
        k = self.key(urlparse(self.path).path)
        if k is None:
            return self.reply(404, b'{"error":"no such path"}')
        try:
            n = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            return self.reply(413, b'{"error":"body missing or too large"}')
        body = self.rfile.read(n)
        with lock:
            if k not in box and len(box) >= MAX_KEYS:
                return self.reply(507, b'{"error":"mailbox full"}')
            if k.split("/")[1].startswith("log-"):
                lines = box.setdefault(k, [])
                if len(lines) < MAX_LOG_LINES:
                    lines.append(body.decode("utf-8", "replace").rstrip("\n"))
            else:
                try:
                    json.loads(body)
                except ValueError:
                    return self.reply(400, b'{"error":"not JSON"}')
                box[k] = body
        return self.reply(200, b"{}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--turn", required=True, help="TURN URL, e.g. turn:IP:3478?transport=udp")
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--n", type=int, default=200, help="messages each way")
    ap.add_argument("--size", type=int, default=1000, help="bytes a message (one SCTP packet each)")
    a = ap.parse_args()
    with open(a.secret_file, "rb") as f:
        secret = f.read().strip()
    srv = ThreadingHTTPServer((a.addr, a.port), Handler)
    srv.secret, srv.turn, srv.n, srv.size = secret, a.turn, a.n, a.size
    srv.daemon_threads = True
    print(f"signal: serving on {a.addr}:{a.port}", file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
