"""A bounded schemathesis run over the app's own OpenAPI document against the live test server:
every documented operation, a few generated requests each (schema-conforming and not), with a
valid key of a fresh tenant; no answer may be a 5xx. The hardening review ran about 30,000 such
requests; this keeps a small, derandomized slice of it (about 360 requests) in every run.

Driven by hand rather than through schemathesis' pytest plugin, whose lazy fixture loading
relies on pytest internals that pytest 9 no longer has.
"""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from tests.support.server import LiveServer
from tests.support.tenants import make_tenant

EXAMPLES_PER_OPERATION = 4


def test_no_generated_request_to_any_documented_operation_gets_a_5xx(
    server: LiveServer, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(server, sessions, name="schemathesis")
    headers = {"Authorization": f"Bearer {tenant.admin_key}"}
    # The hosted prefix (/functions/v1/…) serves the same handlers: once is enough.
    schema = schemathesis.openapi.from_dict(server.app.openapi()).exclude(
        path_regex=r"^/functions/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80
    failures: list[str] = []
    try:
        for operation in operations:
            cases = st.one_of(
                operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
                operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
            )

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=cases)
            def send(case: Any) -> None:
                response = case.call(base_url=server.base_url, headers=headers, timeout=30)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:300]}"
                        f" → {response.status_code} {response.text[:300]}"
                    )

            send()
    finally:
        tenant.close()
    assert failures == []
