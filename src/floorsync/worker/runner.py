"""The worker shell: threads that claim and run units of the registered job kinds, a thread
that runs the periodic tasks when they are due, idle polling with an in-process wake-up, and a
clean stop on SIGTERM/SIGINT (finish the unit in flight, record it, release its lease, exit).

It knows no kind or task by name: worker/registry.py lists them. Used by `floorsync worker`
and, in background threads, by `floorsync serve`.
"""

import dataclasses
import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from types import FrameType
from typing import Any

from sqlalchemy.exc import DBAPIError

from floorsync.bootstrap import Services
from floorsync.db.engine import with_timeouts
from floorsync.ops.logs import database_error
from floorsync.worker.kinds import JobKind, WorkerContext
from floorsync.worker.periodic import PeriodicRunner
from floorsync.worker.registry import WorkerRegistry, registry_for

log = logging.getLogger("floorsync.worker")
MAX_DRAIN = 10_000  # units per kind in one `run_once`


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Started:
    """A job kind running in this process: its shared state and thread count."""

    def __init__(self, kind: JobKind[Any, Any], state: Any, threads: int) -> None:
        self.kind, self.state, self.threads = kind, state, threads


class WorkerRunner:
    def __init__(
        self,
        services: Services,
        *,
        registry: WorkerRegistry | None = None,
        threads: Mapping[str, int] | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`threads` overrides the thread count of kinds by name (`floorsync worker --threads`)."""
        # The worker's transactions run without the API's lock and statement timeouts: its
        # claims never wait (SKIP LOCKED), its other waits end with the API transactions they
        # wait for, a lock timeout while recording would send a batch twice, and a statement
        # timeout would fail a large expiry or purge on every round.
        self.sessions = with_timeouts(services.sessions, lock_ms=0, statement_ms=0)
        services = dataclasses.replace(services, sessions=self.sessions)
        self.services = services
        self.registry = registry or registry_for(services.settings)
        self.thread_counts = dict(threads or {})
        self.wake: threading.Event = services.worker_wake
        self.poll = services.settings.worker_poll_seconds
        self.worker_id = worker_id or new_worker_id()
        self.stopping = threading.Event()
        self.ctx = WorkerContext(services, self.worker_id, rng or random.Random(), self.stopping)
        self.periodic = PeriodicRunner(services, self.registry.periodic, self.worker_id)
        self._started: list[_Started] = []
        self._threads: list[threading.Thread] = []

    def _threads_for(self, kind: JobKind[Any, Any]) -> int:
        return self.thread_counts.get(kind.name, kind.threads(self.services.settings))

    def _start_kinds(self) -> list[_Started]:
        if not self._started:
            for kind in self.registry.kinds:
                n = self._threads_for(kind)
                if n > 0:
                    self._started.append(_Started(kind, kind.setup(self.ctx, n), n))
        return self._started

    def _close_kinds(self) -> None:
        for started in self._started:
            try:
                started.kind.teardown(started.state)
            except Exception:
                log.exception("%s: teardown failed", started.kind.name)
        self._started.clear()

    # ------------------------------------------------------------ loops

    def _round(self, started: _Started) -> bool:
        """Claim and run one unit; False when nothing was due."""
        kind, state = started.kind, started.state
        try:
            unit = kind.claim(state)
            if unit is None:
                return False
            began = time.perf_counter()
            log.debug("%s: claimed a unit", kind.name)
            kind.run(state, unit)
            log.debug("%s: unit done in %.0f ms", kind.name, (time.perf_counter() - began) * 1000)
        except DBAPIError as exc:
            # The database is down, locked or not migrated: one line (no traceback, and
            # ops.logs.RepeatFilter turns a storm of them into a count), then the poll pause.
            log.error("%s: round failed: %s", kind.name, database_error(exc))
            return False
        except Exception:
            log.exception("%s: round failed", kind.name)
            return False
        return True

    def _job_loop(self, started: _Started) -> None:
        while not self.stopping.is_set():
            if not self._round(started) and not self.stopping.is_set():
                self.wake.wait(self.poll)
                self.wake.clear()

    def run_periodic(self) -> float:
        """Run the periodic tasks that are due; returns the seconds until one may be due."""
        try:
            return self.periodic.run_due(self.stopping)
        except DBAPIError as exc:
            log.error("periodic tasks: could not read or claim them: %s", database_error(exc))
            return max(self.poll, 1.0)
        except Exception:
            log.exception("periodic tasks: could not read or claim them")
            return max(self.poll, 1.0)

    def _periodic_loop(self) -> None:
        while not self.stopping.is_set():
            self.stopping.wait(self.run_periodic())

    # ------------------------------------------------------------ control

    def start(self) -> None:
        for started in self._start_kinds():
            log.info(
                "worker %s: %s on %d thread(s)", self.worker_id, started.kind.name, started.threads
            )
            for i in range(started.threads):
                t = threading.Thread(
                    target=self._job_loop,
                    args=(started,),
                    name=f"floorsync-{started.kind.name}-{i}",
                    daemon=True,
                )
                t.start()
                self._threads.append(t)
        if self.registry.periodic:
            p = threading.Thread(target=self._periodic_loop, name="floorsync-periodic", daemon=True)
            p.start()
            self._threads.append(p)

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming, wait for the units in flight (each kind says how long they may take),
        then close the kinds. A unit that doesn't finish in time keeps its lease until it expires."""
        self.stopping.set()
        self.wake.set()
        if timeout is None:
            settings = self.services.settings
            timeout = max((s.kind.finish_within(settings) for s in self._started), default=5.0)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._close_kinds()

    def run_until_signalled(self) -> None:
        def _on_signal(_sig: int, _frame: FrameType | None) -> None:
            self.stopping.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        while not self.stopping.wait(0.5):
            pass
        self.stop()

    def run_once(self) -> dict[str, int]:
        """Run the periodic tasks that are due, then every unit of every kind that is due now;
        returns the units run per kind."""
        self.run_periodic()
        self.ctx = dataclasses.replace(self.ctx, draining=True)  # the kinds start with it
        done: dict[str, int] = {}
        try:
            for started in self._start_kinds():
                n = 0
                while n < MAX_DRAIN and self._round(started):
                    n += 1
                done[started.kind.name] = n
        finally:
            self._close_kinds()
            self.ctx = dataclasses.replace(self.ctx, draining=False)
        return done
