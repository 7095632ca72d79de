"""The preview and import job (CSV import §9–§11): the stored files are parsed again and their
rows go, 1,000 at a time, through the sync engine (`sync.engine.sync_records`, the one write
path), in dependency order (cells → resources → materials → jobs → parts → operations).

**Import.** Each batch is one transaction that (1) checks this process still holds the import
(a compare-and-set on `lease_owner`, so a worker that lost it writes nothing), (2) resolves the
name references only the importer can resolve (`job_number`, `material_code`, job +
`part_number`) with one query per kind, and hands an operation's part named by external id to
the engine by its id (found by the whole key, in the key index), (3) calls the engine (partial
success, each record in its own savepoint, events in the outbox of the same transaction; an
operations batch lends the engine's renderers the parents its events embed,
csv_import/lending.py), and (4) stores the batch's
issues, adds its counts to the import and to its sync-history rows, and so moves the file's
resume point (its `rows` count on the import, `next_row_of`; the file's own `next_row` is set
once the file is done). The resume point is therefore exact: after a crash, a cancel or a
failure, the job continues there; a batch that was interrupted rolled back entirely and is done again.
Rows before the resume point are parsed again (cheap) only so that duplicate keys across the
upload are still recognised. Counting invariant (§12.1): every row read lands in exactly one of
created, updated, unchanged (`skipped_count`) and failed, per file and overall.

**Preview.** The same batches run the engine in dry-run mode, each in its own transaction that
is rolled back, so no write lock is held between batches (SQLite has only one). Later files
must see what earlier ones would create (§9): the job remembers the rows of earlier files that
would be created, and before a batch replays, inside the batch's rolled-back transaction, the
ones the batch refers to (and what those refer to) — at most a few per row.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from itertools import islice
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from floorsync.bootstrap import Services
from floorsync.csv_import.analysis import FileAnalysis
from floorsync.csv_import.columns import ENTITY_ORDER
from floorsync.csv_import.detect import entity_from_name
from floorsync.csv_import.issues import Code, FileError, Issue, clip
from floorsync.csv_import.lending import LentRow, lend_parents, parts_by_key
from floorsync.csv_import.parents import FailedParents
from floorsync.csv_import.parser import (
    ImportOptions,
    ParsedRow,
    UploadKeys,
    finish_derived_id,
    parse_file,
)
from floorsync.csv_import.rate import add_sample, eta_seconds, window_rate
from floorsync.csv_import.service import (
    ImportSettings,
    StoredChoices,
    analyse_stored,
    file_choices,
    get_import,
    import_files,
    settings_of,
)
from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work, unit_of_work
from floorsync.entities.spec import get_spec
from floorsync.events.outbox import Origin
from floorsync.kit.ids import new_id
from floorsync.kit.timefmt import format_ts
from floorsync.models.bookkeeping import SyncRun
from floorsync.models.enums import (
    CsvImportStatus,
    ImportPhase,
    IssueSeverity,
    RunStatus,
    SyncEntity,
    SyncTrigger,
)
from floorsync.models.imports import CsvImport, CsvImportFile, CsvImportIssue
from floorsync.models.master import Job, Material, Part
from floorsync.sync.engine import sync_records
from floorsync.sync.options import SyncOptions
from floorsync.sync.prune import prune_snapshot
from floorsync.sync.results import RecordResult
from floorsync.sync.statistics_hook import note_after_commit

log = logging.getLogger("floorsync.csv_import")
PREVIEW_ROWS_KEPT = 500  # rows listed per class and file in the preview tabs
ACTION_CLASS = {"created": "create", "updated": "update", "skipped": "unchanged", "error": "error"}


class LostImport(Exception):
    """Another process holds the import now (it took over after our heartbeat stopped)."""


Key = tuple[str, str]  # (external_source, external_id)


@dataclass
class Outcome:
    """One row's result."""

    row: ParsedRow
    action: str  # created, updated, skipped, error
    changes: list[dict[str, Any]] | None = None
    original: dict[str, Any] | None = None  # the item before name resolution (preview memory)


@dataclass
class Remembered:
    item: dict[str, Any]
    lookups: dict[str, str]
    deps: list[tuple[str, Key]]


@dataclass
class PreviewMemory:
    """Rows of earlier files that the preview would create, by key and by name (§9)."""

    rows: dict[tuple[str, Key], Remembered] = field(default_factory=dict)
    names: dict[tuple[str, str], Key] = field(default_factory=dict)


def _name_of(entity: str, item: dict[str, Any]) -> str | None:
    value = {"jobs": "job_number", "cells": "name", "materials": "code"}.get(entity)
    if value is None:
        return None
    found = item.get(value)
    return found if isinstance(found, str) else None


@dataclass
class FileWork:
    position: int
    name: str
    entity: str
    next_row: int
    row_count: int
    analysis: FileAnalysis
    choices: StoredChoices


class Take(StrEnum):
    """What `_take` found."""

    TAKEN = "taken"  # this process runs the job now
    ELSEWHERE = "elsewhere"  # another process runs it, or it is no longer queued
    WAITING = "waiting"  # an import: another import of the tenant runs; it stays queued


def running_import(
    services: Services, session: Session, scope: TenantScope, *, besides: uuid.UUID
) -> CsvImport | None:
    """The tenant's other import (not preview) that a live process runs now (§11.3: at most
    one import per tenant runs; an abandoned one does not count, its own job takes it over)."""
    limit = timedelta(seconds=services.settings.import_abandon_seconds)
    now = services.clock.now()
    others: Sequence[CsvImport] = session.scalars(
        scoped(CsvImport, scope).where(
            CsvImport.id != besides,
            CsvImport.status == CsvImportStatus.running,
            CsvImport.phase == ImportPhase.import_,
        )
    ).all()
    for other in others:
        beat = other.heartbeat_at or other.started_at
        if beat is not None and now - beat <= limit:
            return other
    return None


