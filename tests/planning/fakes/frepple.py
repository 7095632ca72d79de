"""A fake FrePPLe server that speaks the REST API as the planning-adapters spec §8 writes it
(checklist §10.3). Standard library only.

Wire facts it reproduces: plain JSON arrays for lists (an optional `{count, next, previous,
results}` envelope, a looping one and one whose `next` leaves the host), decimal strings with 8
places, naive server-local datetimes, `format=json` ignored, unknown filters ignored,
`status=bogus` → 400 but `status__in=bogus` → `[]`, keys percent-encoded or raw in detail paths,
301 to the slashed path, `/api/` → 302 to the login page unless staff, scenarios as a URL prefix
(404 "Scenario not in use, or access is denied"), Basic / API-key / JWT auth with the exact 401,
403 and 302 answers, per-user permissions, session cookies on every authenticated answer and
"CSRF Failed" when one is sent back on a write, the pre-9.13 mode without the `workorder`
endpoint, PATCH validation and the server-side propagation of §8.7 (children follow the parent,
a proposed parent becomes approved, completion clamps future dates to now and removes resource
loads, a completed routing completes its MO), and the development line's 500 on every write.

Seed it through `fake.data` (`add_mo`, `add_wo`, `add_resource`, `add_operation`) with the
factories below, or `seed_orders` for bulk data; `fake.now` is the server's wall clock.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from tests.planning.fakes.harness import FakeServer, Recorded, Reply, json_reply, text_reply

STATUSES = ("proposed", "approved", "confirmed", "completed", "closed")
OPLAN_MODELS = ("manufacturingorder", "workorder")
LIST_MODELS = (*OPLAN_MODELS, "resource", "operation", "item", "location", "operationplanresource")
SCENARIO_DENIED = "Scenario not in use, or access is denied"
ROUTE = re.compile(r"^(?:/(?P<scenario>(?!api/)[^/]+))?/api/input/(?P<model>[a-z]+)/(?P<key>.+/)?$")
DATE_FILTERS = tuple(
    f"{f}__{op}"
    for f in ("startdate", "enddate", "lastmodified")
    for op in ("gte", "lte", "gt", "lt")
)


def dec(value: Any) -> str:
    """FrePPLe's wire form of a decimal: a string with 8 places."""
    return f"{Decimal(str(value)):.8f}"


