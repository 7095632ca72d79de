"""Planning connections, read-only (connections are created and changed through the CLI in v1,
spec §5.3, §12): each connection's state — pulls on/off, last test, last pull and its status,
the pull cursor, the dispatch cursor, the last error, pending and failed pushes — its latest
run records, and two operator actions:

* **Test connection** runs the adapter's read-only `test_connection()` now and stores the result
  (a successful test lifts a block set by an authentication failure, §5.4).
* **Pull now** queues a `planning.pull_now` job for the worker (the pull itself never runs in
  the web request; nothing is pushed from a request either).
"""

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func

from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.web import AdminDep, AdminRequest, FormDep, parse_id
from floorsync.db.repository import scoped
from floorsync.errors import NotFound
from floorsync.models.enums import DeliveryStatus
from floorsync.models.planning import PlanningPush, PlanningRun
from floorsync.planning.connections import (
    ConnectionInvalid,
    ConnectionNotFound,
    config_of,
    describe,
    find_connection,
    list_connections,
    record_test,
)
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.runtime import redactor_for
from floorsync.planning.tasks import PULL_NOW
from floorsync.worker.queue import enqueue

router = APIRouter()
PAGE = AdminPage(router, NavItem("Planning", "/planning", "planning", order=35))
RECENT_RUNS = 15
NOTICES = {
    "queued": "A pull of {name} is queued; the worker runs it shortly.",
    "tested": "{name}: the connection test succeeded.",
}


def _page(
    admin: AdminRequest,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    box = admin.services.secretbox
    with admin.read() as session:
        rows = list_connections(session, admin.scope)
        connections = [describe(r, box) for r in rows]
        counts: dict[str, dict[str, int]] = {c["id"]: {} for c in connections}
        for connection_id, status, n in session.execute(
            scoped(PlanningPush, admin.scope)
            .with_only_columns(PlanningPush.connection_id, PlanningPush.status, func.count())
            .group_by(PlanningPush.connection_id, PlanningPush.status)
        ):
            counts.setdefault(str(connection_id), {})[str(status.value)] = int(n)
        runs = list(
            session.scalars(
                scoped(PlanningRun, admin.scope)
                .order_by(PlanningRun.started_at.desc(), PlanningRun.id.desc())
                .limit(RECENT_RUNS)
            )
        )
        names = {str(r.id): r.name for r in rows}
        recent: list[dict[str, Any]] = [
            {
                "connection": names.get(str(r.connection_id), "?"),
                "kind": r.kind.value,
                "trigger": r.trigger.value,
                "status": r.status.value,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "received": r.records_received,
                "mode": (r.details or {}).get("mode"),
                "outcome": (r.details or {}).get("outcome"),
                "warnings": len((r.details or {}).get("warnings") or []),
                "error": f"{r.error_class.value}: {r.error_message}" if r.error_class else None,
                "sync_group_id": str(r.sync_group_id) if r.sync_group_id else None,
            }
            for r in runs
        ]
    for c in connections:
        c["pending"] = counts.get(c["id"], {}).get(DeliveryStatus.pending.value, 0)
        c["failed"] = counts.get(c["id"], {}).get(DeliveryStatus.failed.value, 0)
    return admin.render(
        "planning.html",
        status_code=status_code,
        connections=connections,
        runs=recent,
        notice=notice,
        error=error,
    )


@router.get("/planning", response_class=HTMLResponse)
def planning_page(admin: AdminDep) -> HTMLResponse:
    params = admin.request.query_params
    notice = None
    if params.get("done") in NOTICES:
        notice = NOTICES[params["done"]].format(name=params.get("name", "")[:100])
    return _page(admin, notice=notice)


def _connection_name(admin: AdminRequest, connection_id: uuid.UUID) -> str:
    with admin.read() as session:
        return find_connection(session, admin.scope, str(connection_id)).name


@router.post("/planning/{connection_id}/test", response_model=None)
def run_test(connection_id: str, admin: AdminDep, _form: FormDep) -> Response:
    id_ = parse_id(connection_id)
    try:
        with admin.read() as session:
            row = find_connection(session, admin.scope, str(id_))
            config = config_of(row, admin.services.secretbox)
            name = row.name
    except ConnectionNotFound:
        raise NotFound("Planning connection not found") from None
    except ConnectionInvalid as exc:
        return _page(admin, status_code=422, error=str(exc))
    with create_planning_adapter(config) as adapter:
        check = adapter.test_connection()  # read-only calls; never raises for the server's part
    redact = redactor_for(config)
    with admin.work() as work:
        row = find_connection(work.session, admin.scope, str(id_))
        record_test(row, check, work.clock.now())
        if row.last_error:
            row.last_error = redact(row.last_error)
    if not check.ok:
        return _page(
            admin,
            status_code=200,
            error=f"{name}: the connection test failed ({check.error_kind}): "
            f"{redact(check.message)}",
        )
    return admin.redirect("/planning", done="tested", name=name)


@router.post("/planning/{connection_id}/pull", response_model=None)
def pull_now(connection_id: str, admin: AdminDep, _form: FormDep) -> Response:
    id_ = parse_id(connection_id)
    try:
        name = _connection_name(admin, id_)
    except ConnectionNotFound:
        raise NotFound("Planning connection not found") from None
    with admin.work() as work:
        enqueue(
            work.session,
            PULL_NOW,
            {"tenant_id": str(admin.scope.tenant_id), "connection_id": str(id_), "full": False},
            now=work.clock.now(),
            tenant_id=admin.scope.tenant_id,
            wake=admin.services.worker_wake.set,
        )
    return admin.redirect("/planning", done="queued", name=name)
