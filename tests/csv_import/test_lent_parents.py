"""The parents an operations import lends to the renderers (csv_import/lending.py): the events
of imported operations embed the same part, job and cell as a fresh rendering of the stored
rows, and a lent row read for an attribute it was not read with answers from the stored row."""

from typing import Any

from floorsync.bootstrap import Services
from floorsync.csv_import.lending import LentRow, lend_parents, operation_parents
from floorsync.db.repository import TenantScope, scoped
from floorsync.entities.embeds import load_by_id
from floorsync.entities.registry import BY_NAME
from floorsync.entities.render import render_rows
from floorsync.models.events import Event
from floorsync.models.master import Cell, Job, Operation, Part
from tests.csv_import.service_helpers import import_files

SETUP = {
    "cells.csv": "external_id;name;color\nC-1;Laser – Größe;#ff0000\nC-2;Bend;\n",
    "jobs.csv": "external_id;job_number;customer\nSO-1;J-1;Café Jörg\nSO-2;J-2;\n",
    "parts.csv": (
        "external_id;job_external_id;part_number;quantity;material\n"
        "SO-1/P;SO-1;BRK-100;25;S235\nSO-2/P;SO-2;HNG-1;3;\n"
    ),
}
OPERATIONS = {
    "operations.csv": (
        "external_id;part_external_id;operation_name;sequence;cell_name\n"
        "SO-1/P/10;SO-1/P;Laser;10;Laser – Größe\n"
        "SO-1/P/20;SO-1/P;Bend;20;Bend\n"
        "SO-2/P/10;SO-2/P;Weld;10;\n"
    )
}


def _fresh(services: Services, scope: TenantScope) -> dict[str, dict[str, Any]]:
    with services.sessions() as session:
        ops = session.scalars(scoped(Operation, scope)).all()
        rendered = render_rows(session, scope, BY_NAME["operations"], ops, "event")
        return {str(op.id): r for op, r in zip(ops, rendered, strict=True)}


def test_imported_operation_events_embed_the_stored_parents(
    services: Services, scope: TenantScope
) -> None:
    imp = import_files(services, scope, SETUP)
    assert (imp.created_count, imp.failed_count) == (6, 0), imp.failure_reason
    imp = import_files(services, scope, OPERATIONS)
    assert (imp.created_count, imp.failed_count) == (3, 0), imp.failure_reason
    fresh = _fresh(services, scope)
    with services.sessions() as session:
        events = {
            str(e.entity_id): e.data["operation"]
            for e in session.scalars(
                scoped(Event, scope).where(Event.type == "operation.created")
            ).all()
        }
    assert set(events) == set(fresh)
    for op_id, record in fresh.items():
        for key in ("part", "cell", "resources"):
            assert events[op_id][key] == record[key], key
    parts = {e["part"]["part_number"]: e["part"] for e in events.values()}
    assert parts["BRK-100"]["material"] == "S235"
    assert parts["BRK-100"]["job"]["customer"] == "Café Jörg"
    cells = sorted(e["cell"]["name"] for e in events.values() if e["cell"])
    assert cells == ["Bend", "Laser – Größe"]


def test_a_lent_row_reads_other_attributes_from_the_stored_row(
    services: Services, scope: TenantScope
) -> None:
    import_files(services, scope, SETUP)
    items = [
        {"part_external_id": "SO-1/P", "cell_name": "Bend"},
        {"part_external_id": "SO-2/P", "cell_external_id": "C-1"},
    ]
    with services.sessions() as session:
        lent = operation_parents(session, scope, items)
        assert {p.part_number for p in lent[Part].values()} == {"BRK-100", "HNG-1"}
        assert {j.job_number for j in lent[Job].values()} == {"J-1", "J-2"}
        assert {c.name for c in lent[Cell].values()} == {"Bend", "Laser – Größe"}
        part = next(p for p in lent[Part].values() if p.part_number == "BRK-100")
        assert isinstance(part, LentRow)
        assert part.quantity == 25  # not read narrowly: from the whole stored row
        assert part.material == "S235"
        with lend_parents(session, scope, "operations", items):
            found = load_by_id(session, scope, Part, [part.id])
            assert isinstance(found[part.id], LentRow)  # the renderers take a lent row
        assert isinstance(load_by_id(session, scope, Part, [part.id])[part.id], Part)
