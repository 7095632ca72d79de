"""OpenAPI schemas of the unified ERP sync answers (API §4.4-§4.6). Descriptive only:
sync/erp_endpoints.py and sync/runs.py build the answers; entities/examples.py has real ones."""

from typing import Any

from floorsync.entities.openapi import DETAIL

_INT = {"type": "integer"}
_UUID_OR_NULL = {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
_TS_OR_NULL = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
    "description": "UTC, RFC 3339 (`…Z`)",
}
_MS = {"type": "integer", "description": "milliseconds"}
_OPTION_DOCS = {
    "dry_run": {"type": "boolean", "description": "run everything, then roll back"},
    "atomic": {"type": "boolean", "description": "all or none: one failure commits nothing"},
    "skip_unchanged": {
        "type": "boolean",
        "default": True,
        "description": "false rewrites records whose hash is unchanged",
    },
    "replace_children": {
        "type": "boolean",
        "description": "soft-delete nested children missing from each parent's array",
    },
    "record_history": {
        "type": "boolean",
        "default": True,
        "description": "write the run to the sync history",
    },
    "batch_size": {
        "type": "integer",
        "description": "accepted for Eryxon compatibility and ignored (`atomic` is the switch)",
    },
    "continue_on_error": {
        "type": "boolean",
        "description": "accepted for Eryxon compatibility and ignored (`atomic` is the switch)",
    },
}


def body_options(*, erp: bool) -> dict[str, Any]:
    """The body `options` object of a bulk sync (`erp=False`) or an ERP sync: the query options,
    which it overrides; an unknown one is 400."""
    names = ["dry_run", "atomic", "skip_unchanged", "replace_children", "record_history"]
    props: dict[str, Any] = {n: _OPTION_DOCS[n] for n in names}
    if erp:
        props["snapshot"] = {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "string"},
                {"type": "boolean", "const": False},
                {"type": "null"},
            ],
            "description": "the entities whose live records missing from the request are "
            "soft-deleted (an array, or a comma-separated string; false or null: none)",
        }
        props["batch_size"] = _OPTION_DOCS["batch_size"]
        props["continue_on_error"] = _OPTION_DOCS["continue_on_error"]
    else:
        props["snapshot"] = {
            "type": "boolean",
            "description": "soft-delete live records of the request's sources missing from it",
        }
    return {
        "type": "object",
        "description": "the query options in the body (they win over the query string)",
        "properties": props,
    }


