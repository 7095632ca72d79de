"""/metrics: request, sync and delivery counters, database gauges for the outbox and the job
queue, the optional bearer token, and several processes adding up through the multiprocess
directory."""

import os
import subprocess
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.ops.metrics import remove_dead_files
from floorsync.worker.runner import WorkerRunner
from tests.support.api_process import start_api
from tests.support.server import start_server
from tests.support.tenants import TenantHandle


def scrape(base_url: str, **headers: str) -> dict[tuple[str, frozenset], float]:
    resp = httpx.get(f"{base_url}/metrics", headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_and_sync_records_are_counted(tenant: TenantHandle, server, unique: str) -> None:
    before = scrape(server.base_url)
    items = [
        {"external_id": f"M-{unique}-{i}", "external_source": "SAP", "name": f"m{unique}{i}"}
        for i in range(4)
    ]
    assert tenant.client.post("/api-materials/bulk-sync", json={"items": items}).status_code == 200
    assert tenant.client.post("/api-materials/bulk-sync", json={"items": items}).status_code == 200
    assert tenant.client.get("/api-jobs", params={"id": str(uuid.uuid4())}).status_code == 404
    after = scrape(server.base_url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    bulk = {"function": "/api-materials/bulk-sync", "method": "POST", "status": "200"}
    assert grew("floorsync_http_requests_total", **bulk) == 2
    assert grew("floorsync_http_request_duration_seconds_count", **bulk) == 2
    assert grew("floorsync_http_request_duration_seconds_sum", **bulk) > 0
    assert (
        grew("floorsync_http_requests_total", function="/api-jobs", method="GET", status="404") == 1
    )
    assert grew("floorsync_sync_records_total", entity="materials", outcome="created") == 4
    assert grew("floorsync_sync_records_total", entity="materials", outcome="skipped") == 4


def test_outbox_depth_age_and_delivery_attempts(
    tenant: TenantHandle, server, settings: Settings, unique: str
) -> None:
    hook = tenant.client.post(
        "/api-webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    )
    assert hook.status_code == 201, hook.text
    webhook_id = hook.json()["data"]["webhook"]["id"]
    assert tenant.client.post("/api-cells", json={"name": f"cell {unique}"}).status_code == 201
    samples = scrape(server.base_url)
    assert value(samples, "floorsync_outbox_pending_deliveries", webhook_id=webhook_id) == 1
    assert value(samples, "floorsync_outbox_oldest_pending_age_seconds", webhook_id=webhook_id) >= 0

    services = build_services(settings)
    try:
        WorkerRunner(services).run_once()  # port 9 refuses: one failed attempt
    finally:
        services.close()
    after = scrape(server.base_url)
    assert value(after, "floorsync_webhook_delivery_attempts_total", result="connection_error") >= 1
    # still pending (it will be retried), and now it has waited a little longer
    assert value(after, "floorsync_outbox_pending_deliveries", webhook_id=webhook_id) == 1


def test_the_metrics_token_is_required_when_set(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("s3cret-scrape")})
    live = start_server(guarded)
    try:
        assert httpx.get(f"{live.base_url}/metrics").status_code == 401
        wrong = httpx.get(f"{live.base_url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert scrape(live.base_url, Authorization="Bearer s3cret-scrape")
    finally:
        live.stop()
        live.app.state.services.close()


def test_files_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run(["true"], check=True)  # a pid that has exited
    del dead
    proc = subprocess.Popen(["sleep", "0"])
    proc.wait()
    mine = tmp_path / f"counter_{os.getpid()}.db"
    gone = tmp_path / f"histogram_{proc.pid}.db"
    gauge = tmp_path / f"gauge_livesum_{proc.pid}.db"
    for path in (mine, gone, gauge):
        path.write_bytes(b"")
    assert sorted(remove_dead_files(tmp_path)) == sorted([gone, gauge])
    assert mine.exists()


def test_two_api_processes_add_up_in_one_scrape(
    settings: Settings, tenant: TenantHandle, tmp_path: Path
) -> None:
    env = {"FLOORSYNC_METRICS_DIR": str(tmp_path / "metrics"), "FLOORSYNC_LOG_LEVEL": "warning"}
    first = start_api(settings, **env)
    second = start_api(settings, **env)
    try:
        for api, n in ((first, 3), (second, 2)):
            for _ in range(n):
                resp = httpx.get(
                    f"{api.base_url}/api-cells",
                    headers={"Authorization": f"Bearer {tenant.admin_key}"},
                )
                assert resp.status_code == 200
        labels = {"function": "/api-cells", "method": "GET", "status": "200"}
        for api in (first, second):
            assert value(scrape(api.base_url), "floorsync_http_requests_total", **labels) == 5
        files = {p.name for p in (tmp_path / "metrics").iterdir()}
        assert {f"counter_{first.proc.pid}.db", f"counter_{second.proc.pid}.db"} <= files
    finally:
        first.stop()
        second.stop()