def wall(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------------------------- factories


def oplan(
    reference: str,
    *,
    status: str | None = "approved",
    operation: str = "Assemble",
    quantity: Any = 10,
    quantity_completed: Any = None,
    start: str | None = "2026-06-01T07:30:00",
    end: str | None = "2026-06-01T15:00:00",
    owner: str | None = None,
    resources: list[str] | None = None,
    produces: tuple[str, Any] | None = None,
    consumes: list[tuple[str, Any]] | None = None,
    demand: str | None = None,
    batch: str | None = None,
    lastmodified: str = "2026-05-28T16:12:40",
    **extra: Any,
) -> dict[str, Any]:
    """A manufacturing order or work order with exactly the fields of §8.5 (no item, priority or
    resource keys)."""
    materials = []
    if produces is not None:
        materials.append({"item": produces[0], "quantity": dec(produces[1]), "flowdate": end})
    for item, qty in consumes or []:
        materials.append({"item": item, "quantity": dec(-Decimal(str(qty))), "flowdate": start})
    return {
        "reference": reference,
        "status": status,
        "operation": operation,
        "quantity": dec(quantity),
        "quantity_completed": None if quantity_completed is None else dec(quantity_completed),
        "startdate": start,
        "enddate": end,
        "batch": batch,
        "criticality": "0.00000000",
        "delay": "00:00:00",
        "plan": {},
        "owner": owner,
        "source": "ERP",
        "lastmodified": lastmodified,
        "demand": demand,
        "resources": [
            {"resource": r, "quantity": "1.00000000", "setup": None} for r in (resources or [])
        ],
        "materials": materials,
        **extra,
    }


def resource(
    name: str,
    *,
    category: str | None = None,
    subcategory: str | None = None,
    maximum: Any = 1,
    location: str | None = None,
    owner: str | None = None,
    description: str | None = None,
    lastmodified: str = "2026-05-01T09:00:00",
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "category": category,
        "subcategory": subcategory,
        "type": "default",
        "maximum": dec(maximum),
        "maximum_calendar": None,
        "location": location,
        "owner": owner,
        "cost": "0.00000000",
        "maxearly": "100 00:00:00",
        "setupmatrix": None,
        "setup": None,
        "efficiency": "100.00000000",
        "efficiency_calendar": None,
        "constrained": True,
        "available": None,
        "source": None,
        "lastmodified": lastmodified,
    }


def operation(
    name: str,
    *,
    type: str = "fixed_time",
    duration: str | None = "01:00:00",
    duration_per: str | None = None,
    item: str | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "type": type,
        "description": None,
        "item": item,
        "location": "Plant",
        "duration": duration,
        "duration_per": duration_per,
        "priority": 1,
        "owner": owner,
        "lastmodified": "2026-05-01T09:00:00",
    }


# --------------------------------------------------------------------------------- the data


@dataclass
class FreppleData:
    """One scenario's records, keyed by primary key, plus an owner index for fast filters."""

    mos: dict[str, dict[str, Any]] = field(default_factory=dict)
    wos: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    loads: list[dict[str, Any]] = field(default_factory=list)
    _children: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)

    def add_mo(self, record: dict[str, Any]) -> dict[str, Any]:
        self.mos[record["reference"]] = record
        self._index("manufacturingorder", record)
        return record

    def add_wo(self, record: dict[str, Any]) -> dict[str, Any]:
        if not record.get("owner"):
            raise ValueError("a work order needs an owner")
        self.wos[record["reference"]] = record
        self._index("workorder", record)
        return record

    def add_resource(self, record: dict[str, Any]) -> dict[str, Any]:
        self.resources[record["name"]] = record
        return record

    def add_operation(self, record: dict[str, Any]) -> dict[str, Any]:
        self.operations[record["name"]] = record
        return record

    def table(self, model: str) -> dict[str, dict[str, Any]]:
        return {
            "manufacturingorder": self.mos,
            "workorder": self.wos,
            "resource": self.resources,
            "operation": self.operations,
            "item": self.items,
            "location": self.locations,
        }[model]

    def children(self, model: str, owner: str) -> list[dict[str, Any]]:
        return list(self._children.get(model, {}).get(owner, {}).values())

    def _index(self, model: str, record: dict[str, Any]) -> None:
        if record.get("owner"):
            self._children.setdefault(model, {}).setdefault(record["owner"], {})[
                record["reference"]
            ] = record


@dataclass
class User:
    password: str
    can_change: bool = True
    staff: bool = False
    scenarios: set[str] | None = None  # None: every scenario


