"""Tenant isolation, proven by walking the app's own route table (API §1.10): for every
`/api-*` route and method, tenant B, using its own key with tenant A's ids, gets 404 where an id
is taken, never sees A's rows or ids, can't link to A's records, and leaves A untouched.

Routes added later are walked too: the route table is read from the running app."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from floorsync.http.routing import iter_routes
from tests.support.api import (
    ENTITIES,
    SINGULAR,
    events,
    fails,
    make_cell,
    make_material,
    make_resource,
    make_tree,
    ok,
    suffix,
)
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ACTIONS = {
    "api-job-lifecycle": ["start", "stop", "pause", "resume", "complete"],
    "api-operation-lifecycle": ["start", "pause", "resume", "complete"],
    "api-batch-lifecycle": ["start", "stop", "add-operations", "monitor"],
}
# Sub-routes that take no ?id: they must still neither leak nor touch tenant A.
NO_ID = {"/sync", "/bulk-sync", "/diff", "/status"}
# Base-path methods that answer something else than 404 for an ?id, by the contract.
NOT_BY_ID = {
    ("api-key-generate", "GET"): 400,
    ("api-events", "GET"): None,
    ("api-webhook-logs", "GET"): None,
    ("api-export", "GET"): None,  # the tenant's own file; the walk checks it leaks nothing of A
}
# Lists that A reads before and after B's walk; they must come back identical.
SNAPSHOT = (
    "jobs",
    "parts",
    "operations",
    "cells",
    "resources",
    "materials",
    "batches",
    "time-entries",
    "assignments",
    "operation-quantities",
    "operators",
    "webhooks",
    "scrap-reasons",
    "issues",
    "substeps",
    "templates",
)


@dataclass
class TenantA:
    handle: TenantHandle
    ids: dict[str, str] = field(default_factory=dict)  # function → one record id of A

    @property
    def all_ids(self) -> set[str]:
        return set(self.ids.values())


def _setup_a(tenant: TenantHandle) -> TenantA:
    c = tenant.client
    a = TenantA(tenant)
    cell = make_cell(c, external_id="A-CELL", external_source="SAP", name="A cell")
    job = make_tree(
        c, parts=1, ops=3, external_id="A-JOB", external_source="SAP", current_cell_id=cell["id"]
    )
    part, ops = job["parts"][0], job["parts"][0]["operations"]
    a.ids.update(
        {
            "api-jobs": job["id"],
            "api-parts": part["id"],
            "api-operations": ops[0]["id"],
            "api-cells": cell["id"],
            "api-resources": make_resource(c, external_id="A-RES", external_source="SAP")["id"],
            "api-materials": make_material(
                c, code="A-MAT", external_id="A-MAT", external_source="SAP"
            )["id"],
            "api-job-lifecycle": job["id"],
            "api-operation-lifecycle": ops[0]["id"],
        }
    )
    batch = ok(
        c.post(
            "/api-batches",
            json={"batch_number": "A-B1", "cell_id": cell["id"], "operation_ids": [ops[1]["id"]]},
        ),
        201,
    )["batch"]
    a.ids["api-batches"] = a.ids["api-batch-lifecycle"] = batch["id"]
    a.ids["api-time-entries"] = ok(
        c.post("/api-time-entries", json={"operation_id": ops[2]["id"], "operator_id": "A-badge"}),
        201,
    )["time_entry"]["id"]
    a.ids["api-assignments"] = ok(
        c.post("/api-assignments", json={"operator_id": "A-badge", "job_id": job["id"]}), 201
    )["assignment"]["id"]
    a.ids["api-operation-quantities"] = ok(
        c.post(
            "/api-operation-quantities", json={"operation_id": ops[2]["id"], "quantity_good": 1}
        ),
        201,
    )["operation_quantity"]["id"]
    a.ids["api-operators"] = ok(c.get("/api-operators", params={"operator_id": "A-badge"}))[
        "operators"
    ][0]["id"]
    a.ids["api-webhooks"] = ok(
        c.post("/api-webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}), 201
    )["webhook"]["id"]
    a.ids["api-scrap-reasons"] = ok(
        c.post(
            "/api-scrap-reasons",
            json={"code": "A-SCRAP", "description": "A's reason", "category": "process"},
        ),
        201,
    )["scrap_reason"]["id"]
    a.ids["api-issues"] = ok(
        c.post(
            "/api-issues",
            json={"operation_id": ops[2]["id"], "title": "A's issue", "description": "d"},
        ),
        201,
    )["issue"]["id"]
    a.ids["api-substeps"] = ok(
        c.post("/api-substeps", json={"operation_id": ops[2]["id"], "name": "A's step"}), 201
    )["substep"]["id"]
    a.ids["api-templates"] = ok(
        c.post("/api-templates", json={"name": "A's checklist", "items": [{"name": "x"}]}), 201
    )["substep_template"]["id"]
    a.ids["api-parts-images"] = part["id"]
    a.ids["api-key-generate"] = ok(c.get("/api-key-generate", params={"role": "integration"}))[
        "api_keys"
    ][0]["id"]
    return a


def _snapshot(a: TenantA) -> dict[str, bytes]:
    return {
        name: a.handle.client.get(f"/api-{name}", params={"limit": 1000}).content
        for name in SNAPSHOT
    }


def _bodies(a: TenantA) -> dict[str, dict[str, Any]]:
    """Create bodies that reference A's records; B must get REFERENCE_NOT_FOUND for them."""
    i = a.ids
    return {
        "api-jobs": {"job_number": f"B-{suffix()}", "current_cell_id": i["api-cells"]},
        "api-parts": {"job_id": i["api-jobs"], "part_number": "B-P"},
        "api-operations": {"part_id": i["api-parts"], "operation_name": "B-op"},
        "api-batches": {"batch_number": f"B-{suffix()}", "cell_id": i["api-cells"]},
        "api-time-entries": {"operation_id": i["api-operations"], "operator_id": "B-badge"},
        "api-assignments": {"operator_id": "B-badge", "job_id": i["api-jobs"]},
        "api-issues": {"operation_id": i["api-operations"], "title": "B", "description": "d"},
        "api-substeps": {"operation_id": i["api-operations"], "name": "B"},
        "api-upload-url": {
            "filename": "b.txt",
            "content_type": "text/plain",
            "part_id": i["api-parts"],
        },
        "api-operation-quantities": {
            "operation_id": i["api-operations"],
            "quantity_scrap": 1,
            "scrap_reason_id": i["api-scrap-reasons"],
        },
    }


