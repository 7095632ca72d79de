"""The bad-input attacks of the hardening review that held, kept as a permanent catalogue (issue
8, "Also"): each must keep answering a precise 4xx, never a 500, never a half-written record,
never another tenant's data.

Already covered elsewhere, not repeated here:
- malformed JSON, non-object bodies, the body size limit (413), id syntax, unknown query and
  sub-routes on the entity functions: tests/http/test_errors.py;
- generated bodies, raw bytes and query strings against every entity: tests/http/test_fuzz.py;
- wrong types, huge strings, unknown enum values, unknown fields on every entity field:
  tests/entities/test_fields.py; unknown references: tests/entities/test_references.py;
- 1001 items and more than 10,000 nested records on jobs bulk-sync: tests/sync/test_bulk_sync.py;
- other tenants' ids in `?id=` of every route and in create and PATCH bodies:
  tests/http/test_isolation.py, tests/shopfloor/test_isolation.py;
- SSRF forms: tests/webhooks/test_schedule_and_netguard.py, tests/webhooks/test_endpoints.py and
  tests/security/test_netguard_forms.py;
- depth, number range and integer overflow: the other modules of tests/security.

What this module adds: the same attacks against every other function that takes input (sync,
erp-sync, webhooks, lifecycles, shop-floor records, keys, events), found by walking the app's
route table where that is possible, so that a route added later is attacked too.
"""

import re
import uuid
from typing import Any

import pytest

from floorsync.http.routing import iter_routes
from tests.support.api import detail, fails, make_tree, ok, suffix
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle

ACTION = {"api-job-lifecycle": "start", "api-operation-lifecycle": "start"}
ACTION_DEFAULT = "start"
# Routes that answer before reading a body: `enable` takes none, and a lifecycle function
# without an action is 400 INVALID_OPERATION whatever the body.
BODYLESS = {
    ("POST", "/api-webhooks/enable"),
    ("POST", "/api-job-lifecycle"),
    ("POST", "/api-operation-lifecycle"),
    ("POST", "/api-batch-lifecycle"),
}


# Routes whose body is multipart, not JSON (a part image's file): tests/files covers their bad input.
MULTIPART = {"/api-parts-images/{part_id}/upload"}


def json_routes(server: LiveServer) -> list[tuple[str, str]]:
    """(method, path) of every /api-* route that takes a JSON body, actions filled in."""
    out = []
    for route in iter_routes(server.app.routes):
        if not route.path.startswith("/api-") or route.path in MULTIPART:
            continue
        function = route.path[1:].partition("/")[0]
        path = re.sub(r"\{[^}]*\}", ACTION.get(function, ACTION_DEFAULT), route.path)
        out.extend(
            (method, path)
            for method in sorted(route.methods or ())
            if method in ("POST", "PUT", "PATCH") and (method, path) not in BODYLESS
        )
    return out


class TestEveryRouteThatTakesABody:
    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (b"{bad", "Invalid JSON in request body"),
            (b'{"a":1}{"b":2}', "Invalid JSON in request body"),
            (b'{"a":NaN}', "Invalid JSON in request body"),
            (b'{"a":"\\ud800"}', "Invalid JSON in request body"),
            (b"\xff\xfe{}", "Invalid JSON in request body"),
            (b"[]", "Request body must be a JSON object"),
            (b'"text"', "Request body must be a JSON object"),
        ],
    )
    def test_a_body_that_is_not_a_json_object_is_400_and_writes_nothing(
        self, server: LiveServer, tenant: TenantHandle, raw: bytes, message: str
    ) -> None:
        any_id = str(uuid.uuid4())
        before = tenant.client.get("/api-events").content
        problems = []
        for method, path in json_routes(server):
            resp = tenant.client.request(method, path, params={"id": any_id}, content=raw)
            if resp.status_code != 400 or resp.json()["error"]["message"] != message:
                problems.append(f"{method} {path}: {resp.status_code} {resp.text[:150]}")
        assert problems == []
        assert tenant.client.get("/api-events").content == before

    def test_the_walk_reaches_the_functions_beyond_the_entities(self, server: LiveServer) -> None:
        paths = {path for _, path in json_routes(server)}
        for expected in (
            "/api-erp-sync/sync",
            "/api-webhooks/rotate-secret",
            "/api-batch-lifecycle/start",
            "/api-operation-quantities",
            "/api-key-generate",
            "/api-operators/bulk-sync",
        ):
            assert expected in paths


