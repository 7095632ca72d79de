"""`api-operation-lifecycle` (API §5.3): the state table, time entries opened and closed
truthfully, `actual_time`, operators, roll-up to part and job, and compare-and-set."""

import threading
import uuid

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.conftest import Clocked
from tests.shopfloor.helpers import constraint_of, event_types, events, fails, make_job, ok
from tests.support.tenants import TenantHandle

STATUSES = ("not_started", "in_progress", "on_hold", "completed")
ALLOWED = {
    "start": ("not_started", "on_hold"),
    "pause": ("in_progress",),
    "resume": ("on_hold",),
    "complete": ("in_progress",),
}
TARGET = {
    "start": "in_progress",
    "pause": "on_hold",
    "resume": "in_progress",
    "complete": "completed",
}


def act(client: httpx.Client, action: str, op: str, **params: str) -> httpx.Response:
    return client.post(f"/api-operation-lifecycle/{action}", params={"id": op, **params})


class TestStateTable:
    @pytest.mark.parametrize("action", list(ALLOWED))
    def test_every_status_is_allowed_or_refused_as_the_table_says(
        self, tenant: TenantHandle, action: str
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=len(STATUSES))
        for op, status in zip(tree.ops, STATUSES, strict=True):
            ok(c.patch("/api-operations", params={"id": op}, json={"status": status}))
            resp = act(c, action, op)
            if status in ALLOWED[action]:
                data = ok(resp)
                assert (data["previous_status"], data["new_status"], data["operation_type"]) == (
                    status,
                    TARGET[action],
                    action,
                )
                assert data["operation"]["status"] == TARGET[action]
            else:
                must = " or ".join(f"'{s}'" for s in ALLOWED[action])
                fails(
                    resp,
                    400,
                    "INVALID_STATE_TRANSITION",
                    f"Cannot {action} operation with status '{status}'. Operation must be {must}.",
                )

    def test_complete_sets_completion_and_timestamps(self, tenant: TenantHandle) -> None:
        tree = make_job(tenant.client, ops=1)
        ok(act(tenant.client, "start", tree.ops[0]))
        paused = ok(act(tenant.client, "pause", tree.ops[0]))["operation"]
        assert paused["paused_at"] is not None
        resumed = ok(act(tenant.client, "resume", tree.ops[0]))["operation"]
        assert resumed["paused_at"] is None
        assert resumed["resumed_at"] is not None
        done = ok(act(tenant.client, "complete", tree.ops[0]))["operation"]
        assert done["completion_percentage"] == 100
        assert done["completed_at"] is not None
        assert done["part"]["job"]["id"] == tree.job  # the standard single representation


