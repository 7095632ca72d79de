"""Planning connections stored per tenant (spec §5, data model §10.1): create, find, change,
remove, and the validated `PlanningConnectionConfig` view of a row with its credential opened.

* The credential (password or API key) is sealed with the secret box under the context
  `planning:<connection id>`, so a ciphertext copied onto another row does not open. It is never
  returned: `masked_credential` shows `••••` plus the last 4 characters of an API key and
  nothing of a password (§5.3).
* Every create and change is validated by `PlanningConnectionConfig` (§5.2) before anything is
  written; a failure raises `ConnectionInvalid` with one `{field, message}` per problem.
* A new connection's `dispatch_cursor` is the tenant's current event head, so lifecycle events
  from before it existed are never pushed (§7.1).
* A settings change lifts an authentication block (`last_test_ok` back to NULL, §5.4).

The caller owns the transaction (a CLI command, a worker step): nothing here commits.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.ids import new_id
from floorsync.kit.secretbox import SecretBox
from floorsync.kit.timefmt import format_ts
from floorsync.models.enums import PlanningAuthMethod, PlanningSystemName
from floorsync.models.events import EventSequence
from floorsync.models.planning import PlanningConnection
from floorsync.planning.base import ConnectionCheck
from floorsync.planning.config import PlanningConnectionConfig, describe_errors

# Columns a change may set besides `settings` and the credential.
CHANGEABLE = ("base_url", "auth_method", "username", "name", "pull_interval_minutes")


class ConnectionInvalid(Exception):
    """The connection's settings break the rules of §5.2 (one entry per problem)."""

    def __init__(self, problems: Sequence[Mapping[str, str]]) -> None:
        self.problems = [dict(p) for p in problems]
        super().__init__(
            "; ".join(f"{p['field']}: {p['message']}" for p in self.problems) or "invalid"
        )


class ConnectionNotFound(Exception):
    def __init__(self, ident: str) -> None:
        super().__init__(f"no planning connection {ident!r} in this tenant")


class ConnectionExists(Exception):
    """A tenant has at most one connection per system, and names are unique per tenant."""


def _context(connection_id: uuid.UUID) -> bytes:
    return b"planning:" + connection_id.bytes


def seal_credential(box: SecretBox, connection_id: uuid.UUID, credential: str) -> bytes:
    return box.seal(credential.encode("utf-8"), _context(connection_id))


def open_credential(box: SecretBox, row: PlanningConnection) -> str | None:
    if row.credential_ciphertext is None:
        return None
    return box.open(row.credential_ciphertext, _context(row.id)).decode("utf-8")


def masked_credential(row: PlanningConnection, credential: str | None) -> str:
    """What the CLI and the admin page show of the credential (§5.3)."""
    if not credential:
        return "(none)"
    if row.auth_method is PlanningAuthMethod.api_key and len(credential) >= 8:
        return "••••" + credential[-4:]
    return "••••"


def validate(fields: Mapping[str, Any]) -> PlanningConnectionConfig:
    try:
        return PlanningConnectionConfig.model_validate(dict(fields))
    except ValidationError as exc:
        raise ConnectionInvalid(describe_errors(exc)) from None


def _fields(row: PlanningConnection, credential: str | None) -> dict[str, Any]:
    return {
        "system": row.system.value,
        "name": row.name,
        "base_url": row.base_url,
        "auth_method": row.auth_method.value,
        "username": row.username,
        "credential": credential,
        "pull_enabled": row.pull_enabled,
        "pull_interval_minutes": row.pull_interval_minutes,
        "push_enabled": row.push_enabled,
        "settings": dict(row.settings or {}),
    }


def config_of(row: PlanningConnection, box: SecretBox) -> PlanningConnectionConfig:
    """The validated view of a stored connection, credential opened (what the factory takes)."""
    return validate(_fields(row, open_credential(box, row)))


