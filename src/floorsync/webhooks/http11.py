"""A lean keep-alive HTTP/1.1 client for webhook POSTs, on the standard library's sockets.

Why not httpx: a delivery is one small POST to an address the SSRF guard has already checked,
and the worker spends most of its CPU on the request itself. Through httpx + httpcore + h11 a
request costs about 1 ms of CPU in some 2,000 Python calls (URL and header models, cookie
extraction, event objects), and httpcore's pool scans every connection it holds, polling each
idle one's socket, on every request and every response close, under one lock, so a worker with
16 requests in flight paid for all its connections on each of them (README, Webhook
benchmark). This client writes the request in one buffer, reads the answer with a small
parser and keeps idle connections in a LIFO list per destination: O(1) per request.

What it guarantees (webhooks/delivery.py builds on it):
- It connects to the address it is given (the one the SSRF guard pinned), never resolves.
- The `Host` header and, for https, TLS SNI and the certificate check use the host name.
- One deadline for the whole exchange: every connect, TLS handshake, write and read is bounded
  by the time left until it, so a receiver trickling bytes cannot stretch an attempt.
- Redirects are answers like any other (never followed); no proxy, no environment settings.
- At most `max_read` bytes of the body are read; a connection whose body was not read to its
  end (or whose framing is unclear, or that says `Connection: close`) is closed, not reused.
- TCP_NODELAY on every connection.
- A kept-alive connection that turns out to be closed by the receiver (readable while idle, or
  the request fails before any byte of an answer arrives) is replaced once by a new one.
"""

import contextlib
import select
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # the status line and headers of an answer, at most
RECV = 64 * 1024
IDLE_EXPIRY = 4.0  # s: under the 5 s keep-alive timeout common in receivers (Node, uvicorn)

Key = tuple[str, str, int, str]  # scheme, address, port, TLS server name


class WireTimeout(Exception):
    """The deadline of the exchange passed."""


class WireError(Exception):
    """The receiver's answer broke HTTP/1.1 (or the connection ended before one came)."""


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    body: bytes  # at most max_read bytes


@dataclass
class _Conn:
    sock: socket.socket
    key: Key
    idle_since: float = 0.0
    buffer: bytes = b""
    heard: bool = False  # a byte of an answer arrived in the exchange in progress

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise WireTimeout("deadline of the attempt passed")
    return left


