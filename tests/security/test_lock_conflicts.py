"""Lock conflicts seen by a client (issue 8, item 1; PostgreSQL): a deadlock or a lock timeout
rolls the request's whole unit of work back and runs it again; when the runs are used up the
answer is 503 SERVICE_UNAVAILABLE with Retry-After and nothing was written — never a record's
INTERNAL_ERROR next to records that were committed."""

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, text
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.transient import ATTEMPTS
from floorsync.models.events import Event
from floorsync.models.master import Job
from tests.support.locks import settled, wait_for_a_lock_wait
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle

RETRIED = "rolled back by the database"


@pytest.fixture(scope="module")
def impatient(db_kind: str, settings: Settings) -> Iterator[LiveServer]:
    """A server whose requests wait at most 300 ms for a row lock."""
    if db_kind != "postgresql":
        pytest.skip("row-lock waits and deadlocks between transactions need PostgreSQL")
    live = start_server(settings.model_copy(update={"db_lock_timeout_ms": 300}))
    yield live
    live.stop()


def client_of(server: LiveServer, tenant: TenantHandle) -> httpx.Client:
    client = httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
        timeout=60,
    )
    tenant._clients.append(client)  # closed with the tenant
    return client


def two_jobs(tenant: TenantHandle) -> tuple[str, dict[str, uuid.UUID]]:
    """Jobs `<tag>-a` and `<tag>-b` (customer "v1"); returns the tag and their ids."""
    tag = uuid.uuid4().hex[:8]
    reply = tenant.client.post("/api-jobs/bulk-sync", json={"items": items(tag, "v1")})
    assert reply.status_code == 200
    ids = {r["external_id"][-1]: uuid.UUID(r["id"]) for r in reply.json()["data"]["records"]}
    return tag, ids


def items(tag: str, version: str) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"{tag}-{k}",
            "external_source": "ERP",
            "job_number": f"{tag}-{k}",
            "customer_name": version,
        }
        for k in ("a", "b")
    ]


class RowLock:
    """A transaction of the test holding row locks of jobs (`FOR UPDATE`) until released."""

    def __init__(self, sessions: sessionmaker[Session], tenant: TenantHandle) -> None:
        self.session = sessions()
        self.scope = TenantScope(tenant.id)

    def take(self, job_id: uuid.UUID) -> None:
        self.session.execute(
            scoped(Job, self.scope).where(Job.id == job_id).with_for_update()
        ).all()

    def release(self) -> None:
        self.session.rollback()
        self.session.close()


def state(
    sessions: sessionmaker[Session], tenant: TenantHandle, ids: dict[str, uuid.UUID]
) -> tuple[dict[str, Any], int]:
    """(customer and status of each job, events about them after their creation)."""
    scope = TenantScope(tenant.id)
    with sessions() as session:
        rows = session.execute(
            scoped(Job, scope)
            .with_only_columns(Job.external_id, Job.customer, Job.status, Job.notes)
            .where(Job.id.in_(ids.values()))
        ).all()
        events = session.scalar(
            scoped(Event, scope)
            .with_only_columns(func.count())
            .where(Event.entity_id.in_(ids.values()), Event.type != "job.created")
        )
    return {r.external_id[-1]: (r.customer, str(r.status), r.notes) for r in rows}, int(events or 0)


def assert_busy(reply: httpx.Response) -> None:
    assert reply.status_code == 503, reply.text
    assert reply.headers["Retry-After"] == "2"
    assert reply.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


