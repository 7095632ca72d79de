"""Incremental reads by time (`updated_since`/`updated_before`, `synced_since`/`synced_before`),
the cheap list total (no count when the page shows it, an estimate beyond the exact-count limit
on PostgreSQL), `NULLS LAST` only on nullable sort columns, and the trigram search index
(entities/listing.py, entities/search_index.py)."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.statistics import TableStatistics
from floorsync.entities import listing
from floorsync.entities.listing import Explain, apply_filters, apply_sort, list_rows
from floorsync.entities.search_index import TRIGRAM_SEARCH, index_name
from floorsync.entities.spec import get_spec
from floorsync.models import Job
from tests.support.api import fails, make_job, ok
from tests.support.sql import counted
from tests.support.tenants import TenantHandle


def listed(tenant: TenantHandle, entity: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(tenant.client.get(f"/api-{entity}", params=params))
    return body


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TestTimeFilters:
    def test_since_is_inclusive_and_before_exclusive(self, tenant: TenantHandle) -> None:
        jobs = [make_job(tenant.client) for _ in range(3)]
        middle = jobs[1]["updated_at"]
        since = listed(tenant, "jobs", updated_since=middle)["jobs"]
        assert [j["id"] for j in since] == [jobs[1]["id"], jobs[2]["id"]]  # oldest first
        before = listed(tenant, "jobs", updated_before=middle)["jobs"]
        assert [j["id"] for j in before] == [jobs[0]["id"]]
        window = listed(tenant, "jobs", updated_since=jobs[0]["updated_at"], updated_before=middle)
        assert [j["id"] for j in window["jobs"]] == [jobs[0]["id"]]
        assert window["pagination"] == {"total": 1, "offset": 0, "limit": 100}

    def test_a_changed_record_moves_to_the_end_of_an_incremental_read(
        self, tenant: TenantHandle
    ) -> None:
        first, second = make_job(tenant.client), make_job(tenant.client)
        ok(tenant.client.patch("/api-jobs", params={"id": first["id"]}, json={"priority": 5}))
        rows = listed(tenant, "jobs", updated_since=first["created_at"])["jobs"]
        assert [j["id"] for j in rows] == [second["id"], first["id"]]
        # An explicit sort still wins; order alone flips the time order.
        desc = listed(tenant, "jobs", updated_since=first["created_at"], order="desc")["jobs"]
        assert [j["id"] for j in desc] == [first["id"], second["id"]]
        by_number = listed(
            tenant, "jobs", updated_since=first["created_at"], sort="job_number", order="asc"
        )["jobs"]
        assert [j["job_number"] for j in by_number] == sorted(
            [first["job_number"], second["job_number"]]
        )

    def test_synced_filters_see_only_records_a_sync_wrote(self, tenant: TenantHandle) -> None:
        made = make_job(tenant.client)  # created over CRUD: synced_at is null
        ext = f"SO-{uuid.uuid4().hex[:6]}"
        synced = ok(
            tenant.client.put(
                "/api-jobs/sync",
                json={"external_id": ext, "external_source": "SAP", "job_number": ext},
            ),
            201,
        )["job"]
        epoch = "2000-01-01T00:00:00Z"
        rows = listed(tenant, "jobs", synced_since=epoch)["jobs"]
        assert [j["id"] for j in rows] == [synced["id"]]
        assert listed(tenant, "jobs", synced_before=epoch)["jobs"] == []
        later = iso(ts(synced["synced_at"]) + timedelta(milliseconds=1))  # the wire shows ms
        assert [j["id"] for j in listed(tenant, "jobs", synced_before=later)["jobs"]] == [
            synced["id"]
        ]
        assert made["id"] not in {
            j["id"] for j in listed(tenant, "jobs", updated_since=epoch, synced_since=epoch)["jobs"]
        }

    def test_time_filters_combine_with_the_other_filters(self, tenant: TenantHandle) -> None:
        low = make_job(tenant.client, priority=1)
        high = make_job(tenant.client, priority=9)
        rows = listed(tenant, "jobs", updated_since=low["updated_at"], priority="9")["jobs"]
        assert [j["id"] for j in rows] == [high["id"]]
        rows = listed(tenant, "jobs", updated_since=low["updated_at"], search=low["job_number"])
        assert [j["id"] for j in rows["jobs"]] == [low["id"]]

    def test_offsets_and_a_space_for_plus_are_accepted(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client)
        at = ts(job["updated_at"])
        plus_one = at.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"
        shifted = (at + timedelta(hours=1)).replace(tzinfo=None).isoformat() + "+01:00"
        unencoded = (at + timedelta(hours=2)).replace(tzinfo=None).isoformat() + " 02:00"
        for value in (plus_one, shifted, unencoded):
            rows = listed(tenant, "jobs", updated_since=value)["jobs"]
            assert [j["id"] for j in rows] == [job["id"]], value

    @pytest.mark.parametrize(
        "value",
        [
            "yesterday",
            "2026-12-07",
            "2026-12-07T10:00:00",
            "2026-13-07T10:00:00Z",
            "1733560000",
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+01:00",
        ],
    )
    @pytest.mark.parametrize("param", ["updated_since", "updated_before", "synced_since"])
    def test_an_invalid_value_is_a_400_naming_the_parameter(
        self, tenant: TenantHandle, param: str, value: str
    ) -> None:
        error = fails(tenant.client.get("/api-jobs", params={param: value}), 400, "BAD_REQUEST")
        assert error["details"][0]["field"] == param
        assert param in error["message"]

    def test_shop_floor_lists_filter_by_update_time_but_are_not_synced(
        self, tenant: TenantHandle
    ) -> None:
        body = listed(tenant, "time-entries", updated_since="2000-01-01T00:00:00Z")
        assert body["pagination"]["total"] == 0
        error = fails(
            tenant.client.get("/api-time-entries", params={"synced_since": "2000-01-01T00:00:00Z"}),
            400,
            "BAD_REQUEST",
        )
        assert error["details"][0]["field"] == "synced_since"

    def test_the_time_filters_are_documented_where_they_apply(self, server: Any) -> None:
        import httpx

        doc = httpx.get(f"{server.base_url}/openapi.json", timeout=60).json()
        jobs = {p["name"] for p in doc["paths"]["/api-jobs"]["get"]["parameters"]}
        assert {"updated_since", "updated_before", "synced_since", "synced_before"} <= jobs
        entries = {p["name"] for p in doc["paths"]["/api-time-entries"]["get"]["parameters"]}
        assert {"updated_since", "updated_before"} <= entries
        assert not {"synced_since", "synced_before"} & entries

    def test_every_time_filter_is_served_by_an_index(self, sessions: sessionmaker[Session]) -> None:
        engine: Engine = sessions.kw["bind"]
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                names = set(conn.scalars(text("SELECT indexname FROM pg_indexes")))
            else:
                names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type='index'")))
        for entity in (
            "cells",
            "resources",
            "materials",
            "jobs",
            "parts",
            "operations",
            "operators",
        ):
            table = get_spec(entity).model.__tablename__
            assert {f"ix_{table}_tenant_id_updated_at", f"ix_{table}_tenant_id_synced_at"} <= names
        for table in ("batches", "time_entries", "assignments", "operation_quantities"):
            assert f"ix_{table}_tenant_id_updated_at" in names


def selects(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))


class TestTotals:
    def test_a_short_first_page_needs_no_count(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        for _ in range(3):
            make_job(tenant.client)
        scope = TenantScope(tenant.id)
        spec = get_spec("jobs")
        with sessions() as session, counted(sessions) as sent:
            rows, total, page = list_rows(session, scope, spec, {"limit": "10"})
        assert (len(rows), total, page.total_estimated) == (3, 3, False)
        assert selects(sent) == 1  # the page alone: it shows the total
        with sessions() as session, counted(sessions) as sent:
            rows, total, _ = list_rows(session, scope, spec, {"limit": "2", "offset": "2"})
        assert (len(rows), total) == (1, 3)  # a short page after an offset shows the end too
        assert selects(sent) == 1
        with sessions() as session, counted(sessions) as sent:
            rows, total, _ = list_rows(session, scope, spec, {"limit": "2"})
        assert (len(rows), total) == (2, 3)
        assert selects(sent) == 2  # a full page counts
        with sessions() as session:
            assert list_rows(session, scope, spec, {"offset": "7"})[:2] == ([], 3)

    def test_beyond_the_exact_limit_the_total_is_an_estimate(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], db_kind: str
    ) -> None:
        for _ in range(8):
            make_job(tenant.client)
        scope, spec = TenantScope(tenant.id), get_spec("jobs")
        with sessions() as session:
            rows, total, page = list_rows(session, scope, spec, {"limit": "2"}, exact_count_limit=5)
            if db_kind == "postgresql":
                # The planner's guess, but never fewer rows than the client has seen.
                assert page.total_estimated
                assert total >= 6
                assert page.as_wire(total)["total_estimated"] is True
                rows, total, page = list_rows(
                    session, scope, spec, {"limit": "2", "offset": "6"}, exact_count_limit=5
                )
                assert page.total_estimated
                assert total >= 8
                rows, total, page = list_rows(
                    session, scope, spec, {"limit": "2", "offset": "50"}, exact_count_limit=5
                )
                assert rows == []
                assert total <= 50
            else:
                assert (total, page.total_estimated) == (8, False)  # SQLite counts exactly
            rows, total, page = list_rows(session, scope, spec, {"limit": "2"})
            assert (total, page.total_estimated) == (8, False)
        wire = listed(tenant, "jobs", limit=2)["pagination"]
        assert wire == {"total": 8, "offset": 0, "limit": 2}


class TestSortNulls:
    def compiled(self, sessions: sessionmaker[Session], sort: str) -> str:
        stmt = apply_sort(
            get_spec("jobs"), scoped(Job, TenantScope(uuid.uuid4())), {"sort": sort}, "postgresql"
        )
        return str(stmt.compile(dialect=postgresql.dialect()))

    def test_nulls_last_only_where_the_column_can_be_null(
        self, sessions: sessionmaker[Session]
    ) -> None:
        assert "NULLS LAST" not in self.compiled(sessions, "created_at")
        assert "NULLS LAST" not in self.compiled(sessions, "job_number")
        assert "NULLS LAST" in self.compiled(sessions, "due_date")
        assert "NULLS LAST" in self.compiled(sessions, "customer")

    def test_nullable_columns_still_sort_missing_values_last(self, tenant: TenantHandle) -> None:
        dated = make_job(tenant.client, due_date="2026-12-31")
        undated = make_job(tenant.client)
        for order in ("asc", "desc"):
            rows = listed(tenant, "jobs", sort="due_date", order=order)["jobs"]
            assert [j["id"] for j in rows] == [dated["id"], undated["id"]]


class TestTrigramSearch:
    def test_the_search_columns_are_the_entities_own(self) -> None:
        for table, columns in TRIGRAM_SEARCH.items():
            assert get_spec(table).listing.search == columns

    def test_search_stays_exact_across_column_boundaries(self, tenant: TenantHandle) -> None:
        job = make_job(tenant.client, customer="Acme")
        assert [j["id"] for j in listed(tenant, "jobs", search="acm")["jobs"]] == [job["id"]]
        spanning = f"{job['job_number'][-3:]} acm".lower()  # in the joined text, in no column
        assert listed(tenant, "jobs", search=spanning)["jobs"] == []

    def test_search_uses_the_trigram_index_on_postgresql(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], db_kind: str
    ) -> None:
        if db_kind != "postgresql":
            stmt = apply_filters(
                get_spec("jobs"), scoped(Job, TenantScope(tenant.id)), {"search": "abc"}, "sqlite"
            )
            assert "coalesce" not in str(stmt.compile(dialect=sqlite.dialect()))
            return
        engine: Engine = sessions.kw["bind"]
        with engine.connect() as conn:
            present = set(
                conn.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'trgm%'"))
            )
        assert present == {index_name(t) for t in TRIGRAM_SEARCH}
        source = f"S-{uuid.uuid4().hex[:6]}"
        for batch in range(2):  # enough of the tenant's jobs that scanning them costs more
            items = [
                {
                    "external_id": f"{batch}-{i}",
                    "external_source": source,
                    "job_number": f"J-{batch}-{i}",
                    "customer": "Acme",
                }
                for i in range(1000)
            ]
            ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": items}))
        wanted = make_job(tenant.client, customer="Trigram Works")
        TableStatistics(engine, background=False).analyze("jobs")  # what a bulk load triggers
        params = {"search": "gram wor"}
        assert [j["id"] for j in listed(tenant, "jobs", **params)["jobs"]] == [wanted["id"]]
        stmt = apply_filters(
            get_spec("jobs"), scoped(Job, TenantScope(tenant.id)), params, "postgresql"
        )
        with sessions() as session:
            plan = json.dumps(session.execute(Explain(stmt)).scalar_one())
        assert index_name("jobs") in plan, plan


class TestDeepPages:
    """A page at a large offset is read by a deferred join (entities/listing.page_rows): the
    same rows, in the same order, as a plain OFFSET, whatever the filters and the sort."""

    PARAMS: tuple[dict[str, str], ...] = (
        {},
        {"order": "asc"},
        {"sort": "job_number", "order": "asc"},
        {"sort": "due_date"},
        {"search": "acme"},
        {"include_deleted": "true"},
        {"updated_since": "2000-01-01T00:00:00Z"},
        {"status": "not_started", "sort": "priority"},
    )

    def test_a_deferred_join_reads_the_rows_a_plain_offset_reads(
        self,
        tenant: TenantHandle,
        other_tenant: TenantHandle,
        sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        for i in range(9):
            make_job(
                tenant.client,
                customer="Acme" if i % 2 else "Other",
                priority=i % 3,
                **({"due_date": f"2026-12-{10 + i % 4}"} if i % 3 else {}),
            )
        deleted = make_job(tenant.client, customer="Acme")
        ok(tenant.client.delete("/api-jobs", params={"id": deleted["id"]}))
        for _ in range(3):
            make_job(other_tenant.client, customer="Acme")
        scope, spec = TenantScope(tenant.id), get_spec("jobs")

        def page(params: dict[str, str], threshold: int) -> list[uuid.UUID]:
            monkeypatch.setattr(listing, "DEFERRED_JOIN_OFFSET", threshold)
            with sessions() as session:
                rows, _total, _page = list_rows(session, scope, spec, params)
            return [row.id for row in rows]

        for params in self.PARAMS:
            for offset, limit in (("2", "3"), ("4", "100"), ("8", "2"), ("20", "5")):
                query = {**params, "offset": offset, "limit": limit}
                plain = page(query, 10**9)
                assert page(query, 1) == plain, query
                full = page({**params, "limit": "1000"}, 10**9)
                assert plain == full[int(offset) : int(offset) + int(limit)], query

    def test_the_live_page_indexes_exist(self, sessions: sessionmaker[Session]) -> None:
        engine: Engine = sessions.kw["bind"]
        for table in ("jobs", "parts"):
            names = {ix["name"] for ix in inspect(engine).get_indexes(table)}
            assert f"ix_{table}_live_page" in names