def _requests(app: Any) -> Iterator[tuple[str, str, str, str | None]]:
    """(function, method, path, sub-route or None) for every /api-* route of the app."""
    for route in iter_routes(app.routes):
        if not route.path.startswith("/api-"):
            continue
        function, _, rest = route.path[1:].partition("/")
        for method in sorted(route.methods or ()):
            if rest.startswith("{") and "{action" not in rest:
                # path-id routes (file-url, image-url, api-parts-images): the id goes in the path
                yield function, method, route.path, "/" + rest
            elif "{" in rest:
                for action in ACTIONS.get(function, ["start"]):
                    yield function, method, f"/{function}/{action}", f"/{action}"
            else:
                yield function, method, route.path, f"/{rest}" if rest else None


def _leaked(resp: httpx.Response, sent: str, a: TenantA) -> set[str]:
    """A's ids in B's response that B did not send itself."""
    found = set(UUID.findall(resp.text))
    return (found & a.all_ids) - set(UUID.findall(sent))


@pytest.fixture
def walk(
    server: LiveServer, tenant: TenantHandle, other_tenant: TenantHandle
) -> tuple[TenantA, TenantHandle, list[tuple[str, str, str, str | None]]]:
    a = _setup_a(tenant)
    return a, other_tenant, list(_requests(server.app))


