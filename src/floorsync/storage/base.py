"""The storage interface both backends implement, and the intake every upload goes through.

An upload is written through an `ObjectWriter`: each chunk is counted against the size cap,
checked against the allow-list's content check and hashed *before* it is written to a temporary
place; only `commit()` makes the object visible under its key. Anything that goes wrong on the
way — the cap exceeded, bytes of the wrong kind, the client's stream failing, the backend failing,
or the writer left without a commit — discards the temporary bytes, so a key either holds a
complete, checked object or nothing.
"""

import hashlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Literal, Self

import anyio.to_thread

from floorsync.storage.errors import EmptyUpload, SizeMismatch, UploadTooLarge
from floorsync.storage.filetypes import ContentCheck
from floorsync.storage.keys import StorageKey

BackendName = Literal["local", "s3"]
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str
    sha256: str | None  # hex; None only for objects written by something other than floorsync


@dataclass(frozen=True)
class StoredObject:
    """What `commit()` kept: the row's `size_bytes` and `sha256` come from here."""

    key: StorageKey
    size: int
    sha256: str
    content_type: str


class Intake:
    """Counts, caps, checks and hashes an upload's bytes in the order they arrive."""

    def __init__(
        self, *, max_bytes: int, expected_bytes: int | None, check: ContentCheck | None
    ) -> None:
        self.max_bytes = max_bytes
        self.expected_bytes = expected_bytes
        self.check = check
        self.size = 0
        self._sha256 = hashlib.sha256()

    def take(self, chunk: bytes) -> None:
        size = self.size + len(chunk)
        if size > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        if self.expected_bytes is not None and size > self.expected_bytes:
            raise SizeMismatch(self.expected_bytes, None)
        if self.check is not None:
            self.check.feed(chunk)
        self._sha256.update(chunk)
        self.size = size

    def finish(self) -> str:
        """At the end of the stream: the hex SHA-256, or the error the whole file earns."""
        if self.size == 0:
            raise EmptyUpload()
        if self.expected_bytes is not None and self.size != self.expected_bytes:
            raise SizeMismatch(self.expected_bytes, self.size)
        if self.check is not None:
            self.check.finish()
        return self._sha256.hexdigest()


class ObjectWriter(ABC):
    """Use as a context manager: leaving it without `commit()` discards everything written."""

    def __init__(self, key: StorageKey, content_type: str, intake: Intake) -> None:
        self.key = key
        self.content_type = content_type
        self._intake = intake
        self._closed = False

    def write(self, chunk: bytes) -> None:
        if self._closed:
            raise RuntimeError("the writer is closed")
        try:
            self._intake.take(chunk)
            self._write(chunk)
        except BaseException:
            self.abort()
            raise

    def commit(self) -> StoredObject:
        if self._closed:
            raise RuntimeError("the writer is closed")
        try:
            sha256 = self._intake.finish()
            self._persist(self._intake.size, sha256)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return StoredObject(self.key, self._intake.size, sha256, self.content_type)

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.abort()

    @abstractmethod
    def _write(self, chunk: bytes) -> None: ...

    @abstractmethod
    def _persist(self, size: int, sha256: str) -> None:
        """Make the temporary bytes the object under the key, atomically."""

    @abstractmethod
    def _discard(self) -> None:
        """Remove the temporary bytes; must not raise."""


class ObjectReader(ABC):
    """An open stored object: `info`, then its bytes by iteration. Close it (or use `with`)."""

    def __init__(self, info: ObjectInfo) -> None:
        self.info = info

    @abstractmethod
    def __iter__(self) -> Iterator[bytes]: ...

    @abstractmethod
    def close(self) -> None: ...

    def read_all(self) -> bytes:
        return b"".join(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


class Storage(ABC):
    backend: ClassVar[BackendName]

    @abstractmethod
    def writer(
        self,
        key: StorageKey,
        *,
        content_type: str,
        max_bytes: int,
        expected_bytes: int | None = None,
        check: ContentCheck | None = None,
    ) -> ObjectWriter:
        """Start an upload; nothing is visible under `key` until `commit()`."""

    @abstractmethod
    def open(self, key: StorageKey) -> ObjectReader:
        """The stored object (ObjectNotFound if there is none)."""

    @abstractmethod
    def stat(self, key: StorageKey) -> ObjectInfo | None: ...

    @abstractmethod
    def delete(self, key: StorageKey) -> None:
        """Remove the object; removing a missing one is not an error."""

    @abstractmethod
    def check(self) -> None:
        """Start-up probe (catalogue §2.2): BackendUnavailable if the backend cannot be used."""

    def exists(self, key: StorageKey) -> bool:
        return self.stat(key) is not None

    def put(
        self,
        key: StorageKey,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        max_bytes: int,
        expected_bytes: int | None = None,
        check: ContentCheck | None = None,
    ) -> StoredObject:
        with self.writer(
            key,
            content_type=content_type,
            max_bytes=max_bytes,
            expected_bytes=expected_bytes,
            check=check,
        ) as out:
            for chunk in chunks:
                out.write(chunk)
            return out.commit()

    def direct_download_url(
        self, key: StorageKey, *, expires_in: int, content_type: str, content_disposition: str
    ) -> str | None:
        """A URL the client can fetch the bytes from without floorsync, if the backend has one
        (S3 with FLOORSYNC_S3_DIRECT_DOWNLOADS); None means: proxy the download."""
        return None


async def put_async(
    storage: Storage,
    key: StorageKey,
    chunks: AsyncIterable[bytes],
    *,
    content_type: str,
    max_bytes: int,
    expected_bytes: int | None = None,
    check: ContentCheck | None = None,
) -> StoredObject:
    """`Storage.put` for an async body (Starlette's `request.stream()`): the blocking writes run
    in worker threads, so the event loop keeps serving while a large file streams in."""
    out = storage.writer(
        key,
        content_type=content_type,
        max_bytes=max_bytes,
        expected_bytes=expected_bytes,
        check=check,
    )
    try:
        async for chunk in chunks:
            await anyio.to_thread.run_sync(out.write, chunk)
        return await anyio.to_thread.run_sync(out.commit)
    finally:
        out.abort()  # no-op after a commit
