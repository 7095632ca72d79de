"""Admin → Data Import: the CSV import wizard (CSV import §2.1), its history and the templates.

Step by step, all on `/imports/{id}` once the files are uploaded: the file cards (every
detected value can be changed, which re-analyses the file at once), the mapping panel (one
select per column, blocking messages), the dry-run preview as a background job with a progress
bar and its counts and row tabs, the import with live progress (polled from `progress.json`
once a second by admin.js; without JavaScript the page refreshes itself every 2 seconds),
cancel and resume, and the result with its downloads. Everything goes through
`csv_import.service`, exactly as `floorsync import` does; the worker runs the jobs.

Uploads are parsed here, not by FormDep: the body is streamed with the limits of §14 enforced
as it arrives (a declared length over the limit is refused before any byte is read), then the
CSRF token is checked before anything is stored.
"""

import math
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser

from floorsync.admin.pages import AdminPage, NavItem
from floorsync.admin.web import (
    CSRF_FIELD,
    AdminDep,
    AdminRequest,
    FormDep,
    check_csrf,
    form_text,
    parse_id,
)
from floorsync.csv_import import service
from floorsync.csv_import.archives import CSV_EXTENSIONS
from floorsync.csv_import.columns import ENTITIES, ENTITY_ORDER
from floorsync.csv_import.decoding import ENCODING_CHOICES
from floorsync.csv_import.duplicates import identical_import
from floorsync.csv_import.headers import IGNORE
from floorsync.csv_import.issues import Issue
from floorsync.csv_import.service import FINISHED, ImportSettings, StoredChoices, Upload
from floorsync.csv_import.templates import template, template_name, templates_zip
from floorsync.errors import BadRequest, Conflict, FloorsyncError, NotFound, PayloadTooLarge
from floorsync.models.enums import CsvImportStatus, ImportChannel, ImportPhase, IssueSeverity
from floorsync.models.imports import CsvImport
from floorsync.sync import runs

router = APIRouter()
PAGE = AdminPage(router, NavItem("Data Import", "/imports", "imports", order=15))
ROWS_PER_PAGE = 50
FORM_OVERHEAD = 256 * 1024  # multipart boundaries and the small fields around the files
DELIMITER_LABELS = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}
DELIMITER_VALUES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
NOTICES = {
    "mapped": "Mapping and options saved.",
    "changed": "File settings changed; the file was analysed again.",
    "preview": "The preview is running.",
    "started": "The import is running. You can close this page and come back.",
    "cancel": "Cancel requested: the import stops after the current batch.",
    "resumed": "The import resumes where it stopped.",
    "forgotten": "The remembered mapping was forgotten; the columns were matched again.",
}


# --- pages ---------------------------------------------------------------------------------


@router.get("/imports", response_class=HTMLResponse)
def history_page(admin: AdminDep) -> HTMLResponse:
    imports = service.list_imports(admin.services, admin.scope, limit=100)
    with admin.read() as session:
        files = {imp.id: service.import_files(session, admin.scope, imp.id) for imp in imports}
    return admin.render(
        "imports.html",
        imports=imports,
        files=files,
        entities=ENTITY_ORDER,
        keys=_key_names(admin, imports),
    )


def _key_names(admin: AdminRequest, imports: list[CsvImport]) -> dict[Any, str]:
    from floorsync.db.repository import scoped
    from floorsync.models.tenancy import ApiKey

    ids = {i.created_by for i in imports if i.created_by is not None}
    if not ids:
        return {}
    with admin.read() as session:
        keys = session.scalars(scoped(ApiKey, admin.scope).where(ApiKey.id.in_(ids))).all()
        return {k.id: f"{k.name} · {k.key_prefix}…" for k in keys}


@router.get("/imports/new", response_class=HTMLResponse)
def new_page(admin: AdminDep) -> HTMLResponse:
    settings = admin.services.settings
    return admin.render(
        "import_new.html",
        max_file_mb=settings.import_max_file_mb,
        max_upload_mb=settings.import_max_upload_mb,
        error=None,
    )


