"""Admin UI fixtures: signed-in HTTP clients for tenants, a receiver for webhook deliveries,
and a live server with a FakeClock for the expiry tests."""

from collections.abc import Iterator

import pytest

from floorsync.config import Settings
from floorsync.kit.clock import FakeClock
from tests.support.admin import AdminClient, signed_in
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def admin(server: LiveServer, tenant: TenantHandle) -> Iterator[AdminClient]:
    client = signed_in(server.base_url, tenant.admin_key)
    yield client
    client.close()


@pytest.fixture
def other_admin(server: LiveServer, other_tenant: TenantHandle) -> Iterator[AdminClient]:
    client = signed_in(server.base_url, other_tenant.admin_key)
    yield client
    client.close()


@pytest.fixture
def anonymous(server: LiveServer) -> Iterator[AdminClient]:
    client = AdminClient(server.base_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def admin_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def clocked_admin_server(settings: Settings, admin_clock: FakeClock) -> Iterator[LiveServer]:
    """A server whose clock only moves when a test says so (session expiry, throttling); it
    allows 3 failed sign-ins per 60 s."""
    live = start_server(
        settings.model_copy(
            update={
                "admin_session_hours": 8,
                "admin_idle_minutes": 30,
                "admin_login_attempts": 3,
                "admin_login_window_seconds": 60,
            }
        ),
        clock=admin_clock,
    )
    yield live
    live.stop()
