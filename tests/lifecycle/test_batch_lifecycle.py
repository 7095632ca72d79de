"""`api-batch-lifecycle` (API §5.4) and the batch state machine (lifecycle and PATCH together):
every cell, time entries, exact time distribution, roll-up and events."""

import uuid
from collections.abc import Mapping

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.conftest import Clocked
from tests.shopfloor.helpers import (
    constraint_of,
    event_types,
    events,
    fails,
    make_batch,
    make_job,
    ok,
)
from tests.support.tenants import TenantHandle

STATUSES = ("draft", "ready", "in_progress", "completed", "cancelled")


def act(
    client: httpx.Client, action: str, batch_id: str, body: Mapping[str, object] | None = None
) -> httpx.Response:
    return client.post(f"/api-batch-lifecycle/{action}", params={"id": batch_id}, json=body or {})


def batch_in(client: httpx.Client, status: str, *, ops: int = 1) -> dict[str, object]:
    """A batch brought to `status` through PATCH and the lifecycle."""
    tree = make_job(client, ops=ops)
    batch = make_batch(client, tree.ops)
    if status == "ready":
        ok(client.patch("/api-batches", params={"id": batch["id"]}, json={"status": "ready"}))
    elif status == "cancelled":
        ok(client.patch("/api-batches", params={"id": batch["id"]}, json={"status": "cancelled"}))
    elif status in ("in_progress", "completed"):
        ok(act(client, "start", str(batch["id"]), {"operator_id": "OP"}))
        if status == "completed":
            ok(act(client, "stop", str(batch["id"])))
    return batch


class TestStateMachine:
    @pytest.mark.parametrize("status", STATUSES)
    def test_start_stop_and_add_operations_from_every_status(
        self, tenant: TenantHandle, status: str
    ) -> None:
        c = tenant.client
        spare = make_job(c, ops=1).ops[0]
        batch = str(batch_in(c, status)["id"])
        add = act(c, "add-operations", batch, {"operation_ids": [spare]})
        if status in ("draft", "ready"):
            assert ok(add)["operations_added"] == 1
        else:
            fails(
                add,
                400,
                "INVALID_STATE_TRANSITION",
                f"Cannot add operations to a batch in '{status}' status",
            )
        start = act(c, "start", batch, {"operator_id": "OP"})
        if status in ("draft", "ready"):
            data = ok(start)
            assert (
                data["previous_status"],
                data["new_status"],
                data["status"],
                data["batch_id"],
            ) == (status, "in_progress", "in_progress", batch)
        else:
            fails(
                start,
                400,
                "INVALID_STATE_TRANSITION",
                f"Cannot start batch with status '{status}'. Batch must be 'draft' or 'ready'.",
            )
        current = "in_progress" if status in ("draft", "ready") else status
        stop = act(c, "stop", batch)
        if current == "in_progress":
            assert ok(stop)["new_status"] == "completed"
        else:
            fails(
                stop,
                400,
                "INVALID_STATE_TRANSITION",
                f"Cannot stop batch with status '{current}'. Batch must be 'in_progress'.",
            )

    @pytest.mark.parametrize("status", STATUSES)
    def test_patch_changes_only_draft_ready_and_cancelled(
        self, tenant: TenantHandle, status: str
    ) -> None:
        c = tenant.client
        allowed = {
            ("draft", "ready"),
            ("ready", "draft"),
            ("draft", "cancelled"),
            ("ready", "cancelled"),
        }
        for target in STATUSES:
            batch = str(batch_in(c, status)["id"])
            resp = c.patch("/api-batches", params={"id": batch}, json={"status": target})
            if target == status or (status, target) in allowed:
                assert ok(resp)["batch"]["status"] == target
            else:
                fails(
                    resp,
                    400,
                    "INVALID_STATE_TRANSITION",
                    f"Cannot change batch status from '{status}' to '{target}'; use api-batch-lifecycle",
                )


