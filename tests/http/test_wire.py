"""The HTTP envelope around every answer: request ids (§1.12), CORS (§1.11), compact error
bodies, and the last-resort 500 that never leaks internals."""

import asyncio
import re
import uuid

import httpx
import pytest

from floorsync.http.middleware import FloorsyncMiddleware
from tests.http.conftest import ALLOWED_ORIGIN
from tests.support.api import fails, ok
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
EXPOSE = "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after, idempotency-replayed, x-ignored-query-params"


class TestRequestIds:
    @pytest.mark.parametrize("incoming", ["abc", "req-1.2:3_X", "a" * 200])
    def test_a_valid_incoming_id_is_echoed(self, tenant: TenantHandle, incoming: str) -> None:
        assert (
            tenant.client.get("/api-jobs", headers={"x-request-id": incoming}).headers[
                "x-request-id"
            ]
            == incoming
        )

    @pytest.mark.parametrize("incoming", ["", "has space", "a" * 201, "semi;colon", "ünïcode"])
    def test_an_invalid_incoming_id_is_replaced_by_a_new_uuid4(
        self, tenant: TenantHandle, incoming: str
    ) -> None:
        resp = tenant.client.get("/api-jobs", headers={"x-request-id": incoming.encode()})
        assert UUID4.fullmatch(resp.headers["x-request-id"])

    def test_every_kind_of_response_carries_one(self, tenant: TenantHandle) -> None:
        anonymous = tenant.client_for(None)
        responses = [
            tenant.client.get("/api-jobs"),
            tenant.client.options("/api-jobs"),
            anonymous.get("/api-jobs"),
            tenant.client.get("/api-nope"),
            tenant.client.request("TRACE", "/api-jobs"),
            tenant.client.post("/api-jobs", json={}),
            anonymous.get("/health"),
            tenant.client.get("/api-issues"),
            tenant.client.post("/api-jobs", content=b"{"),
        ]
        ids = [r.headers["x-request-id"] for r in responses]
        assert all(UUID4.fullmatch(i) for i in ids)
        assert len(set(ids)) == len(ids)


class TestCors:
    def test_without_configured_origins_no_origin_is_allowed(self, tenant: TenantHandle) -> None:
        resp = tenant.client.options(
            "/api-jobs", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "PUT"}
        )
        assert resp.status_code == 200
        assert "access-control-allow-origin" not in resp.headers
        assert resp.headers["vary"] == "Origin"

    def test_a_preflight_reflects_an_allowed_origin_with_every_header(
        self, cors_server: LiveServer
    ) -> None:
        with httpx.Client(base_url=cors_server.base_url) as client:
            resp = client.options(
                "/functions/v1/api-jobs",
                headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "PATCH"},
            )
        assert (resp.status_code, resp.content) == (200, b"ok")
        assert resp.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert (
            resp.headers["access-control-allow-methods"] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        )
        assert (
            resp.headers["access-control-allow-headers"]
            == "authorization, content-type, x-request-id, idempotency-key, x-client-info, apikey"
        )
        assert resp.headers["access-control-expose-headers"] == EXPOSE
        assert resp.headers["access-control-max-age"] == "600"
        assert "access-control-allow-credentials" not in resp.headers

    def test_other_responses_carry_the_cors_headers_without_max_age(
        self, cors_server: LiveServer, tenant: TenantHandle
    ) -> None:
        with httpx.Client(
            base_url=cors_server.base_url, headers={"Origin": ALLOWED_ORIGIN}
        ) as client:
            for resp in (
                client.get("/api-jobs", headers={"Authorization": f"Bearer {tenant.admin_key}"}),
                client.get("/api-jobs"),
                client.get("/health"),
            ):
                assert resp.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
                assert resp.headers["access-control-expose-headers"] == EXPOSE
                assert "access-control-max-age" not in resp.headers

    def test_an_origin_that_is_not_allowed_is_not_reflected_but_the_preflight_is_200(
        self, cors_server: LiveServer
    ) -> None:
        with httpx.Client(base_url=cors_server.base_url) as client:
            for origin in ("https://evil.example.com", "https://mes.example.com.evil.com", "null"):
                resp = client.options("/api-jobs", headers={"Origin": origin})
                assert resp.status_code == 200
                assert "access-control-allow-origin" not in resp.headers

    def test_a_star_allows_and_reflects_any_origin(self, any_origin_server: LiveServer) -> None:
        with httpx.Client(base_url=any_origin_server.base_url) as client:
            resp = client.options("/api-jobs", headers={"Origin": "https://anywhere.example"})
        assert resp.headers["access-control-allow-origin"] == "https://anywhere.example"