class FakeFrepple(FakeServer):
    def __init__(
        self,
        *,
        time_zone: str = "Europe/Amsterdam",
        workorder_endpoint: bool = True,
        line: str = "9.17",  # or "dev": the development line after 9.17
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self.workorder_endpoint = workorder_endpoint
        self.line = line
        self.scenarios: dict[str, FreppleData] = {"default": FreppleData()}
        self.users: dict[str, User] = {"planner": User("s3cret-Pässword")}
        self.api_keys: dict[str, str] = {}
        self.jwt_secret = "fake-frepple-jwt-secret"
        self.now = datetime(2026, 5, 30, 12, 0, 0)  # noqa: DTZ001 (naive: the server's wall clock)
        self.allow_future = False  # COMPLETED.allow_future
        self.login_redirect_all = False
        self.writes_fail = False  # the development line's 500 on every order write
        self.not_found_text = "Not found."
        self.paginate: str | None = None  # None, "envelope", "loop" or "foreign"
        self.page_size = 2
        self.foreign_base = "http://127.0.0.2:9"
        super().__init__(tls=tls)

    @property
    def data(self) -> FreppleData:
        return self.scenarios["default"]

    def add_api_key(self, user: str) -> str:
        key = secrets.token_urlsafe(24)
        self.api_keys[key] = user
        return key

    def make_jwt(self, user: str, *, expires_in: int = 3600, secret: str | None = None) -> str:
        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        exp = int(datetime.now(UTC).timestamp()) + expires_in
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = b64(json.dumps({"user": user, "exp": exp}).encode())
        signed = f"{head}.{claims}".encode()
        sig = hmac.new((secret or self.jwt_secret).encode(), signed, hashlib.sha256).digest()
        return f"{head}.{claims}.{b64(sig)}"

    # ------------------------------------------------------------------------- routing

    def label(self, request: Recorded) -> str:
        match = ROUTE.match(request.path)
        if match is None:
            return f"{request.method} {request.path}"
        what = match["model"] + ("/<key>" if match["key"] else "")
        return f"{request.method} {what}"

    def handle(self, request: Recorded) -> Reply:
        path = request.path
        if path == "/data/login/":
            return text_reply("<html><body>Sign in</body></html>", 200, "text/html; charset=utf-8")
        if not path.endswith("/"):
            query = f"?{request.raw_query}" if request.raw_query else ""
            return Reply(301, b"", "text/html; charset=utf-8", [("Location", path + "/" + query)])
        if re.fullmatch(r"(?:/[^/]+)?/api/", path):
            return self._api_root(request)
        match = ROUTE.match(path)
        if (
            match is None
            or match["model"] not in LIST_MODELS
            or (match["model"] == "workorder" and not self.workorder_endpoint)
        ):
            return _page_not_found(path)
        user = self._authenticate(request)
        if isinstance(user, Reply):
            return user
        scenario = match["scenario"] or "default"
        data = self.scenarios.get(scenario)
        allowed = self.users[user].scenarios
        if data is None or (match["scenario"] and allowed is not None and scenario not in allowed):
            return text_reply(SCENARIO_DENIED, 404)
        reply = self._route(request, user, data, match["model"], match["key"])
        reply.headers += [
            ("Set-Cookie", f"csrftoken={secrets.token_hex(16)}; Path=/; SameSite=Lax"),
            ("Set-Cookie", f"sessionid={secrets.token_hex(16)}; HttpOnly; Path=/; SameSite=Lax"),
        ]
        return reply

    def _api_root(self, request: Recorded) -> Reply:
        user = self._authenticate(request)
        if isinstance(user, str) and self.users[user].staff:
            return text_reply("<html><body>REST API help</body></html>", 200, "text/html")
        return Reply(
            302, b"", "text/html; charset=utf-8", [("Location", "/data/login/?next=/api/")]
        )

    def _authenticate(self, request: Recorded) -> str | Reply:
        login = Reply(
            302,
            b"",
            "text/html; charset=utf-8",
            [("Location", "/data/login/?" + urlencode({"next": request.path}))],
        )
        if self.login_redirect_all:
            return login
        header = request.authorization
        challenge = [("WWW-Authenticate", 'Basic realm="api"')]
        if not header:
            return json_reply(
                {"detail": "Authentication credentials were not provided."}, 401, challenge
            )
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                name, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                name, password = "", ""
            user = self.users.get(name)
            if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
                return json_reply({"detail": "Invalid username/password."}, 401, challenge)
            return name
        if scheme.lower() == "bearer":
            if value.count(".") == 2:
                name = self._jwt_user(value)
                return login if name is None else name
            name = self.api_keys.get(value)
            if name is None:
                return text_reply(f"Invalid API key: {value[:4]}…", 403, "text/html; charset=utf-8")
            return name
        return json_reply({"detail": "Invalid username/password."}, 401, challenge)

    def _jwt_user(self, token: str) -> str | None:
        head, claims, sig = token.split(".")
        expected = hmac.new(self.jwt_secret.encode(), f"{head}.{claims}".encode(), hashlib.sha256)
        try:
            given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
            body = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        except ValueError:
            return None
        if not hmac.compare_digest(expected.digest(), given):
            return None
        if int(body.get("exp", 0)) < datetime.now(UTC).timestamp():
            return None
        name = body.get("user") or body.get("email")
        return name if name in self.users else None

    def _route(
        self, request: Recorded, user: str, data: FreppleData, model: str, key: str | None
    ) -> Reply:
        if request.method == "GET":
            if key is None:
                return self._list(request, data, model)
            record = data.table(model).get(key[:-1]) if model != "operationplanresource" else None
            if record is None:
                return json_reply({"detail": self.not_found_text}, 404)
            return json_reply(record)
        if request.method in ("PATCH", "PUT") and key is not None and model in OPLAN_MODELS:
            if not self.users[user].can_change:
                return json_reply(
                    {"detail": "You do not have permission to perform this action."}, 403
                )
            if "sessionid=" in request.headers.get("cookie", ""):
                return json_reply({"detail": "CSRF Failed: CSRF token missing."}, 403)
            return self._write(request, data, model, key[:-1])
        return json_reply({"detail": f'Method "{request.method}" not allowed.'}, 405)

    # --------------------------------------------------------------------------- lists

    def _list(self, request: Recorded, data: FreppleData, model: str) -> Reply:
        query = {k: v[-1] for k, v in request.query.items()}
        if model == "operationplanresource":
            records: list[dict[str, Any]] = list(data.loads)
        elif model in OPLAN_MODELS:
            error = self._validate_filters(query)
            if error is not None:
                return error
            records = self._filter_oplans(data, model, query)
        else:
            records = list(data.table(model).values())
            if "name" in query:
                records = [r for r in records if r.get("name") == query["name"]]
        return self._paged(request, records)

    def _validate_filters(self, query: dict[str, str]) -> Reply | None:
        if "status" in query and query["status"] not in STATUSES:
            value = query["status"]
            return json_reply(
                {
                    "status": [
                        f"Select a valid choice. {value} is not one of the available choices."
                    ]
                },
                400,
            )
        for name in DATE_FILTERS:
            if name in query and self._as_local(query[name]) is None:
                return json_reply({name: ["Enter a valid date/time."]}, 400)
        for name in ("quantity__gte", "quantity__lte"):
            if name in query:
                try:
                    Decimal(query[name])
                except InvalidOperation:
                    return json_reply({name: ["Enter a number."]}, 400)
        return None

    def _as_local(self, text: str) -> datetime | None:
        """A filter or PATCH datetime as naive server-local time (offsets honoured)."""
        value = text.strip()
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(self.zone).replace(tzinfo=None)
        return parsed

    def _filter_oplans(
        self, data: FreppleData, model: str, query: dict[str, str]
    ) -> list[dict[str, Any]]:
        table = data.table(model)
        if "reference" in query:
            candidates = [table[query["reference"]]] if query["reference"] in table else []
        elif "reference__in" in query:
            refs = query["reference__in"].split(",")
            candidates = [table[r] for r in dict.fromkeys(refs) if r in table]
            candidates.sort(key=lambda r: r["reference"])
        elif "owner" in query:
            candidates = data.children(model, query["owner"])
        elif "owner__in" in query:
            candidates = [c for o in query["owner__in"].split(",") for c in data.children(model, o)]
        else:
            candidates = list(table.values())
        checks: list[Any] = []
        if "status" in query:
            checks.append(lambda r: r["status"] == query["status"])
        if "status__in" in query:
            wanted = set(query["status__in"].split(","))
            checks.append(lambda r: r["status"] in wanted)
        for name in ("operation", "batch", "demand", "source"):
            if name in query:
                checks.append(lambda r, n=name: r.get(n) == query[n])
        for name in DATE_FILTERS:
            if name in query:
                fld, op = name.split("__")
                bound = self._as_local(query[name])
                checks.append(lambda r, f=fld, o=op, b=bound: _compare(r.get(f), o, b))
        for name, op in (("quantity__gte", "gte"), ("quantity__lte", "lte")):
            if name in query:
                limit = Decimal(query[name])
                checks.append(
                    lambda r, o=op, q=limit: (
                        (Decimal(r["quantity"]) >= q)
                        if o == "gte"
                        else (Decimal(r["quantity"]) <= q)
                    )
                )
        return [r for r in candidates if all(check(r) for check in checks)]

    def _paged(self, request: Recorded, records: list[dict[str, Any]]) -> Reply:
        if self.paginate is None:
            return json_reply(records)
        page = int(request.query.get("page", ["1"])[-1])
        size = self.page_size
        chunk = records[(page - 1) * size : page * size]
        more = page * size < len(records)
        params = [(k, v) for k, vs in request.query.items() if k != "page" for v in vs]
        host = request.headers.get("host", f"127.0.0.1:{self.port}")

        def link(number: int, base: str = f"http://{host}") -> str:
            return f"{base}{quote(request.path)}?{urlencode([*params, ('page', str(number))])}"

        if self.paginate == "loop":
            next_url: str | None = link(2)
        elif self.paginate == "foreign":
            next_url = link(page + 1, self.foreign_base) if more else None
        else:
            next_url = link(page + 1) if more else None
        previous = link(page - 1) if page > 1 else None
        return json_reply(
            {"count": len(records), "next": next_url, "previous": previous, "results": chunk}
        )

    # -------------------------------------------------------------------------- writes

    def _write(self, request: Recorded, data: FreppleData, model: str, key: str) -> Reply:
        if self.writes_fail:
            return json_reply(
                {
                    "created": 0,
                    "updated": 0,
                    "deleted": 0,
                    "failed": 1,
                    "errors": {"bulk_error": "{'resources': ['This field is required.']}"},
                },
                500,
            )
        record = data.table(model).get(key)
        if record is None:
            return json_reply({"detail": self.not_found_text}, 404)
        if not isinstance(request.json, dict):
            return json_reply({"detail": "JSON parse error - Expecting value"}, 400)
        changes, errors = self._validated(request.json)
        if errors:
            return json_reply(errors, 400)
        record.update(changes)
        record["lastmodified"] = wall(self.now)
        if "status" in changes:
            self._propagate(data, model, record)
        if self.line == "dev":
            return json_reply(
                {"created": 0, "updated": 1, "deleted": 0, "failed": 0, "data": [record]}
            )
        return json_reply(record)

    def _validated(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        changes: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, value in body.items():
            if name == "status":
                if value not in STATUSES:
                    errors[name] = [f'"{value}" is not a valid choice.']
                else:
                    changes[name] = value
            elif name in ("startdate", "enddate"):
                stored = self._stored_datetime(value)
                if stored is None and value is not None:
                    errors[name] = [
                        "Datetime has wrong format. Use one of these formats instead: "
                        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                    ]
                else:
                    changes[name] = stored
            elif name in ("quantity", "quantity_completed"):
                try:
                    changes[name] = None if value is None else dec(value)
                except (InvalidOperation, ValueError):
                    errors[name] = ["A valid number is required."]
            elif name in ("batch", "demand", "source", "operation", "resources", "materials"):
                changes[name] = value
        return changes, errors

    def _stored_datetime(self, value: Any) -> str | None:
        """Naive input is stored as given; offset-aware input is converted to UTC and stored
        naive (what a server without time-zone support does, §8.6)."""
        if not isinstance(value, str):
            return None
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return wall(parsed)

    def _propagate(self, data: FreppleData, model: str, record: dict[str, Any]) -> None:
        status = record["status"]
        if status in ("completed", "closed"):
            self._finish(record)
        child_model = "workorder" if self.workorder_endpoint else "manufacturingorder"
        if model == "manufacturingorder" and not record.get("owner"):
            for child in data.children(child_model, record["reference"]):
                if child["status"] != status:
                    child["status"] = status
                    child["lastmodified"] = wall(self.now)
                    if status in ("completed", "closed"):
                        self._finish(child)
            return
        parent = data.mos.get(record.get("owner") or "")
        if parent is None:
            return
        if status != "proposed" and parent["status"] == "proposed":
            parent["status"] = "approved"
            parent["lastmodified"] = wall(self.now)
        steps = data.children(model, parent["reference"])
        if (
            steps
            and all(s["status"] in ("completed", "closed") for s in steps)
            and parent["status"] not in ("completed", "closed")
        ):
            parent["status"] = "completed"
            parent["lastmodified"] = wall(self.now)
            self._finish(parent)

    def _finish(self, record: dict[str, Any]) -> None:
        """Completion side effects: future dates clamped to now, resource loads removed."""
        record["resources"] = []
        if self.allow_future:
            return
        now = wall(self.now)
        for name in ("startdate", "enddate"):
            if record.get(name) and record[name] > now:
                record[name] = now


def _compare(value: Any, op: str, bound: datetime | None) -> bool:
    if value is None or bound is None:
        return False
    mine = datetime.fromisoformat(value)
    return {
        "gte": mine >= bound,
        "lte": mine <= bound,
        "gt": mine > bound,
        "lt": mine < bound,
    }[op]


def _page_not_found(path: str) -> Reply:
    return text_reply(
        f"<!DOCTYPE html><html><body><h1>Page not found (404)</h1><p>{path}</p></body></html>",
        404,
        "text/html; charset=utf-8",
    )


# ------------------------------------------------------------------------------------ seeding


def seed_orders(
    data: FreppleData,
    orders: int,
    *,
    steps: int = 5,
    work_centres: int = 50,
    prefix: str = "MO-",
    start: datetime = datetime(2026, 6, 1, 6, 0, 0),  # noqa: DTZ001 (server-local wall time)
    lastmodified: str = "2026-05-28T16:12:40",
    workorder_endpoint: bool = True,
) -> None:
    """Bulk data for service tests and the benchmark: `work_centres` resources, one operation per
    step, and `orders` approved MOs of `steps` work orders each (or, without the work-order
    endpoint, MO children with an owner). Fast: plain dicts, no validation."""
    for w in range(work_centres):
        data.add_resource(resource(f"WC-{w:03d}", location="Plant"))
    for s in range(steps):
        data.add_operation(
            operation(
                f"Step {s + 1}", type="time_per", duration="00:10:00", duration_per="00:01:00"
            )
        )
    add_step = data.add_wo if workorder_endpoint else data.add_mo
    for n in range(orders):
        reference = f"{prefix}{n:06d}"
        begin = start + timedelta(hours=n % 500)
        data.add_mo(
            oplan(
                reference,
                operation="Make product",
                quantity=10 + n % 7,
                start=wall(begin),
                end=wall(begin + timedelta(hours=steps)),
                resources=[f"WC-{n % work_centres:03d}"],
                produces=(f"ITEM-{n % 97:03d}", 10 + n % 7),
                consumes=[(f"RAW-{n % 13:02d}", 20)],
                demand=f"SO-{n}",
                lastmodified=lastmodified,
            )
        )
        for s in range(steps):
            add_step(
                oplan(
                    f"{reference}-{(s + 1) * 10}",
                    owner=reference,
                    operation=f"Step {s + 1}",
                    quantity=10 + n % 7,
                    start=wall(begin + timedelta(hours=s)),
                    end=wall(begin + timedelta(hours=s + 1)),
                    resources=[f"WC-{(n + s) % work_centres:03d}"],
                    lastmodified=lastmodified,
                )
            )
