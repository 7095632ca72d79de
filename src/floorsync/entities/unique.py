"""Unique rules (a live `job_number`, a part number within its job, a cell name, …): the one
check, set-based, used by the sync planner for a batch and by create/update for one record.

A rule is broken when another row (live, or any row for a rule that is not `live_only`) already
holds the proposed values, or when an earlier candidate of the same batch claims them. A
candidate may take over values that another candidate of the batch gives up in the same write
(two jobs swapping job numbers), and a row holding the candidate's own external key is the same
record written by a concurrent sync, never a conflict (the upsert meets it on its key).

One query per rule for the whole batch. The answer is one `CONFLICT` detail per losing
candidate: `<field> '<value>' already exists[ in this <parent>]`, on the rule's last field.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, scoped
from floorsync.db.upsert import member_of
from floorsync.entities.render import wire_field
from floorsync.entities.spec import EntitySpec, UniqueRule
from floorsync.entities.validation import join
from floorsync.errors import Detail

Values = tuple[Any, ...]


@dataclass
class Candidate:
    """One record about to be written: its given values, the row it updates (None for a new
    one), and what the check needs to tell it from other records."""

    values: Mapping[str, Any]
    row: Any | None = None
    id: uuid.UUID | None = None  # the row's id (None: not decided yet)
    key: tuple[str, str] | None = None  # (external_source, external_id), None when not synced
    path: str = ""  # where the record is in the request body ("parts[2]")
    revived: bool = False  # a soft-deleted row coming back: its old values are not held
    # Candidates of one group (the records of one top-level item) fail together: once one of
    # them lost, the others claim nothing. None: a group of its own.
    group: object = None


def unique_conflicts(
    session: Session, scope: TenantScope, spec: EntitySpec, candidates: Sequence[Candidate]
) -> dict[int, Detail]:
    """Position in `candidates` → the detail of the first rule it breaks. A candidate whose
    group lost (by an earlier rule or an earlier candidate) takes no further part."""
    lost: dict[int, Detail] = {}
    lost_groups: set[object] = set()
    for rule in spec.unique:
        claims = _claims(rule, candidates, lost_groups)
        if not claims:
            continue
        holders = _holders(session, scope, spec, rule, [value for _i, value, _old in claims])
        lost.update(_judge(spec, rule, candidates, claims, holders, lost_groups))
    return lost


def _group(candidates: Sequence[Candidate], i: int) -> object:
    group = candidates[i].group
    return ("alone", i) if group is None else group


def conflict_message(spec: EntitySpec, rule: UniqueRule, value: Values) -> str:
    """`part_number 'P-10' already exists in this job`: the rule's last field and value, and
    the parent it is unique within (the label of a scoping reference)."""
    name = rule.fields[-1]
    within = [
        spec.refs_by_id_field[f].label.lower()
        for f in rule.fields[:-1]
        if f in spec.refs_by_id_field
    ]
    where = f" in this {within[0]}" if within else ""
    return f"{name} '{value[-1]}' already exists{where}"


def _claims(
    rule: UniqueRule, candidates: Sequence[Candidate], lost_groups: set[object]
) -> list[tuple[int, Values, Values | None]]:
    """(position, the values it will hold, the values its row holds now) of the candidates
    this rule concerns: complete values that the record gives or that a revive brings back."""
    out: list[tuple[int, Values, Values | None]] = []
    for i, c in enumerate(candidates):
        if _group(candidates, i) in lost_groups:
            continue
        row = c.row
        given = any(f in c.values for f in rule.fields)
        merged = tuple(
            c.values[f] if f in c.values else (getattr(row, f) if row is not None else None)
            for f in rule.fields
        )
        if any(v is None for v in merged):
            continue
        old = tuple(getattr(row, f) for f in rule.fields) if row is not None else None
        if not given and (old == merged and not c.revived):
            continue
        out.append((i, merged, None if c.revived else old))
    return out


@dataclass
class _Holders:
    """The rows holding any of the claimed values: values → row id, row id → external key."""

    by_value: dict[Values, uuid.UUID]
    keys: dict[uuid.UUID, tuple[Any, Any]]


def _holders(
    session: Session, scope: TenantScope, spec: EntitySpec, rule: UniqueRule, values: list[Values]
) -> _Holders:
    model = spec.model
    synced = spec.synced
    stmt = scoped(model, scope, include_deleted=not rule.live_only).with_only_columns(
        model.id,
        *((model.external_source, model.external_id) if synced else ()),
        *(getattr(model, f) for f in rule.fields),
    )
    for i, f in enumerate(rule.fields):
        stmt = stmt.where(member_of(session, getattr(model, f), {v[i] for v in values}))
    held = _Holders({}, {})
    width = 3 if synced else 1
    for r in session.execute(stmt):
        held.by_value[tuple(r[width:])] = r[0]
        held.keys[r[0]] = (r[1], r[2]) if synced else (None, None)
    return held


def _judge(
    spec: EntitySpec,
    rule: UniqueRule,
    candidates: Sequence[Candidate],
    claims: list[tuple[int, Values, Values | None]],
    holders: _Holders,
    lost_groups: set[object],
) -> dict[int, Detail]:
    """Go through the claims in order: the first claim of a value wins unless a row that is
    not the candidate's holds it and no earlier candidate gave it up."""
    lost: dict[int, Detail] = {}
    claimed: dict[Values, int] = {}
    released: set[Values] = set()
    for i, value, old in claims:
        if _group(candidates, i) in lost_groups:
            continue
        c = candidates[i]
        holder = holders.by_value.get(value)
        if holder is not None and c.key is not None and holders.keys.get(holder) == c.key:
            holder = None  # the same record, written by a concurrent sync after our prefetch
        first = claimed.get(value)
        taken = holder is not None and holder != c.id and value not in released
        if (first is not None and first != i) or taken:
            name = rule.fields[-1]
            message = conflict_message(spec, rule, value)
            lost[i] = Detail(
                join(c.path, name),
                message,
                "UNIQUE_CONSTRAINT",
                wire_field(spec, name, value[-1]),
            )
            lost_groups.add(_group(candidates, i))
            continue
        claimed[value] = i
        if old is not None and old != value and holders.by_value.get(old) == c.id:
            released.add(old)
    return lost
