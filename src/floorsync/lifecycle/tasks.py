"""Batch monitoring, declared for the worker (worker/registry.py lists it): every
FLOORSYNC_BATCH_MONITOR_INTERVAL seconds (0 disables it) the catalogue §11 check (batch monitoring) runs for every tenant."""

from datetime import timedelta

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.lifecycle.monitor import monitor_all_tenants
from floorsync.worker.kinds import PeriodicTask

_OFF = timedelta(days=36_500)  # an interval of 0 means "never"


def _every(settings: Settings) -> timedelta:
    seconds = settings.batch_monitor_interval
    return timedelta(seconds=seconds) if seconds > 0 else _OFF


def _monitor(services: Services) -> int:
    if services.settings.batch_monitor_interval <= 0:
        return 0
    return monitor_all_tenants(services)


MONITOR = PeriodicTask("batches.monitor", _monitor, every=_every)