async def _read_upload(request: Request, admin: AdminRequest) -> FormData:
    settings = admin.services.settings
    limit = settings.import_max_upload_mb * 1024 * 1024 + FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"The upload is larger than {settings.import_max_upload_mb} MiB; nothing was stored."
        )

    max_file = settings.import_max_file_mb * 1024 * 1024
    boundary = _boundary(request.headers.get("content-type", ""))

    async def capped() -> AsyncGenerator[bytes, None]:
        """The body as it arrives, refused past the total limit or once one part (one file)
        grows past the per-file limit: the bytes since the last multipart boundary."""
        seen = in_part = 0
        tail = b""
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise PayloadTooLarge(
                    f"The upload is larger than {settings.import_max_upload_mb} MiB; nothing was stored."
                )
            window = tail + chunk
            at = window.rfind(boundary) if boundary else -1
            in_part = len(window) - at - len(boundary) if at >= 0 else in_part + len(chunk)
            if in_part > max_file + FORM_OVERHEAD:
                raise PayloadTooLarge(
                    f"A file is larger than {settings.import_max_file_mb} MiB; nothing was stored."
                )
            tail = window[-len(boundary) :] if boundary else b""
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=service.MAX_FILES, max_fields=20)
    return await parser.parse()


def _boundary(content_type: str) -> bytes:
    for part in content_type.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode("latin-1")
    return b""


