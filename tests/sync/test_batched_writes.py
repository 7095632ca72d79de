"""db.upsert's batched writes at the sizes where PostgreSQL switches from one VALUES statement to
COPY (a staging table for the upsert): same results, violations raised by the real table,
no silent truncation, the stage emptied between batches and savepoints honoured."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.upsert import COPY_MIN_ROWS, insert_rows, upsert_by_external_key
from floorsync.kit.ids import new_id
from floorsync.models.events import Event
from floorsync.models.master import Job
from tests.support.tenants import TenantHandle

TABLE: Any = Job.__table__
UPDATE = ["customer", "updated_at", "synced_at", "sync_hash", "deleted_at", "deleted_by"]


def job_rows(
    tenant_id: uuid.UUID, count: int, *, prefix: str, hash_: str = "h1", **over: Any
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        row: dict[str, Any] = {c.key: None for c in TABLE.c}
        row.update(
            id=new_id(),
            tenant_id=tenant_id,
            job_number=f"{prefix}-{i}",
            status="not_started",
            priority=0,
            metadata={"i": i, "text": "é"},
            created_at=now,
            updated_at=now,
            synced_at=now,
            external_id=f"{prefix}-{i}",
            external_source="SAP",
            sync_hash=hash_,
            customer=f"C{i}",
        )
        row.update(over)
        rows.append(row)
    return rows


def jobs_of(session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    return {
        r.external_id: r
        for r in session.execute(select(Job).where(Job.tenant_id == tenant_id)).scalars()
    }


@pytest.mark.parametrize("count", [3, COPY_MIN_ROWS, 1000])
def test_an_upsert_batch_inserts_then_updates_only_changed_rows(
    tenant: TenantHandle, sessions: sessionmaker[Session], count: int
) -> None:
    first = job_rows(tenant.id, count, prefix=f"B{count}")
    with sessions.begin() as session:
        written = upsert_by_external_key(
            session, TABLE, first, update_columns=UPDATE, only_if_changed=True
        )
    assert sorted(written) == sorted((r["id"], "SAP", r["external_id"]) for r in first)
    again = job_rows(tenant.id, count, prefix=f"B{count}")
    for i, row in enumerate(again):
        row["id"] = first[i]["id"]
        if i % 2:
            row.update(customer=f"changed {i}", sync_hash="h2")
    with sessions.begin() as session:
        # Twice in one transaction: the second batch must not meet rows staged by the first.
        written = upsert_by_external_key(
            session, TABLE, again, update_columns=UPDATE, only_if_changed=True
        )
        assert (
            upsert_by_external_key(
                session, TABLE, again, update_columns=UPDATE, only_if_changed=True
            )
            == []
        )
    assert sorted(w[2] for w in written) == sorted(
        r["external_id"] for i, r in enumerate(again) if i % 2
    )
    with sessions() as session:
        stored = jobs_of(session, tenant.id)
    assert len(stored) == count
    assert stored[f"B{count}-1"].customer == ("changed 1" if count > 1 else "C1")
    assert stored[f"B{count}-0"].customer == "C0"
    assert stored[f"B{count}-0"].metadata_ == {"i": 0, "text": "é"}


def test_a_violation_in_a_large_batch_is_raised_by_the_real_table(
    tenant: TenantHandle, sessions: sessionmaker[Session]
) -> None:
    rows = job_rows(tenant.id, COPY_MIN_ROWS + 1, prefix="NN")
    rows[-1]["job_number"] = None
    with sessions() as session, pytest.raises(IntegrityError) as caught:
        upsert_by_external_key(session, TABLE, rows, update_columns=UPDATE, only_if_changed=True)
    assert "job_number" in str(caught.value.orig)
    assert "stage" not in str(caught.value.orig)


def test_an_out_of_range_integer_is_refused_not_truncated(
    tenant: TenantHandle, sessions: sessionmaker[Session], db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite integers have no column width")
    rows = job_rows(tenant.id, COPY_MIN_ROWS, prefix="BIG", priority=2**40)
    with sessions() as session, pytest.raises(DBAPIError):
        upsert_by_external_key(session, TABLE, rows, update_columns=UPDATE, only_if_changed=True)


def test_a_rolled_back_savepoint_leaves_nothing_staged_or_written(
    tenant: TenantHandle, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        nested = session.begin_nested()
        upsert_by_external_key(
            session,
            TABLE,
            job_rows(tenant.id, 100, prefix="SP1"),
            update_columns=UPDATE,
            only_if_changed=True,
        )
        nested.rollback()
        upsert_by_external_key(
            session,
            TABLE,
            job_rows(tenant.id, 100, prefix="SP2"),
            update_columns=UPDATE,
            only_if_changed=True,
        )
    with sessions() as session:
        assert sorted({k.split("-")[0] for k in jobs_of(session, tenant.id)}) == ["SP2"]


@pytest.mark.parametrize("count", [2, 500])
def test_insert_rows_writes_every_row_with_its_json(
    tenant: TenantHandle, sessions: sessionmaker[Session], count: int
) -> None:
    now = datetime.now(UTC)
    base = 10_000 + count
    rows = [
        {
            "id": new_id(),
            "tenant_id": tenant.id,
            "seq": base + i,
            "type": "job.created",
            "entity_type": "job",
            "entity_id": new_id(),
            "occurred_at": now,
            "data": {"job": {"n": i, "name": "Zoë"}, "origin": None},
        }
        for i in range(count)
    ]
    with sessions.begin() as session:
        insert_rows(session, Event.__table__, rows)
    with sessions() as session:
        stored = session.execute(
            select(Event.seq, Event.data)
            .where(Event.tenant_id == tenant.id, Event.seq >= base)
            .order_by(Event.seq)
        ).all()
        assert (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.tenant_id == tenant.id)
            )
            == count
        )
    assert [(s, d) for s, d in stored] == [(r["seq"], r["data"]) for r in rows]


def test_batches_of_any_size_use_a_few_statement_shapes_on_sqlite(
    tenant: TenantHandle, sessions: sessionmaker[Session]
) -> None:
    """SQLite keeps each connection's last 128 statements prepared, a multi-row one holding
    megabytes: every batch size must not be a statement of its own (a soak whose bulk syncs
    varied in size grew the API by 120 MB a minute)."""
    shapes: set[str] = set()
    written = 0
    with sessions.begin() as session:
        driver = session.connection().connection.driver_connection
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL copies large batches and keeps no statement per size")
        driver.set_trace_callback(
            lambda sql: (
                shapes.add(sql.split(" VALUES ")[0] + f" {sql.count('(')}")
                if sql.startswith("INSERT INTO jobs")
                else None
            )
        )
        try:
            for n, count in enumerate(range(300, 340)):
                rows = job_rows(tenant.id, count, prefix=f"SHAPE{n}")
                written += len(
                    upsert_by_external_key(
                        session, TABLE, rows, update_columns=UPDATE, only_if_changed=True
                    )
                )
                insert_rows(session, TABLE, job_rows(tenant.id, count, prefix=f"PLAIN{n}"))
        finally:
            driver.set_trace_callback(None)
        total = session.scalar(
            select(func.count()).select_from(Job).where(Job.tenant_id == tenant.id)
        )
    assert written == sum(range(300, 340))
    assert total == 2 * written
    # 40 batch sizes: pages of 256 and remainders in powers of two, for each of the two statements
    assert 2 < len(shapes) <= 2 * 9, sorted(shapes)
