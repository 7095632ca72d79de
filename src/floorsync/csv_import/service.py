"""The import service (CSV import §2, §10, §11): uploads become a stored import with one
analysed file per CSV, in dependency order; the user's choices are stored per file; a preview
or the import is queued for the worker (`tasks.py`) or run in the caller's process (the CLI).
The job itself is in `csv_import/job.py`.

Everything here is tenant-scoped (db/repository), takes `Services`, and owns its short
transactions: a call is one unit of work, as a request or a CLI command is. The pure parsing
layer (analysis, parser, reports, …) does the reading; this module stores and orchestrates.
"""

import hashlib
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.orm import Session

from floorsync.bootstrap import Services
from floorsync.csv_import.analysis import FileAnalysis, FileChoices, analyse_file
from floorsync.csv_import.archives import is_zip, read_archive
from floorsync.csv_import.columns import ENTITY_ORDER
from floorsync.csv_import.decoding import ENCODING_CHOICES
from floorsync.csv_import.headers import IGNORE
from floorsync.csv_import.issues import ArchiveRefused, Issue
from floorsync.csv_import.reports import (
    failed_rows_from_source,
    issue_order,
    write_error_report,
    zip_files,
)
from floorsync.db.repository import TenantRepository, TenantScope, scoped, tenant_filter
from floorsync.errors import BadRequest, Conflict, NotFound
from floorsync.kit.ids import new_id
from floorsync.models.enums import (
    CsvImportStatus,
    ImportChannel,
    ImportPhase,
    IssueSeverity,
    SyncEntity,
)
from floorsync.models.imports import CsvImport, CsvImportFile, CsvImportIssue, CsvImportMapping
from floorsync.worker.queue import enqueue

JOB_KIND = "csv_import"
MAX_FILES = 20  # per import (§14); a zip may hold 50 entries
CHUNK_ROWS = 1000  # rows per batch: one transaction, one resume point (§11.3)
RESUMABLE = (CsvImportStatus.failed, CsvImportStatus.cancelled)
FINISHED = (
    CsvImportStatus.completed,
    CsvImportStatus.partial,
    CsvImportStatus.failed,
    CsvImportStatus.cancelled,
)
EDITABLE = (CsvImportStatus.uploaded, CsvImportStatus.mapped, CsvImportStatus.previewed)


class ImportRefused(BadRequest):
    """An upload or a request the import cannot take (too many files, a refused archive, …)."""


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


@dataclass(frozen=True)
class ImportSettings:
    """The options of a whole import (§2.1 upload step, §2.2)."""

    source: str = "csv"
    snapshot: bool = False
    empty_clears: bool = False
    skip_errors: bool = True
    time_zone: str = "UTC"
    derive_ids: bool = True
    remember_mapping: bool = True
    chunk_size: int = CHUNK_ROWS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ImportSettings":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class StoredChoices:
    """What the user chose on a file card and in the mapping panel, as stored in
    `csv_import_files.mapping` (`choices` + `manual`)."""

    encoding: str = "auto"
    delimiter: str | None = None
    header_line: int | None = None
    decimal: str = "auto"
    date_order: str = "auto"
    entity: str | None = None
    manual: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["manual"] = {str(k): v for k, v in self.manual.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "StoredChoices":
        data = dict(data or {})
        manual = {int(k): str(v) for k, v in (data.pop("manual", None) or {}).items()}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, manual=manual)


def file_choices(
    choices: StoredChoices, settings: ImportSettings, saved: Mapping[int, str] | None = None
) -> FileChoices:
    return FileChoices(
        encoding=choices.encoding,  # type: ignore[arg-type]
        delimiter=choices.delimiter,
        header_line=choices.header_line,
        decimal=choices.decimal,  # type: ignore[arg-type]
        date_order=choices.date_order,  # type: ignore[arg-type]
        entity=choices.entity,
        derive_ids=settings.derive_ids,
        saved=saved,
        manual=choices.manual or None,
    )


