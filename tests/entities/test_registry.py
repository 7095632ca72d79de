"""One explicit entity registry (entities/registry.py): a program that imports only the sync
machinery syncs nested records (the specs it reaches by name are found without the app having
imported them), and the lists that lower layers must write out themselves stay equal to it."""

import importlib
import json
import pkgutil
import subprocess
import sys
import uuid

from sqlalchemy.orm import Session, sessionmaker

import floorsync
from floorsync.db.repository import TenantScope, scoped
from floorsync.entities import registry
from floorsync.entities.spec import EntitySpec, get_spec
from floorsync.events.registry import CATALOGUE, RECORD_ENTITIES, SYNC_ENTITIES
from floorsync.models.enums import SyncEntity
from floorsync.models.master import Job, Operation, Part

# Imports the sync service, the unit of work and one entity module, nothing else of floorsync;
# syncs a job with a nested part and operation through the service; prints what it saw.
SYNC_ONLY = """
import json, sys

from floorsync.auth.tenants import create_tenant
from floorsync.db.engine import make_engine, make_sessionmaker
from floorsync.db.repository import TenantScope
from floorsync.db.uow import unit_of_work
from floorsync.entities.jobs import JOBS
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import SystemClock
from floorsync.models.enums import SyncTrigger
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import run_sync

engine = make_engine(sys.argv[1])
sessions, clock = make_sessionmaker(engine), SystemClock()
with sessions.begin() as session:
    tenant_id = create_tenant(session, "sync-only", clock.now()).id
job = {
    "job_number": "J-1", "external_id": "SO-1", "external_source": "erp",
    "parts": [{"part_number": "P-1", "external_id": "SO-1-10", "external_source": "erp",
               "operations": [{"operation_name": "Laser", "external_id": "SO-1-10-1",
                               "external_source": "erp"}]}],
}
outcome = run_sync(
    lambda: unit_of_work(sessions, Outbox(clock), TenantScope(tenant_id)),
    [(JOBS, [job])],
    SyncOptions(),
    trigger=SyncTrigger.bulk_sync,
)
assert outcome.committed and outcome.group_id is not None
result = outcome.reports[0].results[0]
children = {k: [c.action for c in v] for k, v in (result.children or {}).items()}
print(json.dumps({
    "tenant_id": str(tenant_id),
    "action": result.action,
    "error": result.error and str(result.error),
    "children": children,
    "transports": sorted(m for m in sys.modules if m.startswith(("floorsync.http", "floorsync.app"))),
}))
engine.dispose()
"""


class TestAProgramWithoutTheApp:
    def test_syncs_a_job_with_nested_parts_and_operations_in_a_fresh_interpreter(
        self, database_url: str, sessions: sessionmaker[Session]
    ) -> None:
        done = subprocess.run(
            [sys.executable, "-c", SYNC_ONLY, database_url],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/tmp",
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.splitlines()[-1])
        assert (out["action"], out["error"]) == ("created", None)
        assert out["children"] == {"parts": ["created"]}
        assert out["transports"] == []  # neither the app nor the HTTP layer was imported
        scope = TenantScope(uuid.UUID(out["tenant_id"]))
        with sessions() as s:
            job = s.scalars(scoped(Job, scope)).one()
            part = s.scalars(scoped(Part, scope)).one()
            operation = s.scalars(scoped(Operation, scope)).one()
        assert (job.job_number, job.external_id) == ("J-1", "SO-1")
        assert (part.part_number, part.job_id, part.external_id) == ("P-1", job.id, "SO-1-10")
        assert (operation.operation_name, operation.part_id) == ("Laser", part.id)


def defined_specs() -> dict[str, EntitySpec]:
    """Every EntitySpec bound at the top level of a floorsync module, by entity name."""
    found: dict[str, EntitySpec] = {}
    for info in pkgutil.walk_packages(floorsync.__path__, "floorsync."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, EntitySpec) and not name.startswith("_"):
                assert found.setdefault(value.name, value) is value, value.name
    return found


class TestTheRegistryIsTheOneList:
    def test_every_spec_defined_in_the_package_is_listed_once(self) -> None:
        names = [spec.name for spec in registry.ALL]
        assert len(names) == len(set(names))
        defined = defined_specs()
        assert set(defined) == set(names)
        assert all(defined[name] is registry.BY_NAME[name] for name in names)

    def test_get_spec_reads_the_registry(self) -> None:
        assert all(get_spec(spec.name) is spec for spec in registry.ALL)

    def test_erp_sync_sections_cover_the_master_data_and_reference_only_earlier_ones(
        self,
    ) -> None:
        order = [spec.name for spec in registry.ERP_SYNC_ORDER]
        assert sorted(order) == sorted(spec.name for spec in registry.MASTER_DATA)
        for position, spec in enumerate(registry.ERP_SYNC_ORDER):
            assert {ref.target for ref in spec.refs} <= set(order[: position + 1]), spec.name

    def test_the_sync_history_constraint_lists_exactly_the_synced_entities(self) -> None:
        synced = [spec.name for spec in registry.SYNCED]
        erp_first = [spec.name for spec in registry.ERP_SYNC_ORDER]
        assert [e.value for e in SyncEntity] == erp_first + [
            name for name in synced if name not in erp_first
        ]

    def test_the_event_catalogue_names_exactly_the_registered_entities(self) -> None:
        assert list(SYNC_ENTITIES) == [spec.name for spec in registry.SYNCED]
        assert set(RECORD_ENTITIES) == {
            spec.singular for spec in registry.ALL if spec.created_verb == "created"
        }
        for spec in registry.ALL:
            for verb in (spec.created_verb, "updated", "deleted"):
                assert f"{spec.singular}.{verb}" in CATALOGUE
        record_types = {
            t.entity for t in CATALOGUE.values() if t.entity not in ("sync", "webhook_endpoint")
        }
        # batch exceptions are the monitor's records, not an entity with CRUD routes
        assert record_types - {"batch_exception"} == {spec.singular for spec in registry.ALL}