# A field a sync would change (dry runs, diffs): its stored and its new value.
CHANGE = {
    "type": "object",
    "required": ["field", "old", "new"],
    "properties": {"field": {"type": "string"}, "old": {}, "new": {}},
}
# Nested results per kind (`parts`, `operations`): each child's entry, in its parent's form.
CHILD_ENTRIES = {
    "type": "object",
    "description": "per nested kind (parts, operations): the children's entries, in the "
    "same form as their parent's",
    "additionalProperties": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "index": {"type": ["integer", "null"]},
                "external_id": {"type": ["string", "null"]},
                "id": _UUID_OR_NULL,
                "action": {"type": "string"},
                "skipped_reason": {"type": "string"},
                "changes": {"type": "array", "items": CHANGE},
                "children": {
                    "type": "object",
                    "description": "its own children, in the same form",
                    "additionalProperties": {"type": "array"},
                },
                "error": {"type": "string"},
                "code": {"type": "string"},
                "details": {"type": "array", "items": DETAIL},
            },
        },
    },
}
_RESULT = {
    "type": "object",
    "description": "one record: `index`, `external_id`, `id`, `action` (created, updated, "
    "skipped, deleted, error), nested `children`; errors add `error`, `code`, `details`",
    "properties": {
        "index": {"anyOf": [_INT, {"type": "null"}]},
        "external_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "external_source": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "id": _UUID_OR_NULL,
        "action": {"type": "string"},
        "children": CHILD_ENTRIES,
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {"type": "array", "items": DETAIL},
    },
}
# One of a sync run's `errors` (sync/runs.py _error_entry).
_RUN_ERROR = {
    "type": "object",
    "properties": {
        "index": {
            "type": ["integer", "null"],
            "description": "the record's position in the request",
        },
        "external_id": {"type": ["string", "null"]},
        "code": {"type": "string", "description": "a stable error code (VALIDATION_ERROR, …)"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "description": "the fields at fault (present with field-level errors)",
            "items": DETAIL,
        },
    },
}
# The options in force in a sync run (sync/options.py SyncOptions.as_dict).
_RUN_OPTIONS = {
    "type": "object",
    "properties": {
        "dry_run": {"type": "boolean"},
        "atomic": {"type": "boolean"},
        "skip_unchanged": {"type": "boolean"},
        "snapshot": {
            "anyOf": [{"type": "boolean"}, {"type": "array", "items": {"type": "string"}}],
            "description": "bulk: true prunes the entity; erp-sync: the entities pruned",
        },
        "replace_children": {"type": "boolean"},
        "record_history": {"type": "boolean"},
    },
}
CHILD_COUNTS = {
    "type": "object",
    "description": "per nested kind (parts, operations): created, updated, skipped, failed, deleted",
    "additionalProperties": {"type": "object", "additionalProperties": _INT},
}
ERP_SYNC = {
    "type": "object",
    "required": ["summary", "entities", "group_id", "dry_run", "committed"],
    "properties": {
        "summary": {
            "type": "object",
            "properties": {
                "total_entities": _INT,
                "total_records": _INT,
                "total_created": _INT,
                "total_updated": _INT,
                "total_skipped": _INT,
                "total_deleted": _INT,
                "total_errors": _INT,
                "duration_ms": _MS,
            },
        },
        "entities": {
            "type": "object",
            "description": "per section present in the request, in processing order",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "total": _INT,
                    "created": _INT,
                    "updated": _INT,
                    "skipped": _INT,
                    "deleted": _INT,
                    "errors": _INT,
                    "rolled_back": _INT,
                    "results": {"type": "array", "items": _RESULT},
                    "children": CHILD_COUNTS,
                    "duration_ms": _MS,
                },
            },
        },
        "group_id": _UUID_OR_NULL,
        "dry_run": {"type": "boolean"},
        "committed": {"type": "boolean"},
    },
}
_DIFF_RECORD = {
    "type": "object",
    "properties": {
        "index": _INT,
        "external_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "external_source": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "status": {
            "type": "string",
            "enum": ["create", "update", "unchanged", "delete", "error"],
        },
        "existing_id": _UUID_OR_NULL,
        "changes": {"type": "array", "items": CHANGE},
        "children": CHILD_ENTRIES,
        "error": {"type": "string"},
        "details": {"type": "array", "items": DETAIL},
    },
}
ERP_DIFF = {
    "type": "object",
    "required": ["summary", "entities"],
    "properties": {
        "summary": {
            "type": "object",
            "properties": {
                "total_entities": _INT,
                "total_records": _INT,
                "total_to_create": _INT,
                "total_to_update": _INT,
                "total_unchanged": _INT,
                "total_to_delete": _INT,
                "total_errors": _INT,
            },
        },
        "entities": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "entity_type": {"type": "string"},
                    "total": _INT,
                    "to_create": _INT,
                    "to_update": _INT,
                    "unchanged": _INT,
                    "to_delete": _INT,
                    "errors": _INT,
                    "records": {"type": "array", "items": _DIFF_RECORD},
                },
            },
        },
    },
}
_RUN = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "group_id": _UUID_OR_NULL,
        "entity_type": {"type": "string"},
        "operation": {"type": "string"},
        "trigger": {"type": "string"},
        "source": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "status": {"type": "string"},
        "total_records": _INT,
        "created_count": _INT,
        "updated_count": _INT,
        "skipped_count": _INT,
        "deleted_count": _INT,
        "error_count": _INT,
        "errors": {
            "type": "array",
            "items": _RUN_ERROR,
            "description": "per failed record: index, external_id, code, message, details",
        },
        "options": _RUN_OPTIONS,
        "api_key_id": _UUID_OR_NULL,
        "request_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "started_at": _TS_OR_NULL,
        "completed_at": _TS_OR_NULL,
        "duration_ms": {"anyOf": [_MS, {"type": "null"}], "description": "milliseconds"},
    },
}
ERP_STATUS = {
    "type": "object",
    "required": ["stats", "history", "pagination"],
    "properties": {
        "stats": {"type": "object", "additionalProperties": _INT},
        "history": {"type": "array", "items": _RUN},
        "pagination": {
            "type": "object",
            "properties": {"total": _INT, "offset": _INT, "limit": _INT},
        },
    },
}
