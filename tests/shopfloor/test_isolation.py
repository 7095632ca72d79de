"""Tenant isolation on every shop-floor and lifecycle route: another tenant's ids are 404 on
`?id=` routes (both URL forms) and REFERENCE_NOT_FOUND when named in a body; nothing of theirs
changes."""

import httpx
import pytest

from tests.shopfloor.helpers import constraint_of, fails, make_batch, make_cell, make_job, ok
from tests.support.tenants import TenantHandle

PREFIXES = ("", "/functions/v1")


@pytest.fixture
def theirs(other_tenant: TenantHandle) -> dict[str, str]:
    """One record of every shop-floor kind, owned by the other tenant."""
    c = other_tenant.client
    tree = make_job(c, ops=2)
    return {
        "job": tree.job,
        "operation": tree.ops[0],
        "batch": make_batch(c, tree.ops[1:])["id"],
        "time_entry": ok(
            c.post("/api-time-entries", json={"operation_id": tree.ops[0], "operator_id": "T"}), 201
        )["time_entry"]["id"],
        "assignment": ok(
            c.post("/api-assignments", json={"operator_id": "T", "job_id": tree.job}), 201
        )["assignment"]["id"],
        "quantity": ok(
            c.post(
                "/api-operation-quantities", json={"operation_id": tree.ops[0], "quantity_good": 1}
            ),
            201,
        )["operation_quantity"]["id"],
        "operator": ok(c.get("/api-operators", params={"operator_id": "T"}))["operators"][0]["id"],
        "part": tree.parts[0],
        "cell": make_cell(c),
    }


ID_ROUTES = (
    ("api-batches", "batch"),
    ("api-time-entries", "time_entry"),
    ("api-assignments", "assignment"),
    ("api-operation-quantities", "quantity"),
    ("api-operators", "operator"),
)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_another_tenants_records_are_404_on_every_id_route(
    tenant: TenantHandle, theirs: dict[str, str], prefix: str
) -> None:
    c = tenant.client
    for function, kind in ID_ROUTES:
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            resp = c.request(
                method,
                f"{prefix}/{function}",
                params={"id": theirs[kind]},
                json={} if method in ("PATCH", "PUT") else None,
            )
            fails(resp, 404, "NOT_FOUND")
        assert (
            ok(c.get(f"{prefix}/{function}"))[function.removeprefix("api-").replace("-", "_")] == []
        )
    lifecycle = (
        [
            ("api-job-lifecycle", a, "job", "Job not found")
            for a in ("start", "stop", "pause", "resume", "complete")
        ]
        + [
            ("api-operation-lifecycle", a, "operation", "Operation not found")
            for a in ("start", "pause", "resume", "complete")
        ]
        + [
            ("api-batch-lifecycle", "start", "batch", "Batch not found"),
            ("api-batch-lifecycle", "stop", "batch", "Batch not found"),
        ]
    )
    for function, action, kind, message in lifecycle:
        fails(
            c.post(
                f"{prefix}/{function}/{action}",
                params={"id": theirs[kind]},
                json={"operator_id": "ME"} if kind == "batch" and action == "start" else None,
            ),
            404,
            "NOT_FOUND",
            message,
        )


def test_another_tenants_records_named_in_bodies_are_reference_not_found(
    tenant: TenantHandle, theirs: dict[str, str]
) -> None:
    c = tenant.client
    mine = make_job(c, ops=1)
    my_batch = make_batch(c, [])
    attempts: list[tuple[httpx.Response, str]] = [
        (
            c.post(
                "/api-time-entries", json={"operation_id": theirs["operation"], "operator_id": "ME"}
            ),
            "operation_id",
        ),
        (c.post("/api-assignments", json={"operator_id": "ME", "job_id": theirs["job"]}), "job_id"),
        (
            c.post("/api-assignments", json={"operator_id": "ME", "part_id": theirs["part"]}),
            "part_id",
        ),
        (
            c.post(
                "/api-assignments", json={"operator_id": "ME", "operation_id": theirs["operation"]}
            ),
            "operation_id",
        ),
        (
            c.post(
                "/api-operation-quantities",
                json={"operation_id": theirs["operation"], "quantity_good": 1},
            ),
            "operation_id",
        ),
        (c.post("/api-batches", json={"batch_number": "X", "cell_id": theirs["cell"]}), "cell_id"),
        (
            c.post(
                "/api-batches",
                json={
                    "batch_number": "X",
                    "cell_id": my_batch["cell_id"],
                    "operation_ids": [theirs["operation"]],
                },
            ),
            "operation_ids[0]",
        ),
        (
            c.post(
                "/api-batches",
                json={
                    "batch_number": "X",
                    "cell_id": my_batch["cell_id"],
                    "parent_batch_id": theirs["batch"],
                },
            ),
            "parent_batch_id",
        ),
        (
            c.post(
                "/api-batch-lifecycle/add-operations",
                params={"id": my_batch["id"]},
                json={"operation_ids": [theirs["operation"]]},
            ),
            "operation_ids[0]",
        ),
    ]
    for resp, field_name in attempts:
        assert (
            constraint_of(fails(resp, 422, "VALIDATION_ERROR"), field_name) == "REFERENCE_NOT_FOUND"
        )
    entry = ok(
        c.post("/api-time-entries", json={"operation_id": mine.ops[0], "operator_id": "ME"}), 201
    )["time_entry"]
    err = fails(
        c.patch(
            "/api-time-entries",
            params={"id": entry["id"]},
            json={"operation_id": theirs["operation"]},
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert constraint_of(err, "operation_id") == "REFERENCE_NOT_FOUND"


def test_the_same_operator_identifier_is_a_different_person_in_each_tenant(
    tenant: TenantHandle, other_tenant: TenantHandle, theirs: dict[str, str]
) -> None:
    ok(
        other_tenant.client.patch(
            "/api-operators", params={"id": theirs["operator"]}, json={"active": False}
        )
    )
    op = make_job(tenant.client, ops=1).ops[0]
    entry = ok(
        tenant.client.post(
            "/api-time-entries",
            json={"operation_id": op, "operator_id": "T", "operator_name": "Mine"},
        ),
        201,
    )["time_entry"]
    assert entry["operator_name"] == "Mine"
