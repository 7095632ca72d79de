"""Database constraint violations → API errors, by constraint name (never SQL text)."""

from sqlalchemy.exc import IntegrityError

from floorsync.errors import Conflict, Detail, FloorsyncError, ValidationFailed

# name fragment → (field, message)
_UNIQUE = {
    "uq_jobs_job_number_live": ("job_number", "job_number already exists"),
    "uq_parts_part_number_live": ("part_number", "part_number already exists in this job"),
    "uq_cells_name_live": ("name", "a live cell with this name already exists"),
    "uq_resources_name_live": ("name", "a live resource with this name already exists"),
    "uq_materials_code_live": ("code", "a live material with this code already exists"),
    "external_key": ("external_id", "external key already used by another record"),
    "uq_batches_tenant_id_batch_number": ("batch_number", "batch_number already exists"),
    "uq_batch_operations_operation_open": (
        "operation_ids",
        "operation already belongs to another batch",
    ),
    "uq_time_entries_open": (
        "operation_id",
        "this operator already has an open time entry on this operation",
    ),
    "uq_operators_tenant_id_operator_id": ("operator_id", "operator_id already exists"),
    "uq_issues_tenant_id_ncr_number": ("ncr_number", "ncr_number already exists"),
}

# SQLite reports the columns, not the index name.
_SQLITE_COLUMNS = {
    "jobs.tenant_id, jobs.job_number": "uq_jobs_job_number_live",
    "parts.job_id, parts.part_number": "uq_parts_part_number_live",
    "cells.tenant_id, cells.name": "uq_cells_name_live",
    "resources.tenant_id, resources.name": "uq_resources_name_live",
    "materials.tenant_id, materials.code": "uq_materials_code_live",
    "external_source, ": "external_key",
    "batches.tenant_id, batches.batch_number": "uq_batches_tenant_id_batch_number",
    "batch_operations.operation_id": "uq_batch_operations_operation_open",
    "time_entries.operation_id, time_entries.operator_id": "uq_time_entries_open",
    "operators.tenant_id, operators.operator_id": "uq_operators_tenant_id_operator_id",
    "issues.tenant_id, issues.ncr_number": "uq_issues_tenant_id_ncr_number",
}


def constraint_name(exc: IntegrityError) -> str:
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    text = str(orig)
    for columns, mapped in _SQLITE_COLUMNS.items():
        if columns in text:
            return mapped
    return text


def _null_column(exc: IntegrityError) -> str | None:
    """The column of a NOT NULL violation, or None when the error is something else."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23502":
        return str(getattr(getattr(orig, "diag", None), "column_name", None) or "body")
    text = str(orig)
    if text.startswith("NOT NULL constraint failed: "):
        return text.rsplit(".", 1)[-1].strip()
    return None


def translate_integrity_error(exc: IntegrityError) -> FloorsyncError:
    column = _null_column(exc)
    if column is not None:  # a value the validation let through as null (a bug, but no 409)
        return ValidationFailed("record", [Detail(column, f"{column} cannot be null", "NOT_NULL")])
    name = constraint_name(exc)
    for fragment, (field, message) in _UNIQUE.items():
        if fragment in name:
            return Conflict(message, [Detail(field, message, "UNIQUE_CONSTRAINT")])
    if name.startswith("fk_") or "FOREIGN KEY" in name:
        return Conflict(
            "The record is referenced by other records or references a missing one",
            [Detail("id", "blocked by a reference", "REFERENCES_EXIST")],
        )
    if name.startswith("ck_") or "CHECK" in name:
        return ValidationFailed(
            "record", [Detail("body", "a value breaks a database rule", "INVALID_VALUE")]
        )
    return Conflict(
        "The change conflicts with existing data", [Detail("id", "conflict", "UNIQUE_CONSTRAINT")]
    )
