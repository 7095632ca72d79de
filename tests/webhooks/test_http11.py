"""The delivery's lean HTTP/1.1 client (webhooks/http11.py) against a receiver scripted byte by
byte: connections kept alive and replaced when the receiver closed them, the answer's framing
(Content-Length, chunked, end of connection, interim 1xx), the 64 KiB read cap, malformed
answers, and TLS to the pinned address with SNI and the certificate checked against the URL's
host name, all inside one deadline."""

import datetime as dt
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from floorsync.kit.netguard import StaticResolver
from floorsync.webhooks import delivery as delivery_mod
from floorsync.webhooks.delivery import AttemptResult
from floorsync.webhooks.http11 import WebhookHttp
from tests.support.tls import self_signed

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"
CLOSE = None  # a scripted reply: read the request, then close without answering


class RawReceiver:
    """A TCP (or TLS) server on 127.0.0.1 that reads each request and writes the next scripted
    reply verbatim (default: 204 kept alive). `then_close` replies close their connection
    after being written; `stall` replies write their bytes and then hold the connection."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.replies: deque[tuple[bytes | None, str]] = deque()
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request head)
        self.connections = 0
        self.server_names: list[str | None] = []
        self.lock = threading.Lock()
        self.tls = tls
        if tls is not None:
            tls.sni_callback = self._sni
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def script(self, reply: bytes | None, mode: str = "") -> None:
        self.replies.append((reply, mode))

    def _sni(self, _sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(buffer) < length:
                    buffer += sock.recv(65536)
                buffer = buffer[length:]
                with self.lock:
                    self.requests.append((number, head))
                    reply, mode = self.replies.popleft() if self.replies else (NO_CONTENT, "")
                if reply is CLOSE:
                    return
                sock.sendall(reply)
                if mode == "stall":
                    self.stopping.wait(10)
                    return
                if mode == "then_close":
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            sock.close()

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture
def raw() -> Iterator[RawReceiver]:
    rx = RawReceiver()
    yield rx
    rx.close()


@pytest.fixture
def http() -> Iterator[WebhookHttp]:
    client = WebhookHttp(5.0)
    yield client
    client.close()


def post(
    http: WebhookHttp,
    url: str,
    *,
    timeout: float = 5.0,
    resolver: StaticResolver | None = None,
) -> AttemptResult:
    return delivery_mod.send(
        http,
        url,
        b'{"ok":true}',
        {"webhook-id": "evt_1"},
        resolver or StaticResolver(),
        allow_private=True,
        timeout_seconds=timeout,
        at=dt.datetime.now(dt.UTC),
    )


def url_of(rx: RawReceiver, host: str = "127.0.0.1", scheme: str = "http") -> str:
    return f"{scheme}://{host}:{rx.port}/hook"


class TestConnections:
    def test_requests_share_one_kept_alive_connection(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        for _ in range(3):
            assert post(http, url_of(raw)).outcome == "succeeded"
        assert raw.connections == 1
        assert len(raw.requests) == 3
        head = raw.requests[0][1].decode()
        assert head.startswith("POST /hook HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{raw.port}" in head
        assert "webhook-id: evt_1" in head

    def test_a_connection_the_receiver_closed_while_idle_is_not_reused(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        raw.script(NO_CONTENT, "then_close")
        assert post(http, url_of(raw)).outcome == "succeeded"
        time.sleep(0.1)  # the receiver's FIN arrives
        assert post(http, url_of(raw)).outcome == "succeeded"
        assert (raw.connections, len(raw.requests)) == (2, 2)

    def test_a_reused_connection_closed_without_an_answer_is_replaced_once(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        assert post(http, url_of(raw)).outcome == "succeeded"
        raw.script(CLOSE)  # the receiver closed it just as the request went out
        assert post(http, url_of(raw)).outcome == "succeeded"
        assert [n for n, _ in raw.requests] == [1, 1, 2]

    def test_a_new_connection_closed_without_an_answer_is_a_connection_error(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        raw.script(CLOSE)
        result = post(http, url_of(raw))
        assert result.outcome == "connection_error"
        assert "closed the connection" in (result.error or "")
        assert len(raw.requests) == 1  # not sent again

    def test_connection_refused_is_a_connection_error(self, http: WebhookHttp) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, not listening: refused
            result = post(http, f"http://127.0.0.1:{port}/hook")
        assert result.outcome == "connection_error"
        assert "ConnectionRefusedError" in (result.error or "")


class TestFraming:
    def test_a_chunked_answer_is_read_and_its_connection_kept(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        raw.script(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        )
        result = post(http, url_of(raw))
        assert (result.outcome, result.status_code, result.excerpt) == (
            "succeeded",
            200,
            "hello world",
        )
        assert post(http, url_of(raw)).outcome == "succeeded"
        assert raw.connections == 1

    def test_an_interim_answer_is_skipped_and_retry_after_kept(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        raw.script(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy"
        )
        result = post(http, url_of(raw))
        assert (result.outcome, result.status_code, result.retry_after, result.excerpt) == (
            "http_error",
            503,
            "7",
            "busy",
        )

    def test_an_answer_framed_by_the_end_of_the_connection(
        self, raw: RawReceiver, http: WebhookHttp
    ) -> None:
        raw.script(b"HTTP/1.1 200 OK\r\n\r\nbye", "then_close")
        result = post(http, url_of(raw))
        assert (result.outcome, result.excerpt) == ("succeeded", "bye")
        assert post(http, url_of(raw)).outcome == "succeeded"
        assert raw.connections == 2  # not reused

    def test_at_most_64_kib_of_the_body_is_read(self, raw: RawReceiver, http: WebhookHttp) -> None:
        # 10 MB announced, 80 KiB sent, then the receiver holds the connection: the client
        # stops at 64 KiB instead of waiting for the rest until its deadline
        raw.script(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"a" * (80 * 1024), "stall"
        )
        started = time.monotonic()
        result = post(http, url_of(raw), timeout=3.0)
        assert time.monotonic() - started < 2.0
        assert (result.outcome, result.excerpt) == ("succeeded", "a" * 1024)
        assert post(http, url_of(raw)).outcome == "succeeded"
        assert raw.connections == 2  # the unread rest made the first one unusable

    @pytest.mark.parametrize(
        "reply",
        [
            b"garbage\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\n",  # then the end of the connection
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        ],
    )
    def test_a_malformed_answer_is_a_connection_error(
        self, raw: RawReceiver, http: WebhookHttp, reply: bytes
    ) -> None:
        raw.script(reply, "then_close")
        assert post(http, url_of(raw)).outcome == "connection_error"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"), "hooks.test", x509.DNSName("hooks.test"))


class TestTls:
    """The connection goes to the pinned address; SNI, the certificate check and the Host
    header use the URL's host name (the certificate is for hooks.test, not for 127.0.0.1)."""

    @pytest.fixture
    def tls_rx(self, certificate: tuple[Path, Path]) -> Iterator[RawReceiver]:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*certificate)
        rx = RawReceiver(tls=context)
        yield rx
        rx.close()

    @pytest.fixture
    def tls_http(self, certificate: tuple[Path, Path]) -> Iterator[WebhookHttp]:
        client = WebhookHttp(5.0, ssl_context=ssl.create_default_context(cafile=certificate[0]))
        yield client
        client.close()

    def test_sni_and_the_certificate_check_use_the_host_name(
        self, tls_rx: RawReceiver, tls_http: WebhookHttp
    ) -> None:
        resolver = StaticResolver({"hooks.test": ["127.0.0.1"]})
        url = url_of(tls_rx, "hooks.test", "https")
        for _ in range(2):
            assert post(tls_http, url, resolver=resolver).outcome == "succeeded"
        assert tls_rx.server_names == ["hooks.test"]
        assert tls_rx.connections == 1  # kept alive over TLS too
        assert f"Host: hooks.test:{tls_rx.port}" in tls_rx.requests[0][1].decode()

    def test_a_certificate_for_another_name_is_refused(
        self, tls_rx: RawReceiver, tls_http: WebhookHttp
    ) -> None:
        resolver = StaticResolver({"evil.test": ["127.0.0.1"]})
        result = post(tls_http, url_of(tls_rx, "evil.test", "https"), resolver=resolver)
        assert result.outcome == "connection_error"
        assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
        assert tls_rx.requests == []

    def test_a_handshake_that_never_completes_ends_at_the_deadline(
        self, tls_http: WebhookHttp
    ) -> None:
        with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
            resolver = StaticResolver({"hooks.test": ["127.0.0.1"]})
            url = f"https://hooks.test:{silent.getsockname()[1]}/hook"
            started = time.monotonic()
            result = post(tls_http, url, timeout=0.5, resolver=resolver)
        assert (result.outcome, result.error) == ("timeout", "timeout after 0.5 s")
        assert time.monotonic() - started < 1.0
