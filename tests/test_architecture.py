"""Rules of the house style checked on the source itself (house style §3, §8):

- tenant filters are written only in db/repository.py (and the outbox's counter update), and no
  tenant-owned row is loaded with a bare `session.get`, so a
  query can't forget its tenant by being written by hand somewhere else;
- imports point downwards: kit and models stay pure, the foundation doesn't reach into feature
  packages, and only entrypoints import the app.
"""

import ast
import re
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


def imported_packages(path: Path) -> set[str]:
    """Top-level floorsync packages/modules a module imports (`floorsync.db.repository` → `db`)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "floorsync" and len(parts) > 1:
                out.add(parts[1])
    return out


def package_of(path: Path) -> str:
    return rel(path).split("/")[0].removesuffix(".py")


# What each lower layer may import (besides itself).
ALLOWED = {
    "kit": set(),
    "errors": set(),
    "config": set(),
    "models": {"db", "kit"},
    "db": {"errors", "events", "kit", "models"},  # db.uow buffers events through events.outbox
    "storage": {"config", "errors", "kit"},  # files and signed URLs: no database, no HTTP
}
# Packages the foundation (and the lower layers) never import: features and entrypoints.
FEATURES = {"sync", "webhooks", "lifecycle", "worker", "cli", "app", "serving", "__main__"}
FOUNDATION = {"kit", "errors", "config", "models", "db", "http", "auth", "entities"}
# Known exception: operations register assigned operators in the directory (shop floor).
FOUNDATION_EXTRA = {"entities": {"shopfloor"}}
ENTRYPOINTS = {"app", "serving", "cli", "__main__"}


class TestImportDirection:
    def test_lower_layers_import_only_what_is_below_them(self) -> None:
        offenders = {}
        for path in modules():
            package = package_of(path)
            if package in ALLOWED:
                extra = imported_packages(path) - ALLOWED[package] - {package}
                if extra:
                    offenders[rel(path)] = sorted(extra)
        assert offenders == {}

    def test_the_foundation_does_not_import_feature_packages_or_entrypoints(self) -> None:
        offenders = {}
        for path in modules():
            package = package_of(path)
            if package in FOUNDATION:
                bad = (imported_packages(path) & FEATURES) | (
                    (imported_packages(path) - FOUNDATION - FOUNDATION_EXTRA.get(package, set()))
                    & {"shopfloor", "lifecycle", "sync", "webhooks"}
                )
                if bad:
                    offenders[rel(path)] = sorted(bad)
        assert offenders == {}

    def test_only_entrypoints_import_the_app(self) -> None:
        offenders = [
            rel(p)
            for p in modules()
            if package_of(p) not in ENTRYPOINTS and imported_packages(p) & {"app", "serving", "cli"}
        ]
        assert offenders == []

    def test_db_reaches_events_only_through_the_outbox(self) -> None:
        for path in (SRC / "db").glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module
                    and node.module.startswith("floorsync.events")
                ):
                    assert node.module == "floorsync.events.outbox", rel(path)
