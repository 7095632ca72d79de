"""Records made from templates through the ordinary creates (api-catalogue-completion §9.3),
through a real server: a job from a job template (merged body, nested parts and operations,
substeps from a substeps template, `template_id` kept), a part from a part template, an
operation's explicit `substeps` and `substep_template_id`, every bad reference a precise 422
with nothing written, and sync refusing these inputs."""

import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.models.catalogue import Substep
from floorsync.models.master import Job
from tests.shopfloor.helpers import constraint_of, event_types, fails, make_job, ok
from tests.support.tenants import TenantHandle


def template(c: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("name", f"T-{uuid.uuid4().hex[:8]}")
    out: dict[str, Any] = ok(c.post("/api-templates", json=body), 201)["substep_template"]
    return out


def substeps_of(c: Any, op_id: str) -> list[tuple[str, int]]:
    listed = ok(c.get("/api-substeps", params={"operation_id": op_id, "limit": 100}))
    return [(s["name"], s["sequence"]) for s in listed["substeps"]]


def count_rows(sessions: sessionmaker[Session], tenant: TenantHandle, model: Any) -> int:
    with sessions() as session:
        stmt = scoped(model, TenantScope(tenant.id)).with_only_columns(func.count())
        return int(session.scalar(stmt) or 0)


class TestJobsFromTemplates:
    def test_a_job_template_makes_the_whole_job_merged_with_the_request(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        checklist = template(c, items=[{"name": "Deburr"}, {"name": "Measure"}])
        job_t = template(
            c,
            name="Bracket BR-10",
            kind="job",
            body={
                "customer": "Acme BV",
                "priority": 2,
                "metadata": {"source": "template", "line": "1"},
                "parts": [
                    {
                        "part_number": "BR-10",
                        "material": "S235 3 mm",
                        "operations": [
                            {
                                "operation_name": "Laser",
                                "estimated_time": 12,
                                "substep_template_id": checklist["id"],
                            },
                            {"operation_name": "Bend", "estimated_time": 8},
                        ],
                    }
                ],
            },
        )
        job = ok(
            c.post(
                "/api-jobs",
                json={
                    "template_name": "Bracket BR-10",
                    "job_number": "J-2001",
                    "customer_name": "Beta BV",  # an alias replaces the template's field
                    "metadata": {"line": "10"},
                },
            ),
            201,
        )["job"]
        assert job["template_id"] == job_t["id"]
        assert (job["job_number"], job["customer"], job["priority"]) == ("J-2001", "Beta BV", 2)
        assert job["metadata"] == {"source": "template", "line": "10"}
        [part] = job["parts"]
        assert (part["part_number"], part["material"], part["template_id"]) == (
            "BR-10",
            "S235 3 mm",
            None,
        )
        laser, bend = part["operations"]
        assert substeps_of(c, laser["id"]) == [("Deburr", 1), ("Measure", 2)]
        assert substeps_of(c, bend["id"]) == []
        assert ok(c.get("/api-jobs", params={"id": job["id"]}))["job"]["template_id"] == job_t["id"]
        types = event_types(
            sessions,
            tenant.id,
            "job.created",
            "part.created",
            "operation.created",
            "substep.created",
        )
        assert types == [
            "job.created",
            "part.created",
            "operation.created",
            "operation.created",
            "substep.created",
            "substep.created",
        ]
        # a request `parts` array replaces the template's parts entirely; template_id works too
        other = ok(
            c.post(
                "/api-jobs",
                json={"template_id": job_t["id"], "job_number": "J-2002", "parts": []},
            ),
            201,
        )["job"]
        assert (other["template_id"], other["parts"], other["customer"]) == (
            job_t["id"],
            [],
            "Acme BV",
        )

    def test_nested_parts_name_part_templates(self, tenant: TenantHandle) -> None:
        c = tenant.client
        part_t = template(
            c,
            kind="part",
            body={
                "material": "Alu",
                "quantity": 4,
                "operations": [{"operation_name": "Saw", "substeps": [{"name": "Check length"}]}],
            },
        )
        job = ok(
            c.post(
                "/api-jobs",
                json={
                    "job_number": f"J-{uuid.uuid4().hex[:6]}",
                    "parts": [
                        {"template_id": part_t["id"], "part_number": "A-1"},
                        {"part_number": "A-2"},
                    ],
                },
            ),
            201,
        )["job"]
        assert job["template_id"] is None
        first, second = job["parts"]
        assert (first["template_id"], first["material"], first["quantity"]) == (
            part_t["id"],
            "Alu",
            4,
        )
        assert second["template_id"] is None
        assert substeps_of(c, first["operations"][0]["id"]) == [("Check length", 1)]

    def test_bad_template_references_are_precise_422s_and_write_nothing(
        self, tenant: TenantHandle, other_tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        checklist = template(c, name="Checklist A", items=[{"name": "x"}])
        job_t = template(c, name="Job A", kind="job", body={"customer": "x"})
        theirs = template(other_tenant.client, kind="job", body={"customer": "theirs"})
        jobs_before = count_rows(sessions, tenant, Job)
        number = f"J-{uuid.uuid4().hex[:6]}"
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"template_id": str(uuid.uuid4())}, "template_id", "REFERENCE_NOT_FOUND"),
            ({"template_id": theirs["id"]}, "template_id", "REFERENCE_NOT_FOUND"),
            ({"template_name": "No such"}, "template_name", "REFERENCE_NOT_FOUND"),
            ({"template_id": "not-a-uuid"}, "template_id", "UUID_FORMAT"),
            (
                {"template_id": job_t["id"], "template_name": "Checklist A"},
                "template_name",
                "REFERENCE_MISMATCH",
            ),
            ({"template_id": checklist["id"]}, "template_id", "INVALID_VALUE"),
            (
                {"parts": [{"part_number": "P", "template_name": "Job A"}]},
                "parts[0].template_name",
                "INVALID_VALUE",
            ),
            (
                {
                    "parts": [
                        {
                            "part_number": "P",
                            "operations": [
                                {"operation_name": "o", "substep_template_id": job_t["id"]}
                            ],
                        }
                    ]
                },
                "parts[0].operations[0].substep_template_id",
                "INVALID_VALUE",
            ),
            (
                {
                    "parts": [
                        {
                            "part_number": "P",
                            "operations": [{"operation_name": "o", "substeps": [{"notes": "n"}]}],
                        }
                    ]
                },
                "parts[0].operations[0].substeps[0].name",
                "NOT_NULL",
            ),
        ]
        for extra, field_name, constraint in cases:
            err = fails(
                c.post("/api-jobs", json={"job_number": number, **extra}), 422, "VALIDATION_ERROR"
            )
            assert constraint_of(err, field_name) == constraint, (extra, err)
        wrong = fails(
            c.post("/api-jobs", json={"job_number": number, "template_id": checklist["id"]}),
            422,
            "VALIDATION_ERROR",
        )
        assert wrong["details"][0]["message"] == (
            "template 'Checklist A' is a substeps template; a job template is required"
        )
        assert count_rows(sessions, tenant, Job) == jobs_before
        assert count_rows(sessions, tenant, Substep) == 0


