"""Rules of the house style checked on the source itself (house style §3, §8):

- tenant filters are written only in db/repository.py (and the outbox's counter update), and no
  tenant-owned row is loaded with a bare `session.get`, so a
  query can't forget its tenant by being written by hand somewhere else;
- imports point downwards through one table of layers (LAYERS below, the README's "Layout"):
  every package sits in a layer and imports only from layers below its own, so no two
  packages can depend on each other.
"""

import ast
import functools
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "floorsync"
TENANT_FILTER_HOMES = {"db/repository.py", "events/outbox.py"}
RAW_SQL_TENANT = re.compile(r"\btenant_id\s*(=|==|!=|<>|\bin\b|\bIN\b)", re.IGNORECASE)


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _is_tenant_attr(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "tenant_id"


def tenant_filters(tree: ast.AST) -> list[int]:
    """Lines with `….tenant_id ==`/`!=`, `.tenant_id.in_(…)`, `filter_by(tenant_id=…)` or raw SQL
    comparing tenant_id."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
        ):
            if any(_is_tenant_attr(n) for n in (node.left, *node.comparators)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("in_", "is_", "not_in", "is_not", "__eq__") and _is_tenant_attr(
                node.func.value
            ):
                lines.append(node.lineno)
            if node.func.attr == "filter_by" and any(k.arg == "tenant_id" for k in node.keywords):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and RAW_SQL_TENANT.search(node.value)
        ):
            lines.append(node.lineno)
    return lines


class TestTenantScopingLivesInOnePlace:
    def test_no_module_filters_on_tenant_id_by_hand(self) -> None:
        offenders = {
            rel(p): lines
            for p in modules()
            if rel(p) not in TENANT_FILTER_HOMES
            and (lines := tenant_filters(ast.parse(p.read_text())))
        }
        assert offenders == {}, (
            "filter through floorsync.db.repository (scoped / tenant_filter / TenantRepository)"
        )

    @pytest.mark.parametrize(
        "source",
        [
            "select(Job).where(Job.tenant_id == scope.tenant_id)",
            "stmt.where(Part.tenant_id != x)",
            "stmt.where(Part.tenant_id.in_(ids))",
            "session.query(Job).filter_by(tenant_id=t)",
            "text('SELECT * FROM jobs WHERE tenant_id = :t')",
            "t.c.tenant_id == 1",
        ],
    )
    def test_the_lint_recognises_a_hand_written_filter(self, source: str) -> None:
        assert tenant_filters(ast.parse(source)) == [1]

    def test_the_lint_ignores_assignments_and_columns(self) -> None:
        source = "row = Job(tenant_id=scope.tenant_id)\nvalues = {'tenant_id': scope.tenant_id}\nx.tenant_id = y"
        assert tenant_filters(ast.parse(source)) == []


def tenant_models() -> set[str]:
    import floorsync.models as models
    from floorsync.db.base import TenantOwned

    return {
        name
        for name, obj in vars(models).items()
        if isinstance(obj, type) and issubclass(obj, TenantOwned)
    }


# Background work that loads a row it has claimed by id (the claim carries the tenant).
UNSCOPED_GET_ALLOWED = {"webhooks/worker.py"}


def unscoped_gets(tree: ast.AST, models: set[str]) -> list[int]:
    """Lines with `session.get(<tenant-owned model>, …)`: a primary-key lookup with no tenant."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in models
    ]


class TestNoUnscopedPrimaryKeyLookups:
    def test_tenant_owned_rows_are_not_loaded_with_session_get(self) -> None:
        models = tenant_models()
        assert {"Job", "Part", "Operation", "Cell", "ApiKey"} <= models
        offenders = {
            rel(p): lines
            for p in modules()
            if rel(p) not in UNSCOPED_GET_ALLOWED
            and (lines := unscoped_gets(ast.parse(p.read_text()), models))
        }
        assert offenders == {}, "use TenantRepository(session, scope, Model).get(id)"

    def test_the_lint_recognises_one(self) -> None:
        assert unscoped_gets(
            ast.parse("row = work.session.get(Material, material_id)"), {"Material"}
        ) == [1]


