"""One access line per request with who asked and how it went, never the key or the body; one
line per entity of a sync run (http/access.py, sync/service.py)."""

import time

import httpx
import orjson

from tests.ops.conftest import Lines
from tests.support.tenants import TenantHandle


def lines_of(log: Lines, logger: str, wait_for: int = 1) -> list[dict]:
    # The access line is written after the response is sent: give the server a moment.
    deadline = time.monotonic() + 5
    while True:
        found = [orjson.loads(x) for x in log.lines if orjson.loads(x)["logger"] == logger]
        if len(found) >= wait_for or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_one_access_line_per_request_with_tenant_key_prefix_and_timing(
    tenant: TenantHandle, floorsync_log: Lines, unique: str
) -> None:
    secret = f"body-secret-{unique}"
    created = tenant.client.post(
        "/api-cells", json={"name": f"Cell {unique}", "description": secret}
    )
    assert created.status_code == 201, created.text
    listed = tenant.client.get("/api-cells", headers={"X-Request-Id": f"req-{unique}"})
    assert listed.status_code == 200
    access = lines_of(floorsync_log, "floorsync.access", wait_for=2)
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("POST", "/api-cells", 201),
        ("GET", "/api-cells", 200),
    ]
    for line in access:
        assert line["level"] == "info"
        assert line["tenant"] == str(tenant.id)
        assert line["key_prefix"] == tenant.admin_key[:12]
        assert isinstance(line["ms"], float | int)
        assert line["ms"] >= 0
        assert line["request_id"]
    assert access[1]["request_id"] == f"req-{unique}"
    everything = "\n".join(floorsync_log.lines)
    assert tenant.admin_key not in everything
    assert secret not in everything


def test_refused_requests_are_logged_without_a_tenant_and_health_probes_only_at_debug(
    server, floorsync_log: Lines
) -> None:
    fake = "ery_live_" + "0" * 32
    with httpx.Client(base_url=server.base_url) as client:
        assert (
            client.get("/api-jobs", headers={"Authorization": f"Bearer {fake}"}).status_code == 401
        )
        assert (
            client.get("/api-jobs", headers={"Authorization": "Bearer hunter2"}).status_code == 401
        )
        assert client.get("/health").status_code == 200
    access = lines_of(floorsync_log, "floorsync.access", wait_for=2)
    assert [(a["path"], a["status"]) for a in access] == [("/api-jobs", 401), ("/api-jobs", 401)]
    assert access[0]["key_prefix"] == fake[:12]  # a well-formed key: its stored prefix
    assert "key_prefix" not in access[1]  # anything else never reaches the log
    assert all("tenant" not in a for a in access)
    assert "hunter2" not in "\n".join(floorsync_log.lines)


def test_a_sync_run_logs_entity_counts_and_duration(
    tenant: TenantHandle, floorsync_log: Lines, unique: str
) -> None:
    items = [
        {"external_id": f"C-{unique}-{i}", "external_source": "SAP", "name": f"C {unique} {i}"}
        for i in range(3)
    ]
    items.append({"external_id": f"C-{unique}-bad", "external_source": "SAP"})  # no name
    resp = tenant.client.post("/api-cells/bulk-sync", json={"items": items})
    assert resp.status_code == 200, resp.text
    (run,) = lines_of(floorsync_log, "floorsync.sync")
    assert run["entity"] == "cells"
    assert (run["created"], run["updated"], run["skipped"], run["failed"]) == (3, 0, 0, 1)
    assert run["trigger"] == "bulk_sync"
    assert run["committed"] is True
    assert run["ms"] >= 0
    assert run["group_id"]
    assert run["request_id"]  # the request that ran it


def test_serve_writes_json_lines_with_log_format_json(settings, tenant: TenantHandle) -> None:
    from tests.support.api_process import start_api

    api = start_api(settings, FLOORSYNC_LOG_FORMAT="json", FLOORSYNC_LOG_LEVEL="info")
    try:
        resp = httpx.get(
            f"{api.base_url}/api-jobs", headers={"Authorization": f"Bearer {tenant.admin_key}"}
        )
        assert resp.status_code == 200
        deadline = time.monotonic() + 10
        while '"floorsync.access"' not in api.log() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        api.stop()
    raw = [line for line in api.log().splitlines() if line.strip()]
    bad = [line for line in raw if not line.startswith("{")]
    assert not bad, "lines that are not JSON:\n" + "\n".join(bad[:40])
    lines = [orjson.loads(line) for line in raw]
    (access,) = [x for x in lines if x["logger"] == "floorsync.access"]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api-jobs", 200)
    assert access["tenant"] == str(tenant.id)
    assert any(x["logger"].startswith("uvicorn") for x in lines)  # uvicorn's lines are JSON too


def test_debug_level_shows_the_health_probes(settings) -> None:
    from tests.support.api_process import start_api

    api = start_api(settings, FLOORSYNC_LOG_LEVEL="debug")
    try:
        deadline = time.monotonic() + 10
        while "GET /health 200" not in api.log() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        api.stop()
    assert "DEBUG floorsync.access GET /health 200" in api.log()