def _lock_tenant_imports(session: Session, scope: TenantScope) -> None:
    """Serialise the one-import-per-tenant check: on PostgreSQL a transaction-scoped advisory
    lock per tenant (two workers could otherwise each see no running import and both start);
    SQLite's write transactions (BEGIN IMMEDIATE) are serial already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"floorsync.csv_import:{scope.tenant_id}"},
        )


def _take(services: Services, scope: TenantScope, import_id: uuid.UUID, owner: str) -> Take:
    """Make this process the import's runner: a `queued` import, or a `running` one whose
    runner stopped beating (§11.4). An import (not a preview) waits, still `queued`, while
    another import of the tenant runs."""
    with services.sessions.begin() as session:
        _lock_tenant_imports(session, scope)
        imp = session.scalars(
            scoped(CsvImport, scope).where(CsvImport.id == import_id).with_for_update()
        ).first()
        if imp is None:
            return Take.ELSEWHERE
        now = services.clock.now()
        if imp.status is CsvImportStatus.running:
            limit = timedelta(seconds=services.settings.import_abandon_seconds)
            beat = imp.heartbeat_at or imp.started_at
            if imp.lease_owner != owner and beat is not None and now - beat <= limit:
                return Take.ELSEWHERE
        elif imp.status is not CsvImportStatus.queued:
            return Take.ELSEWHERE
        if imp.phase is ImportPhase.import_:
            other = running_import(services, session, scope, besides=imp.id)
            if other is not None:
                if imp.status is CsvImportStatus.running:  # a takeover waits as a queued job
                    imp.status, imp.lease_owner, imp.locked_until = (
                        CsvImportStatus.queued,
                        None,
                        None,
                    )
                imp.options = {**imp.options, "waiting_for": str(other.id)}
                return Take.WAITING
        imp.status, imp.lease_owner, imp.heartbeat_at = CsvImportStatus.running, owner, now
        imp.locked_until = now + timedelta(seconds=services.settings.import_abandon_seconds)
        imp.started_at = imp.started_at or now
        base = imp.processed_rows if imp.phase is ImportPhase.import_ else 0
        options = {k: v for k, v in imp.options.items() if k != "waiting_for"}
        imp.options = {**options, "rate_samples": add_sample([], now.timestamp(), base)}
        if imp.sync_group_id is None:
            imp.sync_group_id = new_id()
        return Take.TAKEN


def run_job(
    services: Services,
    tenant_id: uuid.UUID,
    import_id: uuid.UUID,
    *,
    owner: str,
    stopping: Callable[[], bool] = lambda: False,
    heartbeat: Callable[[], None] | None = None,
    on_batch: Callable[[], None] | None = None,
) -> CsvImportStatus | None:
    """Run the queued preview or import (or take over an abandoned one). Returns its status
    at the end, None when another process runs it, or `queued` when it is an import that
    must wait for another import of the tenant (the caller tries again later). `stopping` is
    checked between batches (SIGTERM, Ctrl-C): the job then ends `cancelled` (import) and can
    be resumed."""
    scope = TenantScope(tenant_id)
    taken = _take(services, scope, import_id, owner)
    if taken is Take.WAITING:
        return CsvImportStatus.queued
    if taken is not Take.TAKEN:
        return None
    with services.sessions() as session:
        phase = get_import(session, scope, import_id).phase
    runner = _Runner(services, scope, import_id, owner, stopping, heartbeat, on_batch)
    try:
        if phase is ImportPhase.preview:
            return runner.preview()
        return runner.import_()
    except LostImport:
        log.warning("import %s: another process took it over", import_id)
        return None
    except Exception as exc:
        log.exception("import %s failed", import_id)
        runner.fail(f"{type(exc).__name__}: {exc}")
        return CsvImportStatus.failed


def chunks(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class _Runner:
    def __init__(
        self,
        services: Services,
        scope: TenantScope,
        import_id: uuid.UUID,
        owner: str,
        stopping: Callable[[], bool],
        heartbeat: Callable[[], None] | None,
        on_batch: Callable[[], None] | None,
    ) -> None:
        self.services, self.scope, self.import_id, self.owner = services, scope, import_id, owner
        self.stopping, self.heartbeat, self.on_batch = stopping, heartbeat, on_batch
        with services.sessions() as session:
            imp = get_import(session, scope, import_id)
            self.settings: ImportSettings = settings_of(imp)
            self.created_by = imp.created_by
            self.group_id = imp.sync_group_id or new_id()
            self.started_at = imp.started_at
            self.files = [
                FileWork(
                    f.position,
                    f.filename,
                    f.entity_type.value if f.entity_type else "",
                    next_row_of(imp, f),
                    f.row_count or 0,
                    analyse_stored(session, scope, f, self.settings),
                    StoredChoices.from_json((f.mapping or {}).get("choices")),
                )
                for f in import_files(session, scope, import_id)
            ]
        self.options = ImportOptions(
            source=self.settings.source,
            time_zone=self.settings.time_zone,
            empty_clears=self.settings.empty_clears,
            derive_ids=self.settings.derive_ids,
        )
        self.keys: dict[str, UploadKeys] = {e: UploadKeys() for e in ENTITY_ORDER}
        self.failed_files: dict[str, list[str]] = {}  # entity → unreadable files
        self.parents = FailedParents()  # failed rows and files that later rows may refer to
        self.failed_lines = self._failed_lines()  # file position → lines that failed (resume)
        for fw in self.files:  # unreadable files come last (§10.1) but their rows are missed
            if fw.analysis.error is not None:  # by every later entity: known from the start
                self._failed_file(fw, count=False)

    # --- shared -------------------------------------------------------------------------

    def _failed_lines(self) -> dict[int, set[int]]:
        """Lines whose rows failed in committed batches of this import (for PARENT_FAILED
        after a resume: rows before the resume point are parsed again but not sent)."""
        with self.services.sessions() as session:
            found = session.execute(
                scoped(CsvImportIssue, self.scope)
                .with_only_columns(CsvImportIssue.file_position, CsvImportIssue.line)
                .where(
                    CsvImportIssue.import_id == self.import_id,
                    CsvImportIssue.phase == ImportPhase.import_,
                    CsvImportIssue.severity == IssueSeverity.error,
                    CsvImportIssue.line.is_not(None),
                )
                .distinct()
            ).all()
        out: dict[int, set[int]] = {}
        for position, line in found:
            if line is not None:
                out.setdefault(position, set()).add(line)
        return out

    def _failed_file(self, fw: FileWork, *, count: bool = True) -> None:
        if count:
            self.failed_files.setdefault(fw.entity, []).append(fw.name)
        entity = fw.entity or fw.choices.entity or entity_from_name(fw.name)
        if entity and fw.name not in self.parents.files.get(entity, []):
            self.parents.add_file(entity, fw.name)

    def _skip_done(self, fw: FileWork, rows: Iterable[ParsedRow]) -> None:
        """Rows before the resume point: their keys are claimed by parsing them; the ones that
        failed are remembered for PARENT_FAILED."""
        failed = self.failed_lines.get(fw.position, set())
        for row in rows:
            if row.line in failed:
                self.parents.add_row(fw.entity, row.item, row.lookups, fw.name, row.line)

    def _work(self) -> Any:
        return unit_of_work(
            self.services.sessions,
            self.services.outbox,
            self.scope,
            origin=Origin(channel="csv_import", api_key_id=self.created_by),
        )

    def _parse(self, fw: FileWork) -> Iterator[ParsedRow]:
        analysis = fw.analysis
        assert analysis.decoded is not None
        parse = parse_file(
            analysis.decoded.lines(),
            fw.entity,
            settings=analysis.settings(file_choices(fw.choices, self.settings)),
            options=self.options,
            mapping=analysis.mapping,
            file_name=fw.name,
            keys=self.keys[fw.entity],
        )
        self.file_warnings = list(parse.warnings)
        return iter(parse)

    def _file_issue(self, fw: FileWork) -> list[Issue]:
        """The file-level or blocking mapping issues that keep a file from being imported."""
        a = fw.analysis
        if a.error is not None:
            return [a.error.at(file=fw.name)]
        if not fw.entity or a.mapping is None:
            return [
                Issue(Code.ENTITY_UNKNOWN, "Select the kind of data in this file", file=fw.name)
            ]
        return [i for i in a.issues if i.severity == "error"]

    def _guard(self, session: Session) -> bool:
        """Still ours? Extends the heartbeat; returns whether a cancel was requested."""
        now = self.services.clock.now()
        done = session.execute(
            update(CsvImport)
            .where(
                tenant_filter(CsvImport, self.scope),
                CsvImport.id == self.import_id,
                CsvImport.lease_owner == self.owner,
                CsvImport.status == CsvImportStatus.running,
            )
            .values(
                heartbeat_at=now,
                locked_until=now + timedelta(seconds=self.services.settings.import_abandon_seconds),
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise LostImport(str(self.import_id))
        return bool(
            session.scalar(
                scoped(CsvImport, self.scope)
                .with_only_columns(CsvImport.cancel_requested)
                .where(CsvImport.id == self.import_id)
            )
        )

    def _store_issues(
        self, session: Session, phase: ImportPhase, position: int, issues: Sequence[Issue]
    ) -> None:
        if not issues:
            return
        now = self.services.clock.now()
        session.execute(
            insert(CsvImportIssue),
            [
                {
                    "id": new_id(),
                    "tenant_id": self.scope.tenant_id,
                    "import_id": self.import_id,
                    "phase": phase,
                    "file_position": position,
                    "line": i.line,
                    "column": (i.column or None) and i.column[:255],
                    "column_number": i.column_number,
                    "field": (i.field or None) and i.field[:100],
                    "entity_type": SyncEntity(i.entity) if i.entity in ENTITY_ORDER else None,
                    "external_id": (i.external_id or None) and i.external_id[:255],
                    "severity": IssueSeverity(i.severity),
                    "code": str(i.code)[:64],
                    "message": i.message,
                    "value": clip(i.value),
                    "created_at": now,
                }
                for i in issues
            ],
        )

    def fail(self, reason: str) -> None:
        with self.services.sessions.begin() as session:
            imp = get_import(session, self.scope, self.import_id)
            if imp.lease_owner != self.owner:
                return
            now = self.services.clock.now()
            if imp.phase is ImportPhase.preview:
                imp.status = CsvImportStatus.mapped
            else:
                imp.status = CsvImportStatus.failed
                self._close_runs(session, RunStatus.failed, now)
            imp.failure_reason = reason[:2000]
            imp.lease_owner, imp.locked_until, imp.finished_at = None, None, now

    # --- the rows of one batch ----------------------------------------------------------

    def _process(
        self,
        work: Work,
        fw_entity: str,
        file_name: str,
        mapping: Any,
        rows: Sequence[ParsedRow],
        *,
        dry_run: bool,
        claim: bool = True,
        remember: bool = True,
    ) -> list[Outcome]:
        """`remember`: keep each row's item as read (a preview whose later files may refer to
        this one's rows, `_remember`)."""
        outcomes: dict[int, Outcome] = {}
        good: list[ParsedRow] = []
        for index, row in enumerate(rows):
            if row.ok:
                good.append(row)
            else:
                outcomes[index] = Outcome(row, "error")
        pending = {id(row) for row in good if row.id_pending}
        originals = {id(row): dict(row.item) for row in good} if dry_run and remember else {}
        parts_read = _resolve(work.session, self.scope, fw_entity, good, mapping)
        for row in good:
            if row.ok and row.id_pending:
                row.issues.append(
                    Issue(
                        Code.CANNOT_DERIVE_ID,
                        "The external id cannot be derived: the referenced record was not found",
                        line=row.line,
                        field="external_id",
                        entity=fw_entity,
                        file=file_name,
                    )
                )
            elif claim and row.ok and id(row) in pending:
                self.keys[fw_entity].claim(row, file_name)
        to_send = [row for row in good if row.ok]
        report = None
        if to_send:
            items = [row.item for row in to_send]
            # a dry run renders no events: nothing to lend
            lend = fw_entity if not dry_run else ""
            with lend_parents(work.session, self.scope, lend, items, parts_read):
                report = sync_records(
                    work,
                    get_spec(fw_entity),
                    items,
                    SyncOptions(dry_run=dry_run, record_history=False),
                )
        if report is not None and not dry_run:
            # Planner statistics for the tables the batch grew (db/statistics.py), as the sync
            # service notes them: without, PostgreSQL planned an operations import's prefetch
            # from no statistics at all and it took seconds per batch.
            note_after_commit(work, [report])
        results: dict[int, RecordResult] = {}
        if report is not None:
            results = {id(row): result for row, result in zip(to_send, report.results, strict=True)}
        out: list[Outcome] = []
        for index, row in enumerate(rows):
            if index in outcomes:
                out.append(outcomes[index])
                continue
            result = results.get(id(row))
            if result is None:
                out.append(Outcome(row, "error"))
                continue
            if result.error is not None:
                row.issues.extend(_engine_issues(row, result, mapping, fw_entity, file_name))
                out.append(Outcome(row, "error"))
            else:
                original = originals.get(id(row))
                if original is not None:
                    original["external_id"] = row.item.get("external_id")
                out.append(Outcome(row, result.action, result.changes, original))
        for o in out:  # a reference to a row that failed earlier is PARENT_FAILED (§5.3)
            if o.action == "error":
                o.row.issues[:] = self.parents.rewrite(o.row.issues, o.row.item, o.row.lookups)
                self.parents.add_row(fw_entity, o.row.item, o.row.lookups, file_name, o.row.line)
        return out

    # --- import -------------------------------------------------------------------------

    def import_(self) -> CsvImportStatus:
        for fw in self.files:
            if self.stopping():
                return self._finish(cancelled=True)
            problems = self._file_issue(fw)
            if problems:
                self._failed_file(fw)
                if fw.next_row == 0:
                    self._record_file_problem(fw, problems)
                continue
            if fw.next_row >= fw.row_count and fw.next_row > 0:
                self._replay_keys(fw)
                continue
            try:
                stopped = self._import_file(fw)
            except FileError as exc:
                self._failed_file(fw)
                self._record_file_problem(fw, [exc.issue.at(file=fw.name)])
                continue
            if stopped:
                return self._finish(cancelled=True)
        return self._finish(cancelled=False)

    def _replay_keys(self, fw: FileWork) -> None:
        """A file already done: parse it only to remember its keys (duplicates, snapshot) and
        its failed rows (PARENT_FAILED)."""
        self._skip_done(fw, self._parse(fw))

    def _record_file_problem(self, fw: FileWork, problems: Sequence[Issue]) -> None:
        with self._work() as work:
            self._guard(work.session)
            if fw.next_row == 0:
                self._store_issues(work.session, ImportPhase.import_, fw.position, problems)
                self._store_next_row(work.session, fw, max(fw.row_count, 1))
        fw.next_row = max(fw.row_count, 1)

    def _import_file(self, fw: FileWork) -> bool:
        """Import one file from its resume point; True when stopped (cancel, shutdown)."""
        rows = self._parse(fw)
        self._skip_done(fw, islice(rows, fw.next_row))  # before the resume point: keys only
        first = fw.next_row == 0
        for batch in chunks(rows, self.settings.chunk_size):
            if self.stopping():
                return True
            with self._work() as work:
                if self._guard(work.session):
                    work.discard()
                    return True
                outcomes = self._process(
                    work, fw.entity, fw.name, fw.analysis.mapping, batch, dry_run=False
                )
                issues = [i for o in outcomes for i in o.row.issues]
                if first:
                    issues = list(self.file_warnings) + issues
                    first = False
                self._store_issues(work.session, ImportPhase.import_, fw.position, issues)
                self._count(work, fw, outcomes)
            fw.next_row += len(batch)
            if self.heartbeat is not None:
                self.heartbeat()
            if self.on_batch is not None:
                self.on_batch()
        with self._work() as work:  # the file is done: its row learns it once
            self._guard(work.session)
            self._store_next_row(work.session, fw, fw.next_row)
        return False

    def _store_next_row(self, session: Session, fw: FileWork, next_row: int) -> None:
        """The file's resume point on its own row (which holds the uploaded bytes, so it is
        written when a file is done, not per batch)."""
        session.execute(
            update(CsvImportFile)
            .where(
                tenant_filter(CsvImportFile, self.scope),
                CsvImportFile.import_id == self.import_id,
                CsvImportFile.position == fw.position,
            )
            .values(next_row=next_row)
        )

    def _count(self, work: Work, fw: FileWork, outcomes: Sequence[Outcome]) -> None:
        counts = Counter(o.action for o in outcomes)
        created, updated = counts["created"], counts["updated"]
        skipped, failed = counts["skipped"], counts["error"]
        session = work.session
        imp = session.scalars(
            scoped(CsvImport, self.scope).where(CsvImport.id == self.import_id)
        ).one()
        imp.processed_rows += len(outcomes)
        imp.created_count += created
        imp.updated_count += updated
        imp.skipped_count += skipped
        imp.failed_count += failed
        per_file = dict(imp.file_counts or {})
        mine = dict(per_file.get(str(fw.position), {}))
        for name, value in (
            ("rows", len(outcomes)),
            ("created", created),
            ("updated", updated),
            ("unchanged", skipped),
            ("failed", failed),
        ):
            mine[name] = mine.get(name, 0) + value
        per_file[str(fw.position)] = mine
        imp.file_counts = per_file
        imp.updated_at = self.services.clock.now()
        _sample(imp, imp.updated_at.timestamp(), imp.processed_rows)
        # The file's resume point moves with its `rows` count here (next_row_of), not in the
        # file's own row: that row holds the uploaded bytes, and SQLite rewrites a whole row
        # on any update — a 9 MiB file's bytes written twice (journal and table) per batch.
        run = self._run_row(session, fw.entity)
        run.total_records += len(outcomes)
        run.created_count += created
        run.updated_count += updated
        run.skipped_count += skipped
        run.error_count += failed
        if failed and len(run.errors) < 100:
            run.errors = (
                list(run.errors)
                + [
                    {
                        "index": o.row.line,
                        "external_id": o.row.item.get("external_id"),
                        "code": next(
                            (str(i.code) for i in o.row.issues if i.severity == "error"), ""
                        ),
                        "message": next(
                            (i.message for i in o.row.issues if i.severity == "error"), ""
                        ),
                    }
                    for o in outcomes
                    if o.action == "error"
                ][: 100 - len(run.errors)]
            )

    def _run_row(self, session: Session, entity: str) -> SyncRun:
        run = session.scalars(
            scoped(SyncRun, self.scope).where(
                SyncRun.group_id == self.group_id, SyncRun.entity_type == SyncEntity(entity)
            )
        ).first()
        if run is None:
            now = self.services.clock.now()
            run = SyncRun(
                id=new_id(),
                tenant_id=self.scope.tenant_id,
                group_id=self.group_id,
                entity_type=SyncEntity(entity),
                trigger=SyncTrigger.csv_import,
                source=self.settings.source[:100],
                status=RunStatus.running,
                options={"csv_import_id": str(self.import_id), "snapshot": self.settings.snapshot},
                total_records=0,
                created_count=0,
                updated_count=0,
                skipped_count=0,
                deleted_count=0,
                error_count=0,
                errors=[],
                api_key_id=self.created_by,
                csv_import_id=self.import_id,
                started_at=self.started_at or now,
            )
            session.add(run)
            session.flush()
        return run

    def _close_runs(self, session: Session, status: RunStatus | None, now: Any) -> list[SyncRun]:
        runs = list(
            session.scalars(scoped(SyncRun, self.scope).where(SyncRun.group_id == self.group_id))
        )
        for run in runs:
            run.status = status or (
                RunStatus.completed
                if run.error_count == 0
                else RunStatus.failed
                if run.error_count == run.total_records
                else RunStatus.partial
            )
            run.completed_at = now
            run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
        return runs

    def _finish(self, *, cancelled: bool) -> CsvImportStatus:
        """The last transaction: snapshot deletions (§10.3), the final history, the summary
        events, the import's status."""
        with self._work() as work:
            self._guard(work.session)
            session = work.session
            imp = session.scalars(
                scoped(CsvImport, self.scope).where(CsvImport.id == self.import_id)
            ).one()
            now = self.services.clock.now()
            if cancelled:  # the history rows stay `running` until the import is resumed
                imp.status = CsvImportStatus.cancelled
            else:
                if self.settings.snapshot:
                    imp.deleted_count = self._snapshot(work)
                runs = self._close_runs(session, None, now)
                self._summary_events(work, runs, now)
                imp.status = (
                    CsvImportStatus.completed if imp.failed_count == 0 else CsvImportStatus.partial
                )
            imp.cancel_requested = False
            imp.lease_owner, imp.locked_until, imp.finished_at = None, None, now
            imp.updated_at = now
            status: CsvImportStatus = imp.status
        return status

    def _snapshot(self, work: Work) -> int:
        """Soft-delete, per entity with files in the upload, the live records of the sources
        in its rows that are in none of its files (failed rows' keys count as present)."""
        deleted = 0
        by_entity: dict[str, set[Key]] = {}
        for entity in ENTITY_ORDER:
            if any(fw.entity == entity for fw in self.files) and not self.failed_files.get(entity):
                by_entity[entity] = set(self.keys[entity]._seen)
        for entity in reversed(ENTITY_ORDER):
            keys = by_entity.get(entity)
            if not keys:
                continue
            pruned = prune_snapshot(work, get_spec(entity), keys)
            deleted += len(pruned)
            run = self._run_row(work.session, entity)
            run.deleted_count += len(pruned)
        return deleted

    def _summary_events(self, work: Work, runs: Sequence[SyncRun], now: Any) -> None:
        wrote = [r for r in runs if r.created_count or r.updated_count or r.deleted_count]
        for run in wrote:
            counts = {
                "total": run.total_records,
                "created": run.created_count,
                "updated": run.updated_count,
                "skipped": run.skipped_count,
                "deleted": run.deleted_count,
                "errors": run.error_count,
            }
            work.record(
                f"sync.{run.entity_type.value}.completed",
                "sync",
                run.id,
                {
                    "sync_run_id": str(run.id),
                    "group_id": str(self.group_id),
                    "entity_type": run.entity_type.value,
                    "trigger": SyncTrigger.csv_import.value,
                    "source": run.source,
                    **counts,
                    "summary": dict(counts),
                    "duration_ms": run.duration_ms,
                    "csv_import_id": str(self.import_id),
                    "synced_at": format_ts(now),
                },
                external_source=run.source,
            )
        if len(runs) >= 2 and wrote:
            work.record(
                "sync.batch.completed",
                "sync",
                self.group_id,
                {
                    "group_id": str(self.group_id),
                    "trigger": SyncTrigger.csv_import.value,
                    "entities": [r.entity_type.value for r in runs],
                    "total_records": sum(r.total_records for r in runs),
                    "total_created": sum(r.created_count for r in runs),
                    "total_updated": sum(r.updated_count for r in runs),
                    "total_skipped": sum(r.skipped_count for r in runs),
                    "total_deleted": sum(r.deleted_count for r in runs),
                    "total_errors": sum(r.error_count for r in runs),
                    "csv_import_id": str(self.import_id),
                    "source": self.settings.source,
                    "synced_at": format_ts(now),
                },
                external_source=self.settings.source,
            )

    # --- preview ------------------------------------------------------------------------

    def preview(self) -> CsvImportStatus:
        memory = PreviewMemory()
        summary: dict[str, Any] = {"files": {}, "rows": {}, "totals": Counter(), "errors": 0}
        processed = 0
        with self.services.sessions.begin() as session:
            session.execute(
                CsvImportIssue.__table__.delete().where(  # type: ignore[attr-defined]
                    tenant_filter(CsvImportIssue, self.scope),
                    CsvImportIssue.import_id == self.import_id,
                    CsvImportIssue.phase == ImportPhase.preview,
                )
            )
            self._guard(session)
            imp = get_import(session, self.scope, self.import_id)
            imp.processed_rows = imp.created_count = imp.updated_count = 0
            imp.skipped_count = imp.failed_count = imp.deleted_count = 0
        for index, fw in enumerate(self.files):
            # Only a later file can refer to this file's rows (dependency order, §10.1).
            remember = index < len(self.files) - 1
            counts: Counter[str] = Counter()
            listed: dict[str, list[dict[str, Any]]] = {}
            summary["files"][str(fw.position)] = counts
            summary["rows"][str(fw.position)] = listed
            problems = self._file_issue(fw)
            if problems:
                self._preview_progress(processed, [], fw.position, problems)
                self._failed_file(fw)
                continue
            try:
                rows = self._parse(fw)
                first = True
                for batch in chunks(rows, self.settings.chunk_size):
                    if self.stopping():
                        return self._preview_stopped()
                    with self._work() as work:
                        self._replay(work, fw.entity, batch, memory)
                        outcomes = self._process(
                            work,
                            fw.entity,
                            fw.name,
                            fw.analysis.mapping,
                            batch,
                            dry_run=True,
                            remember=remember,
                        )
                        work.discard()
                    for o in outcomes:
                        klass = ACTION_CLASS[o.action]
                        counts[klass] += 1
                        kept = listed.setdefault(klass, [])
                        if len(kept) < PREVIEW_ROWS_KEPT:
                            entry: dict[str, Any] = {
                                "line": o.row.line,
                                "external_id": o.row.item.get("external_id"),
                            }
                            if o.changes:
                                entry["changes"] = o.changes
                            kept.append(entry)
                        if o.action == "created" and o.original is not None:
                            self._remember(memory, fw.entity, o.row, o.original)
                    issues = [i for o in outcomes for i in o.row.issues]
                    if first:
                        issues = list(self.file_warnings) + issues
                        first = False
                    processed += len(batch)
                    cancel = self._preview_progress(processed, outcomes, fw.position, issues)
                    if cancel:
                        return self._preview_stopped()
            except FileError as exc:
                self._failed_file(fw)
                self._preview_progress(processed, [], fw.position, [exc.issue.at(file=fw.name)])
        if self.settings.snapshot:
            for entity, count in self._snapshot_preview().items():
                for fw in self.files:
                    if fw.entity == entity:
                        summary["files"][str(fw.position)]["delete"] += count
                        break
        totals: Counter[str] = Counter()
        for counts in summary["files"].values():
            totals.update(counts)
        summary["totals"] = dict(totals)
        summary["errors"] = totals["error"]
        summary["files"] = {k: dict(v) for k, v in summary["files"].items()}
        with self.services.sessions.begin() as session:
            self._guard(session)
            imp = get_import(session, self.scope, self.import_id)
            imp.preview = summary
            imp.status = CsvImportStatus.previewed
            imp.lease_owner, imp.locked_until = None, None
            imp.finished_at = self.services.clock.now()
            return imp.status

    def _preview_stopped(self) -> CsvImportStatus:
        with self.services.sessions.begin() as session:
            imp = get_import(session, self.scope, self.import_id)
            imp.status, imp.cancel_requested = CsvImportStatus.mapped, False
            imp.lease_owner, imp.locked_until = None, None
            return imp.status

    def _preview_progress(
        self,
        processed: int,
        outcomes: Sequence[Outcome],
        position: int,
        issues: Sequence[Issue],
    ) -> bool:
        counts = Counter(o.action for o in outcomes)
        with self.services.sessions.begin() as session:
            cancel = self._guard(session)
            self._store_issues(session, ImportPhase.preview, position, issues)
            imp = get_import(session, self.scope, self.import_id)
            imp.processed_rows = processed
            _sample(imp, self.services.clock.now().timestamp(), processed)
            imp.created_count += counts["created"]
            imp.updated_count += counts["updated"]
            imp.skipped_count += counts["skipped"]
            imp.failed_count += counts["error"]
        if self.on_batch is not None:
            self.on_batch()
        if self.heartbeat is not None:
            self.heartbeat()
        return cancel

    def _snapshot_preview(self) -> dict[str, int]:
        """Per entity: how many live records the snapshot would delete."""
        out: dict[str, int] = {}
        with self.services.sessions() as session:
            for entity in ENTITY_ORDER:
                if not any(fw.entity == entity for fw in self.files) or self.failed_files.get(
                    entity
                ):
                    continue
                keys = self.keys[entity]._seen
                by_source: dict[str, set[str]] = {}
                for source, ext in keys:
                    by_source.setdefault(source, set()).add(ext)
                if not by_source:
                    continue
                model = get_spec(entity).model
                stmt = (
                    scoped(model, self.scope, include_deleted=False)
                    .with_only_columns(model.external_source, model.external_id)
                    .where(model.external_source.in_(by_source))
                )
                out[entity] = sum(
                    1 for r in session.execute(stmt) if r.external_id not in by_source[r[0]]
                )
        return out

    def _remember(
        self, memory: PreviewMemory, entity: str, row: ParsedRow, original: dict[str, Any]
    ) -> None:
        key = row.key
        if key is None:
            return
        deps = _memory_refs(entity, original, row.lookups, memory)
        memory.rows[(entity, key)] = Remembered(original, dict(row.lookups), deps)
        name = _name_of(entity, row.item)
        if name is not None:
            memory.names[(entity, name)] = key
        part_number = row.item.get("part_number")
        if entity != "parts" or not isinstance(part_number, str):
            return
        job_numbers = {row.lookups.get("job_number")}
        job_keys: set[Key] = set()
        if isinstance(original.get("job_external_id"), str):
            src = str(original.get("job_external_source") or key[0])
            job_keys.add((src, original["job_external_id"]))
        for dep_entity, dep in deps:
            if dep_entity == "jobs":
                job_keys.add(dep)
                job_numbers.add(memory.rows[("jobs", dep)].item.get("job_number"))
        for number in job_numbers:
            if isinstance(number, str):
                memory.names[("parts", f"num\x00{number}\x00{part_number}")] = key
        for src, ext in job_keys:
            memory.names[("parts", f"key\x00{src}\x00{ext}\x00{part_number}")] = key

    def _replay(
        self, work: Work, entity: str, batch: Sequence[ParsedRow], memory: PreviewMemory
    ) -> None:
        """Write, in the batch's rolled-back transaction, the not-yet-existing records of
        earlier files that the batch refers to (and what those refer to)."""
        if not memory.rows:
            return
        needed: set[tuple[str, Key]] = set()
        stack = [
            ref
            for row in batch
            if row.ok
            for ref in _memory_refs(entity, row.item, row.lookups, memory)
        ]
        while stack:
            ref = stack.pop()
            if ref in needed or ref not in memory.rows:
                continue
            needed.add(ref)
            stack.extend(memory.rows[ref].deps)
        if not needed:
            return
        for parent in ENTITY_ORDER:
            group = [memory.rows[ref] for ref in sorted(needed) if ref[0] == parent]
            if not group:
                continue
            rows = [ParsedRow(0, dict(r.item), dict(r.lookups), [], []) for r in group]
            _resolve(work.session, self.scope, parent, rows, None)
            items = [row.item for row in rows if row.ok]
            if items:
                sync_records(
                    work,
                    get_spec(parent),
                    items,
                    SyncOptions(dry_run=True, record_history=False),
                )


