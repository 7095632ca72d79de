"""The operator directory (API §3.0, §3.11): registration on first use everywhere an operator
identifier is accepted, inactive operators refused, `api-operators` management and delete rules."""

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import (
    constraint_of,
    events,
    fails,
    make_batch,
    make_cell,
    make_job,
    ok,
)
from tests.support.tenants import TenantHandle


class TestRegistrationOnFirstUse:
    def test_every_place_that_names_an_operator_registers_new_identifiers(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=3)
        ok(
            c.post(
                "/api-time-entries",
                json={"operation_id": tree.ops[0], "operator_id": "TE", "operator_name": "Tess"},
            ),
            201,
        )
        ok(
            c.post(
                "/api-assignments",
                json={"operator_id": "AS", "operation_id": tree.ops[0], "assigned_by": "BOSS"},
            ),
            201,
        )
        ok(
            c.post(
                "/api-operation-quantities",
                json={"operation_id": tree.ops[0], "quantity_good": 1, "recorded_by": "QR"},
            ),
            201,
        )
        ok(
            c.post(
                "/api-batches",
                json={"batch_number": "B1", "cell_id": make_cell(c), "created_by": "BC"},
            ),
            201,
        )
        ok(
            c.post(
                "/api-operation-lifecycle/start", params={"id": tree.ops[1], "operator_id": "LC"}
            )
        )
        ok(
            c.patch(
                "/api-operations", params={"id": tree.ops[2]}, json={"assigned_operator_id": "PO"}
            )
        )
        ok(
            c.post(
                "/api-operations",
                json={
                    "part_id": tree.parts[0],
                    "operation_name": "Deburr",
                    "assigned_operator_id": "NO",
                },
            ),
            201,
        )
        operators = ok(c.get("/api-operators", params={"sort": "operator_id"}))["operators"]
        assert [(o["operator_id"], o["name"], o["active"]) for o in operators] == [
            ("AS", "AS", True),
            ("BC", "BC", True),
            ("BOSS", "BOSS", True),
            ("LC", "LC", True),
            ("NO", "NO", True),
            ("PO", "PO", True),
            ("QR", "QR", True),
            ("TE", "Tess", True),
        ]
        created = events(sessions, tenant.id, "operator.created")
        assert len(created) == 8
        assert created[0].data["operator"]["operator_id"] == "TE"

    def test_a_known_operator_keeps_its_name(self, tenant: TenantHandle) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        ok(c.post("/api-operators", json={"operator_id": "E-1", "operator_name": "Eva"}), 201)
        entry = ok(
            c.post(
                "/api-time-entries",
                json={"operation_id": op, "operator_id": "E-1", "operator_name": "Someone else"},
            ),
            201,
        )["time_entry"]
        assert entry["operator_name"] == "Eva"

    def test_an_inactive_operator_is_refused_everywhere(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        op = tree.ops[0]
        row = ok(c.post("/api-operators", json={"operator_id": "OFF"}), 201)["operator"]
        ok(c.patch("/api-operators", params={"id": row["id"]}, json={"active": False}))
        attempts = [
            (
                c.post("/api-time-entries", json={"operation_id": op, "operator_id": "OFF"}),
                "operator_id",
            ),
            (
                c.post("/api-assignments", json={"operator_id": "OFF", "job_id": tree.job}),
                "operator_id",
            ),
            (
                c.post(
                    "/api-assignments",
                    json={"operator_id": "OK", "job_id": tree.job, "assigned_by": "OFF"},
                ),
                "assigned_by",
            ),
            (
                c.post(
                    "/api-operation-quantities",
                    json={"operation_id": op, "quantity_good": 1, "recorded_by": "OFF"},
                ),
                "recorded_by",
            ),
            (
                c.post(
                    "/api-batches",
                    json={"batch_number": "B-OFF", "cell_id": make_cell(c), "created_by": "OFF"},
                ),
                "created_by",
            ),
            (
                c.patch("/api-operations", params={"id": op}, json={"assigned_operator_id": "OFF"}),
                "assigned_operator_id",
            ),
            (
                c.post("/api-operation-lifecycle/start", params={"id": op, "operator_id": "OFF"}),
                "operator_id",
            ),
        ]
        for resp, field_name in attempts:
            err = fails(resp, 422, "VALIDATION_ERROR")
            assert constraint_of(err, field_name) == "REFERENCE_NOT_FOUND", err
        batch = make_batch(c, [op])
        err = fails(
            c.post(
                "/api-batch-lifecycle/start",
                params={"id": batch["id"]},
                json={"operator_id": "OFF"},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "operator_id") == "REFERENCE_NOT_FOUND"
        ok(c.patch("/api-operators", params={"id": row["id"]}, json={"active": True}))
        ok(c.post("/api-time-entries", json={"operation_id": op, "operator_id": "OFF"}), 201)


class TestDirectory:
    def test_create_rename_deactivate_list_and_search(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        bare = ok(c.post("/api-operators", json={"operator_id": " 0042 "}), 201)["operator"]
        assert (bare["operator_id"], bare["name"], bare["employee_number"], bare["active"]) == (
            "0042",
            "0042",
            None,
            True,
        )
        assert list(bare) == [
            "id",
            "operator_id",
            "name",
            "employee_number",
            "active",
            "external_id",
            "external_source",
            "synced_at",
            "sync_hash",
            "created_at",
            "updated_at",
        ]
        full = ok(
            c.post(
                "/api-operators",
                json={"operator_id": "B-7", "full_name": "Bram Bakker", "employee_number": "E7"},
            ),
            201,
        )["operator"]
        fails(c.post("/api-operators", json={"operator_id": "B-7"}), 409, "CONFLICT")
        renamed = ok(
            c.patch(
                "/api-operators",
                params={"id": full["id"]},
                json={"name": "Bram de Bakker", "active": False},
            )
        )["operator"]
        assert (renamed["name"], renamed["active"]) == ("Bram de Bakker", False)
        listed = ok(c.get("/api-operators"))["operators"]
        assert [o["name"] for o in listed] == ["0042", "Bram de Bakker"]  # name asc
        assert [
            o["operator_id"]
            for o in ok(c.get("/api-operators", params={"active": "false"}))["operators"]
        ] == ["B-7"]
        assert [
            o["operator_id"]
            for o in ok(c.get("/api-operators", params={"search": "bakker"}))["operators"]
        ] == ["B-7"]
        assert [
            o["operator_id"]
            for o in ok(c.get("/api-operators", params={"search": "e7"}))["operators"]
        ] == ["B-7"]
        updated = events(sessions, tenant.id, "operator.updated")[0].data
        assert set(updated["changed_fields"]) == {"name", "active"}
        assert updated["previous"]["active"] is True

    def test_bad_input_is_422(self, tenant: TenantHandle) -> None:
        c = tenant.client
        for body, field_name, constraint in (
            ({}, "operator_id", "NOT_NULL"),
            ({"operator_id": "x" * 65}, "operator_id", "MAX_LENGTH"),
            ({"operator_id": "A", "active": "yes"}, "active", "TYPE_MISMATCH"),
            ({"operator_id": "A", "name": "n", "full_name": "m"}, "full_name", "ALIAS_CONFLICT"),
            ({"operator_id": "A", "badge_colour": "red"}, "badge_colour", "UNKNOWN_FIELD"),
            ({"operator_id": "A", "external_id": "HR-1"}, "external_source", "NOT_NULL"),
        ):
            assert (
                constraint_of(
                    fails(c.post("/api-operators", json=body), 422, "VALIDATION_ERROR"), field_name
                )
                == constraint
            )

    def test_delete_is_refused_while_records_name_the_operator(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        ok(
            c.post("/api-time-entries", json={"operation_id": tree.ops[0], "operator_id": "BUSY"}),
            201,
        )
        ok(
            c.post(
                "/api-operation-quantities",
                json={"operation_id": tree.ops[0], "quantity_good": 1, "recorded_by": "BUSY"},
            ),
            201,
        )
        busy = ok(c.get("/api-operators", params={"operator_id": "BUSY"}))["operators"][0]
        err = fails(c.delete("/api-operators", params={"id": busy["id"]}), 409, "CONFLICT")
        assert {(d["field"], d["constraint"], d["value"]) for d in err["details"]} == {
            ("time_entries", "REFERENCES_EXIST", 1),
            ("operation_quantities", "REFERENCES_EXIST", 1),
        }
        err = fails(
            c.patch("/api-operators", params={"id": busy["id"]}, json={"operator_id": "RENAMED"}),
            409,
            "CONFLICT",
        )
        assert err["details"][0]["constraint"] == "REFERENCES_EXIST"
        idle = ok(c.post("/api-operators", json={"operator_id": "IDLE"}), 201)["operator"]
        assert ok(c.delete("/api-operators", params={"id": idle["id"]})) == {
            "message": "Deleted successfully",
            "id": idle["id"],
            "mode": "hard",
        }
        fails(c.get("/api-operators", params={"id": idle["id"]}), 404, "NOT_FOUND")
        tomb = events(sessions, tenant.id, "operator.deleted")[0].data
        assert tomb["operator"]["operator_id"] == "IDLE"
        assert tomb["hard"] is True

    def test_operators_are_per_tenant(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        mine = ok(
            tenant.client.post("/api-operators", json={"operator_id": "SAME", "name": "Mine"}), 201
        )["operator"]
        theirs = ok(
            other_tenant.client.post(
                "/api-operators", json={"operator_id": "SAME", "name": "Theirs"}
            ),
            201,
        )["operator"]
        for method in ("GET", "PATCH", "DELETE"):
            resp = tenant.client.request(
                method,
                "/api-operators",
                params={"id": theirs["id"]},
                json={} if method == "PATCH" else None,
            )
            fails(resp, 404, "NOT_FOUND")
        assert [o["id"] for o in ok(tenant.client.get("/api-operators"))["operators"]] == [
            mine["id"]
        ]
        assert (
            ok(other_tenant.client.get("/api-operators", params={"id": theirs["id"]}))["operator"][
                "name"
            ]
            == "Theirs"
        )
