"""The Odoo adapter: the call sequences of spec §9.11–§9.12, written once over `OdooTransport`.

On its first call the adapter settles how to talk to the server and caches it for its lifetime
(§9.5): `common.version` unless the version is configured (`server_version_info[0]`, or `saas~X`
on Odoo Online → profile X); below 16 is refused; 16–18 use JSON-RPC (authenticated once, uid
kept), 19 and later JSON-2, which needs an API key. Pulls then check the profile against
`fields_get` on the five models once (missing required field → protocol error; missing optional
field → dropped from every request and listed in the capabilities).

Every call passes `context = {"lang": "en_US", "tz": "UTC"}` (+ `allowed_company_ids`); lists are
read with `search_read` paged by `page_size` in `id asc` order until a short page; `read` is
called in chunks of ids and never with `limit` or `offset`.

Pushes read the order first and answer `already_applied` when the target state is there already,
so a retry after a lost answer never applies twice; every step of a sequence is skipped when its
effect is already visible (a finished work order is not finished again).
"""

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import httpx

from floorsync.planning.base import (
    ConnectionCheck,
    Equipment,
    PlanningError,
    PlanningNotCompleted,
    PlanningOrderNotFound,
    PlanningProtocolError,
    PlanningRejected,
    PlanningSystem,
    PushOutcome,
    PushResult,
    WorkOrder,
)
from floorsync.planning.config import OdooSettings, PlanningConnectionConfig
from floorsync.planning.http import HttpAdapter, PlanningHttp, Redactor, make_planning_http_client
from floorsync.planning.odoo import mapping
from floorsync.planning.odoo.json2 import Json2Transport
from floorsync.planning.odoo.jsonrpc import JsonRpcTransport
from floorsync.planning.odoo.profiles import (
    MODELS,
    MOVE,
    PRODUCT,
    PRODUCTION,
    PUSH_PRODUCTION_FIELDS,
    WORKCENTER,
    WORKORDER,
    Profile,
    profile_for,
)
from floorsync.planning.odoo.transport import MISSING, OdooTransport
from floorsync.planning.timezones import format_utc_naive
from floorsync.planning.values import (
    check_order_id,
    check_quantities,
    plain_decimal,
    require_aware,
)

SYSTEM = PlanningSystem.ODOO
FULL_STATES = ["confirmed", "progress", "to_close"]
CHANGED_STATES = ["confirmed", "progress", "to_close", "done", "cancel"]
IMMEDIATE_WIZARD = "mrp.immediate.production"


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def major_version(info: dict[str, Any]) -> int:
    """The major version from `common.version`: `server_version_info[0]`, an int or `saas~X`."""
    parts = info.get("server_version_info")
    first = parts[0] if isinstance(parts, list) and parts else None
    if isinstance(first, int) and not isinstance(first, bool):
        return first
    if isinstance(first, str):
        match = re.fullmatch(r"(?:saas~)?(\d+)(?:\.\d+)?", first.strip())
        if match:
            return int(match[1])
    raise PlanningProtocolError(
        SYSTEM, f"cannot read the Odoo version from {info.get('server_version_info')!r}"
    )


