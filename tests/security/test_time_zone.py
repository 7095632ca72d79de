"""Timestamps do not depend on the database session's time zone (issue 8, item 7), and the range
accepted at the door is the range that round-trips on both databases: 0001-01-01T00:00:00Z to
9999-12-31T23:59:59.999999Z, judged after conversion to UTC.

Was a 500: with `PGTZ=America/New_York` PostgreSQL renders year 1 as 1 BC (New York's
local-mean-time offset, −4:56:02, applies before 1883), which Python's datetime cannot hold, so
a job with `due_date` `0001-01-01` was accepted and then every read of it failed.
"""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.engine import make_engine
from tests.support.api import invalid, make_tree, ok, suffix
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle, make_tenant

NEW_YORK = "America/New_York"


@pytest.fixture
def postgres_url(db_kind: str, database_url: str) -> str:
    if db_kind != "postgresql":
        pytest.skip("the session time zone is PostgreSQL's; SQLite stores UTC text")
    return database_url


@pytest.fixture
def new_york_server(
    postgres_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    """A server whose connections libpq opens with PGTZ=America/New_York."""
    monkeypatch.setenv("PGTZ", NEW_YORK)
    live = start_server(settings)
    yield live
    live.stop()


@pytest.mark.postgres_only
class TestPostgresSessionsRunInUtc:
    def test_every_connection_uses_utc_whatever_pgtz_says(
        self, postgres_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PGTZ", NEW_YORK)
        engine = make_engine(postgres_url)
        try:
            for _ in range(2):  # a fresh connection each time
                with engine.connect() as conn:
                    assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
                engine.dispose()
        finally:
            engine.dispose()

    def test_year_one_reads_back_through_a_server_started_with_a_new_york_pgtz(
        self, new_york_server: LiveServer, sessions: sessionmaker[Session]
    ) -> None:
        t = make_tenant(new_york_server, sessions)
        try:
            c = t.client
            early = ok(
                c.post("/api-jobs", json={"job_number": f"J-{suffix()}", "due_date": "0001-01-01"}),
                201,
            )["job"]
            late = ok(
                c.post("/api-jobs", json={"job_number": f"J-{suffix()}", "due_date": "2026-12-31"}),
                201,
            )["job"]
            assert early["due_date"] == "0001-01-01T00:00:00.000Z"
            assert (
                ok(c.get("/api-jobs", params={"id": early["id"]}))["job"]["due_date"]
                == early["due_date"]
            )
            for order, expected in (("asc", [early, late]), ("desc", [late, early])):
                listed = ok(c.get("/api-jobs", params={"sort": "due_date", "order": order}))["jobs"]
                assert [j["id"] for j in listed] == [j["id"] for j in expected]
            only = ok(c.get("/api-jobs", params={"due_date_to": "0001-01-01"}))["jobs"]
            assert [j["id"] for j in only] == [early["id"]]
            created = [e for e in ok(c.get("/api-events"))["events"] if e["type"] == "job.created"]
            assert created[0]["data"]["job"]["due_date"] == "0001-01-01T00:00:00.000Z"
        finally:
            t.close()


class TestTheAcceptedDateRange:
    @pytest.mark.parametrize(
        ("given", "stored"),
        [
            ("0001-01-01", "0001-01-01T00:00:00.000Z"),
            ("0001-01-01T00:30:00-01:00", "0001-01-01T01:30:00.000Z"),
            ("9999-12-31", "9999-12-31T00:00:00.000Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ],
    )
    def test_the_first_and_last_instants_round_trip_on_reads_and_sorted_lists(
        self, tenant: TenantHandle, given: str, stored: str
    ) -> None:
        c = tenant.client
        job = ok(c.post("/api-jobs", json={"job_number": f"J-{suffix()}", "due_date": given}), 201)[
            "job"
        ]
        assert ok(c.get("/api-jobs", params={"id": job["id"]}))["job"]["due_date"] == stored
        for order in ("asc", "desc"):
            listed = ok(c.get("/api-jobs", params={"sort": "due_date", "order": order}))["jobs"]
            assert [j["due_date"] for j in listed] == [stored]
        part = make_tree(c, parts=1, ops=0)["parts"][0]["id"]
        op = ok(
            c.post(
                "/api-operations",
                json={"part_id": part, "operation_name": "Cut", "planned_start": given},
            ),
            201,
        )["operation"]
        listed = ok(c.get("/api-operations", params={"sort": "planned_start", "id": op["id"]}))
        assert listed["operation"]["planned_start"] == stored

    @pytest.mark.parametrize(
        "given",
        [
            "0001-01-01T00:00:00+01:00",  # 0000-12-31T23:00Z
            "9999-12-31T23:59:59-00:01",  # 10000-01-01T00:00:59Z
            "0000-12-31",
            "10000-01-01",
        ],
    )
    def test_a_date_outside_the_range_once_in_utc_is_422_naming_the_field(
        self, tenant: TenantHandle, given: str
    ) -> None:
        body = {"job_number": f"J-{suffix()}", "due_date": given}
        invalid(tenant.client.post("/api-jobs", json=body), "due_date", "DATE_FORMAT")
        synced = {**body, "external_id": f"E-{suffix()}", "external_source": "ERP"}
        invalid(tenant.client.put("/api-jobs/sync", json=synced), "due_date", "DATE_FORMAT")
