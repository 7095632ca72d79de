"""The fast way of rendering a stored event (its text spliced into the envelope) gives exactly the
bytes of the full way (parse, build the envelope, write), and texts it can't vouch for take the
full way: webhook bodies and feed entries never depend on which path was taken."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from floorsync.events.stored import (
    UnrenderableEvent,
    render,
    render_stored,
    spliced_data,
    stored_envelope,
)
from floorsync.kit.json_bytes import dumps

EVENT_ID = uuid.UUID("01a2507d-b091-79bc-b0a7-a996a1e6a75e")
TENANT_ID = uuid.UUID("01a2507d-af72-7bf9-abbe-5a31123ec962")


@dataclass
class Row:
    event_data_text: str | None
    event_type_name: str = "job.updated"
    event_id: uuid.UUID = EVENT_ID
    event_tenant_id: uuid.UUID = TENANT_ID
    event_seq: int = 90_001
    event_occurred_at: datetime = datetime(2026, 12, 7, 12, 32, 24, 245_911, tzinfo=UTC)
    event_entity_type: str = "job"
    event_entity_id: uuid.UUID | None = None


def full_way(row: Row, cursor: str | None) -> bytes:
    return render(row, stored_envelope(row, cursor=cursor))


def outcome(render_it: object, row: Row) -> bytes | str:
    """The bytes, or the name of the error for an event that can't be rendered."""
    try:
        return render_it(row)  # type: ignore[operator, no-any-return]
    except UnrenderableEvent:
        return "UnrenderableEvent"


WRITTEN_BY_THE_OUTBOX = [
    {"job": {"id": "a", "job_number": "SO-1", "quantity": 12.5, "notes": None, "tags": []}},
    {"job": {"customer": "Café Größe – één 😀", "esc": 'quote " back \\ tab \t nl \n'}},
    {"floats": [1.0, -0.0, 1e-7, 123456789.123, 1.5e300, 0.1 + 0.2], "big": 2**63 - 1},
    {"origin": {"channel": "sync", "external_source": "SAP"}, "changes": {"a": [1, 2]}},
    {"unicode_escape_form": "\u2028\u2029\x7f\x00"},
]


@pytest.mark.parametrize("data", WRITTEN_BY_THE_OUTBOX)
@pytest.mark.parametrize("cursor", [None, "c2VxOjkwMDAx"])
def test_text_the_outbox_wrote_is_spliced_and_matches_the_full_way(
    data: object, cursor: str | None
) -> None:
    row = Row(dumps(data).decode())
    assert spliced_data(row.event_data_text) is not None
    assert render_stored(row, cursor=cursor) == full_way(row, cursor)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',  # whitespace: json.dumps, a hand-written row
        '{"a":1,"a":2}',  # a duplicate key
        '{"n":100000000000000000000000000000}',  # beyond 64 bits
        '{"n":1e30}',  # an exponent orjson writes as 1e+30
        '{"n":NaN}',  # not JSON, but Python's reader takes it
        '{"s":"\\ud800"}',  # a lone surrogate: unrenderable either way
        "not json",
    ],
)
def test_other_texts_take_the_full_way_with_the_same_result_as_before(text: str) -> None:
    row = Row(text)
    assert spliced_data(text) is None
    assert outcome(render_stored, row) == outcome(lambda r: full_way(r, None), row)


def test_an_event_name_with_anything_to_escape_takes_the_full_way() -> None:
    row = Row('{"a":1}', event_type_name='odd"name')
    assert render_stored(row) == full_way(row, None)
