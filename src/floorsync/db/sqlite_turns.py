"""SQLite writers take turns: a turnstile in front of the one write lock (issue 10 item 9).

SQLite has one write lock per database file, and a writer that finds it taken does not queue:
its busy handler sleeps (1, 2, 5, … then 100 ms at a time) and tries again. A process that
commits and at once begins its next write transaction — the API under a burst of requests, a
producer committing back to back — takes the lock again long before a sleeping waiter wakes,
again and again. Measured with `bench/webhooks.py --db sqlite --busy 2` (the machine's two
cores kept busy): the worker's record transaction waited 4–9 s for the lock while the producer
committed back to back, and commit → first attempt p95 reached 2–11 s.

So a floorsync write transaction on a SQLite file first takes two advisory locks (`flock`) on
files next to the database: the *turnstile*, held only until it holds the *writer* lock, and
the writer lock, held until the transaction ends. A writer waiting for the writer lock keeps
the turnstile, so the writer that just committed cannot come back before it: under contention
writers alternate, whichever process or thread they are in (each connection has its own file
descriptors, and `flock` locks of different descriptors conflict even in one process).

SQLite's own lock still guards the data: the writer lock is released when COMMIT or ROLLBACK is
issued, a moment before SQLite releases its own, and the next writer's BEGIN IMMEDIATE waits
that moment out in the busy handler. Programs outside floorsync (the `sqlite3` shell) are not
in the queue and keep the busy timeout. Read-only transactions (`read_sessions`) take nothing.
A writer that cannot get its turn within the busy timeout fails as SQLite would, with
"database is locked".
"""

import fcntl
import os
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

_KEY = "floorsync.sqlite_turn"
BUSY_TIMEOUT_S = 30.0  # as PRAGMA busy_timeout (db/engine.py)
_POLL_S = (0.0002, 0.0005, 0.001, 0.002)  # then 2 ms: a handover costs a few ms at most


class _Turn:
    """The two lock files' descriptors of one DBAPI connection, and whether it holds the
    writer lock."""

    def __init__(self, path: str) -> None:
        self.turnstile = os.open(path + "-turnstile", os.O_RDWR | os.O_CREAT, 0o600)
        self.writer = os.open(path + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
        self.holding = False

    def take(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        _lock(self.turnstile, deadline)
        try:
            _lock(self.writer, deadline)
        finally:
            fcntl.flock(self.turnstile, fcntl.LOCK_UN)
        self.holding = True

    def give_back(self) -> None:
        if self.holding:
            self.holding = False
            fcntl.flock(self.writer, fcntl.LOCK_UN)

    def close(self) -> None:
        self.holding = False
        for fd in (self.turnstile, self.writer):
            os.close(fd)  # closing the descriptor drops its lock


def _lock(fd: int, deadline: float) -> None:
    """Take `fd`'s exclusive lock, polling (a blocking `flock` could not give up at the
    deadline)."""
    tries = 0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                # What SQLite raises after its busy timeout, wrapped as SQLAlchemy would: the
                # API answers it 503 with Retry-After (db/transient.py).
                raise OperationalError(
                    "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                ) from None
            time.sleep(_POLL_S[min(tries, len(_POLL_S) - 1)])
            tries += 1


def install(engine: Engine, path: str) -> None:
    """Give each of `engine`'s connections its turn (lock files next to the database file at
    `path`) and give the turn back when a transaction ends; the engine's `begin` listener
    calls `take_turn` before it issues BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _open(_dbapi_conn: Any, record: Any) -> None:
        record.info[_KEY] = _Turn(path)

    def _give_back(info: dict[Any, Any]) -> None:
        turn = info.get(_KEY)
        if turn is not None:
            turn.give_back()

    @event.listens_for(engine, "close")
    def _close(_dbapi_conn: Any, record: Any) -> None:
        turn = record.info.pop(_KEY, None)
        if turn is not None:
            turn.close()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn: Any) -> None:
        if not (conn.closed or conn.invalidated):
            _give_back(conn.info)

    # Safety nets: a connection back in the pool (its reset on return included), or thrown
    # away, holds no turn. (SQLAlchemy reads each listener's signature, so each has its
    # event's own.)
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, connection_record: Any) -> None:
        if connection_record is not None:
            _give_back(connection_record.info)

    @event.listens_for(engine, "invalidate")
    def _invalidate(_dbapi_connection: Any, connection_record: Any, _exception: Any) -> None:
        if connection_record is not None:
            _give_back(connection_record.info)


def take_turn(conn: Any) -> None:
    """Wait for this connection's turn to write (from the engine's `begin` listener)."""
    turn = conn.info.get(_KEY)
    if turn is not None and not turn.holding:
        turn.take(BUSY_TIMEOUT_S)
