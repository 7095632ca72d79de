"""Malformed input of every kind never yields a 500: generated JSON bodies, raw bytes and query
strings against create, update and list of every entity (hypothesis, derandomized so CI is
reproducible). Valid ids of the fuzzing tenant are mixed in so that generation gets past
reference resolution into the writes."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from floorsync.entities.spec import get_spec
from tests.support.api import ENTITIES, make_cell, make_material, make_resource, make_tree
from tests.support.server import LiveServer
from tests.support.tenants import make_tenant

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass
class Target:
    client: httpx.Client
    ids: dict[str, str]  # entity → an existing record of the fuzzing tenant


@pytest.fixture(scope="module")
def target(server: LiveServer, sessions: sessionmaker[Session]) -> Iterator[Target]:
    handle = make_tenant(server, sessions, name="fuzz")
    c = handle.client
    tree = make_tree(c, parts=1, ops=1, external_id="FZ", external_source="SAP")
    ids = {
        "jobs": tree["id"],
        "parts": tree["parts"][0]["id"],
        "operations": tree["parts"][0]["operations"][0]["id"],
        "cells": make_cell(c, name="Fuzz cell")["id"],
        "resources": make_resource(c, name="Fuzz res")["id"],
        "materials": make_material(c, code="FZ")["id"],
    }
    yield Target(c, ids)
    handle.close()


SPECIAL_STRINGS = [
    "",
    " ",
    "\u0000",
    "1e999999999",
    "-1e999999999",
    "1e-999999",
    "NaN",
    "Infinity",
    "0x10",
    "٣",
    "1_000",
    "true",
    "2026-02-30",
    "2026-12-31",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+01:00",
    "not_started",
    "%",
    "_",
    "\\",
    "'; drop table jobs; --",
    "x" * 300,
    "ü" * 70,
    "\ud7ff",
    str(uuid.uuid4()),
    "FZ",
    "SAP",
    "Fuzz cell",
    "Fuzz res",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(SPECIAL_STRINGS),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)


def field_names(entity: str) -> list[str]:
    spec = get_spec(entity)
    names = (
        [f.name for f in spec.fields]
        + list(spec.aliases)
        + list(spec.ref_inputs)
        + [c.key for c in spec.children]
    )
    return [*names, *spec.extra_inputs, "id", "created_at"]


def bodies(entity: str, ids: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    names = field_names(entity)
    id_values = st.sampled_from([*ids.values(), str(uuid.uuid4()), "not-a-uuid"])
    value = st.one_of(json_values, id_values)
    keys = st.one_of(st.sampled_from(names), st.text(max_size=8))
    return st.dictionaries(keys, value, max_size=8)


query_keys = st.sampled_from(
    [
        "limit",
        "offset",
        "sort",
        "order",
        "search",
        "include_deleted",
        "id",
        "status",
        "priority",
        "job_id",
        "part_id",
        "cell_id",
        "active",
        "due_date_from",
        "due_date_to",
        "external_id",
        "name",
        "job_number",
        "material_id",
        "hard",
        "type",
    ]
)
queries = st.dictionaries(
    query_keys, st.one_of(st.text(max_size=30), st.sampled_from(SPECIAL_STRINGS)), max_size=5
)


# Messages of the database-error fallbacks (db/integrity.py): validation should have caught it.
FALLBACKS = (
    "The change conflicts with existing data",
    "validation error(s) in record",
    "referenced by other records or references a missing one",
)


def _no_500(resp: httpx.Response) -> None:
    where = f"{resp.request.method} {resp.request.url} {resp.request.content[:300]!r} → {resp.status_code} {resp.text[:300]}"
    assert resp.status_code < 500, where
    body = resp.json()
    assert body["success"] is (resp.status_code < 300)
    if not body["success"]:
        assert not any(f in body["error"]["message"] for f in FALLBACKS), where


@pytest.mark.parametrize("entity", ENTITIES)
class TestNeverA500:
    def test_create_with_generated_bodies(self, target: Target, entity: str) -> None:
        @FUZZ
        @given(body=bodies(entity, target.ids))
        def run(body: dict[str, Any]) -> None:
            _no_500(target.client.post(f"/api-{entity}", json=body))

        run()

    def test_patch_with_generated_bodies(self, target: Target, entity: str) -> None:
        @FUZZ
        @given(body=bodies(entity, target.ids))
        def run(body: dict[str, Any]) -> None:
            _no_500(
                target.client.patch(f"/api-{entity}", params={"id": target.ids[entity]}, json=body)
            )

        run()

    def test_list_with_generated_query_strings(self, target: Target, entity: str) -> None:
        @FUZZ
        @given(params=queries)
        def run(params: dict[str, str]) -> None:
            _no_500(target.client.get(f"/api-{entity}", params=params))

        run()

    def test_raw_bytes_as_bodies(self, target: Target, entity: str) -> None:
        @settings(max_examples=15, deadline=None, derandomize=True, database=None)
        @given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=100).map(str.encode)))
        def run(raw: bytes) -> None:
            _no_500(target.client.post(f"/api-{entity}", content=raw))
            _no_500(
                target.client.put(f"/api-{entity}", params={"id": target.ids[entity]}, content=raw)
            )

        run()


def test_nested_job_bodies_never_500(target: Target) -> None:
    op = st.dictionaries(
        st.sampled_from(field_names("operations")),
        st.one_of(json_values, st.sampled_from(list(target.ids.values()))),
        max_size=5,
    )
    part = st.fixed_dictionaries(
        {"part_number": st.one_of(st.text(max_size=5), st.none())},
        optional={
            "operations": st.one_of(st.lists(op, max_size=3), json_values),
            "quantity": json_values,
        },
    )
    job = st.fixed_dictionaries(
        {"job_number": st.text(max_size=8)},
        optional={"parts": st.one_of(st.lists(part, max_size=3), json_values)},
    )

    @FUZZ
    @given(body=job)
    def run(body: dict[str, Any]) -> None:
        _no_500(target.client.post("/api-jobs", json=body))

    run()