# Modules that are doors: they turn a transport (HTTP routes, the worker's job loop) into calls
# of the package they sit in, so they sit above every package's core, next to the entry points.
# A module named like this belongs to the "doors" unit whatever package it is in.
DOOR_MODULES = {"endpoints", "erp_endpoints", "replies", "tasks"}
# The worker process's own door: its loop and the list of job kinds it runs (which names the
# features' tasks.py). kinds.py, queue.py and periodic.py are what the tasks build on.
WORKER_DOORS = {"worker.runner", "worker.registry"}

# The layers, lowest first. A unit (a top-level package or module of floorsync, or "doors") may
# import itself and the units of lower layers only; units of one layer don't import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("kit", "errors", "config", "floorsync"),  # pure: no database, no HTTP; floorsync = __init__
    ("db",),  # engine, unit of work, tenant scoping, leases; knows no table
    ("models",),  # the tables
    ("events", "storage"),  # outbox and feed; files
    ("entities",),  # every entity's spec and the generic machinery (shopfloor/ inside)
    ("auth", "lifecycle", "sync", "webhooks"),  # features over the entities
    ("planning",),  # adapters, and pulls and pushes through the sync service
    ("bootstrap",),  # the composition root: builds Services from the features
    ("http",),  # request context (carries Services), envelope, auth, rate limit, idempotency
    ("worker",),  # job kinds, the job queue, periodic-task leases
    ("csv_import",),  # parsers, and imports queued on the worker through the sync engine
    ("doors", "admin"),  # */endpoints, */tasks, the worker loop; the admin web UI
    ("app",),  # the FastAPI factory
    ("serving",),  # uvicorn with the in-process worker
    ("cli",),
    ("__main__",),
)
LAYER_OF = {unit: n for n, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    """`entities/shopfloor/batches.py` → `entities.shopfloor.batches`; `__init__` is dropped."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "floorsync"


def is_module(dotted: str) -> bool:
    base = SRC.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def unit_of(dotted: str) -> str:
    """The layer-table unit of a module (`entities.shopfloor.endpoints` → `doors`)."""
    if dotted == "floorsync":
        return "floorsync"
    parts = dotted.split(".")
    if parts[-1] in DOOR_MODULES or ".".join(parts[:2]) in WORKER_DOORS:
        return "doors"
    return parts[0]


def imported_modules(source: str) -> set[str]:
    """floorsync modules a source imports, anywhere in it (a lazy import is a dependency too),
    without the `floorsync.` prefix; `from floorsync.events import tasks` names the module."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{a.name}"
                if is_module(f"{node.module}.{a.name}".removeprefix("floorsync."))
                else node.module
                for a in node.names
            ]
        else:
            continue
        for name in names:
            if name == "floorsync" or name.startswith("floorsync."):
                out.add(name.removeprefix("floorsync").removeprefix(".") or "floorsync")
    return out


@functools.cache
def unit_graph() -> dict[str, frozenset[str]]:
    """Unit → the other units it imports, over every module of src/floorsync."""
    graph: dict[str, set[str]] = {}
    for path in modules():
        unit = unit_of(module_name(path))
        deps = {unit_of(m) for m in imported_modules(path.read_text())}
        graph.setdefault(unit, set()).update(deps - {unit})
    return {unit: frozenset(deps) for unit, deps in graph.items()}


def layer_violations(
    graph: Mapping[str, AbstractSet[str]], layer_of: dict[str, int]
) -> dict[str, list[str]]:
    """Imports that don't point to a strictly lower layer (or come from/go to no layer)."""
    bad: dict[str, list[str]] = {}
    for unit, deps in graph.items():
        wrong = sorted(
            d
            for d in deps
            if unit not in layer_of or d not in layer_of or layer_of[d] >= layer_of[unit]
        )
        if wrong:
            bad[unit] = wrong
    return bad


