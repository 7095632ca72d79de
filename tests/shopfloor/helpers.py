"""Factories and assertions for the shop-floor and lifecycle tests (plain functions over HTTP)."""

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, tenant_filter
from floorsync.models.events import Event


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is True
    return body["data"]


def fails(
    resp: httpx.Response, status: int, code: str, message: str | None = None
) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    error: dict[str, Any] = resp.json()["error"]
    assert error["code"] == code, error
    assert error["statusCode"] == status
    if message is not None:
        assert error["message"] == message, error["message"]
    return error


def constraint_of(error: dict[str, Any], field_name: str) -> str:
    """The constraint reported for one field of a 4xx error."""
    for detail in error.get("details") or []:
        if detail["field"] == field_name:
            return str(detail["constraint"])
    raise AssertionError(f"no detail for {field_name}: {error}")


@dataclass
class Tree:
    job: str
    parts: list[str] = field(default_factory=list)
    operations: list[list[str]] = field(default_factory=list)  # per part

    @property
    def ops(self) -> list[str]:
        return [o for per_part in self.operations for o in per_part]


def make_job(
    client: httpx.Client,
    *,
    parts: int = 1,
    ops: int = 2,
    estimates: list[int] | None = None,
    number: str | None = None,
) -> Tree:
    """A job with `parts` parts of `ops` operations each (estimated times cycled from `estimates`)."""
    est = estimates or [0]
    body = {
        "job_number": number or f"J-{uuid.uuid4().hex[:8]}",
        "customer_name": "Acme BV",
        "parts": [
            {
                "part_number": f"P-{p}",
                "operations": [
                    {
                        "operation_name": f"Op {p}.{o}",
                        "estimated_time": est[(p * ops + o) % len(est)],
                    }
                    for o in range(ops)
                ],
            }
            for p in range(parts)
        ],
    }
    job = ok(client.post("/api-jobs", json=body), 201)["job"]
    return Tree(
        job["id"],
        [p["id"] for p in job["parts"]],
        [[o["id"] for o in p["operations"]] for p in job["parts"]],
    )


def make_cell(client: httpx.Client, name: str | None = None) -> str:
    return str(
        ok(client.post("/api-cells", json={"name": name or f"Cell {uuid.uuid4().hex[:6]}"}), 201)[
            "cell"
        ]["id"]
    )


def make_batch(client: httpx.Client, operation_ids: list[str], **extra: Any) -> dict[str, Any]:
    body = {
        "batch_number": f"B-{uuid.uuid4().hex[:8]}",
        "cell_id": extra.pop("cell_id", None) or make_cell(client),
        "operation_ids": operation_ids,
        **extra,
    }
    batch: dict[str, Any] = ok(client.post("/api-batches", json=body), 201)["batch"]
    return batch


def events(sessions: sessionmaker[Session], tenant_id: uuid.UUID, *types: str) -> list[Event]:
    """The tenant's committed events in sequence order, optionally only some types."""
    with sessions() as session:
        stmt = select(Event).where(tenant_filter(Event, TenantScope(tenant_id))).order_by(Event.seq)
        if types:
            stmt = stmt.where(Event.type.in_(types))
        return list(session.scalars(stmt))


def event_types(sessions: sessionmaker[Session], tenant_id: uuid.UUID, *types: str) -> list[str]:
    return [e.type for e in events(sessions, tenant_id, *types)]