class TestErrorBodies:
    def test_errors_are_compact_json_with_status_code_inside(self, tenant: TenantHandle) -> None:
        resp = tenant.client.get("/api-nope")
        assert resp.headers["content-type"] == "application/json"
        assert (
            resp.content
            == b'{"success":false,"error":{"code":"NOT_FOUND","message":"Unknown endpoint","statusCode":404}}'
        )

    def test_a_validation_error_body_byte_for_byte(self, tenant: TenantHandle) -> None:
        resp = tenant.client.post("/api-jobs", json={"priority": -1})
        assert resp.content == (
            b'{"success":false,"error":{"code":"VALIDATION_ERROR","message":"\xe2\x9c\x97 2 validation error(s) in job","statusCode":422,'
            b'"details":[{"field":"priority","message":"priority must be >= 0","constraint":"MIN_VALUE","value":-1},'
            b'{"field":"job_number","message":"Missing required string field: job_number","constraint":"NOT_NULL"}]}}'
        )


def _exploding_app():
    async def app(scope, receive, send):  # an ASGI app with a bug
        raise RuntimeError("SELECT * FROM jobs WHERE secret")

    return FloorsyncMiddleware(app, cors_origins=[])


class TestLastResort500:
    def test_an_unexpected_error_is_a_500_envelope_quoting_the_request_id_and_nothing_else(
        self,
    ) -> None:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=_exploding_app()), base_url="http://test"
            ) as client:
                return await client.get("/api-jobs", headers={"x-request-id": "trace-me"})

        resp = asyncio.run(call())
        assert resp.status_code == 500
        assert resp.headers["x-request-id"] == "trace-me"
        assert resp.json() == {
            "success": False,
            "error": {
                "code": "INTERNAL_ERROR",
                "message": "An unexpected error occurred. Quote request id trace-me when reporting it.",
                "statusCode": 500,
            },
        }
        assert b"SELECT" not in resp.content


class TestHealthAndPrefixes:
    def test_health_has_no_hosted_form(self, tenant: TenantHandle) -> None:
        fails(tenant.client.get("/functions/v1/health"), 404, "NOT_FOUND")

    def test_a_job_created_under_one_prefix_is_read_under_the_other(
        self, tenant: TenantHandle
    ) -> None:
        job = ok(
            tenant.client.post(
                "/functions/v1/api-jobs/", json={"job_number": f"J-{uuid.uuid4().hex[:6]}"}
            ),
            201,
        )["job"]
        assert (
            ok(tenant.client.get("/api-jobs", params={"id": job["id"]}))["job"]["job_number"]
            == job["job_number"]
        )


class TestReadsDoNotWaitForWrites:
    def test_a_get_answers_while_another_connection_holds_the_write_lock(
        self, tenant: TenantHandle, sessions, db_kind: str
    ) -> None:
        from sqlalchemy import text

        if db_kind != "sqlite":
            pytest.skip("the write lock is SQLite's")
        ok(tenant.client.get("/api-jobs"))  # last_used_at is fresh: the next request writes nothing
        with sessions() as blocker:
            blocker.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the write lock
            resp = tenant.client.get("/api-jobs", timeout=5)
            blocker.rollback()
        assert resp.status_code == 200


class TestRequestIdInLogs:
    def test_log_lines_written_while_handling_a_request_carry_its_id(self) -> None:
        import logging

        from starlette.concurrency import run_in_threadpool

        from floorsync.http.logs import RequestIdFilter

        records: list[logging.LogRecord] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(record)

        handler = Collect()
        handler.addFilter(RequestIdFilter())
        logger = logging.getLogger("floorsync.test.request_id")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

        async def app(scope, receive, send):  # logs from the thread pool, like a sync handler
            await run_in_threadpool(logger.info, "working")
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def call() -> None:
            transport = httpx.ASGITransport(app=FloorsyncMiddleware(app, cors_origins=[]))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await client.get("/api-jobs", headers={"x-request-id": "req-42"})

        try:
            asyncio.run(call())
            logger.info("outside")
        finally:
            logger.removeHandler(handler)
        assert [(r.getMessage(), r.request_id) for r in records] == [
            ("working", "req-42"),
            ("outside", "-"),
        ]

    def test_the_serve_logging_configuration_formats_the_request_id(self) -> None:
        from floorsync.http.logs import log_config

        config = log_config("info")
        assert "%(request_id)s" in config["formatters"]["floorsync"]["format"]
        assert config["loggers"]["floorsync"] == {
            "handlers": ["floorsync"],
            "level": "INFO",
            "propagate": False,
        }
        assert config["handlers"]["floorsync"]["filters"] == ["request_id"]
