"""Property: syncing the same batch twice changes nothing the second time (no row write, no
event), whatever the batch (hypothesis, through the real HTTP API)."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope, scoped
from floorsync.models.master import Job
from tests.support.api import events, ok
from tests.support.tenants import TenantHandle
from tests.sync.helpers import key

_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
_job = st.fixed_dictionaries(
    {"job_number": _text},
    optional={
        "customer_name": _text,
        "priority": st.one_of(st.integers(0, 1000), st.integers(0, 1000).map(str)),
        "due_date": st.dates().map(lambda d: d.isoformat()),
        "total_weight_kg": st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(
            str
        ),
        "status": st.sampled_from(["not_started", "in_progress", "on_hold", "completed"]),
        "metadata": st.dictionaries(
            _text,
            # The accepted JSON number range (README, Limits): larger ones are refused with 422.
            st.one_of(st.integers(-(2**63), 2**64 - 1), _text, st.booleans()),
            max_size=4,
        ),
        "parts": st.lists(
            st.fixed_dictionaries(
                {"part_number": _text}, optional={"quantity": st.integers(1, 50)}
            ),
            max_size=3,
        ),
    },
)


def _keyed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, job in enumerate(batch):
        ext = key()
        parts = [
            dict(p, external_id=f"{ext}-{n}", part_number=f"P{n}-{p['part_number']}")
            for n, p in enumerate(job.get("parts", []))
        ]
        out.append(
            {
                **job,
                "external_id": ext,
                "external_source": "PROP",
                "job_number": f"{ext}-{i}-{job['job_number']}",
                **({"parts": parts} if "parts" in job else {}),
            }
        )
    return out


class TestIdempotentSync:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(_job, min_size=1, max_size=8))
    def test_syncing_the_same_batch_twice_changes_nothing_the_second_time(
        self, tenant: TenantHandle, sessions: sessionmaker[Session], batch: list[dict[str, Any]]
    ) -> None:
        items = _keyed(batch)
        first = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": items}))
        assert first["failed"] == 0, first["records"]
        seen = len(events(sessions, tenant.id))
        with sessions() as session:
            stamps = {
                j.id: (j.updated_at, j.synced_at)
                for j in session.scalars(scoped(Job, TenantScope(tenant.id)))
            }
        second = ok(tenant.client.post("/api-jobs/bulk-sync", json={"items": items}))
        assert (second["skipped"], second["created"], second["updated"]) == (len(items), 0, 0)
        for record in second["records"]:
            assert all(
                p["action"] == "skipped" for p in record.get("children", {}).get("parts", [])
            )
        assert (
            len(events(sessions, tenant.id)) == seen
        )  # not even a sync summary: nothing was written
        with sessions() as session:
            assert {
                j.id: (j.updated_at, j.synced_at)
                for j in session.scalars(scoped(Job, TenantScope(tenant.id)))
            } == stamps
