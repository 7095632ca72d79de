"""File storage and signed file URLs (catalogue §2): everything about files that does not need
the database, so the endpoints built on it stay thin.

Modules
- `keys`       StorageKey `<tenant id>/<file id>`: made of UUIDs only, so no traversal is possible
- `paths`      the wire `file_path` formats and the filename rules (§2.1, §3)
- `filetypes`  the allow-list: content type + extension + file signature, checked while streaming
- `tokens`     signed, expiring `put`/`get` tokens for `/files/upload/{token}`, `/files/download/{token}`
- `base`       the Storage interface (writer with a size cap, open, stat, delete, check)
- `local`, `s3`  the two backends; `factory` picks one from the settings
- `download`   the response headers of a download (§2.5)

How the endpoints use it (the `stored_files` row of §14.1 holds the state; network and disk I/O
never run inside a database transaction, and the bytes are only written for a row that exists):

**Issue an upload URL** (`POST /api-upload-url`), one transaction:
 1. `paths.check_filename`, `filetypes.file_type_for`, `filetypes.check_extension` — collect each
    `Refusal.as_detail(field)` into the 422;
 2. `file_id = new_id()`; `path = paths.attachment_path(file_id, filename, job_number)`;
    `key = StorageKey(tenant_id, file_id)`;
 3. insert the row: `pending`, path, filename (sanitised), the canonical content type,
    `max_bytes` (settings.max_upload_bytes), `expected_bytes`, backend, `str(key)`,
    `upload_expires_at`;
 4. `signer.issue(…, op=FileOp.put, ttl_seconds=settings.storage_url_ttl)` →
    `tokens.upload_url(base, token)`, `expires_at = token.expires_at`; commit. No bytes, no event.

**Upload** (`PUT /files/upload/{token}`, no API key):
 1. `grant = signer.verify(token, FileOp.put)` (403 for every failure);
 2. transaction A: the row by `grant.tenant_id` **and** `grant.file_id` (404 if missing or
    `deleted`); `stored`, or `uploading` under a live lease → 409; the Content-Type header must
    pass `filetypes.content_type_matches` (400); claim it by compare-and-set
    `pending → uploading` with `upload_lease_until`; commit — this CAS is what makes the URL single
    use: of two concurrent PUTs one claims, and a later PUT finds `stored`;
 3. no transaction open: a Content-Length over `row.max_bytes` → 413 at once; otherwise
    `await put_async(storage, StorageKey.parse(row.storage_key), request.stream(),
    content_type=row.content_type, max_bytes=row.max_bytes, expected_bytes=row.expected_bytes,
    check=file_type_for(row.content_type).content_check(row.filename))`. It raises 413
    (UploadTooLarge), 422 (UploadRejected: size, empty, content) or 503, and then nothing is
    stored; on any failure a short transaction returns the row `uploading → pending` (CAS on the
    lease), so the URL can be retried until it expires;
 4. transaction B: mark the row `stored` with `size_bytes`, `sha256` from the StoredObject and
    `stored_at`; attach to the part (+ `part.updated`); commit. If that commit fails, call
    `storage.delete(key)`: bytes without a stored row are never served and the purge also
    removes them.

**Download URL** (`file-url`, `image-url`, part images): find the row by tenant and path, state
`stored` (else 404 "File not found in storage"); `signer.issue(…, op=FileOp.get, …)` →
`tokens.download_url`, or with S3 direct downloads `storage.direct_download_url(key,
expires_in=…, content_type=row.content_type,
content_disposition=download.content_disposition(row.filename, row.content_type))`.

**Download** (`GET|HEAD /files/download/{token}`): `signer.verify(token, FileOp.get)`; the row
by tenant and file id, `stored`; `storage.open(key)` as a StreamingResponse (closed when the
response ends) with `download.download_headers(…, seconds_left=exp - now)`; HEAD sends the
headers only (use `storage.stat`).

**Part image upload** (multipart, API key): `file_type_for(declared, images_only=True)`; write
the bytes first with `put` under a fresh file id (nothing visible yet: no row names it); then one
transaction locks the part row, inserts the row `stored`, rewrites `image_paths`
(`paths.part_image_path(part_id, file_id, now, file_type.image_extension)`) and emits
`part.updated`; if it fails, `storage.delete(key)`.

**Delete and purge**: a transaction marks rows `deleted` (or selects expired `pending` /
`uploading` rows); after the commit `storage.delete(key)` (idempotent), then the rows go in
another transaction. Bytes first, row second: a row never points at bytes that were deleted
while it still looked live, and a crash in between only leaves a row the next purge finishes.

**Start-up**: `build_storage(settings).check()` in the API and the worker; refuse to start on
BackendUnavailable.
"""

from floorsync.storage.base import (
    ObjectInfo,
    ObjectReader,
    ObjectWriter,
    Storage,
    StoredObject,
    put_async,
)
from floorsync.storage.errors import (
    BackendUnavailable,
    ContentMismatch,
    EmptyUpload,
    ObjectNotFound,
    Refusal,
    SizeMismatch,
    UploadRejected,
    UploadTooLarge,
)
from floorsync.storage.factory import build_signer, build_storage
from floorsync.storage.filetypes import FileType, check_extension, file_type_for
from floorsync.storage.keys import StorageKey
from floorsync.storage.tokens import FileGrant, FileOp, FileUrlSigner, InvalidFileToken

__all__ = [
    "BackendUnavailable",
    "ContentMismatch",
    "EmptyUpload",
    "FileGrant",
    "FileOp",
    "FileType",
    "FileUrlSigner",
    "InvalidFileToken",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectWriter",
    "Refusal",
    "SizeMismatch",
    "Storage",
    "StorageKey",
    "StoredObject",
    "UploadRejected",
    "UploadTooLarge",
    "build_signer",
    "build_storage",
    "check_extension",
    "file_type_for",
    "put_async",
]
