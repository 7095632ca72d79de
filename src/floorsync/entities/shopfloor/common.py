"""Pieces the shop-floor entities share: the `operation` embed, `operator_name` input and
search, list queries, and hard deletes with their tombstone events."""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities.embeds import load_by_id
from floorsync.entities.fields import FieldError, Kind, short, to_wire
from floorsync.entities.listing import (
    Page,
    apply_filters,
    coerce_filter,
    contains,
    fetch_page,
    parse_page,
)
from floorsync.entities.openapi import obj
from floorsync.entities.spec import EntitySpec
from floorsync.entities.validation import ExtraErrors
from floorsync.errors import BadRequest, Detail
from floorsync.models.master import Job, Operation, Operator, Part

OPERATOR_NAME = short("operator_name", 200, trim=True)


def operator_name_input(value: Any, where: str) -> str | None:
    """`operator_name` on input: the name to register a new operator under (≤200 characters)."""
    if value is None:
        return None
    try:
        name: str = OPERATOR_NAME.coerce(value)
    except FieldError as err:
        raise ExtraErrors([err.detail(where, value)]) from None
    return name or None


# The `operation` embed's schema (operation_embeds below).
OPERATION_EMBED = obj(
    "id",
    "operation_name",
    nullable=True,
    sequence={"type": "integer"},
    part=obj("id", "part_number", nullable=True, job=obj("id", "job_number", nullable=True)),
)
# A cell named by an embed: `{id, name}` or null.
CELL_EMBED = obj("id", "name", nullable=True)


def operation_embeds(
    session: Session, scope: TenantScope, operation_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, dict[str, Any]]:
    """`{id, operation_name, sequence, part:{id, part_number, job:{id, job_number}}}` per operation
    (soft-deleted ones included: recorded work keeps pointing at them)."""
    ops = load_by_id(session, scope, Operation, operation_ids)
    parts = load_by_id(session, scope, Part, (o.part_id for o in ops.values()))
    jobs = load_by_id(session, scope, Job, (p.job_id for p in parts.values()))
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for op in ops.values():
        part = parts.get(op.part_id)
        job = jobs.get(part.job_id) if part is not None else None
        out[op.id] = {
            "id": str(op.id),
            "operation_name": op.operation_name,
            "sequence": op.sequence,
            "part": None
            if part is None
            else {
                "id": str(part.id),
                "part_number": part.part_number,
                "job": None if job is None else {"id": str(job.id), "job_number": job.job_number},
            },
        }
    return out


def operations_of_part(part_id: uuid.UUID) -> Any:
    """Sub-select for `part_id` filters on records that point at operations (the outer query is
    tenant-scoped; ids are unique across tenants)."""
    return select(Operation.id).where(Operation.part_id == part_id)


def operations_of_job(job_id: uuid.UUID) -> Any:
    return select(Operation.id).where(
        Operation.part_id.in_(select(Part.id).where(Part.job_id == job_id))
    )


def list_rows_searching_names(
    session: Session,
    scope: TenantScope,
    spec: EntitySpec,
    params: Mapping[str, str],
    text_columns: tuple[str, ...],
) -> tuple[list[Any], int, Page]:
    """`list_rows` whose `search` also matches the operator's directory name (`operator_name`)."""
    term = params.get("search")
    rest = {k: v for k, v in params.items() if k != "search"}
    page = parse_page(rest)
    stmt = apply_filters(spec, scoped(spec.model, scope), rest)
    if term:
        if len(term) > 200:
            message = "search must be at most 200 characters"
            raise BadRequest(message, [Detail("search", message, "MAX_LENGTH")])
        value = coerce_filter("search", Kind.string, term)
        names = (
            scoped(Operator, scope)
            .with_only_columns(Operator.operator_id)
            .where(contains(Operator.name, value))
        )
        model = spec.model
        stmt = stmt.where(
            or_(
                *(contains(getattr(model, c), value) for c in text_columns),
                model.operator_id.in_(names),
            )
        )
    rows, total = fetch_page(session, spec, stmt, params, page)
    return rows, total, page


def delete_shop_record(
    work: Work, spec: EntitySpec, row: Any, *keys: str, caused_by: dict[str, Any] | None = None
) -> None:
    """Hard-delete a shop-floor row with its `<entity>.deleted` tombstone
    `{id, <keys>…, deleted_at, deleted_by}` (`hard: true`)."""
    tombstone: dict[str, Any] = {"id": str(row.id)}
    for key in keys:
        value = getattr(row, key)
        tombstone[key] = str(value) if isinstance(value, uuid.UUID) else value
    tombstone["deleted_at"] = to_wire(Kind.timestamp, work.clock.now())
    tombstone["deleted_by"] = str(work.origin.api_key_id) if work.origin.api_key_id else None
    data: dict[str, Any] = {spec.singular: tombstone, "hard": True}
    if caused_by is not None:
        data["caused_by"] = caused_by
    work.record(f"{spec.singular}.deleted", spec.singular, row.id, data)
    work.session.delete(row)
    work.session.flush()
