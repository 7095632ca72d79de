"""The event log's upkeep, declared for the worker (worker/registry.py lists it)."""

from datetime import timedelta

from floorsync.bootstrap import Services
from floorsync.events.retention import purge_events
from floorsync.lifecycle.monitor import purge_resolved_exceptions
from floorsync.worker.kinds import PeriodicTask


def _purge(services: Services) -> int:
    """Events past FLOORSYNC_EVENT_RETENTION_DAYS, and batch exceptions resolved over 90 days
    ago (api-catalogue-completion §14.7 puts them under this task too)."""
    retention = timedelta(days=services.settings.event_retention_days)
    purged = purge_events(services.sessions, services.clock, retention)
    return purged + purge_resolved_exceptions(services.sessions, services.clock)


PURGE = PeriodicTask("retention.purge", _purge)