@router.post("/imports", response_model=None)
async def upload(request: Request, admin: AdminDep) -> Response:
    form = await _read_upload(request, admin)
    check_csrf(admin, form.get(CSRF_FIELD))
    max_file = admin.services.settings.import_max_file_mb * 1024 * 1024
    uploads: list[Upload] = []
    for item in form.getlist("files"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        data = await item.read()
        if len(data) > max_file:
            raise PayloadTooLarge(
                f"{item.filename} is larger than {admin.services.settings.import_max_file_mb} MiB."
            )
        uploads.append(Upload(item.filename, data))
    settings = ImportSettings(
        source=(form_text(form, "source") or "csv")[:100],
        snapshot=form.get("snapshot") == "on",
        empty_clears=form.get("empty_clears") == "on",
        time_zone=form_text(form, "time_zone") or "UTC",
    )
    error = None
    if not uploads:
        error = "Choose one or more .csv, .txt or .tsv files, or one .zip."
    else:
        try:
            _check_zone(settings.time_zone)
            import_id = service.create_import(
                admin.services,
                admin.scope,
                uploads,
                settings,
                channel=ImportChannel.admin_ui,
                created_by=admin.scope.api_key_id,
            )
        except FloorsyncError as exc:
            error = exc.message
    if error is not None:
        limits = admin.services.settings
        return admin.render(
            "import_new.html",
            status_code=422,
            max_file_mb=limits.import_max_file_mb,
            max_upload_mb=limits.import_max_upload_mb,
            error=error,
        )
    return admin.redirect(f"/imports/{import_id}")


def _check_zone(zone: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"Unknown time zone {zone!r} (use e.g. Europe/Amsterdam or UTC)") from None


@router.get("/imports/templates.zip", response_model=None)
def templates_download(admin: AdminDep) -> Response:
    variant: Any = ";" if admin.request.query_params.get("delimiter") == "semicolon" else ","
    return Response(
        templates_zip(variant),
        media_type="application/zip",
        headers={"content-disposition": 'attachment; filename="templates.zip"'},
    )


@router.get("/imports/templates/{name}", response_model=None)
def template_download(name: str, admin: AdminDep) -> Response:
    entity = name.removesuffix(".csv")
    if entity not in ENTITY_ORDER or not name.endswith(".csv"):
        raise NotFound("There is no such template.")
    variant: Any = ";" if admin.request.query_params.get("delimiter") == "semicolon" else ","
    return Response(
        template(entity, variant).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{template_name(entity)}"'},
    )


def _file_views(admin: AdminRequest, imp: CsvImport) -> list[dict[str, Any]]:
    settings = service.settings_of(imp)
    views = []
    with admin.read() as session:
        for f in service.import_files(session, admin.scope, imp.id):
            analysis = service.analyse_stored(session, admin.scope, f, settings)
            choices = StoredChoices.from_json((f.mapping or {}).get("choices"))
            entity = analysis.entity.entity if analysis.entity is not None else None
            spec = ENTITIES.get(entity or "")
            views.append(
                {
                    "file": f,
                    "a": analysis,
                    "choices": choices,
                    "entity": entity,
                    "reason": analysis.entity.reason if analysis.entity is not None else "",
                    "fields": sorted(c.name for c in spec.columns) if spec else [],
                    "blocking": [i for i in analysis.issues if i.severity == "error"],
                    "warnings": [i for i in analysis.issues if i.severity == "warning"],
                    "counts": (imp.file_counts or {}).get(str(f.position), {}),
                    "preview": ((imp.preview or {}).get("files") or {}).get(str(f.position), {}),
                    # a remembered mapping exists for this layout (§7.5): "Forget this mapping"
                    "remembered": bool(
                        entity
                        and analysis.signature
                        and service.saved_mapping(session, admin.scope, entity, analysis.signature)
                    ),
                }
            )
    return views


@router.get("/imports/{import_id}", response_class=HTMLResponse)
def wizard_page(import_id: str, admin: AdminDep) -> HTMLResponse:
    ident = parse_id(import_id)
    params = admin.request.query_params
    with admin.read() as session:
        imp = service.get_import(session, admin.scope, ident)
    views = _file_views(admin, imp)
    progress = service.progress(admin.services, admin.scope, ident)
    tab = params.get("tab", "error")
    rows_file = params.get("file", "0")
    page = max(int(params.get("page", "1")) if params.get("page", "1").isdigit() else 1, 1)
    issues: list[tuple[int, Issue]] = []
    with admin.read() as session:
        phase = service.report_phase(imp)
        issues = service.stored_issues(
            session,
            admin.scope,
            ident,
            phase,
            severity=IssueSeverity.error,
            limit=ROWS_PER_PAGE,
            offset=(page - 1) * ROWS_PER_PAGE,
        )
        warnings = service.stored_issues(
            session, admin.scope, ident, phase, severity=IssueSeverity.warning, limit=20
        )
        # the sync-history rows of this import, one per entity (§12.4)
        history = runs.history(session, admin.scope, {"csv_import_id": str(ident), "limit": "20"})[
            "history"
        ]
    errors_total = (
        imp.failed_count
        if phase is ImportPhase.import_
        else ((imp.preview or {}).get("totals") or {}).get("error", 0)
    )
    preview_rows = ((imp.preview or {}).get("rows") or {}).get(rows_file, {}).get(tab, [])
    start = (page - 1) * ROWS_PER_PAGE
    done = params.get("done", "")
    if done in ("preview", "started", "cancel", "resumed") and imp.status in (
        CsvImportStatus.previewed,
        *FINISHED,
    ):
        done = ""  # the job has finished since: the page shows its outcome instead
    same = (
        identical_import(admin.services, admin.scope, ident)
        if imp.status in service.EDITABLE
        else None
    )
    return admin.render(
        "import.html",
        imp=imp,
        identical=same,
        views=views,
        progress=progress,
        issues=issues,
        warnings=warnings,
        history=history,
        errors_total=errors_total,
        tab=tab,
        rows_file=rows_file,
        page=page,
        pages=max(1, math.ceil(max(errors_total, len(preview_rows)) / ROWS_PER_PAGE)),
        preview_rows=preview_rows[start : start + ROWS_PER_PAGE],
        preview_total=len(preview_rows),
        entities=ENTITY_ORDER,
        encodings=ENCODING_CHOICES,
        delimiters=DELIMITER_LABELS,
        settings=service.settings_of(imp),
        active=imp.status in (CsvImportStatus.queued, CsvImportStatus.running),
        finished=imp.status in FINISHED,
        editable=imp.status in service.EDITABLE,
        ignore=IGNORE,
        notice=NOTICES.get(done),
        error=params.get("error"),
    )


@router.get("/imports/{import_id}/progress.json", response_model=None)
def progress_json(import_id: str, admin: AdminDep) -> JSONResponse:
    return JSONResponse(service.progress(admin.services, admin.scope, parse_id(import_id)))


@router.post("/imports/{import_id}/files/{position}", response_model=None)
def change_file(import_id: str, position: int, admin: AdminDep, form: FormDep) -> Response:
    ident = parse_id(import_id)
    changes: dict[str, Any] = {}
    encoding = form_text(form, "encoding")
    if encoding in ENCODING_CHOICES:
        changes["encoding"] = encoding
    delimiter = form_text(form, "delimiter")
    if delimiter in DELIMITER_VALUES:
        changes["delimiter"] = DELIMITER_VALUES[delimiter]
    header_line = form_text(form, "header_line")
    if header_line.isdigit() and int(header_line) >= 1:
        changes["header_line"] = int(header_line)
    decimal = form_text(form, "decimal")
    if decimal in ("auto", "point", "comma"):
        changes["decimal"] = decimal
    order = form_text(form, "date_order")
    if order in ("auto", "dmy", "mdy", "ymd"):
        changes["date_order"] = order
    entity = form_text(form, "entity")
    if entity in ENTITY_ORDER:
        changes["entity"] = entity
    try:
        service.change_file(admin.services, admin.scope, ident, position, changes)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="changed")


