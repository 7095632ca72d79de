"""Overlapping bulk syncs on two API processes sharing one PostgreSQL database (issue 8, item 1).

Clients post 100-job bulk syncs over the same 100 external ids at the same moment, half in
ascending and half in descending key order, each with its own version of the jobs, spread over
two `floorsync serve` processes. Writes lock rows in one canonical order, so the opposite orders
queue instead of deadlocking: every record is created, updated or skipped (never an
INTERNAL_ERROR), every request is one transaction (all 100 rows end up with the same client's
version), each record's event is written once, and afterwards no connection waits on a lock.
"""

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.events import Event
from floorsync.models.master import Job
from tests.support.api_process import ApiProcess, start_api
from tests.support.locks import settled, wait_for_a_lock_wait
from tests.support.tenants import TenantHandle

KEYS = 100
# Bounds for a hang, not a performance target: the storms take a few seconds; before the fix the
# 8-client run took minutes.
REQUEST_TIMEOUT = 60
STORM_BUDGET_SECONDS = 45


@pytest.fixture(scope="module")
def api_pair(db_kind: str, settings: Settings) -> Iterator[list[ApiProcess]]:
    if db_kind != "postgresql":
        pytest.skip("row-lock storms between API processes need PostgreSQL (SQLite has one writer)")
    # At most 2 × 12 connections, so the suite stays well inside CI's 100.
    pool = {"FLOORSYNC_DB_POOL_SIZE": "8", "FLOORSYNC_DB_MAX_OVERFLOW": "4"}
    apis = [start_api(settings, **pool), start_api(settings, **pool)]
    yield apis
    hung = []
    for api in apis:  # every one, even if one hangs (ApiProcess.stop kills it then)
        try:
            api.stop()
        except subprocess.TimeoutExpired:
            hung.append(api.base_url)
    assert hung == [], "SIGTERM did not stop floorsync serve"


def job_items(tag: str, client: int) -> list[dict[str, Any]]:
    order = range(KEYS) if client % 2 == 0 else reversed(range(KEYS))
    return [
        {
            "external_id": f"{tag}-{i:03d}",
            "external_source": "ERP",
            "job_number": f"{tag}-J{i:03d}",
            "customer_name": f"client {client}",
            "priority": client % 5,
            "metadata": {"client": client},
        }
        for i in order
    ]


def storm(apis: list[ApiProcess], key: str, tag: str, clients: int) -> list[httpx.Response]:
    """Every client posts its bulk sync at the same moment, alternately to each process."""
    start = threading.Barrier(clients)

    def post(client: int) -> httpx.Response:
        api = apis[client % len(apis)]
        with httpx.Client(
            base_url=api.base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=REQUEST_TIMEOUT,
        ) as http:
            http.get("/api-cells", params={"limit": 1})  # authenticated and warm
            start.wait()
            return http.post("/api-jobs/bulk-sync", json={"items": job_items(tag, client)})

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(post, range(clients)))


def check_storm(
    apis: list[ApiProcess], tenant: TenantHandle, sessions: sessionmaker[Session], clients: int
) -> None:
    tag = uuid.uuid4().hex[:8]
    started = time.monotonic()
    responses = storm(apis, tenant.admin_key, tag, clients)
    elapsed = time.monotonic() - started

    assert [r.status_code for r in responses] == [200] * clients, [
        r.text[:300] for r in responses if r.status_code != 200
    ]
    actions: dict[str, int] = {}
    for response in responses:
        for record in response.json()["data"]["records"]:
            actions[record["action"]] = actions.get(record["action"], 0) + 1
    assert set(actions) <= {"created", "updated", "skipped"}, actions
    assert sum(actions.values()) == clients * KEYS
    assert actions["created"] == KEYS
    assert elapsed < STORM_BUDGET_SECONDS, f"{clients} overlapping bulk syncs took {elapsed:.1f} s"

    scope = TenantScope(tenant.id)
    with sessions() as session:
        rows = session.execute(
            scoped(Job, scope)
            .with_only_columns(Job.external_id, Job.customer, Job.metadata_)
            .where(Job.external_id.like(f"{tag}-%"))
        ).all()
        assert sorted(r.external_id for r in rows) == [f"{tag}-{i:03d}" for i in range(KEYS)]
        # Each request is one transaction writing all 100 rows: the last to commit wrote them all.
        assert len({(r.customer, r.metadata_["client"]) for r in rows}) == 1
        events = dict(
            session.execute(
                scoped(Event, scope)
                .with_only_columns(Event.type, func.count())
                .where(Event.entity_type == "job")
                .where(
                    Event.entity_id.in_(
                        select(Job.id).where(Job.external_id.like(f"{tag}-%")).scalar_subquery()
                    )
                )
                .group_by(Event.type)
            ).all()
        )
    assert events == {
        "job.created": KEYS,
        **({"job.updated": actions["updated"]} if actions.get("updated") else {}),
    }
    assert settled(sessions) == []


class TestOverlappingBulkSyncs:
    def test_eight_clients_in_opposite_key_orders_on_two_processes_all_succeed_in_seconds(
        self, api_pair: list[ApiProcess], tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        check_storm(api_pair, tenant, sessions, 8)

    def test_thirty_clients_in_opposite_key_orders_on_two_processes_all_succeed_in_seconds(
        self, api_pair: list[ApiProcess], tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        check_storm(api_pair, tenant, sessions, 30)


class TestShutdown:
    def test_sigterm_does_not_wait_for_a_request_stuck_behind_a_row_lock(
        self,
        db_kind: str,
        settings: Settings,
        tenant: TenantHandle,
        sessions: sessionmaker[Session],
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip("a request waiting on a row lock needs PostgreSQL (SQLite has one writer)")
        job = tenant.client.post("/api-jobs", json={"job_number": f"J-{uuid.uuid4().hex[:8]}"})
        job_id = uuid.UUID(job.json()["data"]["job"]["id"])
        # No lock timeout: only the shutdown timeout can end the stuck request.
        api = start_api(
            settings, FLOORSYNC_DB_LOCK_TIMEOUT_MS="0", FLOORSYNC_SHUTDOWN_TIMEOUT_SECONDS="2"
        )
        outcome: list[Any] = []
        with sessions() as blocker:
            blocker.execute(
                scoped(Job, TenantScope(tenant.id)).where(Job.id == job_id).with_for_update()
            ).all()

            def patch() -> None:
                try:
                    outcome.append(
                        httpx.patch(
                            f"{api.base_url}/api-jobs",
                            params={"id": str(job_id)},
                            json={"notes": "written while shutting down"},
                            headers={"Authorization": f"Bearer {tenant.admin_key}"},
                            timeout=REQUEST_TIMEOUT,
                        )
                    )
                except httpx.HTTPError as exc:
                    outcome.append(exc)

            client = threading.Thread(target=patch)
            client.start()
            try:
                wait_for_a_lock_wait(sessions)
                started = time.monotonic()
                exit_code = api.stop(timeout=15)
                stopped_in = time.monotonic() - started
            finally:
                blocker.rollback()
                client.join(REQUEST_TIMEOUT)
        assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f} s"
        assert exit_code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        # The stuck request was cancelled: its connection closed, or an error answer.
        assert len(outcome) == 1
        assert not isinstance(outcome[0], httpx.Response) or outcome[0].status_code >= 500
        with sessions() as session:
            notes = session.scalar(
                scoped(Job, TenantScope(tenant.id))
                .with_only_columns(Job.notes)
                .where(Job.id == job_id)
            )
        assert notes is None  # the cancelled request wrote nothing
        assert settled(sessions) == []
