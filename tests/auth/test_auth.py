"""Authentication (API §1.9): Bearer keys, the three 401 messages with WWW-Authenticate, revoked
and expired keys, ery_test_ keys, and the routes that need no key."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.api_keys import hash_key
from floorsync.kit.ids import new_id
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import ApiKey
from tests.support.api import PREFIXES, fails, ok
from tests.support.tenants import TenantHandle

MISSING = "Missing or invalid authorization header"
FORMAT = "Invalid API key format"
INVALID = "Invalid API key"


def _unauthorized(resp, message: str) -> None:
    fails(resp, 401, "UNAUTHORIZED", message)
    assert resp.headers["www-authenticate"] == "Bearer"
    assert resp.headers["x-request-id"]
    assert "x-ratelimit-limit" not in resp.headers


def _add_key(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, plaintext: str, **fields: object
) -> None:
    values: dict[str, object] = {"active": True, **fields}
    with sessions.begin() as session:
        session.add(
            ApiKey(
                id=new_id(),
                tenant_id=tenant_id,
                name="manual",
                role=ApiKeyRole.integration,
                key_prefix=plaintext[:12],
                key_hash=hash_key(plaintext),
                created_at=datetime.now(UTC),
                **values,
            )
        )


@pytest.mark.parametrize("prefix", PREFIXES, ids=["short", "hosted"])
class TestTheThreeMessages:
    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "Bearer",
            "Basic dXNlcjpwYXNz",
            "Token ery_live_" + "0" * 32,
            "Bearer  ery_live_" + "0" * 32,
            "Bearer ery_live_" + "0" * 32 + " extra",
            "ery_live_" + "0" * 32,
        ],
    )
    def test_a_missing_or_malformed_header(
        self, tenant: TenantHandle, prefix: str, header: str | None
    ) -> None:
        client = tenant.client_for(None)
        headers = {"Authorization": header} if header is not None else {}
        _unauthorized(client.get(f"{prefix}/api-jobs", headers=headers), MISSING)

    @pytest.mark.parametrize(
        "token",
        [
            "ery_live_abc",
            "ery_live_" + "A" * 32,
            "ery_live_" + "0" * 31,
            "ery_live_" + "0" * 33,
            "ery_prod_" + "0" * 32,
            "sk_live_" + "0" * 32,
            "ery_live_" + "g" * 32,
        ],
    )
    def test_a_token_of_the_wrong_format(
        self, tenant: TenantHandle, prefix: str, token: str
    ) -> None:
        _unauthorized(tenant.client_for(token).get(f"{prefix}/api-jobs"), FORMAT)

    @pytest.mark.parametrize("token", ["ery_live_" + "0" * 32, "ery_test_" + "f" * 32])
    def test_a_well_formed_unknown_key(self, tenant: TenantHandle, prefix: str, token: str) -> None:
        _unauthorized(tenant.client_for(token).get(f"{prefix}/api-jobs"), INVALID)

    @pytest.mark.parametrize(
        "path",
        [
            "/api-jobs?id=0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00",
            "/api-widgets",
            "/api-issues",
            "/api-jobs/sync",
            "/api-key-generate",
            "/api-job-lifecycle/start",
        ],
    )
    def test_every_function_needs_a_key_before_anything_else(
        self, tenant: TenantHandle, prefix: str, path: str
    ) -> None:
        client = tenant.client_for(None)
        for method in ("GET", "POST", "PATCH", "DELETE", "TRACE"):
            _unauthorized(client.request(method, f"{prefix}{path}", content=b"{bad"), MISSING)


class TestKeys:
    def test_the_scheme_word_is_case_insensitive(self, tenant: TenantHandle) -> None:
        for scheme in ("bearer", "BEARER", "BeArEr"):
            ok(
                tenant.client_for(None).get(
                    "/api-jobs", headers={"Authorization": f"{scheme} {tenant.admin_key}"}
                )
            )

    def test_an_integration_key_works_on_entity_endpoints(self, tenant: TenantHandle) -> None:
        client = tenant.client_for(tenant.integration_key)
        ok(client.post("/api-jobs", json={"job_number": "J-int"}), 201)
        assert ok(client.get("/api-jobs"))["pagination"]["total"] == 1

    def test_an_ery_test_key_behaves_like_a_live_key(self, tenant: TenantHandle, sessions) -> None:
        key = "ery_test_" + uuid.uuid4().hex
        _add_key(sessions, tenant.id, key)
        ok(tenant.client_for(key).post("/api-cells", json={"name": "from test key"}), 201)

    def test_a_revoked_key_is_refused(self, tenant: TenantHandle, sessions) -> None:
        key = "ery_live_" + uuid.uuid4().hex
        _add_key(sessions, tenant.id, key, active=False, revoked_at=datetime.now(UTC))
        _unauthorized(tenant.client_for(key).get("/api-jobs"), INVALID)

    def test_an_expired_key_is_refused_and_a_future_expiry_works(
        self, tenant: TenantHandle, sessions
    ) -> None:
        expired, valid = "ery_live_" + uuid.uuid4().hex, "ery_live_" + uuid.uuid4().hex
        _add_key(sessions, tenant.id, expired, expires_at=datetime.now(UTC) - timedelta(seconds=1))
        _add_key(sessions, tenant.id, valid, expires_at=datetime.now(UTC) + timedelta(days=1))
        _unauthorized(tenant.client_for(expired).get("/api-jobs"), INVALID)
        ok(tenant.client_for(valid).get("/api-jobs"))

    def test_a_key_stops_working_when_revoked_through_the_api(self, tenant: TenantHandle) -> None:
        client = tenant.client_for(tenant.integration_key)
        ok(client.get("/api-jobs"))
        key_id = ok(tenant.client.get("/api-key-generate", params={"role": "integration"}))[
            "api_keys"
        ][0]["id"]
        ok(tenant.client.delete("/api-key-generate", params={"id": key_id}))
        _unauthorized(client.get("/api-jobs"), INVALID)

    def test_last_used_at_is_written_at_most_once_a_minute(
        self, tenant: TenantHandle, sessions
    ) -> None:
        def last_used() -> datetime | None:
            with sessions() as session:
                return session.scalar(
                    select(ApiKey.last_used_at).where(ApiKey.key_hash == hash_key(tenant.admin_key))
                )

        ok(tenant.client.get("/api-jobs"))
        first = last_used()
        assert first is not None
        ok(tenant.client.get("/api-jobs"))
        assert last_used() == first
        with sessions.begin() as session:
            session.execute(
                update(ApiKey)
                .where(ApiKey.key_hash == hash_key(tenant.admin_key))
                .values(last_used_at=first - timedelta(minutes=2))
            )
        ok(tenant.client.get("/api-jobs"))
        assert last_used() > first - timedelta(minutes=1)


class TestNoKeyNeeded:
    def test_health(self, tenant: TenantHandle) -> None:
        resp = tenant.client_for(None).get("/health")
        assert resp.status_code == 200
        assert resp.content.startswith(b'{"success":true,"data":{"status":"ok","version":"')

    def test_openapi(self, tenant: TenantHandle) -> None:
        assert tenant.client_for(None).get("/openapi.json").json()["openapi"].startswith("3.1")

    @pytest.mark.parametrize(
        "path", ["/api-jobs", "/functions/v1/api-jobs", "/api-widgets", "/anything/at/all"]
    )
    def test_options_answers_200_before_authentication(
        self, tenant: TenantHandle, path: str
    ) -> None:
        resp = tenant.client_for("garbage").options(path)
        assert (resp.status_code, resp.content, resp.headers["content-type"]) == (
            200,
            b"ok",
            "text/plain; charset=utf-8",
        )
