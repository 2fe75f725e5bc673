"""The one RESP client of the project's Python tools (standard library only).

    from resp import Resp, RespError
    r = Resp(6379)
    r("SET", "k", b"\\x00v")        # 'OK'; an error reply is returned as a RespError, never raised
    r.call("GET", "k")              # b'\\x00v'; call() raises ReplyError on an error reply
    r.pipeline([encode("PING")] * 100)

Replies: simple string -> str, error -> RespError (a str), integer -> int, bulk string -> bytes,
array -> list, null -> None; and, for RESP3 (after HELLO 3), map -> dict, set -> list,
double -> float, boolean -> bool, big number -> int, verbatim string -> bytes (without its
format prefix). Arguments may be bytes, str or int.

Used by tests/integration/lib.sh (py_check), payload.py, check_vectors_local.py,
bench/restore_bench.py (and bench/profile.py through it) and bench/migrate_bench.py.
"""

import socket

__all__ = ["Resp", "RespError", "ReplyError", "encode"]


class RespError(str):
    """An error reply, as its text (`ERR ...`). Returned, not raised, by Resp.__call__."""


class ReplyError(Exception):
    """Raised by Resp.call for an error reply."""


def _arg(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, (bytearray, memoryview)):
        return bytes(a)
    return str(a).encode()


def encode(*args):
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = _arg(a)
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)


class Resp:
    """A connection to one server. Not thread-safe; close() or use it in a `with` block."""

    def __init__(self, port, host="127.0.0.1", timeout=120):
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb", buffering=1 << 16)

    def close(self):
        self.f.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read(self):
        """The next reply."""
        line = self.f.readline()
        if not line:
            raise ConnectionError("connection closed by the server")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode(errors="replace")
        if t == b"-":
            return RespError(rest.decode(errors="replace"))
        if t in (b":", b"("):
            return int(rest)
        if t in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data[4:] if t == b"=" else data
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b"%":
            return {self._key(self.read()): self.read() for _ in range(int(rest))}
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"|":  # attributes precede the reply they describe: skip them
            for _ in range(2 * int(rest)):
                self.read()
            return self.read()
        raise ConnectionError("unexpected RESP reply %r" % line[:40])

    @staticmethod
    def _key(k):
        return tuple(k) if isinstance(k, list) else k

    def send(self, data):
        self.sock.sendall(data)

    def __call__(self, *args):
        """Sends one command and returns its reply (an error reply as a RespError)."""
        self.sock.sendall(encode(*args))
        return self.read()

    def call(self, *args):
        """Like calling the connection, but raises ReplyError on an error reply."""
        reply = self(*args)
        if isinstance(reply, RespError):
            raise ReplyError(reply)
        return reply

    def pipeline(self, requests, replies_per_request=None, batch_bytes=1 << 20):
        """Sends pre-encoded requests (see encode) in batches of about batch_bytes and returns
        every reply, errors as RespError. A request may hold several commands:
        replies_per_request[i] says how many replies request i gets (default 1 each)."""
        counts = replies_per_request or [1] * len(requests)
        replies, start, size = [], 0, 0
        for i, r in enumerate(requests):
            size += len(r)
            if size >= batch_bytes or i == len(requests) - 1:
                self.sock.sendall(b"".join(requests[start:i + 1]))
                replies.extend(self.read() for _ in range(sum(counts[start:i + 1])))
                start, size = i + 1, 0
        return replies