def _settings_json(config: PlanningConnectionConfig, given: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as stored: only the keys that were given (defaults stay defaults, so a
    later default change reaches existing connections), in their validated JSON form."""
    dumped = config.settings.model_dump(mode="json")
    return {key: dumped[key] for key in given}


def tenant_head(session: Session, scope: TenantScope) -> int:
    row = session.scalars(scoped(EventSequence, scope)).first()
    return int(row.last_seq) if row is not None else 0


def create_connection(
    session: Session,
    scope: TenantScope,
    box: SecretBox,
    now: datetime,
    *,
    system: str,
    base_url: str,
    auth_method: str,
    credential: str | None,
    username: str | None = None,
    name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    pull_interval_minutes: int = 15,
) -> PlanningConnection:
    """A new connection with pull and push switched off (the CLI enables them once its test
    succeeds, §5.5)."""
    given = dict(settings or {})
    config = validate(
        {
            "system": system,
            "name": name,
            "base_url": base_url,
            "auth_method": auth_method,
            "username": username,
            "credential": credential,
            "pull_interval_minutes": pull_interval_minutes,
            "settings": given,
        }
    )
    display = config.display_name
    taken = session.scalars(
        scoped(PlanningConnection, scope).where(
            (PlanningConnection.system == config.system.value)
            | (PlanningConnection.name == display)
        )
    ).first()
    if taken is not None:
        if taken.system.value == config.system.value:
            raise ConnectionExists(
                f"this tenant already has a {config.system.value} connection ({taken.name!r}); "
                "there is at most one per system"
            )
        raise ConnectionExists(f"a connection named {display!r} already exists")
    connection_id = new_id()
    row = PlanningConnection(
        id=connection_id,
        tenant_id=scope.tenant_id,
        system=PlanningSystemName(config.system.value),
        name=display,
        base_url=config.base_url,
        auth_method=PlanningAuthMethod(config.auth_method),
        username=config.username,
        credential_ciphertext=seal_credential(box, connection_id, config.secret)
        if config.secret
        else None,
        pull_enabled=False,
        push_enabled=False,
        pull_interval_minutes=config.pull_interval_minutes,
        settings=_settings_json(config, given),
        consecutive_pull_failures=0,
        dispatch_cursor=tenant_head(session, scope),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def change_connection(
    session: Session,
    row: PlanningConnection,
    box: SecretBox,
    now: datetime,
    *,
    settings: Mapping[str, Any] | None = None,
    credential: str | None = None,
    **columns: Any,
) -> PlanningConnection:
    """Change columns (`CHANGEABLE`), settings keys (merged; a value of None removes the key) or
    the credential; validated as a whole first. Lifts an authentication block (§5.4)."""
    unknown = set(columns) - set(CHANGEABLE)
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    current = open_credential(box, row)
    merged = dict(row.settings or {})
    for key, value in (settings or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    fields = _fields(row, credential if credential is not None else current)
    fields.update({k: v for k, v in columns.items() if v is not None})
    fields["settings"] = merged
    config = validate(fields)
    row.base_url = config.base_url
    row.auth_method = PlanningAuthMethod(config.auth_method)
    row.username = config.username
    row.name = config.display_name
    row.pull_interval_minutes = config.pull_interval_minutes
    row.settings = _settings_json(config, merged)
    if credential is not None:
        row.credential_ciphertext = seal_credential(box, row.id, credential)
    row.last_test_ok = None
    row.updated_at = now
    session.flush()
    return row


def find_connection(session: Session, scope: TenantScope, ident: str) -> PlanningConnection:
    """By id or by name."""
    stmt = scoped(PlanningConnection, scope)
    try:
        stmt = stmt.where(PlanningConnection.id == uuid.UUID(ident))
    except ValueError:
        stmt = stmt.where(PlanningConnection.name == ident)
    row: PlanningConnection | None = session.scalars(stmt).first()
    if row is None:
        raise ConnectionNotFound(ident)
    return row


def list_connections(session: Session, scope: TenantScope) -> list[PlanningConnection]:
    return list(
        session.scalars(scoped(PlanningConnection, scope).order_by(PlanningConnection.name))
    )


def all_connections(session: Session) -> list[PlanningConnection]:
    """Every tenant's connections (worker scans; no tenant to scope to)."""
    return list(session.scalars(select(PlanningConnection).order_by(PlanningConnection.id)))


def remove_connection(session: Session, row: PlanningConnection) -> None:
    """Deletes the connection; its runs and pushes go with it (foreign keys CASCADE)."""
    session.delete(row)
    session.flush()


def record_test(row: PlanningConnection, check: ConnectionCheck, now: datetime) -> None:
    """Store a test result. A successful test lifts an authentication block (§5.4)."""
    row.last_test_at = now
    row.last_test_ok = check.ok
    row.last_error = None if check.ok else f"{check.error_kind}: {check.message}"[:2000]
    if check.server_version is not None:
        row.detected_version = check.server_version[:20]
    row.capabilities = sorted(check.capabilities)
    row.updated_at = now


def block(row: PlanningConnection, message: str, now: datetime) -> None:
    """An authentication failure in a pull, push or test: scheduled pulls and all pushes of the
    connection wait until its settings change or a test succeeds (§5.4)."""
    row.last_test_ok = False
    row.last_error = message[:2000]
    row.updated_at = now


def blocked(row: PlanningConnection) -> bool:
    return row.last_test_ok is False


def describe(row: PlanningConnection, box: SecretBox) -> dict[str, Any]:
    """A connection as the CLI and the admin page show it: no secret, the credential masked."""
    try:
        shown = masked_credential(row, open_credential(box, row))
    except Exception:  # a credential sealed under another key: say so, never fail the listing
        shown = "(cannot be opened with this secret key)"
    return {
        "id": str(row.id),
        "name": row.name,
        "system": row.system.value,
        "base_url": row.base_url,
        "auth_method": row.auth_method.value,
        "username": row.username,
        "credential": shown,
        "pull_enabled": row.pull_enabled,
        "push_enabled": row.push_enabled,
        "pull_interval_minutes": row.pull_interval_minutes,
        "settings": dict(row.settings or {}),
        "pull_cursor": format_ts(row.pull_cursor),
        "last_pull_at": format_ts(row.last_pull_at),
        "last_pull_status": row.last_pull_status.value if row.last_pull_status else None,
        "next_pull_at": format_ts(row.next_pull_at),
        "last_test_at": format_ts(row.last_test_at),
        "last_test_ok": row.last_test_ok,
        "last_error": row.last_error,
        "dispatch_cursor": row.dispatch_cursor,
        "detected_version": row.detected_version,
    }
