# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python binding of libnattrav-client (ctypes; nothing to compile).

    from nattrav_client import Client
    with Client("relay.example.org", ca_file="ca.pem", token=tok, group="room1") as c:
        c.verify()
        c.send(b"any datagram")            # RTP, DTLS, QUIC, your own framing
        for kind, item in c.poll(100):     # ("media", bytes) or ("event", Event)
            ...

Media is any datagram but nattrav's control framing (20 bytes or more, first
two bits 00, STUN magic cookie at bytes 4..7). Errors raise NattravError with
the library's message and errno. One Client is used by one thread at a time.

The library is found as $NATTRAV_CLIENT_LIB when set, else by the dynamic
linker's search ("libnattrav-client.so.1": LD_LIBRARY_PATH, ld.so.conf).
"""
import ctypes
import ctypes.util
import errno
import os

__all__ = ["Client", "Event", "NattravError", "load"]

ADDRSTRLEN = 56
KEY_LEN = 32

EV_VERIFIED, EV_EXPIRED, EV_DENIED, EV_BYE, EV_CLOSED, EV_UDP_ERROR, EV_OTHER, \
    EV_RECONNECTED = range(1, 9)
MSG_TRUNC = 1


class _Opts(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t),
                ("server", ctypes.c_char_p), ("ca_file", ctypes.c_char_p),
                ("cert_file", ctypes.c_char_p), ("key_file", ctypes.c_char_p),
                ("token", ctypes.c_char_p), ("group", ctypes.c_char_p),
                ("bind", ctypes.c_char_p), ("timeout_ms", ctypes.c_int),
                ("no_reconnect", ctypes.c_bool)]


class _Event(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("name", ctypes.c_char * 16),
                ("mapping", ctypes.c_char * ADDRSTRLEN), ("reason", ctypes.c_char * 128),
                ("code", ctypes.c_int), ("line", ctypes.c_char * 520)]


class _Msg(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("len", ctypes.c_size_t), ("flags", ctypes.c_uint32)]


_MEDIA_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_EVENT_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_Event))


class _Callbacks(ctypes.Structure):
    _fields_ = [("media", _MEDIA_CB), ("event", _EVENT_CB)]


class NattravError(OSError):
    """A call failed: errno and the library's one-line reason."""


class Event:
    """An event from the relay: kind (EV_*), name, mapping, reason, code, line."""

    def __init__(self, ev):
        self.kind = ev.kind
        self.name = ev.name.decode(errors="replace")
        self.mapping = ev.mapping.decode(errors="replace")
        self.reason = ev.reason.decode(errors="replace")
        self.code = ev.code
        self.line = ev.line.decode(errors="replace")

    def __repr__(self):
        return "Event(kind=%d, name=%r, mapping=%r, reason=%r)" % (
            self.kind, self.name, self.mapping, self.reason)


_lib = None


