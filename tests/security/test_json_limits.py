"""The limits on JSON values from outside (issue 8, items 2 and 4; README "Limits"):

- one nesting depth limit (64 levels) for every JSON body: deeper is 400 naming the limit, on
  every endpoint (252–1023 levels used to answer 500: the response writer's recursion limit);
- free-form JSON (`metadata`, `nesting_metadata`) takes numbers in [-2^63, 2^64 − 1] only,
  finite: anything else is 422 naming the nested path (`metadata.n`). On PostgreSQL `1e30` used
  to be stored as a 31-digit integer that no read of the row, its events or their deliveries
  could render again; `1e400` (valid JSON) used to be 400 "Invalid JSON".
"""

import uuid
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.kit.json_limits import MAX_DEPTH, NUMBER_MAX, NUMBER_MIN
from floorsync.models.master import Job
from tests.support.api import count_rows, detail, fails, invalid, make_tree, ok, suffix
from tests.support.tenants import TenantHandle

JSON = {"content-type": "application/json"}


def nested_object(levels: int, leaf: str = "1") -> str:
    """`levels` objects inside each other around `leaf`, as JSON text."""
    return '{"a":' * levels + leaf + "}" * levels


def post_raw(client: httpx.Client, path: str, text: str, **kw: Any) -> httpx.Response:
    return client.post(path, content=text.encode(), headers={**JSON, **kw.pop("headers", {})}, **kw)


def too_deep(resp: httpx.Response) -> None:
    error = fails(resp, 400, "BAD_REQUEST")
    assert str(MAX_DEPTH) in error["message"], error
    assert error["details"] == [
        {
            "field": "body",
            "message": error["message"],
            "constraint": "MAX_DEPTH",
            "value": MAX_DEPTH,
        }
    ]


