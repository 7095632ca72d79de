"""`api-job-lifecycle` (API §5.1, §5.2): every cell of the state table, timestamps, events and
the order of checks."""

import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.shopfloor.conftest import Clocked
from tests.shopfloor.helpers import events, fails, make_job, ok
from tests.support.tenants import TenantHandle

STATUSES = ("not_started", "in_progress", "on_hold", "completed")
ALLOWED = {
    "start": ("not_started", "on_hold"),
    "stop": ("in_progress",),
    "pause": ("in_progress",),
    "resume": ("on_hold",),
    "complete": ("in_progress",),
}
TARGET = {
    "start": "in_progress",
    "stop": "on_hold",
    "pause": "on_hold",
    "resume": "in_progress",
    "complete": "completed",
}


def _must(action: str) -> str:
    return " or ".join(f"'{s}'" for s in ALLOWED[action])


class TestStateTable:
    @pytest.mark.parametrize("action", list(ALLOWED))
    def test_every_status_is_allowed_or_refused_as_the_table_says(
        self, tenant: TenantHandle, action: str
    ) -> None:
        c = tenant.client
        for status in STATUSES:
            tree = make_job(c, ops=1)
            ok(c.patch("/api-jobs", params={"id": tree.job}, json={"status": status}))
            resp = c.post(f"/api-job-lifecycle/{action}", params={"id": tree.job})
            if status in ALLOWED[action]:
                data = ok(resp)
                assert (data["previous_status"], data["new_status"], data["operation"]) == (
                    status,
                    TARGET[action],
                    action,
                )
                assert data["job"]["status"] == TARGET[action]
            else:
                fails(
                    resp,
                    400,
                    "INVALID_STATE_TRANSITION",
                    f"Cannot {action} job with status '{status}'. Job must be {_must(action)}.",
                )
                assert ok(c.get("/api-jobs", params={"id": tree.job}))["job"]["status"] == status


class TestTimestampsAndEvents:
    def test_a_full_cycle_sets_the_lifecycle_timestamps_and_actual_duration(
        self, tenant: TenantHandle, clocked: Clocked
    ) -> None:
        c = clocked.client(tenant)
        tree = make_job(c, ops=1)
        started = ok(c.post("/api-job-lifecycle/start", params={"id": tree.job}))["job"]
        assert started["started_at"] is not None
        assert started["paused_at"] is None
        clocked.minutes(10)
        paused = ok(c.post("/api-job-lifecycle/pause", params={"id": tree.job}))
        assert paused["operation"] == "pause"
        assert paused["job"]["paused_at"] is not None
        clocked.minutes(5)
        resumed = ok(c.post("/api-job-lifecycle/resume", params={"id": tree.job}))["job"]
        assert resumed["paused_at"] is None
        assert resumed["resumed_at"] is not None
        restart = ok(c.post("/api-job-lifecycle/stop", params={"id": tree.job}))
        again = ok(c.post("/api-job-lifecycle/start", params={"id": tree.job}))["job"]
        assert restart["new_status"] == "on_hold"
        assert again["started_at"] == started["started_at"]
        clocked.minutes(30.4)
        done = ok(c.post("/api-job-lifecycle/complete", params={"id": tree.job}))["job"]
        assert done["completed_at"] is not None
        assert done["actual_duration"] == 45  # round(45.4 minutes)

    def test_each_action_writes_its_event_with_the_statuses(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=1)
        for action in ("start", "pause", "resume", "complete"):
            ok(c.post(f"/api-job-lifecycle/{action}", params={"id": tree.job}))
        evs = [
            e
            for e in events(sessions, tenant.id)
            if e.type.startswith("job.") and e.type != "job.created"
        ]
        assert [e.type for e in evs] == [
            "job.started",
            "job.stopped",
            "job.resumed",
            "job.completed",
        ]
        stopped = evs[1].data
        assert (stopped["action"], stopped["previous_status"], stopped["new_status"]) == (
            "pause",
            "in_progress",
            "on_hold",
        )
        assert stopped["job_id"] == tree.job
        assert stopped["customer"] == "Acme BV"
        assert "caused_by" not in stopped
        assert stopped["origin"]["channel"] == "api"

    def test_the_job_lifecycle_does_not_roll_down(self, tenant: TenantHandle) -> None:
        c = tenant.client
        tree = make_job(c, ops=2)
        ok(c.post("/api-job-lifecycle/start", params={"id": tree.job}))
        ok(c.post("/api-job-lifecycle/complete", params={"id": tree.job}))
        ops = ok(c.get("/api-operations", params={"job_id": tree.job}))["operations"]
        assert {o["status"] for o in ops} == {"not_started"}
        assert (
            ok(c.get("/api-parts", params={"id": tree.parts[0]}))["part"]["status"] == "not_started"
        )


