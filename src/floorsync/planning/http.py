"""HTTP behaviour shared by both adapters (spec §4.6): the client, transport-failure
classification, secret redaction and the retries of read-only calls.

* **Client** (`make_planning_http_client`): HTTP/1.1, redirects never followed, no cookie
  persistence (FrePPLe sets a session cookie on every authenticated answer, and a client that
  sends it back is refused on writes with 403 "CSRF Failed"; credentials go in every request
  instead), no proxies or `.netrc` from the environment, connect 5 s / read `timeout_seconds` /
  write 30 s / pool 5 s, TLS verification on with an optional CA bundle.
* **Addresses**: planning systems run on the plant network, so private and loopback addresses are
  allowed, but cloud-metadata addresses are refused. The client's network backend resolves the
  host itself, judges every address with `kit.netguard`, and connects to the address it judged
  (pinned: no second lookup can swap it).
* **Classification** of what every answer can be: DNS failure, refused/reset connection,
  timeouts, a truncated body → `PlanningUnavailable`; TLS verification failure, a refused
  address, a body over 256 MiB → `PlanningProtocolError`. Status codes are the adapters' business
  (`status_error` covers the ones both share).
* **Retries** (`PlanningHttp.request(read_only=True)`): up to 2 retries after
  `PlanningUnavailable`, waiting 1 s then 4 s, or `retry_after` when the server asked for at most
  30 s (a longer wish is passed on to the caller at once). Writes are never retried here.
* **Logging**: one DEBUG line per request (method, URL, status, bytes, milliseconds), no bodies.
  `Redactor` removes the credential (and its encoded forms) from every text that goes into a log
  line or an exception.
"""

import base64
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpcore
import httpx
import orjson

from floorsync import __version__
from floorsync.kit.netguard import (
    IPAddress,
    NetguardRefusal,
    ResolveError,
    Resolver,
    SystemResolver,
    address_refusal,
    parse_ip,
)
from floorsync.planning.base import (
    PlanningError,
    PlanningProtocolError,
    PlanningSystem,
    PlanningUnavailable,
)

log = logging.getLogger("floorsync.planning.http")

T = TypeVar("T")
USER_AGENT = f"floorsync/{__version__} (+planning-adapter)"
MAX_BODY_BYTES = 256 * 1024 * 1024
EXCERPT_CHARS = 2000
RETRY_DELAYS = (1.0, 4.0)
MAX_HONOURED_RETRY_AFTER = 30.0
UNAVAILABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
JSON_UTF8 = "application/json; charset=utf-8"


# ----------------------------------------------------------------------------------- redaction


class Redactor:
    """Removes secrets from text: each secret as written, percent-encoded, JSON-escaped, and the
    Basic token built from it."""

    MASK = "••••"

    def __init__(self, secrets: Iterable[str], *, username: str | None = None) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms.add(secret)
            forms.add(quote(secret, safe=""))
            forms.add(orjson.dumps(secret).decode()[1:-1])
            forms.add(json.dumps(secret)[1:-1])  # non-ASCII as \uXXXX
            if username is not None:
                forms.add(basic_token(username, secret))
        # Longest first, so a form containing another is removed whole.
        self._forms = sorted(forms, key=len, reverse=True)

    @property
    def forms(self) -> tuple[str, ...]:
        """Every form of every secret this redactor removes."""
        return tuple(self._forms)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, self.MASK)
        return text

    def value(self, value: Any) -> Any:
        """A JSON-safe value with every string redacted (for error details)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {self(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def error(self, exc: PlanningError) -> PlanningError:
        """The same error with message, excerpt and details redacted (in place)."""
        exc.message = self(exc.message)
        exc.args = (exc.message,)
        if exc.excerpt is not None:
            exc.excerpt = self(exc.excerpt)
        details = getattr(exc, "details", None)
        if isinstance(details, dict):
            exc.details = self.value(details)  # type: ignore[attr-defined]
        return exc


def basic_token(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# --------------------------------------------------------------------------------- the client


def _judged_address(host: str, port: int, resolver: Resolver) -> IPAddress:
    """The address to connect to: every address the host has must pass (private and loopback
    allowed, cloud metadata refused), and the first one is used."""
    literal = parse_ip(host)
    if literal is not None:
        addresses = [literal]
    else:
        addresses = []
        for raw in resolver.resolve(host, port):
            ip = parse_ip(raw)
            if ip is None:
                raise NetguardRefusal("PRIVATE_ADDRESS", f"resolver returned {raw!r}")
            addresses.append(ip)
    for ip in addresses:
        reason = address_refusal(ip, allow_private=True)
        if reason is not None:
            raise NetguardRefusal("PRIVATE_ADDRESS", f"{host} is not allowed: {reason} ({ip})")
    return addresses[0]


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, connecting only to addresses the guard accepted."""

    def __init__(self, resolver: Resolver) -> None:
        self._inner = httpcore.SyncBackend()
        self._resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            address = _judged_address(host, port, self._resolver)
        except ResolveError as exc:
            raise httpcore.ConnectError(f"DNS: {exc}") from exc
        return self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for planning systems")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, ssl_context: ssl.SSLContext, resolver: Resolver, connections: int) -> None:
        super().__init__(verify=ssl_context, retries=0)
        self._pool = httpcore.ConnectionPool(
            # A request's head and body are separate writes: with Nagle's algorithm and the
            # server's delayed ACK each request would stall ~40 ms.
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            ssl_context=ssl_context,
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=30.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=_GuardedBackend(resolver),
        )


