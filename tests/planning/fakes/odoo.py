"""A fake Odoo server that speaks JSON-RPC (16, 17, 18) and JSON-2 (19) as the planning-adapters
spec §9 writes it (checklist §10.4). Standard library only.

* Transport: `POST /jsonrpc` with the JSON-RPC 2.0 envelope (id echoed; application errors are
  HTTP 200 envelopes with `data.name/message/debug/arguments/context`, `code` 200 or 0), and from
  19 on `POST /json/2/<model>/<method>` with a bearer API key, `X-Odoo-Database`, named arguments
  and real HTTP statuses. Unknown paths answer an HTML 404; `/jsonrpc` can be switched off.
* Services: `common.version/login/authenticate` (`false` for a bad login; an unknown database is
  a `psycopg2.OperationalError` naming it), `object.execute_kw` re-checking db, uid and password
  or API key on every call.
* Models per profile with exactly the fields of §9.6–§9.7 (any other field in `fields` or `vals` is
  `ValueError: Invalid field`), many2one as `[id, name]`, empty values `false`, UTC datetime
  strings, `write_date` kept; `search_read/search/search_count` with domain evaluation, `read`
  (no `limit`: `TypeError`), `write`, `create`, `fields_get`; private methods → `AccessError`,
  unknown methods → `AttributeError`.
* Behaviour: the MO state machine, un-planning on a planned-start write without `force_date`,
  date writes refused on done/cancelled MOs, `button_mark_done` with the wizards and `UserError`s
  of §9.8 per version (and a switch that ignores the `skip_*` flags), the 16 Immediate Production
  wizard, work-order buttons with their MO side effects and a counter of open time logs,
  `message_post`.

Seed it with `add_product`, `add_workcenter`, `add_production` (or `seed_productions` for bulk
data); `fake.now` is the server clock; `fake.calls` lists every model call as the fake understood
it; `fake.inject(name, message)` makes the next matching call fail with that Odoo exception.
"""

import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.planning.fakes.harness import FakeServer, Recorded, Reply, json_reply, text_reply

ACCESS_DENIED = "odoo.exceptions.AccessDenied"
ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"
MISSING = "odoo.exceptions.MissingError"
INVALID_FIELD = "builtins.ValueError"

_COMMON = {
    "id": "integer",
    "write_date": "datetime",
}
_PRODUCTION = {
    "name": "char",
    "product_id": "many2one",
    "product_qty": "float",
    "product_uom_id": "many2one",
    "qty_producing": "float",
    "qty_produced": "float",
    "date_deadline": "datetime",
    "priority": "selection",
    "origin": "char",
    "state": "selection",
    "workorder_ids": "one2many",
    "move_raw_ids": "one2many",
    "company_id": "many2one",
    "is_planned": "boolean",
    "reservation_state": "selection",
}
_WORKORDER = {
    "name": "char",
    "production_id": "many2one",
    "workcenter_id": "many2one",
    "duration_expected": "float",
    "qty_production": "float",
    "qty_producing": "float",
    "qty_produced": "float",
    "qty_remaining": "float",
    "state": "selection",
    "company_id": "many2one",
}
_WORKCENTER = {
    "name": "char",
    "code": "char",
    "active": "boolean",
    "default_capacity": "float",
    "time_efficiency": "float",
    "costs_hour": "float",
    "time_start": "float",
    "time_stop": "float",
    "resource_calendar_id": "many2one",
    "resource_id": "many2one",
    "company_id": "many2one",
}
_MOVE = {
    "raw_material_production_id": "many2one",
    "product_id": "many2one",
    "product_uom_qty": "float",
    "quantity": "float",
    "state": "selection",
}
_PRODUCT = {"default_code": "char", "name": "char", "uom_id": "many2one", "active": "boolean"}
_IMMEDIATE = {"mo_ids": "many2many", "immediate_production_line_ids": "one2many"}


def model_fields(version: int) -> dict[str, dict[str, str]]:
    """Every field of every model the fake serves, for one version."""
    production = {**_COMMON, **_PRODUCTION}
    workorder = {**_COMMON, **_WORKORDER}
    if version == 16:
        production |= {
            "date_planned_start": "datetime",
            "date_planned_finished": "datetime",
            "date_start": "datetime",
            "date_finished": "datetime",
            "lot_producing_id": "many2one",
        }
        workorder |= {
            "date_planned_start": "datetime",
            "date_planned_finished": "datetime",
            "date_start": "datetime",
            "date_finished": "datetime",
        }
    else:
        production |= {
            "date_start": "datetime",
            "date_finished": "datetime",
            "workcenter_id": "many2one",
        }
        production |= (
            {"lot_producing_id": "many2one"} if version < 19 else {"lot_producing_ids": "many2many"}
        )
        workorder |= {"date_start": "datetime", "date_finished": "datetime"}
    models = {
        "mrp.production": production,
        "mrp.workorder": workorder,
        "mrp.workcenter": {**_COMMON, **_WORKCENTER},
        "stock.move": {**_COMMON, **_MOVE},
        "product.product": {**_COMMON, **_PRODUCT},
    }
    if version == 16:
        models["mrp.immediate.production"] = {**_COMMON, **_IMMEDIATE}
    return models


