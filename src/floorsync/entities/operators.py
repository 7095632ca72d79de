"""The operator directory (API §3.0, §3.11; data model §5.7): one row per tenant and operator
identifier (a badge or employee number, or an id from another system).

Every place that accepts an operator identifier goes through `use_operators`: an identifier
seen for the first time registers itself in the same transaction (event `operator.created`),
and an inactive operator is refused (422 `REFERENCE_NOT_FOUND`). `api-operators` manages the
directory; its `/sync` and `/bulk-sync` go through the sync engine with this spec.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.service import get_row, record_delete, record_event
from floorsync.entities.spec import EntitySpec, ListOptions, UniqueRule
from floorsync.entities.validation import Record, join
from floorsync.errors import Conflict, Detail
from floorsync.kit.ids import new_id
from floorsync.models.catalogue import Issue, Substep
from floorsync.models.master import Operation, Operator
from floorsync.models.shopfloor import Assignment, Batch, OperationQuantity, TimeEntry

NAME_MAX = 200


@dataclass(frozen=True)
class OperatorUse:
    """One operator identifier named by a request: where (for errors), who, and the name to
    register a new operator under (`operator_name`, when the request gives one)."""

    field: str
    identifier: str
    name: str | None = None


def use_operators(work: Work, uses: Sequence[OperatorUse]) -> list[Detail]:
    """Register the identifiers that are new, and return a 422 detail for each inactive one.

    Registration is idempotent under concurrency: a row inserted meanwhile by another request
    wins and is used as is.
    """
    wanted: dict[str, OperatorUse] = {}
    for use in uses:
        wanted.setdefault(use.identifier, use)
    if not wanted:
        return []
    found = {
        op.operator_id: op
        for op in work.session.scalars(
            scoped(Operator, work.scope).where(Operator.operator_id.in_(list(wanted)))
        )
    }
    for identifier in sorted(wanted):  # the canonical lock order (db.locking)
        if identifier not in found:
            found[identifier] = _register(work, wanted[identifier])
    return [
        Detail(
            use.field,
            f'Operator "{use.identifier}" is inactive',
            "REFERENCE_NOT_FOUND",
            use.identifier,
        )
        for use in uses
        if not found[use.identifier].active
    ]


def _register(work: Work, use: OperatorUse) -> Operator:
    now = work.clock.now()
    name = (use.name or "").strip()[:NAME_MAX] or use.identifier
    row = Operator(
        id=new_id(),
        tenant_id=work.scope.tenant_id,
        operator_id=use.identifier,
        name=name,
        active=True,
        created_at=now,
        updated_at=now,
    )
    try:
        with work.session.begin_nested():
            work.session.add(row)
            work.session.flush()
    except IntegrityError:
        # Registered by a concurrent request after our lookup: theirs is the operator.
        existing: Operator = work.session.scalars(
            scoped(Operator, work.scope).where(Operator.operator_id == use.identifier)
        ).one()
        return existing
    record_event(work, OPERATORS, row, "created")
    return row


def changed_operator_uses(
    rec: Record, row: Any | None, fields: Iterable[str], name: str | None = None
) -> list[OperatorUse]:
    """The operator identifiers a create or update introduces: new values only, so a client that
    sends back a record naming a since-deactivated operator is not refused for it."""
    out: list[OperatorUse] = []
    for field in fields:
        value = rec.values.get(field)
        if value is None or (row is not None and getattr(row, field) == value):
            continue
        out.append(OperatorUse(join(rec.path, field), value, name))
    return out


def operator_names(
    session: Session, scope: TenantScope, identifiers: Iterable[str | None]
) -> dict[str, str]:
    """Directory names for a batch of identifiers (one query)."""
    wanted = {i for i in identifiers if i is not None}
    if not wanted:
        return {}
    stmt = (
        scoped(Operator, scope)
        .with_only_columns(Operator.operator_id, Operator.name)
        .where(Operator.operator_id.in_(wanted))
    )
    return {r.operator_id: r.name for r in session.execute(stmt)}


def matching_operator_ids(scope: TenantScope, term_clause: Any) -> Any:
    """Sub-select of the identifiers whose directory name matches a clause (for `search`)."""
    return scoped(Operator, scope).with_only_columns(Operator.operator_id).where(term_clause)


# ---------------------------------------------------------------- references and delete

_NAMED_BY: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("time_entries", TimeEntry, ("operator_id",)),
    ("assignments", Assignment, ("operator_id", "assigned_by")),
    ("operation_quantities", OperationQuantity, ("recorded_by",)),
    ("batches", Batch, ("created_by", "started_by", "completed_by")),
    ("operations", Operation, ("assigned_operator_id",)),
    ("issues", Issue, ("created_by", "reported_by_id", "reviewed_by")),
    ("substeps", Substep, ("completed_by",)),
)


def operator_references(session: Session, scope: TenantScope, identifier: str) -> list[Detail]:
    """Records that name the operator, as REFERENCES_EXIST details with their counts."""
    out: list[Detail] = []
    for name, model, columns in _NAMED_BY:
        stmt = (
            scoped(model, scope)
            .with_only_columns(func.count())
            .where(or_(*(getattr(model, c) == identifier for c in columns)))
        )
        count = int(session.scalar(stmt) or 0)
        if count:
            out.append(
                Detail(
                    name, f"{count} {name} name operator '{identifier}'", "REFERENCES_EXIST", count
                )
            )
    return out


def delete_operator(work: Work, id_: Any) -> None:
    """Hard-delete an operator nobody names; otherwise 409 (deactivate instead)."""
    row = get_row(work.session, work.scope, OPERATORS, id_, for_update=True)
    blocking = operator_references(work.session, work.scope, row.operator_id)
    if blocking:
        raise Conflict(
            f"Operator '{row.operator_id}' is still named by other records; deactivate it instead",
            blocking,
        )
    record_delete(work, OPERATORS, row, hard=True)
    work.session.delete(row)
    work.session.flush()


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: Operator | None) -> None:
    """Default the name to the identifier; refuse renaming an identifier that records use."""
    identifier = rec.values.get("operator_id", row.operator_id if row is not None else None)
    if ("name" in rec.values or row is None) and not rec.values.get("name"):
        rec.values["name"] = identifier
    if (
        row is not None
        and "operator_id" in rec.values
        and rec.values["operator_id"] != row.operator_id
    ):
        blocking = operator_references(work.session, work.scope, row.operator_id)
        if blocking:
            raise Conflict(
                f"operator_id '{row.operator_id}' is named by other records and cannot be changed",
                blocking,
            )


OPERATORS: EntitySpec[Operator] = EntitySpec(
    name="operators",
    singular="operator",
    model=Operator,
    fields=(
        F.ident("operator_id", 64, required=True),
        F.short("name", NAME_MAX, trim=True),
        F.short("employee_number", 64, trim=True),
        F.boolean("active", True),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
    ),
    synced=True,
    soft_delete=False,
    aliases={"operator_name": "name", "full_name": "name"},
    unique=(UniqueRule(("operator_id",)),),
    natural_key="operator_id",
    listing=ListOptions(
        exact={
            "operator_id": Kind.string,
            "active": Kind.boolean,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        search=("name", "operator_id", "employee_number"),
        sortable=("name", "operator_id", "created_at"),
        default_sort=("name", "asc"),
    ),
    prepare=_prepare,
)
