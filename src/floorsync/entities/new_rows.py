"""The columns of a new row: the one rule for what a record that does not give a column gets
(its field's default, else the column's default, else NULL), used by create (one ORM row) and
by the sync engine (a batch of Core rows) alike."""

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import inspect as sa_inspect

from floorsync.entities.fields import NO_DEFAULT
from floorsync.entities.spec import EntitySpec


@cache
def column_attrs(model: Any) -> tuple[tuple[str, str], ...]:
    """(column key, attribute name) for every mapped column of a model (`metadata`,
    `metadata_`)."""
    mapper = sa_inspect(model)
    return tuple((prop.columns[0].key, prop.key) for prop in mapper.column_attrs)


@cache
def attr_to_column(model: Any) -> dict[str, str]:
    return {attr: col for col, attr in column_attrs(model)}


Defaults = tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]]
_DEFAULTS: dict[int, tuple[EntitySpec, Defaults]] = {}


def create_defaults(spec: EntitySpec) -> Defaults:
    """How to fill the columns of a new row that the record does not give: a template of
    constant defaults, and factories for the mutable ones (`{}`, `[]`), called per row.
    Computed once per spec."""
    hit = _DEFAULTS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    table = spec.model.__table__
    by_attr = {f.attr: f for f in spec.fields}
    constants: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for col, attr in column_attrs(spec.model):
        f = by_attr.get(attr)
        column_default = table.c[col].default
        if (
            f is not None
            and not f.read_only
            and f.default is not NO_DEFAULT
            and f.default is not None
        ):
            if callable(f.default):
                factories.append((col, f.default_value))
            else:
                constants[col] = f.default
        elif column_default is not None and getattr(column_default, "is_scalar", False):
            constants[col] = column_default.arg
        elif column_default is not None and getattr(column_default, "is_callable", False):
            factories.append((col, (lambda fn: lambda: fn(None))(column_default.arg)))
        else:
            constants[col] = None
    _DEFAULTS[id(spec)] = (spec, (constants, tuple(factories)))
    return constants, tuple(factories)


def new_row_values(
    spec: EntitySpec, given: Mapping[str, Any], fixed: Mapping[str, Any]
) -> dict[str, Any]:
    """Every column of a new row, by column key: the `fixed` bookkeeping (id, tenant,
    timestamps), the columns the record gives, and the defaults for the rest."""
    constants, factories = create_defaults(spec)
    full = dict(constants)
    for col, make in factories:
        if col not in given and col not in fixed:
            full[col] = make()
    full.update(given)
    full.update(fixed)
    return full
