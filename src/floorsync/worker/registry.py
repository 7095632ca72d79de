"""The job kinds and periodic tasks a worker runs, listed once. A feature adds its background
work by declaring it in its `tasks.py` and naming it here; the runner is not edited.

Modules named in FLOORSYNC_WORKER_PLUGINS (comma-separated, importable) add their own: each
defines `JOB_KINDS` and/or `PERIODIC_TASKS`, tuples like the two below. The test suite uses this
to run a test-only job kind in real worker processes (tests/worker/plugin.py).
"""

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from floorsync.config import Settings
from floorsync.csv_import import tasks as csv_import_tasks
from floorsync.events import tasks as event_tasks
from floorsync.files import tasks as file_tasks
from floorsync.lifecycle import tasks as lifecycle_tasks
from floorsync.planning import tasks as planning_tasks
from floorsync.webhooks import tasks as webhook_tasks
from floorsync.worker.kinds import JobKind, PeriodicTask

JOB_KINDS: tuple[JobKind[Any, Any], ...] = (
    webhook_tasks.DELIVERY,
    csv_import_tasks.CSV_IMPORT,
    planning_tasks.PULL,
    planning_tasks.PULL_NOW_KIND,
    planning_tasks.DISPATCH,  # before PUSH: a `--once` run dispatches, then pushes
    planning_tasks.PUSH,
)
PERIODIC_TASKS: tuple[PeriodicTask, ...] = (
    webhook_tasks.EXPIRE,
    webhook_tasks.SECRETS,
    event_tasks.PURGE,
    webhook_tasks.LOGS,
    webhook_tasks.VACUUM,
    lifecycle_tasks.MONITOR,
    file_tasks.PURGE,
    csv_import_tasks.RETENTION,
    planning_tasks.RECOVER,
)


@dataclass(frozen=True)
class WorkerRegistry:
    kinds: tuple[JobKind[Any, Any], ...]
    periodic: tuple[PeriodicTask, ...]


def plugin_modules(settings: Settings) -> list[str]:
    return [name.strip() for name in settings.worker_plugins.split(",") if name.strip()]


def registry_for(settings: Settings) -> WorkerRegistry:
    """The built-in kinds and tasks, then those of the plugin modules, in that order."""
    kinds: list[JobKind[Any, Any]] = list(JOB_KINDS)
    periodic: list[PeriodicTask] = list(PERIODIC_TASKS)
    for name in plugin_modules(settings):
        module = importlib.import_module(name)
        more_kinds: Sequence[JobKind[Any, Any]] = getattr(module, "JOB_KINDS", ())
        more_tasks: Sequence[PeriodicTask] = getattr(module, "PERIODIC_TASKS", ())
        if not more_kinds and not more_tasks:
            raise ValueError(f"worker plugin {name} defines neither JOB_KINDS nor PERIODIC_TASKS")
        kinds.extend(more_kinds)
        periodic.extend(more_tasks)
    for label, names in (
        ("job kind", [k.name for k in kinds]),
        ("periodic task", [t.name for t in periodic]),
    ):
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"{label} names must be unique: {repeated}")
    return WorkerRegistry(tuple(kinds), tuple(periodic))
