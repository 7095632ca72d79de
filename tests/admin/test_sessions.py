"""The admin session service under a FakeClock on the real database (data model §4.3): tokens
stored hashed, absolute and idle expiry, the key's state checked every time, CSRF tokens."""

import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from floorsync.admin.sessions import (
    TOUCH_RESOLUTION,
    SessionPolicy,
    csrf_token,
    csrf_valid,
    end_session,
    resolve_session,
    start_session,
    touch_session,
)
from floorsync.admin.throttle import LoginThrottle
from floorsync.auth.api_keys import issue_key
from floorsync.auth.tenants import create_tenant
from floorsync.kit.clock import FakeClock
from floorsync.models.enums import ApiKeyRole
from floorsync.models.tenancy import AdminSession, ApiKey

POLICY = SessionPolicy(lifetime=timedelta(hours=8), idle=timedelta(minutes=30))


class Rig:
    def __init__(self, sessions: sessionmaker[Session], clock: FakeClock) -> None:
        self.sessions, self.clock = sessions, clock
        with sessions.begin() as s:
            tenant = create_tenant(s, f"sess-{uuid.uuid4().hex[:8]}", clock.now())
            self.tenant_id = tenant.id
            self.admin, _ = issue_key(
                s, tenant.id, name="admin", role=ApiKeyRole.admin, now=clock.now()
            )
            self.spare_admin, _ = issue_key(
                s, tenant.id, name="spare", role=ApiKeyRole.admin, now=clock.now()
            )
            self.integration, _ = issue_key(
                s, tenant.id, name="int", role=ApiKeyRole.integration, now=clock.now()
            )

    def start(self, key: ApiKey | None = None) -> tuple[AdminSession, str]:
        with self.sessions.begin() as s:
            return start_session(s, key or self.admin, self.clock.now(), POLICY)

    def resolve(self, token: str) -> Any:
        with self.sessions() as s:
            return resolve_session(s, token, self.clock.now(), POLICY)

    def touch(self, token: str) -> None:
        identity = self.resolve(token)
        assert identity is not None
        with self.sessions.begin() as s:
            touch_session(s, identity, self.clock.now())

    def set_key(self, key: ApiKey, **values: Any) -> None:
        with self.sessions.begin() as s:
            s.execute(update(ApiKey).where(ApiKey.id == key.id).values(**values))


@pytest.fixture
def rig(sessions: sessionmaker[Session]) -> Iterator[Rig]:
    return Rig(sessions, FakeClock())


class TestStartingASession:
    def test_only_the_sha256_of_the_cookie_token_is_stored(self, rig: Rig) -> None:
        row, token = rig.start()
        assert len(token) >= 43  # 32 random bytes, URL-safe base64
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        with rig.sessions() as s:
            stored = s.scalars(select(AdminSession).where(AdminSession.id == row.id)).one()
        assert token not in (stored.token_hash, stored.csrf_secret)
        assert stored.expires_at == rig.clock.now() + POLICY.lifetime

    def test_every_sign_in_gets_its_own_token_and_csrf_secret(self, rig: Rig) -> None:
        (first, t1), (second, t2) = rig.start(), rig.start()
        assert t1 != t2
        assert first.csrf_secret != second.csrf_secret

    def test_signing_in_removes_the_keys_sessions_that_have_already_expired(self, rig: Rig) -> None:
        old, _ = rig.start()
        rig.clock.advance(POLICY.idle.total_seconds() + 1)
        rig.start()
        with rig.sessions() as s:
            assert s.scalars(select(AdminSession).where(AdminSession.id == old.id)).first() is None


