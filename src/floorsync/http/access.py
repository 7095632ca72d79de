"""The access line and request metrics, written by the outermost middleware once per request.

The line names the method, the path (without its query string), the status, the time taken,
the tenant and the first 12 characters of the API key that authenticated (what `keys list` and
the admin UI show), the request id, and the query parameters a read endpoint ignored. Never the
key itself, the query string or the body. Liveness, readiness and metrics scrapes are logged
at debug level only, so a probe every few seconds does not drown the log.
"""

import logging
from collections.abc import Mapping
from typing import Any

from starlette.routing import Mount

from floorsync.auth.api_keys import BEARER, KEY_FORMAT
from floorsync.ops.logs import IN_MESSAGE, fields
from floorsync.ops.metrics import observe_request

log = logging.getLogger("floorsync.access")
QUIET_PATHS = frozenset({"/health", "/health/ready", "/metrics"})
KEY_PREFIX_LENGTH = 12  # ApiKey.key_prefix


def key_prefix(authorization: str | None) -> str | None:
    """The stored prefix of a well-formed key in the header; nothing for anything else (a
    password pasted into the header must not reach the log)."""
    match = BEARER.fullmatch(authorization or "")
    if match is None or not KEY_FORMAT.fullmatch(match.group(1)):
        return None
    return match.group(1)[:KEY_PREFIX_LENGTH]


def function_of(scope: Mapping[str, Any]) -> str:
    """The route template that answered (`/api-jobs/sync`, `/admin/webhooks/{id}`), a bounded
    label for metrics; `unmatched` for the catch-all."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    root = scope.get("root_path", "") or ""
    if isinstance(route, Mount):
        return str(root) or str(route.path)
    path = str(getattr(route, "path", ""))
    if path == "/{path:path}":
        return "unmatched"
    return f"{root}{path}"


def access_line(
    scope: Mapping[str, Any], headers: Mapping[str, str], status: int, seconds: float
) -> None:
    state = scope.get("state", {})
    method = state.get("original_method", scope["method"])
    path = state.get("original_path", scope["path"])
    function = function_of(scope)
    try:
        observe_request(function, method, status, seconds)
    except Exception:  # metrics must never fail a request
        log.exception("request metrics could not be recorded")
    level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
    if not log.isEnabledFor(level):
        return
    values: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "ms": round(seconds * 1000, 1),
        "tenant": str(state["tenant_id"]) if state.get("tenant_id") else None,
        "key_prefix": key_prefix(headers.get("authorization")),
    }
    ignored = state.get("ignored_query_params")
    if ignored:
        values["ignored_params"] = ",".join(ignored)
    values = {k: v for k, v in values.items() if v is not None}
    extra = fields(**values)
    extra[IN_MESSAGE] = ("method", "path", "status", "ms")  # a text line doesn't repeat them
    log.log(level, "%s %s %d %.0fms", method, path, status, seconds * 1000, extra=extra)
