"""Extra live servers with their own settings: a small body limit, allowed CORS origins, and a
clock the rate-limit tests move."""

from collections.abc import Iterator

import pytest

from floorsync.config import Settings
from floorsync.kit.clock import FakeClock
from tests.support.server import LiveServer, start_server

SMALL_BODY_LIMIT = 2048
ALLOWED_ORIGIN = "https://mes.example.com"


@pytest.fixture(scope="session")
def small_body_server(settings: Settings) -> Iterator[LiveServer]:
    live = start_server(settings.model_copy(update={"max_body_bytes": SMALL_BODY_LIMIT}))
    yield live
    live.stop()


@pytest.fixture(scope="session")
def cors_server(settings: Settings) -> Iterator[LiveServer]:
    live = start_server(
        settings.model_copy(update={"cors_origins": f"{ALLOWED_ORIGIN}, https://other.example.com"})
    )
    yield live
    live.stop()


@pytest.fixture(scope="session")
def any_origin_server(settings: Settings) -> Iterator[LiveServer]:
    live = start_server(settings.model_copy(update={"cors_origins": "*"}))
    yield live
    live.stop()


@pytest.fixture(scope="session")
def rate_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def clocked_server(settings: Settings, rate_clock: FakeClock) -> Iterator[LiveServer]:
    live = start_server(settings, clock=rate_clock)
    yield live
    live.stop()
