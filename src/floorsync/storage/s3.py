"""The S3 backend: S3-compatible object storage through boto3 (the `floorsync[s3]` extra).

Objects are `<FLOORSYNC_S3_PREFIX><tenant id>/<file id>` in FLOORSYNC_S3_BUCKET (which floorsync
never creates), with `ContentType` and the SHA-256 as metadata, and server-side encryption when
FLOORSYNC_S3_SSE is set.

An upload is spooled (memory, then a temporary file) while it is counted, checked and hashed, and
sent with one `PutObject` only once the whole stream has passed: nothing reaches the bucket when
the cap is exceeded, the bytes are wrong or the client's stream breaks, and a `PutObject` is
atomic, so there is no half-written object or abandoned multipart upload to clean up. (A
`PutObject` whose answer is lost may still have stored the object: the row is then not `stored`,
so the bytes are never served, and a retry overwrites them or the purge deletes them.) (A presigned
S3 PUT could not cap the size or check the content, which is why uploads pass through floorsync,
catalogue §2.2.) Downloads are proxied, or presigned `GetObject` URLs with FLOORSYNC_S3_DIRECT_DOWNLOADS.
"""

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from floorsync.config import Settings
from floorsync.storage.base import (
    CHUNK_BYTES,
    Intake,
    ObjectInfo,
    ObjectReader,
    ObjectWriter,
    Storage,
)
from floorsync.storage.errors import BackendUnavailable, ObjectNotFound
from floorsync.storage.filetypes import ContentCheck
from floorsync.storage.keys import StorageKey

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

_SPOOL_IN_MEMORY = 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def _is_not_found(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND


def _unavailable(exc: Exception) -> BackendUnavailable:
    if isinstance(exc, ClientError):
        return BackendUnavailable(f"S3 answered {exc.response.get('Error', {}).get('Code')}")
    return BackendUnavailable(f"S3 unreachable: {type(exc).__name__}")


def client_from_settings(settings: Settings) -> "S3Client":
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    config = Config(
        s3={"addressing_style": settings.s3_addressing_style},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    # Without explicit keys (both None) boto3 uses its default credential chain.
    return boto3.session.Session().client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=secret(settings.s3_access_key_id),
        aws_secret_access_key=secret(settings.s3_secret_access_key),
        config=config,
    )


class S3Storage(Storage):
    backend = "s3"

    def __init__(
        self,
        client: "S3Client",
        bucket: str,
        *,
        prefix: str = "",
        sse: str | None = None,
        spool_dir: Path | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.sse = sse
        self.spool_dir = spool_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        assert settings.s3_bucket is not None  # the settings refuse s3 without a bucket
        return cls(
            client_from_settings(settings),
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            sse=settings.s3_sse,
        )

    def object_key(self, key: StorageKey) -> str:
        if not isinstance(key, StorageKey):  # a str never becomes an object key
            raise TypeError("S3 object keys are built from a StorageKey only")
        return f"{self.prefix}{key}"

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc

    def writer(
        self,
        key: StorageKey,
        *,
        content_type: str,
        max_bytes: int,
        expected_bytes: int | None = None,
        check: ContentCheck | None = None,
    ) -> ObjectWriter:
        intake = Intake(max_bytes=max_bytes, expected_bytes=expected_bytes, check=check)
        return _S3Writer(self, key, content_type, intake)

    def open(self, key: StorageKey) -> ObjectReader:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _is_not_found(exc):
                raise ObjectNotFound() from None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return _S3Reader(found)

    def stat(self, key: StorageKey) -> ObjectInfo | None:
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _is_not_found(exc):
                return None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return ObjectInfo(
            size=found["ContentLength"],
            content_type=found.get("ContentType") or "application/octet-stream",
            sha256=found.get("Metadata", {}).get("sha256"),
        )

    def delete(self, key: StorageKey) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc

    def direct_download_url(
        self, key: StorageKey, *, expires_in: int, content_type: str, content_disposition: str
    ) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition,
            },
            ExpiresIn=expires_in,
        )


class _S3Writer(ObjectWriter):
    def __init__(
        self, storage: S3Storage, key: StorageKey, content_type: str, intake: Intake
    ) -> None:
        super().__init__(key, content_type, intake)
        self._storage = storage
        self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by _discard/_persist)
            max_size=_SPOOL_IN_MEMORY,
            dir=None if storage.spool_dir is None else str(storage.spool_dir),
        )

    def _write(self, chunk: bytes) -> None:
        try:
            self._spool.write(chunk)
        except OSError as exc:
            raise BackendUnavailable(f"cannot spool an upload: {exc.strerror}") from exc

    def _persist(self, size: int, sha256: str) -> None:
        storage = self._storage
        extra: dict[str, Any] = {"ServerSideEncryption": storage.sse} if storage.sse else {}
        try:
            self._spool.seek(0)
            storage.client.put_object(
                Bucket=storage.bucket,
                Key=storage.object_key(self.key),
                Body=self._spool,
                ContentLength=size,
                ContentType=self.content_type,
                Metadata={"sha256": sha256},
                **extra,
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc
        finally:
            self._spool.close()

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self._spool.close()


class _S3Reader(ObjectReader):
    def __init__(self, found: "GetObjectOutputTypeDef") -> None:
        super().__init__(
            ObjectInfo(
                size=found["ContentLength"],
                content_type=found.get("ContentType") or "application/octet-stream",
                sha256=found.get("Metadata", {}).get("sha256"),
            )
        )
        self._body = found["Body"]

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body.iter_chunks(CHUNK_BYTES)
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc

    def close(self) -> None:
        self._body.close()
