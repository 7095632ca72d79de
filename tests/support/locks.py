"""What PostgreSQL says about the locks of the test database: who waits, who sits in an open
transaction."""

import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker


def waiting_connections(sessions: sessionmaker[Session]) -> list[Any]:
    """Connections of this database that wait on a lock or sit in an open transaction, and
    locks not granted: (pid, state or lock type, wait event type or mode, …)."""
    with sessions() as session:
        return list(
            session.execute(
                text(
                    "SELECT pid, state, wait_event_type, wait_event, left(query, 80) "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() "
                    "AND (wait_event_type = 'Lock' OR state LIKE 'idle in transaction%')"
                )
            )
        ) + list(
            session.execute(
                text(
                    "SELECT l.pid, l.locktype, l.mode, l.granted, NULL FROM pg_locks l "
                    "JOIN pg_database d ON d.oid = l.database "
                    "WHERE d.datname = current_database() AND NOT l.granted"
                )
            )
        )


def settled(sessions: sessionmaker[Session], timeout: float = 5) -> list[Any]:
    """`waiting_connections` once it is empty, or what is left after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = waiting_connections(sessions)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def wait_for_a_lock_wait(sessions: sessionmaker[Session], timeout: float = 10) -> None:
    """Return once some connection of this database waits on a lock."""
    deadline = time.monotonic() + timeout
    while not any(row[2] == "Lock" for row in waiting_connections(sessions)):
        if time.monotonic() > deadline:
            raise AssertionError("no connection started waiting on a lock")
        time.sleep(0.05)
