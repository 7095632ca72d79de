"""Real worker processes: SIGKILL mid-delivery loses nothing (Events and webhooks §14.2), and on
PostgreSQL three workers share 2,000 events with no loss, <1% duplicates, one request per
endpoint at a time and first attempts in sequence order (§14.6)."""

import random
import time
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.events.fanout import make_fanout
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import SystemClock
from floorsync.models.events import Event
from floorsync.models.webhooks import WebhookDelivery
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import Reply, WebhookReceiver
from tests.support.worker_process import kill, start_worker, stop
from tests.webhooks.conftest import register


def commit_events(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, n: int, per_txn: int = 25
) -> None:
    outbox = Outbox(SystemClock(), [make_fanout()])
    scope = TenantScope(tenant_id)
    for start in range(0, n, per_txn):
        with unit_of_work(sessions, outbox, scope) as work:
            for i in range(start, min(n, start + per_txn)):
                entity_service.create(work, CELLS, {"name": f"cell-{i}"})


def event_ids(sessions: sessionmaker[Session], tenant_id: uuid.UUID) -> set[str]:
    with sessions() as s:
        return {
            "evt_" + i.hex
            for i in s.scalars(scoped(Event, TenantScope(tenant_id)).with_only_columns(Event.id))
        }


def wait_until(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


class TestCrash:
    def test_sigkill_mid_delivery_then_restart_delivers_every_event_at_least_once(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        settings: Settings,
    ) -> None:
        path = f"/crash-{uuid.uuid4().hex[:8]}"  # ports get reused: count only this test's requests
        register(tenant, receiver.url_for(path))
        commit_events(sessions, tenant.id, 40)  # committed before any worker runs
        committed = event_ids(sessions, tenant.id)
        receiver.default = Reply(200, delay=0.15)  # hold each request open a little
        rng = random.Random(11)
        for _round in range(3):  # bounded random kill points, each while a request is in flight
            proc = start_worker(settings, "--threads", "2")
            target = len(receiver.requests) + rng.randint(1, 6)
            assert wait_until(
                lambda t=target: len(receiver.requests) >= t and receiver.in_flight > 0, 30
            ), proc.stderr
            kill(proc)
        receiver.default = Reply(200)
        proc = start_worker(settings, "--threads", "2")
        try:
            assert wait_until(
                lambda: committed <= {r.webhook_id for r in receiver.requests if r.path == path}, 60
            )
        finally:
            assert stop(proc) == 0
        received = [r.webhook_id for r in receiver.requests if r.path == path]
        assert set(received) == committed
        duplicated = len(received) - len(set(received))
        assert duplicated >= 1  # the in-flight requests of the killed workers were sent again


class TestManyWorkers:
    @pytest.mark.postgres_only
    def test_three_workers_and_two_thousand_events_lose_nothing_with_few_duplicates_in_order(
        self,
        db_kind: str,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        settings: Settings,
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip(
                "several worker processes share a PostgreSQL database; SQLite runs one worker"
            )
        tag = uuid.uuid4().hex[:8]
        paths = [f"/{tag}-a", f"/{tag}-b", f"/{tag}-c"]
        hooks = {  # one at a time: the mode that keeps first attempts in sequence order
            p: uuid.UUID(register(tenant, receiver.url_for(p), max_in_flight=1)["id"])
            for p in paths
        }
        workers = [
            start_worker(settings, "--threads", "4", FLOORSYNC_WEBHOOK_LEASE_SECONDS="30")
            for _ in range(3)
        ]
        try:
            commit_events(sessions, tenant.id, 2000, per_txn=50)
            committed = event_ids(sessions, tenant.id)
            assert len(committed) == 2000
            assert wait_until(
                lambda: all(
                    committed <= {r.webhook_id for r in receiver.requests if r.path == p}
                    for p in paths
                ),
                120,
            )
        finally:
            for w in workers:
                assert stop(w) == 0
        for p in paths:
            got = [r for r in receiver.requests if r.path == p]
            ids = [r.webhook_id for r in got]
            assert set(ids) == committed
            assert (len(ids) - len(set(ids))) / len(ids) < 0.01
            assert receiver.max_in_flight_by_path[p] == 1
            # First attempts go out in sequence order; a failed one (a timeout on a loaded
            # machine) steps aside for its retry while the later events keep flowing (issue 11),
            # so the order holds for every event delivered at its first attempt.
            with sessions() as s:
                retried = {
                    "evt_" + event_id.hex
                    for event_id in s.scalars(
                        select(WebhookDelivery.event_id).where(
                            WebhookDelivery.webhook_id == hooks[p], WebhookDelivery.attempts > 1
                        )
                    )
                }
            assert len(retried) / len(committed) < 0.01
            seqs = [r.json()["sequence"] for r in got if r.webhook_id not in retried]
            assert seqs == sorted(seqs)
        with sessions() as s:
            assert s.scalars(select(Event.id).where(Event.seq < 0)).first() is None
