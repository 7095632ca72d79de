"""`api-assignments` (API §3.9) and `api-operation-quantities` (API §3.10)."""

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import constraint_of, event_types, events, fails, make_job, ok
from tests.support.tenants import TenantHandle


class TestAssignments:
    def test_the_most_specific_target_fills_the_others(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=1)
        by_op = ok(
            c.post(
                "/api-assignments",
                json={"shop_floor_operator_id": "A", "operation_id": tree.operations[1][0]},
            ),
            201,
        )["assignment"]
        assert (by_op["operator_id"], by_op["job_id"], by_op["part_id"], by_op["status"]) == (
            "A",
            tree.job,
            tree.parts[1],
            "assigned",
        )
        assert by_op["operation"]["id"] == tree.operations[1][0]
        assert by_op["part"] == {"id": tree.parts[1], "part_number": "P-1"}
        by_part = ok(
            c.post(
                "/api-assignments",
                json={"operator_id": "A", "part_id": tree.parts[0], "job_id": tree.job},
            ),
            201,
        )["assignment"]
        assert (by_part["job_id"], by_part["operation_id"], by_part["operation"]) == (
            tree.job,
            None,
            None,
        )
        moved = ok(
            c.patch(
                "/api-assignments",
                params={"id": by_part["id"]},
                json={"operation_id": tree.operations[1][0], "status": "accepted"},
            )
        )["assignment"]
        assert (moved["part_id"], moved["status"]) == (tree.parts[1], "accepted")

    def test_targets_that_disagree_or_are_missing_are_refused(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=1)
        other = make_job(c, ops=1)
        foreign = make_job(other_tenant.client, ops=1)
        cases = [
            (
                {
                    "operator_id": "A",
                    "operation_id": tree.operations[0][0],
                    "part_id": tree.parts[1],
                },
                "part_id",
                "REFERENCE_MISMATCH",
            ),
            (
                {"operator_id": "A", "part_id": tree.parts[0], "job_id": other.job},
                "job_id",
                "REFERENCE_MISMATCH",
            ),
            ({"operator_id": "A"}, "job_id", "NOT_NULL"),
            ({"operator_id": "A", "job_id": foreign.job}, "job_id", "REFERENCE_NOT_FOUND"),
            (
                {"operator_id": "A", "operation_id": foreign.ops[0]},
                "operation_id",
                "REFERENCE_NOT_FOUND",
            ),
            (
                {"operator_id": "A", "job_id": tree.job, "status": "done"},
                "status",
                "ENUM_CONSTRAINT",
            ),
            ({"job_id": tree.job}, "operator_id", "NOT_NULL"),
            (
                {"operator_id": "A", "shop_floor_operator_id": "B", "job_id": tree.job},
                "shop_floor_operator_id",
                "ALIAS_CONFLICT",
            ),
        ]
        for body, field_name, constraint in cases:
            err = fails(c.post("/api-assignments", json=body), 422, "VALIDATION_ERROR")
            assert constraint_of(err, field_name) == constraint, (body, err)
        a = ok(
            c.post(
                "/api-assignments", json={"operator_id": "A", "operation_id": tree.operations[0][0]}
            ),
            201,
        )["assignment"]
        err = fails(
            c.patch("/api-assignments", params={"id": a["id"]}, json={"part_id": tree.parts[1]}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "part_id") == "REFERENCE_MISMATCH"

    def test_filters_search_delete_and_events(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        ok(c.post("/api-operators", json={"operator_id": "W-1", "name": "Wim Jansen"}), 201)
        a = ok(
            c.post("/api-assignments", json={"operator_id": "W-1", "operation_id": tree.ops[0]}),
            201,
        )["assignment"]
        b = ok(
            c.post(
                "/api-assignments", json={"operator_id": "W-2", "job_id": tree.job, "notes": "rush"}
            ),
            201,
        )["assignment"]

        def ids(**params: str) -> list[str]:
            return [x["id"] for x in ok(c.get("/api-assignments", params=params))["assignments"]]

        assert ids() == [b["id"], a["id"]]
        assert ids(shop_floor_operator_id="W-1") == ids(operator_id="W-1") == [a["id"]]
        assert ids(job_id=tree.job) == [b["id"], a["id"]]
        assert ids(operation_id=tree.ops[0]) == [a["id"]]
        assert ids(search="jansen") == [a["id"]]
        assert ids(search="RUSH") == [b["id"]]
        assert ids(status="accepted") == []
        assert a["operator_name"] == "Wim Jansen"
        ok(c.delete("/api-assignments", params={"id": a["id"]}))
        assert ids() == [b["id"]]
        assert event_types(sessions, tenant.id, "assignment.created", "assignment.deleted") == [
            "assignment.created",
            "assignment.created",
            "assignment.deleted",
        ]


class TestQuantities:
    def test_recording_computes_produced_and_emits_recorded(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        # scrap_reason_id names a scrap reason of the tenant (api-catalogue-completion §1.2 #5)
        reason = ok(
            c.post(
                "/api-scrap-reasons",
                json={"code": "BURR", "description": "Burr", "category": "process"},
            ),
            201,
        )["scrap_reason"]["id"]
        q = ok(
            c.post(
                "/api-operation-quantities",
                json={
                    "operation_id": op,
                    "quantity_good": "8",
                    "quantity_scrap": 2,
                    "quantity_produced": 10,
                    "scrap_reason_id": reason,
                    "material_lot": " LOT-1 ",
                    "recorded_by": "Q-1",
                },
            ),
            201,
        )["operation_quantity"]
        assert (
            q["quantity_good"],
            q["quantity_scrap"],
            q["quantity_rework"],
            q["quantity_produced"],
        ) == (8, 2, 0, 10)
        assert (q["scrap_reason_id"], q["material_lot"], q["recorded_by"]) == (
            reason,
            "LOT-1",
            "Q-1",
        )
        assert q["recorded_at"] is not None
        assert q["operation"]["id"] == op
        upd = ok(
            c.patch(
                "/api-operation-quantities", params={"id": q["id"]}, json={"quantity_rework": 1}
            )
        )["operation_quantity"]
        assert upd["quantity_produced"] == 11
        ok(c.delete("/api-operation-quantities", params={"id": q["id"]}))
        types = event_types(
            sessions,
            tenant.id,
            "operation_quantity.recorded",
            "operation_quantity.updated",
            "operation_quantity.deleted",
        )
        assert types == [
            "operation_quantity.recorded",
            "operation_quantity.updated",
            "operation_quantity.deleted",
        ]
        updated = events(sessions, tenant.id, "operation_quantity.updated")[0].data
        assert set(updated["changed_fields"]) == {"quantity_rework", "quantity_produced"}

    def test_bad_quantities_are_422(self, tenant: TenantHandle, other_tenant: TenantHandle) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        foreign = make_job(other_tenant.client, ops=1).ops[0]
        cases = [
            ({"operation_id": op, "quantity_good": -1}, "quantity_good", "MIN_VALUE"),
            ({"operation_id": op, "quantity_scrap": 1.5}, "quantity_scrap", "TYPE_MISMATCH"),
            ({"operation_id": op}, "quantity_produced", "INVALID_VALUE"),
            (
                {"operation_id": op, "quantity_good": 0, "quantity_scrap": 0},
                "quantity_produced",
                "INVALID_VALUE",
            ),
            (
                {"operation_id": op, "quantity_good": 3, "quantity_produced": 4},
                "quantity_produced",
                "INVALID_VALUE",
            ),
            ({"operation_id": foreign, "quantity_good": 1}, "operation_id", "REFERENCE_NOT_FOUND"),
            ({"quantity_good": 1}, "operation_id", "NOT_NULL"),
            (
                {"operation_id": op, "quantity_good": 1, "scrap_reason_id": "bad"},
                "scrap_reason_id",
                "UUID_FORMAT",
            ),
            (
                {"operation_id": op, "quantity_good": 1, "recorded_at": "yesterday"},
                "recorded_at",
                "DATE_FORMAT",
            ),
        ]
        for body, field_name, constraint in cases:
            err = fails(c.post("/api-operation-quantities", json=body), 422, "VALIDATION_ERROR")
            assert err["message"].endswith("in operation_quantity")
            assert constraint_of(err, field_name) == constraint, (body, err)
        q = ok(
            c.post("/api-operation-quantities", json={"operation_id": op, "quantity_good": 1}), 201
        )["operation_quantity"]
        err = fails(
            c.patch("/api-operation-quantities", params={"id": q["id"]}, json={"quantity_good": 0}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "quantity_produced") == "INVALID_VALUE"

    def test_filters(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=1)
        a = ok(
            c.post(
                "/api-operation-quantities",
                json={
                    "operation_id": tree.ops[0],
                    "quantity_good": 5,
                    "quantity_scrap": 1,
                    "recorded_at": "2026-03-01T10:00:00Z",
                    "material_lot": "L1",
                    "notes": "burr",
                },
            ),
            201,
        )["operation_quantity"]
        b = ok(
            c.post(
                "/api-operation-quantities",
                json={
                    "operation_id": tree.ops[1],
                    "quantity_good": 4,
                    "quantity_rework": 3,
                    "recorded_at": "2026-03-05T10:00:00Z",
                    "recorded_by": "R",
                },
            ),
            201,
        )["operation_quantity"]

        def ids(**params: str) -> list[str]:
            return [
                x["id"]
                for x in ok(c.get("/api-operation-quantities", params=params))[
                    "operation_quantities"
                ]
            ]

        assert ids() == [b["id"], a["id"]]
        assert ids(has_scrap="true") == [a["id"]]
        assert ids(has_scrap="false") == [b["id"]]
        assert ids(has_rework="true") == [b["id"]]
        assert ids(part_id=tree.parts[0]) == [a["id"]]
        assert ids(job_id=tree.job) == [b["id"], a["id"]]
        assert ids(from_date="2026-03-02") == [b["id"]]
        assert ids(to_date="2026-03-02") == [a["id"]]
        assert ids(material_lot="L1") == [a["id"]]
        assert ids(recorded_by="R") == [b["id"]]
        assert ids(search="BURR") == [a["id"]]
        assert ids(sort="quantity_produced", order="asc") == [a["id"], b["id"]]
        fails(c.get("/api-operation-quantities", params={"has_scrap": "1"}), 400, "BAD_REQUEST")
