"""The FrePPLe adapter: call sequences of spec §8.9–§8.11 over `FreppleClient`, mapped by
`frepple.mapping`.

* `test_connection`: the manufacturing-order probe, the work-order probe (200 → capability
  `frepple.workorder_endpoint`, 404 → routing steps are read through `owner`), the resource probe;
  read-only, stops at the first failure, never raises for a server-side problem.
* `pull_work_orders(None)`: MOs with the configured statuses; records with an `owner` are routing
  steps, not work orders; their steps (`workorder/?owner__in=…`, or the MO endpoint's children
  before 9.13); the operations once.
* `pull_work_orders(since)`: MOs changed since `W` (naive server-local time) in any status but
  proposed, plus the owners of steps changed since `W`; each returned order is complete.
* Pushes read the order first and answer `already_applied` when it is there already; a start
  writes `confirmed` with the actual start and a shifted end, a completion `completed` (or
  `closed`) with the good quantity. PATCHes of absolute values, never retried here.
"""

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from floorsync.planning.base import (
    ConnectionCheck,
    Equipment,
    OrderStatus,
    PlanningError,
    PlanningProtocolError,
    PlanningSystem,
    PushOutcome,
    PushResult,
    WorkOrder,
)
from floorsync.planning.config import FreppleSettings, PlanningConnectionConfig
from floorsync.planning.frepple import mapping
from floorsync.planning.frepple.client import FreppleClient, encode
from floorsync.planning.http import (
    HttpAdapter,
    PlanningHttp,
    Redactor,
    basic_token,
    make_planning_http_client,
)
from floorsync.planning.timezones import format_local, zone
from floorsync.planning.values import check_order_id, check_quantities, clean_str, require_aware

SYSTEM = PlanningSystem.FREPPLE
PROBE = "__floorsync_probe__"
MO, WO = "manufacturingorder", "workorder"
INCREMENTAL_STATUSES = "approved,confirmed,completed,closed"


