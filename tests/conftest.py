"""Test fixtures: a migrated real database (SQLite file or PostgreSQL), a real uvicorn server on
127.0.0.1 serving the app, and fresh tenants with keys so tests never see each other's rows."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.engine import make_engine, make_sessionmaker
from floorsync.db.migrate import upgrade
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle, make_tenant


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database engine to test against",
    )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if db_kind == "postgresql":
        url = os.environ.get("FLOORSYNC_TEST_DATABASE_URL")
        if not url:
            pytest.exit("--db=postgresql needs FLOORSYNC_TEST_DATABASE_URL", returncode=2)
    else:
        path: Path = tmp_path_factory.mktemp("db") / "floorsync.db"
        url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, environment="test", webhook_allow_private=True, _env_file=None
    )  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[LiveServer]:
    live = start_server(settings)
    yield live
    live.stop()


@pytest.fixture
def tenant(server: LiveServer, sessions: sessionmaker[Session]) -> Iterator[TenantHandle]:
    handle = make_tenant(server, sessions)
    yield handle
    handle.close()


@pytest.fixture
def other_tenant(server: LiveServer, sessions: sessionmaker[Session]) -> Iterator[TenantHandle]:
    handle = make_tenant(server, sessions, name="other")
    yield handle
    handle.close()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for natural keys."""
    return uuid.uuid4().hex[:8]
