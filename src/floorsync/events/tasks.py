"""The event log's upkeep, declared for the worker (worker/registry.py lists it)."""

from datetime import timedelta

from floorsync.bootstrap import Services
from floorsync.events.retention import purge_events
from floorsync.worker.kinds import PeriodicTask


def _purge(services: Services) -> int:
    retention = timedelta(days=services.settings.event_retention_days)
    return purge_events(services.sessions, services.clock, retention)


PURGE = PeriodicTask("retention.purge", _purge)
