"""What a worker runs, declared by the features that own the work (their `tasks.py`) and listed
in worker/registry.py; the runner (worker/runner.py) knows none of them by name.

- A **job kind** is work that comes in units, each held by one worker at a time under a lease
  (db/leases.py): a webhook endpoint's due deliveries, a queued CSV import (worker/queue.py).
  It declares its name, how to claim a unit (a short transaction that leases it, or None when
  nothing is due), how to run a claimed unit (record the outcome, release the lease), and how
  long its lease lasts. A worker killed mid-unit leaves the lease to expire; the next claim
  does the unit again.
- A **periodic task** is upkeep that runs at most once per interval across all worker
  processes (worker/periodic.py): expiring deliveries, purging old events and logs.
"""

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from floorsync.bootstrap import Services
from floorsync.config import Settings

S = TypeVar("S")  # what a kind's threads share in one worker process (an HTTP client, …)
U = TypeVar("U")  # one claimed unit


@dataclass(frozen=True)
class WorkerContext:
    """What the runner hands a job kind when it starts."""

    services: Services
    worker_id: str  # the lease owner written by this process's claims
    rng: random.Random
    stopping: threading.Event  # set on SIGTERM: finish the unit in hand, claim no more
    # `floorsync worker --once`: every unit due now is run, none held back (a webhook endpoint
    # resting after its batch, LINGER in webhooks/worker.py, is claimed too).
    draining: bool = False


def one_thread(_settings: Settings) -> int:
    return 1


def five_seconds(_settings: Settings) -> float:
    return 5.0


def nothing_to_close(_state: Any) -> None:
    return None


@dataclass(frozen=True)
class JobKind(Generic[S, U]):
    name: str
    # Per worker process, before its threads start: what claim and run share (`threads` is the
    # number of threads that will use it).
    setup: Callable[[WorkerContext, int], S]
    # A short transaction that leases one unit; None when nothing is due.
    claim: Callable[[S], U | None]
    # Does the claimed unit with no transaction held open, records the outcome and releases
    # the lease. Its exceptions are logged by the runner; the lease then expires.
    run: Callable[[S, U], None]
    # How long a claim holds its unit: a unit still running after that may be claimed again.
    lease: Callable[[Services], timedelta]
    teardown: Callable[[S], None] = nothing_to_close
    # Threads per worker process (0: this process doesn't run the kind).
    threads: Callable[[Settings], int] = one_thread
    # How long a stopping worker waits for a unit in flight to finish and be recorded.
    finish_within: Callable[[Settings], float] = five_seconds


def every_worker_period(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.worker_periodic_seconds)


@dataclass(frozen=True)
class PeriodicTask:
    name: str  # its row in periodic_tasks
    run: Callable[[Services], object]
    # The interval: a run starts no sooner than this after the previous run started, whichever
    # worker process ran it.
    every: Callable[[Settings], timedelta] = every_worker_period
    # How long a run may take before another worker may start the task again (a crashed run is
    # redone once its lease expires).
    lease: timedelta = timedelta(minutes=5)
