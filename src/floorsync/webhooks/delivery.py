"""Send one webhook request. Knows no database: resolve, check every address (SSRF guard,
connect time), connect to the checked address itself, POST, classify the result.

Redirects are not followed, proxies from the environment are ignored, at most 64 KiB of the
response is read and its first 1,024 bytes are kept for the log.

The timeout is one deadline for the whole attempt (connect, send, response headers and the body
excerpt). httpx timeouts apply per socket operation, so a receiver trickling its answer a byte
at a time could stretch them without end: the client's network backend therefore bounds every
connect, read and write by the time left until the deadline of the attempt in progress on that
thread, and an answer that completes after the deadline is a `timeout`.
"""

import ipaddress
import socket
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import datetime
from typing import Any

import httpcore
import httpx

from floorsync import __version__
from floorsync.kit.netguard import (
    NetguardRefusal,
    ResolveError,
    Resolver,
    resolve_for_connect,
    target_from_url,
)

USER_AGENT = f"floorsync-webhooks/{__version__}"
MAX_READ = 64 * 1024
EXCERPT = 1024


@dataclass(frozen=True)
class AttemptResult:
    at: datetime
    outcome: str  # AttemptOutcome value
    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    excerpt: str | None = None
    retry_after: str | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome == "succeeded"

    @property
    def endpoint_failed(self) -> bool:
        """A failure of the receiver or the way to it, which counts against the endpoint (an
        event that couldn't be rendered, `render_error`, is nobody's fault but ours)."""
        return self.outcome not in ("succeeded", "render_error")


# The monotonic deadline of the attempt this thread is making (None outside `send`).
_deadline: ContextVar[float | None] = ContextVar("floorsync_webhook_deadline", default=None)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """An operation's timeout cut down to the time left before the attempt's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("deadline of the attempt passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(
                ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_tcp(
                host,
                port,
                _bounded(timeout, httpcore.ConnectTimeout),
                local_address,
                socket_options,
            )
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(
                path, _bounded(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose network I/O honours the attempt deadline."""

    def __init__(self, limits: httpx.Limits, socket_options: list[tuple[int, int, int]]) -> None:
        super().__init__(limits=limits, socket_options=socket_options)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            socket_options=socket_options,
            network_backend=_DeadlineBackend(),
        )


def make_http_client(
    timeout_seconds: float, connect_timeout_seconds: float = 5.0, max_connections: int = 20
) -> httpx.Client:
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    # TCP_NODELAY: the request head and body are separate writes; with Nagle's algorithm and a
    # receiver's delayed ACK each request would stall ~40 ms.
    transport = _DeadlineTransport(limits, [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(
            timeout_seconds, connect=min(connect_timeout_seconds, timeout_seconds)
        ),
    )


def _excerpt(raw: bytes) -> str | None:
    if not raw:
        return None
    return raw[:EXCERPT].decode("utf-8", errors="replace").replace("\x00", "")


def send(
    http: httpx.Client,
    url: str,
    body: bytes,
    headers: dict[str, str],
    resolver: Resolver,
    *,
    allow_private: bool,
    timeout_seconds: float,
    at: datetime,
) -> AttemptResult:
    """POST body to url once; never raises for network or HTTP trouble."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_from_url(url)
        address = resolve_for_connect(target, resolver, allow_private=allow_private)
    except NetguardRefusal:
        return AttemptResult(at, "refused", error="refused by SSRF guard", duration_ms=elapsed())
    except ResolveError as exc:
        return AttemptResult(
            at, "connection_error", error=f"DNS: {exc}"[:500], duration_ms=elapsed()
        )
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    pinned = f"{target.scheme}://{host}:{target.port}{target.path}"
    request_headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    deadline = started + timeout_seconds
    timed_out = AttemptResult(at, "timeout", error=f"timeout after {timeout_seconds:g} s")
    token = _deadline.set(deadline)
    try:
        left = deadline - time.monotonic()
        if left <= 0:
            return dataclass_replace(timed_out, duration_ms=elapsed())
        connect = http.timeout.connect
        timeout = httpx.Timeout(left, connect=left if connect is None else min(connect, left))
        request = http.build_request(
            "POST",
            pinned,
            content=body,
            headers=request_headers,
            extensions=extensions,
            timeout=timeout,
        )
        with _stream(http, request) as response:
            raw = bytearray()
            for chunk in response.iter_bytes():
                raw.extend(chunk)
                if len(raw) >= MAX_READ:
                    break
            if time.monotonic() > deadline:  # the answer (or its excerpt) came too late
                return dataclass_replace(timed_out, duration_ms=elapsed())
            status = response.status_code
            retry_after = response.headers.get("retry-after")
    except httpx.TimeoutException:
        return dataclass_replace(timed_out, duration_ms=elapsed())
    except (httpx.HTTPError, OSError) as exc:
        return AttemptResult(
            at,
            "connection_error",
            error=f"{type(exc).__name__}: {exc}"[:500],
            duration_ms=elapsed(),
        )
    finally:
        _deadline.reset(token)
    excerpt = _excerpt(bytes(raw))
    if 200 <= status < 300:
        return AttemptResult(at, "succeeded", status, None, elapsed(), excerpt, retry_after)
    return AttemptResult(
        at, "http_error", status, f"HTTP {status}", elapsed(), excerpt, retry_after
    )


class _stream:
    """`http.send(request, stream=True)` as a context manager that closes the response."""

    def __init__(self, http: httpx.Client, request: httpx.Request) -> None:
        self.http, self.request = http, request
        self.response: httpx.Response | None = None

    def __enter__(self) -> httpx.Response:
        self.response = self.http.send(self.request, stream=True)
        return self.response

    def __exit__(self, *_exc: object) -> None:
        if self.response is not None:
            self.response.close()