def next_row_of(imp: CsvImport, file: CsvImportFile) -> int:
    """Where the import of a file resumes: the rows its committed batches counted
    (`file_counts[position].rows`, moved in each batch's transaction), or the file's
    `next_row` (set when the file is done or cannot be read). Both start at 0 together
    (service._reset_import)."""
    counted = (imp.file_counts or {}).get(str(file.position), {}).get("rows", 0)
    return max(file.next_row, int(counted))


def _sample(imp: CsvImport, at: float, done: int) -> None:
    """Add a progress sample for the rate over the last 10 s (csv_import/rate.py)."""
    samples = (imp.options or {}).get("rate_samples") or []
    imp.options = {**(imp.options or {}), "rate_samples": add_sample(samples, at, done)}


def _memory_refs(
    entity: str, item: dict[str, Any], lookups: dict[str, str], memory: PreviewMemory
) -> list[tuple[str, Key]]:
    """The remembered rows a row refers to (§5.3 forms the preview can find in memory)."""
    source = item.get("external_source", "csv")
    refs: list[tuple[str, Key]] = []

    def by_ext(target: str, prefix: str, where: dict[str, Any]) -> Key | None:
        ext = where.get(f"{prefix}_external_id")
        if isinstance(ext, str):
            key = (str(where.get(f"{prefix}_external_source") or source), ext)
            return key if (target, key) in memory.rows else None
        return None

    def by_name(target: str, name: Any) -> Key | None:
        return memory.names.get((target, name)) if isinstance(name, str) else None

    if entity == "parts":
        job = by_ext("jobs", "job", item) or by_name("jobs", lookups.get("job_number"))
        if job:
            refs.append(("jobs", job))
        material = by_ext("materials", "material", item) or by_name(
            "materials", lookups.get("material_code")
        )
        if material:
            refs.append(("materials", material))
    elif entity == "operations":
        part = by_ext("parts", "part", item)
        if part is None and "part_number" in lookups:
            number = lookups["part_number"]
            if "job_number" in lookups:
                part = memory.names.get(("parts", f"num\x00{lookups['job_number']}\x00{number}"))
            elif "job_external_id" in lookups:
                src = str(lookups.get("job_external_source") or source)
                ext = lookups["job_external_id"]
                part = memory.names.get(("parts", f"key\x00{src}\x00{ext}\x00{number}"))
        if part:
            refs.append(("parts", part))
        cell = by_ext("cells", "cell", item) or by_name("cells", item.get("cell_name"))
        if cell:
            refs.append(("cells", cell))
    return refs