@router.post("/imports/{import_id}/files/{position}/forget-mapping", response_model=None)
def forget_mapping(import_id: str, position: int, admin: AdminDep, _form: FormDep) -> Response:
    """ "Forget this mapping" (§7.5): the remembered mapping of the file's header layout is
    deleted and the file re-analysed."""
    ident = parse_id(import_id)
    try:
        service.forget_file_mapping(admin.services, admin.scope, ident, position)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="forgotten")


def _save_mapping(admin: AdminRequest, ident: Any, form: FormData) -> list[Issue]:
    with admin.read() as session:
        imp = service.get_import(session, admin.scope, ident)
        settings = service.settings_of(imp)
        files = [
            (f, service.analyse_stored(session, admin.scope, f, settings))
            for f in service.import_files(session, admin.scope, ident)
        ]
    for f, analysis in files:
        if analysis.mapping is None:
            continue
        # only what the user changed becomes a manual match; the rest keeps its match kind
        shown = {c.position: c.field or IGNORE for c in analysis.mapping.columns}
        current = StoredChoices.from_json((f.mapping or {}).get("choices"))
        manual = dict(current.manual)
        prefix = f"map-{f.position}-"
        for key in form:
            if key.startswith(prefix) and key[len(prefix) :].isdigit():
                position = int(key[len(prefix) :])
                value = form_text(form, key) or IGNORE
                if value != shown.get(position):
                    manual[position] = value
        if manual and manual != current.manual:
            service.change_file(admin.services, admin.scope, ident, f.position, {"manual": manual})
    options = {
        "remember_mapping": form.get("remember") == "on",
        "skip_errors": form.get("skip_errors") == "on",
    }
    return service.confirm_mapping(admin.services, admin.scope, ident, options=options)


@router.post("/imports/{import_id}/mapping", response_model=None)
def save_mapping(import_id: str, admin: AdminDep, form: FormDep) -> Response:
    ident = parse_id(import_id)
    try:
        _save_mapping(admin, ident, form)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="mapped")


@router.post("/imports/{import_id}/preview", response_model=None)
def start_preview(import_id: str, admin: AdminDep, form: FormDep) -> Response:
    ident = parse_id(import_id)
    try:
        blocking = _save_mapping(admin, ident, form)
        if blocking:
            return admin.redirect(f"/imports/{ident}", error=blocking[0].message)
        service.request(admin.services, admin.scope, ident, ImportPhase.preview)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="preview")


@router.post("/imports/{import_id}/start", response_model=None)
def start_import(import_id: str, admin: AdminDep, form: FormDep) -> Response:
    ident = parse_id(import_id)
    with admin.read() as session:
        imp = service.get_import(session, admin.scope, ident)
    deletes = ((imp.preview or {}).get("totals") or {}).get("delete", 0)
    if deletes and form.get("confirm_delete") != "on":
        return admin.redirect(
            f"/imports/{ident}", error=f"Confirm that {deletes} records may be deleted first."
        )
    try:
        service.request(admin.services, admin.scope, ident, ImportPhase.import_)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="started")


@router.post("/imports/{import_id}/cancel", response_model=None)
def cancel(import_id: str, admin: AdminDep, _form: FormDep) -> Response:
    ident = parse_id(import_id)
    try:
        service.cancel(admin.services, admin.scope, ident)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="cancel")


@router.post("/imports/{import_id}/resume", response_model=None)
def resume(import_id: str, admin: AdminDep, _form: FormDep) -> Response:
    ident = parse_id(import_id)
    try:
        service.resume(admin.services, admin.scope, ident)
    except (BadRequest, Conflict) as exc:
        return admin.redirect(f"/imports/{ident}", error=exc.message)
    return admin.redirect(f"/imports/{ident}", done="resumed")


@router.get("/imports/{import_id}/errors.csv", response_model=None)
def errors_csv(import_id: str, admin: AdminDep) -> Response:
    data = service.error_report(admin.services, admin.scope, parse_id(import_id))
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="errors.csv"'},
    )


@router.get("/imports/{import_id}/failed-rows", response_model=None)
def failed_rows(import_id: str, admin: AdminDep) -> Response:
    found = service.failed_rows(admin.services, admin.scope, parse_id(import_id))
    if found is None:
        raise NotFound("No row of this import failed.")
    name, data, media = found
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Response(
        data, media_type=media, headers={"content-disposition": f'attachment; filename="{safe}"'}
    )


__all__ = ["CSV_EXTENSIONS", "PAGE"]