class OdooAdapter(HttpAdapter):
    system = SYSTEM

    def __init__(
        self,
        config: PlanningConnectionConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = config.settings
        if not isinstance(settings, OdooSettings):
            raise ValueError("OdooAdapter needs an Odoo connection")
        self.settings, self._config = settings, config
        client = http_client or make_planning_http_client(
            read_timeout=settings.timeout_seconds,
            verify_tls=settings.verify_tls,
            ca_bundle=settings.ca_bundle,
        )
        self._http = PlanningHttp(
            SYSTEM,
            client,
            owns_client=http_client is None,
            redactor=Redactor([config.secret]),
            sleep=sleep,
        )
        self._jsonrpc = JsonRpcTransport(
            self._http, config.base_url, settings.database, config.username or "", config.secret
        )
        self._transport: OdooTransport | None = None
        self._profile: Profile | None = None
        self._missing: frozenset[tuple[str, str]] | None = None
        self.server_version: str | None = None

    # --------------------------------------------------------------------------- set-up

    def _connect(self, *, report_version: bool = False) -> tuple[OdooTransport, Profile]:
        if self._transport is not None and self._profile is not None:
            return self._transport, self._profile
        settings = self.settings
        explicit_json2 = settings.api == "json2" or (
            settings.api == "auto" and settings.version == "19"
        )
        if settings.version == "auto" or (report_version and not explicit_json2):
            info = self._jsonrpc.version()
            self.server_version = str(info.get("server_version") or "") or None
        if settings.version == "auto":
            major = major_version(info)
            if major < 16:
                raise PlanningProtocolError(
                    SYSTEM, f"Odoo {major} is not supported; 16 or later is required"
                )
        else:
            major = int(settings.version)
            if self.server_version is not None:
                detected = major_version(info)
                if min(detected, 19) != major:
                    raise PlanningProtocolError(
                        SYSTEM,
                        f"the connection says Odoo {major} but the server is "
                        f"{self.server_version}; fix the version setting (or use auto)",
                    )
        profile = profile_for(major)
        use_json2 = settings.api == "json2" or (settings.api == "auto" and major >= 19)
        transport: OdooTransport
        if use_json2:
            if self._config.auth_method != "api_key":
                raise PlanningProtocolError(
                    SYSTEM,
                    f"Odoo {major} is reached through the JSON-2 API, which needs an API key: "
                    "set auth_method api_key (or version 18 and api jsonrpc)",
                )
            transport = Json2Transport(
                self._http, self._config.base_url, settings.database, self._config.secret
            )
        else:
            self._jsonrpc.authenticate()
            transport = self._jsonrpc
        self._transport, self._profile = transport, profile
        return transport, profile

    def _context(self, **extra: Any) -> dict[str, Any]:
        context: dict[str, Any] = {"lang": "en_US", "tz": "UTC"}
        if self.settings.company_id is not None:
            context["allowed_company_ids"] = [self.settings.company_id]
        context.update(extra)
        return context

    def _call(
        self,
        model: str,
        method: str,
        *,
        ids: list[int] | None = None,
        context: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        transport, _ = self._connect()
        return transport.call(
            model, method, ids=ids, params=params, context=context or self._context()
        )

    def _check_fields(self) -> frozenset[tuple[str, str]]:
        """(model, field) pairs of optional fields this server lacks; a missing required field
        is a protocol error naming both."""
        if self._missing is not None:
            return self._missing
        _, profile = self._connect()
        missing: set[tuple[str, str]] = set()
        for model in MODELS:
            described = self._call(model, "fields_get", attributes=["type"])
            if not isinstance(described, dict):
                raise PlanningProtocolError(SYSTEM, f"{model}.fields_get did not answer an object")
            wanted = dict(profile.fields[model])
            if model == PRODUCTION:
                wanted.update(PUSH_PRODUCTION_FIELDS)
            for field, required in wanted.items():
                if field in described:
                    continue
                if required:
                    raise PlanningProtocolError(
                        SYSTEM,
                        f"Odoo {model} has no field {field!r}, which profile {profile.name} "
                        "needs; set the version explicitly if it was detected wrongly",
                    )
                missing.add((model, field))
        self._missing = frozenset(missing)
        return self._missing

    # ------------------------------------------------------------------------ connection

    def test_connection(self) -> ConnectionCheck:
        started = time.monotonic()
        capabilities: set[str] = set()

        def result(ok: bool, message: str, error: PlanningError | None = None) -> ConnectionCheck:
            return ConnectionCheck(
                ok=ok,
                system=SYSTEM,
                server_version=self.server_version,
                capabilities=frozenset(capabilities),
                error_kind=error.kind if error is not None else None,
                message=self._http.redact(message),
                elapsed_ms=int((time.monotonic() - started) * 1000),
            )

        try:
            transport, profile = self._connect(report_version=True)
            capabilities |= {f"odoo.{transport.kind}", f"odoo.profile.{profile.name}"}
            self._call(PRODUCTION, "search_count", domain=[["id", "=", 0]])
            missing = self._check_fields()
        except PlanningError as exc:
            return result(False, exc.message, exc)
        capabilities |= {f"odoo.without.{model}.{field}" for model, field in missing}
        over = "JSON-RPC" if transport.kind == "jsonrpc" else "JSON-2"
        shown = f"Odoo {self.server_version}" if self.server_version else "Odoo"
        return result(
            True,
            f"connected to {shown} at {self._config.base_url}, database "
            f"{self.settings.database!r}, as {self._config.username!r}; profile {profile.name} "
            f"over {over}",
        )

    # ----------------------------------------------------------------------------- reads

    def _search_read(
        self, model: str, domain: list[Any], fields: list[str], *, cap: int | None = None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = self.settings.page_size
        while True:
            batch = self._call(
                model,
                "search_read",
                domain=domain,
                fields=fields,
                offset=len(rows),
                limit=page,
                order="id asc",
            )
            rows.extend(self._records(model, batch))
            if cap is not None and len(rows) > cap:
                raise self._over_cap(len(rows))
            if len(batch) < page:
                return rows

    def _search_ids(self, model: str, domain: list[Any], *, cap: int | None = None) -> list[int]:
        ids: list[int] = []
        page = self.settings.page_size
        while True:
            batch = self._call(
                model, "search", domain=domain, offset=len(ids), limit=page, order="id asc"
            )
            if not isinstance(batch, list) or not all(isinstance(i, int) for i in batch):
                raise PlanningProtocolError(SYSTEM, f"{model}.search did not answer a list of ids")
            ids.extend(batch)
            if cap is not None and len(ids) > cap:
                raise self._over_cap(len(ids))
            if len(batch) < page:
                return ids

    def _read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(ids, self.settings.page_size):
            rows.extend(self._records(model, self._call(model, "read", ids=chunk, fields=fields)))
        return rows

    def _in_chunks(
        self, model: str, field: str, ids: list[int], fields: list[str]
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(ids, self.settings.page_size):
            rows.extend(self._search_read(model, [[field, "in", chunk]], fields))
        return rows

    @staticmethod
    def _records(model: str, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise PlanningProtocolError(SYSTEM, f"Odoo {model} did not answer a list of records")
        return value

    def _over_cap(self, count: int) -> PlanningProtocolError:
        cap = self.settings.max_records_per_pull
        return PlanningProtocolError(
            SYSTEM,
            f"the pull found {count} manufacturing orders or more, above "
            f"max_records_per_pull = {cap}",
        )

    # ----------------------------------------------------------------------------- pulls

    def pull_resources(self) -> list[Equipment]:
        with self._redacted():
            _, profile = self._connect()
            fields = profile.pull_fields(WORKCENTER, self._check_fields())
            rows = self._search_read(
                WORKCENTER, ["|", ["active", "=", True], ["active", "=", False]], fields
            )
            return [mapping.equipment(row) for row in rows]

    def pull_work_orders(self, since: datetime | None = None) -> list[WorkOrder]:
        if since is not None:
            since = require_aware(since, "since")
        with self._redacted():
            return self._pull(since)

    def _pull(self, since: datetime | None) -> list[WorkOrder]:
        _, profile = self._connect()
        missing = self._check_fields()
        cap = self.settings.max_records_per_pull
        fields = profile.pull_fields(PRODUCTION, missing)
        if since is None:
            productions = self._search_read(
                PRODUCTION, [["state", "in", FULL_STATES]], fields, cap=cap
            )
        else:
            window = format_utc_naive(since)
            ids = self._search_ids(
                PRODUCTION,
                [["state", "in", CHANGED_STATES], ["write_date", ">=", window]],
                cap=cap,
            )
            for row in self._search_read(
                WORKORDER, [["write_date", ">=", window]], ["production_id"]
            ):
                ref = mapping.many2one(row.get("production_id"))
                if ref is not None:
                    ids.append(ref[0])
            ids = sorted(set(ids))
            if len(ids) > cap:
                raise self._over_cap(len(ids))
            productions = [
                row
                for row in self._read(PRODUCTION, ids, fields)
                if row.get("state") != "draft"  # drafts are never on the floor
            ]
        return self._complete(productions, profile, missing)

    def _complete(
        self,
        productions: list[dict[str, Any]],
        profile: Profile,
        missing: frozenset[tuple[str, str]],
    ) -> list[WorkOrder]:
        """Steps 2–5 of the pulls: work orders, raw-material moves and products, then map."""
        mo_ids = [mapping_id(row) for row in productions]
        workorders: dict[int, list[dict[str, Any]]] = {}
        for row in self._in_chunks(
            WORKORDER, "production_id", mo_ids, profile.pull_fields(WORKORDER, missing)
        ):
            ref = mapping.many2one(row.get("production_id"))
            if ref is not None:
                workorders.setdefault(ref[0], []).append(row)
        moves: dict[int, list[dict[str, Any]]] = {}
        for row in self._in_chunks(
            MOVE, "raw_material_production_id", mo_ids, profile.pull_fields(MOVE, missing)
        ):
            ref = mapping.many2one(row.get("raw_material_production_id"))
            if ref is not None:
                moves.setdefault(ref[0], []).append(row)
        product_ids: dict[int, None] = {}
        for row in [*productions, *(m for group in moves.values() for m in group)]:
            ref = mapping.many2one(row.get("product_id"))
            if ref is not None:
                product_ids[ref[0]] = None
        products = {
            mapping_id(row): row
            for row in self._read(PRODUCT, list(product_ids), profile.pull_fields(PRODUCT, missing))
        }
        orders = [
            mapping.work_order(
                row,
                workorders.get(mapping_id(row), []),
                moves.get(mapping_id(row), []),
                products,
                profile,
            )
            for row in sorted(productions, key=mapping_id)
        ]
        return orders

    # ----------------------------------------------------------------------------- pushes

    def _mo_id(self, order_id: str) -> int:
        text = check_order_id(SYSTEM, order_id)
        if not text.isascii() or not text.isdigit() or int(text) <= 0:
            raise PlanningRejected(
                SYSTEM,
                "an Odoo order id must be the decimal string of a positive integer",
                details={"order_id": text},
            )
        return int(text)

    def _read_order(self, mo_id: int, fields: list[str]) -> dict[str, Any]:
        try:
            rows = self._records(
                PRODUCTION, self._call(PRODUCTION, "read", ids=[mo_id], fields=fields)
            )
        except PlanningRejected as exc:
            if exc.details.get("name") == MISSING:
                raise PlanningOrderNotFound(
                    SYSTEM, "order not found in Odoo", details=exc.details, upstream=exc.upstream
                ) from None
            raise
        if not rows:
            raise PlanningOrderNotFound(SYSTEM, "order not found in Odoo", details={"id": mo_id})
        return rows[0]

    def _states(self, ids: list[int]) -> dict[int, str]:
        rows = self._read(WORKORDER, sorted(ids), ["state"])
        return {mapping_id(row): str(row.get("state")) for row in rows}

    def push_order_start(self, order_id: str, started_at: datetime) -> PushResult:
        mo_id = self._mo_id(order_id)
        started_at = require_aware(started_at, "started_at")
        with self._redacted():
            _, profile = self._connect()
            order = self._read_order(mo_id, ["state", "workorder_ids"])
            state = str(order.get("state"))
            if state == "cancel":
                raise PlanningRejected(SYSTEM, "order is cancelled in Odoo", details={"id": mo_id})
            if state in ("progress", "to_close", "done"):
                return self._result(order_id, "start", PushOutcome.ALREADY_APPLIED, state)
            if state == "draft":
                self._call(PRODUCTION, "action_confirm", ids=[mo_id])
            states = self._states(list(order.get("workorder_ids") or []))
            if any(s in ("progress", "done") for s in states.values()):
                return self._result(order_id, "start", PushOutcome.ALREADY_APPLIED, state)
            open_ids = sorted(i for i, s in states.items() if s not in ("done", "cancel"))
            if open_ids:
                self._call(WORKORDER, "button_start", ids=open_ids[:1])
                if not self.settings.keep_timer_running:
                    self._call(WORKORDER, "button_pending", ids=open_ids[:1])
                how = f"work order {open_ids[0]} started"
            else:
                context = self._context(force_date=True) if profile.version >= 17 else None
                self._call(
                    PRODUCTION,
                    "write",
                    ids=[mo_id],
                    context=context,
                    vals={"date_start": format_utc_naive(started_at)},
                )
                how = "start date written"
            final = str(self._read_order(mo_id, ["state"]).get("state"))
            return self._result(order_id, "start", PushOutcome.APPLIED, final, how)

    def push_order_completion(
        self,
        order_id: str,
        quantity_good: Decimal,
        quantity_scrap: Decimal,
        *,
        completed_at: datetime | None = None,
    ) -> PushResult:
        check_quantities(SYSTEM, quantity_good, quantity_scrap)
        mo_id = self._mo_id(order_id)
        if completed_at is not None:
            require_aware(completed_at, "completed_at")  # Odoo stamps its own end time
        with self._redacted():
            return self._complete_order(order_id, mo_id, quantity_good, quantity_scrap)

    def _complete_order(
        self, order_id: str, mo_id: int, good: Decimal, scrap: Decimal
    ) -> PushResult:
        _, profile = self._connect()
        order = self._read_order(
            mo_id, ["state", "product_qty", "qty_producing", "qty_produced", "workorder_ids"]
        )
        state = str(order.get("state"))
        if state == "done":
            return self._result(order_id, "completion", PushOutcome.ALREADY_APPLIED, state)
        if state == "cancel":
            raise PlanningRejected(SYSTEM, "order is cancelled in Odoo", details={"id": mo_id})
        if state == "draft":
            self._call(PRODUCTION, "action_confirm", ids=[mo_id])
        planned = mapping.odoo_decimal(order.get("product_qty")) or Decimal(0)
        producing = mapping.odoo_decimal(order.get("qty_producing")) or Decimal(0)
        produced = mapping.odoo_decimal(order.get("qty_produced")) or Decimal(0)
        full = good >= planned - produced
        immediate = profile.version == 16 and full and producing == 0
        auto_filled = profile.version >= 17 and full and producing == 0
        if not (immediate or auto_filled) and producing != good:
            self._call(PRODUCTION, "write", ids=[mo_id], vals={"qty_producing": _json_number(good)})
        states = self._states(list(order.get("workorder_ids") or []))
        for wo_id in sorted(i for i, s in states.items() if s not in ("done", "cancel")):
            self._call(WORKORDER, "button_finish", ids=[wo_id])
        flags: dict[str, Any] = {"skip_consumption": True, "skip_backorder": True}
        if profile.version == 16 and not immediate:
            flags["skip_immediate"] = True
        if profile.version >= 17:
            flags["skip_redirection"] = True
        if self.settings.create_backorder and not full:
            flags["mo_ids_to_backorder"] = [mo_id]
        context = self._context(**flags)
        answer = self._call(PRODUCTION, "button_mark_done", ids=[mo_id], context=context)
        self._settle(answer, mo_id, context, immediate_allowed=profile.version == 16)
        if scrap > 0 and self.settings.scrap_note:
            self._call(
                PRODUCTION,
                "message_post",
                ids=[mo_id],
                body=f"floorsync: {plain_decimal(good)} good, {plain_decimal(scrap)} scrap",
            )
        final = str(self._read_order(mo_id, ["state"]).get("state"))
        if final != "done":
            raise PlanningNotCompleted(
                SYSTEM,
                f"Odoo accepted the completion but the order is {final!r}, not done",
                details={"state": final},
            )
        return self._result(
            order_id,
            "completion",
            PushOutcome.APPLIED,
            final,
            f"{plain_decimal(good)} good, {plain_decimal(scrap)} scrap",
        )

    def _settle(
        self, answer: Any, mo_id: int, context: dict[str, Any], *, immediate_allowed: bool
    ) -> None:
        """A button's answer: `true` (or nothing) means done; Odoo 16's Immediate Production
        wizard is completed as the user interface would (§9.9); any other action is a wizard a
        person must finish in Odoo."""
        if not isinstance(answer, dict):
            return
        model = str(answer.get("res_model") or answer.get("type") or "an action")
        if model == IMMEDIATE_WIZARD and immediate_allowed:
            created = self._call(
                IMMEDIATE_WIZARD,
                "create",
                context=context,
                vals_list={
                    "mo_ids": [[6, 0, [mo_id]]],
                    "immediate_production_line_ids": [
                        [0, 0, {"production_id": mo_id, "to_immediate": True}]
                    ],
                },
            )
            wizard_id = created[0] if isinstance(created, list) and created else created
            if not isinstance(wizard_id, int):
                raise PlanningProtocolError(
                    SYSTEM, f"{IMMEDIATE_WIZARD}.create answered {created!r}"
                )
            processed = self._call(IMMEDIATE_WIZARD, "process", ids=[wizard_id], context=context)
            # The wizard answering with another Immediate Production wizard is not looped on.
            self._settle(processed, mo_id, context, immediate_allowed=False)
            return
        raise PlanningNotCompleted(
            SYSTEM,
            f"Odoo answered with the {model} wizard instead of finishing the order; finish it in "
            "Odoo",
            details={"wizard": model},
        )

    @staticmethod
    def _result(
        order_id: str,
        action: Literal["start", "completion"],
        outcome: PushOutcome,
        state: str,
        how: str = "",
    ) -> PushResult:
        if outcome is PushOutcome.ALREADY_APPLIED:
            message = f"the order is already {state} in Odoo"
        else:
            message = f"{how}; the order is {state} in Odoo"
        return PushResult(order_id.strip(), action, outcome, state, message)


def mapping_id(row: dict[str, Any]) -> int:
    value = row.get("id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise PlanningProtocolError(SYSTEM, "an Odoo record has no id")
    return value