# --- name references the importer resolves (§5.3) ------------------------------------------


def _not_found(row: ParsedRow, mapping: Any, name: str, message: str) -> None:
    column = mapping.column_for(name) if mapping is not None else None
    row.issues.append(
        Issue(
            Code.REFERENCE_NOT_FOUND,
            message,
            line=row.line,
            column=column.header if column else None,
            column_number=column.number if column else None,
            field=name,
            value=clip(str(row.lookups.get(name) or row.item.get(name) or "")) or None,
            entity=None,
            external_id=row.item.get("external_id")
            if isinstance(row.item.get("external_id"), str)
            else None,
        )
    )


def _jobs(
    session: Session,
    scope: TenantScope,
    *,
    numbers: Iterable[str] = (),
    ids: Iterable[uuid.UUID] = (),
    keys: Iterable[Key] = (),
) -> tuple[
    dict[str, tuple[uuid.UUID, str]], dict[uuid.UUID, str], dict[Key, tuple[uuid.UUID, str]]
]:
    """Live jobs by number, by id and by external key: (id, job_number)."""
    by_number: dict[str, tuple[uuid.UUID, str]] = {}
    by_id: dict[uuid.UUID, str] = {}
    by_key: dict[Key, tuple[uuid.UUID, str]] = {}
    base = scoped(Job, scope, include_deleted=False).with_only_columns(
        Job.id, Job.job_number, Job.external_source, Job.external_id
    )
    numbers, ids = set(numbers), set(ids)
    if numbers:
        for r in session.execute(base.where(Job.job_number.in_(numbers))):
            by_number[r.job_number] = (r.id, r.job_number)
    if ids:
        for r in session.execute(base.where(Job.id.in_(ids))):
            by_id[r.id] = r.job_number
    grouped: dict[str, set[str]] = {}
    for source, ext in keys:
        grouped.setdefault(source, set()).add(ext)
    for source, exts in grouped.items():
        stmt = base.where(Job.external_source == source, Job.external_id.in_(exts))
        for r in session.execute(stmt):
            by_key[(source, r.external_id)] = (r.id, r.job_number)
    return by_number, by_id, by_key


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _resolve(
    session: Session, scope: TenantScope, entity: str, rows: Sequence[ParsedRow], mapping: Any
) -> dict[uuid.UUID, LentRow]:
    """Turn the importer's name references into ids on the items, one query per kind, and
    finish derived external ids that need the referenced record's numbers (§5.2). Returns
    the parts an operations batch read on the way (csv_import/lending.py)."""
    if entity == "parts":
        _resolve_parts(session, scope, rows, mapping)
    elif entity == "operations":
        return _resolve_operations(session, scope, rows, mapping)
    return {}


