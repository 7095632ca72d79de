"""Templates (api-catalogue-completion §9) through a real server: Eryxon's create and list,
substeps templates with items and `apply`, part and job templates with bodies validated as
their creates, kinds that cannot change, and tenant isolation."""

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.helpers import constraint_of, event_types, fails, make_job, ok
from tests.support.tenants import TenantHandle


def template(c: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("name", f"T-{uuid.uuid4().hex[:8]}")
    out: dict[str, Any] = ok(c.post("/api-templates", json=body), 201)["substep_template"]
    return out


class TestEryxonsCalls:
    def test_create_and_list_under_eryxons_keys(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        made = template(
            c,
            name="Auto Template 1",
            description="from the suite",
            operation_type="laser",
            is_global=True,
        )
        assert (made["kind"], made["is_global"], made["body"], made["items"]) == (
            "substeps",
            False,
            None,
            [],
        )
        listed = ok(c.get("/api-templates", params={"limit": 3}))
        assert [t["id"] for t in listed["substep_templates"]] == [made["id"]]
        assert ok(c.get("/api-templates", params={"is_global": "true"}))["substep_templates"] == []
        assert (
            ok(c.get("/functions/v1/api-templates", params={"id": made["id"]}))["substep_template"][
                "name"
            ]
            == "Auto Template 1"
        )
        err = fails(c.post("/api-templates", json={"name": "Auto Template 1"}), 409, "CONFLICT")
        assert constraint_of(err, "name") == "UNIQUE_CONSTRAINT"
        ok(c.delete("/api-templates", params={"id": made["id"]}))
        fails(c.get("/api-templates", params={"id": made["id"]}), 404, "NOT_FOUND")
        assert event_types(sessions, tenant.id, "template.created", "template.deleted") == [
            "template.created",
            "template.deleted",
        ]


class TestChecklists:
    def test_items_are_managed_and_applied_after_the_operations_last_step(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        t = template(
            c,
            items=[{"name": "Deburr"}, {"name": "Measure", "notes": "±0.1", "icon_name": "ruler"}],
        )
        assert [(i["name"], i["sequence"]) for i in t["items"]] == [("Deburr", 1), ("Measure", 2)]
        replaced = ok(
            c.patch(
                "/api-templates",
                params={"id": t["id"]},
                json={
                    "items": [{"name": "Clean", "sequence": 5}, {"name": "Check", "sequence": 2}]
                },
            )
        )["substep_template"]
        assert [(i["name"], i["sequence"]) for i in replaced["items"]] == [
            ("Check", 2),
            ("Clean", 5),
        ]
        op = make_job(c, ops=1).ops[0]
        ok(
            c.post("/api-substeps", json={"operation_id": op, "name": "Existing", "sequence": 3}),
            201,
        )
        applied = ok(
            c.post("/api-templates/apply", params={"id": t["id"]}, json={"operation_id": op}), 201
        )
        assert (applied["template_id"], applied["operation_id"]) == (t["id"], op)
        assert [(s["name"], s["sequence"]) for s in applied["substeps"]] == [
            ("Check", 4),
            ("Clean", 5),
        ]
        assert len(event_types(sessions, tenant.id, "substep.created")) == 3
        assert event_types(sessions, tenant.id, "template.updated") == ["template.updated"]

    def test_apply_and_item_errors(self, tenant: TenantHandle, other_tenant: TenantHandle) -> None:
        c = tenant.client
        empty = template(c)
        full = template(c, items=[{"name": "x"}])
        op = make_job(c, ops=1).ops[0]
        theirs = make_job(other_tenant.client, ops=1).ops[0]
        err = fails(
            c.post("/api-templates/apply", params={"id": empty["id"]}, json={"operation_id": op}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "id") == "INVALID_VALUE"
        err = fails(
            c.post(
                "/api-templates/apply", params={"id": full["id"]}, json={"operation_id": theirs}
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "operation_id") == "REFERENCE_NOT_FOUND"
        fails(c.post("/api-templates/apply", json={"operation_id": op}), 400, "BAD_REQUEST")
        fails(c.get("/api-templates/apply", params={"id": full["id"]}), 405, "METHOD_NOT_ALLOWED")
        err = fails(
            c.post(
                "/api-templates",
                json={
                    "name": "bad",
                    "items": [{"name": "a", "sequence": 1}, {"sequence": 1}, {"name": "c", "x": 1}],
                },
            ),
            422,
            "VALIDATION_ERROR",
        )
        fields = {(d["field"], d["constraint"]) for d in err["details"]}
        assert ("items[1].name", "NOT_NULL") in fields
        assert ("items[1].sequence", "UNIQUE_CONSTRAINT") in fields
        assert ("items[2].x", "UNKNOWN_FIELD") in fields
        err = fails(
            c.post("/api-templates", json={"name": "k", "kind": "recipe"}), 422, "VALIDATION_ERROR"
        )
        assert constraint_of(err, "kind") == "ENUM_CONSTRAINT"


class TestPartAndJobTemplates:
    def test_bodies_are_validated_as_their_creates_and_kinds_do_not_change(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        job_body = {
            "customer": "Acme BV",
            "priority": 2,
            "parts": [
                {
                    "part_number": "BR-10",
                    "quantity": 1,
                    "operations": [
                        {
                            "operation_name": "Laser",
                            "cell_name": "Not yet created",
                            "estimated_time": 12,
                        }
                    ],
                }
            ],
        }
        job_t = template(c, name="Bracket BR-10", kind="job", body=job_body)
        assert job_t["body"] == job_body
        part_t = template(
            c, kind="part", body={"material": "S235", "operations": [{"operation_name": "Bend"}]}
        )
        assert part_t["kind"] == "part"
        err = fails(
            c.patch("/api-templates", params={"id": job_t["id"]}, json={"kind": "part"}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "kind") == "INVALID_VALUE"
        err = fails(
            c.patch("/api-templates", params={"id": job_t["id"]}, json={"items": [{"name": "x"}]}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "items") == "INVALID_VALUE"
        bad = {
            "priority": -1,
            "template_id": str(uuid.uuid4()),
            "parts": [{"part_number": "A", "operations": [{"operation_name": "x", "sequence": 0}]}],
        }
        err = fails(
            c.post("/api-templates", json={"name": "b", "kind": "job", "body": bad}),
            422,
            "VALIDATION_ERROR",
        )
        fields = {d["field"] for d in err["details"]}
        assert {
            "body.priority",
            "body.template_id",
            "body.parts[0].operations[0].sequence",
        } <= fields
        err = fails(
            c.post("/api-templates", json={"name": "n", "kind": "job"}), 422, "VALIDATION_ERROR"
        )
        assert constraint_of(err, "body") == "NOT_NULL"
        err = fails(
            c.post("/api-templates", json={"name": "s", "body": {"customer": "x"}}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "body") == "INVALID_VALUE"

    def test_another_tenants_template_is_not_found(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = template(other_tenant.client, items=[{"name": "x"}])
        c = tenant.client
        fails(c.get("/api-templates", params={"id": theirs["id"]}), 404, "NOT_FOUND")
        fails(
            c.patch("/api-templates", params={"id": theirs["id"]}, json={"name": "y"}),
            404,
            "NOT_FOUND",
        )
        fails(c.delete("/api-templates", params={"id": theirs["id"]}), 404, "NOT_FOUND")
        op = make_job(c, ops=1).ops[0]
        fails(
            c.post("/api-templates/apply", params={"id": theirs["id"]}, json={"operation_id": op}),
            404,
            "NOT_FOUND",
        )
