"""OpenAPI documents of `/api-webhooks` and `/api-webhook-logs`: request bodies, answers and
realistic examples (API §6.2, §6.4). Descriptive only: webhooks/schemas.py validates."""

from typing import Any

from floorsync.entities.openapi import json_body
from floorsync.models.enums import AttemptOutcome, WebhookDisabledReason
from floorsync.webhooks.schemas import MAX_DESCRIPTION, MAX_EVENTS, MAX_IN_FLIGHT, MAX_SOURCES

_UUID = {"type": "string", "format": "uuid"}
_TS = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
    "description": "UTC, RFC 3339 (`…Z`)",
}
_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_EVENTS = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_EVENTS,
    "items": {"type": "string"},
    "description": "event types of the catalogue (see Event types), `prefix.*` or `*`",
}
_FLOW = {
    "max_in_flight": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_IN_FLIGHT,
        "description": "deliveries to this endpoint at once (1 keeps them in sequence order)",
    },
    "exclude_own_changes": {
        "type": "boolean",
        "description": "drop events caused by `api_key_id`'s own writes (echo suppression)",
    },
    "exclude_sources": {
        "anyOf": [
            {"type": "array", "maxItems": MAX_SOURCES, "items": {"type": "string"}},
            {"type": "null"},
        ],
        "description": "drop events of records synced from these external sources",
    },
    "api_key_id": {"anyOf": [_UUID, {"type": "null"}]},
}
_COMMON = {
    "url": {
        "type": "string",
        "format": "uri",
        "examples": ["https://mes.example.com/hooks/floorsync"],
        "description": "https; plain http only to a private target while "
        "FLOORSYNC_WEBHOOK_ALLOW_PRIVATE is true",
    },
    "events": _EVENTS,
    "event_type": {"type": "string", "description": "one event type (alternative to events)"},
    "active": {"type": "boolean", "default": True},
    "description": {"anyOf": [{"type": "string", "maxLength": MAX_DESCRIPTION}, {"type": "null"}]},
    **_FLOW,
}
CREATE_SCHEMA = {
    "type": "object",
    "required": ["url", "events"],
    "additionalProperties": False,
    "properties": {
        **_COMMON,
        "secret_key": {
            "type": "string",
            "description": "your own signing secret (`whsec_` + base64); generated when absent",
        },
    },
}
PATCH_SCHEMA = {"type": "object", "additionalProperties": False, "properties": _COMMON}

CREATE_EXAMPLE = {
    "url": "https://mes.example.com/hooks/floorsync",
    "events": ["job.*", "operation.completed"],
    "description": "MES on the plant network",
    "max_in_flight": 1,
}
CREATE_BODY = json_body(CREATE_SCHEMA, example=CREATE_EXAMPLE)
PATCH_BODY = json_body(PATCH_SCHEMA, example={"events": ["job.*", "operation.*"], "active": True})
ENABLE_BODY = json_body(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {},
        "description": "No fields: the endpoint is re-enabled as it is (a body is not read).",
    },
    example={},
    required=False,
)
REPLAY_BODY = json_body(
    {
        "type": "object",
        "required": ["event_id"],
        "additionalProperties": False,
        "properties": {
            "event_id": {
                "type": "string",
                "description": "an event id (`evt_…`)",
                "examples": ["evt_0193a4f2c1d87e5fb2a94c6d8e1f3a5b"],
            }
        },
    },
    example={"event_id": "evt_0193a4f2c1d87e5fb2a94c6d8e1f3a5b"},
)
RECOVER_BODY = json_body(
    {
        "type": "object",
        "required": ["since"],
        "additionalProperties": False,
        "properties": {
            "since": {
                "type": "string",
                "format": "date-time",
                "examples": ["2026-12-01T06:00:00Z"],
                "description": "window start, inclusive (RFC 3339; UTC unless an offset is given)",
            },
            "until": {
                "type": "string",
                "format": "date-time",
                "description": "window end, exclusive (RFC 3339; UTC unless an offset is given); "
                "default now",
            },
            "include_missing": {
                "type": "boolean",
                "default": False,
                "description": "also events of the window never delivered to this endpoint",
            },
        },
    },
    example={"since": "2026-12-01T06:00:00Z", "until": "2026-12-01T18:00:00Z"},
)
ROTATE_BODY = json_body(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "secret_key": {
                "type": "string",
                "description": "the new secret; generated when absent",
            },
            "overlap_hours": {
                "type": "number",
                "minimum": 0,
                "maximum": 168,
                "description": "hours during which the old secret also signs",
            },
        },
    },
    example={"overlap_hours": 24},
    required=False,
)

