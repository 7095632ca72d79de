"""Storage fixtures: the local backend in a temporary directory and the S3 backend against moto's
standalone server on 127.0.0.1 (one per session, a fresh bucket per test). `storage` runs a test
once per backend."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from floorsync.config import Settings
from floorsync.storage.base import Storage
from floorsync.storage.local import LocalStorage
from floorsync.storage.s3 import S3Storage, client_from_settings
from tests.support.moto_server import MotoServer, start_moto_server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    server = start_moto_server()
    yield server
    server.stop()


def s3_settings(endpoint_url: str, bucket: str, **overrides: object) -> Settings:
    return Settings(
        environment="test",
        storage_backend="s3",
        s3_bucket=bucket,
        s3_endpoint_url=endpoint_url,
        s3_addressing_style="path",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        _env_file=None,
        **overrides,
    )  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def s3_client(moto: MotoServer) -> "S3Client":
    # Building a boto3 client costs about a second; the tests share one, as processes do.
    return client_from_settings(s3_settings(moto.endpoint_url, "unused"))


@pytest.fixture
def s3_storage(s3_client: "S3Client", tmp_path: Path) -> S3Storage:
    bucket = f"fs-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)  # floorsync never creates its bucket
    spool = tmp_path / "spool"
    spool.mkdir()
    return S3Storage(s3_client, bucket, prefix="files/", spool_dir=spool)


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    name = "local_storage" if request.param == "local" else "s3_storage"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]
