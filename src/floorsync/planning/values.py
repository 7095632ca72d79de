"""Small pure helpers shared by both adapters for the value rules of the Protocol (spec §4.1):
strings stripped with empty ones turned into `None`, aware-UTC datetimes, `Decimal` quantities
written in plain notation, and the checks a push makes before sending anything."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from floorsync.planning.base import PlanningRejected, PlanningSystem


def clean_str(value: Any) -> str | None:
    """A stripped string, or None for None, `false` (Odoo's empty value) and blank text."""
    if value is None or value is False:
        return None
    text = str(value).strip()
    return text or None


def require_aware(value: datetime, name: str) -> datetime:
    """The same instant in UTC; a naive datetime is a programming error (ValueError)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def plain_decimal(value: Decimal) -> str:
    """`Decimal` in plain notation without trailing zeros: "48", "47.5", "0.001" (never "4.8E+1")."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def parse_decimal(value: Any) -> Decimal:
    """A decimal from a JSON string or number; floats go through their shortest repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
        if not parsed.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return parsed
    raise ValueError(f"not a number: {value!r}")


def check_order_id(system: PlanningSystem, order_id: Any) -> str:
    """The stripped order id; an empty or malformed one is refused before any request."""
    text = order_id.strip() if isinstance(order_id, str) else ""
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise PlanningRejected(
            system, "order_id must be a non-empty string", details={"order_id": repr(order_id)}
        )
    return text


def check_quantities(system: PlanningSystem, good: Decimal, scrap: Decimal) -> None:
    """Completion quantities must be finite Decimals ≥ 0 (checked before any request)."""
    for name, value in (("quantity_good", good), ("quantity_scrap", scrap)):
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise PlanningRejected(
                system,
                f"{name} must be a Decimal of at least 0",
                details={name: str(value)},
            )
