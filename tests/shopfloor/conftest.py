"""A second live server whose clock the tests move (durations, pauses, time distribution)."""

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from floorsync.config import Settings
from floorsync.kit.clock import FakeClock
from tests.support.server import LiveServer, start_server
from tests.support.tenants import TenantHandle


@dataclass
class Clocked:
    server: LiveServer
    clock: FakeClock

    def client(self, tenant: TenantHandle) -> httpx.Client:
        """A client for this server, authenticated as the tenant's admin key."""
        client = httpx.Client(
            base_url=self.server.base_url,
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
            timeout=60,
        )
        tenant._clients.append(client)
        return client

    def minutes(self, n: float) -> None:
        self.clock.advance(n * 60)


@pytest.fixture(scope="session")
def clocked_server(settings: Settings) -> Iterator[Clocked]:
    clock = FakeClock()
    live = start_server(settings, clock=clock)
    yield Clocked(live, clock)
    live.stop()


@pytest.fixture
def clocked(clocked_server: Clocked) -> Clocked:
    return clocked_server