class TestChecks:
    def test_an_unknown_action_is_invalid_operation_with_the_supported_list(
        self, tenant: TenantHandle
    ) -> None:
        resp = tenant.client.post(
            "/functions/v1/api-job-lifecycle/launch", params={"id": str(uuid.uuid4())}
        )
        fails(
            resp,
            400,
            "INVALID_OPERATION",
            "Invalid operation 'launch'. Supported operations: start, stop, pause, resume, complete",
        )

    def test_a_missing_id_and_a_malformed_id_are_bad_requests(self, tenant: TenantHandle) -> None:
        fails(
            tenant.client.post("/api-job-lifecycle/start"),
            400,
            "BAD_REQUEST",
            "Job ID is required in query string (?id=xxx)",
        )
        fails(
            tenant.client.post("/api-job-lifecycle/start", params={"id": "nope"}),
            400,
            "BAD_REQUEST",
        )

    def test_other_methods_are_405_with_allow(self, tenant: TenantHandle) -> None:
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            resp = tenant.client.request(
                method, "/api-job-lifecycle/start", params={"id": str(uuid.uuid4())}
            )
            fails(
                resp,
                405,
                "METHOD_NOT_ALLOWED",
                f"Method {method} not allowed. Allowed: POST, OPTIONS",
            )
            assert resp.headers["allow"] == "POST, OPTIONS"

    def test_body_fields_are_refused_and_a_non_object_body_is_a_bad_request(
        self, tenant: TenantHandle
    ) -> None:
        tree = make_job(tenant.client, ops=1)
        err = fails(
            tenant.client.post(
                "/api-job-lifecycle/start", params={"id": tree.job}, json={"operator_id": "7"}
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert err["details"][0]["constraint"] == "UNKNOWN_FIELD"
        fails(
            tenant.client.post("/api-job-lifecycle/start", params={"id": tree.job}, json=[1]),
            400,
            "BAD_REQUEST",
            "Request body must be a JSON object",
        )
        ok(tenant.client.post("/api-job-lifecycle/start", params={"id": tree.job}, json={}))

    def test_a_missing_foreign_or_soft_deleted_job_is_404(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        mine = make_job(tenant.client, ops=1)
        theirs = make_job(other_tenant.client, ops=1)
        fails(
            tenant.client.post("/api-job-lifecycle/start", params={"id": str(uuid.uuid4())}),
            404,
            "NOT_FOUND",
            "Job not found",
        )
        fails(
            tenant.client.post("/api-job-lifecycle/start", params={"id": theirs.job}),
            404,
            "NOT_FOUND",
            "Job not found",
        )
        ok(tenant.client.delete("/api-jobs", params={"id": mine.job}))
        fails(
            tenant.client.post("/api-job-lifecycle/start", params={"id": mine.job}),
            404,
            "NOT_FOUND",
            "Job not found",
        )
        assert (
            ok(other_tenant.client.get("/api-jobs", params={"id": theirs.job}))["job"]["status"]
            == "not_started"
        )
