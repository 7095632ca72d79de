"""Database work that runs while Python works: a write handed to a helper thread on the
session's own connection, inside its transaction (issue 10 item 7).

A bulk sync's big upsert keeps the server busy for tens of milliseconds while the request's
thread has nothing to do but wait; meanwhile it could render the records' events. `start`
runs a callable that uses the session's driver connection (db/upsert.py's prepared upserts)
on a helper thread and returns at once; `InFlight.result()` waits for it and re-raises its
error. The driver releases the GIL while it waits for the server (psycopg) or while SQLite
works (sqlite3's step), so the two really overlap.

One statement at a time per connection: while a write is in flight, anything else that would
use that connection through SQLAlchemy (a query, a flush, a savepoint, COMMIT or ROLLBACK)
first waits for it (`_guard`, a listener on every engine), and db/upsert.py's own driver-level
statements do the same (`settle`). So code inside the overlap may query; it only loses the
overlap. The write runs in the caller's transaction and savepoint: its failure surfaces at
`result()` (or at the next use of the connection) as the same exception it would have raised
inline, and the caller's savepoint rolls it back as before.

A thread per write, not a pool: a write may wait on a row lock held by another request whose
own write would then queue behind it in a bounded pool.
"""

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "floorsync.write_in_flight"


class InFlight(Generic[T]):
    """A write running on a helper thread; `result()` joins it (once) and returns its value
    or raises its exception."""

    def __init__(self, info: dict[Any, Any], work: Callable[[], T]) -> None:
        self._info = info
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False
        self._thread = threading.Thread(target=self._run, name="floorsync-write", daemon=True)
        info[_KEY] = self
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def result(self) -> T:
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        """Join without raising: the error stays for `result()`."""
        if not self._done:
            self._thread.join()
            self._done = True
            if self._info.get(_KEY) is self:
                del self._info[_KEY]


def start(session: Session, work: Callable[[], T]) -> InFlight[T]:
    """Run `work` (which uses the session's driver connection) on a helper thread; the
    session's connection is reserved for it until `result()` (or a guarded use) joins it."""
    connection = session.connection()
    settle(connection.info)
    return InFlight(connection.info, work)


def settle(info: dict[Any, Any]) -> None:
    """Wait for the write in flight on the connection with this `info`, if any. Its error is
    kept for its owner's `result()`."""
    pending = info.get(_KEY)
    if pending is not None:
        pending.wait()


def _guard(conn: Any, *_args: Any, **_kwargs: Any) -> None:
    # A closed or invalidated Connection has no DBAPI connection (and no write in flight):
    # `conn.info` would try to reconnect it, in the middle of its rollback.
    if conn.closed or conn.invalidated:
        return
    info = conn.info
    if info:
        settle(info)


# Every statement, transaction and savepoint boundary on any engine waits for its connection's
# write in flight first (a dict lookup when there is none).
for _name in (
    "before_cursor_execute",
    "commit",
    "rollback",
    "savepoint",
    "rollback_savepoint",
    "release_savepoint",
):
    event.listen(Engine, _name, _guard)
