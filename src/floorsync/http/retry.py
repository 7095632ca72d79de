"""Endpoints that write run again, from the start, when the database rolled their unit of work
back for a lock conflict (a deadlock, a serialization failure, a lock timeout: db.transient).

The retry is of the whole handler, not of a statement or a record: the aborted transaction has
released every lock and left nothing behind, and running the handler again rebuilds everything
from the request, which is already in memory (`RawBody`). Nothing is duplicated: events are
buffered in the Work and written by the outbox only at commit, and the idempotent reply is
stored in the same transaction. A handler is never run again once one of its units of work has
committed. When the runs are used up, the error reaches http.errors: 503 SERVICE_UNAVAILABLE
with `Retry-After`, and nothing was written.

Every POST, PUT, PATCH and DELETE endpoint is decorated (tests/test_architecture.py checks it).
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from floorsync.db.transient import is_lock_conflict, retry_lock_conflicts
from floorsync.http.context import Ctx

F = TypeVar("F", bound=Callable[..., Any])
MARK = "floorsync_retrying"


def retrying(handler: F) -> F:
    """Run a (synchronous) endpoint again while its unit of work hits a lock conflict."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        ctx = next(v for v in (*args, *kwargs.values()) if isinstance(v, Ctx))
        return retry_lock_conflicts(
            lambda: handler(*args, **kwargs),
            retry_if=lambda exc: is_lock_conflict(exc) and not ctx.committed,
        )

    setattr(run, MARK, True)
    return cast(F, run)
