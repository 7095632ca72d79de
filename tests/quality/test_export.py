"""`api-export` (api-catalogue-completion §10) through a real server: admin keys only, both
formats parse as a whole and end with their completeness marker, one snapshot in a stable
order, parameters validated before the first byte, and no secret, key or hash anywhere."""

import json
import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.export.endpoints import _slots
from floorsync.models.tenancy import ApiKey
from tests.shopfloor.helpers import fails, make_job, ok
from tests.support.tenants import TenantHandle


def _seed(tenant: TenantHandle) -> dict[str, str]:
    """A tenant with webhooks, keys and records of many kinds; returns the secrets it has."""
    c = tenant.client
    tree = make_job(c, parts=1, ops=2)
    ok(
        c.post(
            "/api-scrap-reasons", json={"code": "BURR", "description": "b", "category": "process"}
        ),
        201,
    )
    ok(
        c.post(
            "/api-issues",
            json={
                "operation_id": tree.ops[0],
                "title": "Dent",
                "description": "d",
                "issue_type": "ncr",
            },
        ),
        201,
    )
    ok(c.post("/api-substeps", json={"operation_id": tree.ops[0], "name": "Deburr"}), 201)
    ok(c.post("/api-templates", json={"name": "Checklist", "items": [{"name": "x"}]}), 201)
    hook = ok(
        c.post("/api-webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}), 201
    )["webhook"]
    new_key = ok(c.post("/api-key-generate", json={"name": "erp", "role": "integration"}), 201)
    return {
        "webhook secret": hook["secret_key"],
        "admin key": tenant.admin_key,
        "integration key": tenant.integration_key,
        "new key": new_key["api_key"],
    }


class TestExport:
    def test_json_export_parses_has_every_section_and_no_secret(
        self, tenant: TenantHandle, sessions: sessionmaker[Session]
    ) -> None:
        secrets = _seed(tenant)
        resp = tenant.client.get("/api-export")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/json")
        assert resp.headers["cache-control"] == "no-store"
        assert re.fullmatch(
            r'attachment; filename="floorsync-export-[a-z0-9-]+-\d{8}T\d{6}Z\.json"',
            resp.headers["content-disposition"],
        )
        doc = json.loads(resp.content)
        keys = list(doc)
        assert keys[0] == "_tenant_info"
        assert keys[-1] == "_metadata"
        assert keys[1:6] == ["cells", "resources", "materials", "operators", "scrap_reasons"]
        meta = doc["_metadata"]
        assert meta["complete"] is True
        assert meta["tenant_id"] == str(tenant.id)
        counts = {t["name"]: t["count"] for t in meta["tables"]}
        assert (counts["jobs"], counts["parts"], counts["operations"]) == (1, 1, 2)
        assert (counts["issues"], counts["substeps"], counts["substep_templates"]) == (1, 1, 1)
        assert counts["webhooks"] == 1
        assert counts["api_keys"] == 3
        assert doc["webhooks"][0]["secret_prefix"]
        assert "secret_key" not in doc["webhooks"][0]
        assert doc["substep_templates"][0]["items"][0]["name"] == "x"
        assert doc["issues"][0]["ncr_number"].startswith("NCR-")
        text = resp.text
        for label, secret in secrets.items():
            assert secret not in text, label
        with sessions() as s:
            hashes = list(s.scalars(select(ApiKey.key_hash).where(ApiKey.tenant_id == tenant.id)))
        assert hashes
        for h in hashes:
            assert h not in text
        assert "key_hash" not in text
        assert "secret_ciphertext" not in text

    def test_ndjson_has_header_records_and_footer(self, tenant: TenantHandle) -> None:
        secrets = _seed(tenant)
        resp = tenant.client.get(
            "/functions/v1/api-export",
            params={"format": "ndjson", "entities": "jobs,profiles,operation_resources"},
        )
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in resp.text.splitlines()]
        assert lines[0]["type"] == "header"
        assert lines[0]["entities"] == ["operators", "jobs"]
        assert lines[-1] == {
            "type": "footer",
            "counts": {"operators": 0, "jobs": 1},
            "complete": True,
        }
        assert [line["entity"] for line in lines[1:-1]] == ["jobs"]
        for secret in secrets.values():
            assert secret not in resp.text

    def test_checks_come_before_the_first_byte(self, tenant: TenantHandle) -> None:
        integration = tenant.client_for(tenant.integration_key)
        fails(integration.get("/api-export"), 403, "FORBIDDEN", "Admin API key required")
        err = fails(
            tenant.client.get("/api-export", params={"entities": "jobs,secrets"}),
            400,
            "BAD_REQUEST",
        )
        assert "substep_templates" in err["details"][0]["message"]
        fails(tenant.client.get("/api-export", params={"format": "xml"}), 400, "BAD_REQUEST")
        fails(tenant.client.post("/api-export"), 405, "METHOD_NOT_ALLOWED")

    def test_include_deleted_and_isolation(
        self, tenant: TenantHandle, other_tenant: TenantHandle
    ) -> None:
        c = tenant.client
        tree = make_job(c, ops=0)
        ok(c.delete("/api-jobs", params={"id": tree.job}))
        live = json.loads(c.get("/api-export", params={"entities": "jobs"}).content)
        assert live["jobs"] == []
        everything = json.loads(
            c.get("/api-export", params={"entities": "jobs", "include_deleted": "true"}).content
        )
        assert [j["id"] for j in everything["jobs"]] == [tree.job]
        theirs = make_job(other_tenant.client, ops=0)
        assert theirs.job not in c.get("/api-export").text


class TestConcurrencyLimit:
    def test_exports_beyond_the_limit_answer_503_with_retry_after(
        self, tenant: TenantHandle, settings: Settings
    ) -> None:
        """FLOORSYNC_EXPORT_MAX_CONCURRENT exports run per process (the server runs in this
        process: its slots are taken here as running exports would hold them); one more gets
        503 with Retry-After before any byte is streamed, and a finished export frees its
        slot."""
        c = tenant.client
        limit = settings.export_max_concurrent
        slots = _slots(limit)
        for _ in range(limit + 1):  # sequential exports each return their slot
            assert c.get("/api-export", params={"entities": "cells"}).status_code == 200
        held = 0
        try:
            for _ in range(limit):
                assert slots.acquire(timeout=30)
                held += 1
            resp = c.get("/api-export", params={"entities": "cells"})
            err = fails(
                resp, 503, "SERVICE_UNAVAILABLE", "Too many exports are running; try again later"
            )
            assert err["statusCode"] == 503
            assert resp.headers["retry-after"] == "30"
            assert resp.headers["content-type"].startswith("application/json")
        finally:
            for _ in range(held):
                slots.release()
        assert c.get("/api-export", params={"entities": "cells"}).status_code == 200
