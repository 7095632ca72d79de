"""The transactional outbox: atomicity, nothing for no-ops, the catalogue guard, and the payloads
of the record change events (Events and webhooks §2.3) for entity create, update and delete."""

import uuid
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.jobs import JOBS
from floorsync.events.fanout import make_fanout
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import SystemClock
from floorsync.models.events import Event
from floorsync.models.master import Job
from floorsync.models.webhooks import WebhookDelivery
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import register


def events_of(tenant: TenantHandle) -> list[dict[str, Any]]:
    return tenant.client.get("/api-events?limit=1000").json()["data"]["events"]  # type: ignore[no-any-return]


def count(sessions: sessionmaker[Session], scope: TenantScope, model: Any) -> int:
    with sessions() as s:
        return int(s.scalar(scoped(model, scope).with_only_columns(func.count())) or 0)


class Boom(Exception):
    pass


class TestAtomicity:
    def test_a_failure_after_the_write_and_before_commit_leaves_no_row_event_or_delivery(
        self, tenant: TenantHandle, receiver: WebhookReceiver, sessions: sessionmaker[Session]
    ) -> None:
        register(tenant, receiver.url)
        scope = TenantScope(tenant.id)

        def explode(*_a: Any) -> None:
            raise Boom

        outbox = Outbox(SystemClock(), [make_fanout(), explode])
        with pytest.raises(Boom), unit_of_work(sessions, outbox, scope) as work:
            entity_service.create(work, JOBS, {"job_number": "J-doomed"})
        assert (
            count(sessions, scope, Job),
            count(sessions, scope, Event),
            count(sessions, scope, WebhookDelivery),
        ) == (0, 0, 0)
        with unit_of_work(sessions, Outbox(SystemClock(), [make_fanout()]), scope) as work:
            entity_service.create(work, JOBS, {"job_number": "J-ok"})
        assert [e["sequence"] for e in events_of(tenant)] == [1]
        assert count(sessions, scope, WebhookDelivery) == 1

    def test_a_no_op_patch_and_a_failed_request_emit_nothing(self, tenant: TenantHandle) -> None:
        job = tenant.client.post(
            "/api-jobs", json={"job_number": "J-1", "customer": "Acme"}
        ).json()["data"]["job"]
        assert (
            tenant.client.patch(f"/api-jobs?id={job['id']}", json={"customer": "Acme"}).status_code
            == 200
        )
        assert tenant.client.post("/api-jobs", json={"job_number": "J-1"}).status_code == 409
        assert [e["type"] for e in events_of(tenant)] == ["job.created"]

    def test_the_outbox_refuses_a_type_outside_the_catalogue(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        with (
            pytest.raises(ValueError, match="catalogue"),
            unit_of_work(sessions, Outbox(SystemClock()), TenantScope(tenant.id)) as work,
        ):
            work.record("job.exploded", "job", uuid.uuid4(), {})
        assert count(sessions, TenantScope(tenant.id), Event) == 0


class TestRecordEventPayloads:
    def test_created_carries_the_record_without_children_and_origin(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "job_number": "J-1",
            "parts": [{"part_number": "P-1", "operations": [{"operation_name": "Cut"}]}],
        }
        job = tenant.client.post(
            "/api-jobs", json=body, headers={"x-request-id": "req-123"}
        ).json()["data"]["job"]
        evs = events_of(tenant)
        assert [e["type"] for e in evs] == ["job.created", "part.created", "operation.created"]
        assert [e["sequence"] for e in evs] == [1, 2, 3]
        data = evs[0]["data"]
        assert list(data) == ["job", "origin"]
        assert data["job"]["id"] == job["id"]
        assert "parts" not in data["job"]
        assert data["origin"]["channel"] == "api"
        assert data["origin"]["api_key_id"]
        assert evs[0]["id"] == "evt_" + uuid.UUID(evs[0]["id"][4:]).hex
        assert list(evs[0]) == [
            "id",
            "type",
            "event",
            "timestamp",
            "tenant_id",
            "sequence",
            "cursor",
            "data",
        ]
        assert evs[0]["tenant_id"] == str(tenant.id)
        assert evs[0]["timestamp"].endswith("Z")

    def test_updated_lists_changed_fields_and_previous_values(self, tenant: TenantHandle) -> None:
        job = tenant.client.post(
            "/api-jobs", json={"job_number": "J-1", "customer": "Acme"}
        ).json()["data"]["job"]
        tenant.client.patch(
            f"/api-jobs?id={job['id']}", json={"customer": "Acme BV", "priority": 3}
        )
        ev = events_of(tenant)[-1]
        assert ev["type"] == "job.updated"
        assert sorted(ev["data"]["changed_fields"]) == ["customer", "priority"]
        assert ev["data"]["previous"] == {"customer": "Acme", "priority": 0}
        assert ev["data"]["job"]["customer"] == "Acme BV"

    def test_soft_deleting_a_job_cascades_with_tombstones_and_caused_by(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "job_number": "J-1",
            "parts": [{"part_number": "P-1", "operations": [{"operation_name": "Cut"}]}],
        }
        job = tenant.client.post("/api-jobs", json=body).json()["data"]["job"]
        tenant.client.delete(f"/api-jobs?id={job['id']}")
        evs = events_of(tenant)[3:]
        assert [e["type"] for e in evs] == ["job.deleted", "part.deleted", "operation.deleted"]
        job_ev, part_ev, op_ev = (e["data"] for e in evs)
        assert list(job_ev["job"]) == [
            "id",
            "external_source",
            "external_id",
            "job_number",
            "deleted_at",
            "deleted_by",
        ]
        assert job_ev["hard"] is False
        assert "caused_by" not in job_ev
        assert list(part_ev["part"]) == [
            "id",
            "external_source",
            "external_id",
            "part_number",
            "job_id",
            "deleted_at",
            "deleted_by",
        ]
        for child in (part_ev, op_ev):
            assert child["caused_by"] == {"type": "job.deleted", "entity_id": job["id"]}

    def test_a_hard_delete_says_hard(self, tenant: TenantHandle) -> None:
        cell = tenant.client.post("/api-cells", json={"name": "Laser"}).json()["data"]["cell"]
        tenant.client.delete(f"/api-cells?id={cell['id']}&hard=true")
        ev = events_of(tenant)[-1]
        assert ev["type"] == "cell.deleted"
        assert ev["data"]["hard"] is True
        assert ev["data"]["cell"]["name"] == "Laser"


def test_no_tenant_filter_is_written_outside_the_repository_in_these_packages() -> None:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "src" / "floorsync"
    paths = [
        root / "events" / "feed.py",
        root / "events" / "retention.py",
        *(root / "webhooks").rglob("*.py"),
        *(root / "worker").rglob("*.py"),
    ]
    for path in paths:
        assert "tenant_id ==" not in path.read_text(), path
