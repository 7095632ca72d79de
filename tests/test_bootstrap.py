"""The composition root (bootstrap.py): one typed Services for the app, the CLI and the worker,
and an outbox that always queues webhook deliveries, however it was built."""

import ast
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.app import create_app
from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.cells import CELLS
from floorsync.events.fanout import EventRow, make_fanout
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import Clock, SystemClock
from floorsync.models.webhooks import WebhookDelivery
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import receiver, register

__all__ = ["receiver"]  # the webhook tests' fixture

SRC = Path(__file__).resolve().parents[1] / "src" / "floorsync"


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


def deliveries_of(sessions: sessionmaker[Session], event_id: uuid.UUID) -> list[WebhookDelivery]:
    with sessions() as s:
        return list(s.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)))


def commit_a_cell(
    sessions: sessionmaker[Session], outbox: Outbox, tenant_id: uuid.UUID
) -> uuid.UUID:
    with unit_of_work(sessions, outbox, TenantScope(tenant_id)) as work:
        entity_service.create(work, CELLS, {"name": f"cell-{uuid.uuid4().hex[:6]}"})
        return work.events[-1].id


class TestEveryOutboxQueuesWebhookDeliveries:
    def test_an_outbox_built_without_a_fan_out_still_queues_the_delivery(
        self, tenant: TenantHandle, receiver: WebhookReceiver, sessions: sessionmaker[Session]
    ) -> None:
        hook = register(tenant, receiver.url)
        event_id = commit_a_cell(sessions, Outbox(SystemClock()), tenant.id)
        (delivery,) = deliveries_of(sessions, event_id)
        assert (str(delivery.webhook_id), delivery.status.value) == (hook["id"], "pending")

    def test_an_outbox_given_only_other_fan_outs_queues_the_delivery_before_them(
        self, tenant: TenantHandle, receiver: WebhookReceiver, sessions: sessionmaker[Session]
    ) -> None:
        register(tenant, receiver.url)
        seen: list[int] = []

        def count_queued(
            session: Session, _tenant: uuid.UUID, rows: Sequence[EventRow], _clock: Clock
        ) -> None:
            ids = [row.id for row in rows]
            seen.append(
                len(
                    session.scalars(
                        select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
                    ).all()
                )
            )

        event_id = commit_a_cell(sessions, Outbox(SystemClock(), [count_queued]), tenant.id)
        assert seen == [1]  # the deliveries were already queued when the other fan-out ran
        assert len(deliveries_of(sessions, event_id)) == 1

    def test_an_outbox_refuses_to_queue_deliveries_twice(self) -> None:
        with pytest.raises(ValueError, match="once"):
            Outbox(SystemClock(), [make_fanout(), make_fanout()])

    def test_the_bootstrapped_outbox_queues_deliveries_and_wakes_the_worker_after_commit(
        self,
        services: Services,
        tenant: TenantHandle,
        receiver: WebhookReceiver,
    ) -> None:
        register(tenant, receiver.url)
        services.worker_wake.clear()
        woken_inside: list[bool] = []
        with unit_of_work(services.sessions, services.outbox, TenantScope(tenant.id)) as work:
            entity_service.create(work, CELLS, {"name": "woken"})
            event_id = work.events[-1].id
            woken_inside.append(services.worker_wake.is_set())
        assert woken_inside == [False]
        assert services.worker_wake.is_set()
        assert len(deliveries_of(services.sessions, event_id)) == 1

    def test_only_the_composition_root_builds_an_outbox(self) -> None:
        builders = []
        for path in sorted(SRC.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "Outbox"
                ):
                    builders.append(path.relative_to(SRC).as_posix())
        assert builders == ["bootstrap.py"]


class TestOneCompositionRoot:
    def test_the_app_serves_the_services_it_is_given(
        self, settings: Settings, services: Services
    ) -> None:
        app = create_app(settings, services=services)
        assert app.state.services is services

    def test_the_webhooks_the_replies_and_the_outbox_share_one_secret_box_and_clock(
        self, services: Services
    ) -> None:
        assert services.webhooks.secretbox is services.secretbox
        assert services.outbox.clock is services.clock