# --- reading an import ----------------------------------------------------------------------


def get_import(session: Session, scope: TenantScope, import_id: uuid.UUID) -> CsvImport:
    row = TenantRepository(session, scope, CsvImport).get(import_id)
    if row is None:
        raise NotFound(f"Import {import_id} not found")
    return row


def import_files(session: Session, scope: TenantScope, import_id: uuid.UUID) -> list[CsvImportFile]:
    return list(
        session.scalars(
            scoped(CsvImportFile, scope)
            .where(CsvImportFile.import_id == import_id)
            .order_by(CsvImportFile.position)
        )
    )


def saved_mapping(
    session: Session, scope: TenantScope, entity: str, signature: str
) -> dict[int, str] | None:
    row = session.scalars(
        scoped(CsvImportMapping, scope).where(
            CsvImportMapping.entity_type == SyncEntity(entity),
            CsvImportMapping.signature == signature,
        )
    ).first()
    if row is None:
        return None
    return {int(k): str(v) for k, v in row.mapping.items()}


def analyse_stored(
    session: Session, scope: TenantScope, file: CsvImportFile, settings: ImportSettings
) -> FileAnalysis:
    """The file's analysis under its stored choices, with a remembered mapping (§7.5) applied
    when one exists for the detected entity and header layout."""
    choices = StoredChoices.from_json((file.mapping or {}).get("choices"))
    return analyse_file(
        file.filename,
        file.content or b"",
        file_choices(choices, settings),
        saved_lookup=lambda entity, sig: saved_mapping(session, scope, entity, sig),
    )


def _apply_analysis(file: CsvImportFile, analysis: FileAnalysis) -> None:
    file.encoding = analysis.encoding[:16] if analysis.encoding else None
    file.delimiter = analysis.delimiter if analysis.error is None else None
    entity = analysis.entity.entity if analysis.entity is not None else None
    file.entity_type = SyncEntity(entity) if entity else None
    file.header = list(analysis.header_cells)
    file.row_count = analysis.row_count if analysis.error is None else 0


def _expand(uploads: Sequence[Upload]) -> tuple[list[Upload], list[tuple[str, str]]]:
    files: list[Upload] = []
    skipped: list[tuple[str, str]] = []
    for upload in uploads:
        if is_zip(upload.data):
            try:
                archive = read_archive(upload.data)
            except ArchiveRefused as exc:
                raise ImportRefused(f"{upload.name}: {exc}") from None
            files.extend(Upload(e.name, e.data) for e in archive.entries)
            skipped.extend(archive.skipped)
        else:
            files.append(upload)
    if not files:
        raise ImportRefused("No CSV file in the upload")
    if len(files) > MAX_FILES and not (len(uploads) == 1 and is_zip(uploads[0].data)):
        raise ImportRefused(f"At most {MAX_FILES} files per import")
    return files, skipped


def _order(analyses: Sequence[FileAnalysis]) -> list[int]:
    """§10.1: cells → resources → materials → jobs → parts → operations, upload order within an
    entity; unreadable files and files of no known entity last."""

    def key(i: int) -> tuple[int, int]:
        a = analyses[i]
        entity = a.entity.entity if a.entity is not None else None
        rank = ENTITY_ORDER.index(entity) if entity in ENTITY_ORDER else len(ENTITY_ORDER)
        return (rank, i)

    return sorted(range(len(analyses)), key=key)


