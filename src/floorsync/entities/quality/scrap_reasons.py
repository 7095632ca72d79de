"""Scrap reasons: `api-scrap-reasons` (api-catalogue-completion §8). The tenant's catalogue of
scrap and defect codes. Synced like operators (`/sync`, `/bulk-sync` through the one sync
engine, keyed by `(external_source, external_id)`), no soft delete; a hard delete is refused
with 409 while operation quantities reference the reason (deactivate it instead).

Operation quantities reference a reason by `scrap_reason_id` or `scrap_reason_code`
(`reference_scrap_reason`): it must be the tenant's, and active when newly set.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.listing import parse_bool
from floorsync.entities.service import get_row, record_delete
from floorsync.entities.spec import EntitySpec, ListOptions, UniqueRule
from floorsync.entities.validation import Record, join
from floorsync.errors import Conflict, Detail
from floorsync.models.catalogue import ScrapReason
from floorsync.models.enums import ScrapCategory
from floorsync.models.shopfloor import OperationQuantity

IN_USE_MESSAGE = (
    "Cannot delete scrap reason that is referenced by operation quantities. "
    "Set active=false instead."
)


def list_params(params: Mapping[str, str]) -> dict[str, str]:
    """Lists show active reasons only unless `active` is given (Eryxon's default);
    `include_inactive=true` shows both. `GET ?id=` finds any reason."""
    out = dict(params)
    include_inactive = parse_bool(params, "include_inactive")
    out.pop("include_inactive", None)
    if "active" not in out and not include_inactive:
        out["active"] = "true"
    return out


def delete_scrap_reason(work: Work, id_: uuid.UUID) -> None:
    row = get_row(work.session, work.scope, SCRAP_REASONS, id_, for_update=True)
    count = int(
        work.session.scalar(
            scoped(OperationQuantity, work.scope)
            .with_only_columns(func.count())
            .where(OperationQuantity.scrap_reason_id == row.id)
        )
        or 0
    )
    if count:
        raise Conflict(
            IN_USE_MESSAGE,
            [
                Detail(
                    "operation_quantities",
                    f"{count} operation_quantities reference scrap reason '{row.code}'",
                    "REFERENCES_EXIST",
                    count,
                )
            ],
        )
    record_delete(work, SCRAP_REASONS, row, hard=True)
    work.session.delete(row)
    work.session.flush()


def reference_scrap_reason(work: Work, rec: Record, row: Any | None) -> None:
    """Resolve `scrap_reason_code` into `scrap_reason_id` and check a newly set reason: the
    tenant's, and active (422 REFERENCE_NOT_FOUND); an id and a code naming different reasons
    are REFERENCE_MISMATCH."""
    code = rec.extras.get("scrap_reason_code")
    given_id = rec.values.get("scrap_reason_id")
    current = getattr(row, "scrap_reason_id", None) if row is not None else None
    found: ScrapReason | None = None
    if code is not None:
        found = work.session.scalars(
            scoped(ScrapReason, work.scope).where(ScrapReason.code == code)
        ).first()
        if found is None:
            rec.errors.append(
                Detail(
                    join(rec.path, "scrap_reason_code"),
                    f'Scrap reason with code "{code}" not found',
                    "REFERENCE_NOT_FOUND",
                    code,
                )
            )
            return
        if given_id is not None and given_id != found.id:
            rec.errors.append(
                Detail(
                    join(rec.path, "scrap_reason_code"),
                    "scrap_reason_id and scrap_reason_code name different scrap reasons",
                    "REFERENCE_MISMATCH",
                )
            )
            return
        rec.values["scrap_reason_id"] = found.id
        given_id = found.id
    if given_id is None or given_id == current:
        return
    if found is None:
        found = work.session.scalars(
            scoped(ScrapReason, work.scope).where(ScrapReason.id == given_id)
        ).first()
    field = "scrap_reason_code" if code is not None else "scrap_reason_id"
    if found is None or not found.active:
        what = "not found" if found is None else "is inactive"
        rec.errors.append(
            Detail(
                join(rec.path, field),
                f'Scrap reason with id "{given_id}" {what}',
                "REFERENCE_NOT_FOUND",
                code if code is not None else str(given_id),
            )
        )


def scrap_reason_code_input(value: Any, where: str) -> str | None:
    if value is None:
        return None
    from floorsync.entities.fields import FieldError
    from floorsync.entities.validation import ExtraErrors

    try:
        code: str = CODE.coerce(value)
    except FieldError as err:
        raise ExtraErrors([err.detail(where, value)]) from None
    return code


def scrap_reason_embeds(
    session: Session, scope: TenantScope, ids: Sequence[uuid.UUID | None]
) -> dict[uuid.UUID, dict[str, Any]]:
    """`{id, code, description, category}` per referenced reason (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.scalars(scoped(ScrapReason, scope).where(ScrapReason.id.in_(wanted)))
    return {
        r.id: {
            "id": str(r.id),
            "code": r.code,
            "description": r.description,
            "category": str(r.category.value if hasattr(r.category, "value") else r.category),
        }
        for r in rows
    }


CODE = F.ident("scrap_reason_code", 100)
_CATEGORY_RANK = case({c.value: i for i, c in enumerate(ScrapCategory)}, value=ScrapReason.category)

SCRAP_REASONS = EntitySpec(
    name="scrap_reasons",
    singular="scrap_reason",
    model=ScrapReason,
    fields=(
        F.ident("code", 100, required=True),
        F.ident("description", 1000, required=True),
        F.enum("category", ScrapCategory, required=True),
        F.boolean("active", True),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    synced=True,
    soft_delete=False,
    unique=(UniqueRule(("code",), live_only=False),),
    natural_key="code",
    label="Scrap reason",
    listing=ListOptions(
        exact={
            "category": Kind.enum,
            "active": Kind.boolean,
            "code": Kind.string,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        search=("code", "description"),
        sortable=("category", "code", "description", "created_at", "updated_at"),
        default_sort=("category", "asc"),
        secondary_sort="code",
        sort_expressions={"category": _CATEGORY_RANK},
    ),
)
