"""Unknown query parameters (API §1.1 as floorsync amends it): a write refuses them (400 naming
each and listing the accepted ones, nothing written); a read ignores them but says so in
`X-Ignored-Query-Params`; `direction` is a synonym of `order`."""

import uuid

import pytest

from tests.support.tenants import TenantHandle


def _cell(tenant: TenantHandle, name: str) -> str:
    resp = tenant.client.post("/api-cells", json={"name": name})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["data"]["cell"]["id"])


def test_a_misspelt_dry_run_on_bulk_sync_writes_nothing(tenant: TenantHandle, unique: str) -> None:
    items = [{"external_id": f"J-{unique}", "external_source": "SAP", "job_number": f"J-{unique}"}]
    resp = tenant.client.post("/api-jobs/bulk-sync?dryrun=true", json={"items": items})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "BAD_REQUEST"
    assert error["message"].startswith("Unknown query parameter: dryrun (this endpoint accepts: ")
    for option in ("atomic", "dry_run", "record_history", "snapshot"):
        assert option in error["message"]
    assert error["details"][0]["field"] == "dryrun"
    assert error["details"][0]["constraint"] == "UNKNOWN_FIELD"
    listed = tenant.client.get("/api-jobs", params={"job_number": f"J-{unique}"}).json()
    assert listed["data"]["jobs"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "PUT",
            "/api-jobs/sync",
            {"external_id": "x", "external_source": "SAP", "job_number": "x"},
        ),
        ("POST", "/api-erp-sync/sync", {"jobs": []}),
        ("POST", "/api-erp-sync/diff", {"jobs": []}),
        ("POST", "/api-cells", {"name": "never"}),
        ("POST", "/api-job-lifecycle/start", None),
        ("POST", "/api-operation-lifecycle/start", None),
        ("POST", "/api-batches", {}),
        ("POST", "/api-webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"]}),
        ("DELETE", "/api-webhooks", None),
        ("POST", "/api-webhooks/replay", {}),
    ],
)
def test_every_write_refuses_an_unknown_parameter(
    tenant: TenantHandle, method: str, path: str, body: dict | None
) -> None:
    # `id` is tolerated everywhere (a create ignores it), so only `bogus` is named
    params = {"id": str(uuid.uuid4()), "bogus": "1"}
    resp = tenant.client.request(method, path, params=params, json=body)
    assert resp.status_code == 400, resp.text
    message = resp.json()["error"]["message"]
    assert message.startswith("Unknown query parameter: bogus (this endpoint accepts: "), message


def test_updates_and_deletes_name_each_unknown_parameter(tenant: TenantHandle, unique: str) -> None:
    cell_id = _cell(tenant, f"cell {unique}")
    patched = tenant.client.patch(
        "/api-cells", params={"id": cell_id, "foo": "1", "bar": "2"}, json={"name": "renamed"}
    )
    assert patched.status_code == 400
    error = patched.json()["error"]
    assert error["message"] == ("Unknown query parameters: foo, bar (this endpoint accepts: id)")
    assert [d["field"] for d in error["details"]] == ["foo", "bar"]
    deleted = tenant.client.delete("/api-cells", params={"id": cell_id, "hrad": "true"})
    assert deleted.status_code == 400
    assert "accepts: hard, id" in deleted.json()["error"]["message"]
    # nothing happened to the cell
    one = tenant.client.get("/api-cells", params={"id": cell_id}).json()["data"]["cell"]
    assert one["name"] == f"cell {unique}"
    assert tenant.client.delete("/api-cells", params={"id": cell_id}).status_code == 200


def test_reads_ignore_unknown_parameters_and_say_so(tenant: TenantHandle, unique: str) -> None:
    _cell(tenant, f"cell {unique}")
    resp = tenant.client.get("/api-cells", params={"stauts": "x", "limit": "5", "zzz": ""})
    assert resp.status_code == 200
    assert resp.headers["x-ignored-query-params"] == "stauts,zzz"
    assert "x-ignored-query-params" not in tenant.client.get("/api-cells").headers
    events = tenant.client.get("/api-events", params={"whatever": "1"})
    assert events.status_code == 200
    assert events.headers["x-ignored-query-params"] == "whatever"


def test_direction_is_a_synonym_of_order(tenant: TenantHandle, unique: str) -> None:
    for name in ("b", "a", "c"):
        _cell(tenant, f"{unique}-{name}")
    names = []
    for params in ({"order": "desc"}, {"direction": "desc"}, {"direction": "asc"}):
        resp = tenant.client.get("/api-cells", params={"sort": "name", "search": unique, **params})
        assert resp.status_code == 200
        assert "x-ignored-query-params" not in resp.headers
        names.append([c["name"][-1] for c in resp.json()["data"]["cells"]])
    assert names == [["c", "b", "a"], ["c", "b", "a"], ["a", "b", "c"]]
    bad = tenant.client.get("/api-cells", params={"direction": "up"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "direction"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api-events", {"after": "now", "types": "job.*", "limit": "5"}),
        (
            "/api-webhooks",
            {"active": "true", "sort": "created_at", "direction": "asc", "limit": "5"},
        ),
        ("/api-webhook-logs", {"success": "false", "outcome": "timeout", "order": "asc"}),
        ("/api-erp-sync/status", {"entity_type": "jobs", "limit": "5"}),
        ("/api-key-generate", {"role": "admin", "direction": "asc"}),
    ],
)
def test_the_parameters_a_read_takes_are_not_reported(
    tenant: TenantHandle, path: str, params: dict[str, str]
) -> None:
    resp = tenant.client.get(path, params=params)
    assert resp.status_code == 200, resp.text
    assert "x-ignored-query-params" not in resp.headers