class WebhookHttp:
    """One per worker process, shared by its sender threads."""

    def __init__(
        self,
        connect_timeout: float,
        *,
        max_idle_per_destination: int = 16,
        ssl_context: ssl.SSLContext | None = None,
        idle_expiry: float = IDLE_EXPIRY,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle_per_destination
        self.idle_expiry = idle_expiry
        self._ssl_context = ssl_context
        self._idle: dict[Key, deque[_Conn]] = {}
        self._lock = threading.Lock()
        self._last_prune = time.monotonic()
        self._closed = False

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # built on first https use: loading CAs costs ~20 ms
            import httpx  # the same trust store as the rest of floorsync's outbound HTTP

            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    # ------------------------------------------------------------ the exchange

    def post(
        self,
        *,
        scheme: str,
        address: str,
        port: int,
        host: str,
        head: bytes,
        body: bytes,
        deadline: float,
        max_read: int,
    ) -> Answer:
        """Send `head` (request line and headers, ending in a blank line) and `body` to
        address:port and read the answer. Raises WireTimeout, WireError, OSError (ssl.SSLError
        is one)."""
        key = (scheme, address, port, host if scheme == "https" else "")
        conn = self._take(key)
        if conn is not None:
            try:
                return self._exchange(conn, head, body, deadline, max_read)
            except _Stale:
                conn.close()  # the receiver closed it while idle: once more on a new one
        conn = self._connect(key, deadline)
        try:
            return self._exchange(conn, head, body, deadline, max_read)
        except _Stale as exc:
            raise WireError("the receiver closed the connection without answering") from exc

    def _exchange(
        self, conn: _Conn, head: bytes, body: bytes, deadline: float, max_read: int
    ) -> Answer:
        keep, conn.heard = False, False
        try:
            try:
                _send_all(conn.sock, head + body, deadline)
                status, headers, http10 = self._read_head(conn, deadline)
            except (ConnectionError, _Eof) as exc:
                if conn.heard:
                    raise
                raise _Stale() from exc
            data, keep = self._read_body(conn, status, headers, deadline, max_read)
            keep = keep and not http10  # HTTP/1.0 keeps nothing alive unless asked; we don't
            return Answer(status, headers.get("retry-after"), data)
        finally:
            if keep:
                self._give_back(conn)
            else:
                conn.close()

    def _read_head(self, conn: _Conn, deadline: float) -> tuple[int, dict[str, str], bool]:
        """The status, headers and HTTP/1.0-ness of the final answer (1xx interim answers are
        skipped)."""
        while True:
            end = conn.buffer.find(b"\r\n\r\n")
            while end < 0:
                if len(conn.buffer) > MAX_HEAD:
                    raise WireError("the answer's headers are too large")
                conn.buffer += _recv(conn, deadline, eof_ok=not conn.heard)
                end = conn.buffer.find(b"\r\n\r\n")
            raw, conn.buffer = conn.buffer[:end], conn.buffer[end + 4 :]
            status, headers, http10 = _parse_head(raw)
            if status >= 200:
                return status, headers, http10
            if status == 101:
                raise WireError("the receiver switched protocols")

    def _read_body(
        self,
        conn: _Conn,
        status: int,
        headers: dict[str, str],
        deadline: float,
        max_read: int,
    ) -> tuple[bytes, bool]:
        """The body (at most max_read bytes) and whether the connection can be reused."""
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        reusable = "close" not in tokens
        if status in (204, 304):
            return b"", reusable and not conn.buffer
        coding = headers.get("transfer-encoding")
        if coding is not None:
            if coding.lower().rsplit(",", 1)[-1].strip() != "chunked":
                return _until_close(conn, deadline, max_read), False
            data, complete = _chunked(conn, deadline, max_read)
            return data, reusable and complete and not conn.buffer
        length = headers.get("content-length")
        if length is None:
            return _until_close(conn, deadline, max_read), False
        try:
            size = int(length)
        except ValueError:
            raise WireError(f"bad Content-Length {length!r}") from None
        if size < 0:
            raise WireError(f"bad Content-Length {length!r}")
        want = min(size, max_read)
        while len(conn.buffer) < want:
            conn.buffer += _recv(conn, deadline)
        data, conn.buffer = conn.buffer[:want], conn.buffer[want:]
        return data, reusable and want == size and not conn.buffer

    # ------------------------------------------------------------ connections

    def _connect(self, key: Key, deadline: float) -> _Conn:
        scheme, address, port, server_name = key
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # the head and body go out in one write; NODELAY still keeps a TLS record split
            # (or a large body) from waiting for the receiver's delayed ACK (~40 ms)
            sock.settimeout(min(self.connect_timeout, _left(deadline)))
            try:
                sock.connect((address, port))
            except TimeoutError:
                raise WireTimeout("connect timed out") from None
            if scheme == "https":
                sock.settimeout(_left(deadline))  # CPython bounds the whole handshake by it
                try:
                    sock = self.ssl_context.wrap_socket(sock, server_hostname=server_name)
                except TimeoutError:
                    raise WireTimeout("TLS handshake timed out") from None
        except BaseException:
            sock.close()
            raise
        return _Conn(sock, key)

    def _take(self, key: Key) -> _Conn | None:
        """The most recently used idle connection to `key` that is still good, if any."""
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None:
                return None
            if now - conn.idle_since < self.idle_expiry and not _readable(conn.sock):
                return conn
            conn.close()  # expired, or closed (or talking) while idle

    def _give_back(self, conn: _Conn) -> None:
        now = time.monotonic()
        conn.idle_since = now
        expired: list[_Conn] = []
        with self._lock:
            if self._closed:
                expired.append(conn)
            else:
                idle = self._idle.setdefault(conn.key, deque())
                idle.append(conn)
                if len(idle) > self.max_idle:
                    expired.append(idle.popleft())
                if now - self._last_prune > 1.0:  # endpoints not used any more hold no sockets
                    self._last_prune = now
                    for k in list(self._idle):
                        q = self._idle[k]
                        while q and now - q[0].idle_since >= self.idle_expiry:
                            expired.append(q.popleft())
                        if not q:
                            del self._idle[k]
        for c in expired:
            c.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for q in self._idle.values() for c in q]
            self._idle.clear()
        for c in conns:
            c.close()


