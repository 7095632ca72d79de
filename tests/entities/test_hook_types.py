"""The entity spec's hooks are typed (entities/spec.py): mypy --strict checks a hook's arguments
against the protocol and a spec's hooks against each other's row type, and the render modes are
a closed set. A spec written wrongly fails the type check instead of failing at run time."""

from pathlib import Path

from mypy import api

HEADER = """\
from typing import Any
from sqlalchemy.orm import Session
from floorsync.db.repository import TenantScope
from floorsync.db.uow import Work
from floorsync.entities.spec import EntitySpec
from floorsync.entities.validation import Record
from floorsync.models.master import Job
from floorsync.models.shopfloor import Batch

def prepare_job(work: Work, spec: EntitySpec, record: Record, row: Job | None) -> None: ...
def after_job(work: Work, record: Record, row: Job) -> None: ...
def after_batch(work: Work, record: Record, row: Batch) -> None: ...
def too_few(work: Work) -> None: ...
def wrong_values(work: Work, values: list[str]) -> None: ...
"""
# Each case is one line; the wrong ones are marked, and only they may fail.
CASES = [
    ("ok", 'EntitySpec(name="a", singular="a", model=Job, fields=(), prepare=prepare_job)'),
    (
        "ok",
        'EntitySpec(name="b", singular="b", model=Job, fields=(), prepare=prepare_job,'
        ' after_write=after_job, created_mode="nested")',
    ),
    (
        "wrong",
        'EntitySpec(name="c", singular="c", model=Job, fields=(), prepare=prepare_job,'
        " after_write=after_batch)",
    ),
    ("wrong", 'EntitySpec(name="d", singular="d", model=Job, fields=(), prepare=too_few)'),
    (
        "wrong",
        'EntitySpec(name="e", singular="e", model=Job, fields=(), fill_defaults=wrong_values)',
    ),
    ("wrong", 'EntitySpec(name="f", singular="f", model=Job, fields=(), created_mode="flat")'),
]


def test_mypy_accepts_well_typed_hooks_and_refuses_the_others(tmp_path: Path) -> None:
    first = HEADER.count("\n") + 1
    source = HEADER + "".join(
        f"SPEC_{n}: EntitySpec[Job] = {code}\n" for n, (_, code) in enumerate(CASES)
    )
    (tmp_path / "specs.py").write_text(source)
    # No config file: the project's names the package it checks, and only that.
    out, _err, _status = api.run(["--strict", "--config-file", "", str(tmp_path / "specs.py")])
    failing = {int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line}
    wrong = {first + n for n, (kind, _) in enumerate(CASES) if kind == "wrong"}
    assert failing == wrong, out