class TestLockTimeouts:
    def test_a_bulk_sync_that_cannot_lock_a_row_answers_503_after_its_retries_and_writes_nothing(
        self,
        impatient: LiveServer,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        tag, ids = two_jobs(tenant)
        before = state(sessions, tenant, ids)
        http = client_of(impatient, tenant)
        lock = RowLock(sessions, tenant)
        lock.take(ids["b"])
        try:
            with caplog.at_level(logging.INFO, logger="floorsync.db"):
                reply = http.post(
                    "/api-jobs/bulk-sync",
                    json={"items": items(tag, "v2")},
                    headers={"Idempotency-Key": f"k-{tag}"},
                )
        finally:
            lock.release()
        assert_busy(reply)
        # Job a was written before job b's lock timed out, and rolled back with it.
        assert state(sessions, tenant, ids) == before
        assert len([r for r in caplog.records if RETRIED in r.message]) == ATTEMPTS - 1
        # The idempotency key was released: the same request now runs (it is not a replay).
        again = http.post(
            "/api-jobs/bulk-sync",
            json={"items": items(tag, "v2")},
            headers={"Idempotency-Key": f"k-{tag}"},
        )
        assert again.status_code == 200
        assert "Idempotency-Replayed" not in again.headers
        assert [r["action"] for r in again.json()["data"]["records"]] == ["updated", "updated"]
        assert settled(sessions) == []

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("PUT", "/api-jobs/sync", "item"),
            ("PATCH", "/api-jobs?id={b}", {"notes": "changed"}),
            ("POST", "/api-job-lifecycle/start?id={b}", {}),
            ("DELETE", "/api-jobs?id={b}", None),
        ],
        ids=["single-sync", "update", "lifecycle", "delete"],
    )
    def test_a_single_record_write_that_cannot_lock_its_row_answers_503_and_writes_nothing(
        self,
        impatient: LiveServer,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        method: str,
        path: str,
        body: Any,
    ) -> None:
        tag, ids = two_jobs(tenant)
        before = state(sessions, tenant, ids)
        if body == "item":
            body = items(tag, "v2")[1]
        lock = RowLock(sessions, tenant)
        lock.take(ids["b"])
        try:
            reply = client_of(impatient, tenant).request(method, path.format(b=ids["b"]), json=body)
        finally:
            lock.release()
        assert_busy(reply)
        assert state(sessions, tenant, ids) == before

    def test_a_request_whose_lock_frees_up_between_runs_succeeds_and_writes_once(
        self,
        impatient: LiveServer,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        _tag, ids = two_jobs(tenant)
        lock = RowLock(sessions, tenant)
        lock.take(ids["b"])
        # Released while the first run waits (300 ms lock timeout) or during the back-off.
        timer = threading.Timer(0.25, lock.release)
        timer.start()
        try:
            with caplog.at_level(logging.INFO, logger="floorsync.db"):
                reply = client_of(impatient, tenant).patch(
                    "/api-jobs", params={"id": str(ids["b"])}, json={"notes": "changed"}
                )
        finally:
            timer.join()
        assert reply.status_code == 200, reply.text
        rows, events = state(sessions, tenant, ids)
        assert rows["b"][2] == "changed"
        assert events == 1  # one job.updated: a rolled-back run leaves no event


class TestDeadlocks:
    def test_a_bulk_sync_chosen_as_a_deadlock_victim_runs_again_and_succeeds(
        self,
        db_kind: str,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip("SQLite has one writer at a time: a request cannot deadlock")
        tag, ids = two_jobs(tenant)
        lock = RowLock(sessions, tenant)
        # The request, which starts waiting first, runs the deadlock check first: it is the victim.
        lock.session.execute(text("SET deadlock_timeout = '10s'"))
        lock.take(ids["b"])
        replies: list[httpx.Response] = []
        request = threading.Thread(
            target=lambda: replies.append(
                tenant.client.post("/api-jobs/bulk-sync", json={"items": items(tag, "v2")})
            )
        )
        with caplog.at_level(logging.INFO, logger="floorsync.db"):
            request.start()
            try:
                wait_for_a_lock_wait(sessions)  # the request holds job a and waits for job b
                lock.take(ids["a"])  # … and now we wait for job a: a deadlock
            finally:
                lock.release()
                request.join(30)
        assert len(replies) == 1
        assert replies[0].status_code == 200, replies[0].text
        records = replies[0].json()["data"]["records"]
        assert [r["action"] for r in records] == ["updated", "updated"]
        retried = [r.getMessage() for r in caplog.records if RETRIED in r.message]
        assert len(retried) == 1
        assert "40P01" in retried[0]
        rows, events = state(sessions, tenant, ids)
        assert {k: v[0] for k, v in rows.items()} == {"a": "v2", "b": "v2"}
        assert events == 2  # one job.updated each