def create_import(
    services: Services,
    scope: TenantScope,
    uploads: Sequence[Upload],
    settings: ImportSettings,
    *,
    channel: ImportChannel,
    created_by: uuid.UUID | None = None,
    choices: Mapping[str, StoredChoices] | None = None,
) -> uuid.UUID:
    """Store and analyse an upload (status `uploaded`); returns the import's id. `choices` are
    per file name (the CLI's `--entity`, `--map`, `--encoding`, …)."""
    files, skipped = _expand(uploads)
    choices = choices or {}
    with services.sessions.begin() as session:
        now = services.clock.now()
        analysed: list[tuple[Upload, StoredChoices, FileAnalysis]] = []
        for upload in files:
            chosen = choices.get(upload.name) or choices.get("*") or StoredChoices()
            probe = CsvImportFile(filename=upload.name[:255], content=upload.data)
            probe.mapping = {"choices": chosen.to_json()}
            analysed.append(
                (upload, chosen, _analyse_choices(session, scope, probe, chosen, settings))
            )
        order = _order([a for _, _, a in analysed])
        imp = CsvImport(
            id=new_id(),
            tenant_id=scope.tenant_id,
            channel=channel,
            created_by=created_by,
            status=CsvImportStatus.uploaded,
            external_source=settings.source[:100],
            options={**asdict(settings), "skipped_entries": [list(s) for s in skipped]},
            total_rows=0,
            file_counts={},
            created_at=now,
            updated_at=now,
        )
        session.add(imp)
        session.flush()
        for position, index in enumerate(order):
            upload, chosen, analysis = analysed[index]
            row = CsvImportFile(
                id=new_id(),
                tenant_id=scope.tenant_id,
                import_id=imp.id,
                position=position,
                filename=upload.name[:255],
                size_bytes=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                content=upload.data,
                mapping={"choices": chosen.to_json(), "signature": analysis.signature},
                next_row=0,
                created_at=now,
                updated_at=now,
            )
            _apply_analysis(row, analysis)
            session.add(row)
        session.flush()
        imp.total_rows = _total_rows(session, scope, imp.id)
        return imp.id


def _analyse_choices(
    session: Session,
    scope: TenantScope,
    file: CsvImportFile,
    chosen: StoredChoices,
    settings: ImportSettings,
) -> FileAnalysis:
    file.mapping = {"choices": chosen.to_json()}
    return analyse_stored(session, scope, file, settings)


def _total_rows(session: Session, scope: TenantScope, import_id: uuid.UUID) -> int:
    total = session.scalar(
        scoped(CsvImportFile, scope)
        .with_only_columns(func.coalesce(func.sum(CsvImportFile.row_count), 0))
        .where(CsvImportFile.import_id == import_id)
    )
    return int(total or 0)


def settings_of(imp: CsvImport) -> ImportSettings:
    return ImportSettings.from_dict(imp.options)


def change_file(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    position: int,
    changes: Mapping[str, Any],
) -> FileAnalysis:
    """Change a file's encoding, delimiter, header line, decimal separator, date order, entity
    or manual column mapping, and re-analyse it at once; a preview becomes stale (§9)."""
    with services.sessions.begin() as session:
        imp = get_import(session, scope, import_id)
        if imp.status not in EDITABLE:
            raise Conflict(
                f"Import {import_id} is {imp.status.value}; its files can no longer change"
            )
        file = _file_at(session, scope, import_id, position)
        current = StoredChoices.from_json((file.mapping or {}).get("choices"))
        values = asdict(current)
        values["manual"] = dict(current.manual)
        for key, value in changes.items():
            if key not in values:
                raise BadRequest(f"Unknown file setting {key}")
            values[key] = value
        if values["encoding"] not in ENCODING_CHOICES:
            raise BadRequest(f"Unknown encoding {values['encoding']}")
        if "entity" in changes and changes["entity"] != current.entity:
            values["manual"] = {}  # another entity has other fields
        chosen = StoredChoices(**values)
        settings = settings_of(imp)
        analysis = _analyse_choices(session, scope, file, chosen, settings)
        file.mapping = {"choices": chosen.to_json(), "signature": analysis.signature}
        _apply_analysis(file, analysis)
        file.updated_at = services.clock.now()
        session.flush()
        _reorder(session, scope, import_id)
        imp.total_rows = _total_rows(session, scope, import_id)
        _stale(session, scope, imp)
        return analysis


