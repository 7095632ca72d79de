"""Plain helpers for the entity, HTTP and auth tests: envelope assertions, factories over HTTP,
and direct reads of rows and events (tests look at the database, not only at responses)."""

import re
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.entities import registry as entity_registry
from floorsync.models.events import Event

PREFIXES = ("", "/functions/v1")
# The ERP master data (entities/registry.py), which every generic CRUD test covers.
ENTITIES = tuple(spec.name for spec in entity_registry.MASTER_DATA)
SINGULAR = {spec.name: spec.singular for spec in entity_registry.MASTER_DATA}
ID_KEY = re.compile(rb'"id":"([0-9a-f-]{36})"')


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def ok(resp: httpx.Response, status: int = 200) -> Any:
    """The `data` of a success envelope with the expected status."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is True, body
    return body["data"]


def fails(
    resp: httpx.Response, status: int, code: str, message: str | None = None
) -> dict[str, Any]:
    """The `error` of an error envelope with the expected status and code (and message)."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is False
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert error["statusCode"] == status, error
    if message is not None:
        assert error["message"] == message, error["message"]
    return error


def detail(error: dict[str, Any], field: str) -> dict[str, Any]:
    """The one detail of an error reported for `field`."""
    found = [d for d in error.get("details") or [] if d["field"] == field]
    assert found, f"no detail for {field}: {error}"
    return found[0]


def invalid(resp: httpx.Response, field: str, constraint: str) -> dict[str, Any]:
    """Assert a 422 naming `field` with `constraint`; returns that detail."""
    error = fails(resp, 422, "VALIDATION_ERROR")
    item = detail(error, field)
    assert item["constraint"] == constraint, error
    return item


# ------------------------------------------------------------------ factories (over HTTP)


def create(
    client: httpx.Client, entity: str, body: dict[str, Any], prefix: str = ""
) -> dict[str, Any]:
    record: dict[str, Any] = ok(client.post(f"{prefix}/api-{entity}", json=body), 201)[
        SINGULAR[entity]
    ]
    return record


def make_cell(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return create(client, "cells", {"name": f"Cell {suffix()}", **fields})


def make_resource(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return create(client, "resources", {"name": f"Res {suffix()}", "type": "machine", **fields})


def make_material(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return create(client, "materials", {"name": f"Steel {suffix()}", **fields})


def make_job(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return create(client, "jobs", {"job_number": f"J-{suffix()}", **fields})


def make_part(client: httpx.Client, job_id: str | None = None, **fields: Any) -> dict[str, Any]:
    job_id = job_id or make_job(client)["id"]
    return create(client, "parts", {"job_id": job_id, "part_number": f"P-{suffix()}", **fields})


def make_operation(
    client: httpx.Client, part_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    part_id = part_id or make_part(client)["id"]
    return create(
        client, "operations", {"part_id": part_id, "operation_name": f"Op {suffix()}", **fields}
    )


def make_tree(
    client: httpx.Client, parts: int = 2, ops: int = 2, **job_fields: Any
) -> dict[str, Any]:
    """A job with `parts` parts of `ops` operations each, created in one nested POST."""
    body = {
        "job_number": f"J-{suffix()}",
        **job_fields,
        "parts": [
            {
                "part_number": f"P-{p}",
                "operations": [{"operation_name": f"Op {p}.{o}"} for o in range(ops)],
            }
            for p in range(parts)
        ],
    }
    return create(client, "jobs", body)


def make_any(client: httpx.Client, entity: str) -> dict[str, Any]:
    """One record of any of the six entities, with whatever parents it needs."""
    factories = {
        "jobs": make_job,
        "parts": make_part,
        "operations": make_operation,
        "cells": make_cell,
        "resources": make_resource,
        "materials": make_material,
    }
    return factories[entity](client)


def minimal_body(client: httpx.Client, entity: str) -> dict[str, Any]:
    """A valid create body for `entity` (parents created as needed)."""
    if entity == "jobs":
        return {"job_number": f"J-{suffix()}"}
    if entity == "parts":
        return {"job_id": make_job(client)["id"], "part_number": f"P-{suffix()}"}
    if entity == "operations":
        return {"part_id": make_part(client)["id"], "operation_name": f"Op {suffix()}"}
    if entity == "resources":
        return {"name": f"Res {suffix()}", "type": "machine"}
    return {"name": f"{entity} {suffix()}"}


# ------------------------------------------------------------------ database reads


def events(sessions: sessionmaker[Session], tenant_id: uuid.UUID, *types: str) -> list[Event]:
    """The tenant's committed events in sequence order, optionally only some types."""
    with sessions() as session:
        stmt = select(Event).where(tenant_filter(Event, TenantScope(tenant_id))).order_by(Event.seq)
        if types:
            stmt = stmt.where(Event.type.in_(types))
        return list(session.scalars(stmt))


def row(sessions: sessionmaker[Session], tenant_id: uuid.UUID, model: Any, id_: str) -> Any:
    """A row of the tenant by id (soft-deleted included), or None."""
    with sessions() as session:
        return session.scalars(
            scoped(model, TenantScope(tenant_id)).where(model.id == uuid.UUID(id_))
        ).first()


def count_rows(sessions: sessionmaker[Session], tenant_id: uuid.UUID, model: Any) -> int:
    with sessions() as session:
        return len(list(session.scalars(scoped(model, TenantScope(tenant_id)))))


def first_ids(raw: bytes, n: int = 3) -> list[str]:
    """The first `n` values of `"id"` keys in a response body, in byte order."""
    return [m.decode() for m in ID_KEY.findall(raw)[:n]]
