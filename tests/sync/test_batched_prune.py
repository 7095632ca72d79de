"""Pruning (`snapshot`, `replace_children`) is set-based (house style: no per-record round
trips): the number of statements does not grow with the number of pruned records or their
children, and the rows and `<entity>.deleted` events are those of deleting the pruned records
one by one with the per-row cascade."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Work, unit_of_work
from floorsync.entities import service
from floorsync.entities.jobs import JOBS
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.events.outbox import Origin, Outbox
from floorsync.kit.clock import FakeClock
from floorsync.models.master import Job, Operation, Part
from floorsync.sync import prune as prune_module
from floorsync.sync.engine import sync_records
from floorsync.sync.options import SyncOptions
from tests.support.api import ok
from tests.support.sql import counted
from tests.support.tenants import TenantHandle
from tests.sync.helpers import job_body

ACTOR = uuid.UUID("0190aaaa-0000-7000-8000-000000000099")


def tree(ext: str, source: str, parts: int, ops: int) -> dict[str, Any]:
    return job_body(
        ext,
        source=source,
        parts=[
            {
                "external_id": f"{ext}-{p}",
                "part_number": f"P-{p}",
                "operations": [
                    {"external_id": f"{ext}-{p}-{o}", "operation_name": f"Op {o}"}
                    for o in range(ops)
                ],
            }
            for p in range(parts)
        ],
    )


def seed(client: httpx.Client, items: list[dict[str, Any]]) -> None:
    ok(client.post("/api-jobs/bulk-sync", json={"items": items}))


@contextmanager
def work_of(tenant: TenantHandle, sessions: sessionmaker[Session]) -> Iterator[Work]:
    """A unit of work at a fixed time and actor that is always rolled back."""
    with unit_of_work(
        sessions, Outbox(FakeClock()), TenantScope(tenant.id), origin=Origin(api_key_id=ACTOR)
    ) as work:
        yield work
        work.discard()


def outcome(work: Work) -> tuple[list[tuple[str, Any, Any]], dict[uuid.UUID, tuple[Any, ...]]]:
    """The buffered events and the stored stamps of every job, part and operation of the tenant."""
    evs = [(e.type, e.entity_id, e.data) for e in work.events]
    stamps: dict[uuid.UUID, tuple[Any, ...]] = {}
    for model in (Job, Part, Operation):
        stmt = scoped(model, work.scope).execution_options(populate_existing=True)
        for r in work.session.scalars(stmt):
            stamps[r.id] = (r.deleted_at, r.deleted_by, r.updated_at)
    return evs, stamps


def per_row_soft_delete(
    work: Work, spec: EntitySpec, row: Any, caused_by: dict[str, Any] | None = None
) -> None:
    """The cascade as it was before it became set-based: a child SELECT and a flush per row."""
    now = work.clock.now()
    row.deleted_at, row.deleted_by, row.updated_at = now, work.origin.api_key_id, now
    work.session.flush()
    cause = service.record_delete(work, spec, row, hard=False, caused_by=caused_by)
    for child in spec.children:
        child_spec = get_spec(child.entity)
        kids = work.session.scalars(
            scoped(child_spec.model, work.scope, include_deleted=False)
            .where(getattr(child_spec.model, child.parent_ref) == row.id)
            .order_by(child_spec.model.created_at, child_spec.model.id)
        ).all()
        for kid in kids:
            per_row_soft_delete(work, child_spec, kid, caused_by or cause)


def per_row(
    work: Work, spec: EntitySpec, rows: Any, *, caused_by: dict[str, Any] | None = None
) -> dict[str, int]:
    for row in rows:
        per_row_soft_delete(work, spec, row, caused_by)
    return {}


def prune(
    tenant: TenantHandle,
    sessions: sessionmaker[Session],
    items: list[dict[str, Any]],
    options: SyncOptions,
) -> tuple[int, Any]:
    """Statements and outcome of a sync that prunes; then the outcome of the same sync with the
    pruned records deleted one by one with the per-row cascade must be the same."""
    with work_of(tenant, sessions) as work:
        with counted(sessions) as statements:
            report = sync_records(work, JOBS, items, options)
        assert not report.failed
        result = outcome(work)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(prune_module, "soft_delete_many", per_row)
        with work_of(tenant, sessions) as work:
            sync_records(work, JOBS, items, options)
            assert outcome(work) == result
    return len(statements), result


def stamps_id(evs: list[tuple[str, Any, Any]], i: int) -> Any:
    """The record id of the i-th deleted event."""
    return [id_ for t, id_, _d in evs if t.endswith(".deleted")][i]


def deletes(evs: list[tuple[str, Any, Any]]) -> list[tuple[str, str, Any]]:
    """(type, external_id, caused_by) of the deleted events, in order."""
    return [
        (t, d[t.split(".")[0]]["external_id"], d.get("caused_by"))
        for t, _id, d in evs
        if t.endswith(".deleted")
    ]


class TestSnapshot:
    def test_pruning_trees_takes_the_same_statements_for_any_number_of_them_and_matches_the_per_row_cascade(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        counts = []
        for n in (2, 12):
            source = f"SRC{n}"
            seed(
                tenant.client, [tree(f"{source}-{i}", source, parts=2, ops=2) for i in range(n + 1)]
            )
            count, (evs, stamps) = prune(
                tenant,
                sessions,
                [job_body(f"{source}-0", source=source)],
                SyncOptions(snapshot=True),
            )
            counts.append(count)
            deleted = deletes(evs)
            assert len(deleted) == n * 7
            assert {ext for t, ext, _c in deleted if t == "job.deleted"} == {
                f"{source}-{i}" for i in range(1, n + 1)
            }
            for i in range(n):
                job, cause = (
                    deleted[i * 7][1],
                    {"type": "job.deleted", "entity_id": str(stamps_id(evs, i * 7))},
                )
                assert [(t, c) for t, _ext, c in deleted[i * 7 : (i + 1) * 7]] == [
                    ("job.deleted", None)
                ] + [
                    ("part.deleted", cause),
                    ("operation.deleted", cause),
                    ("operation.deleted", cause),
                ] * 2
                kids = [ext for _t, ext, _c in deleted[i * 7 + 1 : (i + 1) * 7]]
                assert sorted(kids) == [
                    f"{job}-0",
                    f"{job}-0-0",
                    f"{job}-0-1",
                    f"{job}-1",
                    f"{job}-1-0",
                    f"{job}-1-1",
                ]
                assert kids[1].startswith(f"{kids[0]}-")  # each part, then its operations
                assert kids[2].startswith(f"{kids[0]}-")
            now = FakeClock().now()
            assert sum(1 for s in stamps.values() if s == (now, ACTOR, now)) == n * 7
        assert counts[0] == counts[1]

    def test_children_deleted_before_keep_their_stamp_and_get_no_event(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        seed(tenant.client, [tree(f"D-{i}", "D", parts=2, ops=1) for i in range(3)])
        part = ok(
            tenant.client.get("/api-parts", params={"external_source": "D", "external_id": "D-1-0"})
        )["parts"][0]
        ok(tenant.client.delete("/api-parts", params={"id": part["id"]}))
        _count, (evs, stamps) = prune(
            tenant, sessions, [job_body("D-0", source="D")], SyncOptions(snapshot=True)
        )
        deleted = [(t, ext) for t, ext, _c in deletes(evs)]
        assert deleted[:4] == [
            ("job.deleted", "D-1"),
            ("part.deleted", "D-1-1"),
            ("operation.deleted", "D-1-1-0"),
            ("job.deleted", "D-2"),
        ]
        assert sorted([deleted[4:6], deleted[6:]]) == [
            [("part.deleted", "D-2-0"), ("operation.deleted", "D-2-0-0")],
            [("part.deleted", "D-2-1"), ("operation.deleted", "D-2-1-0")],
        ]
        assert stamps[uuid.UUID(part["id"])][0] != FakeClock().now()

    def test_large_prunes_are_split_into_chunks_without_changing_the_outcome(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seed(tenant.client, [tree(f"C-{i}", "C", parts=3, ops=2) for i in range(6)])
        monkeypatch.setattr(service, "IN_CHUNK", 2)
        _count, (evs, _stamps) = prune(
            tenant, sessions, [job_body("C-0", source="C")], SyncOptions(snapshot=True)
        )
        assert len(deletes(evs)) == 5 * 10


class TestReplaceChildren:
    def test_pruning_children_takes_the_same_statements_for_any_number_of_them_and_matches_the_per_row_cascade(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        counts = []
        for n in (2, 12):
            source = f"RC{n}"
            seed(
                tenant.client, [tree(f"{source}-{i}", source, parts=n + 1, ops=2) for i in range(2)]
            )
            items = [tree(f"{source}-{i}", source, parts=1, ops=1) for i in range(2)]
            count, (evs, _stamps) = prune(
                tenant, sessions, items, SyncOptions(replace_children=True)
            )
            counts.append(count)
            deleted = deletes(evs)
            parts = [(i, ext, c) for i, (t, ext, c) in enumerate(deleted) if t == "part.deleted"]
            assert {ext for _i, ext, _c in parts} == {
                f"{source}-{j}-{p}" for j in range(2) for p in range(1, n + 1)
            }
            for i, ext, c in parts:
                assert c is None
                cause = {"type": "part.deleted", "entity_id": str(stamps_id(evs, i))}
                assert sorted(deleted[i + 1 : i + 3]) == [
                    ("operation.deleted", f"{ext}-0", cause),
                    ("operation.deleted", f"{ext}-1", cause),
                ]
            assert deleted[len(parts) * 3 :] == [
                ("operation.deleted", f"{source}-{j}-0-1", None) for j in range(2)
            ]
        assert counts[0] == counts[1]
