"""The database side of files: issuing upload URLs, claiming and finishing uploads, and signing
download URLs for paths records reference. Services never commit."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped, tenant_filter
from floorsync.db.uow import Work
from floorsync.entities import fields as F
from floorsync.entities.fields import FieldError, Kind, to_wire
from floorsync.entities.service import get_row, record_event
from floorsync.entities.spec import get_spec
from floorsync.errors import Conflict, Detail, NotFound, ValidationFailed
from floorsync.kit.ids import new_id
from floorsync.models.catalogue import StoredFile
from floorsync.models.enums import FilePurpose, FileState, StorageBackendKind
from floorsync.models.master import Job, Part
from floorsync.storage import paths
from floorsync.storage.errors import Refusal
from floorsync.storage.filetypes import check_extension, file_type_for
from floorsync.storage.keys import StorageKey
from floorsync.storage.tokens import FileOp, FileUrlSigner, SignedToken

LEASE = timedelta(minutes=10)  # a PUT holds its row this long while the bytes stream
MAX_FILE_PATHS = 100
_JOB_NUMBER = F.ident("job_number", 255)
_PART_ID = F.ref_id("part_id")
_SIZE = F.integer("size_bytes", min_value=1)


@dataclass
class UploadTicket:
    row: StoredFile
    token: SignedToken


def issue_upload(
    work: Work,
    body: dict[str, Any],
    *,
    signer: FileUrlSigner,
    ttl: int,
    max_bytes: int,
    backend: str,
) -> UploadTicket:
    """`POST /api-upload-url` (§3): check, write a `pending` row, sign a `put` token. No event."""
    errors: list[Detail] = []
    unknown = set(body) - {"filename", "content_type", "job_number", "part_id", "size_bytes"}
    errors.extend(
        Detail(k, f"Unknown field: {k}", "UNKNOWN_FIELD", body[k]) for k in sorted(unknown)
    )
    filename = None
    raw_name = body.get("filename")
    if not isinstance(raw_name, str):
        errors.append(Detail("filename", "Missing required string field: filename", "NOT_NULL"))
    else:
        try:
            filename = paths.check_filename(raw_name)
        except Refusal as err:
            errors.append(err.as_detail("filename"))
    file_type = None
    raw_type = body.get("content_type")
    if not isinstance(raw_type, str):
        errors.append(
            Detail("content_type", "Missing required string field: content_type", "NOT_NULL")
        )
    else:
        try:
            file_type = file_type_for(raw_type)
        except Refusal as err:
            errors.append(err.as_detail("content_type"))
    if filename is not None and file_type is not None:  # a bad filename skips this check
        try:
            check_extension(file_type, filename)
        except Refusal as err:
            errors.append(err.as_detail("filename"))
    job_number = _coerce(_JOB_NUMBER, body.get("job_number"), errors)
    part_id = _coerce(_PART_ID, body.get("part_id"), errors)
    size = _coerce(_SIZE, body.get("size_bytes"), errors)
    if size is not None and size > max_bytes:
        errors.append(Detail("size_bytes", f"size_bytes must be <= {max_bytes}", "MAX_VALUE", size))
    part = None
    if part_id is not None:
        part = work.session.scalars(
            scoped(Part, work.scope, include_deleted=False).where(Part.id == part_id)
        ).first()
        if part is None:
            errors.append(
                Detail(
                    "part_id",
                    f'Part with id "{part_id}" not found',
                    "REFERENCE_NOT_FOUND",
                    str(part_id),
                )
            )
        elif len(part.file_paths or []) >= MAX_FILE_PATHS:
            errors.append(
                Detail(
                    "part_id",
                    f"the part already has {MAX_FILE_PATHS} file_paths",
                    "MAX_LENGTH",
                    str(part_id),
                )
            )
    if errors:
        raise ValidationFailed("upload", errors)
    assert filename is not None
    assert file_type is not None
    job_id = None
    if job_number is not None:
        job_id = work.session.scalar(
            scoped(Job, work.scope, include_deleted=False)
            .with_only_columns(Job.id)
            .where(Job.job_number == job_number)
        )
    file_id = new_id()
    token = signer.issue(
        tenant_id=work.scope.tenant_id, file_id=file_id, op=FileOp.put, ttl_seconds=ttl
    )
    now = work.clock.now()
    row = StoredFile(
        id=file_id,
        tenant_id=work.scope.tenant_id,
        path=paths.attachment_path(file_id, filename, job_number),
        purpose=FilePurpose.attachment,
        state=FileState.pending,
        filename=paths.sanitize_segment(filename),
        content_type=file_type.content_type,
        max_bytes=max_bytes,
        expected_bytes=size,
        backend=StorageBackendKind(backend),
        storage_key=str(StorageKey(work.scope.tenant_id, file_id)),
        job_id=job_id,
        part_id=part.id if part is not None else None,
        upload_expires_at=token.expires_at,
        created_by=work.origin.api_key_id,
        created_at=now,
        updated_at=now,
    )
    work.session.add(row)
    work.session.flush()
    return UploadTicket(row, token)


def _coerce(field: F.Field, value: Any, errors: list[Detail]) -> Any:
    if value is None:
        return None
    try:
        return field.coerce(value)
    except FieldError as err:
        errors.append(err.detail(field.name, value))
        return None


def file_row(session: Session, scope: TenantScope, file_id: uuid.UUID) -> StoredFile:
    row: StoredFile | None = session.scalars(
        scoped(StoredFile, scope).where(StoredFile.id == file_id)
    ).first()
    if row is None or row.state == FileState.deleted:
        raise NotFound("File not found")
    return row


def claim_upload(
    session: Session, scope: TenantScope, file_id: uuid.UUID, now: datetime
) -> StoredFile:
    """§2.4 step 2: `pending` (or `uploading` with a dead lease) → `uploading` by compare and
    set; of two concurrent PUTs exactly one proceeds, the other gets 409."""
    row = file_row(session, scope, file_id)
    state = FileState(row.state)
    live_lease = row.upload_lease_until is not None and row.upload_lease_until > now
    if state is FileState.stored or (state is FileState.uploading and live_lease):
        raise Conflict("Upload URL has already been used")
    result = session.execute(
        update(StoredFile)
        .where(
            tenant_filter(StoredFile, scope),
            StoredFile.id == file_id,
            StoredFile.state == state,
            StoredFile.updated_at == row.updated_at,
        )
        .values(state=FileState.uploading, upload_lease_until=now + LEASE, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise Conflict("Upload URL has already been used")
    session.refresh(row)
    return row


def release_upload(session: Session, scope: TenantScope, file_id: uuid.UUID, now: datetime) -> None:
    """A failed PUT returns the row to `pending`: the URL can be retried until it expires."""
    session.execute(
        update(StoredFile)
        .where(
            tenant_filter(StoredFile, scope),
            StoredFile.id == file_id,
            StoredFile.state == FileState.uploading,
        )
        .values(state=FileState.pending, upload_lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def finish_upload(
    work: Work, file_id: uuid.UUID, size: int, sha256: str
) -> tuple[StoredFile, bool | None]:
    """§2.4 step 5: the row turns `stored`; with a part given at issue time, the path is
    appended to that live part's `file_paths` (`part.updated`). Returns (row, attached)."""
    row = file_row(work.session, work.scope, file_id)
    now = work.clock.now()
    row.state = FileState.stored
    row.size_bytes, row.sha256, row.stored_at = size, sha256, now
    row.upload_lease_until = None
    row.updated_at = now
    work.session.flush()
    if row.part_id is None:
        return row, None
    parts = get_spec("parts")
    part = work.session.scalars(
        scoped(Part, work.scope, include_deleted=False)
        .where(Part.id == row.part_id)
        .with_for_update()
    ).first()
    if part is None or len(part.file_paths or []) >= MAX_FILE_PATHS:
        return row, False
    old = list(part.file_paths or [])
    part.file_paths = [*old, row.path]
    part.updated_at = now
    part.sync_hash = None
    work.session.flush()
    record_event(work, parts, part, "updated", changes={"file_paths": (old, part.file_paths)})
    return row, True


