"""A live server per storage backend (local in a temporary directory; S3 against moto's
standalone server on 127.0.0.1 with a fresh bucket), on a fake clock, with a 1 MiB limit."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.kit.clock import FakeClock
from tests.storage.conftest import moto, s3_client  # noqa: F401  (fixtures)
from tests.support.moto_server import MotoServer
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle, make_tenant


@dataclass
class FileServer:
    server: LiveServer
    clock: FakeClock
    backend: str
    root: Path


@pytest.fixture(scope="module", params=["local", "s3"])
def file_server(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FileServer]:
    root = tmp_path_factory.mktemp("files")
    extra: dict[str, object] = {}
    if request.param == "s3":
        server: MotoServer = request.getfixturevalue("moto")
        bucket = f"fs-{uuid.uuid4().hex[:12]}"
        request.getfixturevalue("s3_client").create_bucket(Bucket=bucket)
        extra = {
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": server.endpoint_url,
            "s3_addressing_style": "path",
            "s3_access_key_id": "testing",
            "s3_secret_access_key": "testing",
        }
    settings = Settings(
        database_url=database_url,
        environment="test",
        secret_key="file-url-test-secret",
        storage_local_dir=root,
        data_dir=root,
        storage_max_upload_mb=1,
        storage_max_image_mb=1,
        _env_file=None,
        **extra,
    )  # type: ignore[call-arg]
    clock = FakeClock()
    live = start_server(settings, clock=clock)
    yield FileServer(live, clock, str(request.param), root)
    live.stop()


@pytest.fixture
def files_tenant(
    file_server: FileServer, sessions: sessionmaker[Session]
) -> Iterator[TenantHandle]:
    handle = make_tenant(file_server.server, sessions, "files")
    yield handle
    handle.close()


@pytest.fixture
def other_files_tenant(
    file_server: FileServer, sessions: sessionmaker[Session]
) -> Iterator[TenantHandle]:
    handle = make_tenant(file_server.server, sessions, "files-b")
    yield handle
    handle.close()
