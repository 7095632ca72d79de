"""Substeps (api-catalogue-completion §7) through a real server: Eryxon's calls through the
aliases, completion stamps and events, auto sequences, filters, references and the cascade
with the operation's hard delete."""

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import constraint_of, event_types, events, fails, make_job, ok
from tests.support.tenants import TenantHandle


def substep(c: Any, operation_id: str, **extra: Any) -> dict[str, Any]:
    body = {"operation_id": operation_id, "name": "Deburr", **extra}
    out: dict[str, Any] = ok(c.post("/api-substeps", json=body), 201)["substep"]
    return out


class TestEryxonsCalls:
    def test_automated_and_e2e_suites(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        auto = ok(
            c.post(
                "/api-substeps",
                json={"operation_id": op, "name": "Auto", "sequence": 99, "status": "not_started"},
            ),
            201,
        )["substep"]
        assert (auto["sequence"], auto["completed"]) == (99, False)
        e2e = ok(
            c.post(
                "/api-substeps",
                json={"operation_id": op, "description": "E2E test substep", "sequence": 1},
            ),
            201,
        )["substep"]
        assert e2e["name"] == "E2E test substep"
        done = ok(c.patch("/api-substeps", params={"id": e2e["id"]}, json={"completed": True}))[
            "substep"
        ]
        assert (done["status"], done["completed"]) == ("completed", True)
        assert done["completed_at"] is not None
        assert list(done)[:6] == ["id", "operation_id", "name", "sequence", "status", "completed"]
        assert done["operation"] == {"id": op, "operation_name": "Op 0.0", "sequence": 1}
        types = event_types(
            sessions, tenant.id, "substep.created", "substep.completed", "substep.updated"
        )
        assert types == ["substep.created", "substep.created", "substep.completed"]


class TestRules:
    def test_completion_stamps_and_clears_and_sequences_are_automatic(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        first = substep(c, op)
        second = substep(c, op, status="completed", completed_by="W-7")
        assert (first["sequence"], second["sequence"]) == (1, 2)
        assert second["completed_at"] is not None
        assert second["completed_by"] == "W-7"
        undone = ok(
            c.patch("/api-substeps", params={"id": second["id"]}, json={"completed": False})
        )["substep"]
        assert (undone["status"], undone["completed_at"], undone["completed_by"]) == (
            "not_started",
            None,
            None,
        )
        blocked = ok(
            c.patch("/api-substeps", params={"id": first["id"]}, json={"status": "blocked"})
        )["substep"]
        assert blocked["status"] == "blocked"
        # completed: false on a step that is not completed changes nothing
        same = ok(c.patch("/api-substeps", params={"id": first["id"]}, json={"completed": False}))[
            "substep"
        ]
        assert same["status"] == "blocked"
        err = fails(
            c.patch(
                "/api-substeps",
                params={"id": first["id"]},
                json={"completed": True, "status": "in_progress"},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "completed") == "ALIAS_CONFLICT"
        other_op = make_job(c, ops=1).ops[0]
        err = fails(
            c.patch("/api-substeps", params={"id": first["id"]}, json={"operation_id": other_op}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "operation_id") == "INVALID_VALUE"
        err = fails(
            c.post("/api-substeps", json={"operation_id": op, "name": "x", "status": "finished"}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "status") == "ENUM_CONSTRAINT"
        fails(c.post("/api-substeps", json={"operation_id": op}), 422, "VALIDATION_ERROR")
        ok(c.get("/api-operators", params={"operator_id": "W-7"}))

    def test_filters_sort_and_search(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=1)
        a = substep(c, tree.ops[0], name="Check holes", sequence=2)
        b = substep(c, tree.ops[0], name="Deburr", sequence=1, completed=True)
        d = substep(c, tree.ops[1], name="Paint", notes="RAL 9005")

        def ids(**params: str) -> list[str]:
            return [s["id"] for s in ok(c.get("/api-substeps", params=params))["substeps"]]

        assert ids(operation_id=tree.ops[0]) == [b["id"], a["id"]]
        assert ids(completed="true") == [b["id"]]
        assert ids(part_id=tree.parts[1]) == [d["id"]]
        assert set(ids(job_id=tree.job)) == {a["id"], b["id"], d["id"]}
        assert ids(search="9005") == [d["id"]]
        assert ids(status="completed") == [b["id"]]

    def test_another_tenants_operation_and_substeps_are_not_found(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = make_job(other_tenant.client, ops=1).ops[0]
        err = fails(
            tenant.client.post("/api-substeps", json={"operation_id": theirs, "name": "x"}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "operation_id") == "REFERENCE_NOT_FOUND"
        their_step = substep(other_tenant.client, theirs)
        for resp in (
            tenant.client.get("/api-substeps", params={"id": their_step["id"]}),
            tenant.client.patch(
                "/api-substeps", params={"id": their_step["id"]}, json={"name": "x"}
            ),
            tenant.client.delete("/api-substeps", params={"id": their_step["id"]}),
        ):
            fails(resp, 404, "NOT_FOUND")

    def test_substeps_survive_a_soft_delete_and_go_with_a_hard_delete(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        steps = [substep(c, op, name=f"s{i}") for i in range(2)]
        ok(c.delete("/api-operations", params={"id": op}))
        assert len(ok(c.get("/api-substeps", params={"operation_id": op}))["substeps"]) == 2
        ok(c.delete("/api-operations", params={"id": op, "hard": "true"}))
        assert ok(c.get("/api-substeps", params={"operation_id": op}))["substeps"] == []
        deleted = events(sessions, tenant.id, "substep.deleted")
        assert sorted(e.data["substep"]["id"] for e in deleted) == sorted(s["id"] for s in steps)
        assert all(e.data["caused_by"]["type"] == "operation.deleted" for e in deleted)
        fails(c.delete("/api-substeps", params={"id": str(uuid.uuid4())}), 404, "NOT_FOUND")