class TestTheRouteTableWalk:
    def test_the_walk_covers_every_function_of_the_catalogue(self, server: LiveServer) -> None:
        functions = {f for f, *_ in _requests(server.app)}
        assert {f"api-{e}" for e in ENTITIES} | {"api-key-generate"} <= functions

    def test_tenant_b_gets_404_for_every_id_route_and_sees_and_changes_nothing_of_tenant_a(
        self, walk, sessions
    ) -> None:
        a, b, routes = walk
        before, events_before = _snapshot(a), len(events(sessions, a.handle.id))
        bodies = _bodies(a)
        # Bodies that pass validation, so that the record lookup decides (422 comes before 404).
        sub_bodies = {
            ("api-batch-lifecycle", "/add-operations"): {"operation_ids": [a.ids["api-operations"]]}
        }
        problems: list[str] = []
        for function, method, path, sub in routes:
            id_ = a.ids.get(function) or next(iter(a.all_ids))
            body = (
                (sub_bodies.get((function, sub)) or bodies.get(function, {}))
                if method in ("POST", "PUT", "PATCH")
                else None
            )
            query = {"id": id_}
            takes_path = sub is not None and (
                sub.endswith("-url") or (function == "api-parts-images" and method != "POST")
            )
            if takes_path:  # file-url / image-url / an image: the record lookup decides
                query["path"] = "files/x"
            path = re.sub(r"\{[a-z_]+\}", id_, path)
            resp = b.client.request(method, path, params=query, json=body)
            where = f"{method} {path}?id={id_}"
            if resp.status_code >= 500:
                problems.append(f"{where}: {resp.status_code}")
                continue
            leaked = _leaked(resp, f"{id_} {body}", a)
            if leaked:
                problems.append(f"{where}: leaked {leaked}")
            expected = _expected_status(function, method, sub)
            if expected is not None and resp.status_code != expected:
                problems.append(
                    f"{where}: {resp.status_code} (expected {expected}) {resp.text[:200]}"
                )
            if sub is None and method == "POST" and function in bodies:
                error = resp.json().get("error") or {}
                constraints = {d.get("constraint") for d in error.get("details") or []}
                if resp.status_code != 422 or "REFERENCE_NOT_FOUND" not in constraints:
                    problems.append(
                        f"POST {path} referencing A's records: {resp.status_code} {resp.text[:200]}"
                    )
        assert problems == []
        assert _snapshot(a) == before
        assert len(events(sessions, a.handle.id)) == events_before

    def test_tenant_bs_lists_never_show_tenant_as_rows(self, walk) -> None:
        a, b, routes = walk
        for _function, method, path, _sub in routes:
            if method != "GET":
                continue
            resp = b.client.get(path, params={"limit": 1000})
            assert resp.status_code < 500, path
            assert _leaked(resp, "", a) == set(), path
            assert b"A-badge" not in resp.content
            assert b"A-JOB" not in resp.content


def _expected_status(function: str, method: str, sub: str | None) -> int | None:
    if sub is None:
        if method == "POST":
            return None  # a create ignores ?id; checked by the reference bodies
        return NOT_BY_ID.get((function, method), 404)
    if sub in NO_ID:
        return None
    return 404