WEBHOOK = {
    "type": "object",
    "properties": {
        "id": _UUID,
        "url": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"},
        "description": _TEXT,
        "secret_key": {
            "type": "string",
            "description": "only in the answers to create and rotate-secret",
        },
        "secret_prefix": _TEXT,
        "consecutive_failures": {"type": "integer"},
        "failing_since": _TS,
        "last_success_at": _TS,
        "last_failure_at": _TS,
        "last_status_code": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "disabled_at": _TS,
        "disabled_reason": {
            "anyOf": [
                {"type": "string", "enum": [r.value for r in WebhookDisabledReason]},
                {"type": "null"},
            ]
        },
        "previous_secret_expires_at": _TS,
        "created_by": {"anyOf": [_UUID, {"type": "null"}]},
        "created_at": _TS,
        "updated_at": _TS,
        "max_in_flight": {"type": "integer"},
        "exclude_own_changes": {"type": "boolean"},
        "exclude_sources": {"type": "array", "items": {"type": "string"}},
        "api_key_id": {"anyOf": [_UUID, {"type": "null"}]},
        "state": {"type": "string", "enum": ["healthy", "backing_off", "open"]},
        "backoff_until": _TS,
    },
}
_PAGINATION = {
    "type": "object",
    "properties": {
        "total": {"type": "integer"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
    },
}
WEBHOOK_EXAMPLE: dict[str, Any] = {
    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "url": "https://mes.example.com/hooks/floorsync",
    "events": ["job.*", "operation.completed"],
    "active": True,
    "description": "MES on the plant network",
    "secret_key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "secret_prefix": "whsec_MfKQ",
    "consecutive_failures": 0,
    "failing_since": None,
    "last_success_at": None,
    "last_failure_at": None,
    "last_status_code": None,
    "disabled_at": None,
    "disabled_reason": None,
    "previous_secret_expires_at": None,
    "created_by": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    "created_at": "2026-12-01T07:00:00Z",
    "updated_at": "2026-12-01T07:00:00Z",
    "max_in_flight": 1,
    "exclude_own_changes": False,
    "exclude_sources": [],
    "api_key_id": None,
    "state": "healthy",
    "backoff_until": None,
}
ONE = {"type": "object", "required": ["webhook"], "properties": {"webhook": WEBHOOK}}
CREATED = {
    "type": "object",
    "required": ["webhook", "warnings"],
    "properties": {"webhook": WEBHOOK, "warnings": {"type": "array", "items": {"type": "string"}}},
}
CREATED_EXAMPLE = {
    "webhook": WEBHOOK_EXAMPLE,
    "warnings": ["Store the secret now. It will not be shown again."],
}
UPDATED = {
    "type": "object",
    "required": ["webhook"],
    "properties": {"webhook": WEBHOOK, "warnings": {"type": "array", "items": {"type": "string"}}},
}
LIST_OR_ONE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["webhooks", "pagination"],
            "properties": {
                "webhooks": {"type": "array", "items": WEBHOOK},
                "pagination": _PAGINATION,
            },
        },
        ONE,
    ]
}
_PUBLIC = {k: v for k, v in WEBHOOK_EXAMPLE.items() if k != "secret_key"}
LIST_EXAMPLE = {"webhooks": [_PUBLIC], "pagination": {"total": 1, "offset": 0, "limit": 100}}
ONE_EXAMPLE = {"webhook": _PUBLIC}
DELETED_EXAMPLE = {"message": "Deleted successfully", "id": WEBHOOK_EXAMPLE["id"]}
REPLAYED_EXAMPLE = {
    "webhook_id": WEBHOOK_EXAMPLE["id"],
    "event_id": "evt_0193a4f2c1d87e5fb2a94c6d8e1f3a5b",
    "queued": 1,
}
RECOVERED_EXAMPLE = {"webhook_id": WEBHOOK_EXAMPLE["id"], "queued": 3, "more": False}
ROTATED_EXAMPLE = {
    "webhook": {
        **WEBHOOK_EXAMPLE,
        "secret_key": "whsec_Q2hhbmdlZCBzZWNyZXQgZm9yIGRvY3M",
        "secret_prefix": "whsec_Q2hh",
        "previous_secret_expires_at": "2026-12-02T07:00:00Z",
    },
    "previous_secret_expires_at": "2026-12-02T07:00:00Z",
}
DELETED = {
    "type": "object",
    "required": ["message", "id"],
    "properties": {"message": {"type": "string", "const": "Deleted successfully"}, "id": _UUID},
}
REPLAYED = {
    "type": "object",
    "properties": {
        "webhook_id": _UUID,
        "event_id": {"type": "string"},
        "queued": {"type": "integer", "const": 1},
    },
}
RECOVERED = {
    "type": "object",
    "properties": {
        "webhook_id": _UUID,
        "queued": {"type": "integer", "description": "deliveries queued (at most 10,000)"},
        "more": {"type": "boolean", "description": "the window was cut short: call again"},
    },
}
ROTATED = {
    "type": "object",
    "required": ["webhook", "previous_secret_expires_at"],
    "properties": {"webhook": WEBHOOK, "previous_secret_expires_at": _TS},
}