@pytest.fixture
def seeded(tenant: TenantHandle) -> dict[str, Any]:
    """A job tree, a cell, a webhook and an open time entry of the tenant."""
    c = tenant.client
    tree = make_tree(c, parts=1, ops=2)
    ops = [o["id"] for o in tree["parts"][0]["operations"]]
    cell = ok(c.post("/api-cells", json={"name": f"C-{suffix()}"}), 201)["cell"]
    hook = ok(
        c.post("/api-webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}), 201
    )["webhook"]
    batch = ok(
        c.post("/api-batches", json={"batch_number": f"B-{suffix()}", "cell_id": cell["id"]}),
        201,
    )["batch"]
    return {
        "job": tree["id"],
        "part": tree["parts"][0]["id"],
        "ops": ops,
        "cell": cell["id"],
        "hook": hook["id"],
        "batch": batch["id"],
    }


def _check(
    tenant: TenantHandle,
    cases: list[tuple[str, str, dict[str, str], Any, int, str, str | None]],
) -> None:
    """Send each (method, path, query, body, status, field, constraint); all must match."""
    problems = []
    for method, path, query, body, status, field, constraint in cases:
        resp = tenant.client.request(method, path, params=query, json=body)
        where = f"{method} {path} {query} {str(body)[:80]}"
        if resp.status_code != status:
            problems.append(f"{where}: {resp.status_code} {resp.text[:200]}")
            continue
        found = [d for d in resp.json()["error"].get("details") or [] if d["field"] == field]
        if not found or (constraint is not None and found[0]["constraint"] != constraint):
            problems.append(f"{where}: no {field}/{constraint} in {resp.text[:200]}")
    assert problems == []


class TestWrongTypesBeyondTheEntities:
    def test_each_is_a_precise_4xx_naming_the_field(
        self, tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        s, op = seeded, seeded["ops"][0]
        hook = {"id": s["hook"]}
        _check(
            tenant,
            [
                (
                    "POST",
                    "/api-webhooks",
                    {},
                    {"url": 1, "events": ["*"]},
                    422,
                    "url",
                    "TYPE_MISMATCH",
                ),
                (
                    "POST",
                    "/api-webhooks",
                    {},
                    {"url": "https://example.com/", "events": "job.*"},
                    422,
                    "events",
                    "TYPE_MISMATCH",
                ),
                ("PATCH", "/api-webhooks", hook, {"active": "yes"}, 422, "active", "TYPE_MISMATCH"),
                (
                    "POST",
                    "/api-webhooks/rotate-secret",
                    hook,
                    {"overlap_hours": "24h"},
                    422,
                    "overlap_hours",
                    None,
                ),
                (
                    "POST",
                    "/api-webhooks/recover",
                    hook,
                    {"since": "2026-01-01", "include_missing": "yes"},
                    422,
                    "include_missing",
                    "TYPE_MISMATCH",
                ),
                (
                    "POST",
                    "/api-webhooks/recover",
                    hook,
                    {"since": "yesterday"},
                    422,
                    "since",
                    "DATE_FORMAT",
                ),
                ("POST", "/api-webhooks/replay", hook, {"event_id": 5}, 422, "event_id", None),
                ("POST", "/api-key-generate", {}, {"name": ["admin"]}, 422, "name", None),
                (
                    "POST",
                    "/api-key-generate",
                    {},
                    {"name": "k", "expires_at": 1767225600},
                    422,
                    "expires_at",
                    None,
                ),
                (
                    "POST",
                    "/api-operation-lifecycle/start",
                    {"id": op},
                    {"operator_id": 17},
                    422,
                    "operator_id",
                    "TYPE_MISMATCH",
                ),
                (
                    "POST",
                    "/api-batch-lifecycle/add-operations",
                    {"id": s["batch"]},
                    {"operation_ids": "all"},
                    422,
                    "operation_ids",
                    None,
                ),
                (
                    "POST",
                    "/api-time-entries",
                    {},
                    {"operation_id": op, "operator_id": "A", "start_time": 0},
                    422,
                    "start_time",
                    "DATE_FORMAT",
                ),
                (
                    "POST",
                    "/api-operation-quantities",
                    {},
                    {"operation_id": op, "quantity_good": "many"},
                    422,
                    "quantity_good",
                    "TYPE_MISMATCH",
                ),
                (
                    "POST",
                    "/api-operation-quantities",
                    {},
                    {"operation_id": op, "quantity_good": 1.5},
                    422,
                    "quantity_good",
                    "TYPE_MISMATCH",
                ),
                (
                    "POST",
                    "/api-assignments",
                    {},
                    {"operator_id": "A", "job_id": 42},
                    422,
                    "job_id",
                    "UUID_FORMAT",
                ),
                (
                    "POST",
                    "/api-operators",
                    {},
                    {"operator_id": "B-1", "active": "no"},
                    422,
                    "active",
                    "TYPE_MISMATCH",
                ),
            ],
        )

    def test_sync_reports_them_per_record_and_writes_the_others(self, tenant: TenantHandle) -> None:
        good = {"external_id": f"G-{suffix()}", "external_source": "ERP", "name": f"C-{suffix()}"}
        bad = {
            "external_id": f"B-{suffix()}",
            "external_source": "ERP",
            "name": f"C-{suffix()}",
            "wip_limit": "lots",
        }
        data = ok(tenant.client.post("/api-cells/bulk-sync", json={"items": [good, bad]}))
        assert [r["action"] for r in data["records"]] == ["created", "error"]
        assert detail(data["records"][1], "wip_limit")["constraint"] == "TYPE_MISMATCH"
        erp = ok(
            tenant.client.post(
                "/api-erp-sync/sync", json={"cells": [{**bad, "external_id": f"E-{suffix()}"}]}
            )
        )
        assert erp["entities"]["cells"]["results"][0]["code"] == "VALIDATION_ERROR"


class TestOversizedRequests:
    @pytest.mark.parametrize(
        "path",
        [
            "/api-parts/bulk-sync",
            "/api-operations/bulk-sync",
            "/api-cells/bulk-sync",
            "/api-resources/bulk-sync",
            "/api-materials/bulk-sync",
            "/api-operators/bulk-sync",
        ],
    )
    def test_1001_items_are_400_on_every_bulk_sync(self, tenant: TenantHandle, path: str) -> None:
        fails(
            tenant.client.post(path, json={"items": [{}] * 1001}),
            400,
            "BAD_REQUEST",
            "Maximum 1000 items per bulk-sync request",
        )

    def test_erp_sync_holds_every_section_and_the_whole_request_to_the_limits(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        for path in ("/api-erp-sync/sync", "/api-erp-sync/diff"):
            for section in ("cells", "jobs", "operations"):
                assert c.post(path, json={section: [{}] * 1001}).status_code == 400
            nested = [{"parts": [{"operations": [{}] * 9}] * 10}] * 100  # 10,100 records
            fails(c.post(path, json={"jobs": nested}), 400, "BAD_REQUEST")
            spread = {"cells": [{}] * 1000, "jobs": [{"parts": [{}] * 9}] * 1000}  # 11,000
            fails(c.post(path, json=spread), 400, "BAD_REQUEST")
        assert ok(c.get("/api-cells"))["cells"] == []


class TestHugeStrings:
    def test_over_long_values_outside_the_entities_are_refused_naming_them(
        self, tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        s, op = seeded, seeded["ops"][0]
        _check(
            tenant,
            [
                (
                    "POST",
                    "/api-webhooks",
                    {},
                    {"url": "https://example.com/" + "a" * 2100, "events": ["*"]},
                    422,
                    "url",
                    "URL_FORMAT",
                ),
                (
                    "POST",
                    "/api-webhooks",
                    {},
                    {"url": "https://example.com/", "events": ["*"], "description": "d" * 501},
                    422,
                    "description",
                    "MAX_LENGTH",
                ),
                (
                    "POST",
                    "/api-webhooks",
                    {},
                    {"url": "https://example.com/", "events": ["*"] * 101},
                    422,
                    "events",
                    "MAX_LENGTH",
                ),
                (
                    "POST",
                    "/api-webhooks/rotate-secret",
                    {"id": s["hook"]},
                    {"secret_key": "whsec_" + "A" * 5000},
                    422,
                    "secret_key",
                    None,
                ),
                ("POST", "/api-key-generate", {}, {"name": "n" * 1000}, 422, "name", None),
                (
                    "POST",
                    "/api-operation-lifecycle/start",
                    {"id": op, "operator_id": "o" * 65},
                    None,
                    422,
                    "operator_id",
                    "MAX_LENGTH",
                ),
                (
                    "POST",
                    "/api-time-entries",
                    {},
                    {"operation_id": op, "operator_id": "A", "notes": "n" * 10_001},
                    422,
                    "notes",
                    "MAX_LENGTH",
                ),
                (
                    "POST",
                    "/api-operators",
                    {},
                    {"operator_id": "x" * 65},
                    422,
                    "operator_id",
                    "MAX_LENGTH",
                ),
                ("GET", "/api-jobs", {"search": "s" * 201}, None, 400, "search", "MAX_LENGTH"),
                ("GET", "/api-jobs", {"id": "9" * 5000}, None, 400, "id", "UUID_FORMAT"),
                ("GET", "/api-events", {"after": "A" * 5000}, None, 400, "after", "INVALID_VALUE"),
            ],
        )

    def test_an_over_long_idempotency_key_is_400(self, tenant: TenantHandle) -> None:
        resp = tenant.client.post(
            "/api-cells", json={"name": f"C-{suffix()}"}, headers={"Idempotency-Key": "k" * 256}
        )
        fails(resp, 400, "BAD_REQUEST")
        assert ok(tenant.client.get("/api-cells"))["cells"] == []


class TestUnknownEnumValues:
    def test_each_is_refused_naming_the_field(
        self, tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        op = seeded["ops"][0]
        _check(
            tenant,
            [
                (
                    "POST",
                    "/api-webhooks",
                    {},
                    {"url": "https://example.com/", "events": ["job.exploded"]},
                    422,
                    "events[0]",
                    "ENUM_CONSTRAINT",
                ),
                ("POST", "/api-key-generate", {}, {"name": "k", "role": "root"}, 422, "role", None),
                (
                    "POST",
                    "/api-time-entries",
                    {},
                    {"operation_id": op, "operator_id": "A", "time_type": "nap"},
                    422,
                    "time_type",
                    "ENUM_CONSTRAINT",
                ),
                (
                    "POST",
                    "/api-assignments",
                    {},
                    {"operator_id": "A", "operation_id": op, "status": "maybe"},
                    422,
                    "status",
                    "ENUM_CONSTRAINT",
                ),
                (
                    "POST",
                    "/api-operation-lifecycle/start",
                    {"id": op},
                    {"time_type": "nap"},
                    422,
                    "time_type",
                    "ENUM_CONSTRAINT",
                ),
                (
                    "GET",
                    "/api-events",
                    {"types": "job.exploded"},
                    None,
                    422,
                    "types",
                    "ENUM_CONSTRAINT",
                ),
                (
                    "GET",
                    "/api-erp-sync/status",
                    {"status": "exploded"},
                    None,
                    400,
                    "status",
                    "ENUM_CONSTRAINT",
                ),
                (
                    "GET",
                    "/api-webhook-logs",
                    {"outcome": "exploded"},
                    None,
                    400,
                    "outcome",
                    "ENUM_CONSTRAINT",
                ),
            ],
        )

    def test_an_unknown_lifecycle_action_is_400_and_changes_nothing(
        self, tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        op = seeded["ops"][0]
        resp = tenant.client.post("/api-operation-lifecycle/explode", params={"id": op})
        assert resp.status_code == 400, resp.text
        assert (
            ok(tenant.client.get("/api-operations", params={"id": op}))["operation"]["status"]
            == "not_started"
        )


class TestUnknownReferences:
    def test_references_to_nothing_are_422_reference_not_found(
        self, tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        nothing = str(uuid.uuid4())
        _check(
            tenant,
            [
                (
                    "POST",
                    "/api-time-entries",
                    {},
                    {"operation_id": nothing, "operator_id": "A"},
                    422,
                    "operation_id",
                    "REFERENCE_NOT_FOUND",
                ),
                (
                    "POST",
                    "/api-operation-quantities",
                    {},
                    {"operation_id": nothing, "quantity_good": 1},
                    422,
                    "operation_id",
                    "REFERENCE_NOT_FOUND",
                ),
                (
                    "POST",
                    "/api-assignments",
                    {},
                    {"operator_id": "A", "part_id": nothing},
                    422,
                    "part_id",
                    "REFERENCE_NOT_FOUND",
                ),
                (
                    "POST",
                    "/api-batches",
                    {},
                    {"batch_number": f"B-{suffix()}", "cell_id": nothing},
                    422,
                    "cell_id",
                    "REFERENCE_NOT_FOUND",
                ),
            ],
        )
        replay = tenant.client.post(
            "/api-webhooks/replay",
            params={"id": seeded["hook"]},
            json={"event_id": f"evt_{uuid.uuid4().hex}"},
        )
        fails(replay, 404, "NOT_FOUND")

    def test_sync_reports_them_per_record(self, tenant: TenantHandle) -> None:
        items = [
            {
                "external_id": f"P-{suffix()}",
                "external_source": "ERP",
                "part_number": "P",
                "job_external_id": "NOPE",
            },
            {
                "external_id": f"P-{suffix()}",
                "external_source": "ERP",
                "part_number": "P",
                "job_id": str(uuid.uuid4()),
            },
        ]
        data = ok(tenant.client.post("/api-parts/bulk-sync", json={"items": items}))
        assert [r["code"] for r in data["records"]] == ["REFERENCE_NOT_FOUND"] * 2
        assert ok(tenant.client.get("/api-parts"))["parts"] == []


class TestOtherTenantsIdsInSyncBodies:
    """Bodies of the sync functions and webhook sub-routes naming another tenant's records
    resolve to nothing: never linked, never revealed, never changed."""

    def test_bulk_and_erp_sync_never_link_to_another_tenants_records(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = make_tree(
            other_tenant.client, parts=1, ops=1, external_id="SO-T", external_source="ERP"
        )
        their_part = theirs["parts"][0]["id"]
        before = other_tenant.client.get("/api-jobs", params={"limit": 1000}).content
        c = tenant.client
        parts = [
            {
                "external_id": f"P-{suffix()}",
                "external_source": "ERP",
                "part_number": "P",
                "job_id": theirs["id"],
            },
            {
                "external_id": f"P-{suffix()}",
                "external_source": "ERP",
                "part_number": "P",
                "job_external_id": "SO-T",
            },
        ]
        data = ok(c.post("/api-parts/bulk-sync", json={"items": parts}))
        assert [r["code"] for r in data["records"]] == ["REFERENCE_NOT_FOUND"] * 2
        ops = [
            {
                "external_id": f"O-{suffix()}",
                "external_source": "ERP",
                "operation_name": "Op",
                "part_id": their_part,
            }
        ]
        erp = ok(c.post("/api-erp-sync/sync", json={"operations": ops}))
        assert erp["entities"]["operations"]["results"][0]["code"] == "REFERENCE_NOT_FOUND"
        assert [r["id"] for r in data["records"]] == [None, None]
        assert erp["entities"]["operations"]["results"][0]["id"] is None
        # The same external key in this tenant is a record of this tenant, not theirs.
        mine = ok(
            c.put(
                "/api-jobs/sync",
                json={"external_id": "SO-T", "external_source": "ERP", "job_number": "J-MINE"},
            ),
            201,
        )
        assert mine["id"] != theirs["id"]
        assert other_tenant.client.get("/api-jobs", params={"limit": 1000}).content == before

    def test_a_webhook_can_not_replay_another_tenants_event(
        self, tenant: TenantHandle, other_tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        make_tree(other_tenant.client, parts=0)
        their_event = ok(other_tenant.client.get("/api-events"))["events"][0]["id"]
        resp = tenant.client.post(
            "/api-webhooks/replay", params={"id": seeded["hook"]}, json={"event_id": their_event}
        )
        fails(resp, 404, "NOT_FOUND")
        logs = ok(tenant.client.get("/api-webhook-logs", params={"event_id": their_event}))
        assert logs["webhook_logs"] == []

    def test_batch_operations_of_another_tenant_can_not_be_added(
        self, tenant: TenantHandle, other_tenant: TenantHandle, seeded: dict[str, Any]
    ) -> None:
        theirs = make_tree(other_tenant.client, parts=1, ops=1)["parts"][0]["operations"][0]["id"]
        resp = tenant.client.post(
            "/api-batch-lifecycle/add-operations",
            params={"id": seeded["batch"]},
            json={"operation_ids": [theirs]},
        )
        assert resp.status_code == 422, resp.text
        assert (
            theirs in {d.get("value") for d in resp.json()["error"]["details"]}
            or "operation_ids" in resp.text
        )
        assert (
            ok(other_tenant.client.get("/api-operations", params={"id": theirs}))["operation"].get(
                "batch_id"
            )
            is None
        )
