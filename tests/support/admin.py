"""The admin UI as a browser would use it, over plain HTTP: sign in with a key (the sign-in
form's double-submit token included), keep the session cookie, read CSRF tokens out of pages
and post forms with them. Plus `seed_ops_data`, which gives a tenant something on every ops
page: sync runs with per-record errors, a webhook endpoint with failed and successful
attempts, events and keys."""

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from floorsync.bootstrap import Services
from floorsync.csv_import.service import ImportSettings, Upload, create_import
from floorsync.db.repository import TenantScope
from floorsync.models.enums import ImportChannel
from floorsync.webhooks.delivery import make_http_client
from floorsync.webhooks.worker import DeliveryDeps, drain
from tests.support.tenants import TenantHandle
from tests.support.webhook_receiver import Reply, WebhookReceiver

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGNIN = re.compile(r'name="signin_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


class AdminClient:
    """An httpx client with a cookie jar, signed in (or not yet) to /admin."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=60)

    def sign_in(self, key: str, *, next_: str = "", **headers: str) -> httpx.Response:
        form = self.http.get("/admin/sign-in")
        token = SIGNIN.search(form.text)
        assert token is not None, form.text[:500]
        return self.http.post(
            "/admin/sign-in",
            data={"signin_token": token.group(1), "api_key": key, "next": next_},
            headers=headers,
        )

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def csrf(self, page: str = "/admin/api-keys") -> str:
        """A CSRF token of this session, read from a page as a browser has it."""
        resp = self.http.get(page)
        assert resp.status_code == 200, (resp.status_code, resp.headers.get("location"))
        return csrf_from(resp.text)

    def post_form(
        self, path: str, data: dict[str, str] | None = None, *, csrf: str | None = ""
    ) -> httpx.Response:
        """Post a form; `csrf=""` fetches a valid token first, None sends none."""
        body = dict(data or {})
        if csrf == "":
            csrf = self.csrf()
        if csrf is not None:
            body["csrf_token"] = csrf
        return self.http.post(path, data=body)

    def close(self) -> None:
        self.http.close()


def signed_in(base_url: str, key: str) -> AdminClient:
    client = AdminClient(base_url)
    resp = client.sign_in(key)
    assert resp.status_code == 303, resp.text[:2000]
    return client


# ---------------------------------------------------------------- data for the ops pages


@dataclass
class OpsData:
    run_ids: list[str] = field(default_factory=list)  # newest first
    failed_run_id: str = ""  # a run with per-record errors
    webhook_id: str = ""
    failed_event_id: str = ""  # an event whose first delivery attempt failed (evt_…)
    delivered_event_ids: list[str] = field(default_factory=list)
    integration_key_id: str = ""
    import_id: str = ""  # a CSV import (uploaded, not started)
    planning_connection_id: str = ""  # a FrePPLe connection (never contacted by these tests)


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text[:2000]
    return resp.json()["data"]


def delivery_deps(services: Services) -> DeliveryDeps:
    kit = services.webhooks
    return DeliveryDeps(
        services.sessions,
        services.outbox,
        services.clock,
        kit,
        make_http_client(5),
        "admin-test-worker",
        random.Random(7),
    )


def seed_ops_data(
    tenant: TenantHandle, services: Services, receiver: WebhookReceiver, tag: str = ""
) -> OpsData:
    """Sync runs (one with field errors) and an endpoint that received the cell events, then
    answered the first job event with 503 and `Retry-After: 5`: the endpoint backs off, so the
    other job events wait behind it (an answer without Retry-After would only make that one
    event step aside onto its retry schedule, issue 11)."""
    tag = tag or uuid.uuid4().hex[:6]
    c = tenant.client
    data = OpsData()
    hook = _ok(
        c.post(
            "/api-webhooks",
            json={
                "url": receiver.url_for("/hooks/erp"),
                "events": ["job.*", "cell.*"],
                "description": "ERP order status updates",
            },
        ),
        201,
    )["webhook"]
    data.webhook_id = hook["id"]
    _ok(
        c.post(
            "/api-cells/bulk-sync",
            json={
                "items": [
                    {"external_id": f"WC-{tag}-{n}", "external_source": "SAP", "name": name}
                    for n, name in enumerate(["Laser", "Press brake", "Welding"])
                ]
            },
        )
    )
    jobs = [
        {
            "external_id": f"SO-{tag}-{n}",
            "external_source": "SAP",
            "job_number": f"J-{tag}-{n}",
            "customer_name": "Acme BV",
        }
        for n in range(4)
    ]
    jobs.append({"external_id": f"SO-{tag}-bad1", "external_source": "SAP", "job_number": ""})
    jobs.append(
        {
            "external_id": f"SO-{tag}-bad2",
            "external_source": "SAP",
            "job_number": f"J-{tag}-x",
            "priority": -1,
        }
    )
    deps = delivery_deps(services)
    try:
        drain(deps)  # the cell events arrive
        receiver.script(Reply(503, retry_after="5", body=b"upstream ERP unavailable"))
        _ok(c.post("/api-jobs/bulk-sync", json={"items": jobs}))
        drain(deps)  # the first job event fails; the others wait for the back-off to end
    finally:
        deps.http.close()
    history = _ok(c.get("/api-erp-sync/status"))["history"]
    data.run_ids = [r["id"] for r in history]
    data.failed_run_id = next(r["id"] for r in history if r["error_count"])
    logs = _ok(c.get("/api-webhook-logs", params={"webhook_id": hook["id"]}))["webhook_logs"]
    data.failed_event_id = next(log["event_id"] for log in logs if not log["success"])
    data.delivered_event_ids = [log["event_id"] for log in logs if log["success"]]
    data.integration_key_id = _ok(c.get("/api-key-generate", params={"role": "integration"}))[
        "api_keys"
    ][0]["id"]
    data.import_id = str(
        create_import(
            services,
            TenantScope(tenant.id),
            [Upload("orders.csv", f"job_number;customer\nJ-{tag}-csv;Acme BV\n".encode())],
            ImportSettings(),
            channel=ImportChannel.admin_ui,
        )
    )
    data.planning_connection_id = _planning_connection(tenant, services)
    return data


def _planning_connection(tenant: TenantHandle, services: Services) -> str:
    from floorsync.db.repository import TenantScope
    from floorsync.planning.connections import create_connection

    with services.sessions.begin() as session:
        row = create_connection(
            session,
            TenantScope(tenant.id),
            services.secretbox,
            services.clock.now(),
            system="frepple",
            base_url="http://127.0.0.1:9/frepple",
            auth_method="basic",
            username="planner",
            credential="not-a-real-password",
            settings={"time_zone": "Europe/Amsterdam"},
        )
        return str(row.id)


# ---------------------------------------------------------------- the admin app's route table


def admin_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route of the admin sub-app mounted at /admin, paths absolute
    (`/admin/webhooks/{webhook_id}`); read from the running app, so new pages are included."""
    from starlette.routing import Mount

    from floorsync.http.routing import iter_routes

    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/admin")
    out = []
    for route in iter_routes(mount.app.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, "/admin" + route.path))
    return out


PARAM = re.compile(r"\{(\w+)\}")


def path_params(path: str) -> list[str]:
    return PARAM.findall(path)


def fill(path: str, ids: dict[str, str]) -> str:
    return PARAM.sub(lambda m: ids[m.group(1)], path)


def ids_for(data: OpsData) -> dict[str, str]:
    """A record of the seeded tenant for every path parameter of the admin routes."""
    return {
        "run_id": data.failed_run_id,
        "webhook_id": data.webhook_id,
        "key_id": data.integration_key_id,
        "import_id": data.import_id,
        "position": "0",
        "name": "no-such-template.csv",  # a template name is no tenant record: 404 for anyone
        "connection_id": data.planning_connection_id,
    }


# Admin routes that answer a download or JSON rather than an HTML page.
DOWNLOAD_SUFFIXES = (".json", ".csv", ".zip", "/failed-rows", "/templates/{name}")


def is_download(path: str) -> bool:
    return path.endswith(DOWNLOAD_SUFFIXES)