class FreppleAdapter(HttpAdapter):
    system = SYSTEM

    def __init__(
        self,
        config: PlanningConnectionConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = config.settings
        if not isinstance(settings, FreppleSettings):
            raise ValueError("FreppleAdapter needs a FrePPLe connection")
        self.settings = settings
        self._tz = zone(settings.time_zone)
        self._redact = Redactor([config.secret], username=config.username)
        client = http_client or make_planning_http_client(
            read_timeout=settings.timeout_seconds,
            verify_tls=settings.verify_tls,
            ca_bundle=settings.ca_bundle,
        )
        self._http = PlanningHttp(
            SYSTEM, client, owns_client=http_client is None, redactor=self._redact, sleep=sleep
        )
        if config.auth_method == "basic":
            authorization = f"Basic {basic_token(config.username or '', config.secret)}"
        else:
            authorization = f"Bearer {config.secret}"
        self._client = FreppleClient(
            self._http,
            config.base_url,
            authorization,
            scenario=settings.scenario,
            max_records=settings.max_records_per_pull,
        )
        self._base_url = config.base_url
        self._workorder_endpoint: bool | None = None

    # ------------------------------------------------------------------------ connection

    def test_connection(self) -> ConnectionCheck:
        started = time.monotonic()
        capabilities: set[str] = set()

        def result(ok: bool, message: str, error: PlanningError | None = None) -> ConnectionCheck:
            return ConnectionCheck(
                ok=ok,
                system=SYSTEM,
                server_version=None,
                capabilities=frozenset(capabilities),
                error_kind=error.kind if error is not None else None,
                message=self._redact(message),
                elapsed_ms=int((time.monotonic() - started) * 1000),
            )

        try:
            self._client.fetch(MO, [("reference", PROBE)])
            self._workorder_endpoint = self._client.probe(WO, "reference")
            if self._workorder_endpoint:
                capabilities.add("frepple.workorder_endpoint")
            self._client.fetch("resource", [("name", PROBE)])
        except PlanningError as exc:
            return result(False, exc.message, exc)
        where = self._base_url + (
            f" (scenario {self.settings.scenario})" if self.settings.scenario else ""
        )
        steps = (
            "routing steps from the work-order endpoint"
            if self._workorder_endpoint
            else "routing steps from manufacturing orders with an owner (before 9.13)"
        )
        return result(True, f"connected to FrePPLe at {where}; {steps}")

    def _has_workorder_endpoint(self) -> bool:
        if self._workorder_endpoint is None:
            self._workorder_endpoint = self._client.probe(WO, "reference")
        return self._workorder_endpoint

    # ----------------------------------------------------------------------------- pulls

    def pull_resources(self) -> list[Equipment]:
        with self._redacted():
            records = self._client.fetch("resource")
            return [
                mapping.equipment(
                    r,
                    self._tz,
                    self.settings.tooling_categories,
                    self.settings.personnel_categories,
                )
                for r in records
            ]

    def pull_work_orders(self, since: datetime | None = None) -> list[WorkOrder]:
        if since is not None:
            since = require_aware(since, "since")
        with self._redacted():
            return self._pull(since)

    def _pull(self, since: datetime | None) -> list[WorkOrder]:
        with_endpoint = self._has_workorder_endpoint()
        if since is None:
            params = [("status__in", ",".join(encode(s) for s in self.settings.statuses))]
        else:
            window = encode(format_local(since, self._tz))
            params = [("status__in", INCREMENTAL_STATUSES), ("lastmodified__gte", window)]
        orders: dict[str, dict[str, Any]] = {}
        steps: dict[str, dict[str, dict[str, Any]]] = {}
        self._sort(self._client.fetch(MO, params), orders, steps)
        if since is not None:
            changed = (
                self._client.fetch(WO, [("lastmodified__gte", window)])
                if with_endpoint
                else [s for group in steps.values() for s in group.values()]
            )
            owners = [o for s in changed if (o := clean_str(s.get("owner"))) and o not in orders]
            found: dict[str, dict[str, Any]] = {}
            self._sort(self._client.fetch_in(MO, "reference", owners), found, steps)
            orders.update(found)  # proposals among them are dropped after mapping
        self._check_cap(len(orders))
        children = self._client.fetch_in(WO if with_endpoint else MO, "owner", list(orders))
        for child in children:
            owner = clean_str(child.get("owner"))
            reference = clean_str(child.get("reference"))
            if owner in orders and reference is not None:
                steps.setdefault(owner, {})[reference] = child
        operations = {
            name: op
            for op in self._client.fetch("operation")
            if (name := clean_str(op.get("name"))) is not None
        }
        pulled = [
            mapping.work_order(record, list(steps.get(ref, {}).values()), operations, self._tz)
            for ref, record in orders.items()
        ]
        if since is not None:
            pulled = [w for w in pulled if w.status is not OrderStatus.PLANNED]
        return pulled

    @staticmethod
    def _sort(
        records: list[dict[str, Any]],
        orders: dict[str, dict[str, Any]],
        steps: dict[str, dict[str, dict[str, Any]]],
    ) -> None:
        """Work orders into `orders`; records with an owner are routing steps of that owner."""
        for record in records:
            reference = clean_str(record.get("reference"))
            if reference is None:
                raise PlanningProtocolError(SYSTEM, "a manufacturing order has no reference")
            owner = clean_str(record.get("owner"))
            if owner is None:
                orders[reference] = record
            else:
                steps.setdefault(owner, {})[reference] = record

    def _check_cap(self, count: int) -> None:
        cap = self.settings.max_records_per_pull
        if count > cap:
            raise PlanningProtocolError(
                SYSTEM,
                f"the pull found {count} work orders, more than max_records_per_pull = {cap}; "
                "raise the cap or narrow the statuses",
            )

    # ----------------------------------------------------------------------------- pushes

    def push_order_start(self, order_id: str, started_at: datetime) -> PushResult:
        order_id = check_order_id(SYSTEM, order_id)
        started_at = require_aware(started_at, "started_at")
        with self._redacted():
            current = self._client.get(MO, order_id)
            body = mapping.start_body(current, started_at, self._tz)
            if body is None:
                status = clean_str(current.get("status"))
                return PushResult(
                    order_id,
                    "start",
                    PushOutcome.ALREADY_APPLIED,
                    status,
                    f"the order is already {status} in FrePPLe",
                )
            self._client.patch(MO, order_id, orjson.dumps(body))
            return PushResult(
                order_id,
                "start",
                PushOutcome.APPLIED,
                "confirmed",
                f"confirmed with start {body['startdate']} ({self.settings.time_zone})",
            )

    def push_order_completion(
        self,
        order_id: str,
        quantity_good: Decimal,
        quantity_scrap: Decimal,
        *,
        completed_at: datetime | None = None,
    ) -> PushResult:
        check_quantities(SYSTEM, quantity_good, quantity_scrap)
        order_id = check_order_id(SYSTEM, order_id)
        if completed_at is not None:
            completed_at = require_aware(completed_at, "completed_at")
        with self._redacted():
            current = self._client.get(MO, order_id)
            target = self.settings.completion_status
            body = mapping.completion_body(current, quantity_good, target, completed_at, self._tz)
            if body is None:
                status = clean_str(current.get("status"))
                return PushResult(
                    order_id,
                    "completion",
                    PushOutcome.ALREADY_APPLIED,
                    status,
                    f"the order is already {status} in FrePPLe",
                )
            self._client.patch(MO, order_id, orjson.dumps(body))
            return PushResult(
                order_id,
                "completion",
                PushOutcome.APPLIED,
                target,
                f"{target} with {body['quantity']} good (scrap is not recorded in FrePPLe)",
            )
