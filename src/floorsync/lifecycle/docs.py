"""OpenAPI documents of the three lifecycle functions: the bodies each action takes, the
answers, and realistic examples (API §5). Descriptive only: the handlers validate."""

from typing import Any

from floorsync.entities import examples
from floorsync.entities.jobs import JOBS
from floorsync.entities.openapi import json_body, record_schema
from floorsync.entities.operations import OPERATIONS
from floorsync.entities.shopfloor.batches import BATCHES
from floorsync.entities.shopfloor.time_entries import TIME_ENTRIES
from floorsync.models.enums import TimeType

_UUID = {"type": "string", "format": "uuid"}
_TS = {"type": "string", "format": "date-time", "description": "UTC, RFC 3339 (`…Z`)"}
_STATUS = {"type": "string"}
_OPERATOR = {
    "operator_id": {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "description": "the operator (badge or employee number); registered on first use",
    },
    "operator_name": {"type": "string", "maxLength": 200, "description": "shown name"},
    "time_type": {"type": "string", "enum": [t.value for t in TimeType], "default": "run"},
    "notes": {"type": "string", "maxLength": 10000},
}
_TS_OR_NULL = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
    "description": "UTC, RFC 3339 (`…Z`)",
}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_UUID_OR_NULL = {"anyOf": [_UUID, {"type": "null"}]}
# A batch exception (lifecycle/monitor.py exception_records): the batch, its operation and
# the operation's part and job, named.
_BATCH_EXCEPTION = {
    "type": "object",
    "properties": {
        "id": _UUID,
        "batch_id": _UUID,
        "batch_number": _TEXT_OR_NULL,
        "operation_id": _UUID,
        "operation_name": _TEXT_OR_NULL,
        "part_id": _UUID_OR_NULL,
        "part_number": _TEXT_OR_NULL,
        "job_id": _UUID_OR_NULL,
        "job_number": _TEXT_OR_NULL,
        "exception_type": {"type": "string", "enum": ["non_occurrence"]},
        "status": {"type": "string", "enum": ["open", "resolved"]},
        "expected_at": _TS,
        "detected_at": _TS,
        "overdue_minutes": {
            "type": "integer",
            "description": "minutes past expected_at when detected",
        },
        "resolved_at": _TS_OR_NULL,
        "resolution": _TEXT_OR_NULL,
        "created_at": _TS,
        "updated_at": _TS,
    },
}
_ROLLED_UP = {
    "type": "array",
    "description": "parents whose status followed, in the same transaction",
    "items": {
        "type": "object",
        "properties": {
            "entity_type": {"type": "string", "enum": ["part", "job"]},
            "id": _UUID,
            "previous_status": _STATUS,
            "new_status": _STATUS,
        },
    },
}


def _body(props: dict[str, Any], description: str, examples: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "description": description,
    }
    return json_body(schema, examples=examples, required=False)


JOB_BODY = _body(
    {},
    "No fields: send `{}` or no body.",
    {"start": {}},
)
OPERATION_BODY = _body(
    _OPERATOR,
    "Optional operator (or `?operator_id=`): start/resume open a time entry for them, "
    "pause/complete close the operation's open entries.",
    {
        "start by an operator": {
            "operator_id": "B-17",
            "operator_name": "Ann de Vries",
            "time_type": "run",
        },
        "complete": {},
    },
)
BATCH_BODY = _body(
    {
        "operator_id": _OPERATOR["operator_id"],
        "operator_name": _OPERATOR["operator_name"],
        "time_type": _OPERATOR["time_type"],
        "operation_ids": {
            "type": "array",
            "items": _UUID,
            "minItems": 1,
            "description": "add-operations only: operations to append, in order",
        },
    },
    "start: `operator_id` (required unless the batch is automated), `operator_name`, "
    "`time_type`; stop: `operator_id`, `operator_name`; add-operations: `operation_ids`; "
    "monitor: no fields.",
    {
        "start": {"operator_id": "B-17", "operator_name": "Ann de Vries"},
        "stop": {"operator_id": "B-17"},
        "add-operations": {"operation_ids": ["c7d9e1f3-5a6b-4c8d-9e0f-1a2b3c4d5e6f"]},
        "monitor": {},
    },
)

JOB_REPLY = {
    "type": "object",
    "required": ["job", "operation", "previous_status", "new_status"],
    "properties": {
        "job": record_schema(JOBS),
        "operation": {"type": "string", "description": "the action"},
        "previous_status": _STATUS,
        "new_status": _STATUS,
    },
}
OPERATION_REPLY = {
    "type": "object",
    "required": ["operation", "operation_type", "previous_status", "new_status", "rolled_up"],
    "properties": {
        "operation": record_schema(OPERATIONS),
        "operation_type": {"type": "string", "description": "the action"},
        "previous_status": _STATUS,
        "new_status": _STATUS,
        "time_entry_created": {"type": "boolean"},
        "time_entry_ended": {"type": "boolean"},
        "time_entries_ended": {"type": "integer"},
        "time_entry": {"anyOf": [record_schema(TIME_ENTRIES), {"type": "null"}]},
        "rolled_up": _ROLLED_UP,
    },
}
BATCH_REPLY = {
    "type": "object",
    "description": "start/stop/add-operations: the batch and its transition; monitor: "
    "monitored_batches, created_exceptions, monitored_at, exceptions, open_exceptions",
    "properties": {
        "batch": record_schema(BATCHES),
        "previous_status": _STATUS,
        "new_status": _STATUS,
        "batch_id": _UUID,
        "status": _STATUS,
        "operations_started": {"type": "integer"},
        "time_entries_created": {"type": "integer"},
        "started_at": _TS,
        "total_minutes": {"type": "integer", "description": "minutes from start to stop"},
        "distribution_method": {"type": "string", "enum": ["weighted", "equal", "none"]},
        "distribution": {
            "type": "array",
            "description": "each operation's share of total_minutes",
            "items": {
                "type": "object",
                "properties": {
                    "id": _UUID,
                    "minutes": {"type": "integer", "description": "minutes"},
                },
            },
        },
        "operations_completed": {"type": "integer"},
        "time_entries_ended": {"type": "integer"},
        "completed_at": _TS,
        "operations_added": {"type": "integer"},
        "monitoring_source": {"type": "string", "enum": ["operator", "machine"]},
        "rolled_up": _ROLLED_UP,
        "monitored_batches": {"type": "integer"},
        "created_exceptions": {"type": "integer"},
        "monitored_at": _TS,
        "exceptions": {
            "type": "array",
            "description": "the exceptions this run opened",
            "items": _BATCH_EXCEPTION,
        },
        "open_exceptions": {"type": "integer"},
    },
}

# Captured from a real run (entities/examples.py).
JOB_EXAMPLE = examples.JOB_LIFECYCLE_REPLY
OPERATION_EXAMPLE = examples.OPERATION_LIFECYCLE_REPLY
BATCH_EXAMPLE = examples.BATCH_STOP_REPLY
