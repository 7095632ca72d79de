"""String enums stored as named CHECK constraints (never native PostgreSQL enums)."""

from enum import StrEnum

from sqlalchemy import Enum


class WorkStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    on_hold = "on_hold"
    completed = "completed"


class BatchStatus(StrEnum):
    draft = "draft"
    ready = "ready"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class BatchType(StrEnum):
    laser_nesting = "laser_nesting"
    tube_batch = "tube_batch"
    saw_batch = "saw_batch"
    finishing_batch = "finishing_batch"
    general = "general"


class ProductionMode(StrEnum):
    manual = "manual"
    automated = "automated"


class AssignmentStatus(StrEnum):
    assigned = "assigned"
    accepted = "accepted"
    in_progress = "in_progress"
    completed = "completed"


class TimeType(StrEnum):
    setup = "setup"
    run = "run"
    rework = "rework"
    wait = "wait"
    breakdown = "breakdown"


class TimeEntryOrigin(StrEnum):
    api = "api"
    operation_lifecycle = "operation_lifecycle"
    batch_lifecycle = "batch_lifecycle"


class ApiKeyRole(StrEnum):
    admin = "admin"
    integration = "integration"


class SyncEntity(StrEnum):
    """`sync_runs.entity_type` (a CHECK constraint): the synced entities of entities/registry.py,
    in api-erp-sync's processing order, operators last (tests/entities/test_registry.py)."""

    cells = "cells"
    resources = "resources"
    materials = "materials"
    jobs = "jobs"
    parts = "parts"
    operations = "operations"
    operators = "operators"


class SyncTrigger(StrEnum):
    bulk_sync = "bulk_sync"
    erp_sync = "erp_sync"
    csv_import = "csv_import"
    planning_pull = "planning_pull"


class RunStatus(StrEnum):
    running = "running"
    completed = "completed"
    partial = "partial"
    failed = "failed"


class IdempotencyState(StrEnum):
    in_progress = "in_progress"
    completed = "completed"


class WebhookDisabledReason(StrEnum):
    manual = "manual"
    gone = "gone"
    failing = "failing"


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class DeliveryFailure(StrEnum):
    exhausted = "exhausted"
    expired = "expired"
    gone = "gone"
    rejected = "rejected"


class AttemptOutcome(StrEnum):
    succeeded = "succeeded"
    http_error = "http_error"
    timeout = "timeout"
    connection_error = "connection_error"
    refused = "refused"
    # The event's stored data couldn't be rendered; nothing was sent (issue 8).
    render_error = "render_error"


class WorkerJobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class PlanningSystemName(StrEnum):
    """A planning connection's system; also the external_source of what it pulls."""

    frepple = "frepple"
    odoo = "odoo"


class PlanningAuthMethod(StrEnum):
    basic = "basic"
    api_key = "api_key"


class PlanningRunKind(StrEnum):
    pull_resources = "pull_resources"
    pull_work_orders = "pull_work_orders"
    push_order_start = "push_order_start"
    push_order_completion = "push_order_completion"


class PlanningTrigger(StrEnum):
    schedule = "schedule"
    cli = "cli"
    event = "event"


class PlanningPushKind(StrEnum):
    order_start = "order_start"
    order_completion = "order_completion"


class PlanningErrorClass(StrEnum):
    unavailable = "unavailable"
    auth = "auth"
    rejected = "rejected"
    protocol = "protocol"


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class CsvImportStatus(StrEnum):
    """`csv_imports.status` (CSV import §11.2)."""

    uploaded = "uploaded"
    mapped = "mapped"
    previewed = "previewed"
    queued = "queued"
    running = "running"
    completed = "completed"
    partial = "partial"
    failed = "failed"
    cancelled = "cancelled"


class ImportChannel(StrEnum):
    admin_ui = "admin_ui"
    cli = "cli"


class ImportPhase(StrEnum):
    preview = "preview"
    import_ = "import"


class IssueSeverity(StrEnum):
    error = "error"
    warning = "warning"
