"""`api-key-generate` (API §6.6): admin keys issue, list and revoke keys; integration keys get 403."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import PREFIXES, detail, fails, ok
from tests.support.tenants import TenantHandle

pytestmark = pytest.mark.parametrize("prefix", PREFIXES, ids=["short", "hosted"])


class TestAdminOnly:
    @pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
    def test_an_integration_key_is_403(
        self, tenant: TenantHandle, prefix: str, method: str
    ) -> None:
        client = tenant.client_for(tenant.integration_key)
        kw = {"json": {"name": "x"}} if method == "POST" else {}
        params = {"id": "0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00"} if method == "DELETE" else {}
        fails(
            client.request(method, f"{prefix}/api-key-generate", params=params, **kw),
            403,
            "FORBIDDEN",
            "Admin API key required",
        )


class TestCreate:
    def test_the_plaintext_key_is_shown_once_and_works(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        resp = tenant.client.post(
            f"{prefix}/api-key-generate",
            json={"name": " ERP connector ", "role": "integration", "expires_at": None},
        )
        data = ok(resp, 201)
        assert list(data) == [
            "id",
            "name",
            "api_key",
            "key_prefix",
            "role",
            "expires_at",
            "created_at",
            "warning",
        ]
        assert re.fullmatch(r"ery_live_[0-9a-f]{32}", data["api_key"])
        assert data["key_prefix"] == data["api_key"][:12]
        assert (data["name"], data["role"], data["expires_at"]) == (
            "ERP connector",
            "integration",
            None,
        )
        assert data["warning"] == "Store this API key securely. It will not be shown again."
        ok(tenant.client_for(data["api_key"]).get(f"{prefix}/api-jobs"))
        listed = tenant.client.get(f"{prefix}/api-key-generate")
        assert data["api_key"].encode() not in listed.content

    def test_the_role_defaults_to_integration_and_may_be_admin(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        assert (
            ok(tenant.client.post(f"{prefix}/api-key-generate", json={"name": "a"}), 201)["role"]
            == "integration"
        )
        admin = ok(
            tenant.client.post(f"{prefix}/api-key-generate", json={"name": "b", "role": "admin"}),
            201,
        )
        ok(tenant.client_for(admin["api_key"]).get(f"{prefix}/api-key-generate"))

    def test_an_expiry_is_kept(self, tenant: TenantHandle, prefix: str) -> None:
        when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        data = ok(
            tenant.client.post(
                f"{prefix}/api-key-generate", json={"name": "temp", "expires_at": when.isoformat()}
            ),
            201,
        )
        assert data["expires_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    @pytest.mark.parametrize(
        ("body", "field", "constraint"),
        [
            ({}, "name", "NOT_NULL"),
            ({"name": "  "}, "name", "NOT_NULL"),
            ({"name": "n" * 201}, "name", "MAX_LENGTH"),
            ({"name": 5}, "name", "TYPE_MISMATCH"),
            ({"name": "x", "role": "owner"}, "role", "ENUM_CONSTRAINT"),
            ({"name": "x", "role": ""}, "role", "ENUM_CONSTRAINT"),
            ({"name": "x", "role": False}, "role", "ENUM_CONSTRAINT"),
            ({"name": "x", "role": 0}, "role", "ENUM_CONSTRAINT"),
            ({"name": "x", "expires_at": "2001-01-01"}, "expires_at", "INVALID_VALUE"),
            ({"name": "x", "expires_at": "soon"}, "expires_at", "DATE_FORMAT"),
            ({"name": "x", "scopes": ["all"]}, "scopes", "UNKNOWN_FIELD"),
        ],
    )
    def test_invalid_bodies_are_422(
        self, tenant: TenantHandle, prefix: str, body: dict, field: str, constraint: str
    ) -> None:
        error = fails(
            tenant.client.post(f"{prefix}/api-key-generate", json=body), 422, "VALIDATION_ERROR"
        )
        assert detail(error, field)["constraint"] == constraint

    def test_malformed_json_is_400(self, tenant: TenantHandle, prefix: str) -> None:
        fails(
            tenant.client.post(f"{prefix}/api-key-generate", content=b"[1"),
            400,
            "BAD_REQUEST",
            "Invalid JSON in request body",
        )


class TestListAndRevoke:
    def test_the_list_shows_metadata_but_never_the_key_or_its_hash(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        created = ok(tenant.client.post(f"{prefix}/api-key-generate", json={"name": "listed"}), 201)
        data = ok(tenant.client.get(f"{prefix}/api-key-generate", params={"search": "listed"}))
        assert data["pagination"] == {"total": 1, "offset": 0, "limit": 100}
        item = data["api_keys"][0]
        assert list(item) == [
            "id",
            "name",
            "key_prefix",
            "role",
            "active",
            "expires_at",
            "last_used_at",
            "created_at",
            "created_by",
            "revoked_at",
        ]
        admin_id = ok(tenant.client.get(f"{prefix}/api-key-generate", params={"search": "admin"}))[
            "api_keys"
        ][0]["id"]
        assert (item["id"], item["active"], item["created_by"]) == (created["id"], True, admin_id)
        raw = tenant.client.get(f"{prefix}/api-key-generate").text
        assert "key_hash" not in raw
        assert created["api_key"] not in raw

    def test_list_filters_and_sorting(self, tenant: TenantHandle, prefix: str) -> None:
        roles = [
            k["role"]
            for k in ok(tenant.client.get(f"{prefix}/api-key-generate", params={"role": "admin"}))[
                "api_keys"
            ]
        ]
        assert roles == ["admin"]
        names = [
            k["name"]
            for k in ok(
                tenant.client.get(
                    f"{prefix}/api-key-generate", params={"sort": "name", "order": "asc"}
                )
            )["api_keys"]
        ]
        assert names == sorted(names)
        for params in (
            {"role": "owner"},
            {"active": "maybe"},
            {"sort": "key_hash"},
            {"order": "sideways"},
            {"limit": "x"},
            {"search": "x" * 201},
        ):
            fails(
                tenant.client.get(f"{prefix}/api-key-generate", params=params), 400, "BAD_REQUEST"
            )

    def test_a_bad_sort_lists_the_allowed_fields_in_details(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        error = fails(
            tenant.client.get(f"{prefix}/api-key-generate", params={"sort": "key_hash"}),
            400,
            "BAD_REQUEST",
        )
        assert (
            detail(error, "sort")["message"]
            == "Invalid sort field 'key_hash'. Allowed: created_at, name, last_used_at"
        )

    def test_sort_and_order_are_trimmed_and_case_insensitive_like_every_list(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        names = [
            k["name"]
            for k in ok(
                tenant.client.get(
                    f"{prefix}/api-key-generate", params={"sort": " name ", "order": " DESC "}
                )
            )["api_keys"]
        ]
        assert names == sorted(names, reverse=True)

    def test_get_by_id_is_400_and_patch_is_405(self, tenant: TenantHandle, prefix: str) -> None:
        key_id = ok(tenant.client.get(f"{prefix}/api-key-generate"))["api_keys"][0]["id"]
        fails(
            tenant.client.get(f"{prefix}/api-key-generate", params={"id": key_id}),
            400,
            "BAD_REQUEST",
        )
        resp = tenant.client.patch(
            f"{prefix}/api-key-generate", params={"id": key_id}, json={"name": "x"}
        )
        fails(resp, 405, "METHOD_NOT_ALLOWED")
        assert resp.headers["allow"] == "GET, POST, DELETE, OPTIONS"

    def test_revoking_deactivates_and_is_repeatable(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        created = ok(
            tenant.client.post(f"{prefix}/api-key-generate", json={"name": "to revoke"}), 201
        )
        for _ in range(2):
            data = ok(
                tenant.client.delete(f"{prefix}/api-key-generate", params={"id": created["id"]})
            )
            assert data == {"message": "API key revoked successfully", "id": created["id"]}
        item = ok(tenant.client.get(f"{prefix}/api-key-generate", params={"active": "false"}))[
            "api_keys"
        ][0]
        assert (item["id"], item["active"]) == (created["id"], False)
        assert item["revoked_at"] is not None
        fails(
            tenant.client_for(created["api_key"]).get(f"{prefix}/api-jobs"),
            401,
            "UNAUTHORIZED",
            "Invalid API key",
        )

    def test_the_last_active_admin_key_can_not_be_revoked(
        self, tenant: TenantHandle, prefix: str
    ) -> None:
        admin_id = ok(tenant.client.get(f"{prefix}/api-key-generate", params={"role": "admin"}))[
            "api_keys"
        ][0]["id"]
        fails(
            tenant.client.delete(f"{prefix}/api-key-generate", params={"id": admin_id}),
            409,
            "CONFLICT",
        )
        second = ok(
            tenant.client.post(
                f"{prefix}/api-key-generate", json={"name": "second admin", "role": "admin"}
            ),
            201,
        )
        ok(tenant.client.delete(f"{prefix}/api-key-generate", params={"id": admin_id}))
        fails(
            tenant.client_for(second["api_key"]).delete(
                f"{prefix}/api-key-generate", params={"id": second["id"]}
            ),
            409,
            "CONFLICT",
        )

    def test_another_tenants_key_is_404_and_a_missing_id_is_400(
        self, tenant: TenantHandle, other_tenant: TenantHandle, prefix: str
    ) -> None:
        theirs = ok(other_tenant.client.get(f"{prefix}/api-key-generate"))["api_keys"][0]["id"]
        fails(
            tenant.client.delete(f"{prefix}/api-key-generate", params={"id": theirs}),
            404,
            "NOT_FOUND",
            f"api_keys with ID {theirs} not found",
        )
        fails(
            tenant.client.delete(f"{prefix}/api-key-generate"),
            400,
            "BAD_REQUEST",
            "ID parameter is required (?id=<uuid>)",
        )
        ok(other_tenant.client.get(f"{prefix}/api-jobs"))  # still works


def test_two_admins_revoking_each_other_at_once_leave_one_admin(
    tenant: TenantHandle, prefix: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    first_id = ok(tenant.client.get(f"{prefix}/api-key-generate", params={"role": "admin"}))[
        "api_keys"
    ][0]["id"]
    second = ok(
        tenant.client.post(
            f"{prefix}/api-key-generate", json={"name": "second admin", "role": "admin"}
        ),
        201,
    )
    calls = [(tenant.client, second["id"]), (tenant.client_for(second["api_key"]), first_id)]
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(
            pool.map(
                lambda c: (
                    c[0].delete(f"{prefix}/api-key-generate", params={"id": c[1]}).status_code
                ),
                calls,
            )
        )
    assert statuses[0] == 200
    assert statuses[1] in (401, 409)  # refused, or the caller's own key was revoked first
    admins = []
    for client in (tenant.client, tenant.client_for(second["api_key"])):
        resp = client.get(f"{prefix}/api-key-generate", params={"role": "admin", "active": "true"})
        if resp.status_code == 200:
            admins = resp.json()["data"]["api_keys"]
    assert len(admins) == 1
