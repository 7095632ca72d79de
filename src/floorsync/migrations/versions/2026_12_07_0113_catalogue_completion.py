"""catalogue completion (api-catalogue-completion §14): scrap reasons, issues and NCRs,
substeps, templates and their items, batch exceptions, stored files; jobs.template_id,
parts.template_id, operations.status_before_hold; the scrap-reason foreign key of
operation_quantities; sync_runs may record scrap_reasons runs

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-07 01:13:23
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from floorsync.db.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_SYNC_BEFORE = ("cells", "resources", "materials", "jobs", "parts", "operations", "operators")
_SYNC_AFTER = (*_SYNC_BEFORE, "scrap_reasons")


def _sync_entity_type(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="sync_entity", native_enum=False, create_constraint=True, length=32
    )


def _sync_entity(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    # A CHECK constraint (ck_sync_runs_sync_entity): batch mode rebuilds the table on SQLite
    # and alters the constraint in place on PostgreSQL.
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.alter_column(
            "entity_type",
            existing_type=_sync_entity_type(before),
            type_=_sync_entity_type(after),
            existing_nullable=False,
        )


def _legacy_scrap_reasons() -> None:
    """§14.4: before the foreign key exists, every stored scrap_reason_id that names no reason
    gets an inactive placeholder with that id, so existing quantities keep their reference."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT DISTINCT tenant_id, scrap_reason_id FROM operation_quantities "
            "WHERE scrap_reason_id IS NOT NULL"
        )
    ).all()
    if not rows:
        return
    now = datetime.now(UTC)
    table = sa.table(
        "scrap_reasons",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("description", sa.String()),
        sa.column("category", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("metadata", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    values = []
    for tenant_id, reason_id in rows:
        rid = reason_id if isinstance(reason_id, uuid.UUID) else uuid.UUID(str(reason_id))
        tid = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
        values.append(
            {
                "id": rid,
                "tenant_id": tid,
                "code": f"LEGACY-{rid.hex[:8]}",
                "description": f"Imported reason {rid}",
                "category": "other",
                "active": False,
                "metadata": {},
                "created_at": now,
                "updated_at": now,
            }
        )
    op.bulk_insert(table, values)


# SQLite reflects foreign keys without names; batch mode names them by this convention so
# that the downgrade can drop them.
_FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    op.create_table(
        "scrap_reasons",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "material",
                "process",
                "equipment",
                "operator",
                "design",
                "other",
                name="scrap_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(create_constraint=True, name="active_bool"), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("external_source", sa.String(length=100), nullable=True),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
        sa.Column("sync_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(external_id IS NULL) = (external_source IS NULL)",
            name=op.f("ck_scrap_reasons_external_ref"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scrap_reasons_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scrap_reasons")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_scrap_reasons_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name="uq_scrap_reasons_tenant_id_id"),
    )
    with op.batch_alter_table("scrap_reasons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scrap_reasons_tenant_id_category_code",
            ["tenant_id", "category", "code"],
            unique=False,
        )
        batch_op.create_index(
            "uq_scrap_reasons_external_key",
            ["tenant_id", "external_source", "external_id"],
            unique=True,
            postgresql_where=sa.text("external_id IS NOT NULL"),
            sqlite_where=sa.text("external_id IS NOT NULL"),
        )

    op.create_table(
        "templates",
        sa.Column(
            "kind",
            sa.Enum(
                "substeps",
                "part",
                "job",
                name="template_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("operation_type", sa.String(length=100), nullable=True),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'substeps') = (body IS NULL)", name=op.f("ck_templates_body_kind")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("tenant_id", "id", name="uq_templates_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_templates_tenant_id_name")),
    )
    op.create_table(
        "template_items",
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("icon_name", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_template_items_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "template_id"],
            ["templates.tenant_id", "templates.id"],
            name=op.f("fk_template_items_tenant_id_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_template_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_items")),
        sa.UniqueConstraint(
            "template_id", "sequence", name=op.f("uq_template_items_template_id_sequence")
        ),
    )
    op.create_table(
        "stored_files",
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "attachment",
                "part_image",
                name="file_purpose",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "uploading",
                "stored",
                "deleted",
                name="file_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("max_bytes", sa.BigInteger(), nullable=False),
        sa.Column("expected_bytes", sa.BigInteger(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "backend",
            sa.Enum(
                "local",
                "s3",
                name="storage_backend",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("part_id", sa.Uuid(), nullable=True),
        sa.Column("upload_expires_at", UTCDateTime(), nullable=False),
        sa.Column("upload_lease_until", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("stored_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "purpose <> 'part_image' OR part_id IS NOT NULL OR state = 'deleted'",
            name=op.f("ck_stored_files_image_has_part"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_stored_files_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["part_id"],
            ["parts.id"],
            name=op.f("fk_stored_files_part_id_parts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_stored_files_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("tenant_id", "path", name=op.f("uq_stored_files_tenant_id_path")),
    )
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stored_files_part_id_purpose",
            ["part_id", "purpose"],
            unique=False,
            postgresql_where=sa.text("state = 'stored'"),
            sqlite_where=sa.text("state = 'stored'"),
        )
        batch_op.create_index(
            "ix_stored_files_purge",
            ["state", "upload_expires_at"],
            unique=False,
            postgresql_where=sa.text("state <> 'stored'"),
            sqlite_where=sa.text("state <> 'stored'"),
        )

    op.create_table(
        "batch_exceptions",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "exception_type",
            sa.Enum(
                "non_occurrence",
                name="batch_exception_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "resolved",
                name="batch_exception_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("expected_at", UTCDateTime(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("overdue_minutes", sa.Integer(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "overdue_minutes >= 0", name=op.f("ck_batch_exceptions_overdue_minutes_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "batch_id"],
            ["batches.tenant_id", "batches.id"],
            name=op.f("fk_batch_exceptions_tenant_id_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "operation_id"],
            ["operations.tenant_id", "operations.id"],
            name=op.f("fk_batch_exceptions_tenant_id_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_batch_exceptions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_exceptions")),
    )
    with op.batch_alter_table("batch_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_batch_exceptions_tenant_id_status", ["tenant_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_batch_exceptions_open",
            ["batch_id", "operation_id"],
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "issues",
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                "critical",
                name="quality_issue_severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "closed",
                name="quality_issue_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "issue_type",
            sa.Enum(
                "general",
                "ncr",
                name="quality_issue_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ncr_number", sa.String(length=50), nullable=True),
        sa.Column(
            "ncr_category",
            sa.Enum(
                "material",
                "material_defect",
                "dimensional",
                "surface_finish",
                "process",
                "process_error",
                "equipment",
                "design",
                "supplier",
                "documentation",
                "other",
                name="ncr_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "disposition",
            sa.Enum(
                "scrap",
                "rework",
                "repair",
                "use_as_is",
                "return_to_supplier",
                name="ncr_disposition",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("affected_quantity", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("corrective_action", sa.Text(), nullable=True),
        sa.Column("preventive_action", sa.Text(), nullable=True),
        sa.Column("resolution_notes", sa.Text(), nullable=True),
        sa.Column(
            "verification_required",
            sa.Boolean(create_constraint=True, name="verification_required_bool"),
            nullable=False,
        ),
        sa.Column(
            "causes_standstill",
            sa.Boolean(create_constraint=True, name="causes_standstill_bool"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("reported_by_id", sa.String(length=64), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("current_cell_id", sa.Uuid(), nullable=True),
        sa.Column("intended_next_cell_id", sa.Uuid(), nullable=True),
        sa.Column(
            "image_paths",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "affected_quantity IS NULL OR affected_quantity >= 0",
            name=op.f("ck_issues_affected_quantity"),
        ),
        sa.ForeignKeyConstraint(
            ["current_cell_id"],
            ["cells.id"],
            name=op.f("fk_issues_current_cell_id_cells"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["intended_next_cell_id"],
            ["cells.id"],
            name=op.f("fk_issues_intended_next_cell_id_cells"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "operation_id"],
            ["operations.tenant_id", "operations.id"],
            name=op.f("fk_issues_tenant_id_operation_id_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_issues_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issues_open_standstill",
            ["operation_id"],
            unique=False,
            postgresql_where=sa.text("causes_standstill AND status = 'pending'"),
            sqlite_where=sa.text("causes_standstill AND status = 'pending'"),
        )
        batch_op.create_index("ix_issues_operation_id", ["operation_id"], unique=False)
        batch_op.create_index(
            "ix_issues_tenant_id_created_at", ["tenant_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_issues_tenant_id_status", ["tenant_id", "status"], unique=False)
        batch_op.create_index(
            "uq_issues_tenant_id_ncr_number",
            ["tenant_id", "ncr_number"],
            unique=True,
            postgresql_where=sa.text("ncr_number IS NOT NULL"),
            sqlite_where=sa.text("ncr_number IS NOT NULL"),
        )

    op.create_table(
        "substeps",
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "completed",
                "blocked",
                name="substep_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("icon_name", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_at IS NOT NULL)",
            name=op.f("ck_substeps_completed"),
        ),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_substeps_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "operation_id"],
            ["operations.tenant_id", "operations.id"],
            name=op.f("fk_substeps_tenant_id_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_substeps_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substeps")),
    )
    with op.batch_alter_table("substeps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_substeps_operation_id_sequence", ["operation_id", "sequence"], unique=False
        )
        batch_op.create_index("ix_substeps_tenant_id_status", ["tenant_id", "status"], unique=False)

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_jobs_template_id_templates"),
            "templates",
            ["template_id"],
            ["id"],
            ondelete="SET NULL",
        )

    _legacy_scrap_reasons()
    with op.batch_alter_table("operation_quantities", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_operation_quantities_tenant_id_scrap_reason_id_scrap_reasons"),
            "scrap_reasons",
            ["tenant_id", "scrap_reason_id"],
            ["tenant_id", "id"],
        )

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_before_hold",
                sa.Enum(
                    "not_started",
                    "in_progress",
                    "on_hold",
                    "completed",
                    name="status_before_hold",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )

    with op.batch_alter_table("parts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_parts_template_id_templates"),
            "templates",
            ["template_id"],
            ["id"],
            ondelete="SET NULL",
        )

    _sync_entity(_SYNC_BEFORE, _SYNC_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM sync_runs WHERE entity_type = 'scrap_reasons'")
    _sync_entity(_SYNC_AFTER, _SYNC_BEFORE)
    with op.batch_alter_table("parts", schema=None, naming_convention=_FK_NAMES) as batch_op:
        batch_op.drop_constraint("fk_parts_template_id_templates", type_="foreignkey")
        batch_op.drop_column("template_id")

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_constraint("status_before_hold", type_="check")
        batch_op.drop_column("status_before_hold")

    with op.batch_alter_table(
        "operation_quantities", schema=None, naming_convention=_FK_NAMES
    ) as batch_op:
        batch_op.drop_constraint(
            "fk_operation_quantities_tenant_id_scrap_reason_id_scrap_reasons",
            type_="foreignkey",
        )

    with op.batch_alter_table("jobs", schema=None, naming_convention=_FK_NAMES) as batch_op:
        batch_op.drop_constraint("fk_jobs_template_id_templates", type_="foreignkey")
        batch_op.drop_column("template_id")

    with op.batch_alter_table("substeps", schema=None) as batch_op:
        batch_op.drop_index("ix_substeps_tenant_id_status")
        batch_op.drop_index("ix_substeps_operation_id_sequence")

    op.drop_table("substeps")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_issues_tenant_id_ncr_number",
            postgresql_where=sa.text("ncr_number IS NOT NULL"),
            sqlite_where=sa.text("ncr_number IS NOT NULL"),
        )
        batch_op.drop_index("ix_issues_tenant_id_status")
        batch_op.drop_index("ix_issues_tenant_id_created_at")
        batch_op.drop_index("ix_issues_operation_id")
        batch_op.drop_index(
            "ix_issues_open_standstill",
            postgresql_where=sa.text("causes_standstill AND status = 'pending'"),
            sqlite_where=sa.text("causes_standstill AND status = 'pending'"),
        )

    op.drop_table("issues")
    with op.batch_alter_table("batch_exceptions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_batch_exceptions_open",
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_batch_exceptions_tenant_id_status")

    op.drop_table("batch_exceptions")
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_stored_files_purge",
            postgresql_where=sa.text("state <> 'stored'"),
            sqlite_where=sa.text("state <> 'stored'"),
        )
        batch_op.drop_index(
            "ix_stored_files_part_id_purpose",
            postgresql_where=sa.text("state = 'stored'"),
            sqlite_where=sa.text("state = 'stored'"),
        )

    op.drop_table("stored_files")
    op.drop_table("template_items")
    op.drop_table("templates")
    with op.batch_alter_table("scrap_reasons", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_scrap_reasons_external_key",
            postgresql_where=sa.text("external_id IS NOT NULL"),
            sqlite_where=sa.text("external_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_scrap_reasons_tenant_id_category_code")

    op.drop_table("scrap_reasons")