def planning_timeout(read_seconds: float) -> httpx.Timeout:
    return httpx.Timeout(connect=5.0, read=read_seconds, write=30.0, pool=5.0)


def make_planning_http_client(
    *,
    read_timeout: float = 30.0,
    verify_tls: bool = True,
    ca_bundle: str | None = None,
    resolver: Resolver | None = None,
    max_connections: int = 10,
) -> httpx.Client:
    """The client adapters use. The worker may build one per TLS configuration and share it
    (`create_planning_adapter(config, http_client=…)`); its timeouts and TLS settings then apply
    to every adapter using it."""
    if not verify_tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_bundle:
        context = ssl.create_default_context(cafile=ca_bundle)
    else:
        context = httpx.create_ssl_context()
    return httpx.Client(
        transport=_GuardedTransport(context, resolver or SystemResolver(), max_connections),
        follow_redirects=False,
        trust_env=False,
        timeout=planning_timeout(read_timeout),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )


# ------------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer, read within the size cap."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        ct = self.content_type
        return ct == "application/json" or ct.endswith("+json")

    @property
    def location(self) -> str:
        return str(self.headers.get("location", ""))

    def text(self, limit: int = EXCERPT_CHARS) -> str:
        return self.body[: limit * 4].decode("utf-8", errors="replace")[:limit]


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds or as an HTTP date, as seconds from now (None when absent or
    unreadable)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def status_error(system: PlanningSystem, answer: Answer, what: str) -> PlanningError | None:
    """The error for a status both adapters classify alike (408/425/429/5xx → unavailable, other
    3xx → protocol), or None."""
    status = answer.status
    if status in UNAVAILABLE_STATUSES or 500 <= status < 600:
        return PlanningUnavailable(
            system,
            f"{what} answered HTTP {status}; try again later",
            retry_after=retry_after_seconds(answer.headers.get("retry-after")),
            upstream=status,
            excerpt=answer.text() or None,
        )
    if 300 <= status < 400:
        return PlanningProtocolError(
            system,
            f"unexpected redirect to {answer.location or '(no location)'}; check the base URL",
            upstream=status,
        )
    return None


def decode_json(
    system: PlanningSystem, answer: Answer, what: str, *, exact_numbers: bool = False
) -> Any:
    """The JSON body of a 2xx answer: a non-JSON body (a web page, a proxy) is a protocol error,
    an empty, truncated or invalid JSON body a temporary one. `exact_numbers` parses JSON numbers
    with a fraction as `Decimal` from their text (the standard library parser: orjson has no hook
    for it), for systems whose decimals may arrive as numbers."""
    if not answer.is_json:
        shown = answer.content_type or "no content type"
        return _raise(
            PlanningProtocolError(
                system,
                f"{what} answered {shown} instead of JSON; check the base URL",
                upstream=answer.status,
                excerpt=answer.text(300) or None,
            )
        )
    try:
        if exact_numbers:
            return json.loads(answer.body, parse_float=Decimal)
        return orjson.loads(answer.body)
    except (orjson.JSONDecodeError, ValueError):
        return _raise(
            PlanningUnavailable(
                system,
                f"{what} answered with an empty, truncated or invalid JSON body",
                upstream=answer.status,
                excerpt=answer.text(300) or None,
            )
        )


def _raise(exc: PlanningError) -> Any:
    raise exc


