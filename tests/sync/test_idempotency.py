"""`Idempotency-Key` on POST and PUT (API §1.14, data model §7.2)."""

import threading
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import Session, sessionmaker

from floorsync.http.idempotency import fingerprint
from floorsync.kit.clock import SystemClock
from floorsync.kit.ids import new_id
from floorsync.models.bookkeeping import IdempotencyKey
from floorsync.models.enums import IdempotencyState
from tests.support.api import events, fails, ok
from tests.support.tenants import TenantHandle
from tests.sync.helpers import job_body, key, rows


def put(
    client: httpx.Client, body: Any, idem: str, path: str = "/api-jobs/sync", **kw: Any
) -> httpx.Response:
    return client.put(path, json=body, headers={"Idempotency-Key": idem}, **kw)


def claim_row(
    sessions: sessionmaker[Session],
    tenant: TenantHandle,
    idem: str,
    fp: str,
    *,
    locked_for: float,
    age: float = 0,
) -> None:
    now = SystemClock().now()
    with sessions.begin() as session:
        session.add(
            IdempotencyKey(
                id=new_id(),
                tenant_id=tenant.id,
                key=idem,
                fingerprint=fp,
                state=IdempotencyState.in_progress,
                locked_until=now + timedelta(seconds=locked_for),
                created_at=now - timedelta(seconds=age),
                expires_at=now - timedelta(seconds=age) + timedelta(hours=24),
            )
        )