LOG = {
    "type": "object",
    "properties": {
        "id": _UUID,
        "webhook_id": {"anyOf": [_UUID, {"type": "null"}]},
        "delivery_id": {"anyOf": [_UUID, {"type": "null"}]},
        "event_id": _TEXT,
        "event_type": {"type": "string"},
        "url": {"type": "string"},
        "attempt": {"type": "integer", "description": "1 for the first try"},
        "replay_round": {"type": "integer"},
        "outcome": {
            "type": "string",
            "enum": [o.value for o in AttemptOutcome],
        },
        "success": {"type": "boolean"},
        "status_code": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "error_message": _TEXT,
        "duration_ms": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "description": "milliseconds",
        },
        "response_excerpt": _TEXT,
        "next_attempt_at": _TS,
        "created_at": _TS,
        "payload": {
            "description": "single GET only: the body as sent, while the event is retained"
        },
    },
}
LOGS = {
    "oneOf": [
        {
            "type": "object",
            "required": ["webhook_logs", "pagination"],
            "properties": {
                "webhook_logs": {"type": "array", "items": LOG},
                "pagination": _PAGINATION,
            },
        },
        {"type": "object", "required": ["webhook_log"], "properties": {"webhook_log": LOG}},
    ]
}
LOGS_EXAMPLE = {
    "webhook_logs": [
        {
            "id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            "webhook_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "delivery_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
            "event_id": "evt_0193a4f2c1d87e5fb2a94c6d8e1f3a5b",
            "event_type": "job.created",
            "url": "https://mes.example.com/hooks/floorsync",
            "attempt": 2,
            "replay_round": 0,
            "outcome": "http_error",
            "success": False,
            "status_code": 503,
            "error_message": "HTTP 503",
            "duration_ms": 84,
            "response_excerpt": "upstream unavailable",
            "next_attempt_at": "2026-12-01T07:05:30Z",
            "created_at": "2026-12-01T07:00:30Z",
        }
    ],
    "pagination": {"total": 1, "offset": 0, "limit": 100},
}