class _Stale(Exception):
    """A reused connection failed before any byte of an answer: the receiver had closed it."""


class _Eof(Exception):
    pass


def _readable(sock: socket.socket) -> bool:
    """An idle keep-alive connection that is readable was closed by the receiver (or has
    stray bytes): either way it can't carry another request."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():  # decrypted bytes nobody asked for
        return True
    try:
        poller = select.poll()  # not select(): file descriptors may be above 1024
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _send_all(sock: socket.socket, data: bytes, deadline: float) -> None:
    view, sent = memoryview(data), 0
    while sent < len(view):
        sock.settimeout(_left(deadline))
        try:
            sent += sock.send(view[sent:])
        except TimeoutError:
            raise WireTimeout("write timed out") from None


def _recv(conn: _Conn, deadline: float, *, eof_ok: bool = False) -> bytes:
    """The next bytes from the receiver; an early end of the stream is a WireError (or _Eof
    before any byte of an answer, `eof_ok`, which the caller treats as a stale connection)."""
    conn.sock.settimeout(_left(deadline))
    try:
        data = conn.sock.recv(RECV)
    except TimeoutError:
        raise WireTimeout("read timed out") from None
    if not data:
        if eof_ok:
            raise _Eof()
        raise WireError("the receiver closed the connection mid-answer")
    conn.heard = True
    return data


def _parse_head(raw: bytes) -> tuple[int, dict[str, str], bool]:
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3:
        raise WireError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
    try:
        status = int(parts[1])
    except ValueError:
        raise WireError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}") from None
    if not 100 <= status <= 599:
        raise WireError(f"status {status} out of range")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise WireError(f"malformed header line {line[:80]!r}")
        key = name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        if key in headers and key in ("content-length", "transfer-encoding"):
            if key == "content-length" and headers[key] != text:
                raise WireError("conflicting Content-Length headers")
            if key == "transfer-encoding":
                text = headers[key] + ", " + text
        headers[key] = text
    return status, headers, parts[0] == b"HTTP/1.0"


def _until_close(conn: _Conn, deadline: float, max_read: int) -> bytes:
    """A body framed by the end of the connection: read until it ends or max_read."""
    data = conn.buffer
    conn.buffer = b""
    while len(data) < max_read:
        try:
            data += _recv(conn, deadline, eof_ok=True)
        except _Eof:  # the end of the connection is the end of this body
            break
    return data[:max_read]


def _chunked(conn: _Conn, deadline: float, max_read: int) -> tuple[bytes, bool]:
    """A chunked body: its data (at most max_read bytes) and whether it was read to its end
    (the last chunk and the trailers), so the connection can carry another request."""
    out = bytearray()
    while True:
        line = _line(conn, deadline)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise WireError(f"bad chunk size line {line[:40]!r}") from None
        if size < 0:
            raise WireError(f"bad chunk size line {line[:40]!r}")
        if size == 0:
            while _line(conn, deadline):  # trailers, up to the blank line
                pass
            return bytes(out), True
        take = min(size, max_read - len(out))
        while len(conn.buffer) < take:
            conn.buffer += _recv(conn, deadline)
        out += conn.buffer[:take]
        conn.buffer = conn.buffer[take:]
        if len(out) >= max_read:
            return bytes(out), False
        rest = size - take + 2  # the chunk's remaining data (none here) and its CRLF
        while len(conn.buffer) < rest:
            conn.buffer += _recv(conn, deadline)
        if conn.buffer[rest - 2 : rest] != b"\r\n":
            raise WireError("a chunk does not end with CRLF")
        conn.buffer = conn.buffer[rest:]


def _line(conn: _Conn, deadline: float) -> bytes:
    while True:
        end = conn.buffer.find(b"\r\n")
        if end >= 0:
            line, conn.buffer = conn.buffer[:end], conn.buffer[end + 2 :]
            return line
        if len(conn.buffer) > MAX_HEAD:
            raise WireError("a chunk line is too long")
        conn.buffer += _recv(conn, deadline)
