"""Lock and statement timeouts (PostgreSQL): every API transaction sets them for itself (SET
LOCAL), so they never leak to other users of a pooled connection; the delivery worker's
transactions run without them (README, Failure behaviour)."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from floorsync.app import build_services
from floorsync.config import Settings
from floorsync.worker.runner import WorkerRunner


def limits(sessions: sessionmaker[Session]) -> tuple[str, str]:
    with sessions() as session:
        return (
            str(session.execute(text("SHOW lock_timeout")).scalar()),
            str(session.execute(text("SHOW statement_timeout")).scalar()),
        )


def test_api_transactions_set_both_timeouts_and_worker_transactions_neither(
    db_kind: str, settings: Settings
) -> None:
    if db_kind != "postgresql":
        pytest.skip("lock_timeout and statement_timeout are PostgreSQL settings")
    services = build_services(
        settings.model_copy(
            update={"db_lock_timeout_ms": 1234, "db_statement_timeout_ms": 5678, "db_pool_size": 1}
        )
    )
    engine = services.sessions.kw["bind"]
    runner = WorkerRunner(services)
    try:
        assert limits(services.sessions) == ("1234ms", "5678ms")
        assert limits(runner.sessions) == ("0", "0")
        # The pooled connection itself (a pool of one) kept nothing of the API transaction.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "0"
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
            raw.rollback()
        finally:
            raw.close()
    finally:
        engine.dispose()
