"""Sync history: the `sync_runs` of `GET /api-erp-sync/status` (API §4.13), filterable, with
each run's per-record errors and the fields they name. One row per entity of a run; newest
first. Reads through `sync.runs`, the same queries as the API."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from floorsync.admin.listing import Pager, filters_from
from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.web import AdminDep, parse_id
from floorsync.auth.keys import key_labels
from floorsync.errors import BadRequest
from floorsync.models.enums import RunStatus, SyncEntity, SyncTrigger
from floorsync.sync import runs

router = APIRouter()
PAGE = AdminPage(router, NavItem("Sync history", "/sync-history", "sync-history", order=10))
PAGE_SIZE = 25
FILTERS = ("entity_type", "status", "trigger", "source", "csv_import_id")


@router.get("/sync-history", response_class=HTMLResponse)
def history_page(admin: AdminDep) -> HTMLResponse:
    params = admin.request.query_params
    chosen = filters_from(params, FILTERS)
    pager = Pager.from_params(params, PAGE_SIZE)
    error = None
    with admin.read() as session:
        try:
            data = runs.history(
                session,
                admin.scope,
                {**chosen, "limit": str(pager.limit), "offset": str(pager.offset)},
            )
        except BadRequest as exc:  # a hand-edited URL with an unknown value
            error = exc.message
            chosen = {}
            data = runs.history(session, admin.scope, {"limit": str(pager.limit)})
    pager.total = data["pagination"]["total"]
    return admin.render(
        "sync_history.html",
        stats=data["stats"],
        runs=data["history"],
        pager=pager,
        chosen=chosen,
        error=error,
        choices={
            "entity_type": [e.value for e in SyncEntity],
            "status": [s.value for s in RunStatus],
            "trigger": [t.value for t in SyncTrigger],
        },
    )


@router.get("/sync-history/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, admin: AdminDep) -> HTMLResponse:
    with admin.read() as session:
        run = runs.get_run(session, admin.scope, parse_id(run_id))
        keys = key_labels(session, admin.scope, [run["api_key_id"]])
    return admin.render("sync_run.html", run=run, key_label=keys.get(run["api_key_id"] or ""))
