"""`api-time-entries` (API §3.8): open, pause, resume and close entries; durations without
pauses; one open entry per operator and operation; `actual_time` kept in step; filters."""

import uuid

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.conftest import Clocked
from tests.shopfloor.helpers import constraint_of, event_types, events, fails, make_job, ok
from tests.support.tenants import TenantHandle


def actual_time(client: httpx.Client, op: str) -> int:
    return int(ok(client.get("/api-operations", params={"id": op}))["operation"]["actual_time"])


class TestLifecycleOfAnEntry:
    def test_an_entry_is_paused_resumed_and_closed_with_pauses_subtracted(
        self, tenant: TenantHandle, clocked: Clocked, sessions: sessionmaker[Session]
    ) -> None:
        c = clocked.client(tenant)
        op = make_job(c, ops=1).ops[0]
        entry = ok(
            c.post(
                "/api-time-entries",
                json={"operation_id": op, "operator_id": "T-1", "operator_name": "Tom"},
            ),
            201,
        )["time_entry"]
        assert (
            entry["time_type"],
            entry["is_paused"],
            entry["paused_seconds"],
            entry["duration"],
            entry["operator_name"],
        ) == ("run", False, 0, None, "Tom")
        assert list(entry)[:4] == ["id", "operation_id", "operator_id", "operator_name"]
        clocked.minutes(10)
        paused = ok(
            c.patch("/api-time-entries", params={"id": entry["id"]}, json={"is_paused": True})
        )["time_entry"]
        assert paused["is_paused"] is True
        clocked.minutes(5)
        resumed = ok(
            c.patch("/api-time-entries", params={"id": entry["id"]}, json={"is_paused": False})
        )["time_entry"]
        assert (resumed["is_paused"], resumed["paused_seconds"]) == (False, 300)
        clocked.minutes(10)
        ok(c.patch("/api-time-entries", params={"id": entry["id"]}, json={"is_paused": True}))
        clocked.minutes(2)
        closed = ok(
            c.patch(
                "/api-time-entries",
                params={"id": entry["id"]},
                json={"end_time": clocked.clock.now().isoformat()},
            )
        )["time_entry"]
        assert closed["end_time"] > closed["start_time"]
        assert (closed["is_paused"], closed["paused_seconds"], closed["duration"]) == (
            False,
            420,
            20,
        )  # 27 min − 7 min paused
        assert actual_time(c, op) == 20
        types = event_types(
            sessions, tenant.id, "time_entry.created", "time_entry.updated", "time_entry.stopped"
        )
        assert types == [
            "time_entry.created",
            "time_entry.updated",
            "time_entry.updated",
            "time_entry.updated",
            "time_entry.stopped",
        ]
        stopped = events(sessions, tenant.id, "time_entry.stopped")[0].data
        assert set(stopped["changed_fields"]) >= {
            "end_time",
            "duration",
            "is_paused",
            "paused_seconds",
        }
        assert stopped["time_entry"]["operation"]["id"] == op

    def test_a_closed_entry_can_be_corrected_and_deleted_and_actual_time_follows(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        a = ok(
            c.post(
                "/api-time-entries",
                json={
                    "operation_id": op,
                    "operator_id": "A",
                    "start_time": "2026-03-01T08:00:00Z",
                    "end_time": "2026-03-01T08:30:00Z",
                },
            ),
            201,
        )["time_entry"]
        b = ok(
            c.post(
                "/api-time-entries",
                json={
                    "operation_id": op,
                    "operator_id": "B",
                    "start_time": "2026-03-01T08:00:00Z",
                    "end_time": "2026-03-01T08:15:29Z",
                },
            ),
            201,
        )["time_entry"]
        assert (a["duration"], b["duration"], actual_time(c, op)) == (30, 15, 45)
        ok(
            c.patch(
                "/api-time-entries",
                params={"id": a["id"]},
                json={"end_time": "2026-03-01T09:00:00Z"},
            )
        )
        assert actual_time(c, op) == 75
        before = len(events(sessions, tenant.id))
        ok(
            c.patch(
                "/api-time-entries",
                params={"id": a["id"]},
                json={"end_time": "2026-03-01T09:00:00.000Z", "notes": None},
            )
        )  # no-op
        assert len(events(sessions, tenant.id)) == before
        ok(c.delete("/api-time-entries", params={"id": a["id"]}))
        assert actual_time(c, op) == 15
        deleted = events(sessions, tenant.id, "time_entry.deleted")[0].data
        assert deleted["hard"] is True
        assert deleted["time_entry"]["id"] == a["id"]
        assert deleted["time_entry"]["operator_id"] == "A"
        fails(
            c.get("/api-time-entries", params={"id": a["id"]}),
            404,
            "NOT_FOUND",
            f"time_entries with ID {a['id']} not found",
        )


class TestRules:
    def test_a_second_open_entry_for_the_same_operator_and_operation_is_409(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        first = ok(c.post("/api-time-entries", json={"operation_id": op, "operator_id": "A"}), 201)[
            "time_entry"
        ]
        err = fails(
            c.post("/api-time-entries", json={"operation_id": op, "operator_id": "A"}),
            409,
            "CONFLICT",
        )
        assert constraint_of(err, "operator_id") == "UNIQUE_CONSTRAINT"
        ok(
            c.post("/api-time-entries", json={"operation_id": op, "operator_id": "B"}), 201
        )  # another operator may
        ok(
            c.patch(
                "/api-time-entries", params={"id": first["id"]}, json={"end_time": "2099-01-01"}
            )
        )
        ok(
            c.post("/api-time-entries", json={"operation_id": op, "operator_id": "A"}), 201
        )  # closed: a new one may open
        fails(
            c.patch("/api-time-entries", params={"id": first["id"]}, json={"end_time": None}),
            409,
            "CONFLICT",
        )  # reopening clashes

    def test_bad_input_is_422_with_the_precise_constraint(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        foreign = make_job(other_tenant.client, ops=1).ops[0]
        cases = [
            ({"operator_id": "A"}, "operation_id", "NOT_NULL"),
            ({"operation_id": op}, "operator_id", "NOT_NULL"),
            ({"operation_id": foreign, "operator_id": "A"}, "operation_id", "REFERENCE_NOT_FOUND"),
            (
                {"operation_id": str(uuid.uuid4()), "operator_id": "A"},
                "operation_id",
                "REFERENCE_NOT_FOUND",
            ),
            ({"operation_id": "x", "operator_id": "A"}, "operation_id", "UUID_FORMAT"),
            (
                {"operation_id": op, "operator_id": "A", "time_type": "lunch"},
                "time_type",
                "ENUM_CONSTRAINT",
            ),
            ({"operation_id": op, "operator_id": "  "}, "operator_id", "NOT_NULL"),
            (
                {
                    "operation_id": op,
                    "operator_id": "A",
                    "start_time": "2026-03-01T09:00:00Z",
                    "end_time": "2026-03-01T08:00:00Z",
                },
                "end_time",
                "INVALID_VALUE",
            ),
            (
                {
                    "operation_id": op,
                    "operator_id": "A",
                    "end_time": "2099-01-01",
                    "is_paused": True,
                },
                "is_paused",
                "INVALID_VALUE",
            ),
            (
                {"operation_id": op, "operator_id": "A", "duration": 5, "badge": 1},
                "badge",
                "UNKNOWN_FIELD",
            ),
            (
                {"operation_id": op, "operator_id": "A", "operator_name": "x" * 201},
                "operator_name",
                "MAX_LENGTH",
            ),
        ]
        for body, field_name, constraint in cases:
            err = fails(c.post("/api-time-entries", json=body), 422, "VALIDATION_ERROR")
            assert err["message"].endswith("validation error(s) in time_entry")
            assert constraint_of(err, field_name) == constraint, (body, err)

    def test_a_deleted_operation_cannot_get_new_entries(self, tenant: TenantHandle) -> None:
        c = tenant.client
        op = make_job(c, ops=1).ops[0]
        ok(c.delete("/api-operations", params={"id": op}))
        err = fails(
            c.post("/api-time-entries", json={"operation_id": op, "operator_id": "A"}),
            422,
            "VALIDATION_ERROR",
        )
        assert constraint_of(err, "operation_id") == "REFERENCE_NOT_FOUND"


class TestListing:
    def test_filters_search_and_sort(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, parts=2, ops=1)
        other_job = make_job(c, ops=1)
        a = ok(
            c.post(
                "/api-time-entries",
                json={
                    "operation_id": tree.ops[0],
                    "operator_id": "A",
                    "operator_name": "Anneke Smit",
                    "start_time": "2026-03-01T08:00:00Z",
                    "end_time": "2026-03-01T09:00:00Z",
                },
            ),
            201,
        )["time_entry"]
        b = ok(
            c.post(
                "/api-time-entries",
                json={
                    "operation_id": tree.ops[1],
                    "operator_id": "B",
                    "time_type": "setup",
                    "start_time": "2026-03-02T08:00:00Z",
                    "notes": "tool change",
                },
            ),
            201,
        )["time_entry"]
        d = ok(
            c.post(
                "/api-time-entries",
                json={
                    "operation_id": other_job.ops[0],
                    "operator_id": "A",
                    "start_time": "2026-03-03T08:00:00Z",
                },
            ),
            201,
        )["time_entry"]

        def ids(**params: str) -> list[str]:
            return [e["id"] for e in ok(c.get("/api-time-entries", params=params))["time_entries"]]

        assert ids() == [d["id"], b["id"], a["id"]]  # start_time desc
        assert ids(sort="start_time", order="asc") == [a["id"], b["id"], d["id"]]
        assert ids(open="true") == [d["id"], b["id"]]
        assert ids(open="false") == [a["id"]]
        assert ids(operator_id="A") == [d["id"], a["id"]]
        assert ids(job_id=tree.job) == [b["id"], a["id"]]
        assert ids(part_id=tree.parts[1]) == [b["id"]]
        assert ids(time_type="setup") == [b["id"]]
        assert ids(start_date="2026-03-02", end_date="2026-03-02T23:59:59Z") == [b["id"]]
        assert ids(search="anneke") == [d["id"], a["id"]]  # the directory name of operator A
        assert ids(search="TOOL") == [b["id"]]
        fails(c.get("/api-time-entries", params={"open": "maybe"}), 400, "BAD_REQUEST")
        fails(c.get("/api-time-entries", params={"time_type": "lunch"}), 400, "BAD_REQUEST")
        fails(c.get("/api-time-entries", params={"sort": "operator_id"}), 400, "BAD_REQUEST")
        fails(c.get("/api-time-entries", params={"search": "x" * 201}), 400, "BAD_REQUEST")
