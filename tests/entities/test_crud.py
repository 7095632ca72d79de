"""Every CRUD route of the six ERP entities, under both URL prefixes: list, get, create, PATCH,
PUT, soft and hard DELETE, with the envelope, status codes and the rows they leave behind."""

import uuid

import httpx
import pytest

from floorsync.models.master import Cell, Job, Material, Operation, Part, Resource
from tests.support.api import (
    ENTITIES,
    PREFIXES,
    SINGULAR,
    events,
    fails,
    make_any,
    minimal_body,
    ok,
    row,
)
from tests.support.tenants import TenantHandle

MODELS = {
    "jobs": Job,
    "parts": Part,
    "operations": Operation,
    "cells": Cell,
    "resources": Resource,
    "materials": Material,
}
# A writable, non-unique field per entity and a new value for it.
EDIT = {
    "jobs": ("customer", "Globex"),
    "parts": ("quantity", 7),
    "operations": ("estimated_time", 45),
    "cells": ("color", "#1E88E5"),
    "resources": ("location", "Hall 2"),
    "materials": ("grade", "S355"),
}

pytestmark = pytest.mark.parametrize("prefix", PREFIXES, ids=["short", "hosted"])


@pytest.mark.parametrize("entity", ENTITIES)
class TestEveryEntityUnderBothPrefixes:
    def test_post_creates_a_record_and_answers_201_with_the_singular_key(
        self, tenant: TenantHandle, sessions, entity: str, prefix: str
    ) -> None:
        body = minimal_body(tenant.client, entity)
        data = ok(tenant.client.post(f"{prefix}/api-{entity}", json=body), 201)
        assert list(data) == [SINGULAR[entity]]
        record = data[SINGULAR[entity]]
        assert uuid.UUID(record["id"]).version == 7
        assert "tenant_id" not in record
        assert row(sessions, tenant.id, MODELS[entity], record["id"]) is not None
        assert [e.type for e in events(sessions, tenant.id, f"{SINGULAR[entity]}.created")][
            -1:
        ] == [f"{SINGULAR[entity]}.created"]

    def test_get_with_id_returns_the_record(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        data = ok(tenant.client.get(f"{prefix}/api-{entity}", params={"id": created["id"]}))
        assert data[SINGULAR[entity]]["id"] == created["id"]

    def test_get_without_id_lists_the_tenants_records_with_pagination(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        data = ok(tenant.client.get(f"{prefix}/api-{entity}"))
        assert list(data) == [entity, "pagination"]
        assert created["id"] in [r["id"] for r in data[entity]]
        assert data["pagination"] == {"total": len(data[entity]), "offset": 0, "limit": 100}

    @pytest.mark.parametrize("method", ["PATCH", "PUT"])
    def test_patch_and_put_update_one_field_and_keep_the_others(
        self, tenant: TenantHandle, sessions, entity: str, prefix: str, method: str
    ) -> None:
        created = make_any(tenant.client, entity)
        name, value = EDIT[entity]
        data = ok(
            tenant.client.request(
                method, f"{prefix}/api-{entity}", params={"id": created["id"]}, json={name: value}
            )
        )
        updated = data[SINGULAR[entity]]
        assert updated[name] == value
        assert {k: v for k, v in updated.items() if k not in (name, "updated_at")} == {
            k: v for k, v in created.items() if k not in (name, "updated_at") and k in updated
        }
        assert updated["updated_at"] >= created["updated_at"]
        stored = row(sessions, tenant.id, MODELS[entity], created["id"])
        assert getattr(stored, name) == value
        assert events(sessions, tenant.id, f"{SINGULAR[entity]}.updated")[-1].data[
            "changed_fields"
        ] == [name]

    def test_delete_soft_deletes_and_the_record_is_gone_from_get_and_list(
        self, tenant: TenantHandle, sessions, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        data = ok(tenant.client.delete(f"{prefix}/api-{entity}", params={"id": created["id"]}))
        assert data["message"] == "Deleted successfully"
        assert data["id"] == created["id"]
        assert data["mode"] == "soft"
        stored = row(sessions, tenant.id, MODELS[entity], created["id"])
        assert stored.deleted_at is not None
        fails(
            tenant.client.get(f"{prefix}/api-{entity}", params={"id": created["id"]}),
            404,
            "NOT_FOUND",
            f"{entity} with ID {created['id']} not found",
        )
        assert created["id"] not in [
            r["id"] for r in ok(tenant.client.get(f"{prefix}/api-{entity}"))[entity]
        ]

    def test_delete_hard_removes_the_row(
        self, tenant: TenantHandle, sessions, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        data = ok(
            tenant.client.delete(
                f"{prefix}/api-{entity}", params={"id": created["id"], "hard": "true"}
            )
        )
        assert data["mode"] == "hard"
        assert row(sessions, tenant.id, MODELS[entity], created["id"]) is None
        ev = events(sessions, tenant.id, f"{SINGULAR[entity]}.deleted")[-1]
        assert ev.data["hard"] is True
        assert ev.data[SINGULAR[entity]]["id"] == created["id"]

    def test_a_soft_deleted_record_can_still_be_hard_deleted(
        self, tenant: TenantHandle, sessions, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        ok(tenant.client.delete(f"{prefix}/api-{entity}", params={"id": created["id"]}))
        ok(
            tenant.client.delete(
                f"{prefix}/api-{entity}", params={"id": created["id"], "hard": "true"}
            )
        )
        assert row(sessions, tenant.id, MODELS[entity], created["id"]) is None

    def test_get_patch_and_delete_of_a_soft_deleted_record_are_404(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        ok(tenant.client.delete(f"{prefix}/api-{entity}", params={"id": created["id"]}))
        message = f"{entity} with ID {created['id']} not found"
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            kw = {"json": {}} if method in ("PATCH", "PUT") else {}
            fails(
                tenant.client.request(
                    method, f"{prefix}/api-{entity}", params={"id": created["id"]}, **kw
                ),
                404,
                "NOT_FOUND",
                message,
            )

    def test_include_deleted_shows_soft_deleted_records_in_lists_and_single_gets(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        ok(tenant.client.delete(f"{prefix}/api-{entity}", params={"id": created["id"]}))
        one = ok(
            tenant.client.get(
                f"{prefix}/api-{entity}", params={"id": created["id"], "include_deleted": "true"}
            )
        )[SINGULAR[entity]]
        assert one["deleted_at"] is not None
        listed = ok(
            tenant.client.get(f"{prefix}/api-{entity}", params={"include_deleted": "true"})
        )[entity]
        assert created["id"] in [r["id"] for r in listed]

    def test_a_trailing_slash_makes_no_difference(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        created = make_any(tenant.client, entity)
        data = ok(tenant.client.get(f"{prefix}/api-{entity}/", params={"id": created["id"]}))
        assert data[SINGULAR[entity]]["id"] == created["id"]

    def test_an_id_on_a_post_is_ignored(
        self, tenant: TenantHandle, entity: str, prefix: str
    ) -> None:
        body = minimal_body(tenant.client, entity)
        other = str(uuid.uuid4())
        record = ok(
            tenant.client.post(
                f"{prefix}/api-{entity}", params={"id": other}, json={**body, "id": other}
            ),
            201,
        )[SINGULAR[entity]]
        assert record["id"] != other


class TestListParametersWithAnId:
    def test_an_id_turns_a_list_get_into_a_single_get_and_list_parameters_are_ignored(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        job = make_any(tenant.client, "jobs")
        data = ok(
            tenant.client.get(
                f"{prefix}/api-jobs",
                params={"id": job["id"], "limit": "1", "sort": "job_number", "search": "zzz"},
            )
        )
        assert list(data) == ["job"]


def test_both_prefixes_serve_the_same_records(tenant: TenantHandle, prefix: str) -> None:
    client: httpx.Client = tenant.client
    job = ok(client.post(f"{prefix}/api-jobs", json={"job_number": "J-both"}), 201)["job"]
    for other in PREFIXES:
        assert ok(client.get(f"{other}/api-jobs", params={"id": job["id"]}))["job"] == job
