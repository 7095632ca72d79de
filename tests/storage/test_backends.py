"""The storage contract, run against both backends: the local file system in a temporary directory
and S3 through moto's standalone server on 127.0.0.1."""

import hashlib
import os
import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from floorsync.kit.ids import new_id
from floorsync.storage.base import Storage, put_async
from floorsync.storage.errors import (
    BackendUnavailable,
    ContentMismatch,
    EmptyUpload,
    ObjectNotFound,
    SizeMismatch,
    UploadTooLarge,
)
from floorsync.storage.filetypes import file_type_for
from floorsync.storage.keys import StorageKey
from floorsync.storage.local import LocalStorage
from floorsync.storage.s3 import S3Storage
from tests.storage.conftest import s3_settings

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def new_key() -> StorageKey:
    return StorageKey(new_id(), new_id())


def everything_stored(storage: Storage) -> list[str]:
    """Every file or object the backend holds, temporary ones included."""
    if isinstance(storage, LocalStorage):
        if not storage.root.exists():
            return []
        return sorted(
            str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file()
        )
    assert isinstance(storage, S3Storage)
    listed = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def chunks_of(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


class Consumed:
    """A chunk source that records how far it was read."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.fail_after is not None and self.taken == self.fail_after:
                raise ConnectionResetError("client went away")
            self.taken += 1
            yield chunk


class TestPutAndRead:
    def test_a_stored_object_reads_back_byte_for_byte_with_its_size_type_and_hash(
        self, storage: Storage
    ) -> None:
        key = new_key()
        data = os.urandom(300 * 1024)  # several chunks
        stored = storage.put(
            key, chunks_of(data), content_type="application/octet-stream", max_bytes=1 << 20
        )
        assert (stored.key, stored.size, stored.sha256) == (
            key,
            len(data),
            hashlib.sha256(data).hexdigest(),
        )
        with storage.open(key) as reader:
            assert reader.info.size == len(data)
            assert reader.info.content_type == "application/octet-stream"
            assert reader.info.sha256 == stored.sha256
            assert reader.read_all() == data
        info = storage.stat(key)
        assert info is not None
        assert (info.size, info.content_type, info.sha256) == (
            len(data),
            "application/octet-stream",
            stored.sha256,
        )
        assert storage.exists(key)

    def test_a_file_larger_than_the_in_memory_spool_round_trips(self, storage: Storage) -> None:
        key = new_key()
        data = os.urandom(3 * 1024 * 1024 + 17)
        storage.put(key, chunks_of(data), content_type="model/stl", max_bytes=len(data))
        with storage.open(key) as reader:
            assert hashlib.sha256(reader.read_all()).digest() == hashlib.sha256(data).digest()
        assert everything_stored(storage) == names_of(storage, key)  # no temporary file left

    def test_the_content_type_given_at_put_is_the_one_read_back(self, storage: Storage) -> None:
        key = new_key()
        storage.put(key, [PDF], content_type="application/pdf", max_bytes=1024)
        info = storage.stat(key)
        assert info is not None
        assert info.content_type == "application/pdf"

    def test_the_same_file_id_under_two_tenants_is_two_objects(self, storage: Storage) -> None:
        file_id = new_id()
        a, b = StorageKey(new_id(), file_id), StorageKey(new_id(), file_id)
        storage.put(a, [b"tenant a"], content_type="text/plain", max_bytes=100)
        storage.put(b, [b"tenant b"], content_type="text/plain", max_bytes=100)
        with storage.open(a) as ra, storage.open(b) as rb:
            assert (ra.read_all(), rb.read_all()) == (b"tenant a", b"tenant b")

    def test_an_async_body_is_streamed_into_storage(self, storage: Storage) -> None:
        key = new_key()
        data = os.urandom(200 * 1024)

        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks_of(data, 32 * 1024):
                yield chunk

        stored = anyio.run(
            lambda: put_async(storage, key, body(), content_type="model/stl", max_bytes=len(data))
        )
        assert stored.size == len(data)
        with storage.open(key) as reader:
            assert reader.read_all() == data


class TestNothingIsStoredUnlessTheWholeUploadPasses:
    def test_exceeding_the_cap_stops_reading_the_stream_and_stores_nothing(
        self, storage: Storage
    ) -> None:
        source = Consumed([b"x" * 1000] * 50)
        with pytest.raises(UploadTooLarge) as raised:
            storage.put(new_key(), source, content_type="text/plain", max_bytes=4500)
        assert source.taken == 5  # the fifth chunk crosses the cap; the other 45 are never read
        assert raised.value.status_code == 413
        assert everything_stored(storage) == []

    def test_exactly_the_cap_is_accepted(self, storage: Storage) -> None:
        key = new_key()
        storage.put(key, [b"y" * 4000, b"y" * 500], content_type="text/plain", max_bytes=4500)
        assert storage.stat(key) is not None

    def test_an_interrupted_stream_stores_nothing_and_its_error_propagates(
        self, storage: Storage
    ) -> None:
        key = new_key()
        with pytest.raises(ConnectionResetError):
            storage.put(
                key, Consumed([b"z" * 1000] * 10, fail_after=3), content_type="text/plain",
                max_bytes=1 << 20,
            )  # fmt: skip
        assert storage.stat(key) is None
        assert everything_stored(storage) == []

    def test_nothing_is_visible_before_commit_and_an_abandoned_writer_leaves_nothing(
        self, storage: Storage
    ) -> None:
        key = new_key()
        with storage.writer(key, content_type="text/plain", max_bytes=1 << 20) as out:
            out.write(b"half of a file")
            assert storage.stat(key) is None
            assert not storage.exists(key)
        assert everything_stored(storage) == []
        with pytest.raises(RuntimeError):
            out.write(b"more")

    def test_bytes_that_fail_the_content_check_store_nothing_and_a_retry_then_succeeds(
        self, storage: Storage
    ) -> None:
        key = new_key()
        pdf = file_type_for("application/pdf")
        exe = b"MZ\x90\x00" + os.urandom(4000)
        with pytest.raises(ContentMismatch) as raised:
            storage.put(
                key, chunks_of(exe, 1500), content_type=pdf.content_type, max_bytes=1 << 20,
                check=pdf.content_check("drawing.pdf"),
            )  # fmt: skip
        assert raised.value.details_json() == [
            {
                "field": "file",
                "message": "File content does not match application/pdf",
                "constraint": "INVALID_VALUE",
            }
        ]
        assert everything_stored(storage) == []
        storage.put(
            key, [PDF], content_type=pdf.content_type, max_bytes=1 << 20,
            check=pdf.content_check("drawing.pdf"),
        )  # fmt: skip
        with storage.open(key) as reader:
            assert reader.read_all() == PDF

    def test_a_size_other_than_the_announced_one_stores_nothing(self, storage: Storage) -> None:
        with pytest.raises(SizeMismatch) as fewer:
            storage.put(
                new_key(), [b"abc"], content_type="text/plain", max_bytes=100, expected_bytes=5
            )
        assert fewer.value.reason == "File has 3 bytes but size_bytes announced 5"
        source = Consumed([b"abc", b"def", b"ghi"])
        with pytest.raises(SizeMismatch) as more:
            storage.put(
                new_key(), source, content_type="text/plain", max_bytes=100, expected_bytes=5
            )
        assert more.value.reason == "File has more than 5 bytes but size_bytes announced 5"
        assert more.value.status_code == 422
        assert source.taken == 2
        assert everything_stored(storage) == []

    def test_an_empty_upload_is_refused(self, storage: Storage) -> None:
        with pytest.raises(EmptyUpload) as raised:
            storage.put(new_key(), [b"", b""], content_type="text/plain", max_bytes=100)
        assert raised.value.details_json() == [
            {"field": "file", "message": "File is empty", "constraint": "MIN_LENGTH"}
        ]
        assert everything_stored(storage) == []

    def test_an_async_body_over_the_cap_stores_nothing(self, storage: Storage) -> None:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"q" * 1000

        with pytest.raises(UploadTooLarge):
            anyio.run(
                lambda: put_async(
                    storage, new_key(), body(), content_type="text/plain", max_bytes=2500
                )
            )
        assert everything_stored(storage) == []

    def test_an_async_body_that_breaks_off_stores_nothing(self, storage: Storage) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield b"first part of a drawing"
            raise ConnectionResetError("client went away")

        key = new_key()
        with pytest.raises(ConnectionResetError):
            anyio.run(
                lambda: put_async(storage, key, body(), content_type="text/plain", max_bytes=1000)
            )
        assert storage.stat(key) is None
        assert everything_stored(storage) == []


class TestDeleteAndMissing:
    def test_delete_removes_the_object_and_deleting_again_is_harmless(
        self, storage: Storage
    ) -> None:
        key = new_key()
        storage.put(key, [b"bye"], content_type="text/plain", max_bytes=100)
        storage.delete(key)
        assert storage.stat(key) is None
        assert everything_stored(storage) == []
        storage.delete(key)

    def test_a_missing_object_is_not_found(self, storage: Storage) -> None:
        key = new_key()
        assert storage.stat(key) is None
        assert not storage.exists(key)
        with pytest.raises(ObjectNotFound) as raised:
            storage.open(key)
        assert (raised.value.status_code, raised.value.message) == (
            404,
            "File not found in storage",
        )

    def test_a_key_that_is_not_a_storage_key_never_reaches_the_backend(
        self, storage: Storage
    ) -> None:
        for bad in ("../../etc/passwd", f"{uuid.uuid4()}/../../x", "/etc/passwd"):
            with pytest.raises(TypeError):
                storage.stat(bad)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                storage.put(bad, [b"x"], content_type="text/plain", max_bytes=10)  # type: ignore[arg-type]
        assert everything_stored(storage) == []

    def test_the_start_up_check_passes_on_a_usable_backend(self, storage: Storage) -> None:
        storage.check()


def names_of(storage: Storage, key: StorageKey) -> list[str]:
    """What one stored object consists of in the backend."""
    if isinstance(storage, LocalStorage):
        data = str(storage.path_of(key).relative_to(storage.root))
        return [data, f"{data}.meta"]
    assert isinstance(storage, S3Storage)
    return [storage.object_key(key)]


class TestLocalBackend:
    def test_bytes_live_under_tenant_shard_and_file_id_private_to_the_process_owner(
        self, local_storage: LocalStorage
    ) -> None:
        key = new_key()
        local_storage.put(key, [PDF], content_type="application/pdf", max_bytes=1024)
        path = local_storage.root / str(key.tenant_id) / key.file_id.hex[-2:] / str(key.file_id)
        assert path.read_bytes() == PDF
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for directory in (local_storage.root, path.parent, path.parent.parent):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert everything_stored(local_storage) == names_of(local_storage, key)  # .tmp is empty

    def test_an_unwritable_data_directory_fails_the_start_up_check(self, tmp_path: Path) -> None:
        blocker = tmp_path / "not-a-directory"
        blocker.write_bytes(b"")
        with pytest.raises(BackendUnavailable) as raised:
            LocalStorage(blocker / "files").check()
        assert raised.value.status_code == 503
        assert raised.value.headers["Retry-After"] == "5"

    def test_a_relative_root_is_fixed_when_the_backend_is_built(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        storage = LocalStorage(Path("var/files"))
        monkeypatch.chdir("/")
        key = new_key()
        storage.put(key, [b"here"], content_type="text/plain", max_bytes=10)
        assert (tmp_path / "var/files" / str(key.tenant_id)).is_dir()


class TestS3Backend:
    def test_objects_carry_the_prefix_the_content_type_and_the_hash(
        self, s3_storage: S3Storage
    ) -> None:
        key = new_key()
        s3_storage.put(key, [PDF], content_type="application/pdf", max_bytes=1024)
        head = s3_storage.client.head_object(
            Bucket=s3_storage.bucket, Key=f"files/{key.tenant_id}/{key.file_id}"
        )
        assert head["ContentType"] == "application/pdf"
        assert head["Metadata"]["sha256"] == hashlib.sha256(PDF).hexdigest()

    def test_server_side_encryption_is_requested_when_configured(
        self, s3_storage: S3Storage
    ) -> None:
        s3_storage.sse = "AES256"
        key = new_key()
        s3_storage.put(key, [b"secret drawing"], content_type="text/plain", max_bytes=100)
        head = s3_storage.client.head_object(
            Bucket=s3_storage.bucket, Key=s3_storage.object_key(key)
        )
        assert head["ServerSideEncryption"] == "AES256"

    def test_a_direct_download_url_serves_the_bytes_with_the_given_headers(
        self, s3_storage: S3Storage
    ) -> None:
        key = new_key()
        s3_storage.put(key, [PDF], content_type="application/pdf", max_bytes=1024)
        url = s3_storage.direct_download_url(
            key,
            expires_in=60,
            content_type="application/pdf",
            content_disposition='inline; filename="bracket.pdf"',
        )
        answer = httpx.get(url, trust_env=False)
        assert answer.status_code == 200
        assert answer.content == PDF
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-disposition"] == 'inline; filename="bracket.pdf"'

    def test_a_missing_bucket_fails_the_start_up_check(self, moto: object) -> None:
        endpoint = moto.endpoint_url  # type: ignore[attr-defined]
        storage = S3Storage.from_settings(s3_settings(endpoint, f"absent-{uuid.uuid4().hex[:8]}"))
        with pytest.raises(BackendUnavailable):
            storage.check()

    def test_an_unreachable_endpoint_answers_503_and_stores_nothing(self) -> None:
        from tests.support.server import free_port

        storage = S3Storage.from_settings(s3_settings(f"http://127.0.0.1:{free_port()}", "bucket"))
        key = new_key()
        with pytest.raises(BackendUnavailable) as raised:
            storage.put(key, [b"lost"], content_type="text/plain", max_bytes=10)
        assert raised.value.status_code == 503
        with pytest.raises(BackendUnavailable):
            storage.stat(key)
        with pytest.raises(BackendUnavailable):
            storage.open(key)
