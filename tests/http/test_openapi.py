"""`/openapi.json` and `/docs` describe the API as it behaves: every /api-* route with its
methods, request bodies, parameters and the records' real keys."""

from typing import Any

import pytest
from starlette.exceptions import HTTPException as StarletteHTTPException

from floorsync.http.routing import iter_routes
from tests.support.api import ENTITIES, SINGULAR, make_any, ok
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle

MINE = {*(f"api-{e}" for e in ENTITIES), "api-key-generate"}


@pytest.fixture(scope="module")
def openapi(server: LiveServer) -> dict[str, Any]:
    import httpx

    resp = httpx.get(
        f"{server.base_url}/openapi.json", timeout=60
    )  # large document, loaded machines
    assert resp.status_code == 200
    doc: dict[str, Any] = resp.json()
    return doc


def _schema_of(doc: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    envelope = doc["paths"][path][method]["responses"][status]["content"]["application/json"][
        "schema"
    ]
    data: dict[str, Any] = envelope["properties"]["data"]
    return data


class TestTheDocument:
    def test_it_is_openapi_3_1_without_authentication(self, openapi: dict[str, Any]) -> None:
        assert openapi["openapi"].startswith("3.1")
        assert openapi["components"]["securitySchemes"]["apiKey"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ery_live_<32 hex>",
            "description": "An API key: `Authorization: Bearer ery_live_…`",
        }

    def test_docs_are_served_without_authentication(self, server: LiveServer) -> None:
        import httpx

        resp = httpx.get(f"{server.base_url}/docs")
        assert resp.status_code == 200
        assert "/openapi.json" in resp.text

    def test_every_api_route_of_the_app_is_listed_with_its_methods_and_security(
        self, server: LiveServer, openapi: dict[str, Any]
    ) -> None:
        for route in iter_routes(server.app.routes):
            if not route.path.startswith("/api-") or not route.include_in_schema:
                continue
            path = route.path.replace(":path}", "}")
            assert path in openapi["paths"], path
            for method in route.methods or ():
                operation = openapi["paths"][path][method.lower()]
                assert operation["security"] == [{"apiKey": []}], (path, method)
                if path.split("/")[1] in MINE:
                    assert {"400", "401", "429"} <= set(operation["responses"]), (path, method)
        assert not [p for p in openapi["paths"] if p.startswith("/functions/v1")]

    @pytest.mark.parametrize("entity", ENTITIES)
    def test_writes_declare_their_json_bodies_and_the_id_parameter(
        self, openapi: dict[str, Any], entity: str
    ) -> None:
        ops = openapi["paths"][f"/api-{entity}"]
        for method in ("post", "patch", "put"):
            body = ops[method]["requestBody"]["content"]["application/json"]["schema"]
            assert body["type"] == "object"
            assert body["additionalProperties"] is False
        for method in ("patch", "put", "delete"):
            assert {"name": "id", "in": "query", "required": True}.items() <= ops[method][
                "parameters"
            ][0].items()
        assert (
            ops["patch"]["requestBody"]["content"]["application/json"]["schema"]["required"] == []
        )
        assert {"413", "422", "409"} <= set(ops["post"]["responses"])


class TestTruthfulness:
    @pytest.mark.parametrize("entity", ENTITIES)
    def test_the_record_schema_has_exactly_the_keys_of_a_real_record(
        self, openapi: dict[str, Any], tenant: TenantHandle, entity: str
    ) -> None:
        record = make_any(tenant.client, entity)
        single = ok(tenant.client.get(f"/api-{entity}", params={"id": record["id"]}))[
            SINGULAR[entity]
        ]
        schema = _schema_of(openapi, f"/api-{entity}", "post", "201")["properties"][
            SINGULAR[entity]
        ]
        assert list(schema["properties"]) == list(single)
        assert set(schema["required"]) <= set(single)

    @pytest.mark.parametrize(
        ("entity", "required"),
        [
            ("jobs", ["job_number"]),
            ("parts", ["part_number"]),
            ("operations", ["operation_name"]),
            ("cells", ["name"]),
            ("resources", ["name", "type"]),
            ("materials", ["name"]),
        ],
    )
    def test_the_create_body_lists_the_required_fields_references_aliases_and_children(
        self, openapi: dict[str, Any], entity: str, required: list[str]
    ) -> None:
        schema = openapi["paths"][f"/api-{entity}"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
        assert schema["required"] == required
        props = schema["properties"]
        expected = {
            "jobs": {"customer_name", "description", "parts", "metadata"},
            "parts": {"job_external_id", "material_external_id", "operations"},
            "operations": {
                "cell_name",
                "part_external_id",
                "estimated_time_minutes",
                "instructions",
                "resources",
            },
            "cells": {"external_id", "external_source"},
            "resources": {"status"},
            "materials": {"code"},
        }[entity]
        assert expected <= set(props)
        assert not {"id", "created_at", "sync_hash", "deleted_at"} & set(props)

    def test_create_only_inputs_are_on_creates_and_not_on_sync_or_patch(
        self, openapi: dict[str, Any]
    ) -> None:
        """§9.3: template references and an operation's substeps are create inputs; sync and
        PATCH refuse them, so their bodies don't list them."""

        def body(path: str, method: str) -> dict[str, Any]:
            schema: dict[str, Any] = openapi["paths"][path][method]["requestBody"]["content"][
                "application/json"
            ]["schema"]
            return schema

        jobs = body("/api-jobs", "post")["properties"]
        assert {"template_id", "template_name"} <= set(jobs)
        nested_part = jobs["parts"]["items"]["properties"]
        assert {"template_id", "template_name"} <= set(nested_part)
        assert {"substeps", "substep_template_id"} <= set(
            nested_part["operations"]["items"]["properties"]
        )
        assert {"substeps", "substep_template_id"} <= set(
            body("/api-operations", "post")["properties"]
        )
        for path, method in (("/api-jobs", "patch"), ("/api-operations", "patch")):
            props = set(body(path, method)["properties"])
            assert not {"template_id", "template_name", "substeps", "substep_template_id"} & props
        for path, method in (("/api-jobs/sync", "put"), ("/api-erp-sync/sync", "post")):
            text = str(body(path, method))
            assert "template_id" not in text
            assert "substep_template_id" not in text

    def test_list_parameters_match_the_list_options(self, openapi: dict[str, Any]) -> None:
        params = {p["name"]: p for p in openapi["paths"]["/api-jobs"]["get"]["parameters"]}
        assert {
            "limit",
            "offset",
            "sort",
            "order",
            "search",
            "include_deleted",
            "status",
            "priority",
            "current_cell_id",
            "job_number",
            "customer",
            "due_date_from",
            "due_date_to",
            "external_source",
            "external_id",
            "id",
        } <= set(params)
        assert params["sort"]["schema"]["enum"] == [
            "job_number",
            "customer",
            "due_date",
            "priority",
            "status",
            "created_at",
            "updated_at",
        ]
        assert params["limit"]["schema"] == {
            "type": "integer",
            "default": 100,
            "minimum": 1,
            "maximum": 1000,
        }


def test_framework_errors_are_rendered_by_our_handler(server: LiveServer) -> None:
    handler = server.app.exception_handlers[StarletteHTTPException]
    assert handler.__module__ == "floorsync.http.errors"
