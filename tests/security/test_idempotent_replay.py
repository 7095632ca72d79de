"""An idempotent replay never hands a reply to anyone but the API key that made the request.

Authentication and the role check come before the replay (API §1.16: role → 403, then the
`Idempotency-Key`), and a stored reply is replayed only to the same API key: another key of the
tenant sending the same key gets 409 CONFLICT "Idempotency-Key was already used by another API
key", whatever its role. Every endpoint whose reply shows a secret once is attacked here: an
admin key's request replayed by an integration key and by a second admin key.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.api_keys import issue_key
from floorsync.kit.clock import SystemClock
from floorsync.kit.ids import new_id
from floorsync.models.bookkeeping import IdempotencyKey
from floorsync.models.enums import ApiKeyRole, IdempotencyState
from tests.support.api import PREFIXES, fails, ok
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver

REUSED = "Idempotency-Key was already used by another API key"


def idem() -> dict[str, str]:
    return {"Idempotency-Key": f"attack-{uuid.uuid4().hex}"}


def another_key(sessions: sessionmaker[Session], tenant: TenantHandle, role: ApiKeyRole) -> str:
    with sessions.begin() as session:
        _row, plaintext = issue_key(
            session, tenant.id, name=f"second {role.value}", role=role, now=SystemClock().now()
        )
    return plaintext


@dataclass(frozen=True)
class SecretOnce:
    """An endpoint that shows a secret once: how to call it, and where the secret is."""

    name: str
    call: Callable[[httpx.Client, str, dict[str, str]], httpx.Response]
    secret: Callable[[Any], str]
    integration_allowed: bool  # may an integration key call it at all?


def _new_api_key(client: httpx.Client, prefix: str, headers: dict[str, str]) -> httpx.Response:
    return client.post(
        f"{prefix}/api-key-generate", json={"name": "ERP", "role": "admin"}, headers=headers
    )


def _new_webhook(url: str) -> Callable[[httpx.Client, str, dict[str, str]], httpx.Response]:
    def call(client: httpx.Client, prefix: str, headers: dict[str, str]) -> httpx.Response:
        return client.post(
            f"{prefix}/api-webhooks", json={"url": url, "events": ["job.*"]}, headers=headers
        )

    return call


def _rotate(hook_id: str) -> Callable[[httpx.Client, str, dict[str, str]], httpx.Response]:
    def call(client: httpx.Client, prefix: str, headers: dict[str, str]) -> httpx.Response:
        return client.post(
            f"{prefix}/api-webhooks/rotate-secret",
            params={"id": hook_id},
            json={"overlap_hours": 1},
            headers=headers,
        )

    return call


def secret_endpoints(tenant: TenantHandle, url: str) -> list[SecretOnce]:
    hook = ok(tenant.client.post("/api-webhooks", json={"url": url, "events": ["job.*"]}), 201)[
        "webhook"
    ]
    return [
        SecretOnce("api-key-generate", _new_api_key, lambda d: d["api_key"], False),
        SecretOnce("api-webhooks", _new_webhook(url), lambda d: d["webhook"]["secret_key"], True),
        SecretOnce(
            "api-webhooks/rotate-secret",
            _rotate(hook["id"]),
            lambda d: d["webhook"]["secret_key"],
            True,
        ),
    ]


def stored_claim(
    sessions: sessionmaker[Session],
    tenant: TenantHandle,
    key: str,
    state: IdempotencyState,
    *,
    api_key_id: uuid.UUID | None = None,
) -> None:
    """An idempotency row written straight into the database (a request in flight, or a reply
    stored before replies had an owner)."""
    now = SystemClock().now()
    with sessions.begin() as session:
        session.add(
            IdempotencyKey(
                id=new_id(),
                tenant_id=tenant.id,
                key=key,
                fingerprint="0" * 64,
                api_key_id=api_key_id,
                state=state,
                locked_until=now + timedelta(seconds=60)
                if state == IdempotencyState.in_progress
                else None,
                response_status=201 if state == IdempotencyState.completed else None,
                response_body=b"sealed" if state == IdempotencyState.completed else None,
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


@pytest.mark.parametrize("prefix", PREFIXES, ids=["short", "hosted"])
class TestSecretsShownOnce:
    def test_an_integration_key_replaying_an_admin_keys_request_never_gets_the_secret(
        self, tenant: TenantHandle, receiver: WebhookReceiver, prefix: str
    ) -> None:
        intruder = tenant.client_for(tenant.integration_key)
        for endpoint in secret_endpoints(tenant, receiver.url):
            headers = idem()
            first = endpoint.call(tenant.client, prefix, headers)
            assert first.status_code in (200, 201), (endpoint.name, first.text)
            secret = endpoint.secret(first.json()["data"])
            # The other URL form shares the key, so it is no way around the rule either.
            for attempt_prefix in PREFIXES:
                replay = endpoint.call(intruder, attempt_prefix, headers)
                assert secret not in replay.text, endpoint.name
                assert "idempotency-replayed" not in replay.headers, endpoint.name
                if endpoint.integration_allowed:
                    fails(replay, 409, "CONFLICT", REUSED)
                else:
                    fails(replay, 403, "FORBIDDEN", "Admin API key required")
            again = endpoint.call(tenant.client, prefix, headers)
            assert (again.status_code, again.content) == (first.status_code, first.content)
            assert again.headers["idempotency-replayed"] == "true"

    def test_another_admin_key_does_not_get_the_replay_either(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        sessions: sessionmaker[Session],
        prefix: str,
    ) -> None:
        other_admin = tenant.client_for(another_key(sessions, tenant, ApiKeyRole.admin))
        for endpoint in secret_endpoints(tenant, receiver.url):
            headers = idem()
            first = endpoint.call(tenant.client, prefix, headers)
            assert first.status_code in (200, 201), (endpoint.name, first.text)
            replay = endpoint.call(other_admin, prefix, headers)
            fails(replay, 409, "CONFLICT", REUSED)
            assert endpoint.secret(first.json()["data"]) not in replay.text, endpoint.name

    def test_an_integration_keys_own_secret_is_replayed_to_it_and_to_no_admin(
        self,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
        prefix: str,
    ) -> None:
        owner = tenant.client_for(tenant.integration_key)
        for endpoint in secret_endpoints(tenant, receiver.url):
            if not endpoint.integration_allowed:
                continue
            headers = idem()
            first = endpoint.call(owner, prefix, headers)
            assert first.status_code in (200, 201), (endpoint.name, first.text)
            fails(endpoint.call(tenant.client, prefix, headers), 409, "CONFLICT", REUSED)
            again = endpoint.call(owner, prefix, headers)
            assert (again.content, again.headers["idempotency-replayed"]) == (
                first.content,
                "true",
            )


class TestOrderOfChecks:
    def test_the_role_check_comes_before_a_key_still_being_processed(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        """An admin's request still running holds the key; an integration key sending it is
        refused for its role (403), not told about the admin's request (409)."""
        headers = idem()
        stored_claim(sessions, tenant, headers["Idempotency-Key"], IdempotencyState.in_progress)
        intruder = tenant.client_for(tenant.integration_key)
        fails(_new_api_key(intruder, "", headers), 403, "FORBIDDEN", "Admin API key required")

    def test_a_refused_role_leaves_the_key_free_for_the_admin(self, tenant: TenantHandle) -> None:
        headers = idem()
        intruder = tenant.client_for(tenant.integration_key)
        fails(_new_api_key(intruder, "", headers), 403, "FORBIDDEN")
        first = _new_api_key(tenant.client, "", headers)
        assert first.status_code == 201
        assert "idempotency-replayed" not in first.headers

    def test_an_unknown_key_is_401_before_any_replay(self, tenant: TenantHandle) -> None:
        headers = idem()
        first = _new_api_key(tenant.client, "", headers)
        assert first.status_code == 201
        stranger = tenant.client_for("ery_live_" + "0" * 32)
        replay = _new_api_key(stranger, "", headers)
        fails(replay, 401, "UNAUTHORIZED")
        assert first.json()["data"]["api_key"] not in replay.text