class TestPartsAndOperations:
    def test_a_part_from_a_part_template_and_operations_with_substeps(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, parts=1, ops=1)
        part_t = template(
            c,
            name="Plate",
            kind="part",
            body={
                "material": "S355",
                "metadata": {"a": 1},
                "operations": [{"operation_name": "Cut"}],
            },
        )
        part = ok(
            c.post(
                "/api-parts",
                json={
                    "template_name": "Plate",
                    "job_id": tree.job,
                    "part_number": "PL-1",
                    "metadata": {"b": 2},
                },
            ),
            201,
        )["part"]
        assert (part["template_id"], part["material"], part["metadata"]) == (
            part_t["id"],
            "S355",
            {"a": 1, "b": 2},
        )
        ops = ok(c.get("/api-operations", params={"part_id": part["id"]}))["operations"]
        assert [o["operation_name"] for o in ops] == ["Cut"]

        checklist = template(c, items=[{"name": "Measure"}, {"name": "Sign"}])
        op = ok(
            c.post(
                "/api-operations",
                json={
                    "part_id": part["id"],
                    "operation_name": "Inspect",
                    "substeps": [{"name": "Clean", "notes": "IPA", "icon_name": "drop"}],
                    "substep_template_id": checklist["id"],
                },
            ),
            201,
        )["operation"]
        assert substeps_of(c, op["id"]) == [("Clean", 1), ("Measure", 2), ("Sign", 3)]
        assert not {"substeps", "substep_template_id"} & op.keys()

    def test_sync_and_patch_refuse_the_create_only_inputs(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, parts=1, ops=1)
        part_t = template(c, kind="part", body={"material": "x"})
        err = fails(
            c.put(
                "/api-jobs/sync",
                json={
                    "external_id": "E-1",
                    "external_source": "erp",
                    "job_number": "J-S1",
                    "template_id": str(uuid.uuid4()),
                },
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "template_id") == "UNKNOWN_FIELD"
        err = fails(
            c.patch(
                "/api-operations",
                params={"id": tree.ops[0]},
                json={"substeps": [{"name": "late"}]},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "substeps") == "UNKNOWN_FIELD"
        # a PATCH may send back the read-only template_id it read: ignored
        part = ok(c.get("/api-parts", params={"id": tree.parts[0]}))["part"]
        patched = ok(
            c.patch(
                "/api-parts",
                params={"id": tree.parts[0]},
                json={"template_id": part_t["id"], "notes": "n"},
            )
        )["part"]
        assert (patched["template_id"], patched["notes"]) == (part["template_id"], "n")

    def test_deleting_the_template_keeps_the_records_and_clears_their_reference(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        job_t = template(c, kind="job", body={"customer": "Kept BV"})
        job = ok(c.post("/api-jobs", json={"template_id": job_t["id"], "job_number": "J-K"}), 201)[
            "job"
        ]
        ok(c.delete("/api-templates", params={"id": job_t["id"]}))
        after = ok(c.get("/api-jobs", params={"id": job["id"]}))["job"]
        assert (after["customer"], after["template_id"]) == ("Kept BV", None)