class TestResolvingASession:
    def test_a_fresh_session_resolves_to_its_tenant_and_key(self, rig: Rig) -> None:
        _row, token = rig.start()
        identity = rig.resolve(token)
        assert identity.scope.tenant_id == rig.tenant_id
        assert identity.scope.api_key_id == rig.admin.id
        assert identity.scope.role == ApiKeyRole.admin
        assert identity.key_prefix == rig.admin.key_prefix

    @pytest.mark.parametrize("token", [None, "", "x" * 201, "not-a-token"])
    def test_unknown_tokens_resolve_to_nobody(self, rig: Rig, token: Any) -> None:
        assert rig.resolve(token) is None

    def test_a_session_ends_after_its_idle_timeout(self, rig: Rig) -> None:
        _row, token = rig.start()
        rig.clock.advance(POLICY.idle.total_seconds() - 1)
        assert rig.resolve(token) is not None
        rig.clock.advance(1)
        assert rig.resolve(token) is None

    def test_activity_moves_the_idle_clock_forward(self, rig: Rig) -> None:
        _row, token = rig.start()
        for _ in range(4):  # two hours in all, never idle for 30 minutes
            rig.clock.advance(20 * 60)
            assert rig.resolve(token).touch_due
            rig.touch(token)
        assert rig.resolve(token) is not None

    def test_the_idle_clock_is_written_at_most_once_a_minute(self, rig: Rig) -> None:
        started, token = rig.start()
        rig.clock.advance(TOUCH_RESOLUTION.total_seconds() - 1)
        assert not rig.resolve(token).touch_due
        rig.touch(token)  # too soon: the row keeps its last_seen_at
        assert self._last_seen(rig, started.id) == started.last_seen_at
        rig.clock.advance(1)
        rig.touch(token)
        assert self._last_seen(rig, started.id) == rig.clock.now()

    @staticmethod
    def _last_seen(rig: Rig, id_: uuid.UUID) -> Any:
        with rig.sessions() as s:
            return s.scalars(select(AdminSession).where(AdminSession.id == id_)).one().last_seen_at

    def test_activity_never_extends_the_absolute_lifetime(self, rig: Rig) -> None:
        _row, token = rig.start()
        for _ in range(int(POLICY.lifetime / timedelta(minutes=20)) - 1):
            rig.clock.advance(20 * 60)
            rig.touch(token)
        assert rig.resolve(token) is not None  # 7 h 40 min in
        rig.clock.advance(20 * 60)
        assert rig.resolve(token) is None  # 8 h: over, however busy

    def test_revoking_the_key_ends_its_sessions(self, rig: Rig) -> None:
        _row, token = rig.start()
        rig.set_key(rig.admin, active=False, revoked_at=rig.clock.now())
        assert rig.resolve(token) is None

    def test_a_key_that_expires_ends_its_sessions(self, rig: Rig) -> None:
        _row, token = rig.start()
        rig.set_key(rig.admin, expires_at=rig.clock.now() + timedelta(minutes=5))
        assert rig.resolve(token) is not None
        rig.clock.advance(5 * 60)
        assert rig.resolve(token) is None

    def test_a_session_of_a_key_that_is_not_an_admin_key_is_refused(self, rig: Rig) -> None:
        _row, token = rig.start(rig.integration)
        assert rig.resolve(token) is None

    def test_signing_out_deletes_the_session(self, rig: Rig) -> None:
        _row, token = rig.start()
        identity = rig.resolve(token)
        with rig.sessions.begin() as s:
            end_session(s, identity)
        assert rig.resolve(token) is None


class TestCsrfTokens:
    def test_a_token_is_valid_for_its_own_session_only(self) -> None:
        mine, theirs = "a" * 64, "b" * 64
        token = csrf_token(mine)
        assert csrf_valid(mine, token)
        assert not csrf_valid(theirs, token)

    def test_every_token_is_different_and_each_is_valid(self) -> None:
        secret = "c" * 64
        tokens = {csrf_token(secret) for _ in range(20)}
        assert len(tokens) == 20
        assert all(csrf_valid(secret, t) for t in tokens)

    @pytest.mark.parametrize(
        "token", [None, "", ".", "abc", "abc.def", "x" * 300, "a.b.c", ".deadbeef"]
    )
    def test_malformed_or_forged_tokens_are_refused(self, token: Any) -> None:
        assert not csrf_valid("d" * 64, token)

    def test_a_token_with_a_changed_nonce_is_refused(self) -> None:
        secret = "e" * 64
        nonce, mac = csrf_token(secret).split(".")
        assert not csrf_valid(secret, f"{nonce[:-1]}{'0' if nonce[-1] != '0' else '1'}.{mac}")


class TestLoginThrottle:
    def test_an_address_is_refused_after_too_many_failures_until_the_window_passes(
        self,
    ) -> None:
        clock = FakeClock()
        throttle = LoginThrottle(3, timedelta(seconds=60), clock)
        for _ in range(3):
            assert throttle.retry_after("10.0.0.1") is None
            throttle.failed("10.0.0.1")
            clock.advance(10)
        assert throttle.retry_after("10.0.0.1") == 30  # the first failure leaves the window
        assert throttle.retry_after("10.0.0.2") is None  # other addresses are not affected
        clock.advance(30)
        assert throttle.retry_after("10.0.0.1") is None

    def test_it_remembers_a_bounded_number_of_addresses(self) -> None:
        from floorsync.admin import throttle as module

        clock = FakeClock()
        throttle = LoginThrottle(1, timedelta(seconds=60), clock)
        for n in range(module.MAX_CLIENTS + 5):
            throttle.failed(f"client-{n}")
        assert len(throttle._failures) == module.MAX_CLIENTS
        assert throttle.retry_after("client-0") is None  # the oldest were forgotten
        assert throttle.retry_after(f"client-{module.MAX_CLIENTS + 4}") == 60
