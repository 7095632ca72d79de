"""csv_imports, csv_import_files, csv_import_issues, csv_import_mappings (data model §7.3–§7.6, CSV import §18)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07 01:13:35.604547
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from floorsync.db.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "csv_import_mappings",
        sa.Column(
            "entity_type",
            sa.Enum(
                "cells",
                "resources",
                "materials",
                "jobs",
                "parts",
                "operations",
                "operators",
                name="sync_entity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_csv_import_mappings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_import_mappings")),
        sa.UniqueConstraint(
            "tenant_id",
            "entity_type",
            "signature",
            name=op.f("uq_csv_import_mappings_tenant_id_entity_type_signature"),
        ),
    )
    op.create_table(
        "csv_imports",
        sa.Column(
            "channel",
            sa.Enum(
                "admin_ui",
                "cli",
                name="import_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "uploaded",
                "mapped",
                "previewed",
                "queued",
                "running",
                "completed",
                "partial",
                "failed",
                "cancelled",
                name="csv_import_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "phase",
            sa.Enum(
                "preview",
                "import",
                name="import_phase",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("external_source", sa.String(length=100), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("deleted_count", sa.Integer(), nullable=False),
        sa.Column(
            "preview",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "file_counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("sync_group_id", sa.Uuid(), nullable=True),
        sa.Column("error_report", sa.LargeBinary(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_csv_imports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_imports")),
    )
    with op.batch_alter_table("csv_imports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_csv_imports_claim",
            ["status", "locked_until"],
            unique=False,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.create_index(
            "ix_csv_imports_tenant_id_created_at", ["tenant_id", "created_at"], unique=False
        )

    op.create_table(
        "csv_import_files",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("encoding", sa.String(length=16), nullable=True),
        sa.Column("delimiter", sa.String(length=1), nullable=True),
        sa.Column(
            "entity_type",
            sa.Enum(
                "cells",
                "resources",
                "materials",
                "jobs",
                "parts",
                "operations",
                "operators",
                name="sync_entity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "header",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("next_row", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["csv_imports.id"],
            name=op.f("fk_csv_import_files_import_id_csv_imports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_csv_import_files_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_import_files")),
        sa.UniqueConstraint(
            "import_id", "position", name=op.f("uq_csv_import_files_import_id_position")
        ),
    )
    op.create_table(
        "csv_import_issues",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column(
            "phase",
            sa.Enum(
                "preview",
                "import",
                name="import_phase",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("file_position", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("column", sa.String(length=255), nullable=True),
        sa.Column("column_number", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column(
            "entity_type",
            sa.Enum(
                "cells",
                "resources",
                "materials",
                "jobs",
                "parts",
                "operations",
                "operators",
                name="sync_entity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "error",
                "warning",
                name="issue_severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["csv_imports.id"],
            name=op.f("fk_csv_import_issues_import_id_csv_imports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_csv_import_issues_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_import_issues")),
    )
    with op.batch_alter_table("csv_import_issues", schema=None) as batch_op:
        batch_op.create_index(
            "ix_csv_import_issues_import_id_phase_file_position_line",
            ["import_id", "phase", "file_position", "line"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("csv_import_issues", schema=None) as batch_op:
        batch_op.drop_index("ix_csv_import_issues_import_id_phase_file_position_line")

    op.drop_table("csv_import_issues")
    op.drop_table("csv_import_files")
    with op.batch_alter_table("csv_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_csv_imports_tenant_id_created_at")
        batch_op.drop_index(
            "ix_csv_imports_claim",
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )

    op.drop_table("csv_imports")
    op.drop_table("csv_import_mappings")
