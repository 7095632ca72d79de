"""Every entity floorsync serves, listed once. Everything that needs "all the entities" (the
app's routes, the sync routes, api-erp-sync's sections, `get_spec`) reads these tuples; an
entity module only defines its spec.

Lower layers can't import this module (the specs import the database and the shop-floor rules),
so where they must name entities themselves (the `sync_runs.entity_type` CHECK constraint in
`models/enums.py`, the event catalogue in `events/registry.py`) a test holds them equal to it
(tests/entities/test_registry.py).
"""

from floorsync.entities.cells import CELLS
from floorsync.entities.checklists.substeps import SUBSTEPS
from floorsync.entities.checklists.templates import TEMPLATES
from floorsync.entities.jobs import JOBS
from floorsync.entities.materials import MATERIALS
from floorsync.entities.operations import OPERATIONS
from floorsync.entities.operators import OPERATORS
from floorsync.entities.parts import PARTS
from floorsync.entities.quality.issues import ISSUES
from floorsync.entities.quality.scrap_reasons import SCRAP_REASONS
from floorsync.entities.resources import RESOURCES
from floorsync.entities.shopfloor.assignments import ASSIGNMENTS
from floorsync.entities.shopfloor.batches import BATCHES
from floorsync.entities.shopfloor.quantities import QUANTITIES
from floorsync.entities.shopfloor.time_entries import TIME_ENTRIES
from floorsync.entities.spec import EntitySpec

# The ERP's master data, in route order: generic CRUD routes (`api-jobs`, …), `/sync` and
# `/bulk-sync`, and a section of `api-erp-sync`.
MASTER_DATA: tuple[EntitySpec, ...] = (JOBS, PARTS, OPERATIONS, CELLS, RESOURCES, MATERIALS)
# What the shop floor records; their routes are in entities/shopfloor/endpoints.py (some handlers have
# rules of their own). Operators are also synced (the operator directory an HR system keeps).
SHOP_FLOOR: tuple[EntitySpec, ...] = (OPERATORS, BATCHES, TIME_ENTRIES, ASSIGNMENTS, QUANTITIES)
# The catalogue completion (api-catalogue-completion): scrap reasons are synced like operators;
# their routes are in quality/endpoints.py and checklists/endpoints.py.
CATALOGUE: tuple[EntitySpec, ...] = (SCRAP_REASONS, ISSUES, SUBSTEPS, TEMPLATES)
ALL: tuple[EntitySpec, ...] = MASTER_DATA + SHOP_FLOOR + CATALOGUE
BY_NAME: dict[str, EntitySpec] = {spec.name: spec for spec in ALL}

# The entities with `PUT /api-<name>/sync` and `POST /api-<name>/bulk-sync`, in route order.
SYNCED: tuple[EntitySpec, ...] = tuple(spec for spec in ALL if spec.synced)
# api-erp-sync's sections in processing order: a record may reference records of an earlier
# section of the same request (a part its job, an operation its part, cell and resources).
ERP_SYNC_ORDER: tuple[EntitySpec, ...] = (CELLS, RESOURCES, MATERIALS, JOBS, PARTS, OPERATIONS)
