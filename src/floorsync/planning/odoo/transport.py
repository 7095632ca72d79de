"""The one interface both Odoo transports implement (spec §9.10), and the classification of Odoo
exceptions they share (§9.4). The call sequences in `odoo.adapter` are written once against
`OdooTransport.call`.

| Odoo error (`data.name` / JSON-2 `name`)                        | class                              |
|-----------------------------------------------------------------|------------------------------------|
| `odoo.exceptions.AccessDenied`                                  | auth (credentials), after one re-authentication (JSON-RPC) |
| `odoo.exceptions.AccessError` "…private methods…"               | protocol                           |
| other `odoo.exceptions.AccessError`                             | auth (permission)                  |
| `odoo.exceptions.UserError`, `ValidationError`, `RedirectWarning` | rejected (message = Odoo's)      |
| `odoo.exceptions.MissingError`                                  | rejected ("record no longer exists"); not found when the order itself was read |
| `builtins.ValueError` "Invalid field…", `TypeError`, `AttributeError`, `KeyError` | protocol (schema or version mismatch) |
| `psycopg2.errors.SerializationFailure`, `…LockNotAvailable`, `psycopg2.OperationalError` | unavailable |
| other `psycopg2.*`, anything else                               | rejected                           |
| code 100 (expired login)                                        | unavailable, after one re-authentication |
| code 404 (`404: Not Found`)                                     | protocol                           |
"""

from typing import Any, Protocol

from floorsync.planning.base import (
    AuthReason,
    PlanningAuthError,
    PlanningError,
    PlanningProtocolError,
    PlanningRejected,
    PlanningSystem,
    PlanningUnavailable,
)

SYSTEM = PlanningSystem.ODOO
READ_ONLY_METHODS = frozenset({"search", "search_read", "search_count", "read", "fields_get"})
ACCESS_DENIED = "odoo.exceptions.AccessDenied"
MISSING = "odoo.exceptions.MissingError"
_REJECTED = frozenset(
    {
        "odoo.exceptions.UserError",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.RedirectWarning",
        "odoo.exceptions.Warning",
        "odoo.exceptions.except_orm",
    }
)
_SCHEMA = frozenset({"builtins.TypeError", "builtins.AttributeError", "builtins.KeyError"})
_TRANSIENT = frozenset(
    {
        "psycopg2.errors.SerializationFailure",
        "psycopg2.errors.LockNotAvailable",
        "psycopg2.extensions.TransactionRollbackError",
        "psycopg2.OperationalError",
    }
)


class OdooTransport(Protocol):
    """`call(model, method, ids=…, params=…, context=…)`: `params` are the method's named
    arguments; each transport puts them where its wire format wants them."""

    kind: str  # "jsonrpc" or "json2"

    def call(
        self,
        model: str,
        method: str,
        *,
        ids: list[int] | None = None,
        params: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> Any: ...


def classify(
    name: str,
    message: str,
    *,
    where: str,
    code: int | None = None,
    upstream: str | int | None = None,
) -> PlanningError:
    """The planning error for an Odoo exception raised by `where` (`model.method`)."""
    upstream = upstream if upstream is not None else (name or code)
    details = {"name": name, "message": message, "call": where}
    text = f"Odoo {where}: {message}" if message else f"Odoo {where} failed ({name or code})"
    if name == ACCESS_DENIED:
        return PlanningAuthError(
            SYSTEM,
            f"Odoo refused the login or key: {message}",
            reason=AuthReason.CREDENTIALS,
            upstream=upstream,
        )
    if name == "odoo.exceptions.AccessError":
        if "private method" in message.lower():
            return PlanningProtocolError(SYSTEM, text, upstream=upstream)
        return PlanningAuthError(
            SYSTEM,
            f"the Odoo user lacks a right for {where}: {message}",
            reason=AuthReason.PERMISSION,
            upstream=upstream,
        )
    if name in _REJECTED:
        return PlanningRejected(SYSTEM, message or text, details=details, upstream=upstream)
    if name == MISSING:
        return PlanningRejected(
            SYSTEM, f"record no longer exists ({where})", details=details, upstream=upstream
        )
    if name in _SCHEMA or (name == "builtins.ValueError" and "Invalid field" in message):
        return PlanningProtocolError(
            SYSTEM,
            f"{text} (the fields or methods do not match this Odoo version)",
            upstream=upstream,
        )
    if name in _TRANSIENT:
        return PlanningUnavailable(SYSTEM, text, upstream=upstream)
    if code == 100:
        return PlanningUnavailable(SYSTEM, f"Odoo {where}: the session expired", upstream=upstream)
    if code == 404 and not name:
        return PlanningProtocolError(SYSTEM, f"Odoo {where}: 404 Not Found", upstream=upstream)
    return PlanningRejected(SYSTEM, text, details=details, upstream=upstream)