def _reorder(session: Session, scope: TenantScope, import_id: uuid.UUID) -> None:
    """Keep the files in dependency order (§10.1) after an entity changed: by entity, then by
    their previous order (upload order within an entity)."""
    files = import_files(session, scope, import_id)

    def rank(f: CsvImportFile) -> tuple[int, int]:
        entity = f.entity_type.value if f.entity_type else None
        return (
            ENTITY_ORDER.index(entity) if entity in ENTITY_ORDER else len(ENTITY_ORDER),
            f.position,
        )

    wanted = sorted(files, key=rank)
    if [f.position for f in wanted] == sorted(f.position for f in files):
        return
    for i, f in enumerate(wanted):  # two steps: positions are unique per import
        f.position = -1 - i
    session.flush()
    for i, f in enumerate(wanted):
        f.position = i
    session.flush()


def _stale(session: Session, scope: TenantScope, imp: CsvImport) -> None:
    if imp.status is CsvImportStatus.previewed:
        imp.status = CsvImportStatus.mapped
        imp.preview = None
        session.execute(
            delete(CsvImportIssue).where(
                tenant_filter(CsvImportIssue, scope),
                CsvImportIssue.import_id == imp.id,
                CsvImportIssue.phase == ImportPhase.preview,
            )
        )


def _file_at(
    session: Session, scope: TenantScope, import_id: uuid.UUID, position: int
) -> CsvImportFile:
    file = session.scalars(
        scoped(CsvImportFile, scope).where(
            CsvImportFile.import_id == import_id, CsvImportFile.position == position
        )
    ).first()
    if file is None:
        raise NotFound(f"Import {import_id} has no file {position}")
    found: CsvImportFile = file
    return found


def confirm_mapping(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    *,
    options: Mapping[str, Any] | None = None,
) -> list[Issue]:
    """The user confirmed mapping and options (status `mapped`): update the import's options,
    remember the mappings (§7.5) when asked. Returns the blocking issues (empty when none)."""
    with services.sessions.begin() as session:
        imp = get_import(session, scope, import_id)
        if imp.status not in EDITABLE:
            raise Conflict(f"Import {import_id} is {imp.status.value}")
        if options:
            merged = {**imp.options, **options}
            merged.pop("skipped_entries", None)
            settings = ImportSettings.from_dict(merged)
            imp.options = {
                **asdict(settings),
                "skipped_entries": imp.options.get("skipped_entries", []),
            }
            imp.external_source = settings.source[:100]
        settings = settings_of(imp)
        blocking: list[Issue] = []
        for file in import_files(session, scope, import_id):
            analysis = analyse_stored(session, scope, file, settings)
            blocking.extend(i for i in analysis.issues if i.severity == "error")
            if (
                settings.remember_mapping
                and analysis.mapping is not None
                and analysis.error is None
                and not analysis.blocked
            ):
                remember(session, scope, analysis, services.clock.now())
        _stale(session, scope, imp)
        imp.status = CsvImportStatus.mapped
        imp.updated_at = services.clock.now()
        return blocking