def _resolve_parts(
    session: Session, scope: TenantScope, rows: Sequence[ParsedRow], mapping: Any
) -> None:
    by_name = [r for r in rows if "job_number" in r.lookups and not _has_job(r.item)]
    pending = [r for r in rows if r.id_pending and _has_job(r.item)]
    numbers = {r.lookups["job_number"] for r in by_name}
    ids = {u for r in pending if (u := _uuid(r.item.get("job_id"))) is not None}
    keys = {
        (
            str(r.item.get("job_external_source") or r.item["external_source"]),
            r.item["job_external_id"],
        )
        for r in pending
        if "job_external_id" in r.item and "job_id" not in r.item
    }
    jobs_by_number, jobs_by_id, jobs_by_key = _jobs(
        session, scope, numbers=numbers, ids=ids, keys=keys
    )
    for row in by_name:
        found = jobs_by_number.get(row.lookups["job_number"])
        if found is None:
            _not_found(
                row,
                mapping,
                "job_number",
                f"No job numbered {row.lookups['job_number']!r} in this tenant or earlier in this import",
            )
            continue
        row.item["job_id"] = str(found[0])
    for row in pending:
        number: str | None
        if "job_id" in row.item:
            u = _uuid(row.item["job_id"])
            number = jobs_by_id.get(u) if u else None
        else:
            key = (
                str(row.item.get("job_external_source") or row.item["external_source"]),
                row.item["job_external_id"],
            )
            hit = jobs_by_key.get(key)
            number = hit[1] if hit else None
        if number is not None:
            finish_derived_id(row, "parts", job_number=number, part_number="")
    codes = {
        r.lookups["material_code"]
        for r in rows
        if "material_code" in r.lookups
        and "material_id" not in r.item
        and "material_external_id" not in r.item
    }
    if codes:
        found_codes = {
            m.code: m.id
            for m in session.execute(
                scoped(Material, scope, include_deleted=False)
                .with_only_columns(Material.id, Material.code)
                .where(Material.code.in_(codes))
            )
        }
        for row in rows:
            code = row.lookups.get("material_code")
            if code is None or "material_id" in row.item or "material_external_id" in row.item:
                continue
            if code in found_codes:
                row.item["material_id"] = str(found_codes[code])
            else:
                _not_found(
                    row,
                    mapping,
                    "material_code",
                    f"No material with code {code!r} in this tenant or earlier in this import",
                )