class TestReplay:
    def test_the_same_key_and_request_replay_the_first_response_byte_for_byte(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        body, idem = job_body(), key()
        first = put(tenant.client, body, idem)
        assert first.status_code == 201
        assert "idempotency-replayed" not in first.headers
        reordered = orjson.dumps(dict(reversed(list(body.items()))))
        second = tenant.client.put(
            "/functions/v1/api-jobs/sync/",
            content=b"  " + reordered,
            headers={"Idempotency-Key": idem},
        )
        assert (second.status_code, second.content) == (201, first.content)
        assert second.headers["idempotency-replayed"] == "true"
        assert second.headers["x-request-id"] != first.headers["x-request-id"]
        assert len(events(sessions, tenant.id)) == 1

    def test_query_parameter_order_does_not_change_the_fingerprint(
        self, tenant: TenantHandle
    ) -> None:
        idem, body = key(), {"items": [job_body()]}
        first = tenant.client.post(
            "/api-jobs/bulk-sync?skip_unchanged=true&atomic=false",
            json=body,
            headers={"Idempotency-Key": idem},
        )
        second = tenant.client.post(
            "/api-jobs/bulk-sync?atomic=false&skip_unchanged=true",
            json=body,
            headers={"Idempotency-Key": idem},
        )
        assert second.headers.get("idempotency-replayed") == "true"
        assert second.content == first.content

    def test_a_create_is_not_repeated_on_retry(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem = key()
        for _ in range(3):
            resp = tenant.client.post(
                "/api-jobs", json={"job_number": "J-once"}, headers={"Idempotency-Key": idem}
            )
            assert resp.status_code == 201
        assert rows(sessions, tenant.id, "jobs") == 1

    def test_a_failed_atomic_run_is_replayed_as_answered(self, tenant: TenantHandle) -> None:
        idem, body = (
            key(),
            {"items": [job_body(), job_body(priority=-1)], "options": {"atomic": True}},
        )
        first = tenant.client.post(
            "/api-jobs/bulk-sync", json=body, headers={"Idempotency-Key": idem}
        )
        second = tenant.client.post(
            "/api-jobs/bulk-sync", json=body, headers={"Idempotency-Key": idem}
        )
        assert first.json()["data"]["committed"] is False
        assert (second.headers.get("idempotency-replayed"), second.content) == (
            "true",
            first.content,
        )


class TestConflicts:
    def test_the_same_key_with_another_request_is_409(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem = key()
        ok(put(tenant.client, job_body("A"), idem), 201)
        fails(
            put(tenant.client, job_body("B"), idem),
            409,
            "CONFLICT",
            "Idempotency-Key was already used with a different request",
        )
        fails(
            tenant.client.post(
                "/api-jobs/bulk-sync",
                json={"items": [job_body("A")]},
                headers={"Idempotency-Key": idem},
            ),
            409,
            "CONFLICT",
        )
        assert rows(sessions, tenant.id, "jobs") == 1

    def test_the_same_key_while_the_first_request_runs_is_409(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem, body = key(), job_body()
        claim_row(
            sessions,
            tenant,
            idem,
            fingerprint("PUT", "/api-jobs/sync", "", orjson.dumps(body)),
            locked_for=60,
        )
        fails(
            put(tenant.client, body, idem),
            409,
            "CONFLICT",
            "A request with this Idempotency-Key is still being processed",
        )
        assert rows(sessions, tenant.id, "jobs") == 0

    def test_a_claim_abandoned_by_a_crashed_request_is_taken_over_after_its_lease(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem, body = key(), job_body()
        claim_row(sessions, tenant, idem, "0" * 64, locked_for=-1)
        ok(put(tenant.client, body, idem), 201)
        assert put(tenant.client, body, idem).headers["idempotency-replayed"] == "true"

    def test_a_key_older_than_24_hours_is_fresh_again(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem = key()
        claim_row(sessions, tenant, idem, "0" * 64, locked_for=60, age=25 * 3600)
        ok(put(tenant.client, job_body(), idem), 201)

    def test_keys_are_per_tenant(self, tenant: TenantHandle, other_tenant: TenantHandle) -> None:
        idem = key()
        ok(put(tenant.client, job_body("A"), idem), 201)
        ok(put(other_tenant.client, job_body("B"), idem), 201)


class TestRelease:
    def test_an_error_releases_the_key_for_a_corrected_retry(self, tenant: TenantHandle) -> None:
        idem = key()
        fails(put(tenant.client, job_body("A", priority=-1), idem), 422, "VALIDATION_ERROR")
        fails(put(tenant.client, job_body("A", priority=-1), idem), 422, "VALIDATION_ERROR")
        ok(put(tenant.client, job_body("A", priority=1), idem), 201)

    def test_dry_runs_are_never_stored(self, tenant: TenantHandle) -> None:
        idem, body = key(), job_body()
        first = put(tenant.client, body, idem, params={"dry_run": "true"})
        second = put(tenant.client, body, idem, params={"dry_run": "true"})
        assert "idempotency-replayed" not in second.headers
        assert first.status_code == second.status_code == 200
        ok(put(tenant.client, body, idem), 201)

    def test_other_methods_ignore_the_header_and_malformed_keys_are_400(
        self, tenant: TenantHandle
    ) -> None:
        idem = key()
        created = ok(put(tenant.client, job_body(), idem), 201)
        listed = tenant.client.get("/api-jobs", headers={"Idempotency-Key": idem})
        assert "idempotency-replayed" not in listed.headers
        ok(
            tenant.client.patch(
                "/api-jobs",
                params={"id": created["id"]},
                json={"notes": "x"},
                headers={"Idempotency-Key": idem},
            )
        )
        fails(put(tenant.client, job_body(), "x" * 256), 400, "BAD_REQUEST")
        fails(put(tenant.client, job_body(), "tab\there"), 400, "BAD_REQUEST")


class TestConcurrentRetries:
    def test_concurrent_retries_of_one_request_execute_it_once(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem, body = key(), {"items": [job_body(f"C{i}") for i in range(50)]}
        clients = [tenant.client_for(tenant.admin_key) for _ in range(8)]
        results: list[httpx.Response] = []
        barrier = threading.Barrier(len(clients))

        def retry(client: httpx.Client) -> None:
            barrier.wait()
            results.append(
                client.post("/api-jobs/bulk-sync", json=body, headers={"Idempotency-Key": idem})
            )

        threads = [threading.Thread(target=retry, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status_code for r in results)
        assert set(statuses) <= {200, 409}
        winners = [r for r in results if r.status_code == 200]
        assert winners
        assert len({r.content for r in winners}) == 1
        assert sum(1 for r in winners if "idempotency-replayed" not in r.headers) == 1
        for r in results:
            if r.status_code == 409:
                assert (
                    r.json()["error"]["message"]
                    == "A request with this Idempotency-Key is still being processed"
                )
        assert rows(sessions, tenant.id, "jobs") == 50
        assert len(events(sessions, tenant.id, "job.created")) == 50


class TestStoredReplies:
    def test_a_reply_that_shows_a_secret_once_is_stored_sealed_and_replayed_exactly(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        idem = key()
        first = tenant.client.post(
            "/api-key-generate", json={"name": "ERP"}, headers={"Idempotency-Key": idem}
        )
        assert first.status_code == 201
        plaintext = first.json()["data"]["api_key"]
        with sessions() as session:
            stored = (
                session.query(IdempotencyKey).filter(IdempotencyKey.key == idem).one().response_body
            )
        assert stored is not None
        assert plaintext.encode() not in stored
        again = tenant.client.post(
            "/api-key-generate", json={"name": "ERP"}, headers={"Idempotency-Key": idem}
        )
        assert again.headers["idempotency-replayed"] == "true"
        assert again.content == first.content