def load(path=None):
    """The library (loaded once): path, $NATTRAV_CLIENT_LIB, or the linker's search."""
    global _lib
    if _lib is not None:
        return _lib
    path = path or os.environ.get("NATTRAV_CLIENT_LIB") or "libnattrav-client.so.1"
    lib = ctypes.CDLL(path, use_errno=True)
    P = ctypes.c_void_p
    sigs = {
        "nt_client_open": (ctypes.c_int, [ctypes.POINTER(_Opts), ctypes.POINTER(P)]),
        "nt_client_verify": (ctypes.c_int, [P, ctypes.c_int]),
        "nt_client_poll": (ctypes.c_int, [P, ctypes.c_int, ctypes.POINTER(_Callbacks), P]),
        "nt_client_send_media": (ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_size_t]),
        "nt_client_send_media_batch": (ctypes.c_int, [P, ctypes.POINTER(_Msg), ctypes.c_uint]),
        "nt_client_recv_media_batch": (ctypes.c_int, [P, ctypes.POINTER(_Msg), ctypes.c_uint]),
        "nt_client_leave": (ctypes.c_int, [P]),
        "nt_client_close": (None, [P]),
        "nt_client_udp_fd": (ctypes.c_int, [P]),
        "nt_client_tls_fd": (ctypes.c_int, [P]),
        "nt_client_mapping": (ctypes.c_char_p, [P]),
        "nt_client_user": (ctypes.c_char_p, [P]),
        "nt_client_error": (ctypes.c_char_p, [P]),
        "nt_client_err_code": (ctypes.c_int, [P]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    _lib = lib
    return lib


def _b(s):
    return s.encode() if isinstance(s, str) else s


class Client:
    """One client of a nattrav relay: TLS control channel, group, UDP media."""

    def __init__(self, server, ca_file, token, group, cert_file=None, key_file=None,
                 bind=None, timeout_ms=0, no_reconnect=False, lib=None):
        self._lib = load(lib)
        # kept referenced: the struct holds pointers into these bytes
        self._strs = [_b(x) for x in (server, ca_file, cert_file, key_file, token, group, bind)]
        o = _Opts(ctypes.sizeof(_Opts), *self._strs, timeout_ms, no_reconnect)
        self._c = ctypes.c_void_p()
        err = self._lib.nt_client_open(ctypes.byref(o), ctypes.byref(self._c))
        if err:
            msg = self.error() if self._c else os.strerror(-err)
            self.close()
            raise NattravError(-err, msg)
        self._pending = []
        self._cb = _Callbacks(_MEDIA_CB(self._on_media), _EVENT_CB(self._on_event))

    def _on_media(self, arg, buf, n):
        self._pending.append(("media", ctypes.string_at(buf, n)))

    def _on_event(self, arg, ev):
        self._pending.append(("event", Event(ev.contents)))

    def _check(self, err):
        if err < 0:
            raise NattravError(-err, self.error() or os.strerror(-err))
        return err

    def verify(self, timeout_ms=10000):
        """Prove the UDP mapping; returns it ("addr:port")."""
        self._check(self._lib.nt_client_verify(self._c, timeout_ms))
        return self.mapping()

    def poll(self, timeout_ms=100):
        """One round (keepalives, media, events): a list of ("media", bytes) and
        ("event", Event). Raises NattravError(ECONNRESET) once the relay is gone."""
        self._pending = []
        err = self._lib.nt_client_poll(self._c, timeout_ms, ctypes.byref(self._cb), None)
        out, self._pending = self._pending, []
        if err == -errno.ECONNRESET and out:
            return out
        self._check(err)
        return out

    def send(self, data):
        """Send one media datagram to the relay."""
        data = bytes(data)
        self._check(self._lib.nt_client_send_media(self._c, data, len(data)))

    def send_batch(self, datagrams):
        """Send several datagrams in one system call; returns how many went."""
        bufs = [bytes(d) for d in datagrams]
        msgs = (_Msg * len(bufs))()
        keep = [ctypes.create_string_buffer(b, len(b)) for b in bufs]
        for m, k, b in zip(msgs, keep, bufs):
            m.buf, m.len = ctypes.cast(k, ctypes.c_void_p), len(b)
        return self._check(self._lib.nt_client_send_media_batch(self._c, msgs, len(bufs)))

    def recv_batch(self, n=32, size=2048):
        """Media datagrams waiting now (up to n, each cut to size bytes), no wait."""
        bufs = [ctypes.create_string_buffer(size) for _ in range(n)]
        msgs = (_Msg * n)()
        for m, b in zip(msgs, bufs):
            m.buf, m.len = ctypes.cast(b, ctypes.c_void_p), size
        got = self._check(self._lib.nt_client_recv_media_batch(self._c, msgs, n))
        return [bufs[i].raw[:msgs[i].len] for i in range(got)]

    def leave(self):
        self._check(self._lib.nt_client_leave(self._c))

    def close(self):
        if getattr(self, "_c", None):
            self._lib.nt_client_close(self._c)
            self._c = None

    def udp_fd(self):
        return self._lib.nt_client_udp_fd(self._c)

    def tls_fd(self):
        return self._lib.nt_client_tls_fd(self._c)

    def mapping(self):
        return self._lib.nt_client_mapping(self._c).decode()

    def user(self):
        return self._lib.nt_client_user(self._c).decode()

    def error(self):
        return self._lib.nt_client_error(self._c).decode(errors="replace")

    def err_code(self):
        return self._lib.nt_client_err_code(self._c)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
