"""The batch-lifecycle `monitor` action (api-catalogue-completion §11) under a fake clock, and
its periodic task run the way the worker runs it."""

import uuid

from sqlalchemy.orm import Session, sessionmaker

from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.events.tasks import PURGE
from floorsync.lifecycle.tasks import MONITOR
from floorsync.models.catalogue import BatchException
from tests.shopfloor.conftest import Clocked
from tests.shopfloor.helpers import event_types, events, fails, make_batch, make_job, ok
from tests.support.tenants import TenantHandle


def laser(c, ops, **extra):  # type: ignore[no-untyped-def]
    return make_batch(c, ops, batch_type="laser_nesting", production_mode="automated", **extra)


class TestMonitor:
    def test_overdue_members_open_exceptions_once_and_completion_resolves_them(
        self, clocked: Clocked, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=3, estimates=[10])
        batch = laser(c, tree.ops[:2], estimated_time=15)
        ok(c.post("/api-batch-lifecycle/start", params={"id": batch["id"]}))
        quiet = ok(c.post("/api-batch-lifecycle/monitor", params={"id": batch["id"]}))
        assert (quiet["monitored_batches"], quiet["created_exceptions"]) == (1, 0)
        clocked.minutes(30)
        data = ok(c.post("/api-batch-lifecycle/monitor", params={"id": batch["id"]}))
        assert list(data)[:3] == ["monitored_batches", "created_exceptions", "monitored_at"]
        assert (data["monitored_batches"], data["created_exceptions"], data["open_exceptions"]) == (
            1,
            2,
            2,
        )
        first = data["exceptions"][0]
        assert first["batch_number"] == batch["batch_number"]
        assert (first["exception_type"], first["status"], first["overdue_minutes"]) == (
            "non_occurrence",
            "open",
            15,
        )
        again = ok(c.post("/functions/v1/api-batch-lifecycle/monitor"))
        assert (again["created_exceptions"], again["open_exceptions"]) == (0, 2)
        ok(c.post("/api-operation-lifecycle/complete", params={"id": tree.ops[0]}))
        resolved = events(sessions, tenant.id, "batch_exception.resolved")
        assert [e.data["batch_exception"]["resolution"] for e in resolved] == [
            "operation_completed"
        ]
        assert resolved[0].data["caused_by"]["type"] == "operation.completed"
        ok(c.post("/api-batch-lifecycle/stop", params={"id": batch["id"]}))
        resolved = events(sessions, tenant.id, "batch_exception.resolved")
        assert [e.data["batch_exception"]["resolution"] for e in resolved] == [
            "operation_completed",
            "batch_completed",
        ]
        assert (
            event_types(sessions, tenant.id, "batch_exception.opened")
            == ["batch_exception.opened"] * 2
        )
        after = ok(c.post("/api-batch-lifecycle/monitor"))
        assert (after["monitored_batches"], after["open_exceptions"]) == (0, 0)

    def test_ineligible_batches_and_errors(
        self, clocked: Clocked, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = clocked.client(tenant)
        manual = make_batch(c, make_job(c, ops=1, estimates=[5]).ops)
        no_estimate = laser(c, make_job(c, ops=1).ops)
        ok(c.post("/api-batch-lifecycle/start", params={"id": no_estimate["id"]}))
        clocked.minutes(60)
        data = ok(c.post("/api-batch-lifecycle/monitor"))
        assert (data["monitored_batches"], data["created_exceptions"]) == (1, 0)
        assert (
            ok(c.post("/api-batch-lifecycle/monitor", params={"id": manual["id"]}))[
                "monitored_batches"
            ]
            == 0
        )
        fails(c.post("/api-batch-lifecycle/monitor", params={"id": "nope"}), 400, "BAD_REQUEST")
        fails(
            c.post("/api-batch-lifecycle/monitor", params={"id": str(uuid.uuid4())}),
            404,
            "NOT_FOUND",
            "Batch not found",
        )
        theirs = make_batch(
            clocked.client(other_tenant), make_job(clocked.client(other_tenant), ops=1).ops
        )
        fails(
            c.post("/api-batch-lifecycle/monitor", params={"id": theirs["id"]}),
            404,
            "NOT_FOUND",
            "Batch not found",
        )
        fails(c.get("/api-batch-lifecycle/monitor"), 405, "METHOD_NOT_ALLOWED")
        err = fails(
            c.post("/api-batch-lifecycle/explode", params={"id": manual["id"]}),
            400,
            "INVALID_OPERATION",
        )
        assert "start, stop, add-operations, monitor" in err["message"]

    def test_the_periodic_task_checks_every_tenant(
        self,
        clocked: Clocked,
        tenant: TenantHandle,
        settings: Settings,
        sessions: sessionmaker[Session],
    ) -> None:
        c = clocked.client(tenant)
        batch = laser(c, make_job(c, ops=1, estimates=[5]).ops)
        ok(c.post("/api-batch-lifecycle/start", params={"id": batch["id"]}))
        clocked.minutes(20)
        services = build_services(settings, clocked.clock)
        try:
            assert MONITOR.run(services) >= 1
        finally:
            services.close()
        opened = events(sessions, tenant.id, "batch_exception.opened")
        assert len(opened) == 1
        assert opened[0].data["origin"]["channel"] == "system"

    def test_retention_purge_drops_exceptions_resolved_over_90_days_ago(
        self,
        clocked: Clocked,
        tenant: TenantHandle,
        settings: Settings,
        sessions: sessionmaker[Session],
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=2, estimates=[5])
        batch = laser(c, tree.ops)
        ok(c.post("/api-batch-lifecycle/start", params={"id": batch["id"]}))
        clocked.minutes(20)
        assert ok(c.post("/api-batch-lifecycle/monitor"))["created_exceptions"] == 2
        ok(c.post("/api-operation-lifecycle/complete", params={"id": tree.ops[0]}))

        def kept() -> list[str]:
            with sessions() as s:
                rows = s.scalars(scoped(BatchException, TenantScope(tenant.id)))
                return sorted(str(getattr(r.status, "value", r.status)) for r in rows)

        services = build_services(settings, clocked.clock)
        try:
            clocked.minutes(89 * 24 * 60)
            PURGE.run(services)
            assert kept() == ["open", "resolved"]
            clocked.minutes(2 * 24 * 60)
            PURGE.run(services)
            assert kept() == ["open"]  # the open one stays however old
        finally:
            services.close()