def _is_cert_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class PlanningHttp:
    """One adapter's view of the client: sends requests, classifies transport failures, logs,
    redacts and retries read-only calls. Closes the client only if it built it."""

    def __init__(
        self,
        system: PlanningSystem,
        client: httpx.Client,
        *,
        owns_client: bool,
        redactor: Redactor,
        sleep: Callable[[float], None] = time.sleep,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.system, self.client, self.owns_client = system, client, owns_client
        self.redact, self.sleep, self.max_body_bytes = redactor, sleep, max_body_bytes
        self.closed = False

    def close(self) -> None:
        if not self.closed and self.owns_client:
            self.client.close()
        self.closed = True

    def request(
        self,
        method: str,
        url: str,
        interpret: Callable[[Answer], T],
        *,
        read_only: bool,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> T:
        """Send, read the answer and hand it to `interpret`, which returns the result or raises a
        `PlanningError`. Read-only requests are retried after `PlanningUnavailable`."""
        delays = list(RETRY_DELAYS) if read_only else []
        while True:
            try:
                try:
                    return interpret(self._send(method, url, headers, body))
                except PlanningError as exc:
                    raise self.redact.error(exc) from None
            except PlanningUnavailable as exc:
                if not delays:
                    raise
                wait = delays.pop(0)
                if exc.retry_after is not None:
                    if exc.retry_after > MAX_HONOURED_RETRY_AFTER:
                        raise
                    wait = exc.retry_after
                log.debug("retrying %s %s in %.1f s: %s", method, self._shown(url), wait, exc)
                self.sleep(wait)

    def _shown(self, url: str) -> str:
        return self.redact(url)

    def _send(
        self, method: str, url: str, headers: Mapping[str, str] | None, body: bytes | None
    ) -> Answer:
        if self.closed:
            raise RuntimeError("the planning adapter is closed")
        started = time.monotonic()
        shown = self._shown(url)
        request = self.client.build_request(
            method,
            url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            content=body,
        )
        # A shared client may hold cookies; a planning request never carries any.
        request.headers.pop("cookie", None)
        try:
            response = self.client.send(request, stream=True, follow_redirects=False)
            try:
                raw = self._read(response, method, shown)
            finally:
                response.close()
        except PlanningError:
            raise
        except NetguardRefusal as exc:
            self._log_failure(method, shown, started, "refused")
            raise PlanningProtocolError(
                self.system, f"refused to connect: {exc.message}; check the base URL"
            ) from None
        except httpx.TimeoutException as exc:
            self._log_failure(method, shown, started, type(exc).__name__)
            raise PlanningUnavailable(
                self.system, f"{method} {shown} timed out ({type(exc).__name__})"
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            self._log_failure(method, shown, started, type(exc).__name__)
            if _is_cert_failure(exc):
                raise PlanningProtocolError(
                    self.system,
                    f"TLS certificate verification failed for {shown}; install the server's CA "
                    "as ca_bundle or fix the certificate",
                ) from None
            if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
                raise PlanningProtocolError(
                    self.system, f"cannot send {method} {shown}: {exc}; check the base URL"
                ) from None
            raise PlanningUnavailable(
                self.system, f"{method} {shown} failed: {type(exc).__name__}: {exc}"
            ) from None
        log.debug(
            "%s %s -> %d, %d bytes, %d ms",
            method,
            shown,
            response.status_code,
            len(raw),
            int((time.monotonic() - started) * 1000),
        )
        return Answer(method, url, response.status_code, response.headers, raw)

    def _read(self, response: httpx.Response, method: str, shown: str) -> bytes:
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > self.max_body_bytes:
            raise PlanningProtocolError(
                self.system,
                f"{method} {shown} announced {announced} bytes, above the "
                f"{self.max_body_bytes}-byte cap",
            )
        buffer = bytearray()
        for chunk in response.iter_bytes():
            buffer.extend(chunk)
            if len(buffer) > self.max_body_bytes:
                raise PlanningProtocolError(
                    self.system,
                    f"{method} {shown} answered more than the {self.max_body_bytes}-byte cap",
                )
        return bytes(buffer)

    def _log_failure(self, method: str, shown: str, started: float, what: str) -> None:
        log.debug(
            "%s %s failed after %d ms: %s",
            method,
            shown,
            int((time.monotonic() - started) * 1000),
            what,
        )


class HttpAdapter:
    """What both adapters share around their `PlanningHttp`: closing (idempotent), the context
    manager, and a last redaction pass over any planning error leaving a public method."""

    _http: PlanningHttp

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _redacted(self) -> Iterator[None]:
        try:
            yield
        except PlanningError as error:
            raise self._http.redact.error(error) from None
