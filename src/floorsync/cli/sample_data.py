"""`floorsync demo --sample-data`: a small, realistic plant for a newcomer to look at.

Four cells, four resources, two materials and twelve sheet-metal jobs (parts with routings of
laser cutting, bending, welding and assembly) come in through the one write path
(`sync.service.run_sync`, as an ERP would send them, external source `DEMO`), and then the shop
floor moves some of them on through the lifecycle service: operations started by operators
(open time entries), paused, completed (closed entries, actual time), with good and scrap
quantities recorded. Job numbers are `DEMO-2001`… and cells are named `Laser 1`…, so the
README's examples (`J-1001`, cell `Laser`) never collide with them.
"""

from datetime import date, timedelta
from typing import Any

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import unit_of_work
from floorsync.entities import service as entity_service
from floorsync.entities.shopfloor.quantities import QUANTITIES
from floorsync.entities.spec import get_spec
from floorsync.events.outbox import Origin
from floorsync.lifecycle import service as lifecycle
from floorsync.models.enums import ApiKeyRole, SyncTrigger
from floorsync.models.master import Job, Operation, Part
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import run_sync

SOURCE = "DEMO"
CELLS = ("Laser 1", "Press brake", "Welding", "Assembly")
CUSTOMERS = ("Acme BV", "Van Dijk Installatietechniek", "Nordic Frames AB", "Brouwer Agri")
PARTS = (
    # part number, material, routing: (operation, cell, minutes)
    ("BRK-100", "S235 2mm", (("Cut", "Laser 1", 12), ("Bend", "Press brake", 20))),
    (
        "FRM-220",
        "S355 4mm",
        (("Cut", "Laser 1", 25), ("Weld", "Welding", 60), ("Fit", "Assembly", 30)),
    ),
    ("CVR-310", "AlMg3 1.5mm", (("Cut", "Laser 1", 8), ("Bend", "Press brake", 15))),
)


def _jobs(today: date) -> list[dict[str, Any]]:
    jobs = []
    for n in range(12):
        number = f"DEMO-{2001 + n}"
        parts = []
        for p, (part_number, material, routing) in enumerate(PARTS[: 1 + n % 3]):
            parts.append(
                {
                    "external_id": f"{number}-{p + 1}0",
                    "part_number": part_number,
                    "material": material,
                    "quantity": 5 * (1 + (n + p) % 4),
                    "operations": [
                        {
                            "external_id": f"{number}-{p + 1}0-{s + 1}",
                            "operation_name": name,
                            "cell_name": cell,
                            "sequence": s + 1,
                            "estimated_time": minutes,
                        }
                        for s, (name, cell, minutes) in enumerate(routing)
                    ],
                }
            )
        jobs.append(
            {
                "external_id": f"SO-{9001 + n}",
                "job_number": number,
                "customer_name": CUSTOMERS[n % len(CUSTOMERS)],
                "due_date": (today + timedelta(days=3 + 2 * n)).isoformat(),
                "priority": n % 3,
                "parts": parts,
            }
        )
    return jobs


def seeded(services: Services, tenant_id: Any) -> bool:
    with services.sessions() as session:
        scope = TenantScope(tenant_id)
        return (
            session.scalars(
                scoped(Job, scope).where(Job.external_source == SOURCE).limit(1)
            ).first()
            is not None
        )


def seed(services: Services, tenant_id: Any) -> dict[str, int]:
    """Seed the tenant (call once, on a tenant without DEMO records); returns what was made."""
    scope = TenantScope(tenant_id, role=ApiKeyRole.admin)
    origin = Origin(channel="cli")

    def work() -> Any:
        return unit_of_work(services.sessions, services.outbox, scope, origin=origin)

    today = services.clock.now().date()
    sections = [
        (
            get_spec("cells"),
            [{"external_id": f"CELL-{i + 1}", "name": c} for i, c in enumerate(CELLS)],
        ),
        (
            get_spec("resources"),
            [
                {
                    "external_id": "RES-1",
                    "name": "Trumpf TruLaser 3030",
                    "type": "machine",
                    "location": "Hall A",
                },
                {
                    "external_id": "RES-2",
                    "name": "Amada HG 1303",
                    "type": "machine",
                    "location": "Hall A",
                },
                {
                    "external_id": "RES-3",
                    "name": "Fronius TPS 400i",
                    "type": "machine",
                    "location": "Hall B",
                },
                {
                    "external_id": "RES-4",
                    "name": "Welding fixture F-220",
                    "type": "fixture",
                    "location": "Hall B",
                },
            ],
        ),
        (
            get_spec("materials"),
            [
                {"external_id": "MAT-1", "name": "S235 2mm"},
                {"external_id": "MAT-2", "name": "S355 4mm"},
            ],
        ),
        (get_spec("jobs"), _jobs(today)),
    ]
    sections = [
        (spec, [{**item, "external_source": SOURCE} for item in items]) for spec, items in sections
    ]
    outcome = run_sync(
        work, sections, SyncOptions(), trigger=SyncTrigger.erp_sync, source_label="demo"
    )
    failed = [r for report in outcome.reports for r in report.results if r.action == "error"]
    if failed:
        raise RuntimeError(f"sample data refused: {failed[0].error}")

    with services.sessions() as session:
        jobs = list(
            session.scalars(
                scoped(Job, scope).where(Job.external_source == SOURCE).order_by(Job.job_number)
            )
        )
        first_ops = {
            job.job_number: session.scalars(
                scoped(Operation, scope)
                .join(Part, Part.id == Operation.part_id)
                .where(Part.job_id == job.id)
                .order_by(Part.part_number, Operation.sequence)
            ).first()
            for job in jobs
        }
    operators = ("OP-101", "OP-102", "OP-103")
    moved = 0
    for n, job in enumerate(jobs[:7]):
        op = first_ops[job.job_number]
        if op is None:
            continue
        who = lifecycle.OperatorInput(operator_id=operators[n % 3])
        with work() as w:
            lifecycle.run_operation_action(w, op.id, "start", who)
        moved += 1
        if n in (0, 1, 2):  # done, with quantities
            with work() as w:
                lifecycle.run_operation_action(w, op.id, "complete", who)
            with work() as w:
                entity_service.create(
                    w,
                    QUANTITIES,
                    {
                        "operation_id": str(op.id),
                        "quantity_good": 9 - n,
                        "quantity_scrap": 1 + n % 2,
                        "recorded_by": operators[n % 3],
                    },
                )
        elif n == 3:  # paused
            with work() as w:
                lifecycle.run_operation_action(w, op.id, "pause", who)
    return {
        "cells": len(CELLS),
        "resources": 4,
        "materials": 2,
        "jobs": len(jobs),
        "operations_moved": moved,
    }
