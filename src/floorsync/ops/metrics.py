"""Prometheus metrics (prometheus-client), served at `/metrics`.

Two kinds of numbers:

- **Counted in the process** where things happen: requests (count and latency by function,
  method and status), sync records by entity and outcome, webhook delivery attempts by result,
  queued worker jobs by kind and result, and the lag between a job being due and a worker
  claiming it. `floorsync serve --workers N` runs N processes and `floorsync worker` runs in
  others, so these use prometheus-client's multiprocess mode: each process writes its values to
  memory-mapped files in one directory (`FLOORSYNC_METRICS_DIR`, default
  `<FLOORSYNC_DATA_DIR>/metrics`), and a scrape of any API process adds up the files of every
  process on the machine. `prepare_multiprocess` (called by `serve` and `worker` before any
  metric exists) points prometheus-client at that directory and removes the files of processes
  that are gone, so a restart begins from zero instead of adding to a dead process's numbers.
- **Read from the database at scrape time**, so they are right whichever process or machine did
  the work: pending webhook deliveries and the age of the oldest one per endpoint, and queued
  worker jobs and the age of the oldest due one per kind.

Metric objects are created on first use (`instruments()`), after `prepare_multiprocess` has
chosen the mode; a process that never called it (tests, an embedded app) counts in memory.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.kit.clock import Clock
from floorsync.models.bookkeeping import WorkerJob
from floorsync.models.enums import DeliveryStatus, WorkerJobState
from floorsync.models.webhooks import WebhookDelivery

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PID_FILE = re.compile(r"_(\d+)\.db$")
# Request latency buckets (seconds): a read is a few ms, a 1000-record bulk sync a few tenths.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LAG_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_dead_files(directory: Path) -> list[Path]:
    """Delete the metric files of processes that no longer run; returns what was removed."""
    removed = []
    for path in directory.glob("*.db"):
        match = _PID_FILE.search(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def prepare_multiprocess(directory: Path) -> Path:
    """Use multiprocess mode with `directory` in this process and its children (uvicorn's
    worker processes inherit the environment). An existing PROMETHEUS_MULTIPROC_DIR wins."""
    chosen = Path(os.environ.get(MULTIPROC_ENV) or directory).resolve()
    chosen.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(chosen)
    remove_dead_files(chosen)
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call] # in case prometheus_client was imported already
    return chosen


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


@dataclass(frozen=True)
class Instruments:
    requests: Any
    request_seconds: Any
    sync_records: Any
    delivery_attempts: Any
    jobs: Any
    job_lag_seconds: Any


@lru_cache(maxsize=1)
def instruments() -> Instruments:
    from prometheus_client import Counter, Histogram

    return Instruments(
        requests=Counter(
            "floorsync_http_requests",
            "HTTP requests answered, by function (route), method and status",
            ["function", "method", "status"],
        ),
        request_seconds=Histogram(
            "floorsync_http_request_duration_seconds",
            "Time to answer an HTTP request, by function (route), method and status",
            ["function", "method", "status"],
            buckets=LATENCY_BUCKETS,
        ),
        sync_records=Counter(
            "floorsync_sync_records",
            "Records of committed sync runs, by entity and outcome (created, updated, skipped, error, deleted)",
            ["entity", "outcome"],
        ),
        delivery_attempts=Counter(
            "floorsync_webhook_delivery_attempts",
            "Webhook delivery attempts, by result (succeeded, http_error, timeout, …)",
            ["result"],
        ),
        jobs=Counter(
            "floorsync_worker_jobs",
            "Queued worker jobs run, by kind and result (succeeded, retried, failed, lost)",
            ["kind", "result"],
        ),
        job_lag_seconds=Histogram(
            "floorsync_worker_job_lag_seconds",
            "Seconds between a queued job becoming due and a worker claiming it, by kind",
            ["kind"],
            buckets=LAG_BUCKETS,
        ),
    )


def observe_request(function: str, method: str, status: int, seconds: float) -> None:
    m = instruments()
    labels = (function, method, str(status))
    m.requests.labels(*labels).inc()
    m.request_seconds.labels(*labels).observe(seconds)


class DatabaseCollector:
    """Gauges read from the database when /metrics is scraped (two grouped queries)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock

    def _age(self, now: datetime, oldest: datetime | None) -> float:
        return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily(
            "floorsync_outbox_pending_deliveries",
            "Webhook deliveries not yet delivered (pending), per endpoint",
            labels=["webhook_id"],
        )
        oldest = GaugeMetricFamily(
            "floorsync_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered event, per endpoint (0 when none is pending)",
            labels=["webhook_id"],
        )
        queued = GaugeMetricFamily(
            "floorsync_worker_queue_depth",
            "Worker jobs queued or running, per kind",
            labels=["kind"],
        )
        lag = GaugeMetricFamily(
            "floorsync_worker_queue_lag_seconds",
            "How long the oldest due queued job has been waiting for a worker, per kind",
            labels=["kind"],
        )
        now = self.clock.now()
        with self.sessions() as session:
            for webhook_id, count, first in session.execute(
                select(
                    WebhookDelivery.webhook_id,
                    func.count(),
                    func.min(WebhookDelivery.created_at),
                )
                .where(WebhookDelivery.status == DeliveryStatus.pending)
                .group_by(WebhookDelivery.webhook_id)
            ):
                depth.add_metric([str(webhook_id)], count)
                oldest.add_metric([str(webhook_id)], self._age(now, first))
            for kind, count in session.execute(
                select(WorkerJob.kind, func.count())
                .where(WorkerJob.state.in_((WorkerJobState.queued, WorkerJobState.running)))
                .group_by(WorkerJob.kind)
            ):
                queued.add_metric([kind], count)
            for kind, due in session.execute(
                select(WorkerJob.kind, func.min(WorkerJob.run_after))
                .where(WorkerJob.state == WorkerJobState.queued, WorkerJob.run_after <= now)
                .group_by(WorkerJob.kind)
            ):
                lag.add_metric([kind], self._age(now, due))
            session.rollback()
        yield from (depth, oldest, queued, lag)


def exposition(sessions: sessionmaker[Session], clock: Clock) -> tuple[bytes, str]:
    """The text exposition: the counted metrics (of every process in multiprocess mode) and the
    database gauges."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from prometheus_client.multiprocess import MultiProcessCollector

    instruments()  # the counted metrics exist (at zero) even before their first event
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(sessions, clock))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward:
    """The in-process registry's metrics, inside another registry."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()
