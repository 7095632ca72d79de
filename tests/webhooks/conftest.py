"""Webhook test helpers: a live receiver, delivery dependencies on the live server's services,
and services of our own with a FakeClock for schedule tests."""

import random
from collections.abc import Iterator
from typing import Any

import pytest

from floorsync.http.context import Services
from floorsync.webhooks.delivery import make_http_client
from floorsync.webhooks.worker import DeliveryDeps
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def delivery_deps(services: Services, *, worker_id: str = "test-worker", seed: int = 7, timeout: float | None = None) -> DeliveryDeps:
    kit = services.extras["webhooks"]
    http = make_http_client(timeout or kit.config.timeout_seconds)
    return DeliveryDeps(services.sessions, services.outbox, services.clock, kit, http, worker_id, random.Random(seed))


@pytest.fixture
def deps(server: LiveServer) -> Iterator[DeliveryDeps]:
    d = delivery_deps(server.app.state.services)
    yield d
    d.http.close()


def register(tenant: TenantHandle, url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    resp = tenant.client.post("/api-webhooks", json={"url": url, "events": events or ["*"], **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["webhook"]  # type: ignore[no-any-return]


def make_job(tenant: TenantHandle, number: str, **extra: Any) -> dict[str, Any]:
    resp = tenant.client.post("/api-jobs", json={"job_number": number, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["job"]  # type: ignore[no-any-return]
