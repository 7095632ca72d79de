"""Issues and NCRs (api-catalogue-completion §6) through a real server: Eryxon's e2e and
automated calls, the vocabularies stored in one form, NCR numbers, filters and enum sorts,
derived cells, events, the Yellow Card and the operation delete guard."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities.quality.issues import NCR_ATTEMPTS, create_issue
from tests.shopfloor.helpers import (
    constraint_of,
    event_types,
    events,
    fails,
    make_cell,
    make_job,
    ok,
)
from tests.support.tenants import TenantHandle


def issue(c: Any, operation_id: str, **extra: Any) -> dict[str, Any]:
    body = {"operation_id": operation_id, "title": "Scratch", "description": "On the face"}
    body.update(extra)
    out: dict[str, Any] = ok(c.post("/api-issues", json=body), 201)["issue"]
    return out


class TestEryxonsCalls:
    def test_e2e_and_automated_suites(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        ok(c.get("/api-issues", params={"limit": 5}))
        resp = c.post(
            "/api-issues",
            json={
                "operation_id": op,
                "title": "E2E",
                "description": "from the e2e suite",
                "severity": "medium",
            },
        )
        assert resp.status_code == 201
        created = resp.json()["data"]["issue"]
        assert resp.text.index('"id":"' + created["id"]) < resp.text.index('"operation_id"')
        fails(c.post("/api-issues", json={"title": "Missing fields"}), 422, "VALIDATION_ERROR")
        err = fails(
            c.post(
                "/api-issues",
                json={
                    "operation_id": op,
                    "title": "t",
                    "description": "d",
                    "severity": "super_critical",
                },
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "severity") == "ENUM_CONSTRAINT"
        assert "low, medium, high, critical" in err["details"][0]["message"]
        ok(c.get("/api-issues", params={"severity": "high", "status": "open", "limit": 5}))
        profile = str(uuid.uuid4())
        auto = issue(c, op, severity="low", status="pending", created_by=profile)
        assert auto["created_by"] == profile
        ok(c.get("/api-operators", params={"operator_id": profile}))  # registered itself
        ok(c.delete("/api-issues", params={"id": created["id"]}))
        fails(c.get("/api-issues", params={"id": created["id"]}), 404, "NOT_FOUND")
        types = event_types(sessions, tenant.id, "issue.created", "issue.deleted")
        assert types == ["issue.created", "issue.created", "issue.deleted"]
        tomb = events(sessions, tenant.id, "issue.deleted")[0].data
        assert (tomb["issue"]["title"], tomb["issue"]["operation_id"]) == ("E2E", op)
        assert (tomb["issue"]["ncr_number"], tomb["hard"]) == (None, True)


class TestVocabulariesAndNcrs:
    def test_aliases_are_stored_canonically_and_ncrs_are_numbered(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        a = issue(
            c,
            op,
            status="open",
            issue_type="ncr",
            ncr_category="material_defect",
            ncr_disposition="use_as_is",
        )
        assert (a["status"], a["disposition"], a["ncr_category"]) == (
            "pending",
            "use_as_is",
            "material_defect",
        )
        year = a["created_at"][:4]
        assert a["ncr_number"] == f"NCR-{year}-0001"
        b = issue(c, op, issue_type="ncr")
        assert b["ncr_number"] == f"NCR-{year}-0002"
        general = issue(c, op)
        assert (general["ncr_number"], general["reviewed_at"]) == (None, None)
        err = fails(
            c.post(
                "/api-issues",
                json={
                    "operation_id": op,
                    "title": "t",
                    "description": "d",
                    "ncr_number": a["ncr_number"],
                },
            ),
            409,
            "CONFLICT",
        )
        assert constraint_of(err, "ncr_number") == "UNIQUE_CONSTRAINT"
        moved = ok(c.patch("/api-issues", params={"id": a["id"]}, json={"status": "in_progress"}))[
            "issue"
        ]
        assert moved["status"] == "approved"
        assert moved["reviewed_at"] is not None
        closed = ok(c.patch("/api-issues", params={"id": a["id"]}, json={"status": "resolved"}))[
            "issue"
        ]
        assert (closed["status"], closed["reviewed_at"]) == ("closed", moved["reviewed_at"])
        for field, value in (
            ("status", "done"),
            ("ncr_category", "weather"),
            ("disposition", "burn"),
            ("issue_type", "x"),
        ):
            err = fails(
                c.patch("/api-issues", params={"id": a["id"]}, json={field: value}),
                422,
                "VALIDATION_ERROR",
            )
            assert constraint_of(err, field) == "ENUM_CONSTRAINT"
        updated = events(sessions, tenant.id, "issue.updated")
        assert updated[0].data["changed_fields"] == ["status", "reviewed_at"]

    def test_filters_and_enum_sorts(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=1)
        low = issue(c, tree.ops[0], severity="low", title="alpha")
        crit = issue(c, tree.ops[0], severity="critical", status="closed")
        high = issue(c, tree.ops[1], severity="high", status="approved", reported_by_id="R-1")

        def ids(**params: str) -> list[str]:
            return [i["id"] for i in ok(c.get("/api-issues", params=params))["issues"]]

        assert ids(sort="severity", order="asc") == [low["id"], high["id"], crit["id"]]
        assert ids(sort="status", order="asc") == [low["id"], high["id"], crit["id"]]
        assert set(ids(status="open,resolved")) == {low["id"], crit["id"]}
        assert ids(part_id=tree.parts[1]) == [high["id"]]
        assert set(ids(job_id=tree.job)) == {low["id"], crit["id"], high["id"]}
        assert ids(reported_by="R-1") == [high["id"]]
        assert ids(search="alph") == [low["id"]]
        fails(c.get("/api-issues", params={"status": "nope"}), 400, "BAD_REQUEST")
        fails(c.get("/api-issues", params={"severity": "nope"}), 400, "BAD_REQUEST")

    def test_cells_are_derived_and_embedded(self, tenant: TenantHandle) -> None:
        c = tenant.client
        laser, bend = make_cell(c, "Laser"), make_cell(c, "Bend")
        job = ok(
            c.post(
                "/api-jobs",
                json={
                    "job_number": f"J-{uuid.uuid4().hex[:6]}",
                    "parts": [
                        {
                            "part_number": "P",
                            "operations": [
                                {"operation_name": "Cut", "sequence": 1, "cell_id": laser},
                                {"operation_name": "Fold", "sequence": 2, "cell_id": bend},
                            ],
                        }
                    ],
                },
            ),
            201,
        )["job"]
        op = job["parts"][0]["operations"][0]["id"]
        got = issue(c, op)
        assert (got["current_cell_id"], got["intended_next_cell_id"]) == (laser, bend)
        assert got["current_cell"] == {"id": laser, "name": "Laser"}
        assert got["intended_next_cell"] == {"id": bend, "name": "Bend"}
        assert got["operation"]["id"] == op
        assert got["operation"]["part"]["job"]["job_number"] == job["job_number"]


class TestReferences:
    def test_another_tenants_operation_or_cell_is_refused(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        theirs = make_job(other_tenant.client, ops=1).ops[0]
        their_cell = make_cell(other_tenant.client)
        mine = make_job(tenant.client, ops=1).ops[0]
        c = tenant.client
        for body, field in (
            ({"operation_id": theirs}, "operation_id"),
            ({"operation_id": mine, "current_cell_id": their_cell}, "current_cell_id"),
        ):
            err = fails(
                c.post("/api-issues", json={"title": "t", "description": "d", **body}),
                422,
                "VALIDATION_ERROR",
            )
            assert constraint_of(err, field) == "REFERENCE_NOT_FOUND"
        their_issue = issue(other_tenant.client, theirs)
        fails(c.get("/api-issues", params={"id": their_issue["id"]}), 404, "NOT_FOUND")
        fails(
            c.patch("/api-issues", params={"id": their_issue["id"]}, json={"title": "x"}),
            404,
            "NOT_FOUND",
        )
        fails(c.delete("/api-issues", params={"id": their_issue["id"]}), 404, "NOT_FOUND")

    def test_an_operations_hard_delete_is_refused_while_issues_reference_it(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        got = issue(c, op)
        err = fails(c.delete("/api-operations", params={"id": op, "hard": "true"}), 409, "CONFLICT")
        assert constraint_of(err, "issues") == "REFERENCES_EXIST"
        ok(c.delete("/api-issues", params={"id": got["id"]}))
        ok(c.delete("/api-operations", params={"id": op, "hard": "true"}))


class TestYellowCard:
    def test_a_standstill_parks_and_its_end_releases_the_operation(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        ok(c.post("/api-operation-lifecycle/start", params={"id": op, "operator_id": "W1"}))
        first = issue(c, op, causes_standstill=True)
        second = issue(c, op, causes_standstill=True)
        got = ok(c.get("/api-operations", params={"id": op}))["operation"]
        assert got["status"] == "on_hold"
        entries = ok(c.get("/api-time-entries", params={"operation_id": op}))["time_entries"]
        assert all(e["end_time"] is not None for e in entries)
        paused = events(sessions, tenant.id, "operation.paused")
        assert len(paused) == 1
        assert paused[0].data["caused_by"] == {"type": "issue.created", "entity_id": first["id"]}
        assert paused[0].data["action"] is None
        ok(c.patch("/api-issues", params={"id": first["id"]}, json={"status": "approved"}))
        assert ok(c.get("/api-operations", params={"id": op}))["operation"]["status"] == "on_hold"
        ok(c.delete("/api-issues", params={"id": second["id"]}))
        assert (
            ok(c.get("/api-operations", params={"id": op}))["operation"]["status"] == "in_progress"
        )
        resumed = events(sessions, tenant.id, "operation.resumed")
        assert resumed[-1].data["caused_by"]["type"] == "issue.deleted"

    def test_flag_off_releases_and_a_hand_resumed_operation_is_left_alone(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op, other = make_job(c, ops=2).ops
        card = issue(c, op, causes_standstill=True)
        assert ok(c.get("/api-operations", params={"id": op}))["operation"]["status"] == "on_hold"
        ok(c.patch("/api-issues", params={"id": card["id"]}, json={"causes_standstill": False}))
        assert (
            ok(c.get("/api-operations", params={"id": op}))["operation"]["status"] == "not_started"
        )
        # parked, then resumed by hand: closing the issue leaves the operation alone
        card2 = issue(c, other, causes_standstill=True)
        ok(c.post("/api-operation-lifecycle/resume", params={"id": other}))
        ok(c.post("/api-operation-lifecycle/pause", params={"id": other}))
        ok(c.patch("/api-issues", params={"id": card2["id"]}, json={"status": "closed"}))
        assert (
            ok(c.get("/api-operations", params={"id": other}))["operation"]["status"] == "on_hold"
        )
        # a completed operation is not parked
        done = make_job(c, ops=1).ops[0]
        ok(c.post("/api-operation-lifecycle/start", params={"id": done}))
        ok(c.post("/api-operation-lifecycle/complete", params={"id": done}))
        issue(c, done, causes_standstill=True)
        assert (
            ok(c.get("/api-operations", params={"id": done}))["operation"]["status"] == "completed"
        )


class TestNcrNumberRace:
    def test_concurrent_ncr_creates_all_succeed_with_distinct_consecutive_numbers(
        self, tenant: TenantHandle
    ) -> None:
        """Every create computes the same next number; the unique index refuses all but one,
        and each loser retries with the next (PostgreSQL runs them truly in parallel; SQLite
        serialises the writers, so there the numbers are consecutive without a retry)."""
        c = tenant.client
        ops = make_job(c, ops=NCR_ATTEMPTS).ops  # one each: see the next test
        start = threading.Barrier(NCR_ATTEMPTS)

        def create(i: int) -> tuple[int, str | None]:
            start.wait(timeout=30)
            resp = c.post(
                "/api-issues",
                json={
                    "operation_id": ops[i],
                    "title": f"NCR {i}",
                    "description": "race",
                    "issue_type": "ncr",
                },
            )
            body = resp.json()
            return resp.status_code, (body.get("data") or {}).get("issue", {}).get("ncr_number")

        with ThreadPoolExecutor(NCR_ATTEMPTS) as pool:
            results = list(pool.map(create, range(NCR_ATTEMPTS)))
        assert [status for status, _n in results] == [201] * NCR_ATTEMPTS, results
        year = datetime.now(UTC).year
        assert sorted(str(n) for _s, n in results) == [
            f"NCR-{year}-{k:04d}" for k in range(1, NCR_ATTEMPTS + 1)
        ]

    def test_a_number_taken_by_a_concurrent_create_is_retried_with_the_next(
        self, tenant: TenantHandle, settings: Settings
    ) -> None:
        """Deterministic form of the race: the second create computes the same number while the
        first is uncommitted, its insert waits on the unique index (PostgreSQL; SQLite makes it
        wait for the write lock before it reads), and when the first commits it retries."""
        # two operations: issues of one operation queue on its row lock (the Yellow Card's)
        op, other_op = make_job(tenant.client, ops=2).ops
        services = build_services(settings)
        scope = TenantScope(tenant.id)
        body = {"operation_id": op, "title": "A", "description": "d", "issue_type": "ncr"}
        year = datetime.now(UTC).year
        result: dict[str, Any] = {}

        def second() -> None:
            try:
                with unit_of_work(services.sessions, services.outbox, scope) as work:
                    result["number"] = create_issue(
                        work, {**body, "title": "B", "operation_id": other_op}
                    ).ncr_number
            except BaseException as exc:  # reported by the assertion below
                result["error"] = exc

        try:
            with unit_of_work(services.sessions, services.outbox, scope) as first:
                assert create_issue(first, body).ncr_number == f"NCR-{year}-0001"
                racer = threading.Thread(target=second)
                racer.start()
                time.sleep(1.5)  # the second create is now waiting on the first
            racer.join(timeout=60)
        finally:
            services.close()
        assert result == {"number": f"NCR-{year}-0002"}


class TestYellowCardRollUp:
    def test_a_release_to_in_progress_rolls_the_part_and_job_up(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        op = tree.ops[0]
        # in progress by PATCH (which never rolls up): part and job are still not_started
        ok(c.patch("/api-operations", params={"id": op}, json={"status": "in_progress"}))
        card = issue(c, op, causes_standstill=True)
        assert ok(c.get("/api-parts", params={"id": tree.parts[0]}))["part"]["status"] == (
            "not_started"
        )
        ok(c.patch("/api-issues", params={"id": card["id"]}, json={"status": "closed"}))
        assert ok(c.get("/api-operations", params={"id": op}))["operation"]["status"] == (
            "in_progress"
        )
        part = ok(c.get("/api-parts", params={"id": tree.parts[0]}))["part"]
        job = ok(c.get("/api-jobs", params={"id": tree.job}))["job"]
        assert (part["status"], job["status"]) == ("in_progress", "in_progress")
        assert part["started_at"] is not None
        rolled = events(sessions, tenant.id, "operation.resumed", "part.started", "job.started")
        assert [e.type for e in rolled] == ["operation.resumed", "part.started", "job.started"]
        assert rolled[1].data["caused_by"] == {"type": "operation.resumed", "entity_id": op}

    def test_a_release_to_not_started_rolls_nothing_up(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        card = issue(c, tree.ops[0], causes_standstill=True)
        ok(c.delete("/api-issues", params={"id": card["id"]}))
        assert ok(c.get("/api-operations", params={"id": tree.ops[0]}))["operation"]["status"] == (
            "not_started"
        )
        assert event_types(sessions, tenant.id, "part.started", "job.started") == []
