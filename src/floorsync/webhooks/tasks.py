"""The webhook feature's background work, declared for the worker (worker/registry.py lists it):
the delivery job kind and four periodic upkeep tasks."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.webhooks.delivery import make_http_client
from floorsync.webhooks.queue_vacuum import vacuum_queue
from floorsync.webhooks.schemas import MAX_IN_FLIGHT
from floorsync.webhooks.worker import (
    Claim,
    DeliveryDeps,
    claim_endpoint,
    deliver,
    drop_expired_previous_secrets,
    expire_deliveries,
    purge_logs,
    purge_succeeded_deliveries,
)
from floorsync.worker.kinds import JobKind, PeriodicTask, WorkerContext


def _deps(ctx: WorkerContext, threads: int) -> DeliveryDeps:
    """Per worker process: one HTTP client and a pool of sender threads, both sized so every
    delivery thread can keep an endpoint's `max_in_flight` (at most 16) requests in flight with
    its connections kept alive between requests."""
    services, kit = ctx.services, ctx.services.webhooks
    width = max(1, threads) * MAX_IN_FLIGHT
    http = make_http_client(
        kit.config.timeout_seconds, kit.config.connect_timeout_seconds, max_connections=width
    )
    senders = ThreadPoolExecutor(max_workers=width, thread_name_prefix="floorsync-webhook-send")
    return DeliveryDeps(
        services.sessions,
        services.outbox,
        services.clock,
        kit,
        http,
        ctx.worker_id,
        ctx.rng,
        senders=senders,
        stopping=ctx.stopping,
        past_linger=ctx.draining,
    )


def _close(deps: DeliveryDeps) -> None:
    if deps.senders is not None:
        deps.senders.shutdown(wait=True, cancel_futures=True)
    deps.http.close()


def _delivery_threads(settings: Settings) -> int:
    return settings.worker_delivery_threads


def _request_and_record(settings: Settings) -> float:
    return settings.webhook_timeout_seconds + 5


# A unit is one endpoint's batch of due deliveries, sent in sequence order (webhooks/worker.py).
DELIVERY: JobKind[DeliveryDeps, Claim] = JobKind(
    name="webhooks.delivery",
    setup=_deps,
    claim=claim_endpoint,
    run=deliver,
    teardown=_close,
    lease=lambda services: services.webhooks.config.lease,
    threads=_delivery_threads,
    finish_within=_request_and_record,
)


def _expire(services: Services) -> int:
    return expire_deliveries(services.sessions, services.clock, services.webhooks)


def _drop_secrets(services: Services) -> None:
    drop_expired_previous_secrets(services.sessions, services.clock)


def _purge_history(services: Services) -> int:
    """The webhook history's upkeep: succeeded deliveries past their retention, then attempt
    logs past theirs (one task, so the list of upkeep tasks stays as it was)."""
    deliveries = purge_succeeded_deliveries(services.sessions, services.clock, services.webhooks)
    return deliveries + purge_logs(services.sessions, services.clock, services.webhooks)


def _vacuum(services: Services) -> int:
    return vacuum_queue(services.sessions)


def _vacuum_every(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.webhook_vacuum_seconds)


EXPIRE = PeriodicTask("webhooks.expire", _expire)
VACUUM = PeriodicTask("webhooks.vacuum", _vacuum, every=_vacuum_every)
SECRETS = PeriodicTask("webhooks.secrets", _drop_secrets)
LOGS = PeriodicTask("webhooks.logs", _purge_history)
