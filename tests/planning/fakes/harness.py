"""The harness both fake planning servers share (spec §10.2): a threaded `http.server` on
127.0.0.1 (an ephemeral port), a log of every request, and fault injection. Standard library only.

    with FakeFrepple() as fake:
        fake.fault("status", status=503, headers={"Retry-After": "2"}, match=path_has("workorder"))
        …
        assert fake.requests[-1].query == {"format": ["json"], "reference": ["MO/1"]}

Faults are programmable per route (a `match` predicate on the recorded request) for the next
`times` requests:

| kind        | the server…                                                                        |
|-------------|------------------------------------------------------------------------------------|
| `delay`     | waits `delay` seconds, then answers normally (a slow response)                     |
| `status`    | answers `status` with `body`, `content_type` and `headers` (e.g. 503 + Retry-After)|
| `html`      | answers `status` (default 500) with a Django-style HTML error page                 |
| `empty`     | answers `status` (default 200) with an empty body and a JSON content type          |
| `malformed` | answers 200 with a JSON content type and a body that is not valid JSON             |
| `truncate`  | answers normally but announces 100 more bytes than it sends, then closes           |
| `reset`     | resets the connection (RST) without answering                                      |
| `redirect`  | answers `status` (default 302) with `Location: location`                           |

With `after=True` the request is applied first and only its answer is lost or spoiled (a write
that landed upstream while the client saw a failure); `truncate` always applies the request.
"""

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

DJANGO_500 = (
    b'<!DOCTYPE html>\n<html lang="en"><head><title>Server Error (500)</title></head>'
    b"<body><h1>Server Error (500)</h1><p></p></body></html>\n"
)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    raw_path: str  # path and query exactly as sent
    path: str  # decoded path
    raw_query: str
    query: dict[str, list[str]]  # decoded, in arrival order per key
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any = None
    label: str = ""  # what the fake understood: "GET manufacturingorder", "mrp.production.read"
    status: int = 0  # what it answered (0: no answer, e.g. a reset)

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status, body, "application/json", list(headers or []))


def text_reply(text: str, status: int, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode(), content_type)


@dataclass
class Fault:
    kind: str
    match: Callable[[Recorded], bool] | None = None
    times: int = 1
    after: bool = False
    status: int | None = None
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    location: str = ""


def path_has(text: str) -> Callable[[Recorded], bool]:
    return lambda r: text in r.path


def method_is(method: str) -> Callable[[Recorded], bool]:
    return lambda r: r.method == method


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes: with Nagle's algorithm and the client's delayed
        # ACK every keep-alive answer would stall ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        try:
            decoded_json = json.loads(body) if body else None
        except ValueError:
            decoded_json = None
        request = Recorded(
            method=self.command,
            raw_path=self.path,
            path=unquote(split.path),
            raw_query=split.query,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=decoded_json,
        )
        self.server.fake._serve(self, request)

    def send_reply(self, reply: Reply, *, announce_extra: int = 0) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body) + announce_extra))
        for name, value in reply.headers:
            self.send_header(name, value)
        if announce_extra:
            self.send_header("Connection", "close")
        self.end_headers()
        if announce_extra:
            self.wfile.write(reply.body[: max(1, len(reply.body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the connection was reset on purpose
            super().finish()

    def reset(self) -> None:
        self.close_connection = True
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: "FakeServer") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a timeout test) is not an error of the fake


class FakeServer:
    """Base of the fakes: subclasses implement `handle(request) -> Reply` (called under the
    state lock) and may set `request.label`."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself (answered 500)
        self.lock = threading.RLock()
        self._server = _Server(self)
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------------- the request log

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def labels(self) -> list[str]:
        with self.lock:
            return [r.label for r in self.requests]

    # ---------------------------------------------------------------------- fault injection

    def fault(
        self,
        kind: str,
        *,
        match: Callable[[Recorded], bool] | None = None,
        times: int = 1,
        after: bool = False,
        status: int | None = None,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        location: str = "",
    ) -> None:
        with self.lock:
            self.faults.append(
                Fault(
                    kind,
                    match,
                    times,
                    after,
                    status,
                    body,
                    content_type,
                    dict(headers or {}),
                    delay,
                    location,
                )
            )

    def _take_fault(self, request: Recorded) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and (fault.match is None or fault.match(request)):
                    fault.times -= 1
                    return fault
        return None

    # --------------------------------------------------------------------------- serving

    def handle(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def label(self, request: Recorded) -> str:
        """What the request is, before it is handled (faults can match on it)."""
        return f"{request.method} {request.path}"

    def _handle(self, request: Recorded) -> Reply:
        with self.lock:
            try:
                reply = self.handle(request)
            except Exception:
                self.errors.append(traceback.format_exc())
                reply = text_reply(self.errors[-1], 500)
            request.status = reply.status
            return reply

    def _serve(self, handler: _Handler, request: Recorded) -> None:
        request.label = self.label(request)
        with self.lock:
            self.requests.append(request)
        fault = self._take_fault(request)
        if fault is None:
            handler.send_reply(self._handle(request))
            return
        if fault.kind == "delay":
            time.sleep(fault.delay)
            handler.send_reply(self._handle(request))
            return
        if fault.after or fault.kind == "truncate":
            reply = self._handle(request)
            if fault.kind == "truncate":
                handler.send_reply(reply, announce_extra=100)
                return
        if fault.kind == "reset":
            request.status = 0
            handler.reset()
            return
        request.status = self._fault_reply(handler, fault)

    def _fault_reply(self, handler: _Handler, fault: Fault) -> int:
        if fault.kind == "status":
            status = fault.status or 500
            reply = Reply(status, fault.body, fault.content_type, list(fault.headers.items()))
        elif fault.kind == "html":
            status = fault.status or 500
            reply = Reply(status, fault.body or DJANGO_500, "text/html; charset=utf-8")
        elif fault.kind == "empty":
            reply = Reply(fault.status or 200, b"", fault.content_type)
        elif fault.kind == "malformed":
            reply = Reply(fault.status or 200, fault.body or b'{"oops": [1, 2', fault.content_type)
        elif fault.kind == "redirect":
            reply = Reply(
                fault.status or 302, b"", "text/html; charset=utf-8", [("Location", fault.location)]
            )
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        handler.send_reply(reply)
        return reply.status