class TestTimeEntries:
    def test_without_an_operator_no_entry_is_opened(self, tenant: TenantHandle) -> None:
        tree = make_job(tenant.client, ops=1)
        data = ok(act(tenant.client, "start", tree.ops[0]))
        assert (
            data["time_entry_created"],
            data["time_entry"],
            data["time_entry_ended"],
            data["time_entries_ended"],
        ) == (False, None, False, 0)
        assert ok(tenant.client.get("/api-time-entries"))["time_entries"] == []

    def test_start_with_an_operator_opens_an_entry_and_complete_closes_it_into_actual_time(
        self, tenant: TenantHandle, clocked: Clocked, sessions: sessionmaker[Session]
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=1)
        started = ok(
            c.post(
                "/api-operation-lifecycle/start",
                params={"id": tree.ops[0], "operator_id": "B-17"},
                json={"operator_name": "Ann de Vries", "time_type": "setup", "notes": "first"},
            )
        )
        entry = started["time_entry"]
        assert started["time_entry_created"] is True
        assert (
            entry["operator_id"],
            entry["operator_name"],
            entry["time_type"],
            entry["notes"],
            entry["end_time"],
        ) == ("B-17", "Ann de Vries", "setup", "first", None)
        assert "operation" not in entry  # no embeds
        clocked.minutes(42.2)
        done = ok(act(c, "complete", tree.ops[0]))
        assert (
            done["time_entry_created"],
            done["time_entry_ended"],
            done["time_entries_ended"],
        ) == (False, True, 1)
        assert done["operation"]["actual_time"] == 42
        closed = ok(c.get("/api-time-entries", params={"id": entry["id"]}))["time_entry"]
        assert closed["duration"] == 42
        assert closed["end_time"] is not None
        types = event_types(
            sessions,
            tenant.id,
            "operator.created",
            "operation.started",
            "time_entry.created",
            "operation.completed",
            "time_entry.stopped",
        )
        assert types == [
            "operator.created",
            "operation.started",
            "time_entry.created",
            "operation.completed",
            "time_entry.stopped",
        ]
        completed = events(sessions, tenant.id, "operation.completed")[0].data
        assert completed["actual_time"] == 42
        assert completed["operator_id"] is None
        stopped = events(sessions, tenant.id, "time_entry.stopped")[0].data
        assert "end_time" in stopped["changed_fields"]
        assert stopped["previous"]["end_time"] is None

    def test_pause_closes_every_open_entry_and_resume_opens_one_for_the_operator(
        self, tenant: TenantHandle, clocked: Clocked
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=1)
        op = tree.ops[0]
        ok(act(c, "start", op, operator_id="A"))
        ok(c.post("/api-time-entries", json={"operation_id": op, "operator_id": "B"}), 201)
        clocked.minutes(10)
        paused = ok(act(c, "pause", op))
        assert (paused["time_entry_ended"], paused["time_entries_ended"]) == (True, 2)
        assert paused["operation"]["actual_time"] == 20
        clocked.minutes(60)  # on hold: not counted
        resumed = ok(act(c, "resume", op, user_id="A"))  # Eryxon's parameter name
        assert resumed["time_entry_created"] is True
        assert resumed["time_entry"]["operator_id"] == "A"
        clocked.minutes(5)
        assert ok(act(c, "complete", op))["operation"]["actual_time"] == 25

    def test_start_does_not_open_a_second_entry_for_an_operator_who_has_one(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        ok(c.post("/api-time-entries", json={"operation_id": tree.ops[0], "operator_id": "A"}), 201)
        data = ok(act(c, "start", tree.ops[0], operator_id="A"))
        assert (data["time_entry_created"], data["time_entry"]) == (False, None)
        assert (
            len(
                ok(c.get("/api-time-entries", params={"operation_id": tree.ops[0]}))["time_entries"]
            )
            == 1
        )


class TestOperators:
    def test_query_and_body_naming_different_operators_is_a_mismatch(
        self, tenant: TenantHandle
    ) -> None:
        tree = make_job(tenant.client, ops=1)
        resp = tenant.client.post(
            "/api-operation-lifecycle/start",
            params={"id": tree.ops[0], "operator_id": "A"},
            json={"operator_id": "B"},
        )
        assert (
            constraint_of(fails(resp, 422, "VALIDATION_ERROR"), "operator_id")
            == "REFERENCE_MISMATCH"
        )
        same = tenant.client.post(
            "/api-operation-lifecycle/start",
            params={"id": tree.ops[0], "operator_id": "A"},
            json={"operator_id": "A"},
        )
        assert ok(same)["time_entry_created"] is True

    def test_an_inactive_operator_is_refused_and_nothing_changes(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op_row = ok(c.post("/api-operators", json={"operator_id": "GONE"}), 201)["operator"]
        ok(c.patch("/api-operators", params={"id": op_row["id"]}, json={"active": False}))
        tree = make_job(c, ops=1)
        err = fails(act(c, "start", tree.ops[0], operator_id="GONE"), 422, "VALIDATION_ERROR")
        assert constraint_of(err, "operator_id") == "REFERENCE_NOT_FOUND"
        assert (
            ok(c.get("/api-operations", params={"id": tree.ops[0]}))["operation"]["status"]
            == "not_started"
        )

    def test_bad_body_fields_are_422(self, tenant: TenantHandle) -> None:
        tree = make_job(tenant.client, ops=1)
        err = fails(
            tenant.client.post(
                "/api-operation-lifecycle/start",
                params={"id": tree.ops[0]},
                json={"time_type": "lunch", "operator_id": "x" * 65, "shift": 2},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert {d["field"]: d["constraint"] for d in err["details"]} == {
            "time_type": "ENUM_CONSTRAINT",
            "operator_id": "MAX_LENGTH",
            "shift": "UNKNOWN_FIELD",
        }

    def test_checks_come_in_the_contract_order(self, tenant: TenantHandle) -> None:
        c = tenant.client
        fails(
            c.post("/api-operation-lifecycle/go", json={"time_type": "lunch"}),
            400,
            "INVALID_OPERATION",
            "Invalid operation 'go'. Supported operations: start, pause, resume, complete",
        )
        fails(
            c.post("/api-operation-lifecycle/start", json={"time_type": "lunch"}),
            400,
            "BAD_REQUEST",
            "Operation ID is required in query string (?id=xxx)",
        )
        fails(act(c, "start", str(uuid.uuid4())), 404, "NOT_FOUND", "Operation not found")
        fails(
            c.post(
                "/api-operation-lifecycle/start",
                params={"id": str(uuid.uuid4())},
                json={"time_type": "lunch"},
            ),
            422,
            "VALIDATION_ERROR",
        )


class TestRollUp:
    def test_the_first_start_rolls_up_and_the_last_completion_completes_part_and_job(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=2)
        first = ok(act(c, "start", tree.operations[0][0]))
        assert [
            (r["entity_type"], r["id"], r["previous_status"], r["new_status"])
            for r in first["rolled_up"]
        ] == [
            ("part", tree.parts[0], "not_started", "in_progress"),
            ("job", tree.job, "not_started", "in_progress"),
        ]
        assert ok(act(c, "start", tree.operations[0][1]))["rolled_up"] == []
        assert ok(act(c, "complete", tree.operations[0][0]))["rolled_up"] == []
        last_of_part = ok(act(c, "complete", tree.operations[0][1]))["rolled_up"]
        assert last_of_part == [
            {
                "entity_type": "part",
                "id": tree.parts[0],
                "previous_status": "in_progress",
                "new_status": "completed",
            }
        ]
        for op in tree.operations[1]:
            ok(act(c, "start", op))
        ok(act(c, "complete", tree.operations[1][0]))
        final = ok(act(c, "complete", tree.operations[1][1]))["rolled_up"]
        assert [(r["entity_type"], r["new_status"]) for r in final] == [
            ("part", "completed"),
            ("job", "completed"),
        ]
        job = ok(c.get("/api-jobs", params={"id": tree.job}))["job"]
        assert job["status"] == "completed"
        assert job["completed_at"] is not None
        assert job["actual_duration"] == 0
        assert {p["status"] for p in job["parts"]} == {"completed"}

        evs = events(sessions, tenant.id)
        types = [e.type for e in evs if not e.type.endswith(".created")]
        assert types[:3] == ["operation.started", "part.started", "job.started"]
        assert types[-3:] == ["operation.completed", "part.completed", "job.completed"]
        job_done = next(e for e in evs if e.type == "job.completed").data
        assert job_done["caused_by"] == {
            "type": "operation.completed",
            "entity_id": tree.operations[1][1],
        }
        part_started = next(e for e in evs if e.type == "part.started").data
        assert part_started["caused_by"] == {
            "type": "operation.started",
            "entity_id": tree.operations[0][0],
        }
        assert (part_started["action"], part_started["job_number"]) == (None, job["job_number"])

    def test_roll_up_never_touches_an_on_hold_part_or_job_and_ignores_soft_deleted_operations(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        ok(c.patch("/api-parts", params={"id": tree.parts[0]}, json={"status": "on_hold"}))
        ok(c.patch("/api-jobs", params={"id": tree.job}, json={"status": "on_hold"}))
        assert ok(act(c, "start", tree.ops[0]))["rolled_up"] == []
        ok(c.patch("/api-parts", params={"id": tree.parts[0]}, json={"status": "in_progress"}))
        ok(c.patch("/api-jobs", params={"id": tree.job}, json={"status": "in_progress"}))
        ok(c.delete("/api-operations", params={"id": tree.ops[1]}))  # the other operation is gone
        rolled = ok(act(c, "complete", tree.ops[0]))["rolled_up"]
        assert [(r["entity_type"], r["new_status"]) for r in rolled] == [
            ("part", "completed"),
            ("job", "completed"),
        ]

    def test_a_patched_status_does_not_roll_up(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        ok(c.patch("/api-operations", params={"id": tree.ops[0]}, json={"status": "completed"}))
        assert (
            ok(c.get("/api-parts", params={"id": tree.parts[0]}))["part"]["status"] == "not_started"
        )


def race(clients: list[httpx.Client], path: str, params: dict[str, str]) -> list[httpx.Response]:
    """POST the same request from every client at once (one thread and connection each)."""
    barrier = threading.Barrier(len(clients))
    results: list[httpx.Response] = []

    def post(client: httpx.Client) -> None:
        barrier.wait()
        results.append(client.post(path, params=params))

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class TestCompareAndSet:
    def test_two_concurrent_starts_give_exactly_one_success(
        self, tenant: TenantHandle, db_kind: str
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip(
                "SQLite serialises writers (BEGIN IMMEDIATE), so requests never interleave; the race needs PostgreSQL"
            )
        for _round in range(5):
            op = make_job(tenant.client, ops=1).ops[0]
            clients = [tenant.client_for(tenant.admin_key) for _ in range(2)]
            results = race(
                clients, "/api-operation-lifecycle/start", {"id": op, "operator_id": "RACE"}
            )
            assert sorted(r.status_code for r in results) == [200, 400], [r.text for r in results]
            loser = next(r for r in results if r.status_code == 400).json()["error"]
            assert loser["code"] == "INVALID_STATE_TRANSITION"
            assert (
                loser["message"]
                == "Cannot start operation with status 'in_progress'. Operation must be 'not_started' or 'on_hold'."
            )
            assert (
                len(
                    ok(tenant.client.get("/api-time-entries", params={"operation_id": op}))[
                        "time_entries"
                    ]
                )
                == 1
            )

    def test_four_concurrent_job_starts_give_exactly_one_success(
        self, tenant: TenantHandle, db_kind: str
    ) -> None:
        if db_kind != "postgresql":
            pytest.skip(
                "SQLite serialises writers (BEGIN IMMEDIATE), so requests never interleave; the race needs PostgreSQL"
            )
        job = make_job(tenant.client, ops=1).job
        results = race(
            [tenant.client_for(tenant.admin_key) for _ in range(4)],
            "/api-job-lifecycle/start",
            {"id": job},
        )
        assert sorted(r.status_code for r in results) == [200, 400, 400, 400]