class TestStart:
    def test_start_moves_not_started_operations_and_opens_entries_with_the_batch(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=3)
        ok(c.patch("/api-operations", params={"id": tree.ops[1]}, json={"status": "completed"}))
        ok(
            c.post("/api-time-entries", json={"operation_id": tree.ops[2], "operator_id": "OP"}),
            201,
        )
        batch = make_batch(c, tree.ops)
        data = ok(
            act(
                c,
                "start",
                batch["id"],
                {"operator_id": "OP", "operator_name": "Olga", "time_type": "setup"},
            )
        )
        assert (
            data["operations_started"],
            data["time_entries_created"],
            data["monitoring_source"],
        ) == (2, 1, "operator")
        assert data["batch"]["started_by"] == "OP"
        assert data["started_at"] == data["batch"]["started_at"]
        assert [(r["entity_type"], r["new_status"]) for r in data["rolled_up"]] == [
            ("part", "in_progress"),
            ("job", "in_progress"),
        ]
        entries = ok(c.get("/api-time-entries", params={"operation_id": tree.ops[0]}))[
            "time_entries"
        ]
        assert [(e["batch_id"], e["time_type"]) for e in entries] == [(batch["id"], "setup")]
        assert [o["status"] for o in data["batch"]["operations"]] == [
            "in_progress",
            "completed",
            "in_progress",
        ]
        types = [
            t
            for t in event_types(sessions, tenant.id)
            if t.split(".")[1] not in ("created", "updated")
        ]
        assert types == [
            "batch.started",
            "operation.started",
            "part.started",
            "job.started",
            "operation.started",
        ]
        started = events(sessions, tenant.id, "batch.started")[0].data
        assert (
            started["operator_id"],
            started["operations"],
            started["monitoring_source"],
            started["total_minutes"],
        ) == ("OP", 3, "operator", None)
        op_started = events(sessions, tenant.id, "operation.started")[0].data
        assert op_started["batch_id"] == batch["id"]

    def test_a_manual_batch_needs_an_operator_an_automated_one_does_not(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        manual = make_batch(c, make_job(c, ops=1).ops)
        err = fails(act(c, "start", manual["id"]), 422, "VALIDATION_ERROR")
        assert err["details"] == [
            {
                "field": "operator_id",
                "message": "operator_id is required for manual batches",
                "constraint": "NOT_NULL",
            }
        ]
        auto = make_batch(
            c, make_job(c, ops=2).ops, batch_type="laser_nesting", production_mode="automated"
        )
        data = ok(act(c, "start", auto["id"]))
        assert (
            data["monitoring_source"],
            data["time_entries_created"],
            data["operations_started"],
        ) == ("machine", 0, 2)

    def test_a_batch_without_operations_cannot_start(self, tenant: TenantHandle) -> None:
        empty = make_batch(tenant.client, [])
        fails(
            act(tenant.client, "start", empty["id"], {"operator_id": "OP"}),
            400,
            "INVALID_STATE_TRANSITION",
            "Cannot start batch with no operations",
        )
        assert (
            ok(tenant.client.get("/api-batches", params={"id": empty["id"]}))["batch"]["status"]
            == "draft"
        )


class TestStopDistribution:
    def test_weighted_distribution_sums_exactly_and_remainders_go_in_batch_order(
        self, tenant: TenantHandle, clocked: Clocked, sessions: sessionmaker[Session]
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=3, estimates=[10, 20, 30])
        batch = make_batch(c, tree.ops)
        ok(act(c, "start", batch["id"], {"operator_id": "OP"}))
        clocked.minutes(100)
        data = ok(act(c, "stop", batch["id"], {"operator_id": "BOSS"}))
        # 100 × 10/60 = 16.67, × 20/60 = 33.33, × 30/60 = 50 → 16, 33, 50 (99) + 1 to the first
        assert (data["total_minutes"], data["distribution_method"]) == (100, "weighted")
        assert data["distribution"] == [
            {"id": tree.ops[0], "minutes": 17},
            {"id": tree.ops[1], "minutes": 33},
            {"id": tree.ops[2], "minutes": 50},
        ]
        assert sum(d["minutes"] for d in data["distribution"]) == data["total_minutes"]
        assert (
            data["operations_completed"],
            data["time_entries_ended"],
            data["monitoring_source"],
        ) == (3, 3, "operator")
        assert data["batch"]["actual_time"] == 100
        assert data["batch"]["completed_by"] == "BOSS"
        ops = {
            o["id"]: o
            for o in ok(c.get("/api-operations", params={"job_id": tree.job}))["operations"]
        }
        assert [ops[i]["actual_time"] for i in tree.ops] == [17, 33, 50]
        assert {o["status"] for o in ops.values()} == {"completed"}
        assert [(r["entity_type"], r["new_status"]) for r in data["rolled_up"]] == [
            ("part", "completed"),
            ("job", "completed"),
        ]
        types = [
            t
            for t in event_types(sessions, tenant.id)
            if t.startswith(
                (
                    "batch.",
                    "time_entry.stopped",
                    "operation.completed",
                    "part.completed",
                    "job.completed",
                )
            )
        ]
        assert types[types.index("batch.completed") :] == [
            "batch.completed",
            "operation.completed",
            "part.completed",
            "job.completed",
            "operation.completed",
            "operation.completed",
            "time_entry.stopped",
            "time_entry.stopped",
            "time_entry.stopped",
        ]
        completed = events(sessions, tenant.id, "batch.completed")[0].data
        assert completed["total_minutes"] == 100
        assert completed["distribution"] == data["distribution"]

    def test_equal_split_when_an_estimate_is_missing_and_several_entries_share_a_participant(
        self, tenant: TenantHandle, clocked: Clocked
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=3, estimates=[10, 0, 30])
        batch = make_batch(c, tree.ops)
        ok(act(c, "start", batch["id"], {"operator_id": "A"}))
        clocked.minutes(3)
        second = ok(
            c.post("/api-time-entries", json={"operation_id": tree.ops[2], "operator_id": "B"}), 201
        )["time_entry"]
        clocked.minutes(97.2)
        data = ok(act(c, "stop", batch["id"]))
        assert (data["total_minutes"], data["distribution_method"]) == (100, "equal")
        assert [d["minutes"] for d in data["distribution"]] == [34, 33, 33]
        entries = ok(
            c.get(
                "/api-time-entries",
                params={"operation_id": tree.ops[2], "sort": "start_time", "order": "asc"},
            )
        )["time_entries"]
        assert [e["duration"] for e in entries] == [17, 16]  # 33 split, remainder to the earliest
        assert entries[1]["id"] == second["id"]
        assert data["time_entries_ended"] == 4

    def test_without_open_entries_nothing_is_distributed(self, tenant: TenantHandle) -> None:
        c = tenant.client
        batch = make_batch(
            c, make_job(c, ops=2).ops, batch_type="laser_nesting", production_mode="automated"
        )
        ok(act(c, "start", batch["id"]))
        data = ok(act(c, "stop", batch["id"]))
        assert (
            data["total_minutes"],
            data["distribution_method"],
            data["distribution"],
            data["time_entries_ended"],
        ) == (0, "none", [], 0)
        assert data["monitoring_source"] == "machine"
        assert data["operations_completed"] == 2


class TestAddOperations:
    def test_operations_are_appended_in_order_and_counted(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=3)
        batch = make_batch(c, tree.ops[:1])
        data = ok(act(c, "add-operations", batch["id"], {"operation_ids": tree.ops[1:]}))
        assert (data["operations_added"], data["previous_status"], data["new_status"]) == (
            2,
            "draft",
            "draft",
        )
        assert data["batch"]["operations_count"] == 3
        assert [(o["id"], o["sequence_in_batch"]) for o in data["batch"]["operations"]] == [
            (op, i + 1) for i, op in enumerate(tree.ops)
        ]
        updated = events(sessions, tenant.id, "batch.updated")[-1].data
        assert updated["changed_fields"] == ["operations"]
        assert updated["previous"]["operations"] == tree.ops[:1]

    def test_bad_operation_ids_are_refused_all_or_nothing(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        batch = make_batch(c, [])
        other = make_batch(c, tree.ops[1:])
        foreign = make_job(other_tenant.client, ops=1).ops[0]
        err = fails(
            act(
                c,
                "add-operations",
                batch["id"],
                {"operation_ids": [tree.ops[0], "nope", tree.ops[0]]},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert {d["field"]: d["constraint"] for d in err["details"]} == {
            "operation_ids[1]": "UUID_FORMAT",
            "operation_ids[2]": "UNIQUE_CONSTRAINT",
        }
        err = fails(
            act(c, "add-operations", batch["id"], {"operation_ids": [tree.ops[0], foreign]}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "operation_ids[1]") == "REFERENCE_NOT_FOUND"
        err = fails(
            act(c, "add-operations", batch["id"], {"operation_ids": [tree.ops[0], tree.ops[1]]}),
            409,
            "CONFLICT",
        )
        assert err["details"][0]["field"] == "operation_ids[1]"
        assert err["details"][0]["value"] == other["id"]
        fails(act(c, "add-operations", batch["id"], {"operation_ids": []}), 422, "VALIDATION_ERROR")
        fails(act(c, "add-operations", batch["id"], {}), 422, "VALIDATION_ERROR")
        assert (
            ok(c.get("/api-batches", params={"id": batch["id"]}))["batch"]["operations_count"] == 0
        )


class TestChecks:
    def test_unknown_action_missing_id_and_missing_batch(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        # monitor is an action since api-catalogue-completion (§1.2 item 6)
        fails(
            c.post("/api-batch-lifecycle/explode", params={"id": str(uuid.uuid4())}),
            400,
            "INVALID_OPERATION",
            "Invalid operation 'explode'. Supported operations: start, stop, add-operations, monitor",
        )
        fails(
            c.post("/api-batch-lifecycle/start"),
            400,
            "BAD_REQUEST",
            "Batch ID is required in query string (?id=xxx)",
        )
        fails(
            act(c, "start", str(uuid.uuid4()), {"operator_id": "OP"}),
            404,
            "NOT_FOUND",
            "Batch not found",
        )
        theirs = make_batch(other_tenant.client, make_job(other_tenant.client, ops=1).ops)
        for action, body in (
            ("start", {"operator_id": "OP"}),
            ("stop", {}),
            ("add-operations", {"operation_ids": [str(uuid.uuid4())]}),
        ):
            fails(act(c, action, theirs["id"], body), 404, "NOT_FOUND", "Batch not found")
        fails(
            c.get("/api-batch-lifecycle/start", params={"id": theirs["id"]}),
            405,
            "METHOD_NOT_ALLOWED",
        )

    def test_stop_accepts_only_operator_fields(self, tenant: TenantHandle) -> None:
        batch = batch_in(tenant.client, "in_progress")
        err = fails(
            act(tenant.client, "stop", str(batch["id"]), {"time_type": "run"}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "time_type") == "UNKNOWN_FIELD"
