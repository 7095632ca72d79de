"""The local backend: files under a data directory (the default; `make run` needs nothing else).

Layout under the root (FLOORSYNC_STORAGE_LOCAL_DIR, default `<FLOORSYNC_DATA_DIR>/files`):

    .tmp/<random>.part                  uploads in progress
    <tenant id>/<shard>/<file id>       the bytes (shard: see StorageKey.shard)
    <tenant id>/<shard>/<file id>.meta  {"content_type", "sha256"}: what S3 keeps as object metadata

Directories are 0700 and files 0600. An upload is written to `.tmp/`, fsynced, and renamed into
place (the metadata file first, then the bytes), so a reader sees the complete object or none;
`.tmp/` is inside the root so the rename never crosses file systems.
"""

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

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

_DIR_MODE = 0o700
_FILE_MODE = 0o600
_META = ".meta"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_private_dirs(root: Path, path: Path) -> None:
    """Create `path` (the root or a directory below it) with every missing level from the root
    down as 0700; `Path.mkdir(parents=True)` would give the levels above the leaf the default
    mode."""
    root.parent.mkdir(parents=True, exist_ok=True)
    level = root
    for part in ("", *path.relative_to(root).parts):
        level = level / part
        with contextlib.suppress(FileExistsError):
            level.mkdir(mode=_DIR_MODE)


def _create_exclusive(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE)
    return os.fdopen(fd, "wb")


class LocalStorage(Storage):
    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self._tmp = self.root / ".tmp"

    def path_of(self, key: StorageKey) -> Path:
        if not isinstance(key, StorageKey):  # a str never becomes a path, whatever mypy saw
            raise TypeError("local storage paths are built from a StorageKey only")
        return self.root / str(key.tenant_id) / key.shard / str(key.file_id)

    def check(self) -> None:
        try:
            _make_private_dirs(self.root, self._tmp)
            probe = self._tmp / f"probe-{secrets.token_hex(8)}"
            with _create_exclusive(probe) as f:
                f.write(b"ok")
                f.flush()
                os.fsync(f.fileno())
            probe.unlink()
        except OSError as exc:
            raise BackendUnavailable(f"{self.root} is not writable: {exc.strerror}") from exc

    def writer(
        self,
        key: StorageKey,
        *,
        content_type: str,
        max_bytes: int,
        expected_bytes: int | None = None,
        check: ContentCheck | None = None,
    ) -> ObjectWriter:
        final = self.path_of(key)
        try:
            _make_private_dirs(self.root, self._tmp)
            tmp = self._tmp / f"{secrets.token_hex(16)}.part"
            out = _create_exclusive(tmp)
        except OSError as exc:
            raise BackendUnavailable(f"cannot write to {self._tmp}: {exc.strerror}") from exc
        intake = Intake(max_bytes=max_bytes, expected_bytes=expected_bytes, check=check)
        return _LocalWriter(key, content_type, intake, out, tmp, final, self.root)

    def open(self, key: StorageKey) -> ObjectReader:
        path = self.path_of(key)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            raise ObjectNotFound() from None
        except OSError as exc:
            raise BackendUnavailable(f"cannot read a file: {exc.strerror}") from exc
        try:
            info = self._info(path, os.fstat(f.fileno()).st_size)
        except BaseException:
            f.close()
            raise
        return _LocalReader(info, f)

    def stat(self, key: StorageKey) -> ObjectInfo | None:
        path = self.path_of(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendUnavailable(f"cannot stat a file: {exc.strerror}") from exc
        return self._info(path, size)

    def delete(self, key: StorageKey) -> None:
        path = self.path_of(key)
        try:
            path.unlink(missing_ok=True)  # the bytes first: without them the object is gone
            path.with_name(path.name + _META).unlink(missing_ok=True)
        except OSError as exc:
            raise BackendUnavailable(f"cannot delete a file: {exc.strerror}") from exc

    @staticmethod
    def _info(path: Path, size: int) -> ObjectInfo:
        try:
            meta = json.loads(path.with_name(path.name + _META).read_bytes())
        except (OSError, ValueError):
            meta = {}
        return ObjectInfo(
            size=size,
            content_type=str(meta.get("content_type") or "application/octet-stream"),
            sha256=meta.get("sha256"),
        )


class _LocalWriter(ObjectWriter):
    def __init__(
        self,
        key: StorageKey,
        content_type: str,
        intake: Intake,
        out: BinaryIO,
        tmp: Path,
        final: Path,
        root: Path,
    ) -> None:
        super().__init__(key, content_type, intake)
        self._root = root
        self._out = out
        self._tmp = tmp
        self._final = final
        self._meta_tmp: Path | None = None

    def _write(self, chunk: bytes) -> None:
        try:
            self._out.write(chunk)
        except OSError as exc:
            raise BackendUnavailable(f"cannot write a file: {exc.strerror}") from exc

    def _persist(self, size: int, sha256: str) -> None:
        try:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
            _make_private_dirs(self._root, self._final.parent)
            self._meta_tmp = self._tmp.with_suffix(".meta")
            with _create_exclusive(self._meta_tmp) as meta:
                meta.write(
                    json.dumps({"content_type": self.content_type, "sha256": sha256}).encode()
                )
                meta.flush()
                os.fsync(meta.fileno())
            os.replace(self._meta_tmp, self._final.with_name(self._final.name + _META))
            os.replace(self._tmp, self._final)
            _fsync_dir(self._final.parent)
        except OSError as exc:
            raise BackendUnavailable(f"cannot store a file: {exc.strerror}") from exc

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        for path in (self._tmp, self._meta_tmp):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)


class _LocalReader(ObjectReader):
    def __init__(self, info: ObjectInfo, f: BinaryIO) -> None:
        super().__init__(info)
        self._f = f

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._f.read(CHUNK_BYTES):
            yield chunk

    def close(self) -> None:
        self._f.close()