class TestEveryReplayIsPerApiKey:
    def test_a_reply_stored_without_an_owner_is_replayed_to_nobody(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        """Claims stored before replies had an owner can't be attributed to a key: 409 for
        everyone until they expire (24 hours), never a replay."""
        headers = idem()
        stored_claim(sessions, tenant, headers["Idempotency-Key"], IdempotencyState.completed)
        for client in (tenant.client, tenant.client_for(tenant.integration_key)):
            resp = client.post("/api-jobs", json={"job_number": "J-x"}, headers=headers)
            fails(resp, 409, "CONFLICT", REUSED)

    def test_a_create_replayed_by_another_key_is_409_and_runs_nothing(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        headers = idem()
        body = {"job_number": f"J-{uuid.uuid4().hex[:8]}"}
        first = tenant.client.post("/api-jobs", json=body, headers=headers)
        assert first.status_code == 201
        intruder = tenant.client_for(tenant.integration_key)
        fails(intruder.post("/api-jobs", json=body, headers=headers), 409, "CONFLICT", REUSED)
        listed = ok(tenant.client.get("/api-jobs", params={"job_number": body["job_number"]}))
        assert listed["pagination"]["total"] == 1

    def test_another_request_from_another_key_is_409_too(self, tenant: TenantHandle) -> None:
        headers = idem()
        ok(tenant.client.post("/api-jobs", json={"job_number": "J-a"}, headers=headers), 201)
        intruder = tenant.client_for(tenant.integration_key)
        fails(
            intruder.post("/api-jobs", json={"job_number": "J-b"}, headers=headers),
            409,
            "CONFLICT",
        )
