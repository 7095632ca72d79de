"""The lifecycle state tables (API §5.2–5.4), as pure data: which action moves a record from
which statuses to which, the event it emits, and the guard messages. No database.

    job        not_started ─start─▶ in_progress ─complete─▶ completed
                   on_hold ◀─stop/pause─┘  ▲
                       └──────start/resume─┘
    operation  not_started ─start─▶ in_progress ─complete─▶ completed
                   on_hold ◀──pause──┘  ▲
                       └──start/resume──┘
    batch      draft, ready ─start─▶ in_progress ─stop─▶ completed
               (draft ⇄ ready and → cancelled are PATCHes: entities/shopfloor/batches.py)
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    event: str


def _table(
    entity: str, rows: tuple[tuple[str, tuple[str, ...], str, str], ...]
) -> dict[str, Transition]:
    return {
        action: Transition(action, sources, target, f"{entity}.{verb}")
        for action, sources, target, verb in rows
    }


JOB_ACTIONS = _table(
    "job",
    (
        ("start", ("not_started", "on_hold"), "in_progress", "started"),
        ("stop", ("in_progress",), "on_hold", "stopped"),
        ("pause", ("in_progress",), "on_hold", "stopped"),
        ("resume", ("on_hold",), "in_progress", "resumed"),
        ("complete", ("in_progress",), "completed", "completed"),
    ),
)

OPERATION_ACTIONS = _table(
    "operation",
    (
        ("start", ("not_started", "on_hold"), "in_progress", "started"),
        ("pause", ("in_progress",), "on_hold", "paused"),
        ("resume", ("on_hold",), "in_progress", "resumed"),
        ("complete", ("in_progress",), "completed", "completed"),
    ),
)

BATCH_ACTIONS = _table(
    "batch",
    (
        ("start", ("draft", "ready"), "in_progress", "started"),
        ("stop", ("in_progress",), "completed", "completed"),
    ),
)
BATCH_LIFECYCLE_ACTIONS = ("start", "stop", "add-operations", "monitor")
BATCH_OPEN_STATUSES = ("draft", "ready")  # add-operations is allowed here


def unsupported_action(action: str, supported: tuple[str, ...] | list[str]) -> str:
    return f"Invalid operation '{action}'. Supported operations: {', '.join(supported)}"


def guard_message(entity: str, transition: Transition, status: str) -> str:
    """`Cannot start job with status 'completed'. Job must be 'not_started' or 'on_hold'.`"""
    allowed = " or ".join(f"'{s}'" for s in transition.sources)
    return f"Cannot {transition.action} {entity} with status '{status}'. {entity.capitalize()} must be {allowed}."


def id_required_message(entity: str) -> str:
    return f"{entity.capitalize()} ID is required in query string (?id=xxx)"