def _has_job(item: dict[str, Any]) -> bool:
    return "job_id" in item or "job_external_id" in item


def _resolve_operations(
    session: Session, scope: TenantScope, rows: Sequence[ParsedRow], mapping: Any
) -> dict[uuid.UUID, LentRow]:
    by_part_ref = [r for r in rows if "part_id" in r.item or "part_external_id" in r.item]
    by_job_part = [
        r
        for r in rows
        if not ("part_id" in r.item or "part_external_id" in r.item) and "part_number" in r.lookups
    ]
    # the job of a job + part_number reference
    numbers = {
        r.lookups["job_number"]
        for r in by_job_part
        if "job_number" in r.lookups and not _has_job(r.lookups)
    }
    ids = {u for r in by_job_part if (u := _uuid(r.lookups.get("job_id"))) is not None}
    keys = {
        (
            str(r.lookups.get("job_external_source") or r.item["external_source"]),
            r.lookups["job_external_id"],
        )
        for r in by_job_part
        if "job_external_id" in r.lookups and "job_id" not in r.lookups
    }
    jobs_by_number, jobs_by_id, jobs_by_key = _jobs(
        session, scope, numbers=numbers, ids=ids, keys=keys
    )
    wanted: dict[int, tuple[uuid.UUID, str]] = {}
    for row in by_job_part:
        job: tuple[uuid.UUID, str] | None
        if "job_id" in row.lookups:
            u = _uuid(row.lookups["job_id"])
            job = (u, jobs_by_id[u]) if u is not None and u in jobs_by_id else None
            field_name = "job_id"
        elif "job_external_id" in row.lookups:
            key = (
                str(row.lookups.get("job_external_source") or row.item["external_source"]),
                row.lookups["job_external_id"],
            )
            job = jobs_by_key.get(key)
            field_name = "job_external_id"
        else:
            job = jobs_by_number.get(row.lookups.get("job_number", ""))
            field_name = "job_number"
        if job is None:
            value = row.lookups.get(field_name, "")
            _not_found(
                row,
                mapping,
                field_name,
                f"No job {value!r} in this tenant or earlier in this import",
            )
            continue
        wanted[id(row)] = job
    job_ids = {j[0] for j in wanted.values()}
    part_numbers = {r.lookups["part_number"] for r in by_job_part if id(r) in wanted}
    parts: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    if job_ids and part_numbers:
        stmt = (
            scoped(Part, scope, include_deleted=False)
            .with_only_columns(Part.id, Part.job_id, Part.part_number)
            .where(Part.job_id.in_(job_ids), Part.part_number.in_(part_numbers))
        )
        parts = {(r.job_id, r.part_number): r.id for r in session.execute(stmt)}
    for row in by_job_part:
        job = wanted.get(id(row))
        if job is None:
            continue
        part_id = parts.get((job[0], row.lookups["part_number"]))
        if part_id is None:
            _not_found(
                row,
                mapping,
                "part_number",
                f"No part {row.lookups['part_number']!r} in job {job[1]!r} in this tenant or earlier in this import",
            )
            continue
        row.item["part_id"] = str(part_id)
        if row.id_pending:
            finish_derived_id(
                row, "operations", job_number=job[1], part_number=row.lookups["part_number"]
            )
    pending = [r for r in by_part_ref if r.id_pending]
    if pending:
        _finish_pending_ids(session, scope, pending)
    return _part_ids_by_key(session, scope, by_part_ref)