# ---------------------------------------------------------------- download URLs


_NOT_REFERENCED = {
    "parts": "CAD file not found for this part",
    "batches": "Batch image not found",
    "issues": "Issue attachment not found",
}


def referenced_paths(row: Any, entity: str) -> list[str]:
    if entity == "parts":
        return list(row.file_paths or [])
    if entity == "batches":
        return [p for p in (row.nesting_image_url, row.layout_image_url) if p]
    return list(row.image_paths or [])


def signed_download(
    session: Session,
    scope: TenantScope,
    entity: str,
    record_id: uuid.UUID,
    path: str,
    *,
    signer: FileUrlSigner,
    ttl: int,
) -> tuple[StoredFile, SignedToken]:
    """§4: the record must be live and the tenant's, reference `path`, and `path` must name a
    stored file of the tenant."""
    spec = get_spec(entity)
    row = get_row(session, scope, spec, record_id)
    if path not in referenced_paths(row, entity):
        raise NotFound(_NOT_REFERENCED[entity])
    stored = session.scalars(
        scoped(StoredFile, scope).where(
            StoredFile.path == path, StoredFile.state == FileState.stored
        )
    ).first()
    if stored is None:
        raise NotFound("File not found in storage")
    token = signer.issue(
        tenant_id=scope.tenant_id, file_id=stored.id, op=FileOp.get, ttl_seconds=ttl
    )
    return stored, token


def expires_at_wire(token: SignedToken) -> Any:
    return to_wire(Kind.timestamp, token.expires_at)
