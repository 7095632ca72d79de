"""The planning dispatcher (spec §7.1, events and webhooks §11): follows the committed event log
of each connection's tenant from the connection's `dispatch_cursor`, in sequence order, at most
500 events per round, and turns each relevant lifecycle event of a job of the connection's
system into one `planning_pushes` row:

| Event           | Push row            | Payload                                                  |
|-----------------|---------------------|----------------------------------------------------------|
| `job.started`   | `order_start`       | `started_at` (the job's)                                 |
| `job.completed` | `order_completion`  | `quantity_good`, `quantity_scrap` (§7.2), `completed_at` |

The rows and the cursor move are written in **one transaction**, and the cursor moves by
compare-and-set (`WHERE dispatch_cursor = <what the round read>`), so a round repeated by a
second worker or after a crash writes nothing twice; the unique key `(connection_id, event_id,
kind)` guards the same. A connection with `push_enabled` off still moves its cursor (events of
that period are never pushed). Events are written at commit in sequence order (the change feed's
commit-order property, events §10.4), so the cursor never passes an event still to commit.
Nothing here calls the planning system: pushes are executed by the push queue (`pushes`).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work
from floorsync.kit.ids import new_id
from floorsync.models.enums import DeliveryStatus, PlanningPushKind
from floorsync.models.events import Event
from floorsync.models.master import Operation, Part
from floorsync.models.planning import PlanningConnection, PlanningPush
from floorsync.models.shopfloor import OperationQuantity
from floorsync.planning.connections import all_connections, tenant_head
from floorsync.planning.runtime import PlanningDeps, scope_of

ROUND = 500
KINDS = {
    "job.started": PlanningPushKind.order_start,
    "job.completed": PlanningPushKind.order_completion,
}


@dataclass(frozen=True)
class DispatchTarget:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID


def completion_quantities(work: Work, job_id: uuid.UUID) -> tuple[int, int]:
    """§7.2: good = quantity_good recorded on the last live operation (highest sequence) of the
    job's part, else the part's quantity minus scrap (not below 0); scrap = quantity_scrap
    recorded on all live operations of the part."""
    part = work.session.scalars(
        scoped(Part, work.scope, include_deleted=False)
        .where(Part.job_id == job_id)
        .order_by(Part.created_at)
    ).first()
    if part is None:
        return 0, 0
    ops = list(
        work.session.execute(
            scoped(Operation, work.scope, include_deleted=False)
            .with_only_columns(Operation.id, Operation.sequence)
            .where(Operation.part_id == part.id)
            .order_by(Operation.sequence, Operation.id)
        )
    )
    if not ops:
        return max(0, part.quantity), 0
    sums: dict[uuid.UUID, tuple[int, int]] = {}
    stmt = (
        scoped(OperationQuantity, work.scope)
        .with_only_columns(
            OperationQuantity.operation_id,
            func.coalesce(func.sum(OperationQuantity.quantity_good), 0),
            func.coalesce(func.sum(OperationQuantity.quantity_scrap), 0),
        )
        .where(OperationQuantity.operation_id.in_([o.id for o in ops]))
        .group_by(OperationQuantity.operation_id)
    )
    for op_id, good, scrap in work.session.execute(stmt):
        sums[op_id] = (int(good), int(scrap))
    scrap = sum(s for _g, s in sums.values())
    last = ops[-1].id
    # nothing recorded on the last operation: the part's quantity minus the scrap
    good = sums[last][0] if last in sums else max(0, part.quantity - scrap)
    return good, scrap


def _payload(work: Work, kind: PlanningPushKind, data: dict[str, Any]) -> dict[str, Any]:
    if kind is PlanningPushKind.order_start:
        return {"started_at": data.get("started_at") or data.get("timestamp")}
    good, scrap = completion_quantities(work, uuid.UUID(data["job_id"]))
    return {
        "quantity_good": str(good),
        "quantity_scrap": str(scrap),
        "completed_at": data.get("completed_at") or data.get("timestamp"),
    }


def dispatch_round(deps: PlanningDeps, scope: TenantScope, connection_id: uuid.UUID) -> int:
    """One round for one connection: returns the push rows created (0 when there was nothing
    to do or another round got there first)."""
    created = 0
    with deps.work(scope) as work:
        row = work.session.scalars(
            scoped(PlanningConnection, scope).where(PlanningConnection.id == connection_id)
        ).first()
        if row is None:
            return 0
        start = row.dispatch_cursor
        events = list(
            work.session.scalars(
                scoped(Event, scope).where(Event.seq > start).order_by(Event.seq).limit(ROUND)
            )
        )
        if not events:
            return 0
        moved = work.session.execute(
            update(PlanningConnection)
            .where(
                PlanningConnection.id == connection_id, PlanningConnection.dispatch_cursor == start
            )
            .values(dispatch_cursor=events[-1].seq)
        )
        if int(getattr(moved, "rowcount", 0) or 0) != 1:
            work.discard()  # another round moved it first
            return 0
        if not row.push_enabled:
            return 0
        source = row.system.value
        now = work.clock.now()
        for event in events:
            kind = KINDS.get(event.type)
            data = event.data if isinstance(event.data, dict) else {}
            if kind is None or data.get("external_source") != source:
                continue
            order = data.get("external_id")
            if not order:
                continue
            work.session.add(
                PlanningPush(
                    id=new_id(),
                    tenant_id=scope.tenant_id,
                    connection_id=connection_id,
                    event_id=event.id,
                    seq=event.seq,
                    kind=kind,
                    order_external_id=str(order)[:255],
                    payload=_payload(work, kind, data),
                    status=DeliveryStatus.pending,
                    attempts=0,
                    window_started_at=now,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            created += 1
    return created


def targets(deps: PlanningDeps) -> list[DispatchTarget]:
    """Connections whose tenant has events after their dispatch cursor."""
    out: list[DispatchTarget] = []
    with deps.sessions() as session:
        for row in all_connections(session):
            if tenant_head(session, scope_of(row)) > row.dispatch_cursor:
                out.append(DispatchTarget(row.tenant_id, row.id))
    return out


def dispatch_all(deps: PlanningDeps) -> int:
    """Rounds until every connection has caught up with its tenant's log."""
    total = 0
    while True:
        pending = targets(deps)
        if not pending:
            return total
        moved = 0
        for target in pending:
            moved += 1
            total += dispatch_round(deps, TenantScope(target.tenant_id), target.connection_id)
        if moved == 0:
            return total
