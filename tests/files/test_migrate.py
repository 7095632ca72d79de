"""`floorsync files migrate --to s3` (api-catalogue-completion §2.2): files written on the local
backend move to S3 (moto's server on 127.0.0.1), their rows follow, the local bytes go, and the
files stay downloadable — a row is read from the backend it names, whichever is configured."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from floorsync.bootstrap import build_services
from floorsync.cli.app import app
from floorsync.config import Settings, get_settings
from floorsync.files.migrate import migrate_files
from floorsync.models.catalogue import StoredFile
from floorsync.storage.keys import StorageKey
from tests.files.test_signed_urls import issue, put
from tests.shopfloor.helpers import make_job, ok
from tests.storage.conftest import moto, s3_client  # noqa: F401  (fixtures)
from tests.support.moto_server import MotoServer
from tests.support.server import start_server
from tests.support.tenants import TenantHandle, make_tenant


@pytest.fixture
def both(database_url: str, tmp_path: Path, moto: MotoServer, s3_client: Any) -> Settings:  # noqa: F811
    """Local storage configured, S3 reachable as the other backend."""
    bucket = f"fs-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    return Settings(
        database_url=database_url,
        environment="test",
        secret_key="file-url-test-secret",
        storage_backend="local",
        storage_local_dir=tmp_path / "files",
        data_dir=tmp_path,
        s3_bucket=bucket,
        s3_endpoint_url=moto.endpoint_url,
        s3_addressing_style="path",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.fixture
def local_tenant(both: Settings, sessions: sessionmaker[Session]) -> Iterator[TenantHandle]:
    live = start_server(both)
    handle = make_tenant(live, sessions, "migrate")
    yield handle
    handle.close()
    live.stop()


def backend_of(sessions: sessionmaker[Session], tenant: TenantHandle, path: str) -> StoredFile:
    with sessions() as s:
        return s.scalars(
            select(StoredFile).where(StoredFile.tenant_id == tenant.id, StoredFile.path == path)
        ).one()


def test_files_move_to_s3_and_stay_downloadable(
    both: Settings, local_tenant: TenantHandle, sessions: sessionmaker[Session]
) -> None:
    c = local_tenant.client
    part = make_job(c, ops=0).parts[0]
    got = issue(c, "drawing.txt", "text/plain", part_id=part)
    data = b"G0 X10 Y20\n" * 100
    assert put(got["upload_url"], data, "text/plain").status_code == 200
    row = backend_of(sessions, local_tenant, got["file_path"])
    assert str(row.backend) == "local"
    key = StorageKey.parse(row.storage_key)

    on_s3 = build_services(both.model_copy(update={"storage_backend": "s3"}))
    try:
        local = on_s3.storage_of("local")
        assert local.stat(key) is not None
        report = migrate_files(on_s3.sessions, local, on_s3.storage, tenant_id=local_tenant.id)
        assert (report.copied, report.failed) == (1, 0)
        assert str(backend_of(sessions, local_tenant, got["file_path"]).backend) == "s3"
        assert local.stat(key) is None
        with on_s3.storage.open(key) as reader:
            assert reader.read_all() == data
        again = migrate_files(on_s3.sessions, local, on_s3.storage, tenant_id=local_tenant.id)
        assert (again.copied, again.failed) == (0, 0)
    finally:
        on_s3.close()
    # the server still configured for local storage reads the moved file from S3
    url = ok(c.get(f"/api-parts/{part}/file-url", params={"path": got["file_path"]}))["url"]
    assert httpx.get(url, timeout=60).content == data


def test_the_command_wants_the_configured_backend(
    both: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOORSYNC_DATABASE_URL", both.database_url)
    monkeypatch.setenv("FLOORSYNC_STORAGE_BACKEND", "local")
    monkeypatch.setenv("FLOORSYNC_STORAGE_LOCAL_DIR", str(both.storage_local_root))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        wrong = runner.invoke(app, ["files", "migrate", "--to", "s3"])
        assert wrong.exit_code == 2
        assert "FLOORSYNC_STORAGE_BACKEND is local" in wrong.output
        bad = runner.invoke(app, ["files", "migrate", "--to", "ftp"])
        assert bad.exit_code == 2
        assert "--to must be s3 or local" in bad.output
    finally:
        get_settings.cache_clear()
