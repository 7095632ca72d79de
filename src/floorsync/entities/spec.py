"""What the generic machinery needs to know about an entity: fields in wire order, aliases,
references, children, list options, uniqueness and the per-entity hooks."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol

from sqlalchemy.orm import Session
from typing_extensions import TypeVar

from floorsync.db.repository import TenantScope
from floorsync.db.uow import Work
from floorsync.entities.fields import Field, Kind

if TYPE_CHECKING:  # validation.py imports this module
    from floorsync.entities.validation import Record

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
    # Values that must not repeat among the siblings of one request body (a job's parts'
    # part_number, a part's operations' sequence).
    sibling_unique: tuple[str, ...] = ()


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


# How much of a record `render_extras` adds: "list" (a page), "single" (one record by id or
# after a write), "event" (an event's payload) or "nested" (a record with its children, as a
# job is answered on create and shown inside its parent).
RenderMode = Literal["list", "single", "event", "nested"]

# The entity's rows (Job, Batch, …): the hooks of an `EntitySpec[Job]` take Job rows.
M = TypeVar("M", default=Any)
Row = TypeVar("Row", contravariant=True, default=Any)


# The hooks an entity may declare. The generic machinery (entities/service.py, sync/engine.py,
# entities/render.py) calls them with positional arguments; each is checked by mypy against the
# entity's model through the spec's type parameter.


class RenderExtras(Protocol[Row]):
    """(session, scope, rows, mode) → {row id: extra keys in wire order} (embeds, children)."""

    def __call__(
        self, session: Session, scope: TenantScope, rows: Sequence[Row], mode: RenderMode, /
    ) -> dict[uuid.UUID, dict[str, Any]]: ...


class InputParser(Protocol):
    """An input that is not a column (`operation_ids`, `resources`): (value, path) → parsed."""

    def __call__(self, value: Any, where: str, /) -> Any: ...


class Prepare(Protocol[Row]):
    """Entity rules before a write (derived values, cross-field checks); errors go onto the
    record. `row` is None for a record being created."""

    def __call__(
        self, work: Work, spec: "EntitySpec[Any]", record: "Record", row: Row | None, /
    ) -> None: ...


class PrepareMany(Protocol[Row]):
    """`Prepare` for a batch of records at once, rows aligned with records."""

    def __call__(
        self,
        work: Work,
        spec: "EntitySpec[Any]",
        records: Sequence["Record"],
        rows: Sequence[Row | None],
        /,
    ) -> None: ...


class FillDefaults(Protocol):
    """Values computed at insert time (auto sequences), filled into `values`."""

    def __call__(self, work: Work, values: dict[str, Any], /) -> None: ...


class FillDefaultsMany(Protocol):
    """`FillDefaults` for the values of the records being inserted, in order."""

    def __call__(self, work: Work, values_list: list[dict[str, Any]], /) -> None: ...


class AfterWrite(Protocol[Row]):
    """Writes that depend on the row's id (operation resources, batch members)."""

    def __call__(self, work: Work, record: "Record", row: Row, /) -> None: ...


class AfterWriteMany(Protocol[Row]):
    def __call__(self, work: Work, pairs: Sequence[tuple["Record", Row]], /) -> None: ...


class ExtraChanges(Protocol[Row]):
    """{field: (old, new)} for inputs that are not columns."""

    def __call__(
        self, session: Session, record: "Record", row: Row, /
    ) -> dict[str, tuple[Any, Any]]: ...


class ExtraChangesMany(Protocol[Row]):
    def __call__(
        self, session: Session, scope: TenantScope, pairs: Sequence[tuple["Record", Row]], /
    ) -> list[dict[str, tuple[Any, Any]]]: ...


class HardDeleteBlockers(Protocol):
    """(session, scope, ids of this entity's rows being hard-deleted) → [(name, count)] of the
    recorded work that refuses the delete (entities/work_refs.py)."""

    def __call__(
        self, session: Session, scope: TenantScope, ids: Sequence[uuid.UUID], /
    ) -> list[tuple[str, int]]: ...