class TestNestingDepth:
    def test_a_body_exactly_64_levels_deep_is_accepted_and_reads_back(
        self, tenant: TenantHandle
    ) -> None:
        # The body is level 1; `metadata` and the objects inside it are levels 2 to 64.
        text = f'{{"job_number":"J-{suffix()}","metadata":{nested_object(63)}}}'
        job = ok(post_raw(tenant.client, "/api-jobs", text), 201)["job"]
        again = ok(tenant.client.get("/api-jobs", params={"id": job["id"]}))["job"]
        assert again["metadata"] == orjson.loads(nested_object(63))

    def test_one_level_more_is_400_naming_the_limit_and_writes_nothing(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        text = f'{{"job_number":"J-{suffix()}","metadata":{nested_object(64)}}}'
        too_deep(post_raw(tenant.client, "/api-jobs", text))
        assert count_rows(sessions, tenant.id, Job) == 0

    @pytest.mark.parametrize("levels", [300, 1000, 1100])
    @pytest.mark.parametrize(
        ("method", "path", "wrap"),
        [
            ("POST", "/api-jobs", '{{"job_number":"J-1","metadata":{}}}'),
            ("PUT", "/api-jobs/sync", '{{"external_id":"E","external_source":"S","metadata":{}}}'),
            ("POST", "/api-jobs/bulk-sync", '{{"items":[{{"metadata":{}}}]}}'),
            ("POST", "/api-erp-sync/sync", '{{"jobs":[{{"metadata":{}}}]}}'),
            ("POST", "/api-webhooks", '{{"url":"https://example.com/","junk":{}}}'),
            ("POST", "/api-time-entries", '{{"notes":{}}}'),
            ("POST", "/api-key-generate", '{{"name":{}}}'),
        ],
    )
    def test_deeper_bodies_are_400_on_every_kind_of_endpoint(
        self, tenant: TenantHandle, method: str, path: str, wrap: str, levels: int
    ) -> None:
        text = wrap.format(nested_object(levels))
        too_deep(tenant.client.request(method, path, content=text.encode(), headers=JSON))

    def test_a_deep_array_is_counted_like_a_deep_object(self, tenant: TenantHandle) -> None:
        too_deep(post_raw(tenant.client, "/api-jobs", "[" * 400 + "]" * 400))

    def test_a_lifecycle_body_is_held_to_the_same_limit(self, tenant: TenantHandle) -> None:
        op = make_tree(tenant.client, parts=1, ops=1)["parts"][0]["operations"][0]["id"]
        too_deep(
            tenant.client.post(
                "/api-operation-lifecycle/start",
                params={"id": op},
                content=f'{{"notes":{nested_object(500)}}}'.encode(),
            )
        )

    def test_an_idempotency_key_does_not_change_the_answer_to_a_deep_body(
        self, tenant: TenantHandle
    ) -> None:
        text = f'{{"job_number":"J-1","metadata":{nested_object(1000)}}}'
        headers = {"Idempotency-Key": f"deep-{suffix()}"}
        too_deep(post_raw(tenant.client, "/api-jobs", text, headers=headers))
        too_deep(post_raw(tenant.client, "/api-jobs", text, headers=headers))  # key released

    def test_a_deep_body_with_an_infinite_number_is_still_400_for_its_depth(
        self, tenant: TenantHandle
    ) -> None:
        too_deep(
            post_raw(tenant.client, "/api-jobs", f'{{"metadata":{nested_object(200, "1e400")}}}')
        )


class TestNumberRange:
    @pytest.mark.parametrize(
        ("number", "constraint"),
        [
            ("1e30", "MAX_VALUE"),
            ("18446744073709551616", "MAX_VALUE"),  # 2^64
            ("1.8446744073709552e19", "MAX_VALUE"),
            ("123456789012345678901234567890", "MAX_VALUE"),
            ("-1e19", "MIN_VALUE"),
            ("-9223372036854777856", "MIN_VALUE"),
            ("1e400", "TYPE_MISMATCH"),
            ("-1e400", "TYPE_MISMATCH"),
        ],
    )
    def test_a_number_outside_the_range_in_metadata_is_422_naming_its_path(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], number: str, constraint: str
    ) -> None:
        text = f'{{"job_number":"J-{suffix()}","metadata":{{"ok":1,"n":{number}}}}}'
        item = invalid(post_raw(tenant.client, "/api-jobs", text), "metadata.n", constraint)
        assert "metadata.n" in item["message"]
        deeper = f'{{"job_number":"J-{suffix()}","metadata":{{"a":[0,{{"b":{number}}}]}}}}'
        invalid(post_raw(tenant.client, "/api-jobs", deeper), "metadata.a[1].b", constraint)
        assert count_rows(sessions, tenant.id, Job) == 0

    @pytest.mark.parametrize(
        "entity", ["jobs", "parts", "operations", "cells", "resources", "materials"]
    )
    def test_every_entity_refuses_it_on_create_patch_and_sync(
        self, tenant: TenantHandle, entity: str
    ) -> None:
        c = tenant.client
        tree = make_tree(c, parts=1, ops=1)
        bodies = {
            "jobs": {"job_number": f"J-{suffix()}"},
            "parts": {"job_id": tree["id"], "part_number": f"P-{suffix()}"},
            "operations": {"part_id": tree["parts"][0]["id"], "operation_name": "Op"},
            "cells": {"name": f"C-{suffix()}"},
            "resources": {"name": f"R-{suffix()}", "type": "machine"},
            "materials": {"name": f"M-{suffix()}"},
        }
        body = bodies[entity]
        bad = {"n": 1e30}
        invalid(c.post(f"/api-{entity}", json={**body, "metadata": bad}), "metadata.n", "MAX_VALUE")
        record = next(iter(ok(c.post(f"/api-{entity}", json=body), 201).values()))
        invalid(
            c.patch(f"/api-{entity}", params={"id": record["id"]}, json={"metadata": bad}),
            "metadata.n",
            "MAX_VALUE",
        )
        keyed = {**body, "external_id": f"E-{suffix()}", "external_source": "ERP"}
        invalid(
            c.put(f"/api-{entity}/sync", json={**keyed, "metadata": bad}),
            "metadata.n",
            "MAX_VALUE",
        )

    def test_nested_children_name_the_full_path(self, tenant: TenantHandle) -> None:
        body = {
            "job_number": f"J-{suffix()}",
            "parts": [
                {
                    "part_number": "P-1",
                    "operations": [{"operation_name": "Cut", "metadata": {"n": -1e19}}],
                }
            ],
        }
        invalid(
            tenant.client.post("/api-jobs", json=body),
            "parts[0].operations[0].metadata.n",
            "MIN_VALUE",
        )

    def test_bulk_sync_fails_only_the_record_that_carries_it(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        good = {
            "external_id": f"G-{suffix()}",
            "external_source": "ERP",
            "job_number": f"J-{suffix()}",
        }
        bad = {
            "external_id": f"B-{suffix()}",
            "external_source": "ERP",
            "job_number": f"J-{suffix()}",
            "parts": [
                {"external_id": f"BP-{suffix()}", "part_number": "P", "metadata": {"n": 1e30}}
            ],
        }
        data = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": [good, bad]}))
        assert (data["created"], data["failed"]) == (1, 1)
        record = data["records"][1]
        assert record["code"] == "VALIDATION_ERROR"
        assert [(d["field"], d["constraint"]) for d in record["details"]] == [
            ("parts[0].metadata.n", "MAX_VALUE")
        ]
        assert count_rows(sessions, tenant.id, Job) == 1

    def test_erp_sync_fails_only_the_record_that_carries_it(self, tenant: TenantHandle) -> None:
        cells = [
            {"external_id": f"C-{suffix()}", "external_source": "ERP", "name": f"C-{suffix()}"},
            {
                "external_id": f"C-{suffix()}",
                "external_source": "ERP",
                "name": f"C-{suffix()}",
                "metadata": {"deep": [{"n": 2**64}]},
            },
        ]
        data = ok(tenant.client.post("/api-erp-sync/sync", json={"cells": cells}))
        records = data["entities"]["cells"]["results"]
        assert [r["action"] for r in records] == ["created", "error"]
        assert records[1]["details"][0]["field"] == "metadata.deep[0].n"

    def test_batch_nesting_metadata_is_held_to_the_range(self, tenant: TenantHandle) -> None:
        c = tenant.client
        cell = ok(c.post("/api-cells", json={"name": f"C-{suffix()}"}), 201)["cell"]
        invalid(
            c.post(
                "/api-batches",
                json={
                    "batch_number": f"B-{suffix()}",
                    "cell_id": cell["id"],
                    "nesting_metadata": {"n": 1e30},
                },
            ),
            "nesting_metadata.n",
            "MAX_VALUE",
        )

    def test_the_edges_of_the_range_are_stored_and_read_back_exactly_everywhere(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        edges = {
            "max": NUMBER_MAX,
            "min": NUMBER_MIN,
            "float": 1.5e19,
            "tiny": 5e-324,
            "pi": 3.14159,
        }
        key = {"external_id": f"E-{suffix()}", "external_source": "ERP"}
        job = ok(
            c.put("/api-jobs/sync", json={**key, "job_number": f"J-{suffix()}", "metadata": edges}),
            201,
        )
        ok(
            c.put(
                "/api-jobs/sync",
                json={
                    **key,
                    "job_number": job["job"]["job_number"],
                    "metadata": {**edges, "max": 1},
                },
            )
        )
        assert ok(c.get("/api-jobs", params={"id": job["id"]}))["job"]["metadata"] == edges | {
            "max": 1
        }
        listed = ok(c.get("/api-jobs"))["jobs"]
        assert [j["metadata"] for j in listed] == [edges | {"max": 1}]
        feed = ok(c.get("/api-events"))["events"]
        updated = [e for e in feed if e["type"] == "job.updated"]
        assert updated[0]["data"]["previous"]["metadata"] == edges


class TestEveryJsonEndpoint:
    """`1e400` is valid JSON; every endpoint that takes JSON names the field it sits in."""

    def test_an_infinite_number_is_422_naming_the_field_wherever_it_is_sent(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_tree(c, parts=1, ops=1)
        op = tree["parts"][0]["operations"][0]["id"]
        cell = ok(c.post("/api-cells", json={"name": f"C-{suffix()}"}), 201)["cell"]
        hook = ok(
            c.post("/api-webhooks", json={"url": "https://example.com/h", "events": ["*"]}), 201
        )["webhook"]
        inf = "1e400"
        cases: list[tuple[str, str, dict[str, str], str, str]] = [
            (
                "POST",
                "/api-jobs",
                {},
                f'{{"job_number":"J-{suffix()}","metadata":{{"n":{inf}}}}}',
                "metadata.n",
            ),
            ("PATCH", "/api-jobs", {"id": tree["id"]}, f'{{"priority":{inf}}}', "priority"),
            (
                "PUT",
                "/api-jobs/sync",
                {},
                f'{{"external_id":"X","external_source":"S","job_number":"J-X","metadata":{{"n":{inf}}}}}',
                "metadata.n",
            ),
            (
                "POST",
                "/api-parts",
                {},
                f'{{"job_id":"{tree["id"]}","part_number":"P","quantity":{inf}}}',
                "quantity",
            ),
            (
                "POST",
                "/api-batches",
                {},
                f'{{"batch_number":"B","cell_id":"{cell["id"]}","nesting_metadata":{{"n":{inf}}}}}',
                "nesting_metadata.n",
            ),
            (
                "POST",
                "/api-time-entries",
                {},
                f'{{"operation_id":"{op}","operator_id":"A","notes":{inf}}}',
                "notes",
            ),
            (
                "POST",
                "/api-assignments",
                {},
                f'{{"operation_id":"{op}","operator_id":"A","notes":{inf}}}',
                "notes",
            ),
            (
                "POST",
                "/api-operation-quantities",
                {},
                f'{{"operation_id":"{op}","quantity_good":{inf}}}',
                "quantity_good",
            ),
            (
                "POST",
                "/api-operators",
                {},
                f'{{"operator_id":"B-{suffix()}","name":{inf}}}',
                "name",
            ),
            ("POST", "/api-operation-lifecycle/start", {"id": op}, f'{{"notes":{inf}}}', "notes"),
            (
                "POST",
                "/api-webhooks",
                {},
                f'{{"url":"https://example.com/h","events":["*"],"description":{inf}}}',
                "description",
            ),
            (
                "POST",
                "/api-webhooks/rotate-secret",
                {"id": hook["id"]},
                f'{{"overlap_hours":{inf}}}',
                "overlap_hours",
            ),
            ("POST", "/api-webhooks/recover", {"id": hook["id"]}, f'{{"since":{inf}}}', "since"),
            ("POST", "/api-key-generate", {}, f'{{"name":{inf}}}', "name"),
        ]
        for method, path, params, text, field in cases:
            resp = c.request(method, path, params=params, content=text.encode(), headers=JSON)
            error = fails(resp, 422, "VALIDATION_ERROR")
            assert detail(error, field), (method, path)

    def test_bulk_and_erp_sync_report_it_per_record(self, tenant: TenantHandle) -> None:
        item = f'{{"external_id":"E-{suffix()}","external_source":"S","job_number":"J-{uuid.uuid4().hex[:6]}","metadata":{{"n":1e400}}}}'
        data = ok(post_raw(tenant.client, "/api-jobs/bulk-sync", f'{{"items":[{item}]}}'))
        assert data["records"][0]["details"][0]["field"] == "metadata.n"
        diff = ok(post_raw(tenant.client, "/api-erp-sync/diff", f'{{"jobs":[{item}]}}'))
        assert "metadata.n" in orjson.dumps(diff).decode()

    def test_the_fallback_parser_refuses_what_the_normal_one_refuses(
        self, tenant: TenantHandle
    ) -> None:
        # Each body has an infinity (so it is parsed again) and one more thing that isn't JSON.
        for text in (
            '{"metadata":{"n":1e400,"s":"\\ud800"}}',  # a lone surrogate
            '{"metadata":{"n":1e400,"x":NaN}}',
            '{"metadata":{"n":1e400,"x":Infinity}}',
            '{"metadata":{"n":1e400}',
            '{"metadata":{"n":1e400,"x":1' + "0" * 5000 + "}}",
        ):
            fails(
                post_raw(tenant.client, "/api-jobs", text),
                400,
                "BAD_REQUEST",
                "Invalid JSON in request body",
            )

    def test_integers_beyond_64_bits_next_to_an_infinity_are_reported_not_crashed_on(
        self, tenant: TenantHandle
    ) -> None:
        text = (
            '{"job_number":"J-1","priority":123456789012345678901234567890,"metadata":{"n":1e400}}'
        )
        error = fails(post_raw(tenant.client, "/api-jobs", text), 422, "VALIDATION_ERROR")
        assert detail(error, "priority")["constraint"] == "MAX_VALUE"
        assert detail(error, "metadata.n")["constraint"] == "TYPE_MISMATCH"
