"""Request validation and the wire form of webhook endpoints and attempt logs (API §6.2, §6.4)."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from floorsync.errors import Detail, ValidationFailed
from floorsync.events.registry import check_pattern, event_id_text, valid_names_hint
from floorsync.kit.clock import SystemClock
from floorsync.kit.netguard import NetguardRefusal, Resolver, check_url
from floorsync.kit.timefmt import format_ts
from floorsync.models.webhooks import Webhook, WebhookLog
from floorsync.webhooks.signing import SecretFormatError, check_client_secret

# Issue 11: flow control and echo suppression, settable on create and PATCH.
FLOW_FIELDS = ("max_in_flight", "exclude_own_changes", "exclude_sources", "api_key_id")
CREATE_FIELDS = (
    "url",
    "events",
    "event_type",
    "active",
    "description",
    "secret_key",
    *FLOW_FIELDS,
)
PATCH_FIELDS = ("url", "events", "event_type", "active", "description", *FLOW_FIELDS)
MAX_EVENTS = 100
MAX_DESCRIPTION = 500
MAX_IN_FLIGHT = 16
MAX_SOURCES = 20
MAX_SOURCE_LENGTH = 100


@dataclass
class WebhookInput:
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _events(data: dict[str, Any], errors: list[Detail], *, required: bool) -> list[str] | None:
    name = "events" if "events" in data else "event_type" if "event_type" in data else None
    if name is None:
        if required:
            errors.append(Detail("events", "Missing required field: events", "NOT_NULL"))
        return None
    raw = data[name]
    items = [raw] if name == "event_type" and isinstance(raw, str) else raw
    if not isinstance(items, list):
        errors.append(Detail(name, f"{name} must be an array of event types", "TYPE_MISMATCH", raw))
        return None
    if not 1 <= len(items) <= MAX_EVENTS:
        errors.append(
            Detail(
                name,
                f"{name} must have 1-{MAX_EVENTS} items",
                "MIN_LENGTH" if not items else "MAX_LENGTH",
            )
        )
        return None
    out: list[str] = []
    for i, item in enumerate(items):
        reason = check_pattern(item)
        if reason is not None:
            errors.append(
                Detail(f"{name}[{i}]", f"{reason}; {valid_names_hint()}", "ENUM_CONSTRAINT", item)
            )
        elif item not in out:
            out.append(item)
    return out


def _with_hint(refusal: NetguardRefusal, url: str, resolver: Resolver) -> str:
    """A private target that the setting would allow says which setting that is."""
    if refusal.constraint != "PRIVATE_ADDRESS":
        return refusal.message
    try:
        check_url(url.strip(), resolver, allow_private=True)
    except NetguardRefusal:
        return refusal.message  # refused either way (a cloud-metadata address, …)
    return (
        f"{refusal.message}; set FLOORSYNC_WEBHOOK_ALLOW_PRIVATE=true to allow private and "
        "loopback targets (development, or a receiver on the plant network)"
    )


def parse_webhook_body(
    data: dict[str, Any],
    resolver: Resolver,
    *,
    allow_private: bool,
    creating: bool,
) -> WebhookInput:
    """Validate a POST or PATCH body; raises ValidationFailed (422) with every problem."""
    errors: list[Detail] = []
    out = WebhookInput()
    allowed = CREATE_FIELDS if creating else PATCH_FIELDS
    for key, value in data.items():
        if key == "secret_key" and not creating:
            errors.append(
                Detail(
                    "secret_key",
                    "secret_key cannot be changed by PATCH: use /rotate-secret",
                    "READ_ONLY",
                )
            )
        elif key not in allowed:
            errors.append(Detail(key, f"Unknown field: {key}", "UNKNOWN_FIELD", value))
    if "url" in data or creating:
        url = data.get("url")
        if url is None:
            errors.append(Detail("url", "Missing required field: url", "NOT_NULL"))
        elif not isinstance(url, str):
            errors.append(Detail("url", "url must be a string", "TYPE_MISMATCH", url))
        else:
            try:
                target = check_url(url.strip(), resolver, allow_private=allow_private)
                out.values["url"] = url.strip()
                out.warnings.extend(target.warnings)
            except NetguardRefusal as refusal:
                errors.append(
                    Detail("url", _with_hint(refusal, url, resolver), refusal.constraint, url)
                )
    events = _events(data, errors, required=creating)
    if events is not None:
        out.values["events"] = events
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors.append(
                Detail("active", "active must be a boolean", "TYPE_MISMATCH", data["active"])
            )
        else:
            out.values["active"] = data["active"]
    if "description" in data:
        desc = data["description"]
        if desc is not None and not isinstance(desc, str):
            errors.append(
                Detail("description", "description must be a string", "TYPE_MISMATCH", desc)
            )
        elif desc is not None and len(desc) > MAX_DESCRIPTION:
            errors.append(
                Detail(
                    "description",
                    f"description must be at most {MAX_DESCRIPTION} characters",
                    "MAX_LENGTH",
                )
            )
        else:
            out.values["description"] = desc
    _flow_fields(data, out, errors)
    if creating and data.get("secret_key") is not None:
        try:
            out.warnings.extend(check_client_secret(data["secret_key"]))
            out.values["secret_key"] = data["secret_key"]
        except SecretFormatError as exc:
            errors.append(Detail("secret_key", str(exc), "INVALID_VALUE"))
    if errors:
        raise ValidationFailed("webhook", errors)
    return out


def _flow_fields(data: dict[str, Any], out: WebhookInput, errors: list[Detail]) -> None:
    """`max_in_flight` (1-16), `exclude_own_changes` (bool), `exclude_sources` (source names or
    null), `api_key_id` (the key whose changes `exclude_own_changes` drops, or null)."""
    if "max_in_flight" in data:
        n = data["max_in_flight"]
        if isinstance(n, bool) or not isinstance(n, int):
            errors.append(
                Detail("max_in_flight", "max_in_flight must be an integer", "TYPE_MISMATCH", n)
            )
        elif not 1 <= n <= MAX_IN_FLIGHT:
            errors.append(
                Detail(
                    "max_in_flight",
                    f"max_in_flight must be from 1 to {MAX_IN_FLIGHT}",
                    "MIN_VALUE" if n < 1 else "MAX_VALUE",
                    n,
                )
            )
        else:
            out.values["max_in_flight"] = n
    if "exclude_own_changes" in data:
        flag = data["exclude_own_changes"]
        if not isinstance(flag, bool):
            errors.append(
                Detail(
                    "exclude_own_changes",
                    "exclude_own_changes must be a boolean",
                    "TYPE_MISMATCH",
                    flag,
                )
            )
        else:
            out.values["exclude_own_changes"] = flag
    if "exclude_sources" in data:
        sources = data["exclude_sources"]
        if sources is None:
            out.values["exclude_sources"] = None
        elif not isinstance(sources, list) or len(sources) > MAX_SOURCES:
            errors.append(
                Detail(
                    "exclude_sources",
                    f"exclude_sources must be an array of at most {MAX_SOURCES} source names",
                    "TYPE_MISMATCH",
                    sources,
                )
            )
        else:
            picked: list[str] = []
            for i, name in enumerate(sources):
                if not isinstance(name, str) or not 1 <= len(name) <= MAX_SOURCE_LENGTH:
                    errors.append(
                        Detail(
                            f"exclude_sources[{i}]",
                            f"a source name is a string of 1-{MAX_SOURCE_LENGTH} characters",
                            "INVALID_VALUE",
                            name,
                        )
                    )
                elif name not in picked:
                    picked.append(name)
            out.values["exclude_sources"] = picked or None
    if "api_key_id" in data:
        raw = data["api_key_id"]
        if raw is None:
            out.values["api_key_id"] = None
        else:
            try:
                out.values["api_key_id"] = uuid.UUID(raw) if isinstance(raw, str) else None
            except ValueError:
                out.values["api_key_id"] = None
            if out.values["api_key_id"] is None:
                errors.append(
                    Detail("api_key_id", "api_key_id must be an API key id", "INVALID_VALUE", raw)
                )


def webhook_state(hook: Webhook, now: datetime) -> str:
    """`healthy`, `backing_off` (the receiver asked for a pause: Retry-After) or `open` (the
    circuit breaker opened; it stays open until a probe succeeds)."""
    if hook.breaker_opened_at is not None:
        return "open"
    if hook.paused_until is not None and hook.paused_until > now:
        return "backing_off"
    return "healthy"


def backoff_until(hook: Webhook, now: datetime) -> datetime | None:
    """Until when the whole endpoint waits (Retry-After or the open breaker), if it does."""
    if hook.paused_until is not None and hook.paused_until > now:
        return hook.paused_until
    return None


def render_webhook(
    hook: Webhook, *, secret: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(hook.id),
        "url": hook.url,
        "events": list(hook.events or []),
        "active": hook.active,
        "description": hook.description,
    }
    if secret is not None:
        out["secret_key"] = secret
    at = now or SystemClock().now()
    out.update(
        {
            "secret_prefix": hook.secret_prefix,
            "consecutive_failures": hook.consecutive_failures,
            "failing_since": format_ts(hook.failing_since),
            "last_success_at": format_ts(hook.last_success_at),
            "last_failure_at": format_ts(hook.last_failure_at),
            "last_status_code": hook.last_status_code,
            "disabled_at": format_ts(hook.disabled_at),
            "disabled_reason": hook.disabled_reason.value
            if hook.disabled_reason is not None
            else None,
            "previous_secret_expires_at": format_ts(hook.previous_secret_expires_at),
            "created_by": str(hook.created_by) if hook.created_by else None,
            "created_at": format_ts(hook.created_at),
            "updated_at": format_ts(hook.updated_at),
            # Issue 11 (additive): flow control, echo suppression and delivery state.
            "max_in_flight": hook.max_in_flight,
            "exclude_own_changes": hook.exclude_own_changes,
            "exclude_sources": list(hook.exclude_sources or []),
            "api_key_id": str(hook.api_key_id) if hook.api_key_id else None,
            "state": webhook_state(hook, at),
            "backoff_until": format_ts(backoff_until(hook, at)),
        }
    )
    return out


def render_log(
    row: WebhookLog, *, payload: Any = None, with_payload: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row.id),
        "webhook_id": str(row.webhook_id) if row.webhook_id else None,
        "delivery_id": str(row.delivery_id) if row.delivery_id else None,
        "event_id": event_id_text(row.event_id),
        "event_type": row.event_type,
        "url": row.url,
        "attempt": row.attempt,
        "replay_round": row.replay_round,
        "outcome": row.outcome.value,
        "success": row.success,
        "status_code": row.status_code,
        "error_message": row.error_message,
        "duration_ms": row.duration_ms,
        "response_excerpt": row.response_excerpt,
        "next_attempt_at": format_ts(row.next_attempt_at),
        "created_at": format_ts(row.created_at),
    }
    if with_payload:
        out["payload"] = payload
    return out