# (is a record method, named parameters)
_MODEL_METHODS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "search_read": (False, ("domain", "fields", "offset", "limit", "order")),
    "search": (False, ("domain", "offset", "limit", "order")),
    "search_count": (False, ("domain", "limit")),
    "read": (True, ("fields", "load")),
    "write": (True, ("vals",)),
    "create": (False, ("vals_list",)),
    "fields_get": (False, ("allfields", "attributes")),
}
_BUTTONS: dict[str, dict[str, tuple[str, ...]]] = {
    "mrp.production": {
        "action_confirm": (),
        "button_mark_done": (),
        "action_cancel": (),
        "button_plan": (),
        "button_unplan": (),
        "message_post": ("body", "subject", "message_type", "subtype_xmlid"),
    },
    "mrp.workorder": {
        "button_start": (),
        "button_pending": (),
        "button_finish": (),
        "button_done": (),
        "button_unblock": (),
        "action_cancel": (),
    },
    "mrp.immediate.production": {"process": ()},
}
_WRITES = {"write", "create"} | {b for model in _BUTTONS.values() for b in model}
_DESCRIPTIONS = {
    "mrp.production": "Production Order",
    "mrp.workorder": "Work Order",
    "mrp.workcenter": "Work Center",
    "stock.move": "Stock Move",
    "product.product": "Product",
    "mrp.immediate.production": "Immediate Production",
}


