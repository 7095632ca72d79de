"""Quality issues and NCRs: `api-issues` (api-catalogue-completion §6).

An issue is raised against a live operation of the tenant; with `issue_type: "ncr"` it is a
non-conformance report and gets a generated number `NCR-<yyyy>-<nnnn>` (the tenant's next for
that UTC year) unless one is given. Every vocabulary clients use is accepted and stored in one
form: Eryxon's documented statuses `open` / `in_progress` / `resolved` are `pending` /
`approved` / `closed`, and `ncr_disposition` is `disposition`.

The Yellow Card (§6.2): a `pending` issue with `causes_standstill` parks its operation in the
issue's transaction (`on_hold`, the status remembered in `status_before_hold`, open time entries
closed, `operation.paused` caused by the issue event); when the operation's last such issue stops
being one (status leaves `pending`, the flag turns false, or the issue is deleted) an operation
still `on_hold` returns to the remembered status with `operation.resumed`. Any lifecycle action
clears `status_before_hold`, so an operation resumed by hand is not touched again.
"""

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from floorsync.db.integrity import constraint_name
from floorsync.db.repository import TenantRepository, TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities import service
from floorsync.entities.embeds import load_by_id
from floorsync.entities.fields import Kind
from floorsync.entities.operators import changed_operator_uses, use_operators
from floorsync.entities.payloads import operation_payload
from floorsync.entities.shopfloor.common import (
    CELL_EMBED,
    OPERATION_EMBED,
    operation_embeds,
    operations_of_job,
    operations_of_part,
)
from floorsync.entities.shopfloor.time_entries import TIME_ENTRIES
from floorsync.entities.shopfloor.timekeeping import close_open_entries
from floorsync.entities.spec import EntitySpec, ListOptions, RefSpec, UniqueRule
from floorsync.entities.validation import Record
from floorsync.errors import BadRequest, Detail
from floorsync.models.catalogue import Issue
from floorsync.models.enums import (
    NcrCategory,
    NcrDisposition,
    QualityIssueSeverity,
    QualityIssueStatus,
    QualityIssueType,
    WorkStatus,
)
from floorsync.models.master import Cell, Job, Operation, Part

STATUS_ALIASES = (("open", "pending"), ("in_progress", "approved"), ("resolved", "closed"))
NCR_UNIQUE = "uq_issues_tenant_id_ncr_number"
NCR_PATTERN = re.compile(r"^NCR-(\d{4})-(\d+)$")
OPERATOR_FIELDS = ("created_by", "reported_by_id", "reviewed_by")

_SEVERITY_RANK = case(
    {s.value: i for i, s in enumerate(QualityIssueSeverity)}, value=Issue.severity
)
_STATUS_RANK = case({s.value: i for i, s in enumerate(QualityIssueStatus)}, value=Issue.status)


# ---------------------------------------------------------------- entity rules


def _prepare(work: Work, _spec: EntitySpec, rec: Record, row: Issue | None) -> None:
    v = rec.values
    old_status = _value(row.status) if row is not None else QualityIssueStatus.pending.value
    new_status = v.get("status", old_status)
    if (
        new_status != QualityIssueStatus.pending.value
        and old_status == QualityIssueStatus.pending.value
        and "reviewed_at" not in v
        and (row is None or row.reviewed_at is None)
    ):
        v["reviewed_at"] = work.clock.now()  # the status first leaves pending
    if row is None and v.get("operation_id") is not None:
        _derive_cells(work, rec)
    rec.errors.extend(use_operators(work, changed_operator_uses(rec, row, OPERATOR_FIELDS)))


def _derive_cells(work: Work, rec: Record) -> None:
    """Absent on create: the part's current cell, else the operation's; and the cell of the
    part's next operation (higher sequence, not completed, with a cell)."""
    given = {*rec.values, *rec.refs}
    op = TenantRepository(work.session, work.scope, Operation).get(rec.values["operation_id"])
    if op is None:
        return
    part = TenantRepository(work.session, work.scope, Part).get(op.part_id)
    if "current_cell_id" not in given:
        rec.values["current_cell_id"] = (
            part.current_cell_id if part is not None and part.current_cell_id else op.cell_id
        )
    if "intended_next_cell_id" not in given:
        rec.values["intended_next_cell_id"] = work.session.scalar(
            scoped(Operation, work.scope, include_deleted=False)
            .with_only_columns(Operation.cell_id)
            .where(
                Operation.part_id == op.part_id,
                Operation.sequence > op.sequence,
                Operation.status != WorkStatus.completed,
                Operation.cell_id.is_not(None),
            )
            .order_by(Operation.sequence, Operation.id)
            .limit(1)
        )


