"""Scrap reasons (api-catalogue-completion §8) through a real server: CRUD, the list's active
default, sync through the one engine, the delete guard, and quantities referencing reasons by
id or code (§1.2 item 5)."""

import uuid

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import constraint_of, event_types, fails, make_job, ok
from tests.support.tenants import TenantHandle


def make_reason(c, code: str | None = None, **extra):  # type: ignore[no-untyped-def]
    body = {
        "code": code or f"AUTO-{uuid.uuid4().hex[:8]}",
        "description": "Burr on edge",
        "category": "process",
        **extra,
    }
    return ok(c.post("/api-scrap-reasons", json=body), 201)["scrap_reason"]


class TestCrud:
    def test_eryxons_create_and_list_succeed_and_the_record_has_the_wire_keys(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        reason = make_reason(c, "AUTO-1", active=True)
        assert list(reason)[:5] == ["id", "code", "description", "category", "active"]
        assert reason["metadata"] == {}
        listed = ok(c.get("/api-scrap-reasons", params={"limit": 3}))
        assert [r["id"] for r in listed["scrap_reasons"]] == [reason["id"]]
        got = ok(c.get("/api-scrap-reasons", params={"id": reason["id"]}))["scrap_reason"]
        assert got["code"] == "AUTO-1"
        patched = ok(
            c.patch("/api-scrap-reasons", params={"id": reason["id"]}, json={"category": "design"})
        )["scrap_reason"]
        assert patched["category"] == "design"
        assert event_types(sessions, tenant.id, "scrap_reason.created", "scrap_reason.updated") == [
            "scrap_reason.created",
            "scrap_reason.updated",
        ]
        # the functions/v1 form answers too
        assert ok(c.get("/functions/v1/api-scrap-reasons"))["pagination"]["total"] == 1

    def test_bad_input_is_a_precise_422_or_409(self, tenant: TenantHandle) -> None:
        c = tenant.client
        make_reason(c, "DUP")
        err = fails(
            c.post(
                "/api-scrap-reasons",
                json={"code": "X", "description": "d", "category": "weather"},
            ),
            422,
            "VALIDATION_ERROR",
        )
        detail = next(d for d in err["details"] if d["field"] == "category")
        assert detail["constraint"] == "ENUM_CONSTRAINT"
        assert "material, process, equipment, operator, design, other" in detail["message"]
        err = fails(c.post("/api-scrap-reasons", json={"code": "Y"}), 422, "VALIDATION_ERROR")
        assert {d["field"] for d in err["details"]} == {"description", "category"}
        err = fails(
            c.post(
                "/api-scrap-reasons", json={"code": "DUP", "description": "d", "category": "other"}
            ),
            409,
            "CONFLICT",
        )
        assert constraint_of(err, "code") == "UNIQUE_CONSTRAINT"

    def test_lists_show_active_reasons_unless_asked(self, tenant: TenantHandle) -> None:
        c = tenant.client
        on = make_reason(c, "B-ON", category="material")
        off = make_reason(c, "A-OFF", active=False, category="material")
        other = make_reason(c, "A-EQ", category="equipment")

        def codes(**params: str) -> list[str]:
            return [
                r["code"] for r in ok(c.get("/api-scrap-reasons", params=params))["scrap_reasons"]
            ]

        # default order: category by its rank (material before equipment), then code
        assert codes() == ["B-ON", "A-EQ"]
        assert codes(active="false") == ["A-OFF"]
        assert codes(include_inactive="true") == ["A-OFF", "B-ON", "A-EQ"]
        assert codes(include_inactive="true", category="material") == ["A-OFF", "B-ON"]
        assert (
            ok(c.get("/api-scrap-reasons", params={"id": off["id"]}))["scrap_reason"]["active"]
            is False
        )
        assert {on["id"], other["id"]}

    def test_another_tenants_reason_is_not_found(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = make_reason(other_tenant.client)
        fails(
            tenant.client.get("/api-scrap-reasons", params={"id": theirs["id"]}), 404, "NOT_FOUND"
        )
        fails(
            tenant.client.delete("/api-scrap-reasons", params={"id": theirs["id"]}),
            404,
            "NOT_FOUND",
        )


class TestDelete:
    def test_an_unreferenced_reason_is_deleted_hard(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        reason = make_reason(c)
        data = ok(c.delete("/api-scrap-reasons", params={"id": reason["id"]}))
        assert data == {
            "message": "Scrap reason deleted successfully",
            "id": reason["id"],
            "mode": "hard",
        }
        fails(c.get("/api-scrap-reasons", params={"id": reason["id"]}), 404, "NOT_FOUND")
        fails(c.delete("/api-scrap-reasons", params={"id": reason["id"]}), 404, "NOT_FOUND")
        assert "scrap_reason.deleted" in event_types(sessions, tenant.id, "scrap_reason.deleted")

    def test_a_referenced_reason_answers_409_and_stays(self, tenant: TenantHandle) -> None:
        c = tenant.client
        reason = make_reason(c)
        tree = make_job(c, ops=1)
        ok(
            c.post(
                "/api-operation-quantities",
                json={
                    "operation_id": tree.ops[0],
                    "quantity_scrap": 2,
                    "scrap_reason_id": reason["id"],
                },
            ),
            201,
        )
        err = fails(
            c.delete("/api-scrap-reasons", params={"id": reason["id"]}),
            409,
            "CONFLICT",
            "Cannot delete scrap reason that is referenced by operation quantities. Set active=false instead.",
        )
        assert err["details"][0]["field"] == "operation_quantities"
        assert err["details"][0]["constraint"] == "REFERENCES_EXIST"
        assert err["details"][0]["value"] == 1
        ok(c.get("/api-scrap-reasons", params={"id": reason["id"]}))


class TestQuantitiesReferenceReasons:
    def test_by_id_or_code_with_the_embed(self, tenant: TenantHandle) -> None:
        c = tenant.client
        reason = make_reason(c, "BURR")
        op = make_job(c, ops=1).ops[0]
        by_code = ok(
            c.post(
                "/api-operation-quantities",
                json={"operation_id": op, "quantity_scrap": 1, "scrap_reason_code": "BURR"},
            ),
            201,
        )["operation_quantity"]
        assert by_code["scrap_reason_id"] == reason["id"]
        keys = list(by_code)
        assert keys.index("scrap_reason") == keys.index("operation") + 1
        assert by_code["scrap_reason"] == {
            "id": reason["id"],
            "code": "BURR",
            "description": "Burr on edge",
            "category": "process",
        }
        none = ok(
            c.post("/api-operation-quantities", json={"operation_id": op, "quantity_good": 1}), 201
        )["operation_quantity"]
        assert none["scrap_reason"] is None

    def test_unknown_foreign_inactive_and_mismatched_reasons_are_422(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        mine = make_reason(c, "MINE")
        inactive = make_reason(c, "OFF", active=False)
        theirs = make_reason(other_tenant.client, "THEIRS")
        for body, field in (
            ({"scrap_reason_id": str(uuid.uuid4())}, "scrap_reason_id"),
            ({"scrap_reason_id": theirs["id"]}, "scrap_reason_id"),
            ({"scrap_reason_id": inactive["id"]}, "scrap_reason_id"),
            ({"scrap_reason_code": "THEIRS"}, "scrap_reason_code"),
            ({"scrap_reason_code": "OFF"}, "scrap_reason_code"),
        ):
            err = fails(
                c.post(
                    "/api-operation-quantities",
                    json={"operation_id": op, "quantity_scrap": 1, **body},
                ),
                422,
                "VALIDATION_ERROR",
            )
            assert constraint_of(err, field) == "REFERENCE_NOT_FOUND", body
        err = fails(
            c.post(
                "/api-operation-quantities",
                json={
                    "operation_id": op,
                    "quantity_scrap": 1,
                    "scrap_reason_id": mine["id"],
                    "scrap_reason_code": "OFF",
                },
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "scrap_reason_code") == "REFERENCE_MISMATCH"

    def test_a_reason_deactivated_later_stays_on_its_quantities(self, tenant: TenantHandle) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        reason = make_reason(c)
        q = ok(
            c.post(
                "/api-operation-quantities",
                json={"operation_id": op, "quantity_scrap": 1, "scrap_reason_id": reason["id"]},
            ),
            201,
        )["operation_quantity"]
        ok(c.patch("/api-scrap-reasons", params={"id": reason["id"]}, json={"active": False}))
        # sending the same reason back is not "newly set"
        ok(
            c.patch(
                "/api-operation-quantities",
                params={"id": q["id"]},
                json={"scrap_reason_id": reason["id"], "notes": "checked"},
            )
        )


class TestSync:
    def test_sync_and_bulk_sync_go_through_the_engine(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        rec = {
            "external_id": "SR-1",
            "external_source": "erp",
            "code": "ERP-1",
            "description": "From the ERP",
            "category": "material",
        }
        first = ok(c.put("/api-scrap-reasons/sync", json=rec), 201)
        assert first["action"] == "created"
        again = ok(c.put("/api-scrap-reasons/sync", json=rec))
        assert again["action"] in ("skipped", "unchanged", "updated")
        bulk = ok(
            c.post(
                "/api-scrap-reasons/bulk-sync",
                json={
                    "scrap_reasons": [
                        {**rec, "description": "Changed"},
                        {**rec, "external_id": "SR-2", "code": "ERP-2"},
                    ]
                },
            )
        )
        actions = sorted(r["action"] for r in bulk["records"])
        assert actions == ["created", "updated"]
        listed = ok(c.get("/api-scrap-reasons", params={"external_source": "erp"}))
        assert {r["code"] for r in listed["scrap_reasons"]} == {"ERP-1", "ERP-2"}
        assert "sync.scrap_reasons.completed" in event_types(
            sessions, tenant.id, "sync.scrap_reasons.completed"
        )
        fails(
            c.post(
                "/api-scrap-reasons/bulk-sync",
                json={"items": [rec], "options": {"snapshot": True}},
            ),
            400,
            "BAD_REQUEST",
        )
        err = fails(
            c.put("/api-scrap-reasons/sync", json={**rec, "category": "nope"}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "category") == "ENUM_CONSTRAINT"