class BeforeHardDelete(Protocol):
    """(work, ids, caused_by): remove what references the rows about to be hard-deleted, with
    an event for each record removed, caused by the delete."""

    def __call__(
        self, work: Work, ids: Sequence[uuid.UUID], caused_by: dict[str, Any], /
    ) -> None: ...


class ExpandCreate(Protocol):
    """(work, body) → (the body to validate, stamp): a create body with the templates it names
    merged in (a job or part made from a template); `stamp(record)` then puts the templates'
    ids on the validated record tree. Raises ValidationFailed for a bad template reference."""

    def __call__(
        self, work: Work, body: Any, /
    ) -> tuple[Any, Callable[["Record"], None] | None]: ...


class AfterCreate(Protocol):
    """Writes a create makes after the whole record tree is inserted (an operation's substeps),
    with their events after the tree's own."""

    def __call__(self, work: Work, record: "Record", /) -> None: ...


@dataclass
class EntitySpec(Generic[M]):
    name: str  # "jobs": function api-jobs, list key
    singular: str  # "job"
    # The model class. Its hooks' row type is the spec's type parameter M (each spec declares
    # it: `JOBS: EntitySpec[Job]`); `model` itself stays Any, as the SQLAlchemy column helpers
    # that take it are untyped.
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
    # (session, scope, rows, mode) → per-row extra keys (embeds, child arrays) in wire order.
    render_extras: RenderExtras[M] | None = None
    extra_inputs: dict[str, InputParser] = field(default_factory=dict)
    # JSON schemas of extra inputs that are not arrays of objects (OpenAPI)
    extra_input_schemas: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # "Job", for reference error messages
    created_verb: str = "created"  # the event verb of a create (`operation_quantity.recorded`)
    # How the generic POST answers with the created record (a job: with its parts and their
    # operations, "nested").
    created_mode: RenderMode = "single"
    prepare: Prepare[M] | None = None
    # list filters that are not plain column equality: {param: (stmt, value) → stmt}
    custom_filters: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)
    fill_defaults: FillDefaults | None = None
    after_write: AfterWrite[M] | None = None
    extra_changes: ExtraChanges[M] | None = None
    # Set-based forms of the hooks above, used by the sync engine for a whole batch (one query
    # for many records). Where one is absent, the engine calls the per-record hook per record.
    prepare_many: PrepareMany[M] | None = None
    fill_defaults_many: FillDefaultsMany | None = None
    after_write_many: AfterWriteMany[M] | None = None
    extra_changes_many: ExtraChangesMany[M] | None = None
    # JSON schemas of the keys `render_extras` adds (embeds, child arrays), in wire order, so
    # that OpenAPI describes the records as they are written.
    embeds: dict[str, Any] = field(default_factory=dict)
    # Inputs that are not columns but are part of the sync hash: {input: record → hashed value}
    # (an operation's resolved `resources`).
    hashed_extras: dict[str, Callable[["Record"], Any]] = field(default_factory=dict)
    # References a `<entity>.deleted` tombstone carries besides the key (a part's `job_id`).
    tombstone_refs: tuple[str, ...] = ()
    # Hard delete (entities/work_refs.py), called with the ids of this entity's removed rows:
    #   hard_delete_blockers(session, scope, ids) → [(name, count)]: recorded work refusing it
    #   before_hard_delete(work, ids, caused_by): remove what references the rows
    # The stored columns the prepare hooks read from a row (sync/prefetch.py reads only these
    # and the key, hash and deleted_at to classify a batch); None: the whole row.
    row_columns: tuple[str, ...] | None = None
    hard_delete_blockers: HardDeleteBlockers | None = None
    before_hard_delete: BeforeHardDelete | None = None
    # Inputs of the ordinary create only (api-catalogue-completion §9.3: `template_id`,
    # `substeps`, …): sync refuses them as unknown fields, and so does PATCH unless the key is a
    # read-only field a client may send back.
    create_only: frozenset[str] = frozenset()
    # The create request's templates (jobs, parts) and the writes after the tree (operations'
    # substeps); see ExpandCreate and AfterCreate. Only `service.create` calls them.
    expand_create: ExpandCreate | None = None
    after_create: AfterCreate | None = None

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
