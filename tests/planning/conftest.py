"""Fixtures for the planning-adapter tests: fake servers per test, connection configs pointed at
them, a recorder instead of real retry waits, and a watch that fails any test whose log records
or checked errors contain a configured secret (spec §4.6, matrix row 48)."""

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from floorsync.auth.tenants import create_tenant
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from floorsync.kit.clock import FakeClock
from floorsync.planning.base import ConnectionCheck, PlanningAdapter, PlanningError
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.http import Redactor, basic_token
from tests.planning.fakes.frepple import FakeFrepple
from tests.planning.fakes.odoo import FakeOdoo

FREPPLE_USER, FREPPLE_PASSWORD = "planner", "s3cret-Pässword"
ODOO_LOGIN, ODOO_PASSWORD = "integration", "Odoo-pa55word!"
ODOO_VERSIONS = (16, 17, 18, 19)


class SecretWatch:
    """Collects every log record of `floorsync` (DEBUG and up) and the errors a test checks,
    and fails when one of them carries a secret in any form."""

    def __init__(self) -> None:
        self.forms: set[str] = set()
        self.lines: list[str] = []

    def register(self, secret: str, username: str | None = None) -> None:
        redactor = Redactor([secret], username=username)
        self.forms.update(redactor.forms)
        if username is not None:
            self.forms.add(basic_token(username, secret))

    def leaks(self, text: str) -> list[str]:
        return [form for form in self.forms if form and form in text]

    def check_error(self, exc: PlanningError) -> None:
        shown = " ".join(
            [str(exc), repr(exc), repr(getattr(exc, "details", "")), str(exc.excerpt or "")]
        )
        assert self.leaks(shown) == [], f"secret in error: {shown}"

    def check_text(self, text: str) -> None:
        assert self.leaks(text) == [], f"secret in text: {text}"


class _Collector(logging.Handler):
    def __init__(self, watch: SecretWatch) -> None:
        super().__init__(logging.DEBUG)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.watch.lines.append(text)


@pytest.fixture(autouse=True)
def secret_watch() -> Iterator[SecretWatch]:
    watch = SecretWatch()
    logger = logging.getLogger("floorsync")
    handler = _Collector(watch)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    leaked = [line for line in watch.lines if watch.leaks(line)]
    assert leaked == [], f"secrets in log lines: {leaked}"


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """floorsync's services on the test database with a fake clock (pulls, pushes, leases)."""
    built = build_services(settings, FakeClock())
    yield built
    built.close()


@pytest.fixture
def scope(services: Services) -> TenantScope:
    """A fresh tenant of its own."""
    with services.sessions.begin() as s:
        tenant = create_tenant(s, f"plan-{uuid.uuid4().hex[:8]}", services.clock.now())
        return TenantScope(tenant.id)


@pytest.fixture
def sleeps() -> list[float]:
    """Waits the adapter asked for between retries (nothing really sleeps)."""
    return []


@pytest.fixture
def frepple() -> Iterator[FakeFrepple]:
    fake = FakeFrepple()
    yield fake
    fake.stop()
    assert fake.errors == [], fake.errors[0]


MakeConfig = Callable[..., PlanningConnectionConfig]


@pytest.fixture
def frepple_config(frepple: FakeFrepple, secret_watch: SecretWatch) -> MakeConfig:
    def make(
        *,
        base_url: str | None = None,
        auth_method: str = "basic",
        username: str | None = FREPPLE_USER,
        credential: str = FREPPLE_PASSWORD,
        **settings: Any,
    ) -> PlanningConnectionConfig:
        secret_watch.register(credential, username)
        return PlanningConnectionConfig.model_validate(
            {
                "system": "frepple",
                "base_url": base_url or frepple.base_url,
                "auth_method": auth_method,
                "username": username,
                "credential": credential,
                "settings": {"time_zone": "Europe/Amsterdam", **settings},
            }
        )

    return make


@pytest.fixture(params=ODOO_VERSIONS, ids=lambda v: f"odoo{v}")
def odoo_version(request: pytest.FixtureRequest) -> int:
    """Each Odoo test runs once per profile unless it parametrizes `odoo_version` itself."""
    return int(request.param)


@pytest.fixture
def odoo(odoo_version: int) -> Iterator[FakeOdoo]:
    fake = FakeOdoo(odoo_version)
    yield fake
    fake.stop()
    assert fake.errors == [], fake.errors[0]


@pytest.fixture
def odoo_config(odoo: FakeOdoo, secret_watch: SecretWatch) -> MakeConfig:
    """A connection to the fake: a password on 16–18, an API key (JSON-2) on 19."""

    def make(
        *,
        base_url: str | None = None,
        auth_method: str | None = None,
        username: str | None = ODOO_LOGIN,
        credential: str | None = None,
        **settings: Any,
    ) -> PlanningConnectionConfig:
        method = auth_method or ("api_key" if odoo.version >= 19 else "basic")
        secret = credential or (odoo.add_api_key() if method == "api_key" else ODOO_PASSWORD)
        secret_watch.register(secret)
        return PlanningConnectionConfig.model_validate(
            {
                "system": "odoo",
                "base_url": base_url or odoo.base_url,
                "auth_method": method,
                "username": username,
                "credential": secret,
                "settings": {"database": odoo.database, **settings},
            }
        )

    return make


MakeAdapter = Callable[..., PlanningAdapter]


@pytest.fixture
def make_adapter(sleeps: list[float]) -> Iterator[MakeAdapter]:
    made: list[PlanningAdapter] = []

    def make(config: PlanningConnectionConfig, **kw: Any) -> PlanningAdapter:
        adapter = create_planning_adapter(config, sleep=sleeps.append, **kw)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


Expect = Callable[..., Any]


@pytest.fixture
def expect(secret_watch: SecretWatch) -> Expect:
    """`expect(ErrorClass, fn, *args, **kw)`: calls fn, asserts it raises that class, checks
    the error for secrets and returns it."""

    def run(cls: type[PlanningError], fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        with pytest.raises(cls) as info:
            fn(*args, **kw)
        secret_watch.check_error(info.value)
        return info.value

    return run


def failed_check(check: ConnectionCheck, watch: SecretWatch) -> ConnectionCheck:
    assert check.ok is False
    watch.check_text(check.message)
    return check
