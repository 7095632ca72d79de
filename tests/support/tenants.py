"""Fresh tenants with an admin and an integration key, and HTTP clients that use them."""

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from floorsync.auth.api_keys import issue_key
from floorsync.auth.tenants import create_tenant
from floorsync.kit.clock import SystemClock
from floorsync.models.enums import ApiKeyRole
from tests.support.server import LiveServer


@dataclass
class TenantHandle:
    id: uuid.UUID
    admin_key: str
    integration_key: str
    client: httpx.Client  # authenticated with the admin key
    base_url: str
    _clients: list[httpx.Client] = field(default_factory=list)

    def client_for(self, key: str | None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kw)
        self._clients.append(client)
        return client

    def close(self) -> None:
        self.client.close()
        for c in self._clients:
            c.close()


def make_tenant(
    server: LiveServer, sessions: sessionmaker[Session], name: str = "test"
) -> TenantHandle:
    now = SystemClock().now()
    with sessions.begin() as session:
        tenant = create_tenant(session, f"{name}-{uuid.uuid4().hex[:8]}", now)
        _a, admin = issue_key(session, tenant.id, name="admin", role=ApiKeyRole.admin, now=now)
        _i, integration = issue_key(
            session, tenant.id, name="integration", role=ApiKeyRole.integration, now=now
        )
        tenant_id = tenant.id
    client = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {admin}"}, timeout=60
    )
    return TenantHandle(tenant_id, admin, integration, client, server.base_url)
