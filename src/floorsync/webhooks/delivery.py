"""Send one webhook request. Knows no database: resolve, check every address (SSRF guard,
connect time), connect to the checked address itself, POST, classify the result.

Redirects are not followed, proxies from the environment are ignored, at most 64 KiB of the
response is read and its first 1,024 bytes are kept for the log.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import datetime

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


def make_http_client(timeout_seconds: float, connect_timeout_seconds: float = 5.0, max_connections: int = 20) -> httpx.Client:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    # TCP_NODELAY: the request head and body are separate writes; with Nagle's algorithm and a
    # receiver's delayed ACK each request would stall ~40 ms.
    transport = httpx.HTTPTransport(limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout_seconds, connect=min(connect_timeout_seconds, timeout_seconds)),
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
        return AttemptResult(at, "connection_error", error=f"DNS: {exc}"[:500], duration_ms=elapsed())
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
    try:
        request = http.build_request("POST", pinned, content=body, headers=request_headers, extensions=extensions)
        with _stream(http, request) as response:
            raw = bytearray()
            for chunk in response.iter_bytes():
                raw.extend(chunk)
                if len(raw) >= MAX_READ or time.monotonic() > deadline:
                    break
            status = response.status_code
            retry_after = response.headers.get("retry-after")
    except httpx.TimeoutException:
        return AttemptResult(at, "timeout", error=f"timeout after {timeout_seconds:g} s", duration_ms=elapsed())
    except (httpx.HTTPError, OSError) as exc:
        return AttemptResult(at, "connection_error", error=f"{type(exc).__name__}: {exc}"[:500], duration_ms=elapsed())
    excerpt = _excerpt(bytes(raw))
    if 200 <= status < 300:
        return AttemptResult(at, "succeeded", status, None, elapsed(), excerpt, retry_after)
    return AttemptResult(at, "http_error", status, f"HTTP {status}", elapsed(), excerpt, retry_after)


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
