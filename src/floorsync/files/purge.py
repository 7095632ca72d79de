"""Removal of file bytes nobody can reach any more (api-catalogue-completion §2.7, §14.7).

`purge_files` (the worker's hourly `storage.purge`, and `floorsync files purge`): rows `pending`
or `uploading` whose upload URL expired more than an hour ago — the URL can no longer be used
and any PUT's lease has long ended — turn `deleted` in one short transaction per tenant; then,
for every `deleted` row, the bytes go first (idempotent: a missing object is no error) and the
row after, in a second transaction. A row never points at bytes that were removed while it still
looked live, and a failure (the backend down, a crash between the two steps) only leaves
`deleted` rows the next run finishes. Stored attachments are never removed automatically.

`prune_unreferenced` (`floorsync files prune --unreferenced --older-than 30d`): stored
attachments older than the cut-off that no part (`file_paths`), issue (`image_paths`) or batch
(`nesting_image_url`, `layout_image_url`) names turn `deleted`; the purge then removes them.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.kit.clock import Clock
from floorsync.models.catalogue import Issue, StoredFile
from floorsync.models.enums import FilePurpose, FileState
from floorsync.models.master import Part
from floorsync.models.shopfloor import Batch
from floorsync.storage.base import Storage
from floorsync.storage.errors import BackendUnavailable
from floorsync.storage.keys import StorageKey

log = logging.getLogger("floorsync.files.purge")

GRACE = timedelta(hours=1)  # an expired upload URL's row stays this long before it is purged
BATCH = 500  # rows per transaction

StorageFor = Callable[[str], Storage]  # a row's backend name → that backend


@dataclass
class PurgeReport:
    expired: int = 0  # pending / uploading rows that turned deleted in this run
    removed: int = 0  # deleted rows whose bytes and row are gone
    failed: int = 0  # deleted rows whose bytes could not be removed (retried next run)
    # deleted rows on a backend this process has no configuration for (files on S3 after
    # switching back to local without a bucket): left alone, not an error of the run
    unconfigured: int = 0
    errors: list[str] = field(default_factory=list)


def _tenants(sessions: sessionmaker[Session], *conditions: object) -> list[uuid.UUID]:
    with sessions() as session:
        found = list(session.scalars(select(StoredFile.tenant_id).where(*conditions).distinct()))  # type: ignore[arg-type]
        session.rollback()
    return found


def _value(x: object) -> str:
    return str(getattr(x, "value", x))


def expire_uploads(sessions: sessionmaker[Session], clock: Clock, grace: timedelta = GRACE) -> int:
    """Rows whose upload URL expired over `grace` ago turn `deleted` (compare-and-set on the
    state, so an upload that finished meanwhile keeps its `stored` row)."""
    now = clock.now()
    cutoff = now - grace
    unfinished = StoredFile.state.in_((FileState.pending, FileState.uploading))
    expired = StoredFile.upload_expires_at < cutoff
    count = 0
    for tenant_id in _tenants(sessions, unfinished, expired):
        scope = TenantScope(tenant_id)
        with sessions() as session, session.begin():
            result = session.execute(
                update(StoredFile)
                .where(tenant_filter(StoredFile, scope), unfinished, expired)
                .values(state=FileState.deleted, deleted_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            count += int(getattr(result, "rowcount", 0) or 0)
    return count


def remove_deleted(sessions: sessionmaker[Session], storage_for: StorageFor) -> PurgeReport:
    """Bytes, then rows, of every `deleted` file."""
    report = PurgeReport()
    for tenant_id in _tenants(sessions, StoredFile.state == FileState.deleted):
        scope = TenantScope(tenant_id)
        after: uuid.UUID | None = None  # keyset: rows left behind are not read again
        while True:
            stmt = (
                scoped(StoredFile, scope)
                .with_only_columns(StoredFile.id, StoredFile.backend, StoredFile.storage_key)
                .where(StoredFile.state == FileState.deleted)
                .order_by(StoredFile.id)
                .limit(BATCH)
            )
            if after is not None:
                stmt = stmt.where(StoredFile.id > after)
            with sessions() as session:
                rows = list(session.execute(stmt))
                session.rollback()
            if not rows:
                break
            after = rows[-1][0]
            failed_before = report.failed
            gone: list[uuid.UUID] = []
            for file_id, backend, key in rows:
                try:
                    store = storage_for(_value(backend))
                except BackendUnavailable:
                    report.unconfigured += 1
                    continue
                try:
                    store.delete(StorageKey.parse(key))
                except Exception as exc:  # the backend is down: the next run retries
                    report.failed += 1
                    report.errors.append(f"{key}: {type(exc).__name__}: {exc}"[:500])
                    log.warning("storage.purge could not remove %s: %s", key, exc)
                    continue
                gone.append(file_id)
            if gone:
                with sessions() as session, session.begin():
                    session.execute(
                        delete(StoredFile).where(
                            tenant_filter(StoredFile, scope),
                            StoredFile.id.in_(gone),
                            StoredFile.state == FileState.deleted,
                        )
                    )
                report.removed += len(gone)
            # a batch where every removal failed: the backend is down, the next run retries
            if len(rows) < BATCH or (not gone and report.failed > failed_before):
                break
    return report


def purge_files(
    sessions: sessionmaker[Session],
    clock: Clock,
    storage_for: StorageFor,
    grace: timedelta = GRACE,
) -> PurgeReport:
    """The `storage.purge` task: expire abandoned uploads, then remove every deleted file."""
    expired = expire_uploads(sessions, clock, grace)
    report = remove_deleted(sessions, storage_for)
    report.expired = expired
    return report


def _referenced(session: Session, scope: TenantScope) -> set[str]:
    """Every path a part, issue or batch of the tenant names (soft-deleted records included:
    a restored record must find its files)."""
    paths: set[str] = set()

    def add(values: Iterable[object]) -> None:
        for value in values:
            if isinstance(value, str):
                paths.add(value)
            elif isinstance(value, list):
                paths.update(v for v in value if isinstance(v, str))

    add(session.scalars(scoped(Part, scope).with_only_columns(Part.file_paths)))
    add(session.scalars(scoped(Issue, scope).with_only_columns(Issue.image_paths)))
    for nesting, layout in session.execute(
        scoped(Batch, scope).with_only_columns(Batch.nesting_image_url, Batch.layout_image_url)
    ):
        add((nesting, layout))
    return paths


def prune_unreferenced(
    sessions: sessionmaker[Session],
    clock: Clock,
    older_than: timedelta,
    *,
    tenant_id: uuid.UUID | None = None,
    dry_run: bool = False,
) -> list[tuple[uuid.UUID, str]]:
    """Stored attachments older than `older_than` that nothing references turn `deleted`
    (unless `dry_run`); returns (tenant id, path) of each."""
    now = clock.now()
    cutoff = now - older_than
    candidate = (
        StoredFile.purpose == FilePurpose.attachment,
        StoredFile.state == FileState.stored,
        or_(StoredFile.stored_at < cutoff, StoredFile.stored_at.is_(None)),
        StoredFile.created_at < cutoff,
    )
    tenants = [tenant_id] if tenant_id is not None else _tenants(sessions, *candidate)
    pruned: list[tuple[uuid.UUID, str]] = []
    for tid in tenants:
        scope = TenantScope(tid)
        with sessions() as session, session.begin():
            referenced = _referenced(session, scope)
            rows = [
                (file_id, path)
                for file_id, path in session.execute(
                    scoped(StoredFile, scope)
                    .with_only_columns(StoredFile.id, StoredFile.path)
                    .where(*candidate)
                )
                if path not in referenced
            ]
            if rows and not dry_run:
                session.execute(
                    update(StoredFile)
                    .where(
                        tenant_filter(StoredFile, scope),
                        StoredFile.id.in_([file_id for file_id, _p in rows]),
                        StoredFile.state == FileState.stored,
                    )
                    .values(state=FileState.deleted, deleted_at=now, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
            pruned.extend((tid, path) for _id, path in rows)
    return pruned
