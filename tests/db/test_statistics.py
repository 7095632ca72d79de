"""Planner statistics after bulk loads (db/statistics.py, issue 10 item 2): the rule (never
analysed and over 1,000 rows, or grown by more than 20 %), the per-table throttle under a fake
clock, and the hook after a committed bulk sync — observed where the database records it
(`pg_stat_user_tables.last_analyze` on PostgreSQL, `sqlite_stat1` on SQLite)."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.statistics import TableStatistics
from tests.support.api import ok
from tests.support.tenants import TenantHandle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(sessions: sessionmaker[Session]) -> Engine:
    bind: Engine = sessions.kw["bind"]
    return bind


@pytest.fixture
def probe(engine: Engine) -> Iterator[str]:
    """A scratch table of our own, so no other test's writes or analyses interfere."""
    name = f"stat_probe_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.exec_driver_sql(f"CREATE INDEX ix_{name}_v ON {name} (v)")
    yield name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {name}")


def insert(engine: Engine, table: str, start: int, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO {table} (id, v) VALUES (:id, :v)"),
            [{"id": i, "v": i % 7} for i in range(start, start + n)],
        )


def analysed_marker(engine: Engine, table: str) -> Any:
    """What changes when `table` is analysed: its last_analyze, or its sqlite_stat1 row."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.scalar(
                text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": table},
            )
        exists = conn.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sqlite_stat1'")
        )
        if not exists:
            return None
        return conn.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table})


def test_a_never_analysed_table_over_1000_rows_is_analysed(engine: Engine, probe: str) -> None:
    stats = TableStatistics(engine, clock=FakeClock(), background=False)
    insert(engine, probe, 0, 1500)
    assert analysed_marker(engine, probe) is None
    stats.note_writes({probe: 1500})
    assert stats.run_due() is None
    assert stats.analysed == [probe]
    assert analysed_marker(engine, probe) is not None


def test_small_tables_and_small_growth_are_left_alone(engine: Engine, probe: str) -> None:
    clock = FakeClock()
    stats = TableStatistics(engine, clock=clock, background=False)
    insert(engine, probe, 0, 600)
    stats.note_writes({probe: 600})
    stats.run_due()
    assert stats.analysed == []
    assert analysed_marker(engine, probe) is None

    insert(engine, probe, 600, 1400)  # 2000 rows, never analysed
    stats.note_writes({probe: 1400})
    stats.run_due()
    assert stats.analysed == [probe]
    marker = analysed_marker(engine, probe)

    clock.now += 3600  # long past the throttle
    insert(engine, probe, 2000, 300)  # 15 % growth
    stats.note_writes({probe: 300})
    stats.run_due()
    assert stats.analysed == [probe]
    assert analysed_marker(engine, probe) == marker


def test_growth_over_20_percent_is_analysed_at_most_once_a_minute(
    engine: Engine, probe: str
) -> None:
    clock = FakeClock()
    stats = TableStatistics(engine, clock=clock, background=False)
    insert(engine, probe, 0, 2000)
    stats.note_writes({probe: 2000})
    stats.run_due()
    assert stats.analysed == [probe]
    first = analysed_marker(engine, probe)

    clock.now += 10
    insert(engine, probe, 2000, 1000)  # +50 %, but 10 s after the last ANALYZE
    stats.note_writes({probe: 1000})
    wait = stats.run_due()
    assert stats.analysed == [probe]
    assert analysed_marker(engine, probe) == first
    assert wait == pytest.approx(50)

    clock.now += 50  # the interval has passed: the pending growth is analysed now
    if engine.dialect.name == "postgresql":
        time.sleep(0.01)  # last_analyze has a clock of its own
    assert stats.run_due() is None
    assert stats.analysed == [probe, probe]
    assert analysed_marker(engine, probe) != first


def test_a_bulk_sync_that_grows_a_table_analyses_it_in_the_background(
    tenant: TenantHandle, engine: Engine
) -> None:
    before = analysed_marker(engine, "resources")
    source = f"S-{uuid.uuid4().hex[:6]}"
    for batch in range(2):
        items = [
            {
                "external_id": f"R-{batch}-{i}",
                "external_source": source,
                "name": f"R-{batch}-{i}",
                "type": "tool",
            }
            for i in range(800)
        ]
        body = ok(tenant.client.post("/api-resources/bulk-sync", json={"items": items}))
        assert body["created"] == 800
    deadline = time.monotonic() + 75  # at worst a throttle of 60 s
    while analysed_marker(engine, "resources") == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert analysed_marker(engine, "resources") != before