def _part_ids_by_key(
    session: Session, scope: TenantScope, rows: Sequence[ParsedRow]
) -> dict[uuid.UUID, LentRow]:
    """An operation that names its part by external id gets the part's id instead, found by
    the whole key (source and external id) in the key index: the engine then finds the part
    by id. Left to the engine, the external id alone (any source) matches no index prefix, so
    every batch walked all the tenant's parts. The engine resolves exactly what it would
    have (a part's key names one part; the engine's default source is the row's own, as
    here), hashes the resolved id either way, and still reports a part that is not found:
    only found parts are given by id. Returns the parts read (narrow, lent to the renderers:
    csv_import/lending.py)."""
    wanted = [
        (r, str(r.item.get("part_external_source") or r.item["external_source"]))
        for r in rows
        if "part_external_id" in r.item and "part_id" not in r.item
    ]
    by_source: dict[str, set[str]] = {}
    for r, source in wanted:
        by_source.setdefault(source, set()).add(r.item["part_external_id"])
    found = parts_by_key(session, scope, by_source) if by_source else {}
    for r, source in wanted:
        part = found.get((source, r.item["part_external_id"]))
        if part is not None:
            r.item["part_id"] = str(part.id)
            r.item.pop("part_external_id")
            r.item.pop("part_external_source", None)
    return {part.id: part for part in found.values()}


