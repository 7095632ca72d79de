"""Concurrent syncs of the same keys (API §4.12): the unique key is the arbiter — one row per
key, never a 500 or a duplicate. Real concurrency needs PostgreSQL (SQLite serialises writers)."""

import threading
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.support.api import events
from tests.support.tenants import TenantHandle
from tests.sync.helpers import job_body, rows


@pytest.fixture
def postgresql_only(db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip(
            "SQLite serialises writers (BEGIN IMMEDIATE); concurrency is tested on PostgreSQL"
        )


def in_parallel(
    tenant: TenantHandle, n: int, call: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """Run `call` from n threads, each with its own HTTP connection, released together."""
    clients = [tenant.client_for(tenant.admin_key) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def run(client: httpx.Client, i: int) -> None:
        barrier.wait()
        response = call(client, i)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.usefixtures("postgresql_only")
class TestConcurrentSyncs:
    def test_50_concurrent_syncs_of_one_new_key_make_one_row_and_answer_only_200_or_201(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body = job_body("SO-RACE", customer="Acme")
        results = in_parallel(tenant, 50, lambda c, _i: c.put("/api-jobs/sync", json=body))
        statuses = [r.status_code for r in results]
        assert set(statuses) <= {200, 201}, [
            r.text for r in results if r.status_code not in (200, 201)
        ]
        assert statuses.count(201) == 1
        assert {r.json()["data"]["id"] for r in results} == {results[0].json()["data"]["id"]}
        assert rows(sessions, tenant.id, "jobs") == 1
        assert len(events(sessions, tenant.id, "job.created")) == 1
        assert events(sessions, tenant.id, "job.updated") == []

    def test_concurrent_syncs_of_one_key_with_different_values_each_update_or_skip(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        results = in_parallel(
            tenant,
            20,
            lambda c, i: c.put("/api-jobs/sync", json=job_body("SO-RACE2", priority=i % 3)),
        )
        assert {r.status_code for r in results} <= {200, 201}
        assert [r.status_code for r in results].count(201) == 1
        assert rows(sessions, tenant.id, "jobs") == 1
        written = len(events(sessions, tenant.id, "job.created", "job.updated"))
        assert written == sum(1 for r in results if r.json()["data"]["action"] != "skipped")

    def test_overlapping_concurrent_bulk_syncs_write_each_key_once(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        items = [
            job_body(f"SO-{i:03d}", parts=[{"external_id": f"SO-{i:03d}-1", "part_number": "P"}])
            for i in range(200)
        ]

        def call(client: httpx.Client, i: int) -> httpx.Response:
            window = items[i * 50 : i * 50 + 100]  # each request overlaps the next by half
            return client.post("/api-jobs/bulk-sync", json={"items": window})

        results = in_parallel(tenant, 4, call)
        assert all(r.status_code == 200 for r in results)
        assert all(r.json()["data"]["failed"] == 0 for r in results)
        assert rows(sessions, tenant.id, "jobs") == 200
        assert rows(sessions, tenant.id, "parts") == 200
        assert len(events(sessions, tenant.id, "job.created")) == 200
        assert sum(r.json()["data"]["created"] for r in results) == 200
