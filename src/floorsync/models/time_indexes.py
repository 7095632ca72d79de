"""Indexes that serve the lists' time filters (`updated_since`/`updated_before` on every entity
list, `synced_since`/`synced_before` on the ERP-synced ones): `(tenant_id, updated_at)` and
`(tenant_id, synced_at)`. A list is always tenant-scoped, so the tenant leads; the time column
then gives a range scan in the order the incremental reads ask for (time, then id).

Declared here, next to each other, rather than in every model's `__table_args__`: they exist for
one feature (entities/listing.py) and migration 0007 creates exactly this set.
"""

from sqlalchemy import Index

from floorsync.models.master import Cell, Job, Material, Operation, Operator, Part, Resource
from floorsync.models.shopfloor import Assignment, Batch, OperationQuantity, TimeEntry

SYNCED_TABLES = (Cell, Resource, Material, Job, Part, Operation, Operator)
SHOP_FLOOR_TABLES = (Batch, TimeEntry, Assignment, OperationQuantity)

UPDATED_AT_INDEXES = tuple(
    Index(f"ix_{m.__tablename__}_tenant_id_updated_at", m.tenant_id, m.updated_at)
    for m in (*SYNCED_TABLES, *SHOP_FLOOR_TABLES)
)
SYNCED_AT_INDEXES = tuple(
    Index(f"ix_{m.__tablename__}_tenant_id_synced_at", m.tenant_id, m.synced_at)
    for m in SYNCED_TABLES
)
