"""`PUT /api-operators/sync` and `POST /api-operators/bulk-sync` through the sync engine
(API §3.11, §4.1): keyed by `(external_source, external_id)`, skipped when unchanged, no
snapshot (operators have no soft delete)."""

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import constraint_of, event_types, fails, make_job, ok
from tests.support.tenants import TenantHandle


class TestOperatorSync:
    def test_single_sync_creates_updates_and_skips(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        body = {
            "external_id": "EMP-7",
            "external_source": "HR",
            "operator_id": "B-7",
            "full_name": "Bram Bakker",
            "employee_number": "7",
        }
        created = c.put("/api-operators/sync", json=body)
        data = ok(created, 201)
        assert data["action"] == "created"
        assert data["operator"]["name"] == "Bram Bakker"
        assert data["operator"]["sync_hash"] is not None
        assert ok(c.put("/functions/v1/api-operators/sync", json=body))["action"] == "skipped"
        updated = ok(c.put("/api-operators/sync", json={**body, "active": False}))
        assert updated["action"] == "updated"
        assert updated["operator"]["active"] is False
        assert event_types(sessions, tenant.id, "operator.created", "operator.updated") == [
            "operator.created",
            "operator.updated",
        ]

    def test_an_operator_registered_by_use_is_linked_by_patching_its_key(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        ok(c.post("/api-time-entries", json={"operation_id": op, "operator_id": "B-9"}), 201)
        row = ok(c.get("/api-operators", params={"operator_id": "B-9"}))["operators"][0]
        fails(
            c.put(
                "/api-operators/sync",
                json={"external_id": "EMP-9", "external_source": "HR", "operator_id": "B-9"},
            ),
            409,
            "CONFLICT",
        )
        ok(
            c.patch(
                "/api-operators",
                params={"id": row["id"]},
                json={"external_id": "EMP-9", "external_source": "HR"},
            )
        )
        synced = ok(
            c.put(
                "/api-operators/sync",
                json={
                    "external_id": "EMP-9",
                    "external_source": "HR",
                    "operator_id": "B-9",
                    "name": "Bea",
                },
            )
        )
        assert synced["action"] == "updated"
        assert synced["id"] == row["id"]
        assert ok(c.get("/api-time-entries"))["time_entries"][0]["operator_name"] == "Bea"

    def test_bulk_sync_reports_per_record_and_refuses_snapshot(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        items = [
            {"external_id": "E1", "external_source": "HR", "operator_id": "O-1", "name": "One"},
            {"external_id": "E2", "external_source": "HR", "operator_id": "O-2"},
            {"external_id": "E3", "external_source": "HR"},
            {"external_id": "E4", "external_source": "HR", "operator_id": "O-1"},
        ]
        data = ok(c.post("/api-operators/bulk-sync", json={"operators": items}))
        assert (data["created"], data["failed"]) == (2, 2)
        assert [r["action"] for r in data["records"]] == ["created", "created", "error", "error"]
        assert data["records"][2]["code"] == "VALIDATION_ERROR"
        assert data["records"][3]["code"] == "CONFLICT"
        names = {o["operator_id"]: o["name"] for o in ok(c.get("/api-operators"))["operators"]}
        assert names == {"O-1": "One", "O-2": "O-2"}
        assert "sync.operators.completed" in event_types(sessions, tenant.id)
        err = fails(
            c.post(
                "/api-operators/bulk-sync", json={"items": items[:1], "options": {"snapshot": True}}
            ),
            400,
            "BAD_REQUEST",
        )
        assert constraint_of(err, "snapshot") == "INVALID_VALUE"
