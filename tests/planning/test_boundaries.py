"""The planning adapters' import rules (spec §3.1, house style §3, §12), checked on the source:
adapters never touch the database or floorsync's entity modules, the contract module is standard
library only, the two adapter packages do not know each other, and the fake servers use the
standard library only (so they fake the wire, not our code)."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLANNING = ROOT / "src" / "floorsync" / "planning"
FAKES = ROOT / "tests" / "planning" / "fakes"
THIRD_PARTY = {"httpx", "httpcore", "orjson", "pydantic", "pydantic_core"}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


# The application side of the feature (issue 13): connections stored per tenant, the pull
# service, the dispatcher, the push queue and the worker tasks. They use the database and the
# sync service; the adapter modules (everything else) must not, and must not import them.
APPLICATION_MODULES = {
    PLANNING / f"{name}.py"
    for name in ("connections", "runtime", "service", "dispatch", "pushes", "tasks", "admin")
}
ADAPTER_MODULES = sorted(p for p in PLANNING.rglob("*.py") if p not in APPLICATION_MODULES)


@pytest.mark.parametrize("path", ADAPTER_MODULES, ids=rel)
def test_a_planning_module_imports_only_the_standard_library_kit_and_planning(path: Path) -> None:
    allowed_floorsync = ("floorsync.planning", "floorsync.kit")
    bad = sorted(
        name
        for name in imports(path)
        if not stdlib(name)
        and name.split(".")[0] not in THIRD_PARTY
        and name != "floorsync"  # the package version for the User-Agent
        and not name.startswith(allowed_floorsync)
    )

    assert bad == [], f"{rel(path)} imports {bad}: adapters never touch the database or entities"


@pytest.mark.parametrize("path", ADAPTER_MODULES, ids=rel)
def test_an_adapter_module_does_not_import_the_application_side(path: Path) -> None:
    application = {f"floorsync.planning.{p.stem}" for p in APPLICATION_MODULES}

    assert imports(path) & application == set(), rel(path)


def test_the_contract_module_is_standard_library_only() -> None:
    assert all(stdlib(name) for name in imports(PLANNING / "base.py"))


@pytest.mark.parametrize(("package", "other"), [("frepple", "odoo"), ("odoo", "frepple")])
def test_an_adapter_package_does_not_import_the_other(package: str, other: str) -> None:
    for path in (PLANNING / package).glob("*.py"):
        assert not any(name.startswith(f"floorsync.planning.{other}") for name in imports(path)), (
            rel(path)
        )


@pytest.mark.parametrize("path", sorted(FAKES.glob("*.py")), ids=rel)
def test_the_fake_servers_use_the_standard_library_only(path: Path) -> None:
    bad = sorted(
        n for n in imports(path) if not stdlib(n) and not n.startswith("tests.planning.fakes")
    )

    assert bad == [], f"{rel(path)} imports {bad}"
