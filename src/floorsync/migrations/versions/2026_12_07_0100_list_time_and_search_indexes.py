"""list indexes: (tenant_id, updated_at) on every entity table, (tenant_id, synced_at) on the
ERP-synced ones (the lists' time filters), and on PostgreSQL with pg_trgm a GIN trigram index
for `search` on jobs, parts and operations (entities/search_index.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

from alembic import op

from floorsync.entities.search_index import TRIGRAM_SEARCH, create_trigram_indexes, index_name

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYNCED = ("cells", "resources", "materials", "jobs", "parts", "operations", "operators")
SHOP_FLOOR = ("batches", "time_entries", "assignments", "operation_quantities")


def upgrade() -> None:
    for table in (*SYNCED, *SHOP_FLOOR):
        op.create_index(
            f"ix_{table}_tenant_id_updated_at", table, ["tenant_id", "updated_at"], unique=False
        )
    for table in SYNCED:
        op.create_index(
            f"ix_{table}_tenant_id_synced_at", table, ["tenant_id", "synced_at"], unique=False
        )
    # Only where the extension is available: without it `search` scans, as before.
    create_trigram_indexes(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRIGRAM_SEARCH:
            op.execute(f"DROP INDEX IF EXISTS {index_name(table)}")
    for table in SYNCED:
        op.drop_index(f"ix_{table}_tenant_id_synced_at", table_name=table)
    for table in (*SYNCED, *SHOP_FLOOR):
        op.drop_index(f"ix_{table}_tenant_id_updated_at", table_name=table)