def _finish_pending_ids(session: Session, scope: TenantScope, pending: Sequence[ParsedRow]) -> None:
    """Derived external ids of operations that name their part by id or external id: the
    part's job number and part number complete them (§5.2)."""
    part_ids = {u for r in pending if (u := _uuid(r.item.get("part_id"))) is not None}
    part_keys: dict[str, set[str]] = {}
    for r in pending:
        if "part_id" not in r.item:
            source = str(r.item.get("part_external_source") or r.item["external_source"])
            part_keys.setdefault(source, set()).add(r.item["part_external_id"])
    base = (
        select(Part.id, Part.external_source, Part.external_id, Part.part_number, Job.job_number)
        .join(Job, Job.id == Part.job_id)
        .where(tenant_filter(Part, scope), Part.deleted_at.is_(None))
    )
    by_id: dict[uuid.UUID, tuple[str, str]] = {}
    by_key: dict[Key, tuple[str, str]] = {}
    if part_ids:
        for hit in session.execute(base.where(Part.id.in_(part_ids))):
            by_id[hit.id] = (hit.job_number, hit.part_number)
    for source, exts in part_keys.items():
        found = base.where(Part.external_source == source, Part.external_id.in_(exts))
        for hit in session.execute(found):
            by_key[(source, str(hit.external_id))] = (hit.job_number, hit.part_number)
    for row in pending:
        if "part_id" in row.item:
            u = _uuid(row.item["part_id"])
            numbers_found = by_id.get(u) if u else None
        else:
            source = str(row.item.get("part_external_source") or row.item["external_source"])
            numbers_found = by_key.get((source, row.item["part_external_id"]))
        if numbers_found is not None:
            finish_derived_id(
                row, "operations", job_number=numbers_found[0], part_number=numbers_found[1]
            )


def _engine_issues(
    row: ParsedRow, result: RecordResult, mapping: Any, entity: str, file_name: str
) -> list[Issue]:
    """The engine's error for a record, mapped back to the CSV columns (§8.1 stage 2)."""
    error = result.error
    assert error is not None
    ext = row.item.get("external_id") if isinstance(row.item.get("external_id"), str) else None
    if not error.details:
        return [
            Issue(
                error.code,
                error.message,
                line=row.line,
                entity=entity,
                file=file_name,
                external_id=ext,
            )
        ]
    out = []
    for detail in error.details:
        name = detail.field.split(".")[-1].split("[")[0]
        column = mapping.column_for(name) if mapping is not None else None
        value = detail.as_dict().get("value")
        out.append(
            Issue(
                error.code,
                f"{detail.message} ({detail.constraint})",
                column=column.header if column else None,
                column_number=column.number if column else None,
                field=name,
                value=clip(None if value is None else str(value)),
                line=row.line,
                entity=entity,
                file=file_name,
                external_id=ext,
            )
        )
    return out


# --- progress ------------------------------------------------------------------------------


def progress_of(
    services: Services, imp: CsvImport, files: Sequence[CsvImportFile]
) -> dict[str, Any]:
    """§11.4: status, phase, current file, rows, counts, rate and ETA."""
    now = services.clock.now()
    current = None
    for f in files:
        if (f.row_count or 0) > next_row_of(imp, f):
            current = f.filename
            break
    elapsed = (now - imp.started_at).total_seconds() if imp.started_at else 0.0
    done = imp.processed_rows
    if imp.phase is ImportPhase.import_:
        done = sum(min(next_row_of(imp, f), f.row_count or 0) for f in files)
    if imp.finished_at is not None and imp.started_at is not None:
        elapsed = (imp.finished_at - imp.started_at).total_seconds()
    running = imp.status is CsvImportStatus.running
    if running:  # rows per second over the last 10 seconds (§11.4)
        rate = window_rate((imp.options or {}).get("rate_samples") or [], now.timestamp())
    else:  # the run's average, for the result
        base = int((imp.options or {}).get("progress_base", 0))
        rate = max(done - base, 0) / elapsed if elapsed > 0 else 0.0
    remaining = max(imp.total_rows - done, 0)
    lost = (
        imp.status is CsvImportStatus.running
        and imp.heartbeat_at is not None
        and (now - imp.heartbeat_at).total_seconds() > services.settings.import_abandon_seconds
    )
    return {
        "id": str(imp.id),
        "status": imp.status.value,
        "phase": imp.phase.value if imp.phase else None,
        "current_file": current if imp.status is CsvImportStatus.running else None,
        "total_rows": imp.total_rows,
        "processed_rows": done,
        "percent": round(100 * done / imp.total_rows, 1) if imp.total_rows else 100.0,
        "counts": {
            "created": imp.created_count,
            "updated": imp.updated_count,
            "unchanged": imp.skipped_count,
            "failed": imp.failed_count,
            "deleted": imp.deleted_count,
        },
        "rows_per_second": round(rate, 1),
        "eta_seconds": eta_seconds(remaining, rate) if running else None,
        "started_at": format_ts(imp.started_at) if imp.started_at else None,
        "heartbeat_at": format_ts(imp.heartbeat_at) if imp.heartbeat_at else None,
        "finished_at": format_ts(imp.finished_at) if imp.finished_at else None,
        "cancel_requested": imp.cancel_requested,
        "worker_lost": lost,
        # an import waiting while another import of the tenant runs (one at a time, §11.3)
        "waiting_for": (imp.options or {}).get("waiting_for")
        if imp.status is CsvImportStatus.queued
        else None,
        "failure_reason": imp.failure_reason,
        "preview": imp.preview,
        "files": [
            {
                "position": f.position,
                "file": f.filename,
                "entity": f.entity_type.value if f.entity_type else None,
                "rows": f.row_count or 0,
                "next_row": next_row_of(imp, f),
                **{
                    k: (imp.file_counts or {}).get(str(f.position), {}).get(k, 0)
                    for k in ("created", "updated", "unchanged", "failed")
                },
            }
            for f in files
        ],
    }
