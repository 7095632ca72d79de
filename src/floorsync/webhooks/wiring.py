"""Composition: what the app factory and the worker install for events and webhooks."""

import threading

from fastapi import APIRouter

from floorsync.events.endpoints import router as events_router
from floorsync.http.context import Services
from floorsync.webhooks.config import WebhookKit
from floorsync.webhooks.endpoints import logs_router
from floorsync.webhooks.endpoints import router as webhooks_router
from floorsync.webhooks.fanout import make_fanout


def install_webhooks(services: Services) -> None:
    """Service hook: the webhook kit, the worker wake-up signal and the outbox fan-out."""
    services.extras["webhooks"] = WebhookKit.from_settings(services.settings)
    wake = threading.Event()
    services.extras["worker_wake"] = wake
    services.outbox.fanouts.append(make_fanout(wake.set))


def webhook_routers() -> list[APIRouter]:
    return [events_router, webhooks_router, logs_router]