def cycles(graph: Mapping[str, AbstractSet[str]]) -> list[list[str]]:
    """The strongly connected components with more than one unit (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


class TestImportDirection:
    def test_every_package_and_module_of_floorsync_has_a_layer(self) -> None:
        units = {unit_of(module_name(p)) for p in modules()}
        assert units - set(LAYER_OF) == set(), "add the new package to LAYERS (and the README)"
        assert set(LAYER_OF) - units == set(), "LAYERS names a package that no longer exists"

    def test_every_import_points_to_a_lower_layer(self) -> None:
        assert layer_violations(unit_graph(), LAYER_OF) == {}

    def test_no_two_packages_depend_on_each_other(self) -> None:
        assert cycles(unit_graph()) == []

    def test_only_entrypoints_import_the_app(self) -> None:
        graph = unit_graph()
        importers = {u for u, deps in graph.items() if deps & {"app", "serving", "cli"}}
        assert importers <= {"app", "serving", "cli", "__main__"}

    def test_db_imports_no_table_and_no_event(self) -> None:
        for path in (SRC / "db").glob("*.py"):
            imported = {unit_of(m) for m in imported_modules(path.read_text())}
            assert imported <= {"db", "kit", "errors", "config"}, rel(path)


SYNTHETIC_LAYERS = {"low": 0, "mid": 1, "high": 2}


class TestTheLayerCheckItself:
    def test_a_new_cycle_between_two_packages_fails_both_checks(self) -> None:
        graph = {"low": set(), "mid": {"low", "high"}, "high": {"mid"}}
        assert cycles(graph) == [["high", "mid"]]
        assert layer_violations(graph, SYNTHETIC_LAYERS) == {"mid": ["high"]}

    def test_a_longer_cycle_is_found(self) -> None:
        graph = {"low": {"high"}, "mid": {"low"}, "high": {"mid"}}
        assert cycles(graph) == [["high", "low", "mid"]]
        assert layer_violations(graph, SYNTHETIC_LAYERS) == {"low": ["high"]}

    def test_imports_within_one_layer_are_refused_and_downward_ones_pass(self) -> None:
        layer_of = {"a": 0, "b": 0, "c": 1}
        assert layer_violations({"a": {"b"}, "b": set(), "c": {"a", "b"}}, layer_of) == {"a": ["b"]}

    def test_a_package_missing_from_the_table_is_a_violation(self) -> None:
        assert layer_violations({"new": {"low"}}, SYNTHETIC_LAYERS) == {"new": ["low"]}

    def test_doors_and_lazy_imports_are_seen(self) -> None:
        source = "def f():\n    from floorsync.entities.registry import BY_NAME\n"
        assert imported_modules(source) == {"entities.registry"}
        assert imported_modules("from floorsync.events import tasks as t") == {"events.tasks"}
        assert imported_modules("from floorsync import __version__") == {"floorsync"}
        assert unit_of("entities.shopfloor.endpoints") == "doors"
        assert unit_of("worker.registry") == "doors"
        assert unit_of("worker.kinds") == "worker"


# The specs comments may cite by section; README "Spec references in the code" maps each to the
# README section that states its rules.
SPEC_NAMES = re.compile(
    r"\b(API|[Dd]ata model|Events and webhooks|[Cc]atalogue|CSV import|[Pp]lanning adapters|spec)\b"
)


class TestSpecReferences:
    def test_every_module_citing_a_section_names_the_spec_the_readme_maps(self) -> None:
        unnamed = [
            rel(p)
            for p in modules()
            if "§" in (text := p.read_text()) and not SPEC_NAMES.search(text)
        ]
        assert unnamed == []

    def test_the_readme_maps_every_cited_spec_to_its_sections(self) -> None:
        readme = (SRC.parents[1] / "README.md").read_text()
        table = readme.split("### Spec references in the code", 1)[1].split("\n#", 1)[0]
        for cited in ("API §1", "API §3", "API §4", "API §5", "data model", "Events and webhooks"):
            assert f"| {cited}" in table
        for cited in ("catalogue §2", "CSV import", "Planning adapters"):
            assert f"| {cited}" in table
