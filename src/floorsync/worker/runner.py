"""The worker shell: delivery threads (claim → send → record), idle polling with an in-process
wake-up, periodic upkeep, and a clean stop on SIGTERM/SIGINT (finish the request in flight,
record it, release the lease, exit).

Used by `floorsync worker` and, in a background thread set, by `floorsync serve`.
"""

import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from types import FrameType

from floorsync.db.engine import with_timeouts
from floorsync.events.retention import purge_events
from floorsync.http.context import Services
from floorsync.webhooks.config import WebhookKit
from floorsync.webhooks.delivery import make_http_client
from floorsync.webhooks.worker import (
    DeliveryDeps,
    drain,
    drop_expired_previous_secrets,
    expire_deliveries,
    purge_logs,
    run_once,
)

log = logging.getLogger("floorsync.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkerRunner:
    def __init__(
        self,
        services: Services,
        *,
        threads: int | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.kit: WebhookKit = services.extras["webhooks"]
        self.wake: threading.Event = services.extras.get("worker_wake") or threading.Event()
        self.threads = threads if threads is not None else settings.worker_delivery_threads
        self.poll = settings.worker_poll_seconds
        self.periodic_every = settings.worker_periodic_seconds
        self.worker_id = worker_id or new_worker_id()
        self.http = make_http_client(
            self.kit.config.timeout_seconds,
            self.kit.config.connect_timeout_seconds,
            max_connections=max(4, self.threads * 2),
        )
        # The worker's transactions run without the API's lock and statement timeouts: its
        # claims never wait (SKIP LOCKED), its other waits end with the API transactions they
        # wait for, a lock timeout while recording would send a batch twice, and a statement
        # timeout would fail a large expiry or purge on every round.
        self.sessions = with_timeouts(services.sessions, lock_ms=0, statement_ms=0)
        self.deps = DeliveryDeps(
            self.sessions,
            services.outbox,
            services.clock,
            self.kit,
            self.http,
            self.worker_id,
            rng or random.Random(),
        )
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ loops

    def _deliver_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = run_once(self.deps)
            except Exception:
                log.exception("delivery round failed")
                busy = False
            if not busy and not self.stopping.is_set():
                self.wake.wait(self.poll)
                self.wake.clear()

    def run_periodic(self) -> None:
        sessions, clock = self.sessions, self.services.clock
        for name, task in (
            ("webhooks.expire", lambda: expire_deliveries(sessions, clock, self.kit)),
            ("webhooks.secrets", lambda: drop_expired_previous_secrets(sessions, clock)),
            (
                "retention.purge",
                lambda: purge_events(sessions, clock, self.kit.config.event_retention),
            ),
            ("webhooks.logs", lambda: purge_logs(sessions, clock, self.kit)),
        ):
            try:
                task()
            except Exception:
                log.exception("periodic task %s failed", name)

    def _periodic_loop(self) -> None:
        while not self.stopping.wait(self.periodic_every):
            self.run_periodic()

    # ------------------------------------------------------------ control

    def start(self) -> None:
        log.info("worker %s: %d delivery threads", self.worker_id, self.threads)
        for i in range(self.threads):
            t = threading.Thread(
                target=self._deliver_loop, name=f"floorsync-delivery-{i}", daemon=True
            )
            t.start()
            self._threads.append(t)
        p = threading.Thread(target=self._periodic_loop, name="floorsync-periodic", daemon=True)
        p.start()
        self._threads.append(p)

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.wake.set()
        deadline = time.monotonic() + (
            timeout if timeout is not None else self.kit.config.timeout_seconds + 5
        )
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self.http.close()

    def run_until_signalled(self) -> None:
        def _on_signal(_sig: int, _frame: FrameType | None) -> None:
            self.stopping.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.run_periodic()
        self.start()
        while not self.stopping.wait(0.5):
            pass
        self.stop()

    def run_once(self) -> int:
        """Deliver everything due now, run the periodic tasks once, and return the rounds."""
        self.run_periodic()
        rounds = drain(self.deps)
        self.http.close()
        return rounds

    def deliver_one_round(self) -> bool:
        return run_once(self.deps)
