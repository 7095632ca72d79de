"""File storage upkeep, declared for the worker (worker/registry.py lists it): `storage.purge`
runs hourly (api-catalogue-completion §2.7, §14.7) and removes abandoned uploads and deleted
files, bytes first (files/purge.py)."""

from datetime import timedelta

from floorsync.bootstrap import Services
from floorsync.config import Settings
from floorsync.files.purge import PurgeReport, StorageFor, purge_files
from floorsync.worker.kinds import PeriodicTask


def storage_for(services: Services) -> StorageFor:
    """A row's backend: the configured one, or the other (files written before a switch)."""
    return services.storage_of


def purge(services: Services) -> PurgeReport:
    report = purge_files(services.sessions, services.clock, storage_for(services))
    if report.failed:  # recorded as the run's error; the rows stay for the next run
        raise RuntimeError(
            f"{report.failed} deleted file(s) could not be removed: {report.errors[0]}"
        )
    return report


def _hourly(_settings: Settings) -> timedelta:
    return timedelta(hours=1)


PURGE = PeriodicTask("storage.purge", purge, every=_hourly, lease=timedelta(minutes=30))
