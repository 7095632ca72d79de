"""An exhausted connection pool (issue 8, item 6): a request that finds no free connection within
the pool timeout answers 503 SERVICE_UNAVAILABLE with Retry-After (not a 500 after 30 s), the
server logs one line for it, writes nothing, and serves again once a connection is back."""

import logging
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.models.master import Cell
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle


@pytest.fixture(scope="module")
def one_connection(settings: Settings) -> Iterator[LiveServer]:
    """A server whose pool has one connection, no overflow, and waits 0.5 s for it."""
    live = start_server(
        settings.model_copy(
            update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_seconds": 0.5}
        )
    )
    yield live
    live.stop()


def test_requests_that_find_every_connection_busy_answer_503_with_retry_after(
    one_connection: LiveServer,
    tenant: TenantHandle,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"cell-{uuid.uuid4().hex[:8]}"
    with httpx.Client(
        base_url=one_connection.base_url,
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
        timeout=30,
    ) as http:
        assert http.get("/api-cells").status_code == 200
        holder = one_connection.app.state.services.sessions()
        holder.connection()  # checks out the pool's only connection
        try:
            with caplog.at_level(logging.WARNING):
                started = time.monotonic()
                read = http.get("/api-cells")
                write = http.post("/api-cells", json={"name": name})
                took = time.monotonic() - started
        finally:
            holder.close()
        for reply in (read, write):
            assert reply.status_code == 503, reply.text
            assert reply.headers["Retry-After"] == "2"
            assert reply.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert took < 10  # each waited the pool timeout (0.5 s), not 30 s
        lines = [r for r in caplog.records if r.name.startswith("floorsync")]
        assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
        assert all("connection pool exhausted" in r.getMessage() for r in lines)
        assert all(r.exc_info is None for r in lines)  # one line each, no stack trace
        with sessions() as session:
            written = session.scalars(
                scoped(Cell, TenantScope(tenant.id)).where(Cell.name == name)
            ).all()
        assert written == []
        assert http.get("/api-cells").status_code == 200  # the connection is back
