"""The set-based entity hooks the sync engine calls for a whole batch (house style: no
per-record round trips): their rules hold, and the number of queries does not grow with the
number of records."""

import uuid

from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantRepository, TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities import service
from floorsync.entities.jobs import JOBS
from floorsync.entities.parts import PARTS
from floorsync.entities.validation import Record
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import SystemClock
from floorsync.models.master import Job, Part
from tests.support.api import make_job, make_part, make_tree
from tests.support.sql import counted
from tests.support.tenants import TenantHandle


class TestPartsPrepareMany:
    def test_parent_chains_are_checked_with_one_query_per_level_for_the_whole_batch(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        job, other = make_job(tenant.client), make_job(tenant.client)
        top = make_part(tenant.client, job["id"])
        middle = make_part(tenant.client, job["id"], parent_part_id=top["id"])
        bottom = make_part(tenant.client, job["id"], parent_part_id=middle["id"])
        job_id, other_id, bottom_id = (
            uuid.UUID(job["id"]),
            uuid.UUID(other["id"]),
            uuid.UUID(bottom["id"]),
        )
        recs = [
            Record(
                values={"job_id": job_id, "part_number": f"n{i}", "parent_part_id": bottom_id},
                path=f"[{i}]",
            )
            for i in range(40)
        ]
        recs.append(
            Record(
                values={
                    "job_id": other_id,
                    "part_number": "elsewhere",
                    "parent_part_id": bottom_id,
                },
                path="[40]",
            )
        )
        prepare_many = PARTS.prepare_many
        assert prepare_many is not None
        with unit_of_work(sessions, Outbox(SystemClock()), TenantScope(tenant.id)) as work:
            with counted(sessions) as statements:
                prepare_many(work, PARTS, recs, [None] * len(recs))
            work.discard()
        assert [r.errors for r in recs[:40]] == [[]] * 40
        assert [(d.field, d.constraint) for d in recs[40].errors] == [
            ("[40].parent_part_id", "REFERENCE_MISMATCH")
        ]
        assert len(statements) <= 4  # bottom, middle, top (and the empty level that ends the walk)

    def test_cycles_and_moves_that_strand_children_are_refused_in_one_batch(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        job, other = make_job(tenant.client), make_job(tenant.client)
        top = make_part(tenant.client, job["id"])
        child = make_part(tenant.client, job["id"], parent_part_id=top["id"])
        scope = TenantScope(tenant.id)
        with unit_of_work(sessions, Outbox(SystemClock()), scope) as work:
            repo = TenantRepository(work.session, scope, Part)
            top_row, child_row = repo.get(uuid.UUID(top["id"])), repo.get(uuid.UUID(child["id"]))
            cycle = Record(values={"parent_part_id": child_row.id}, path="[0]")  # type: ignore[union-attr]
            move = Record(values={"job_id": uuid.UUID(other["id"])}, path="[1]")
            assert PARTS.prepare_many is not None
            PARTS.prepare_many(work, PARTS, [cycle, move], [top_row, top_row])
            work.discard()
        assert [(d.field, d.constraint) for d in cycle.errors] == [
            ("[0].parent_part_id", "INVALID_VALUE")
        ]
        assert [(d.field, d.constraint) for d in move.errors] == [
            ("[1].job_id", "REFERENCE_MISMATCH")
        ]


class TestSoftDeleteMany:
    def test_a_cascade_takes_one_update_per_level_and_one_select_per_child_level_for_any_number_of_rows(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        counts = []
        for n in (1, 6):
            ids = [uuid.UUID(make_tree(tenant.client, parts=2, ops=2)["id"]) for _ in range(n)]
            with unit_of_work(sessions, Outbox(SystemClock()), TenantScope(tenant.id)) as work:
                jobs = [TenantRepository(work.session, work.scope, Job).get(id_) for id_ in ids]
                with counted(sessions) as statements:
                    cascaded = service.soft_delete_many(work, JOBS, jobs)
                work.discard()
            assert cascaded == {"parts": 2 * n, "operations": 4 * n}
            assert len(work.events) == 7 * n
            counts.append(len(statements))
        assert counts == [
            5,
            5,
        ]  # UPDATE jobs, SELECT parts, UPDATE parts, SELECT operations, UPDATE operations
