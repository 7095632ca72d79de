"""Database conditions a retry can cure, and the whole-unit retry.

PostgreSQL aborts a transaction it cannot let go on: a deadlock (SQLSTATE 40P01), a
serialization failure (40001) or a lock wait longer than `lock_timeout` (55P03). The whole
transaction is then rolled back, so the unit of work that ran it can simply be run again from
the start: `retry_lock_conflicts` does so a few times with jittered exponential back-off. Such an
abort must never be caught half-way (for example by a per-record fallback inside the same
transaction, which keeps the locks already taken and piles up more conflicts): it has to reach
the boundary that owns the unit of work.

Other transient conditions are not retried in process: a lost connection, a server shutting
down, a statement over `statement_timeout`, SQLite's write lock still busy after its busy
timeout, an exhausted connection pool. They already waited, or won't clear in milliseconds; the
API answers them 503 with `Retry-After` (http.errors).
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger("floorsync.db")

T = TypeVar("T")

LOCK_CONFLICTS = frozenset({"40001", "40P01", "55P03"})
_TRANSIENT = LOCK_CONFLICTS | {
    "57014",  # query_canceled: statement_timeout
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "53300",  # too_many_connections
    "08000",
    "08001",
    "08003",
    "08006",
}
# Driver errors without a SQLSTATE (SQLite; a connection that failed before the server answered).
_TRANSIENT_WORDS = ("database is locked", "could not connect", "connection", "deadlock")

ATTEMPTS = 3  # the first run and two retries
BASE_DELAY = 0.05  # seconds before the first retry; doubled for each further one


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def is_lock_conflict(exc: BaseException) -> bool:
    """The database rolled the transaction back for a deadlock, a serialization failure or a
    lock timeout: running the unit of work again may well succeed."""
    return isinstance(exc, DBAPIError) and sqlstate(exc) in LOCK_CONFLICTS


def is_transient(exc: BaseException) -> bool:
    """A database condition that goes away by itself (→ 503 with Retry-After, never a 500)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    code = sqlstate(exc)
    if code is not None:
        return code in _TRANSIENT
    text = str(exc.orig).lower()
    return any(word in text for word in _TRANSIENT_WORDS)


def retry_lock_conflicts(
    attempt: Callable[[], T],
    *,
    retry_if: Callable[[BaseException], bool] = is_lock_conflict,
    attempts: int = ATTEMPTS,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `attempt`, and run it again while it fails with a lock conflict, at most `attempts`
    times in all, sleeping 0.5–1 × 50 ms, 100 ms, … between runs (the jitter keeps the
    transactions that collided from colliding again). The last failure is raised.

    `attempt` must open (and finish) its own unit of work, so a failed run leaves nothing behind.
    """
    rng = rng or random.Random()
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except Exception as exc:
            if number == attempts or not retry_if(exc):
                raise
            delay = BASE_DELAY * 2 ** (number - 1) * rng.uniform(0.5, 1.0)
            log.info(
                "unit of work rolled back by the database (SQLSTATE %s); run %d of %d in %d ms",
                sqlstate(exc),
                number + 1,
                attempts,
                delay * 1000,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
