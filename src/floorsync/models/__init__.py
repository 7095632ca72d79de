"""Every table; importing this package registers them all on Base.metadata (for Alembic)."""

from floorsync.models import time_indexes  # noqa: F401  (the lists' time-filter indexes)
from floorsync.models.bookkeeping import IdempotencyKey, PeriodicTask, SyncRun, WorkerJob
from floorsync.models.catalogue import (
    BatchException,
    Issue,
    ScrapReason,
    StoredFile,
    Substep,
    Template,
    TemplateItem,
)
from floorsync.models.events import Event, EventSequence
from floorsync.models.imports import CsvImport, CsvImportFile, CsvImportIssue, CsvImportMapping
from floorsync.models.master import (
    Cell,
    Job,
    Material,
    Operation,
    OperationResource,
    Operator,
    Part,
    Resource,
)
from floorsync.models.planning import (
    PlanningConnection,
    PlanningFingerprint,
    PlanningPush,
    PlanningRun,
)
from floorsync.models.shopfloor import (
    Assignment,
    Batch,
    BatchOperation,
    OperationQuantity,
    TimeEntry,
)
from floorsync.models.tenancy import AdminSession, ApiKey, RateLimitCounter, Tenant
from floorsync.models.webhooks import Webhook, WebhookDelivery, WebhookLog

__all__ = [
    "AdminSession",
    "ApiKey",
    "Assignment",
    "Batch",
    "BatchException",
    "BatchOperation",
    "Cell",
    "CsvImport",
    "CsvImportFile",
    "CsvImportIssue",
    "CsvImportMapping",
    "Event",
    "EventSequence",
    "IdempotencyKey",
    "Issue",
    "Job",
    "Material",
    "Operation",
    "OperationQuantity",
    "OperationResource",
    "Operator",
    "Part",
    "PeriodicTask",
    "PlanningConnection",
    "PlanningFingerprint",
    "PlanningPush",
    "PlanningRun",
    "RateLimitCounter",
    "Resource",
    "ScrapReason",
    "StoredFile",
    "Substep",
    "SyncRun",
    "Template",
    "TemplateItem",
    "Tenant",
    "TimeEntry",
    "Webhook",
    "WebhookDelivery",
    "WebhookLog",
    "WorkerJob",
]
