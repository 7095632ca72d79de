"""`/health` is liveness, `/health/ready` readiness; `serve` and `worker` refuse an unmigrated
database with one line and exit 2; a worker whose database loses its schema logs one line and
then a count, not a traceback per poll."""

import logging
import subprocess
import time

import httpx

from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.ops.logs import RepeatFilter
from floorsync.worker.registry import registry_for
from floorsync.worker.runner import WorkerRunner
from tests.ops.conftest import Lines
from tests.support.server import start_server
from tests.support.worker_process import FLOORSYNC, worker_env


def test_ready_when_the_database_is_migrated(server) -> None:
    resp = httpx.get(f"{server.base_url}/health/ready")
    assert resp.status_code == 200
    assert resp.json()["data"]["status"] == "ready"


def test_not_ready_with_the_reason_on_an_unmigrated_database(unmigrated_url: str) -> None:
    settings = Settings(database_url=unmigrated_url, environment="test", _env_file=None)  # type: ignore[call-arg]
    live = start_server(settings)
    try:
        assert httpx.get(f"{live.base_url}/health").status_code == 200  # alive all the same
        resp = httpx.get(f"{live.base_url}/health/ready")
        assert resp.status_code == 503
        error = resp.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert error["message"] == (
            "not ready: the database has no floorsync schema: run `floorsync db upgrade`"
        )
    finally:
        live.stop()
        live.app.state.services.close()


def test_not_ready_when_the_database_is_unreachable() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",  # nothing listens on port 1
        environment="test",
        db_pool_timeout_seconds=2,
        _env_file=None,
    )  # type: ignore[call-arg]
    live = start_server(settings)
    try:
        resp = httpx.get(f"{live.base_url}/health/ready")
        assert resp.status_code == 503
        assert resp.json()["error"]["message"].startswith(
            "not ready: the database is unreachable: OperationalError: connection"
        )
    finally:
        live.stop()
        live.app.state.services.close()


def test_serve_and_worker_refuse_an_unmigrated_database(
    settings: Settings, unmigrated_url: str, tmp_path
) -> None:
    env = worker_env(
        settings, FLOORSYNC_DATABASE_URL=unmigrated_url, FLOORSYNC_DATA_DIR=str(tmp_path)
    )
    for command in (["serve", "--port", "9"], ["worker"], ["worker", "--once"]):
        done = subprocess.run(
            [str(FLOORSYNC), *command], env=env, cwd=tmp_path, capture_output=True, timeout=120
        )
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.decode().splitlines() == [
            "floorsync: the database has no floorsync schema: run `floorsync db upgrade`"
        ], command


def test_a_worker_on_a_database_without_schema_logs_one_line_then_a_count(
    unmigrated_url: str, floorsync_log: Lines
) -> None:
    settings = Settings(
        database_url=unmigrated_url, environment="test", worker_poll_seconds=0.01, _env_file=None
    )  # type: ignore[call-arg]
    services = build_services(settings)
    runner = WorkerRunner(services)
    try:
        runner.start()
        time.sleep(1.5)  # about 150 polls per delivery thread
    finally:
        runner.stop(timeout=5)
        services.close()
    errors = [line for line in floorsync_log.lines if '"level":"error"' in line]
    # one line per distinct failure (each job kind's round, the periodic tasks), no tracebacks
    assert 1 <= len(errors) <= len(registry_for(settings).kinds) + 1, errors
    assert not any('"exc"' in line or "Traceback" in line for line in errors)
    assert any("round failed" in line for line in errors)


def test_the_repeat_filter_is_on_the_handler_serve_and_worker_configure() -> None:
    from floorsync.ops.logs import log_config

    config = log_config("info")
    assert config["filters"]["repeats"]["()"] == f"{RepeatFilter.__module__}.RepeatFilter"
    assert logging.getLevelName(config["loggers"]["floorsync"]["level"]) == logging.INFO


def test_ready_reports_the_file_storage(server) -> None:
    assert httpx.get(f"{server.base_url}/health/ready").json()["data"]["storage"] == "ok"


def test_not_ready_when_the_file_storage_is_unusable(settings: Settings, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    broken = settings.model_copy(update={"storage_local_dir": blocker / "files"})
    live = start_server(broken)
    try:
        resp = httpx.get(f"{live.base_url}/health/ready")
        assert resp.status_code == 503
        message = resp.json()["error"]["message"]
        assert message.startswith(
            f"not ready: file storage (local) is unusable: {blocker / 'files'} is not writable"
        ), message
    finally:
        live.stop()
        live.app.state.services.close()


def test_serve_and_worker_refuse_unusable_file_storage(settings: Settings, tmp_path) -> None:
    """A local directory that can't be written, and an S3 endpoint nobody answers: one line,
    exit 2, before anything is served or claimed."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    local = worker_env(
        settings,
        FLOORSYNC_DATA_DIR=str(tmp_path),
        FLOORSYNC_STORAGE_LOCAL_DIR=str(blocker / "files"),
    )
    s3 = worker_env(
        settings,
        FLOORSYNC_DATA_DIR=str(tmp_path),
        FLOORSYNC_STORAGE_BACKEND="s3",
        FLOORSYNC_S3_BUCKET="floorsync-missing",
        FLOORSYNC_S3_ENDPOINT_URL="http://127.0.0.1:1",  # nothing listens on port 1
        FLOORSYNC_S3_ADDRESSING_STYLE="path",
        FLOORSYNC_S3_ACCESS_KEY_ID="testing",
        FLOORSYNC_S3_SECRET_ACCESS_KEY="testing",
    )
    for env, expected in (
        (
            local,
            f"floorsync: file storage (local) is unusable: {blocker / 'files'} is not writable",
        ),
        (s3, "floorsync: file storage (s3) is unusable: "),
    ):
        for command in (["serve", "--port", "9"], ["worker", "--once"]):
            done = subprocess.run(
                [str(FLOORSYNC), *command], env=env, cwd=tmp_path, capture_output=True, timeout=180
            )
            lines = done.stderr.decode().splitlines()
            assert done.returncode == 2, (command, lines)
            assert len(lines) == 1, lines
            assert lines[0].startswith(expected), lines
