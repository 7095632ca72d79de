"""The planning-adapter contract: the `PlanningAdapter` Protocol, the canonical ISA-95 dataclasses
that are all that crosses it, and the error tree (Planning adapters spec §4). Standard library
only, so every other module can depend on it.

Everything crossing the Protocol is canonical: datetimes are timezone-aware UTC, quantities are
`Decimal` (never float), strings are stripped with empty strings turned into `None`. No FrePPLe or
Odoo JSON ever leaves an adapter.

Every failure is one of four kinds, and a caller decides what to do from the class alone:

    PlanningError                     base; .system, .message, .upstream (HTTP status or Odoo
    │                                 exception name), .excerpt (start of the answer, redacted)
    ├── PlanningUnavailable           try again later; .retry_after: float | None (seconds)
    ├── PlanningAuthError             an operator must fix credentials or rights; .reason is one of
    │                                 credentials, permission, login_redirect, scenario, database
    ├── PlanningProtocolError         the server does not answer as the protocol says: wrong base
    │                                 URL, unsupported version, schema drift, TLS verification
    │                                 failure, a refused (cloud-metadata) address, a cap exceeded
    └── PlanningRejected              this request will not succeed as sent; .details (JSON-safe)
        ├── PlanningOrderNotFound     the order does not exist (any more) in the planning system
        └── PlanningNotCompleted      the call was accepted but the order did not reach the
                                      target state (an Odoo wizard, a re-read state)

`error_kind(exc)` gives the `ErrorKind` of an error (both `PlanningRejected` subclasses are
`rejected`), which is what run records store.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, Protocol, Self

# --------------------------------------------------------------------------------------- enums


class PlanningSystem(StrEnum):
    FREPPLE = "frepple"
    ODOO = "odoo"


class OrderStatus(StrEnum):
    PLANNED = "planned"  # proposal / draft, not released
    RELEASED = "released"  # released to production, not started
    RUNNING = "running"  # production started
    COMPLETED = "completed"  # production finished, not yet closed / booked
    CLOSED = "closed"  # finished and closed upstream
    ABORTED = "aborted"  # cancelled upstream


class EquipmentRole(StrEnum):
    WORK_CENTER = "work_center"
    TOOLING = "tooling"
    PERSONNEL = "personnel"


class PushOutcome(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"


class ErrorKind(StrEnum):
    UNAVAILABLE = "unavailable"
    AUTH = "auth"
    REJECTED = "rejected"
    PROTOCOL = "protocol"


class AuthReason(StrEnum):
    CREDENTIALS = "credentials"
    PERMISSION = "permission"
    LOGIN_REDIRECT = "login_redirect"
    SCENARIO = "scenario"
    DATABASE = "database"


# ---------------------------------------------------------------------------- canonical classes


@dataclass(frozen=True, slots=True)
class MaterialDefinition:
    """An ISA-95 material definition: the produced item or a consumed component."""

    external_id: str
    code: str
    name: str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class EquipmentRef:
    """A reference to a work centre."""

    external_id: str
    name: str


@dataclass(frozen=True, slots=True)
class JobOrder:
    """An ISA-95 job order: one dispatchable routing step of a work order (a floorsync operation).
    A FrePPLe *work order* is a job order."""

    external_id: str
    work_order_id: str
    sequence: int  # 10, 20, 30… in routing order
    name: str
    work_center: EquipmentRef | None
    quantity_planned: Decimal
    quantity_completed: Decimal | None
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    expected_minutes: Decimal | None
    status: OrderStatus
    upstream_status: str
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """An ISA-95 work order: a request to make a quantity of one product (a floorsync job with
    one part). Always complete: it carries all of its job orders, sorted by sequence."""

    external_id: str
    number: str
    product: MaterialDefinition | None
    consumed_materials: tuple[MaterialDefinition, ...]
    operation_name: str | None
    quantity_planned: Decimal
    quantity_completed: Decimal | None
    unit: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    due_at: datetime | None
    priority: int
    lot: str | None
    origin: str | None
    work_center: EquipmentRef | None
    status: OrderStatus
    upstream_status: str
    job_orders: tuple[JobOrder, ...]
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class Equipment:
    """A work centre, a piece of tooling or a labour pool."""

    external_id: str
    name: str
    description: str | None
    code: str | None
    role: EquipmentRole
    category: str | None
    capacity: Decimal | None
    efficiency_percent: Decimal | None
    location: str | None
    parent_external_id: str | None
    active: bool
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The result of `test_connection()`: never an exception for a server-side problem."""

    ok: bool
    system: PlanningSystem
    server_version: str | None
    capabilities: frozenset[str]
    error_kind: ErrorKind | None
    message: str
    elapsed_ms: int


@dataclass(frozen=True, slots=True)
class PushResult:
    order_id: str
    action: Literal["start", "completion"]
    outcome: PushOutcome
    upstream_status: str | None
    message: str


# ------------------------------------------------------------------------------------- errors


class PlanningError(Exception):
    """Base of every planning failure. Messages are redacted before they are raised."""

    kind: ErrorKind = ErrorKind.PROTOCOL

    def __init__(
        self,
        system: PlanningSystem,
        message: str,
        *,
        upstream: str | int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(message)
        self.system, self.message, self.upstream, self.excerpt = system, message, upstream, excerpt

    def __str__(self) -> str:
        return self.message


class PlanningUnavailable(PlanningError):
    """Try again later (network trouble, 5xx, 429, a truncated answer)."""

    kind = ErrorKind.UNAVAILABLE

    def __init__(
        self,
        system: PlanningSystem,
        message: str,
        *,
        retry_after: float | None = None,
        upstream: str | int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(system, message, upstream=upstream, excerpt=excerpt)
        self.retry_after = retry_after


class PlanningAuthError(PlanningError):
    """An operator must fix the credentials or the rights of the connection."""

    kind = ErrorKind.AUTH

    def __init__(
        self,
        system: PlanningSystem,
        message: str,
        *,
        reason: AuthReason,
        upstream: str | int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(system, message, upstream=upstream, excerpt=excerpt)
        self.reason = reason


class PlanningProtocolError(PlanningError):
    """The server does not answer as the protocol says: fix the connection settings."""

    kind = ErrorKind.PROTOCOL


class PlanningRejected(PlanningError):
    """This request will not succeed as sent."""

    kind = ErrorKind.REJECTED

    def __init__(
        self,
        system: PlanningSystem,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        upstream: str | int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(system, message, upstream=upstream, excerpt=excerpt)
        self.details: dict[str, Any] = details or {}


class PlanningOrderNotFound(PlanningRejected):
    """The order does not exist (any more) in the planning system."""


class PlanningNotCompleted(PlanningRejected):
    """The call was accepted but the order did not reach the target state."""


def error_kind(exc: PlanningError) -> ErrorKind:
    return exc.kind


# ----------------------------------------------------------------------------------- protocol


class PlanningAdapter(Protocol):
    """What floorsync needs from a planning system. Synchronous, used by one thread at a time;
    `__exit__` calls `close()`. Vendor JSON never leaves the adapter."""

    system: PlanningSystem

    def test_connection(self) -> ConnectionCheck: ...

    def pull_work_orders(self, since: datetime | None = None) -> list[WorkOrder]: ...

    def pull_resources(self) -> list[Equipment]: ...

    def push_order_start(self, order_id: str, started_at: datetime) -> PushResult: ...

    def push_order_completion(
        self,
        order_id: str,
        quantity_good: Decimal,
        quantity_scrap: Decimal,
        *,
        completed_at: datetime | None = None,
    ) -> PushResult: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
