"""What the generic machinery needs to know about an entity: fields in wire order, aliases,
references, children, list options, uniqueness and the per-entity hooks."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope
from floorsync.entities.fields import Field, Kind

SYNC_BLOCK = (
    "external_id",
    "external_source",
    "synced_at",
    "sync_hash",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
)
ALWAYS_READ_ONLY = frozenset(
    {
        "id",
        "tenant_id",
        "created_at",
        "updated_at",
        "synced_at",
        "sync_hash",
        "deleted_at",
        "deleted_by",
    }
)


@dataclass(frozen=True)
class RefSpec:
    """A reference to another entity, accepted by id, by external id or (cells) by name."""

    target: str  # entity name, e.g. "jobs"
    id_field: str  # e.g. "job_id" (stored)
    label: str  # e.g. "Job"
    ext_field: str | None = None  # e.g. "job_external_id"
    ext_source_field: str | None = None
    name_field: str | None = None  # e.g. "cell_name"
    required: bool = False

    @property
    def input_fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.ext_field, self.ext_source_field, self.name_field) if f)


@dataclass(frozen=True)
class ChildSpec:
    """A nested child array accepted on create and sync (`parts` of a job)."""

    key: str  # "parts"
    entity: str  # "parts"
    parent_ref: str  # the child's reference to its parent, e.g. "job_id"


@dataclass(frozen=True)
class UniqueRule:
    fields: tuple[str, ...]  # e.g. ("job_id", "part_number"); the last one is reported
    live_only: bool = True


@dataclass(frozen=True)
class ListOptions:
    exact: dict[str, Kind] = field(default_factory=dict)
    fuzzy: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    sortable: tuple[str, ...] = ()
    default_sort: tuple[str, str] = ("created_at", "desc")
    secondary_sort: str | None = None
    date_ranges: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # param → (column, ">=" | "<=")
    # sort fields ordered by an expression instead of their column (an enum's workflow rank,
    # never the alphabet): {field: SQL expression}
    sort_expressions: dict[str, Any] = field(default_factory=dict)


RenderExtras = Callable[[Session, TenantScope, Sequence[Any], str], dict[uuid.UUID, dict[str, Any]]]


@dataclass
class EntitySpec:
    name: str  # "jobs": function api-jobs, list key
    singular: str  # "job"
    model: Any
    fields: tuple[Field, ...]  # wire order, read-only fields included, sync block excluded
    synced: bool = True
    soft_delete: bool = True
    aliases: dict[str, str] = field(default_factory=dict)
    refs: tuple[RefSpec, ...] = ()
    children: tuple[ChildSpec, ...] = ()
    unique: tuple[UniqueRule, ...] = ()
    natural_key: str = "name"
    # more keys a deletion tombstone carries after the natural key (an issue's ncr_number)
    tombstone_extra: tuple[str, ...] = ()
    listing: ListOptions = field(default_factory=ListOptions)
    # (session, scope, rows, mode) → per-row extra keys (embeds, child arrays) in wire order;
    # mode is "list", "single", "event" or "nested".
    render_extras: RenderExtras | None = None
    extra_inputs: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # JSON schemas of extra inputs that are not arrays of objects (OpenAPI)
    extra_input_schemas: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # "Job", for reference error messages
    created_verb: str = "created"  # the event verb of a create (`operation_quantity.recorded`)
    # prepare(work, spec, record, row_or_None): entity rules before a write (derived values,
    # cross-field checks, auto sequences); errors go onto the record.
    prepare: Callable[..., None] | None = None
    # list filters that are not plain column equality: {param: (stmt, value) → stmt}
    custom_filters: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)
    # fill_defaults(work, values): values computed at insert time (auto sequences).
    fill_defaults: Callable[..., None] | None = None
    # after_write(work, record, row): writes that depend on the row id (operation resources).
    after_write: Callable[..., None] | None = None
    # extra_changes(session, record, row) → {field: (old, new)} for inputs that are not columns.
    extra_changes: Callable[..., dict[str, tuple[Any, Any]]] | None = None
    # Set-based forms of the hooks above, used by the sync engine for a whole batch (one query
    # for many records). Where one is absent, the engine calls the per-record hook per record.
    #   prepare_many(work, spec, records, rows_or_None)
    #   fill_defaults_many(work, [values, ...])       values of the records being inserted, in order
    #   after_write_many(work, [(record, row), ...])
    #   extra_changes_many(session, scope, [(record, row), ...]) → [{field: (old, new)}, ...]
    prepare_many: Callable[..., None] | None = None
    fill_defaults_many: Callable[..., None] | None = None
    after_write_many: Callable[..., None] | None = None
    extra_changes_many: Callable[..., list[dict[str, tuple[Any, Any]]]] | None = None
    # JSON schemas of the keys `render_extras` adds (embeds, child arrays), in wire order, so
    # that OpenAPI describes the records as they are written.
    embeds: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.writable = {f.name: f for f in self.fields if not f.read_only}
        self.ref_inputs = {name: ref for ref in self.refs for name in ref.input_fields}
        self.refs_by_id_field = {ref.id_field: ref for ref in self.refs}
        if not self.label:
            self.label = self.singular.replace("_", " ").capitalize()

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    @property
    def has_metadata(self) -> bool:
        return "metadata" in self.by_name

    def wire_fields(self) -> list[Field]:
        """Output fields in order, before extras and metadata."""
        return [f for f in self.fields if f.output and f.name != "metadata"]


def get_spec(name: str) -> EntitySpec:
    """The entity named `name` (`"parts"`), from the one list in `entities/registry.py`.

    Imported when first called, not at the top: the registry imports every entity module, and
    they all import this one. Whatever imports a spec can therefore look up any other (a job's
    parts, a part's operations) without having imported their modules itself.
    """
    from floorsync.entities.registry import BY_NAME

    return BY_NAME[name]
