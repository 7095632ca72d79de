"""The SSRF guard for webhook URLs: URL rules at registration, address rules at registration and
at every connection (after DNS resolution, on the address actually used).

Refusals carry one of four constraints:

    NetguardRefusal
    ├── URL_FORMAT          malformed, fragment, scheme other than http/https, no host, too long
    ├── CREDENTIALS_IN_URL  user-info in the URL
    ├── HTTPS_REQUIRED      plain http to a public target, or while private targets are not allowed
    └── PRIVATE_ADDRESS     loopback, private, link-local, shared, reserved, multicast, embedded
                            IPv4 of those, `localhost`, and cloud-metadata addresses (always)

Python's `is_global` alone is not enough: on 3.11 it is true for many multicast addresses and
for IPv6 forms that embed a private IPv4 address (NAT64, 6to4, IPv4-compatible `::a.b.c.d`,
IPv4-translated `::ffff:0:a.b.c.d`), hence the unwrapping and multicast rules.
Every textual host form (`127.1`, `2130706433`, `0x7f.0.0.1`) is judged by the address it yields.
DNS is a port: `SystemResolver` (getaddrinfo) and `StaticResolver` (a dict, for tests).
"""

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.123",
        "100.100.100.200",
        "fd00:ec2::254",
        "fd00:ec2::23",
    )
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IPv4-compatible (`::a.b.c.d`, deprecated but still routed to the IPv4 address by some
# stacks) and IPv4-translated (`::ffff:0:a.b.c.d`, SIIT): Python calls both global.
_LOW_32_BITS = (ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")


class NetguardRefusal(Exception):
    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(message)
        self.constraint, self.message = constraint, message


class ResolveError(Exception):
    """The name does not resolve (NXDOMAIN, no DNS)."""


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address the host resolves to; raises ResolveError when it resolves to none."""
        ...


class SystemResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolveError(str(exc)) from exc
        out: list[str] = []
        for info in infos:
            addr = str(info[4][0]).split("%", 1)[0]
            if addr not in out:
                out.append(addr)
        if not out:
            raise ResolveError(f"{host} has no addresses")
        return out


@dataclass
class StaticResolver:
    """A dict-backed resolver; unknown names don't resolve."""

    names: dict[str, list[str]] = field(default_factory=dict)

    def resolve(self, host: str, port: int) -> list[str]:
        found = self.names.get(host.lower().rstrip("."))
        if not found:
            raise ResolveError(f"{host} does not resolve")
        return list(found)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in (*_NAT64, *_LOW_32_BITS)):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


def address_refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why this address may not be connected to, or None when it may (Events and webhooks §8.2, §8.4)."""
    if ip in METADATA_ADDRESSES:
        return "cloud-metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _TEREDO:
            return "Teredo address"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_refusal(inner, allow_private=allow_private)
    if allow_private:
        return None
    if ip.is_multicast:
        return "multicast address"
    if not ip.is_global:
        return "non-public address"
    return None


def is_public(ip: IPAddress) -> bool:
    return address_refusal(ip, allow_private=False) is None


def parse_ip(host: str) -> IPAddress | None:
    """An IP literal in any textual form (`::1`, `127.1`, `2130706433`, `0x7f.0.0.1`), else None."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if (
        text
        and all(c in "0123456789abcdefxABCDEFX." for c in text)
        and any(c.isdigit() for c in text)
    ):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what the request must say."""

    url: str
    scheme: str
    host: str  # as written (IPv6 without brackets), lower case
    port: int
    path: str  # path plus query, at least "/"
    warnings: tuple[str, ...] = ()

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == default else f"{shown}:{self.port}"


def parse_url(url: str) -> tuple[SplitResult, str, int]:
    """Syntax rules of Events and webhooks §8.1; returns the split URL, the host and the port."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise NetguardRefusal(
            "URL_FORMAT",
            f"url must be an absolute http(s) URL of at most {MAX_URL_LENGTH} characters",
        )
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise NetguardRefusal("URL_FORMAT", "url must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise NetguardRefusal("URL_FORMAT", "url is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise NetguardRefusal(
            "URL_FORMAT", "url scheme must be https (or http to a private target)"
        )
    if "#" in url:
        raise NetguardRefusal("URL_FORMAT", "url must not contain a fragment")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise NetguardRefusal("CREDENTIALS_IN_URL", "url must not contain user name or password")
    if not host:
        raise NetguardRefusal("URL_FORMAT", "url must have a host")
    if not host.isascii():
        # The A-label is what DNS, TLS SNI and the Host header carry; a raw U-label made the
        # request fail to encode at send time.
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise NetguardRefusal(
                "URL_FORMAT", "url host is not a valid internationalised domain name"
            ) from None
    scheme = parts.scheme.lower()
    return parts, host.lower(), port or (443 if scheme == "https" else 80)


def _judge(addresses: Iterable[IPAddress], host: str, *, allow_private: bool) -> list[IPAddress]:
    checked = list(addresses)
    for ip in checked:
        reason = address_refusal(ip, allow_private=allow_private)
        if reason is not None:
            raise NetguardRefusal(
                "PRIVATE_ADDRESS", f"url host {host} is not allowed: {reason} ({ip})"
            )
    return checked


def _check_scheme(scheme: str, addresses: list[IPAddress], *, allow_private: bool) -> None:
    if scheme == "https":
        return
    if not allow_private or any(is_public(ip) for ip in addresses):
        raise NetguardRefusal("HTTPS_REQUIRED", "url must use https")


def check_url(url: str, resolver: Resolver, *, allow_private: bool) -> Target:
    """Registration-time check (create and update). A host that does not resolve is accepted
    with a warning; the connection-time check judges it later."""
    parts, host, port = parse_url(url)
    scheme = parts.scheme.lower()
    warnings: list[str] = []
    if (host == "localhost" or host.endswith(".localhost")) and not allow_private:
        raise NetguardRefusal("PRIVATE_ADDRESS", f"url host {host} is not allowed: loopback name")
    literal = parse_ip(host)
    addresses: list[IPAddress]
    if literal is not None:
        addresses = _judge([literal], host, allow_private=allow_private)
    else:
        try:
            addresses = _judge(
                _parse_all(resolver.resolve(host, port)), host, allow_private=allow_private
            )
        except ResolveError:
            addresses = []
            warnings.append(
                f"The host {host} does not resolve yet; it will be checked again when deliveries are sent."
            )
    if addresses:
        _check_scheme(scheme, addresses, allow_private=allow_private)
    elif scheme != "https" and not allow_private:
        raise NetguardRefusal("HTTPS_REQUIRED", "url must use https")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url, scheme, host, port, path, tuple(warnings))


