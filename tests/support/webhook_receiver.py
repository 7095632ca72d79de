"""A scriptable webhook receiver on 127.0.0.1: a threaded http.server that records every request
(raw body bytes, headers, arrival time) and answers as scripted: a status, `Retry-After`, a delay
before answering, headers trickled out with a pause before each line, a pause before the body,
or a 30x Location.

    with WebhookReceiver() as rx:
        rx.script(500, 500, 200)          # the next three answers, then the default
        rx.default = Reply(200)
        rx.wait_for(3)
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a sender opening 16 connections at once to a
    # receiver starved of CPU had its extra SYNs dropped and waited a second for the retry
    # (bench/webhooks.py --busy 2). Real servers listen with a backlog of hundreds.
    request_queue_size = 128


@dataclass
class Reply:
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    body: bytes = b"ok"
    header_gap: float = (
        0.0  # pause before each header line after the status line (a trickling receiver)
    )
    body_delay: float = 0.0  # pause between the end of the headers and the body
    location: str | None = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.time() at arrival
    answered: int = 0

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> Any:
        import orjson

        return orjson.loads(self.body)


@dataclass
class WebhookReceiver:
    host: str = "127.0.0.1"
    default: Reply = field(default_factory=Reply)
    requests: list[Received] = field(default_factory=list)
    _script: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cond: threading.Condition = field(init=False)
    in_flight: int = 0
    max_in_flight: int = 0
    in_flight_by_path: dict[str, int] = field(default_factory=dict)
    max_in_flight_by_path: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cond = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                item = Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                )
                with receiver._cond:
                    reply = receiver._script.popleft() if receiver._script else receiver.default
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                    now_in = receiver.in_flight_by_path.get(self.path, 0) + 1
                    receiver.in_flight_by_path[self.path] = now_in
                    receiver.max_in_flight_by_path[self.path] = max(
                        receiver.max_in_flight_by_path.get(self.path, 0), now_in
                    )
                    receiver.requests.append(item)
                    receiver._cond.notify_all()
                counted = [True]

                def done() -> None:
                    with receiver._cond:
                        if counted[0]:
                            counted[0] = False
                            receiver.in_flight -= 1
                            receiver.in_flight_by_path[self.path] -= 1

                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    item.answered = reply.status
                    self.send_response(reply.status)
                    headers = [
                        ("Content-Type", "text/plain"),
                        ("Content-Length", str(len(reply.body))),
                    ]
                    if reply.retry_after is not None:
                        headers.insert(0, ("Retry-After", reply.retry_after))
                    if reply.location is not None:
                        headers.insert(0, ("Location", reply.location))
                    for name, value in headers:
                        if reply.header_gap:
                            self.flush_headers()
                            time.sleep(reply.header_gap)
                        self.send_header(name, value)
                    self.end_headers()
                    if reply.body_delay:
                        time.sleep(reply.body_delay)
                    # The request stops counting as in flight before its last bytes go out: the
                    # sender can't have finished with it (and sent another) before that.
                    done()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    done()

        self.server = _Server((self.host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return self.url_for("/hook")

    def url_for(self, path: str) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}{path}"

    def script(self, *replies: Reply | int) -> None:
        with self._lock:
            for r in replies:
                self._script.append(Reply(r) if isinstance(r, int) else r)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"receiver got {len(self.requests)} of {count} requests")
                self._cond.wait(left)
            return list(self.requests)

    def wait_for_ids(self, ids: set[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ids <= {r.webhook_id for r in self.requests}:
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = ids - {r.webhook_id for r in self.requests}
                    raise TimeoutError(f"{len(missing)} of {len(ids)} event ids never arrived")
                self._cond.wait(min(left, 0.5))

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "WebhookReceiver":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