def _number_ncr(work: Work, values: dict[str, Any]) -> None:
    """An NCR created without a number gets the tenant's next for the current UTC year."""
    if values.get("issue_type") != QualityIssueType.ncr.value or values.get("ncr_number"):
        return
    year = work.clock.now().year
    prefix = f"NCR-{year}-"
    taken = work.session.scalars(
        scoped(Issue, work.scope)
        .with_only_columns(Issue.ncr_number)
        .where(Issue.ncr_number.like(prefix + "%"))
    )
    highest = max((int(m.group(2)) for n in taken if n and (m := NCR_PATTERN.match(n))), default=0)
    values["ncr_number"] = f"{prefix}{highest + 1:04d}"


def _value(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x


# ---------------------------------------------------------------- the Yellow Card


def _open_standstills(work: Work, operation_id: uuid.UUID, other_than: uuid.UUID | None) -> int:
    stmt = (
        scoped(Issue, work.scope)
        .with_only_columns(func.count())
        .where(
            Issue.operation_id == operation_id,
            Issue.causes_standstill.is_(True),
            Issue.status == QualityIssueStatus.pending,
        )
    )
    if other_than is not None:
        stmt = stmt.where(Issue.id != other_than)
    return int(work.session.scalar(stmt) or 0)


def _operation_event(work: Work, op: Operation, event: str, previous: str, cause: Any) -> None:
    part = TenantRepository(work.session, work.scope, Part).get(op.part_id, include_deleted=True)
    job = (
        TenantRepository(work.session, work.scope, Job).get(part.job_id, include_deleted=True)
        if part is not None
        else None
    )
    payload = operation_payload(
        op,
        part,
        job,
        action=None,  # type: ignore[arg-type]  # not a lifecycle action: the Yellow Card
        previous=previous,
        new=_value(op.status),
        at=work.clock.now(),
        operator_id=None,
    )
    payload["caused_by"] = cause
    work.record(event, "operation", op.id, payload, external_source=op.external_source)


# The status roll-up of API §5.1 for an operation the Yellow Card returns to `in_progress`:
# (work, operation, its event type). It lives with the lifecycles, above the entities, so the
# endpoints pass it in (quality/endpoints.py: lifecycle.rollup.roll_up_started).
ReleaseRollUp = Callable[[Work, Operation, str], object]


def apply_yellow_card(
    work: Work,
    issue: Issue | None,
    operation_id: uuid.UUID,
    cause: dict[str, Any],
    roll_up: ReleaseRollUp | None = None,
) -> None:
    """Park or release the operation after a write to one of its issues (§6.2). Parking never
    rolls up (roll-up leaves on_hold alone); a release to `in_progress` rolls up with
    `roll_up`, its part and job events after `operation.resumed`."""
    op = TenantRepository(work.session, work.scope, Operation).get(operation_id, for_update=True)
    if op is None:
        return
    now = work.clock.now()
    status = _value(op.status)
    standing = (
        issue is not None
        and issue.causes_standstill
        and _value(issue.status) == QualityIssueStatus.pending.value
    )
    if standing:
        if status not in (WorkStatus.not_started.value, WorkStatus.in_progress.value):
            return  # completed, or already parked: left alone
        op.status_before_hold = WorkStatus(status)
        op.status = WorkStatus.on_hold
        op.paused_at = now
        op.updated_at = now
        work.session.flush()
        ended = close_open_entries(work, [op.id])
        work.session.refresh(op)
        _operation_event(work, op, "operation.paused", status, cause)
        for entry, changes in ended:
            service.record_event(work, TIME_ENTRIES, entry, "stopped", changes=changes)
        return
    if op.status_before_hold is None or status != WorkStatus.on_hold.value:
        return
    if _open_standstills(work, op.id, issue.id if issue is not None else None):
        return
    op.status = WorkStatus(_value(op.status_before_hold))
    op.status_before_hold = None
    op.resumed_at = now
    op.paused_at = None
    op.updated_at = now
    work.session.flush()
    _operation_event(work, op, "operation.resumed", status, cause)
    if roll_up is not None and _value(op.status) == WorkStatus.in_progress.value:
        roll_up(work, op, "operation.resumed")


# ---------------------------------------------------------------- writes


NCR_ATTEMPTS = 4  # the first try and 3 retries (§14.2): a number taken meanwhile → the next


def _ncr_number_taken(exc: IntegrityError) -> bool:
    return constraint_name(exc) == NCR_UNIQUE


def _generates_ncr_number(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and str(body.get("issue_type", "")).strip().lower() == QualityIssueType.ncr.value
        and not body.get("ncr_number")
    )


def create_issue(work: Work, body: Any, *, roll_up: ReleaseRollUp | None = None) -> Issue:
    """Create an issue (and park its operation, §6.2). An NCR's generated number is computed
    from the numbers visible now; when a concurrent create commits the same number first, the
    unique index refuses ours and the create runs again in a fresh savepoint with the next
    number, up to NCR_ATTEMPTS times (then the 409 of the index)."""
    if not _generates_ncr_number(body):
        return _create_issue(work, body, roll_up)
    attempt = 1
    while True:
        mark = len(work.events)
        savepoint = work.session.begin_nested()
        try:
            row = _create_issue(work, body, roll_up)
            work.session.flush()
        except IntegrityError as exc:
            # A failed flush leaves the savepoint inactive but not rolled back: roll it back
            # whatever its state, so the transaction goes on without the refused row.
            savepoint.rollback()
            del work.events[mark:]
            if attempt == NCR_ATTEMPTS or not _ncr_number_taken(exc):
                raise
            attempt += 1
            continue
        except BaseException:
            savepoint.rollback()
            del work.events[mark:]
            raise
        savepoint.commit()
        return row


def _create_issue(work: Work, body: Any, roll_up: ReleaseRollUp | None) -> Issue:
    row: Issue = service.create(work, ISSUES, body)
    apply_yellow_card(
        work, row, row.operation_id, {"type": "issue.created", "entity_id": str(row.id)}, roll_up
    )
    return row


def update_issue(
    work: Work, id_: uuid.UUID, body: Any, *, roll_up: ReleaseRollUp | None = None
) -> Issue:
    before = service.get_row(work.session, work.scope, ISSUES, id_).operation_id
    row: Issue = service.update_record(work, ISSUES, id_, body)
    cause = {"type": "issue.updated", "entity_id": str(row.id)}
    if row.operation_id != before:  # moved: the operation it left may be released
        apply_yellow_card(work, None, before, cause, roll_up)
    apply_yellow_card(work, row, row.operation_id, cause, roll_up)
    return row


def delete_issue(work: Work, id_: uuid.UUID, *, roll_up: ReleaseRollUp | None = None) -> None:
    row = service.get_row(work.session, work.scope, ISSUES, id_, for_update=True)
    operation_id, issue_id = row.operation_id, row.id
    cause = service.record_delete(work, ISSUES, row, hard=True)
    work.session.delete(row)
    work.session.flush()
    if row.causes_standstill:
        apply_yellow_card(work, None, operation_id, {**cause, "entity_id": str(issue_id)}, roll_up)


# ---------------------------------------------------------------- lists


def list_params(params: Mapping[str, str]) -> dict[str, str]:
    """`reported_by` is an alias of the `reported_by_id` filter."""
    out = dict(params)
    if "reported_by" in out and "reported_by_id" not in out:
        out["reported_by_id"] = out.pop("reported_by")
    return out


def _status_filter(stmt: Any, raw: Any) -> Any:
    values = []
    aliases = dict(STATUS_ALIASES)
    allowed = [s.value for s in QualityIssueStatus]
    for part in str(raw).split(","):
        name = aliases.get(part.strip(), part.strip())
        if name not in allowed:
            message = f"Invalid value for status. Must be one of: {', '.join(allowed)}"
            raise BadRequest(message, [Detail("status", message, "ENUM_CONSTRAINT", raw)])
        values.append(name)
    return stmt.where(Issue.status.in_(values))


def _extras(
    session: Session, scope: TenantScope, rows: Sequence[Any], _mode: str
) -> dict[Any, dict[str, Any]]:
    ops = operation_embeds(session, scope, (r.operation_id for r in rows))
    cells = load_by_id(
        session,
        scope,
        Cell,
        [c for r in rows for c in (r.current_cell_id, r.intended_next_cell_id)],
    )

    def cell(cid: uuid.UUID | None) -> dict[str, Any] | None:
        row = cells.get(cid) if cid is not None else None
        return None if row is None else {"id": str(row.id), "name": row.name}

    return {
        r.id: {
            "operation": ops.get(r.operation_id),
            "current_cell": cell(r.current_cell_id),
            "intended_next_cell": cell(r.intended_next_cell_id),
        }
        for r in rows
    }


ISSUES = EntitySpec(
    name="issues",
    singular="issue",
    model=Issue,
    fields=(
        F.ref_id("operation_id", required=True),
        F.ident("title", 255, required=True),
        F.Field("description", Kind.text, required=True, min_len=1, max_len=10_000),
        F.enum("severity", QualityIssueSeverity, "medium"),
        F.Field(
            "status",
            Kind.enum,
            choices=tuple(s.value for s in QualityIssueStatus),
            default="pending",
            value_aliases=STATUS_ALIASES,
        ),
        F.enum("issue_type", QualityIssueType, "general"),
        F.ident("ncr_number", 50),
        F.enum("ncr_category", NcrCategory),
        F.enum("disposition", NcrDisposition),
        F.integer("affected_quantity", min_value=0),
        F.long_text("root_cause"),
        F.long_text("corrective_action"),
        F.long_text("preventive_action"),
        F.long_text("resolution_notes"),
        F.boolean("verification_required", False),
        F.boolean("causes_standstill", False),
        F.ident("created_by", 64),
        F.ident("reported_by_id", 64),
        F.ident("reviewed_by", 64),
        F.timestamp("reviewed_at"),
        F.ref_id("current_cell_id"),
        F.ref_id("intended_next_cell_id"),
        F.Field("image_paths", Kind.string_list, max_len=20, item_max_len=1024, default=list),
        F.metadata_field(),
    ),
    synced=False,
    soft_delete=False,
    aliases={"ncr_disposition": "disposition"},
    refs=(
        RefSpec("operations", "operation_id", "Operation", required=True),
        RefSpec("cells", "current_cell_id", "Cell"),
        RefSpec("cells", "intended_next_cell_id", "Cell"),
    ),
    unique=(UniqueRule(("ncr_number",), live_only=False),),
    natural_key="title",
    tombstone_extra=("ncr_number", "operation_id"),
    listing=ListOptions(
        exact={
            "operation_id": Kind.uuid,
            "part_id": Kind.uuid,
            "job_id": Kind.uuid,
            "severity": Kind.enum,
            "status": Kind.string,
            "issue_type": Kind.enum,
            "ncr_category": Kind.enum,
            "created_by": Kind.string,
            "reported_by_id": Kind.string,
            "current_cell_id": Kind.uuid,
            "causes_standstill": Kind.boolean,
        },
        search=("title", "description", "ncr_number", "resolution_notes"),
        sortable=("created_at", "updated_at", "severity", "status", "ncr_number"),
        default_sort=("created_at", "desc"),
        date_ranges={"from_date": ("created_at", ">="), "to_date": ("created_at", "<=")},
        sort_expressions={"severity": _SEVERITY_RANK, "status": _STATUS_RANK},
    ),
    render_extras=_extras,
    prepare=_prepare,
    fill_defaults=_number_ncr,
    custom_filters={
        "status": _status_filter,
        "part_id": lambda stmt, value: stmt.where(
            Issue.operation_id.in_(operations_of_part(value))
        ),
        "job_id": lambda stmt, value: stmt.where(Issue.operation_id.in_(operations_of_job(value))),
    },
    embeds={
        "operation": OPERATION_EMBED,
        "current_cell": CELL_EMBED,
        "intended_next_cell": CELL_EMBED,
    },
)
