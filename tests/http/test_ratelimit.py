"""Per-tenant rate limits (API §1.13) on a server whose clock the tests move: fixed windows
aligned to the epoch, headers on every authenticated response, the 429 envelope, and counters
shared through the database."""

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.clock import FakeClock
from floorsync.models.tenancy import RateLimitCounter, Tenant
from tests.support.api import fails, ok
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle


def limit(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, requests: int | None, window: int = 60
) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(rate_limit_requests=requests, rate_limit_window_seconds=window)
        )


@pytest.fixture
def client(clocked_server: LiveServer, tenant: TenantHandle) -> httpx.Client:
    return _client(clocked_server, tenant)


def _client(server: LiveServer, tenant: TenantHandle) -> httpx.Client:
    c = httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
        timeout=60,
    )
    tenant._clients.append(c)
    return c


def _to_next_window(clock: FakeClock, window: int, *, offset: float = 0) -> int:
    """Move the clock to `offset` seconds into the next window; returns that window's end."""
    now = clock.now().timestamp()
    start = (int(now) // window + 1) * window
    clock.advance(start + offset - now)
    return start + window


class TestUnlimited:
    def test_a_tenant_without_a_limit_gets_no_headers_and_writes_no_counter(
        self, client: httpx.Client, tenant: TenantHandle, sessions
    ) -> None:
        resp = client.get("/api-jobs")
        assert resp.status_code == 200
        assert not [h for h in resp.headers if h.startswith("x-ratelimit")]
        with sessions() as session:
            assert list(session.scalars(scoped(RateLimitCounter, TenantScope(tenant.id)))) == []


class TestLimited:
    def test_headers_count_down_then_429_with_the_envelope(
        self, client: httpx.Client, tenant: TenantHandle, sessions, rate_clock: FakeClock
    ) -> None:
        limit(sessions, tenant.id, 3, 60)
        reset = _to_next_window(rate_clock, 60, offset=48)
        seen = []
        for _ in range(3):
            resp = client.get("/api-jobs")
            assert resp.status_code == 200
            seen.append(
                (
                    resp.headers["x-ratelimit-limit"],
                    resp.headers["x-ratelimit-remaining"],
                    resp.headers["x-ratelimit-reset"],
                )
            )
        assert seen == [("3", "2", str(reset)), ("3", "1", str(reset)), ("3", "0", str(reset))]
        resp = client.post("/api-jobs", json={"job_number": "J-over"})
        info = {
            "limit": 3,
            "remaining": 0,
            "resetAt": datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "retryAfter": 12,
        }
        assert resp.status_code == 429
        assert resp.json() == {
            "success": False,
            "error": {
                "code": "RATE_LIMIT_EXCEEDED",
                "message": "Rate limit exceeded: 3 requests per 60 seconds. Retry after 12 seconds.",
                "statusCode": 429,
                # an array as on every other error (issue 15); rateLimitInfo is Eryxon's object
                "details": [
                    {
                        "field": "rate_limit",
                        "message": "Rate limit exceeded: 3 requests per 60 seconds. Retry after 12 seconds.",
                        "constraint": "RATE_LIMIT",
                        "value": info,
                    }
                ],
                "rateLimitInfo": info,
            },
        }
        assert resp.headers["retry-after"] == "12"
        assert (resp.headers["x-ratelimit-remaining"], resp.headers["x-ratelimit-reset"]) == (
            "0",
            str(reset),
        )
        assert ok(tenant.client.get("/api-jobs"))["jobs"] == []  # the refused create did nothing

    def test_every_outcome_counts_and_errors_carry_the_headers(
        self, client: httpx.Client, tenant: TenantHandle, sessions, rate_clock: FakeClock
    ) -> None:
        limit(sessions, tenant.id, 10)
        _to_next_window(rate_clock, 60)
        for resp, remaining in (
            (client.get("/api-nope"), "9"),
            (client.post("/api-jobs", json={}), "8"),
            (client.post("/api-jobs", content=b"{"), "7"),
            (client.request("TRACE", "/api-jobs"), "6"),
            (client.get("/functions/v1/api-jobs"), "5"),
        ):
            assert resp.status_code in (200, 400, 404, 405, 422)
            assert resp.headers["x-ratelimit-remaining"] == remaining

    def test_refused_requests_are_not_counted_and_the_next_window_starts_afresh(
        self, client: httpx.Client, tenant: TenantHandle, sessions, rate_clock: FakeClock
    ) -> None:
        limit(sessions, tenant.id, 2, 30)
        _to_next_window(rate_clock, 30, offset=29.5)
        assert [client.get("/api-jobs").status_code for _ in range(5)] == [200, 200, 429, 429, 429]
        assert client.get("/api-jobs").headers["retry-after"] == "1"  # at least one second
        with sessions() as session:
            counts = list(
                session.scalars(
                    scoped(RateLimitCounter, TenantScope(tenant.id)).with_only_columns(
                        RateLimitCounter.count
                    )
                )
            )
        assert counts == [2]
        rate_clock.advance(1)
        resp = client.get("/api-jobs")
        assert (resp.status_code, resp.headers["x-ratelimit-remaining"]) == (200, "1")

    def test_limits_are_per_tenant(
        self,
        clocked_server: LiveServer,
        tenant: TenantHandle,
        other_tenant: TenantHandle,
        sessions,
        rate_clock: FakeClock,
    ) -> None:
        limit(sessions, tenant.id, 1)
        _to_next_window(rate_clock, 60)
        mine, theirs = _client(clocked_server, tenant), _client(clocked_server, other_tenant)
        assert [mine.get("/api-jobs").status_code for _ in range(2)] == [200, 429]
        resp = theirs.get("/api-jobs")
        assert resp.status_code == 200
        assert "x-ratelimit-limit" not in resp.headers

    def test_unauthenticated_and_preflight_requests_are_neither_limited_nor_counted(
        self,
        clocked_server: LiveServer,
        client: httpx.Client,
        tenant: TenantHandle,
        sessions,
        rate_clock: FakeClock,
    ) -> None:
        limit(sessions, tenant.id, 1)
        _to_next_window(rate_clock, 60)
        with httpx.Client(base_url=clocked_server.base_url) as anonymous:
            for _ in range(3):
                assert anonymous.options("/api-jobs").status_code == 200
                fails(anonymous.get("/api-jobs"), 401, "UNAUTHORIZED")
                assert "x-ratelimit-limit" not in anonymous.options("/api-jobs").headers
        assert client.get("/api-jobs").status_code == 200

    def test_the_limit_is_checked_before_routing_and_auth_comes_first(
        self, client: httpx.Client, tenant: TenantHandle, sessions, rate_clock: FakeClock
    ) -> None:
        limit(sessions, tenant.id, 1)
        _to_next_window(rate_clock, 60)
        client.get("/api-jobs")
        fails(client.get("/api-widgets"), 429, "RATE_LIMIT_EXCEEDED")
        fails(client.get("/api-issues"), 429, "RATE_LIMIT_EXCEEDED")
        fails(client.patch("/api-jobs", params={"id": "bad"}), 429, "RATE_LIMIT_EXCEEDED")

    def test_the_counter_lives_in_the_database_one_row_for_the_current_window(
        self, client: httpx.Client, tenant: TenantHandle, sessions, rate_clock: FakeClock
    ) -> None:
        limit(sessions, tenant.id, 100, 10)

        def counters() -> list[tuple[int, int]]:
            with sessions() as session:
                rows = session.execute(
                    scoped(RateLimitCounter, TenantScope(tenant.id))
                    .with_only_columns(RateLimitCounter.window_start, RateLimitCounter.count)
                    .order_by(RateLimitCounter.window_start)
                ).all()
            return [(r[0], r[1]) for r in rows]

        end = _to_next_window(rate_clock, 10)
        for _ in range(3):
            client.get("/api-jobs")
        assert counters() == [(end - 10, 3)]
        rate_clock.advance(10)
        client.get("/api-jobs")
        assert counters() == [(end, 1)]  # the first request of a window clears the earlier ones

    def test_removing_the_limit_removes_the_headers(
        self, client: httpx.Client, tenant: TenantHandle, sessions
    ) -> None:
        limit(sessions, tenant.id, 5)
        assert "x-ratelimit-limit" in client.get("/api-jobs").headers
        limit(sessions, tenant.id, None)
        assert "x-ratelimit-limit" not in client.get("/api-jobs").headers
        with sessions() as session:
            assert (
                session.scalar(select(Tenant.rate_limit_requests).where(Tenant.id == tenant.id))
                is None
            )
