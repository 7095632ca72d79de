"""Engines and sessionmakers for SQLite (the default) and PostgreSQL."""

import json
import weakref
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db import sqlite_turns


class JSONText:
    """A value that json_text already serialised: a JSON column writes its text as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def json_text(value: Any) -> str:
    """How JSON columns are written: orjson (compact, several times faster than `json.dumps`,
    which matters for 1000-event batches); what it refuses (integers over 64 bits, non-string
    keys) goes through `json.dumps` as before."""
    if type(value) is JSONText:
        return value.text
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int | None = None,
    pool_timeout: float = 30,
) -> Engine:
    """An engine whose pool holds `pool_size` connections plus `max_overflow` (default twice the
    pool size) opened on demand; a checkout that waits longer than `pool_timeout` seconds raises
    `sqlalchemy.exc.TimeoutError` (the API answers 503)."""
    pool = {
        "pool_size": pool_size,
        "max_overflow": pool_size * 2 if max_overflow is None else max_overflow,
        "pool_timeout": pool_timeout,
    }
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool)
    engine = create_engine(url, pool_pre_ping=True, json_serializer=json_text, **pool)
    _pin_utc(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        limits = conn.get_execution_options().get(TIMEOUTS)
        if limits:
            conn.exec_driver_sql(
                "SELECT "
                + ", ".join(f"set_config('{name}', '{int(ms)}', true)" for name, ms in limits)
            )

    return engine


def _pin_utc(engine: Engine) -> None:
    """Every PostgreSQL session runs in UTC, whatever the server, the role or `PGTZ` say.

    timestamptz values reach the driver rendered in the session's zone: in a zone with a
    local-mean-time offset (America/New_York is −4:56:02 before 1883) year 1 becomes 1 BC,
    which Python's datetime cannot hold, so reading such a row failed.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()


def _sqlite_engine(url: str, pool: dict[str, Any]) -> Engine:
    path = url.split("///", 1)[-1]
    on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")
    if on_disk:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        kw: dict[str, Any] = pool
    else:
        kw = {}  # an in-memory database lives in one connection (SingletonThreadPool)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        json_serializer=json_text,
        **kw,
    )
    if on_disk:  # writers take turns at the write lock (db/sqlite_turns.py)
        sqlite_turns.install(engine, path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling would defer BEGIN and break SAVEPOINT; we
        # emit BEGIN ourselves (below), so turn it off.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # Foreign keys are ignored by SQLite unless switched on per connection.
        cur.execute("PRAGMA foreign_keys=ON")
        # WAL lets the API and the worker read while one of them writes.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: two writers that both began deferred would deadlock
        # when upgrading their read locks. Read-only sessions (read_sessions) begin deferred,
        # so reads never wait for the write lock (WAL gives them a snapshot).
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        sqlite_turns.take_turn(conn)
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


# Execution option read at BEGIN on PostgreSQL: ((setting, milliseconds), ...) set for the
# transaction only (`set_config(…, is_local => true)`, i.e. SET LOCAL).
TIMEOUTS = "floorsync_timeouts"


def with_timeouts(
    sessions: sessionmaker[Session], *, lock_ms: int, statement_ms: int
) -> sessionmaker[Session]:
    """Sessions on the same engine (and pool) whose transactions set `lock_timeout` and
    `statement_timeout` on PostgreSQL (a value of 0 leaves the server's setting alone). A lock
    wait that runs out raises SQLSTATE 55P03, a statement that does 57014; both roll the
    transaction back. SQLite ignores them: writers queue on its one write lock (busy timeout)."""
    bind = sessions.kw["bind"]
    limits = tuple(
        (name, ms)
        for name, ms in (("lock_timeout", lock_ms), ("statement_timeout", statement_ms))
        if ms > 0
    )
    return sessionmaker(
        bind.execution_options(**{TIMEOUTS: limits}), expire_on_commit=False, autoflush=False
    )


READ_ONLY = "floorsync_read_only"
_READ_MAKERS: "weakref.WeakKeyDictionary[sessionmaker[Session], sessionmaker[Session]]" = (
    weakref.WeakKeyDictionary()
)


def read_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A sessionmaker on the same engine (and pool) for sessions that only read.

    On SQLite their transactions begin deferred instead of taking the write lock; elsewhere
    they behave like `sessions`. Writing through one is a bug (SQLite may then answer "database
    is locked" instead of waiting).
    """
    maker = _READ_MAKERS.get(sessions)
    if maker is None:
        bind = sessions.kw.get("bind")
        if bind is None:
            return sessions
        maker = sessionmaker(
            bind.execution_options(**{READ_ONLY: True}), expire_on_commit=False, autoflush=False
        )
        _READ_MAKERS[sessions] = maker
    return maker
