"""A bulk sync whose bad record carries a NUL character (`\\u0000`, which PostgreSQL's jsonb
refuses) still answers 200 with the per-record error and writes its history row: the stored
error shows the character as U+FFFD."""

from tests.support.api import ok
from tests.support.tenants import TenantHandle


def test_a_nul_in_a_refused_record_is_reported_and_kept_in_the_history(
    tenant: TenantHandle,
) -> None:
    c = tenant.client
    bad = {"external_id": "R-\u0000-1", "external_source": "SAP", "name": "Saw\u0000", "type": 7}
    data = ok(c.post("/api-resources/bulk-sync", json={"items": [bad]}))
    assert data["failed"] == 1
    assert data["records"][0]["action"] == "error"
    run = ok(c.get("/api-erp-sync/status"))["history"][0]
    assert run["error_count"] == 1
    assert "\u0000" not in str(run["errors"])
    assert run["errors"][0]["external_id"] == "R-\ufffd-1"