class OdooError(Exception):
    def __init__(self, name: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.name, self.message, self.code = name, message, code


@dataclass
class OdooUser:
    login: str
    password: str
    uid: int
    api_keys: set[str] = field(default_factory=set)
    read_only: bool = False
    mrp_access: bool = True

    def accepts(self, secret: str) -> bool:
        return secret == self.password or secret in self.api_keys


@dataclass
class Call:
    transport: str  # "jsonrpc" or "json2"
    model: str
    method: str
    ids: list[int] | None
    params: dict[str, Any]  # the named arguments as bound
    context: dict[str, Any]
    uid: int


@dataclass
class Injected:
    name: str
    message: str
    code: int | None
    match: Callable[[str], bool]
    times: int


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class FakeOdoo(FakeServer):
    def __init__(
        self,
        version: int = 17,
        *,
        database: str = "plant",
        saas: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.version, self.database, self.saas = version, database, saas
        self.fields = model_fields(version)
        self.users = {"integration": OdooUser("integration", "Odoo-pa55word!", 2)}
        self.now = datetime(2026, 5, 30, 10, 0, tzinfo=UTC)
        self.error_code = 200  # recent development versions send 0
        self.jsonrpc_enabled = True
        self.json2_enabled = version >= 19
        self.ignore_skip_flags = False
        self.tables: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in self.fields}
        self.calls: list[Call] = []
        self.writes: list[tuple[str, list[int], dict[str, Any], dict[str, Any]]] = []
        self.unplanned: list[int] = []  # MOs un-planned by a start-date write without force_date
        self.injected: list[Injected] = []
        self._next_id = 1
        self._indexes: dict[tuple[str, str], dict[int, list[int]]] = {}
        self.uom = [1, "Units"]
        super().__init__(tls=tls)

    # ------------------------------------------------------------------------ set-up api

    @property
    def user(self) -> OdooUser:
        return self.users["integration"]

    def add_api_key(self, login: str = "integration", key: str | None = None) -> str:
        key = key or f"odoo-key-{len(self.users[login].api_keys) + 1}-{self.port}"
        self.users[login].api_keys.add(key)
        return key

    def drop_field(self, model: str, name: str) -> None:
        del self.fields[model][name]

    def inject(
        self,
        name: str,
        message: str = "",
        *,
        code: int | None = None,
        call: str | Callable[[str], bool] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls whose label matches fail with this Odoo exception."""
        match = call if callable(call) else (lambda label: call is None or label == call)
        self.injected.append(Injected(name, message, code, match, times))

    def tick(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)

    def _new(self, model: str, values: dict[str, Any]) -> dict[str, Any]:
        record_id = self._next_id
        self._next_id += 1
        known = self.fields[model]
        record = dict.fromkeys(known, False)
        record.update({k: v for k, v in values.items() if k in known})
        record["id"] = record_id
        record["write_date"] = _ts(self.now)
        self.tables[model][record_id] = record
        for (indexed_model, name), index in self._indexes.items():
            value = record.get(name) if indexed_model == model else None
            if isinstance(value, list) and value:
                index.setdefault(value[0], []).append(record_id)  # ids grow: stays sorted
        return record

    def add_product(self, name: str, code: str | None = None) -> int:
        return int(
            self._new(
                "product.product",
                {"name": name, "default_code": code or False, "uom_id": self.uom, "active": True},
            )["id"]
        )

    def add_workcenter(
        self,
        name: str,
        *,
        code: str | None = None,
        active: bool = True,
        capacity: float = 1.0,
        efficiency: float = 100.0,
        blocked: bool = False,
    ) -> int:
        record = self._new(
            "mrp.workcenter",
            {
                "name": name,
                "code": code or False,
                "active": active,
                "default_capacity": capacity,
                "time_efficiency": efficiency,
                "costs_hour": 0.0,
                "time_start": 0.0,
                "time_stop": 0.0,
            },
        )
        record["_blocked"] = blocked
        return int(record["id"])

    def add_production(
        self,
        product: int,
        quantity: float,
        *,
        state: str = "confirmed",
        name: str | None = None,
        steps: list[tuple[int, str, float]] | None = None,
        components: list[tuple[int, float]] | None = None,
        start: str = "2026-06-01 06:00:00",
        end: str | None = "2026-06-01 14:00:00",
        deadline: str | None = None,
        priority: str = "0",
        origin: str | None = None,
        lot: str | None = None,
        consumption: str = "flexible",
        backorder: str = "ask",
        planned: bool = True,
    ) -> int:
        """An MO with its work orders (work centre, name, expected minutes) and raw-material
        moves. Planned dates go to the profile's fields (16: date_planned_*, 17+: date_*)."""
        product_row = self.tables["product.product"][product]
        values: dict[str, Any] = {
            "name": name or f"WH/MO/{self._next_id:05d}",
            "product_id": [product, product_row["name"]],
            "product_qty": float(quantity),
            "product_uom_id": self.uom,
            "qty_producing": 0.0,
            "qty_produced": 0.0,
            "date_deadline": deadline or False,
            "priority": priority,
            "origin": origin or False,
            "state": state,
            "company_id": [1, "Plant"],
            "is_planned": planned,
            "reservation_state": "assigned",
        }
        start_field, end_field = self._planned_fields()
        values[start_field], values[end_field] = start, end or False
        if lot is not None and "lot_producing_id" in self.fields["mrp.production"]:
            values["lot_producing_id"] = [9000 + self._next_id, lot]
        mo = self._new("mrp.production", values)
        mo.update(
            {"_consumed": False, "_rule": consumption, "_backorder": backorder, "_messages": []}
        )
        moment = datetime.fromisoformat(start).replace(tzinfo=UTC)
        for index, (centre, step, minutes) in enumerate(steps or []):
            wc = self.tables["mrp.workcenter"][centre]
            first = "ready" if index == 0 else ("blocked" if self.version >= 19 else "pending")
            wo = self._new(
                "mrp.workorder",
                {
                    "name": step,
                    "production_id": [mo["id"], mo["name"]],
                    "workcenter_id": [centre, wc["name"]],
                    "duration_expected": float(minutes),
                    "qty_production": float(quantity),
                    "qty_producing": 0.0,
                    "qty_produced": 0.0,
                    "qty_remaining": float(quantity),
                    "state": "cancel" if state == "cancel" else first,
                    "company_id": [1, "Plant"],
                },
            )
            wo_start, wo_end = self._planned_fields()
            wo[wo_start] = _ts(moment)
            moment += timedelta(minutes=minutes)
            wo[wo_end] = _ts(moment)
            wo["_timers"] = 0
        for component, qty in components or []:
            comp = self.tables["product.product"][component]
            self._new(
                "stock.move",
                {
                    "raw_material_production_id": [mo["id"], mo["name"]],
                    "product_id": [component, comp["name"]],
                    "product_uom_qty": float(qty),
                    "quantity": 0.0,
                    "state": "confirmed",
                },
            )
        self._refresh_links(mo)
        return int(mo["id"])

    def _planned_fields(self) -> tuple[str, str]:
        if self.version == 16:
            return "date_planned_start", "date_planned_finished"
        return "date_start", "date_finished"

    def _refresh_links(self, mo: dict[str, Any]) -> None:
        mo["workorder_ids"] = [w["id"] for w in self._workorders(mo["id"])]
        mo["move_raw_ids"] = [m["id"] for m in self._moves(mo["id"])]

    def _workorders(self, mo_id: int) -> list[dict[str, Any]]:
        return [
            self.tables["mrp.workorder"][i]
            for i in self._index("mrp.workorder", "production_id").get(mo_id, [])
        ]

    def _moves(self, mo_id: int) -> list[dict[str, Any]]:
        return [
            self.tables["stock.move"][i]
            for i in self._index("stock.move", "raw_material_production_id").get(mo_id, [])
        ]

    def _index(self, model: str, field_name: str) -> dict[int, list[int]]:
        key = (model, field_name)
        if key not in self._indexes:
            index: dict[int, list[int]] = {}
            for record in self.tables[model].values():
                value = record.get(field_name)
                if isinstance(value, list) and value:
                    index.setdefault(value[0], []).append(record["id"])
            self._indexes[key] = index
        return self._indexes[key]

    # --------------------------------------------------------------------------- routing

    def label(self, request: Recorded) -> str:
        if request.path == "/jsonrpc" and isinstance(request.json, dict):
            params = request.json.get("params") or {}
            args = params.get("args") or []
            if params.get("service") == "object" and len(args) >= 5:
                return f"{args[3]}.{args[4]}"
            return f"{params.get('service')}.{params.get('method')}"
        match = re.fullmatch(r"/json/2/([^/]+)/([^/]+)", request.path)
        if match:
            return f"{match[1]}.{match[2]}"
        return f"{request.method} {request.path}"

    def handle(self, request: Recorded) -> Reply:
        if request.path == "/jsonrpc" and self.jsonrpc_enabled and request.method == "POST":
            return self._jsonrpc(request)
        if request.path.startswith("/json/2/") and self.json2_enabled and request.method == "POST":
            return self._json2(request)
        return text_reply(
            "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
            "<p>The requested URL was not found on the server.</p></body></html>",
            404,
            "text/html; charset=utf-8",
        )

    # ------------------------------------------------------------------------ JSON-RPC

    def _jsonrpc(self, request: Recorded) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            return self._envelope_error(
                None, OdooError("werkzeug.exceptions.BadRequest", "Invalid JSON data")
            )
        rid = body.get("id")
        params = body.get("params")
        if (
            body.get("jsonrpc") != "2.0"
            or body.get("method") != "call"
            or not isinstance(params, dict)
            or not isinstance(params.get("args"), list)
            or "service" not in params
            or "method" not in params
        ):
            return self._envelope_error(
                rid, OdooError("werkzeug.exceptions.BadRequest", "Invalid JSON-RPC request")
            )
        try:
            self._injected(request.label)
            result = self._service(params["service"], params["method"], params["args"])
        except OdooError as exc:
            return self._envelope_error(rid, exc, debug_args=params["args"])
        return json_reply({"jsonrpc": "2.0", "id": rid, "result": result})

    def _envelope_error(self, rid: Any, exc: OdooError, debug_args: Any = None) -> Reply:
        # A traceback echoes the call's arguments, password included, as real ones can.
        debug = (
            'Traceback (most recent call last):\n  File "odoo/service/model.py", line 61, '
            f"in execute_kw{tuple(debug_args or ())!r}\n{exc.name}: {exc.message}"
        )
        code = exc.code if exc.code is not None else self.error_code
        error = {
            "code": code,
            "message": "Odoo Session Expired" if code == 100 else "Odoo Server Error",
            "data": {
                "name": exc.name,
                "message": exc.message,
                "debug": debug,
                "arguments": [exc.message],
                "context": {},
            },
        }
        return json_reply({"jsonrpc": "2.0", "id": rid, "error": error})

    def _service(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common":
            if method == "version":
                return self._version()
            if method in ("login", "authenticate"):
                if len(args) < 3:
                    raise OdooError("builtins.TypeError", f"{method}() missing arguments")
                db, login, secret = args[0], args[1], args[2]
                self._check_db(db)
                user = self.users.get(login)
                return user.uid if user is not None and user.accepts(secret) else False
            if method == "about":
                return "See http://openerp.com"
            raise OdooError(
                "builtins.AttributeError", f"module 'common' has no attribute '{method}'"
            )
        if service == "object" and method in ("execute_kw", "execute"):
            if len(args) < 5:
                raise OdooError("builtins.TypeError", "execute_kw() missing arguments")
            db, uid, secret, model, name = args[:5]
            positional = args[5] if len(args) > 5 else []
            named = args[6] if len(args) > 6 else {}
            self._check_db(db)
            user = next((u for u in self.users.values() if u.uid == uid), None)
            if user is None or not user.accepts(secret):
                raise OdooError(ACCESS_DENIED, "Access Denied")
            ids, params, context = self._bind_positional(model, name, positional, named)
            return self._dispatch("jsonrpc", user, model, name, ids, params, context)
        raise OdooError(ACCESS_DENIED, "Access Denied")

    def _version(self) -> dict[str, Any]:
        if self.saas:
            return {
                "server_version": f"saas~{self.version}.2+e",
                "server_version_info": [f"saas~{self.version}", 2, 0, "final", 0, "e"],
                "server_serie": f"saas~{self.version}.2",
                "protocol_version": 1,
            }
        return {
            "server_version": f"{self.version}.0+e",
            "server_version_info": [self.version, 0, 0, "final", 0, "e"],
            "server_serie": f"{self.version}.0",
            "protocol_version": 1,
        }

    def _check_db(self, db: Any) -> None:
        if db != self.database:
            raise OdooError(
                "psycopg2.OperationalError",
                f'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{db}" does not exist',
            )

    def _injected(self, label: str) -> None:
        for item in self.injected:
            if item.times > 0 and item.match(label):
                item.times -= 1
                raise OdooError(item.name, item.message, item.code)

    # --------------------------------------------------------------------------- JSON-2

    def _json2(self, request: Recorded) -> Reply:
        match = re.fullmatch(r"/json/2/([^/]+)/([^/]+)", request.path)
        if match is None:
            return json_reply({"name": "werkzeug.exceptions.NotFound", "message": "Not Found"}, 404)
        model, method = match[1], match[2]
        scheme, _, key = request.authorization.partition(" ")
        user = next((u for u in self.users.values() if key in u.api_keys), None)
        if scheme.lower() != "bearer" or user is None:
            return json_reply("Invalid apikey", 401)
        if request.headers.get("x-odoo-database") != self.database:
            return json_reply(
                {"name": "werkzeug.exceptions.NotFound", "message": "database not found"}, 404
            )
        if not isinstance(request.json, dict):
            return json_reply(
                {
                    "name": "werkzeug.exceptions.BadRequest",
                    "message": "the body must be a JSON object",
                },
                400,
            )
        body = dict(request.json)
        try:
            self._injected(request.label)
            ids, params, context = self._bind_named(model, method, body)
            result = self._dispatch("json2", user, model, method, ids, params, context)
        except OdooError as exc:
            status = {
                ACCESS_DENIED: 401,
                ACCESS_ERROR: 403,
                MISSING: 404,
                USER_ERROR: 422,
                "odoo.exceptions.ValidationError": 422,
            }.get(exc.name, 400 if exc.name.startswith("builtins.") else 500)
            return json_reply(
                {
                    "name": exc.name,
                    "message": exc.message,
                    "arguments": [exc.message],
                    "context": {},
                    "debug": "",
                },
                status,
            )
        return json_reply(result)

    # ------------------------------------------------------------------------- binding

    def _signature(self, model: str, method: str) -> tuple[bool, tuple[str, ...]]:
        if method.startswith("_"):
            raise OdooError(
                ACCESS_ERROR,
                f"Private methods (such as {model}.{method}) cannot be called remotely.",
            )
        if model not in self.fields:
            raise OdooError("builtins.KeyError", repr(model))
        if method in _MODEL_METHODS:
            return _MODEL_METHODS[method]
        buttons = _BUTTONS.get(model, {})
        if method in buttons:
            return True, buttons[method]
        raise OdooError(
            "builtins.AttributeError", f"type object '{model}' has no attribute '{method}'"
        )

    def _bind_positional(
        self, model: str, method: str, positional: Any, named: Any
    ) -> tuple[list[int] | None, dict[str, Any], dict[str, Any]]:
        record, params = self._signature(model, method)
        if not isinstance(positional, list) or not isinstance(named, dict):
            raise OdooError("builtins.TypeError", "execute_kw expects a list of args and a dict")
        args = list(positional)
        ids = None
        if record:
            if not args:
                raise OdooError(
                    "builtins.TypeError",
                    f"{method}() missing 1 required positional argument: 'self'",
                )
            ids = _ids(args.pop(0))
        if len(args) > len(params):
            raise OdooError(
                "builtins.TypeError",
                f"{method}() takes {len(params) + 1} positional arguments but {len(args) + 1} were given",
            )
        bound = dict(zip(params, args, strict=False))
        context: dict[str, Any] = {}
        for key, value in named.items():
            if key == "context":
                context = value or {}
            elif key in params:
                if key in bound:
                    raise OdooError(
                        "builtins.TypeError", f"{method}() got multiple values for argument '{key}'"
                    )
                bound[key] = value
            else:
                raise OdooError(
                    "builtins.TypeError", f"{method}() got an unexpected keyword argument '{key}'"
                )
        return ids, bound, context

    def _bind_named(
        self, model: str, method: str, body: dict[str, Any]
    ) -> tuple[list[int] | None, dict[str, Any], dict[str, Any]]:
        record, params = self._signature(model, method)
        ids = _ids(body.pop("ids")) if record and "ids" in body else ([] if record else None)
        context = body.pop("context", None) or {}
        for key in body:
            if key not in params:
                raise OdooError(
                    "builtins.TypeError", f"{method}() got an unexpected keyword argument '{key}'"
                )
        return ids, body, context

    # ------------------------------------------------------------------------ dispatch

    def _dispatch(
        self,
        transport: str,
        user: OdooUser,
        model: str,
        method: str,
        ids: list[int] | None,
        params: dict[str, Any],
        context: dict[str, Any],
    ) -> Any:
        self.calls.append(
            Call(transport, model, method, ids, dict(params), dict(context), user.uid)
        )
        description = _DESCRIPTIONS.get(model, model)
        if model.startswith("mrp.") and not user.mrp_access:
            raise OdooError(
                ACCESS_ERROR,
                f"You are not allowed to access '{description}' ({model}) records.\n\n"
                "This operation is allowed for the following groups:\n\t- Manufacturing/User",
            )
        if method in _WRITES and user.read_only:
            raise OdooError(
                ACCESS_ERROR, f"You are not allowed to modify '{description}' ({model}) records."
            )
        handler = getattr(self, f"_m_{method}", None) or getattr(
            self, f"_b_{model.replace('.', '_')}_{method}"
        )
        return handler(model, ids, context=context, **params)

    def _records(self, model: str, ids: list[int]) -> list[dict[str, Any]]:
        table = self.tables[model]
        missing = [i for i in ids if i not in table]
        if missing:
            raise OdooError(
                MISSING,
                "Record does not exist or has been deleted.\n"
                f"(Record: {model}({', '.join(map(str, missing))},), User: {self.user.uid})",
            )
        return [table[i] for i in ids]

    def _check_fields(self, model: str, names: Any) -> list[str]:
        known = self.fields[model]
        wanted = list(names or [n for n in known if n != "id"])
        for name in wanted:
            if name not in known:
                raise OdooError(INVALID_FIELD, f"Invalid field '{name}' on model '{model}'")
        return wanted

    def _shape(self, model: str, record: dict[str, Any], names: list[str]) -> dict[str, Any]:
        return {"id": record["id"], **{n: record.get(n, False) for n in names if n != "id"}}

    # ----------------------------------------------------------------- model methods

    def _m_search_read(
        self, model, ids, *, context, domain=None, fields=None, offset=0, limit=None, order=None
    ):  # type: ignore[no-untyped-def]
        names = self._check_fields(model, fields)
        found = self._search(model, domain or [], offset, limit, order)
        return [self._shape(model, r, names) for r in found]

    def _m_search(self, model, ids, *, context, domain=None, offset=0, limit=None, order=None):  # type: ignore[no-untyped-def]
        return [r["id"] for r in self._search(model, domain or [], offset, limit, order)]

    def _m_search_count(self, model, ids, *, context, domain=None, limit=None):  # type: ignore[no-untyped-def]
        return len(self._search(model, domain or [], 0, limit, None))

    def _m_read(self, model, ids, *, context, fields=None, load="_classic_read"):  # type: ignore[no-untyped-def]
        names = self._check_fields(model, fields)
        return [self._shape(model, r, names) for r in self._records(model, ids or [])]

    def _m_fields_get(self, model, ids, *, context, allfields=None, attributes=None):  # type: ignore[no-untyped-def]
        described = {
            name: {"type": kind, "string": name.replace("_", " ").title()}
            for name, kind in self.fields[model].items()
        }
        if allfields:
            described = {k: v for k, v in described.items() if k in allfields}
        if attributes:
            described = {k: {a: v[a] for a in attributes if a in v} for k, v in described.items()}
        return described

    def _m_write(self, model, ids, *, context, vals=None):  # type: ignore[no-untyped-def]
        values = dict(vals or {})
        self._check_fields(model, list(values))
        records = self._records(model, ids or [])
        self.writes.append((model, list(ids or []), values, dict(context)))
        self._indexes = {
            k: v for k, v in self._indexes.items() if not (k[0] == model and k[1] in values)
        }
        if model == "mrp.production":
            for mo in records:
                self._write_production(mo, values, context)
        else:
            for record in records:
                record.update(values)
                record["write_date"] = _ts(self.now)
        return True

    def _m_create(self, model, ids, *, context, vals_list=None):  # type: ignore[no-untyped-def]
        single = isinstance(vals_list, dict)
        items = [vals_list] if single else list(vals_list or [])
        created = []
        for values in items:
            self._check_fields(model, list(values))
            self.writes.append((model, [], dict(values), dict(context)))
            created.append(self._new(model, self._commands(values))["id"])
        return created[0] if single else created

    @staticmethod
    def _commands(values: dict[str, Any]) -> dict[str, Any]:
        """x2many command lists ([6, 0, ids], [0, 0, vals]) kept as plain lists of ids / values."""
        out = dict(values)
        for key, value in values.items():
            if isinstance(value, list) and value and isinstance(value[0], list):
                flat: list[Any] = []
                for command in value:
                    if command[0] == 6:
                        flat.extend(command[2])
                    elif command[0] == 0:
                        flat.append(command[2])
                out[key] = flat
        return out

    # ----------------------------------------------------------------------- searching

    def _search(
        self, model: str, domain: list[Any], offset: int, limit: int | None, order: str | None
    ) -> list[dict[str, Any]]:
        if not isinstance(domain, list):
            raise OdooError("builtins.ValueError", f"Invalid domain {domain!r}")
        fields_known = self.fields[model]
        terms = [t for t in domain if isinstance(t, list)]
        for term in terms:
            if len(term) != 3 or term[0] not in fields_known:
                raise OdooError(INVALID_FIELD, f"Invalid field {term[0]!r} in leaf {term!r}")
        if "active" in fields_known and not any(t[0] == "active" for t in terms):
            domain = ["&", ["active", "=", True], *domain] if domain else [["active", "=", True]]
        predicate = _compile(domain)
        found = [r for r in self._candidates(model, domain) if predicate(r)]
        if order and order.strip().lower() == "id desc":
            found.reverse()
        elif order and order.strip().lower() not in ("id asc", "id"):
            raise OdooError("builtins.ValueError", f"Invalid order {order!r} (the fake knows id)")
        end = None if not limit else offset + limit
        return found[offset:end]

    def _candidates(self, model: str, domain: list[Any]) -> list[dict[str, Any]]:
        """Records that may match, in id order: an `in`/`=` term on an indexed field of a plain
        AND domain narrows them through the index (fast enough for the benchmark's 50,000 work
        orders)."""
        table = self.tables[model]
        if all(isinstance(t, list) for t in domain):
            for name, op, value in domain:
                if name in ("production_id", "raw_material_production_id") and op in ("in", "="):
                    index = self._index(model, name)
                    keys = value if op == "in" else [value]
                    return [table[i] for i in sorted({i for k in keys for i in index.get(k, [])})]
                if name == "id" and op in ("in", "="):
                    keys = value if op == "in" else [value]
                    return [table[i] for i in sorted(set(keys)) if i in table]
        return list(table.values())

    # ------------------------------------------------------------- manufacturing orders

    def _write_production(
        self, mo: dict[str, Any], values: dict[str, Any], context: dict[str, Any]
    ) -> None:
        dates = {k for k in values if k.startswith("date_")}
        if dates and mo["state"] in ("done", "cancel"):
            raise OdooError(
                USER_ERROR, "You cannot move a manufacturing order once it is cancelled or done."
            )
        start_field = self._planned_fields()[0]
        if start_field in values and mo.get("is_planned") and not context.get("force_date"):
            mo["is_planned"] = False
            self.unplanned.append(mo["id"])
            for wo in self._workorders(mo["id"]):
                for name in self._planned_fields():
                    wo[name] = False
        mo.update(values)
        mo["write_date"] = _ts(self.now)
        self._recompute(mo)

    def _recompute(self, mo: dict[str, Any]) -> None:
        if mo["state"] in ("draft", "cancel", "done"):
            return
        wos = self._workorders(mo["id"])
        remaining = mo["product_qty"] - mo["qty_produced"]
        if (
            wos
            and all(w["state"] in ("done", "cancel") for w in wos)
            and any(w["state"] == "done" for w in wos)
        ) or (not wos and mo["qty_producing"] > 0 and mo["qty_producing"] >= remaining):
            state = "to_close"
        elif (
            any(w["state"] in ("progress", "done") for w in wos)
            or mo["qty_producing"] > 0
            or mo["_consumed"]
        ):
            state = "progress"
        else:
            state = "confirmed"
        if state != mo["state"]:
            mo["state"] = state
            mo["write_date"] = _ts(self.now)

    def _mo(self, ids: list[int] | None) -> dict[str, Any]:
        records = self._records("mrp.production", ids or [])
        if len(records) != 1:
            raise OdooError(
                "builtins.ValueError", f"Expected singleton: mrp.production{tuple(ids or [])}"
            )
        return records[0]

    def _b_mrp_production_action_confirm(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        for mo in self._records(model, ids or []):
            if mo["state"] == "draft":
                mo["state"] = "confirmed"
                mo["write_date"] = _ts(self.now)
        return True

    def _b_mrp_production_action_cancel(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        for mo in self._records(model, ids or []):
            mo["state"] = "cancel"
            for wo in self._workorders(mo["id"]):
                wo["state"] = "cancel"
        return True

    def _b_mrp_production_button_plan(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        for mo in self._records(model, ids or []):
            mo["is_planned"] = True
        return True

    def _b_mrp_production_button_unplan(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        for mo in self._records(model, ids or []):
            mo["is_planned"] = False
        return True

    def _b_mrp_production_message_post(
        self,
        model,
        ids,
        *,
        context,
        body="",
        subject=None,
        message_type="notification",
        subtype_xmlid=None,
    ):  # type: ignore[no-untyped-def]
        mo = self._mo(ids)
        mo["_messages"].append(body)
        return 1000 + len(mo["_messages"])

    def _b_mrp_production_button_mark_done(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        return self._mark_done(self._mo(ids), context)

    def _action(
        self, res_model: str, mo: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": "ir.actions.act_window",
            "res_model": res_model,
            "view_mode": "form",
            "target": "new",
            "context": {**context, "default_mo_ids": [[4, mo["id"]]]},
        }

    def _mark_done(self, mo: dict[str, Any], context: dict[str, Any]) -> Any:
        if mo["state"] in ("done", "cancel"):
            raise OdooError(
                USER_ERROR, f"The manufacturing order {mo['name']} is already done or cancelled."
            )
        flags = {} if self.ignore_skip_flags else context
        remaining = mo["product_qty"] - mo["qty_produced"]
        components = bool(self._moves(mo["id"]))
        if self.version == 16:
            if not flags.get("skip_immediate") and mo["qty_producing"] == 0 and not mo["_consumed"]:
                return self._action("mrp.immediate.production", mo, context)
            if mo["qty_producing"] <= 0:
                raise OdooError(USER_ERROR, "The quantity to produce must be positive!")
            if components and not mo["_consumed"]:
                raise OdooError(
                    USER_ERROR,
                    "You must indicate a non-zero amount consumed for at least one of your components",
                )
        elif mo["qty_producing"] == 0:
            mo["qty_producing"] = remaining
            mo["_consumed"] = True
        if (
            mo["_rule"] in ("warning", "strict")
            and components
            and not mo["_consumed"]
            and not flags.get("skip_consumption")
        ):
            return self._action("mrp.consumption.warning", mo, context)
        backorder = False
        if mo["qty_producing"] < remaining:
            policy = "ask" if self.version == 16 else mo["_backorder"]
            if policy == "ask":
                if not flags.get("skip_backorder"):
                    return self._action("mrp.production.backorder", mo, context)
                backorder = mo["id"] in (flags.get("mo_ids_to_backorder") or [])
            else:
                backorder = policy == "always"
        self._done(mo, backorder)
        if self.version >= 17 and not flags.get("skip_redirection"):
            return {
                "type": "ir.actions.act_window",
                "res_model": "mrp.production",
                "res_id": mo["id"],
                "view_mode": "form",
                "target": "main",
            }
        return True

    def _done(self, mo: dict[str, Any], backorder: bool) -> None:
        for wo in self._workorders(mo["id"]):
            if wo["state"] not in ("done", "cancel"):
                self._finish(wo)
        produced = mo["qty_producing"]
        remainder = mo["product_qty"] - mo["qty_produced"] - produced
        mo["qty_produced"] += produced
        mo["product_qty"] = mo["qty_produced"]
        end_field = "date_finished"
        mo[end_field] = _ts(self.now)
        mo["state"] = "done"
        mo["_consumed"] = True
        mo["write_date"] = _ts(self.now)
        for move in self._moves(mo["id"]):
            move["state"], move["quantity"] = "done", move["product_uom_qty"]
        if backorder and remainder > 0:
            product = mo["product_id"]
            copy = self.add_production(product[0], remainder, name=f"{mo['name']}-002")
            self.tables["mrp.production"][copy]["origin"] = mo["name"]

    # ---------------------------------------------------------------------- work orders

    def _wo(self, ids: list[int] | None) -> dict[str, Any]:
        records = self._records("mrp.workorder", ids or [])
        if len(records) != 1:
            raise OdooError(
                "builtins.ValueError", f"Expected singleton: mrp.workorder{tuple(ids or [])}"
            )
        return records[0]

    def _b_mrp_workorder_button_start(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        wo = self._wo(ids)
        if wo["state"] in ("done", "cancel"):
            raise OdooError(
                USER_ERROR, "You cannot start a work order that is already done or cancelled"
            )
        centre = self.tables["mrp.workcenter"][wo["workcenter_id"][0]]
        if centre.get("_blocked"):
            raise OdooError(USER_ERROR, f"The work center {centre['name']} is blocked.")
        mo = self.tables["mrp.production"][wo["production_id"][0]]
        if mo["qty_producing"] == 0:  # _set_qty_producing: also consumes components
            mo["qty_producing"] = mo["product_qty"] - mo["qty_produced"]
            mo["_consumed"] = True
        wo["qty_producing"] = mo["qty_producing"]
        wo["_timers"] += 1
        if wo["state"] != "progress":
            wo["date_start"] = _ts(self.now)
        wo["state"] = "progress"
        wo["write_date"] = _ts(self.now)
        if self.version >= 17 and mo["state"] != "progress":
            mo["date_start"] = _ts(self.now)
        self._recompute(mo)
        return True

    def _b_mrp_workorder_button_pending(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        wo = self._wo(ids)
        wo["_timers"] = max(0, wo["_timers"] - 1)
        wo["write_date"] = _ts(self.now)
        return True

    def _b_mrp_workorder_button_finish(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        wo = self._wo(ids)
        if wo["state"] in ("done", "cancel"):
            raise OdooError(USER_ERROR, "This work order is already done or cancelled.")
        self._finish(wo)
        self._recompute(self.tables["mrp.production"][wo["production_id"][0]])
        return True

    _b_mrp_workorder_button_done = _b_mrp_workorder_button_finish

    def _b_mrp_workorder_button_unblock(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        return True

    def _b_mrp_workorder_action_cancel(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        wo = self._wo(ids)
        wo["state"] = "cancel"
        self._recompute(self.tables["mrp.production"][wo["production_id"][0]])
        return True

    def _finish(self, wo: dict[str, Any]) -> None:
        wo["_timers"] = 0
        wo["qty_produced"] = wo["qty_produced"] or wo["qty_producing"] or wo["qty_production"]
        wo["state"] = "done"
        wo["date_finished"] = _ts(self.now)
        wo["write_date"] = _ts(self.now)

    # ---------------------------------------------------------------- immediate (16)

    def _b_mrp_immediate_production_process(self, model, ids, *, context):  # type: ignore[no-untyped-def]
        wizard = self._records(model, ids or [])[0]
        result: Any = True
        for mo_id in wizard["mo_ids"]:
            mo = self.tables["mrp.production"][mo_id]
            if mo["qty_producing"] == 0:
                mo["qty_producing"] = mo["product_qty"] - mo["qty_produced"]
            mo["_consumed"] = True
            result = self._mark_done(mo, {**context, "skip_immediate": True})
        return result


def _ids(value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        return list(value)
    raise OdooError("builtins.TypeError", f"ids must be a list of integers, not {value!r}")


# ---------------------------------------------------------------------------------- domains


def _value(record: dict[str, Any], name: str) -> Any:
    value = record.get(name, False)
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return value[0]  # a many2one compares by id
    return value


def _leaf(name: str, op: str, target: Any) -> Callable[[dict[str, Any]], bool]:
    def test(record: dict[str, Any]) -> bool:
        value = _value(record, name)
        if op == "=":
            return bool(value == target)
        if op == "!=":
            return bool(value != target)
        if op == "in":
            return value in target
        if op == "not in":
            return value not in target
        if op == "ilike":
            return isinstance(value, str) and str(target).lower() in value.lower()
        if value is False or value is None:
            return False
        return bool(
            {
                "<": value < target,
                "<=": value <= target,
                ">": value > target,
                ">=": value >= target,
            }[op]
        )

    if op not in ("=", "!=", "in", "not in", "ilike", "<", "<=", ">", ">="):
        raise OdooError("builtins.ValueError", f"Invalid operator {op!r}")
    if op in ("in", "not in"):
        target = set(target) if all(isinstance(t, int | str) for t in target) else list(target)
    return test


def _compile(domain: list[Any]) -> Callable[[dict[str, Any]], bool]:
    """A domain in Polish notation: prefix `&`, `|`, `!`, implicit AND between the rest."""
    stack: list[Callable[[dict[str, Any]], bool]] = []
    for item in reversed(domain):
        if item == "&" or item == "|":
            left, right = stack.pop(), stack.pop()
            stack.append(
                (lambda r, a=left, b=right: a(r) and b(r))
                if item == "&"
                else (lambda r, a=left, b=right: a(r) or b(r))
            )
        elif item == "!":
            inner = stack.pop()
            stack.append(lambda r, a=inner: not a(r))
        else:
            stack.append(_leaf(*item))
    checks = list(reversed(stack))
    return lambda r: all(check(r) for check in checks)


# ------------------------------------------------------------------------------------ seeding


def seed_productions(
    fake: FakeOdoo,
    orders: int,
    *,
    steps: int = 5,
    work_centres: int = 50,
    start: datetime = datetime(2026, 6, 1, 6, 0, tzinfo=UTC),
) -> list[int]:
    """Bulk data for service tests and the benchmark: work centres, a few products, and `orders`
    confirmed MOs with `steps` work orders and one component each. Returns the MO ids."""
    centres = [fake.add_workcenter(f"WC-{n:03d}", code=f"W{n:03d}") for n in range(work_centres)]
    products = [fake.add_product(f"Product {n}", f"ITEM-{n:03d}") for n in range(97)]
    raws = [fake.add_product(f"Raw {n}", f"RAW-{n:02d}") for n in range(13)]
    ids = []
    for n in range(orders):
        begin = start + timedelta(hours=n % 500)
        ids.append(
            fake.add_production(
                products[n % len(products)],
                10 + n % 7,
                name=f"WH/MO/{n:06d}",
                steps=[
                    (centres[(n + s) % work_centres], f"Step {s + 1}", 60.0) for s in range(steps)
                ],
                components=[(raws[n % len(raws)], 20.0)],
                start=_ts(begin),
                end=_ts(begin + timedelta(hours=steps)),
                origin=f"SO-{n}",
            )
        )
    return ids