def _parse_all(raw: Iterable[str]) -> list[IPAddress]:
    out: list[IPAddress] = []
    for a in raw:
        ip = parse_ip(a)
        if ip is None:
            raise NetguardRefusal("PRIVATE_ADDRESS", f"resolver returned an invalid address {a!r}")
        out.append(ip)
    return out


def resolve_for_connect(target: Target, resolver: Resolver, *, allow_private: bool) -> IPAddress:
    """Connection-time check (§8.3): every resolved address must pass; returns the one to pin.
    Raises NetguardRefusal (refused) or ResolveError (a connection error)."""
    literal = parse_ip(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        if (target.host == "localhost" or target.host.endswith(".localhost")) and not allow_private:
            raise NetguardRefusal("PRIVATE_ADDRESS", "loopback name")
        addresses = _parse_all(resolver.resolve(target.host, target.port))
    _judge(addresses, target.host, allow_private=allow_private)
    _check_scheme(target.scheme, addresses, allow_private=allow_private)
    return addresses[0]


def target_from_url(url: str) -> Target:
    """A Target for a stored URL (already checked at registration), without resolving."""
    parts, host, port = parse_url(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url, parts.scheme.lower(), host, port, path)


def static_resolver(names: Mapping[str, list[str]]) -> StaticResolver:
    return StaticResolver({k.lower(): list(v) for k, v in names.items()})
