"""`create_planning_adapter`: a plain mapping from the connection's system to its adapter class
(spec §4.5). No network I/O happens here; the Odoo adapter settles its transport and version
profile on its first call."""

import time
from collections.abc import Callable

import httpx

from floorsync.planning.base import PlanningAdapter, PlanningSystem
from floorsync.planning.config import PlanningConnectionConfig
from floorsync.planning.frepple.adapter import FreppleAdapter
from floorsync.planning.odoo.adapter import OdooAdapter

ADAPTERS: dict[PlanningSystem, Callable[..., PlanningAdapter]] = {
    PlanningSystem.FREPPLE: FreppleAdapter,
    PlanningSystem.ODOO: OdooAdapter,
}


def create_planning_adapter(
    config: PlanningConnectionConfig,
    *,
    http_client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PlanningAdapter:
    """The adapter for the connection. `http_client` shares a pool built by
    `planning.http.make_planning_http_client` (its timeouts and TLS settings then apply; the
    adapter does not close it); `sleep` is how the adapter waits between retries of read-only
    calls (a worker passes its stop event's `wait`, tests a recorder)."""
    try:
        adapter_class = ADAPTERS[PlanningSystem(config.system)]
    except (KeyError, ValueError):
        raise ValueError(f"no planning adapter for system {config.system!r}") from None
    return adapter_class(config, http_client=http_client, sleep=sleep)
