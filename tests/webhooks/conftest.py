"""Webhook test helpers: a live receiver, delivery dependencies on the live server's services,
and services of our own with a FakeClock for schedule tests."""

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.jobs import JOBS
from floorsync.events.outbox import Origin
from floorsync.kit.clock import FakeClock
from floorsync.models.webhooks import Webhook, WebhookDelivery
from floorsync.webhooks import service as webhook_service
from floorsync.webhooks.delivery import make_http_client
from floorsync.webhooks.schemas import parse_webhook_body
from floorsync.webhooks.worker import DeliveryDeps
from tests.support.server import LiveServer
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def delivery_deps(
    services: Services,
    *,
    worker_id: str = "test-worker",
    seed: int = 7,
    timeout: float | None = None,
) -> DeliveryDeps:
    kit = services.webhooks
    http = make_http_client(timeout or kit.config.timeout_seconds)
    return DeliveryDeps(
        services.sessions,
        services.outbox,
        services.clock,
        kit,
        http,
        worker_id,
        random.Random(seed),
    )


@pytest.fixture
def deps(server: LiveServer) -> Iterator[DeliveryDeps]:
    d = delivery_deps(server.app.state.services)
    yield d
    d.http.close()


def register(
    tenant: TenantHandle, url: str, events: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    resp = tenant.client.post(
        "/api-webhooks", json={"url": url, "events": events or ["*"], **extra}
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["webhook"]  # type: ignore[no-any-return]


def make_job(tenant: TenantHandle, number: str, **extra: Any) -> dict[str, Any]:
    resp = tenant.client.post("/api-jobs", json={"job_number": number, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["job"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- services of our own (FakeClock)


@dataclass
class Rig:
    """Services with a FakeClock on the test database, one tenant, and delivery deps."""

    services: Services
    clock: FakeClock
    scope: TenantScope
    deps: DeliveryDeps

    def add_webhook(
        self, url: str, events: list[str] | None = None, **body: Any
    ) -> tuple[uuid.UUID, str]:
        kit = self.services.webhooks
        data = parse_webhook_body(
            {"url": url, "events": events or ["*"], **body},
            kit.resolver,
            allow_private=kit.config.allow_private,
            creating=True,
        )
        with unit_of_work(self.services.sessions, self.services.outbox, self.scope) as work:
            hook, secret = webhook_service.create_webhook(work, kit, data)
            return hook.id, secret

    def job(self, number: str) -> uuid.UUID:
        with unit_of_work(
            self.services.sessions, self.services.outbox, self.scope, origin=Origin("api")
        ) as work:
            return entity_service.create(work, JOBS, {"job_number": number}).id  # type: ignore[no-any-return]

    def webhook(self, id_: uuid.UUID) -> Webhook:
        with self.services.sessions() as s:
            hook = s.get(Webhook, id_)
            assert hook is not None
            return hook

    def deliveries(self, webhook_id: uuid.UUID) -> list[WebhookDelivery]:
        with self.services.sessions() as s:
            return list(
                s.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.webhook_id == webhook_id)
                    .order_by(WebhookDelivery.seq)
                )
            )

    def work(self) -> Any:
        return unit_of_work(self.services.sessions, self.services.outbox, self.scope)


@pytest.fixture
def rig(settings: Settings, sessions: Any) -> Iterator[Rig]:
    from floorsync.auth.tenants import create_tenant

    clock = FakeClock()
    services = build_services(
        settings.model_copy(update={"webhook_timeout_seconds": 5.0}), clock=clock
    )
    with services.sessions.begin() as s:
        tenant = create_tenant(s, f"rig-{uuid.uuid4().hex[:8]}", clock.now())
        scope = TenantScope(tenant.id)
    deps = delivery_deps(services, worker_id="rig-worker")
    yield Rig(services, clock, scope, deps)
    deps.http.close()
    bind = services.sessions.kw.get("bind")
    if bind is not None:
        bind.dispose()