class TestReferencesAcrossTenants:
    @pytest.mark.parametrize("entity", ["jobs", "parts", "operations"])
    def test_a_patch_can_not_link_a_record_to_another_tenants_record(
        self, tenant: TenantHandle, other_tenant: TenantHandle, entity: str
    ) -> None:
        theirs = make_tree(tenant.client, parts=1, ops=1)
        their_cell = make_cell(
            tenant.client, name="Shared name", external_id="WC", external_source="SAP"
        )
        mine = make_tree(other_tenant.client, parts=1, ops=1)
        target = {
            "jobs": mine["id"],
            "parts": mine["parts"][0]["id"],
            "operations": mine["parts"][0]["operations"][0]["id"],
        }[entity]
        bodies = {
            "jobs": [({"current_cell_id": their_cell["id"]}, "current_cell_id")],
            "parts": [
                ({"job_id": theirs["id"]}, "job_id"),
                ({"parent_part_id": theirs["parts"][0]["id"]}, "parent_part_id"),
                ({"job_external_id": "nope"}, "job_external_id"),
            ],
            "operations": [
                ({"part_id": theirs["parts"][0]["id"]}, "part_id"),
                ({"cell_id": their_cell["id"]}, "cell_id"),
                ({"cell_name": "Shared name"}, "cell_name"),
                ({"cell_external_id": "WC"}, "cell_external_id"),
            ],
        }[entity]
        for body, name in bodies:
            error = fails(
                other_tenant.client.patch(f"/api-{entity}", params={"id": target}, json=body),
                422,
                "VALIDATION_ERROR",
            )
            assert [(d["field"], d["constraint"]) for d in error["details"]] == [
                (name, "REFERENCE_NOT_FOUND")
            ]

    def test_external_ids_resolve_inside_the_callers_tenant_only(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        make_tree(tenant.client, parts=0, external_id="SO-X", external_source="SAP")
        mine = make_tree(other_tenant.client, parts=0, external_id="SO-X", external_source="SAP")
        part = ok(
            other_tenant.client.post(
                "/api-parts", json={"job_external_id": "SO-X", "part_number": "P"}
            ),
            201,
        )["part"]
        assert part["job_id"] == mine["id"]

    def test_resources_of_another_tenant_can_not_be_attached(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = make_resource(tenant.client, name="Their press")
        mine = make_tree(other_tenant.client, parts=1, ops=0)
        for item in ({"resource_id": theirs["id"]}, {"resource_name": "Their press"}):
            body = {"part_id": mine["parts"][0]["id"], "operation_name": "x", "resources": [item]}
            error = fails(
                other_tenant.client.post("/api-operations", json=body), 422, "VALIDATION_ERROR"
            )
            assert [d["constraint"] for d in error["details"]] == ["REFERENCE_NOT_FOUND"]

    def test_uniqueness_is_per_tenant(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        for client in (tenant.client, other_tenant.client):
            ok(
                client.post(
                    "/api-jobs",
                    json={"job_number": "J-same", "external_id": "E", "external_source": "S"},
                ),
                201,
            )
            ok(client.post("/api-cells", json={"name": "Same cell"}), 201)
            ok(client.post("/api-materials", json={"name": "m", "code": "SAME"}), 201)

    @pytest.mark.parametrize("entity", ENTITIES)
    def test_include_deleted_does_not_reach_another_tenants_rows(
        self, tenant: TenantHandle, other_tenant: TenantHandle, entity: str
    ) -> None:
        tree = make_tree(tenant.client, parts=1, ops=1)
        ids = {
            "jobs": tree["id"],
            "parts": tree["parts"][0]["id"],
            "operations": tree["parts"][0]["operations"][0]["id"],
            "cells": make_cell(tenant.client)["id"],
            "resources": make_resource(tenant.client)["id"],
            "materials": make_material(tenant.client)["id"],
        }
        ok(tenant.client.delete(f"/api-{entity}", params={"id": ids[entity]}))
        fails(
            other_tenant.client.get(
                f"/api-{entity}", params={"id": ids[entity], "include_deleted": "true"}
            ),
            404,
            "NOT_FOUND",
            f"{entity} with ID {ids[entity]} not found",
        )
        listed = ok(other_tenant.client.get(f"/api-{entity}", params={"include_deleted": "true"}))[
            entity
        ]
        assert ids[entity] not in [r["id"] for r in listed]
        assert SINGULAR[entity]