def remember(session: Session, scope: TenantScope, analysis: FileAnalysis, now: Any) -> None:
    assert analysis.mapping is not None
    entity = SyncEntity(analysis.mapping.entity)
    mapping = {str(k): v for k, v in analysis.mapping.as_positions().items()}
    options = {"delimiter": analysis.delimiter, "header_line": analysis.header_line}
    row = session.scalars(
        scoped(CsvImportMapping, scope).where(
            CsvImportMapping.entity_type == entity,
            CsvImportMapping.signature == analysis.signature,
        )
    ).first()
    if row is None:
        session.add(
            CsvImportMapping(
                id=new_id(),
                tenant_id=scope.tenant_id,
                entity_type=entity,
                signature=analysis.signature,
                mapping=mapping,
                options=options,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        row.mapping, row.options, row.updated_at = mapping, options, now


def forget_mapping(services: Services, scope: TenantScope, entity: str, signature: str) -> None:
    with services.sessions.begin() as session:
        session.execute(
            delete(CsvImportMapping).where(
                tenant_filter(CsvImportMapping, scope),
                CsvImportMapping.entity_type == SyncEntity(entity),
                CsvImportMapping.signature == signature,
            )
        )


def forget_file_mapping(
    services: Services, scope: TenantScope, import_id: uuid.UUID, position: int
) -> None:
    """ "Forget this mapping" (§7.5) on a file: delete the tenant's remembered mapping for the
    file's entity and header layout, then re-analyse the file (its columns are matched by the
    automatic rules again; a preview becomes stale)."""
    with services.sessions() as session:
        get_import(session, scope, import_id)
        file = _file_at(session, scope, import_id, position)
        entity = file.entity_type.value if file.entity_type else None
        signature = (file.mapping or {}).get("signature")
        editable = get_import(session, scope, import_id).status in EDITABLE
    if entity is None or not isinstance(signature, str):
        raise BadRequest("This file has no remembered mapping")
    with services.sessions() as session:
        if saved_mapping(session, scope, entity, signature) is None:
            raise BadRequest("No mapping is remembered for this file's columns")
    forget_mapping(services, scope, entity, signature)
    if editable:
        change_file(services, scope, import_id, position, {})


# --- starting, cancelling, resuming ---------------------------------------------------------


def blocking_issues(services: Services, scope: TenantScope, import_id: uuid.UUID) -> list[Issue]:
    """File-level errors and blocking mapping issues of every file (§8.1)."""
    with services.sessions() as session:
        imp = get_import(session, scope, import_id)
        settings = settings_of(imp)
        out: list[Issue] = []
        for file in import_files(session, scope, import_id):
            analysis = analyse_stored(session, scope, file, settings)
            if analysis.error is not None:
                out.append(analysis.error)
            out.extend(i for i in analysis.issues if i.severity == "error")
        return out


def request(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    phase: ImportPhase,
    *,
    background: bool = True,
) -> None:
    """Queue the preview or the import (status `queued`). With `background`, a worker job is
    queued in the same transaction; otherwise the caller runs it (`job.run_job`)."""
    with services.sessions.begin() as session:
        imp = get_import(session, scope, import_id)
        allowed = EDITABLE if phase is ImportPhase.preview else (*EDITABLE, *RESUMABLE)
        if imp.status not in allowed:
            raise Conflict(f"Import {import_id} is {imp.status.value}")
        settings = settings_of(imp)
        if (
            phase is ImportPhase.import_
            and not settings.skip_errors
            and imp.status is not CsvImportStatus.previewed
            and imp.status not in RESUMABLE
        ):
            raise Conflict("Run the preview first: rows with errors are not skipped")
        if (
            phase is ImportPhase.import_
            and not settings.skip_errors
            and (imp.preview or {}).get("errors", 0)
        ):
            raise Conflict("The preview found errors and rows with errors are not skipped")
        now = services.clock.now()
        if phase is ImportPhase.import_ and imp.status not in RESUMABLE:
            _reset_import(session, scope, imp)
        imp.status, imp.phase = CsvImportStatus.queued, phase
        # the rate and ETA of this run count from when it starts and from the rows done before
        imp.started_at = imp.finished_at = None
        imp.options = {
            **{k: v for k, v in imp.options.items() if k != "waiting_for"},
            "progress_base": imp.processed_rows if phase is ImportPhase.import_ else 0,
        }
        imp.cancel_requested = False
        imp.failure_reason = None
        imp.updated_at = now
        if background:
            enqueue(
                session,
                JOB_KIND,
                {"import_id": str(imp.id), "tenant_id": str(scope.tenant_id)},
                now=now,
                tenant_id=scope.tenant_id,
                wake=services.worker_wake.set,
            )


def _reset_import(session: Session, scope: TenantScope, imp: CsvImport) -> None:
    imp.processed_rows = imp.created_count = imp.updated_count = 0
    imp.skipped_count = imp.failed_count = imp.deleted_count = 0
    imp.file_counts = {}
    imp.sync_group_id = new_id()
    session.execute(
        update(CsvImportFile)
        .where(tenant_filter(CsvImportFile, scope), CsvImportFile.import_id == imp.id)
        .values(next_row=0)
    )
    session.execute(
        delete(CsvImportIssue).where(
            tenant_filter(CsvImportIssue, scope),
            CsvImportIssue.import_id == imp.id,
            CsvImportIssue.phase == ImportPhase.import_,
        )
    )


def cancel(services: Services, scope: TenantScope, import_id: uuid.UUID) -> CsvImportStatus:
    """Ask a queued or running job to stop after its current batch (§11.7). A queued job is
    cancelled at once."""
    with services.sessions.begin() as session:
        imp = get_import(session, scope, import_id)
        if imp.status is CsvImportStatus.queued:
            imp.status = (
                CsvImportStatus.cancelled
                if imp.phase is ImportPhase.import_
                else CsvImportStatus.mapped
            )
            imp.finished_at = services.clock.now()
        elif imp.status is CsvImportStatus.running:
            imp.cancel_requested = True
        else:
            raise Conflict(f"Import {import_id} is {imp.status.value}; nothing to cancel")
        return imp.status


def resume(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    *,
    background: bool = True,
) -> None:
    """Queue a failed or cancelled import again (or one whose worker was lost: its heartbeat
    is older than `import_abandon_seconds`); it continues at its resume point (§11.5)."""
    with services.sessions.begin() as session:
        imp = get_import(session, scope, import_id)
        if imp.status is CsvImportStatus.running and abandoned(services, imp):
            imp.status = CsvImportStatus.failed
            imp.lease_owner = None
            imp.failure_reason = "worker lost"
    request(services, scope, import_id, ImportPhase.import_, background=background)


def abandoned(services: Services, imp: CsvImport) -> bool:
    limit = timedelta(seconds=services.settings.import_abandon_seconds)
    beat = imp.heartbeat_at or imp.started_at
    return beat is None or services.clock.now() - beat > limit


def list_imports(
    services: Services, scope: TenantScope, *, limit: int = 50, offset: int = 0
) -> list[CsvImport]:
    with services.sessions() as session:
        rows = session.scalars(
            scoped(CsvImport, scope)
            .order_by(CsvImport.created_at.desc(), CsvImport.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        session.expunge_all()
        return list(rows)


# --- downloads ------------------------------------------------------------------------------


def stored_issues(
    session: Session,
    scope: TenantScope,
    import_id: uuid.UUID,
    phase: ImportPhase,
    *,
    severity: IssueSeverity | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[tuple[int, Issue]]:
    """(file position, issue) in report order: errors, then warnings; by file, line, column."""
    files = {f.position: f.filename for f in import_files(session, scope, import_id)}
    stmt = (
        scoped(CsvImportIssue, scope)
        .where(CsvImportIssue.import_id == import_id, CsvImportIssue.phase == phase)
        .order_by(
            CsvImportIssue.severity,
            CsvImportIssue.file_position,
            CsvImportIssue.line,
            CsvImportIssue.column_number,
            CsvImportIssue.id,
        )
    )
    if severity is not None:
        stmt = stmt.where(CsvImportIssue.severity == severity)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [
        (
            row.file_position,
            Issue(
                code=row.code,
                message=row.message,
                line=row.line,
                column=row.column,
                column_number=row.column_number,
                field=row.field,
                value=row.value,
                entity=row.entity_type.value if row.entity_type else None,
                external_id=row.external_id,
                file=files.get(row.file_position, ""),
            ),
        )
        for row in session.scalars(stmt)
    ]


def report_phase(imp: CsvImport) -> ImportPhase:
    """The issues a download shows: the import's once it started, else the preview's."""
    started = imp.phase is ImportPhase.import_ or imp.status in FINISHED
    return ImportPhase.import_ if started else ImportPhase.preview


def error_report(services: Services, scope: TenantScope, import_id: uuid.UUID) -> bytes:
    """errors.csv (§12.2): UTF-8 with BOM; `;` when the first file used `;`."""
    with services.sessions() as session:
        imp = get_import(session, scope, import_id)
        files = import_files(session, scope, import_id)
        delimiter = ";" if files and files[0].delimiter == ";" else ","
        issues = stored_issues(session, scope, import_id, report_phase(imp))
        issues.sort(key=lambda pi: issue_order(pi[0], pi[1]))
        out = io.StringIO()
        write_error_report(out, (i for _, i in issues), delimiter=delimiter)
        return out.getvalue().encode("utf-8")


def failed_rows(
    services: Services, scope: TenantScope, import_id: uuid.UUID
) -> tuple[str, bytes, str] | None:
    """The failed rows (§12.3): (file name, bytes, media type) — CSV for one file, zip for
    several; None when no row failed."""
    with services.sessions() as session:
        imp = get_import(session, scope, import_id)
        settings = settings_of(imp)
        phase = report_phase(imp)
        failures: dict[int, dict[int, Sequence[str]]] = {}
        for position, issue in stored_issues(
            session, scope, import_id, phase, severity=IssueSeverity.error
        ):
            if issue.line is not None:
                lines = failures.setdefault(position, {})
                lines[issue.line] = [*lines.get(issue.line, ()), issue.message]
        outputs: list[tuple[str, str]] = []
        purged = False
        for file in import_files(session, scope, import_id):
            if file.position in failures and file.content is None:
                purged = True  # cleared by retention (csv_import/retention.py)
            if file.position not in failures or file.content is None:
                continue
            analysis = analyse_stored(session, scope, file, settings)
            if analysis.decoded is None:
                continue
            out = io.StringIO()
            failed_rows_from_source(
                out,
                analysis.decoded.lines(),
                failures[file.position],
                delimiter=analysis.delimiter,
                header_line=analysis.header_line,
            )
            stem = file.filename.rsplit(".", 1)[0]
            outputs.append((f"{stem}-failed-rows.csv", out.getvalue()))
        if not outputs and purged:
            days = services.settings.import_file_retention_days
            raise NotFound(
                f"The uploaded files of this import were cleared after {days:g} days "
                "(retention); the error report is still available."
            )
        if not outputs:
            return None
        if len(outputs) == 1:
            name, text = outputs[0]
            return name, text.encode("utf-8"), "text/csv; charset=utf-8"
        return "failed-rows.zip", zip_files(outputs), "application/zip"


def manual_from_fields(header: Sequence[str], fields: Mapping[str, str]) -> dict[int, str]:
    """`--map FILE:HEADER=FIELD` → position → field (`-` ignores the column)."""
    out: dict[int, str] = {}
    for name, target in fields.items():
        if name not in header:
            raise BadRequest(f"No column {name!r} in the file")
        out[header.index(name)] = target or IGNORE
    return out


def progress(services: Services, scope: TenantScope, import_id: uuid.UUID) -> dict[str, Any]:
    """progress.json and `floorsync imports show` (§11.4)."""
    from floorsync.csv_import.job import progress_of

    with services.sessions() as session:
        imp = get_import(session, scope, import_id)
        files = import_files(session, scope, import_id)
        return progress_of(services, imp, files)


def unique_names(rows: Iterable[CsvImportFile]) -> list[str]:
    return [r.filename for r in rows]
