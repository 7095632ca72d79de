"""Leases: how background work is held by one worker at a time, across threads and processes.

A leasable row has `lease_owner` (a worker id) and `lease_until`. A claim runs in a short
transaction of its own:

1. it selects a row whose lease is free (never taken, released, or expired because its worker
   died or hung) and locks it. On PostgreSQL that is `FOR NO KEY UPDATE SKIP LOCKED`: concurrent
   claimers skip to the next row instead of queueing behind each other, and the lock doesn't
   conflict with the `KEY SHARE` lock that a writer's foreign key takes on the row. On SQLite
   the clause is dropped: every write transaction begins with `BEGIN IMMEDIATE`
   (db/engine.py), so claims are serialised by the database's write lock;
2. it writes the owner and the expiry (`take`) and commits.

The work itself runs with no transaction open. Whatever records its outcome changes the row
only while the lease is still the worker's own (`release`, compare-and-set on `lease_owner`), so
a worker that overran its lease and lost it to another can't overwrite that one's work. A
worker killed mid-way leaves its lease to expire, and the next claim does the work again.

Used by webhook deliveries (`webhooks`), periodic tasks (`periodic_tasks`) and the job queue
(`worker_jobs`).
"""

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, update
from sqlalchemy.orm import Session

T = TypeVar("T")


def is_free(model: Any, now: datetime) -> ColumnElement[bool]:
    """The row's lease is not held: never taken, released, or expired."""
    return or_(model.lease_until.is_(None), model.lease_until < now)


def locked_for_claim(stmt: Select[T], model: Any) -> Select[T]:
    """`stmt` locking the rows it returns for a claim, skipping those another claimer holds
    (see the module docstring). `stmt` must already require `is_free`."""
    return stmt.with_for_update(key_share=True, skip_locked=True, of=model)


def claimable(stmt: Select[T], model: Any, now: datetime) -> Select[T]:
    """`stmt` narrowed to rows whose lease is free and locked for the claim."""
    return locked_for_claim(stmt.where(is_free(model, now)), model)


def take(row: Any, owner: str, until: datetime) -> datetime:
    """Hold `row` (selected through `claimable`, in the claim's transaction) until `until`."""
    row.lease_owner, row.lease_until = owner, until
    return until


def holds(row: Any, owner: str) -> bool:
    """Whether `owner` still holds the lease of a row read in the current transaction."""
    return bool(row is not None and row.lease_owner == owner)


def let_go(row: Any, now: datetime) -> None:
    """Release the lease of a row the caller holds and has locked in the current transaction."""
    row.lease_owner, row.lease_until = None, now


def release(
    session: Session,
    model: Any,
    *identity: ColumnElement[bool],
    owner: str,
    now: datetime,
    **values: Any,
) -> bool:
    """Release the lease of the row matching `identity` if `owner` still holds it, writing
    `values` with it. Returns False when the lease had been lost (nothing is written)."""
    result = session.execute(
        update(model)
        .where(*identity, model.lease_owner == owner)
        .values(lease_owner=None, lease_until=now, **values)
    )
    return int(getattr(result, "rowcount", 0) or 0) > 0


def extend(
    session: Session,
    model: Any,
    *identity: ColumnElement[bool],
    owner: str,
    until: datetime,
) -> bool:
    """Push the expiry of a lease `owner` holds to `until` (a heartbeat). False if lost."""
    result = session.execute(
        update(model).where(*identity, model.lease_owner == owner).values(lease_until=until)
    )
    return int(getattr(result, "rowcount", 0) or 0) > 0
