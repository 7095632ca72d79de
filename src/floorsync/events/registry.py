"""The event catalogue (Events and webhooks §2) and the envelope (§3), defined once.

Producers record types from this catalogue (the outbox refuses any other), subscriptions and
feed filters are validated against it, and `envelope` is the one shape of what webhooks send and
the change feed shows (`events.stored` writes its bytes).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from floorsync.kit.timefmt import format_ts

# The entities' singular and plural names, written out because this module sits below the
# entity specs (the outbox, and so every unit of work, imports it); tests/entities/
# test_registry.py holds them equal to entities/registry.py.
RECORD_ENTITIES = (
    "job",
    "part",
    "operation",
    "cell",
    "resource",
    "material",
    "batch",
    "time_entry",
    "assignment",
    "operator",
    "scrap_reason",
    "issue",
    "substep",
    "template",
)
SYNC_ENTITIES = (
    "jobs",
    "parts",
    "operations",
    "cells",
    "resources",
    "materials",
    "operators",
    "scrap_reasons",
)


@dataclass(frozen=True)
class EventType:
    name: str
    entity: str  # events.entity_type
    fires_when: str
    reserved: bool = False


def _catalogue() -> dict[str, EventType]:
    out: dict[str, EventType] = {}

    def add(name: str, entity: str, when: str, *, reserved: bool = False) -> None:
        out[name] = EventType(name, entity, when, reserved)

    for entity in RECORD_ENTITIES:
        add(f"{entity}.created", entity, "a record is created")
        add(f"{entity}.updated", entity, "a write changes at least one stored field")
        add(f"{entity}.deleted", entity, "a record is soft- or hard-deleted (tombstone)")
    for verb in ("started", "stopped", "resumed", "completed"):
        add(f"job.{verb}", "job", f"job lifecycle: {verb}")
    for verb in ("started", "completed"):
        add(f"part.{verb}", "part", f"status roll-up: the part {verb}")
    for verb in ("started", "paused", "resumed", "completed"):
        add(f"operation.{verb}", "operation", f"operation lifecycle: {verb}")
    for verb in ("started", "completed", "cancelled"):
        add(f"batch.{verb}", "batch", f"batch lifecycle: {verb}")
    add("substep.completed", "substep", "a substep's status becomes completed (instead of updated)")
    add("batch_exception.opened", "batch_exception", "a batch monitor found an overdue operation")
    add(
        "batch_exception.resolved",
        "batch_exception",
        "the batch stopped or the operation completed",
    )
    add("time_entry.stopped", "time_entry", "an open time entry got its end_time")
    add("operation_quantity.recorded", "operation_quantity", "a quantity record is created")
    add("operation_quantity.updated", "operation_quantity", "a quantity record changes")
    add("operation_quantity.deleted", "operation_quantity", "a quantity record is deleted")
    for plural in SYNC_ENTITIES:
        add(f"sync.{plural}.completed", "sync", f"a bulk run wrote at least one {plural[:-1]}")
    add("sync.batch.completed", "sync", "a bulk run covering several entities wrote something")
    add(
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        "floorsync disabled an endpoint (410 or sustained failure)",
    )
    return out


CATALOGUE: dict[str, EventType] = _catalogue()
EVENT_TYPES: tuple[str, ...] = tuple(CATALOGUE)


def is_known(type_: str) -> bool:
    return type_ in CATALOGUE


def check_pattern(pattern: object) -> str | None:
    """None when the subscription pattern is valid, else the reason (exact name, `prefix.*`, `*`)."""
    if not isinstance(pattern, str) or not pattern:
        return "must be a non-empty string"
    if pattern == "*" or pattern in CATALOGUE:
        return None
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        if any(name.startswith(prefix) for name in CATALOGUE):
            return None
    return f"unknown event type '{pattern}'"


def matches(patterns: Iterable[str], type_: str) -> bool:
    for p in patterns:
        if p == "*" or p == type_ or (p.endswith(".*") and type_.startswith(p[:-1])):
            return True
    return False


def valid_names_hint() -> str:
    return "valid: '*', '<prefix>.*' (e.g. 'job.*') or one of " + ", ".join(EVENT_TYPES)


# ---------------------------------------------------------------- the envelope


def event_id_text(event_id: uuid.UUID) -> str:
    """`evt_` + the row's UUID as 32 lowercase hex digits: the envelope id and `webhook-id`."""
    return "evt_" + event_id.hex


def parse_event_id(text: str) -> uuid.UUID | None:
    raw = text.strip()
    if raw.startswith("evt_"):
        raw = raw[4:]
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def envelope(
    event_id: uuid.UUID,
    type_: str,
    occurred_at: datetime,
    tenant_id: uuid.UUID,
    seq: int,
    data: Any,
    *,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The envelope in its contract key order; a feed entry adds `cursor` before `data`."""
    out: dict[str, Any] = {
        "id": event_id_text(event_id),
        "type": type_,
        "event": type_,
        "timestamp": format_ts(occurred_at),
        "tenant_id": str(tenant_id),
        "sequence": seq,
    }
    if cursor is not None:
        out["cursor"] = cursor
    out["data"] = data
    return out


# ---------------------------------------------------------------- payload builders


def webhook_disabled_payload(
    webhook_id: uuid.UUID,
    url: str,
    reason: str,
    disabled_at: datetime,
    consecutive_failures: int,
    last_status_code: int | None,
) -> dict[str, Any]:
    """`webhook_endpoint.disabled` (§2.6); `origin` is added by the outbox (channel `system`)."""
    return {
        "webhook_id": str(webhook_id),
        "url": url,
        "disabled_reason": reason,
        "disabled_at": format_ts(disabled_at),
        "consecutive_failures": consecutive_failures,
        "last_status_code": last_status_code,
    }


def unknown_types(types: Sequence[str]) -> list[str]:
    return [t for t in types if not is_known(t)]
