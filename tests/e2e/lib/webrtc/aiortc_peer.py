#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One aiortc peer of the WebRTC test (tests/e2e/webrtc.sh): the same
signaling, TURN server and data channel exchange as page.html, from a
second, independent WebRTC stack (aiortc, aioice).

usage: aiortc_peer.py URL ROOM offer|answer [--timeout SECS]

URL is the signaling server (http://IP:PORT). Prints the result JSON that
it also posts to /box/ROOM/result-ROLE; exit status 0 when all N messages
came through a relay/relay pair. Run it with Debian's /usr/bin/python3
(python3-aiortc).
"""
import argparse
import asyncio
import json
import logging
import sys
import time
import urllib.error
import urllib.request

import aioice
import aiortc.rtcicetransport as ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

log = logging.getLogger("peer")

# aiortc 1.4 has no iceTransportPolicy; aioice 0.8 has one but aiortc
# does not pass it on. Pass it here, so that no host candidate is gathered.
_kwargs = ice.connection_kwargs


def _relay_only(servers):
    kw = _kwargs(servers)
    kw["transport_policy"] = aioice.TransportPolicy.RELAY
    return kw


ice.connection_kwargs = _relay_only


def relay_only_sdp(sdp):
    """The description with only relay candidates (and the number dropped).

    With the transport policy above there is nothing to drop; this holds
    even without it. The other side then knows only our relayed address,
    so its allocation permits only the relay (TURN permissions are per
    IP): a check from any non-relay candidate of ours reaches its relayed
    address from our NAT's address and is dropped by the TURN server, and
    its checks go to our relayed address only. A pair that succeeds has a
    relay candidate on both ends.
    """
    out, dropped = [], 0
    for line in sdp.splitlines():
        if line.startswith("a=candidate:") and " typ relay" not in line:
            dropped += 1
            continue
        out.append(line)
    return "\r\n".join(out) + "\r\n", dropped


class Box:
    def __init__(self, url, room):
        self.url, self.room = url.rstrip("/"), room

    def _req(self, path, body=None):
        req = urllib.request.Request(self.url + path, data=body, method="POST" if body is not None else "GET")
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read()

    async def get(self, path):
        return await asyncio.get_running_loop().run_in_executor(None, self._req, path)

    async def post(self, key, obj):
        body = obj.encode() if isinstance(obj, str) else json.dumps(obj).encode()
        await asyncio.get_running_loop().run_in_executor(None, self._req, f"/box/{self.room}/{key}", body)

    async def poll(self, key, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            try:
                return json.loads(await self.get(f"/box/{self.room}/{key}"))
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise
            await asyncio.sleep(0.1)
        raise TimeoutError(f"no {key} from the other side after {secs} s")


def selected_pair(pc):
    """The nominated pair of the (bundled) transport, as getStats says it."""
    sctp = pc.sctp
    if sctp is None:
        return {"error": "no SCTP transport"}
    conn = sctp.transport.transport._connection
    pair = conn._nominated.get(1)
    if pair is None:
        return {"error": "no nominated candidate pair"}
    lc, rc = pair.local_candidate, pair.remote_candidate
    return {"local_type": lc.type, "local_address": lc.host, "local_port": lc.port,
            "remote_type": rc.type, "remote_address": rc.host, "remote_port": rc.port}


async def run(a, box):
    role = a.role
    other = "answer" if role == "offer" else "offer"
    cfg = json.loads(await box.get(f"/config?user=aiortc-{role}"))
    n, size = cfg["n"], cfg["size"]

    def msg(r, i):
        return f"{r} {i} ".ljust(size, ".")
    servers = [RTCIceServer(urls=s["urls"], username=s["username"], credential=s["credential"])
               for s in cfg["iceServers"]]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
    st = {"role": role, "n": n, "sent": 0, "received": 0, "bad": 0, "dropped_candidates": 0}
    done = asyncio.get_running_loop().create_future()

    async def say(msg):
        line = f"{time.monotonic():.3f} aiortc {role}: {msg}"
        print(line, file=sys.stderr, flush=True)
        try:
            await box.post(f"log-{role}", line)
        except Exception:
            pass

    @pc.on("iceconnectionstatechange")
    async def _ice():
        await say(f"ice {pc.iceConnectionState}")
        if pc.iceConnectionState == "failed" and not done.done():
            done.set_exception(ConnectionError("ICE failed"))

    def channel(dc):
        @dc.on("open")
        def _open():
            if st["sent"]:
                return
            asyncio.ensure_future(say("data channel open"))
            for i in range(n):
                dc.send(msg(role, i))
                st["sent"] += 1
            if st["received"] == n and not done.done():
                done.set_result(None)

        @dc.on("message")
        def _msg(m):
            if m == msg(other, st["received"]):
                st["received"] += 1
            else:
                st["bad"] += 1
            if st["received"] == n and st["sent"] == n and not done.done():
                done.set_result(None)

        # the answerer's channel is open before its handlers are set
        if dc.readyState == "open":
            _open()

    async def describe(desc):
        sdp, dropped = relay_only_sdp(desc.sdp)
        st["dropped_candidates"] += dropped
        types = [l.split(" typ ")[1].split()[0] for l in sdp.splitlines() if l.startswith("a=candidate:")]
        await say(f"{desc.type} candidates: {' '.join(types) or 'none'} ({dropped} non-relay dropped)")
        await box.post(desc.type, {"type": desc.type, "sdp": sdp})

    try:
        if role == "offer":
            channel(pc.createDataChannel("nt", ordered=True))
            await pc.setLocalDescription(await pc.createOffer())  # gathers: no trickle
            await describe(pc.localDescription)
            ans = await box.poll("answer", 60)
            await pc.setRemoteDescription(RTCSessionDescription(ans["sdp"], ans["type"]))
        else:
            pc.on("datachannel", channel)
            off = await box.poll("offer", 60)
            await pc.setRemoteDescription(RTCSessionDescription(off["sdp"], off["type"]))
            await pc.setLocalDescription(await pc.createAnswer())
            await describe(pc.localDescription)
        await say("descriptions exchanged")
        await asyncio.wait_for(done, a.timeout)
        st["error"] = None
    except Exception as e:
        st["error"] = f"{type(e).__name__}: {e}"
    st["pair"] = selected_pair(pc)
    await say("result " + json.dumps(st))
    await box.post(f"result-{role}", st)
    print(json.dumps(st), flush=True)
    # stay until the other side has everything too (its result posted)
    try:
        await box.poll(f"result-{other}", a.timeout)
    except Exception:
        pass
    await pc.close()
    p = st.get("pair", {})
    ok = st["error"] is None and st["received"] == n and p.get("local_type") == "relay" and p.get("remote_type") == "relay"
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("room")
    ap.add_argument("role", choices=["offer", "answer"])
    ap.add_argument("--timeout", type=float, default=60, help="seconds for the exchange (60)")
    ap.add_argument("--debug", action="store_true", help="aiortc and aioice debug logs on stderr")
    a = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if a.debug else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sys.exit(asyncio.run(run(a, Box(a.url, a.room))))


if __name__ == "__main__":
    main()
