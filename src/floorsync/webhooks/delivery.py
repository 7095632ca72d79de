"""Send one webhook request. Knows no database: resolve, check every address (SSRF guard,
connect time), connect to the checked address itself, POST, classify the result.

The request goes through webhooks/http11.py, a lean keep-alive HTTP/1.1 client (httpx cost the
worker about 1 ms of CPU per request; README, Webhook benchmark). Redirects are not followed,
proxies from the environment are ignored, at most 64 KiB of the response is read and its first
1,024 bytes are kept for the log. The `Host` header, TLS SNI and the certificate check use the
URL's host name while the connection goes to the address the guard pinned.

The timeout is one deadline for the whole attempt (connect, TLS, send, response headers and the
body excerpt): every socket operation is bounded by the time left until it, so a receiver
trickling its answer a byte at a time cannot stretch it, and an answer that completes after the
deadline is a `timeout`.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from floorsync import __version__
from floorsync.kit.netguard import (
    NetguardRefusal,
    ResolveError,
    Resolver,
    Target,
    resolve_for_connect,
    target_from_url,
)
from floorsync.webhooks.http11 import WebhookHttp, WireError, WireTimeout

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


def make_http_client(
    timeout_seconds: float, connect_timeout_seconds: float = 5.0, max_connections: int = 20
) -> WebhookHttp:
    """The worker process's client: `max_connections` idle connections kept per destination
    (its sender threads bound how many are open at once)."""
    return WebhookHttp(
        min(connect_timeout_seconds, timeout_seconds), max_idle_per_destination=max_connections
    )


# A batch sends to one URL over and over; its syntax check (netguard.parse_url walks every
# character) needs doing once. Resolving and judging the address stays per attempt.
_target = lru_cache(maxsize=1024)(target_from_url)


def _excerpt(raw: bytes) -> str | None:
    if not raw:
        return None
    return raw[:EXCERPT].decode("utf-8", errors="replace").replace("\x00", "")


def _head(target: Target, headers: dict[str, str], length: int) -> bytes:
    """The request line and headers. Every value is ours or from a URL the guard parsed (no
    whitespace or control characters), so nothing can split a header."""
    path = target.path if target.path.isascii() else quote(target.path, safe=_PATH_SAFE)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {target.host_header}",
        "Content-Type: application/json",
        f"User-Agent: {USER_AGENT}",
        f"Content-Length: {length}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_PATH_SAFE = "/?=&;:@!$'()*+,%~-._"


def send(
    http: WebhookHttp,
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
        target = _target(url)
        address = resolve_for_connect(target, resolver, allow_private=allow_private)
    except NetguardRefusal:
        return AttemptResult(at, "refused", error="refused by SSRF guard", duration_ms=elapsed())
    except ResolveError as exc:
        return AttemptResult(
            at, "connection_error", error=f"DNS: {exc}"[:500], duration_ms=elapsed()
        )
    deadline = started + timeout_seconds
    timed_out = f"timeout after {timeout_seconds:g} s"
    try:
        answer = http.post(
            scheme=target.scheme,
            address=str(address),
            port=target.port,
            host=target.host,
            head=_head(target, headers, len(body)),
            body=body,
            deadline=deadline,
            max_read=MAX_READ,
        )
    except WireTimeout:
        return AttemptResult(at, "timeout", error=timed_out, duration_ms=elapsed())
    except (WireError, OSError) as exc:  # ssl.SSLError and socket errors are OSErrors
        return AttemptResult(
            at,
            "connection_error",
            error=f"{type(exc).__name__}: {exc}"[:500],
            duration_ms=elapsed(),
        )
    if time.monotonic() > deadline:  # the answer (or its excerpt) came too late
        return AttemptResult(at, "timeout", error=timed_out, duration_ms=elapsed())
    status, excerpt = answer.status, _excerpt(answer.body)
    if 200 <= status < 300:
        return AttemptResult(at, "succeeded", status, None, elapsed(), excerpt, answer.retry_after)
    return AttemptResult(
        at, "http_error", status, f"HTTP {status}", elapsed(), excerpt, answer.retry_after
    )
