"""SQLite writers take turns at the write lock (db/sqlite_turns.py): a writer that waits goes
before the writer that just committed, a writer that cannot get its turn fails as SQLite does
("database is locked", which the API answers 503), and readers never queue. These run on a
SQLite file of their own under either --db: the turnstile is SQLite's."""

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from floorsync.db import sqlite_turns
from floorsync.db.engine import make_engine, make_sessionmaker, read_sessions
from floorsync.db.transient import is_transient


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT)")
    yield engine
    engine.dispose()


def test_a_waiting_writer_goes_before_the_writer_that_just_committed(engine: Engine) -> None:
    """A writes 60 transactions back to back, each holding the lock 5 ms; B asks for the lock
    while A is in its 6th. Without the turnstile B's busy handler sleeps and retries and A,
    beginning again microseconds after each commit, keeps winning: B came after all 60."""
    b_may_start = threading.Event()
    errors: list[BaseException] = []

    def writer_a() -> None:
        try:
            for i in range(60):
                with engine.begin() as conn:
                    conn.exec_driver_sql("INSERT INTO log (who) VALUES ('a')")
                    if i == 5:
                        b_may_start.set()
                    time.sleep(0.005)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    def writer_b() -> None:
        b_may_start.wait(10)
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO log (who) VALUES ('b')")

    a = threading.Thread(target=writer_a)
    a.start()
    writer_b()
    a.join()
    assert not errors
    with engine.connect() as conn:
        order = [who for (who,) in conn.exec_driver_sql("SELECT who FROM log ORDER BY n")]
    assert order.count("a") == 60
    # B waited while A's 6th transaction ran; A may finish it and start one more before B's
    # polling sees the turnstile, never more.
    assert order.index("b") <= 8, order


def test_a_writer_that_cannot_get_its_turn_fails_as_sqlite_does(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_turns, "BUSY_TIMEOUT_S", 0.2)
    with engine.begin() as holder, engine.connect() as late:
        holder.exec_driver_sql("INSERT INTO log (who) VALUES ('holder')")
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised:
            late.begin()  # waits for its turn before BEGIN IMMEDIATE, then gives up
        assert 0.2 <= time.monotonic() - started < 5
    assert "database is locked" in str(raised.value)
    assert is_transient(raised.value)  # the API answers it 503 with Retry-After
    with engine.begin() as conn:  # the holder's turn ended with its commit
        conn.exec_driver_sql("INSERT INTO log (who) VALUES ('next')")
        whos = [w for (w,) in conn.exec_driver_sql("SELECT who FROM log ORDER BY n")]
    assert whos == ["holder", "next"]


def test_a_rolled_back_or_abandoned_transaction_gives_its_turn_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_turns, "BUSY_TIMEOUT_S", 1.0)
    sessions = make_sessionmaker(engine)
    with sessions() as session:  # closed without commit: rolled back
        session.execute(text("INSERT INTO log (who) VALUES ('gone')"))

    def failing_unit() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO log (who) VALUES ('gone too')")
            raise RuntimeError("the unit of work failed")

    with pytest.raises(RuntimeError):
        failing_unit()
    conn = engine.connect()  # dropped with its transaction open
    conn.exec_driver_sql("INSERT INTO log (who) VALUES ('dropped')")
    conn.invalidate()
    conn.close()
    with sessions.begin() as session:
        session.execute(text("INSERT INTO log (who) VALUES ('kept')"))
    with engine.connect() as check:
        whos = [w for (w,) in check.exec_driver_sql("SELECT who FROM log")]
    assert whos == ["kept"]


def test_readers_do_not_queue_behind_a_writer(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_turns, "BUSY_TIMEOUT_S", 0.2)
    reads = read_sessions(make_sessionmaker(engine))
    with engine.begin() as writer, reads() as session:
        writer.exec_driver_sql("INSERT INTO log (who) VALUES ('w')")
        # WAL: the reader begins deferred and sees the snapshot from before the write, at once
        assert session.execute(text("SELECT count(*) FROM log")).scalar_one() == 0
