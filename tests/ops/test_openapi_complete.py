"""The OpenAPI document stays complete (issue 15): a walk over every documented operation fails
on a write without a typed request body and an example that matches it, on a success answer
typed as a bare string or a bare object, on an API function without its error responses
(400/401/429 always; 404 with an `?id=` or a path id; 413/422 with a body), and on a numeric
field or timestamp without its unit or time zone. The named functions of the issue carry
realistic answer examples too."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from floorsync.entities.example_values import example_for
from floorsync.entities.openapi import UNITS
from tests.support.server import LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"
WRITES = ("post", "put", "patch")
METHODS = ("get", "delete", *WRITES)
# Only routes that take no API key: their errors are their own (declared where they have any).
UNAUTHENTICATED = ("/health", "/health/ready", "/metrics", "/files/")
# Bodies whose bad records are answered 200 with a per-record error (and a malformed envelope
# 400), never 422.
PER_RECORD_ERRORS = re.compile(r"^/api-[a-z-]+/bulk-sync$|^/api-erp-sync/")


@pytest.fixture(scope="module")
def doc(server: LiveServer) -> dict[str, Any]:
    document: dict[str, Any] = server.app.openapi()
    return document


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def is_typed_object(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object with declared properties, or a oneOf/anyOf of them."""
    schema = resolve(doc, schema)
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        return all(
            is_typed_object(doc, o) for o in options if resolve(doc, o).get("type") != "null"
        )
    return schema.get("type") == "object" and bool(schema.get("properties"))


def check(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Errors of `value` against `schema` (its `#/components/…` references resolved)."""
    validator = Draft202012Validator({**schema, "components": doc.get("components", {})})
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)
    ]


def examples_of(media: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    return [e["value"] for e in media.get("examples", {}).values()]


class TestEveryOperation:
    def test_every_write_declares_a_typed_body_with_examples_that_match_it(
        self, doc: dict[str, Any]
    ) -> None:
        problems = []
        for path, method, op in operations(doc):
            if method not in WRITES:
                continue
            content = op.get("requestBody", {}).get("content")
            if not content:
                problems.append(f"{method.upper()} {path}: no request body")
                continue
            for media_type, media in content.items():
                schema = resolve(doc, media.get("schema", {}))
                if media_type != "application/json":
                    binary = schema.get("format") == "binary" or any(
                        p.get("format") == "binary" for p in schema.get("properties", {}).values()
                    )
                    if not binary:
                        problems.append(f"{method.upper()} {path}: untyped {media_type} body")
                    continue
                if schema.get("type") != "object" or "properties" not in schema:
                    problems.append(f"{method.upper()} {path}: bare body {schema}")
                found = examples_of(media)
                if not found:
                    problems.append(f"{method.upper()} {path}: no example")
                for example in found:
                    for error in check(doc, media["schema"], example):
                        problems.append(f"{method.upper()} {path}: example {error}")
        assert problems == []

    def test_generated_examples_have_a_realistic_value_for_every_required_field(
        self, doc: dict[str, Any]
    ) -> None:
        missing: list[str] = []
        for path, method, op in operations(doc):
            media = op.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                found: list[str] = []
                example_for(media["schema"], found)
                missing.extend(f"{method.upper()} {path}: {name}" for name in found)
        assert missing == []

    def test_no_success_answer_is_a_bare_string_or_object(self, doc: dict[str, Any]) -> None:
        problems = []
        for path, method, op in operations(doc):
            ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
            if not ok:
                problems.append(f"{method.upper()} {path}: no success answer")
            for status, answer in ok.items():
                content = answer.get("content", {})
                json_media = content.get("application/json")
                if any(m.get("schema", {}).get("format") == "binary" for m in content.values()):
                    continue  # a file's bytes
                if json_media is None:
                    others = [m for m in content.values() if m.get("schema")]
                    if not others:
                        problems.append(f"{method.upper()} {path} {status}: no typed content")
                    continue
                schema = resolve(doc, json_media.get("schema", {}))
                data = schema.get("properties", {}).get("data", schema)  # a file (export): itself
                if not is_typed_object(doc, data):
                    problems.append(f"{method.upper()} {path} {status}: untyped answer")
                for example in examples_of(json_media):
                    for error in check(doc, json_media["schema"], example):
                        problems.append(f"{method.upper()} {path} {status}: example {error}")
        assert problems == []

    def test_every_api_function_declares_the_errors_it_can_answer(
        self, doc: dict[str, Any]
    ) -> None:
        problems = []
        for path, method, op in operations(doc):
            if path.startswith(UNAUTHENTICATED):
                continue
            expected = {"400", "401", "429"}
            params = op.get("parameters", [])
            if any(p["name"] == "id" for p in params) or "{" in path:
                expected.add("404")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("properties") or ("requestBody" in op and not body):
                expected.add("413")  # a body is read, within FLOORSYNC_MAX_BODY_BYTES
                if not PER_RECORD_ERRORS.match(path):
                    expected.add("422")
            missing = expected - set(op["responses"])
            if missing:
                problems.append(f"{method.upper()} {path}: undeclared {sorted(missing)}")
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")) and "application/json" not in answer.get(
                    "content", {}
                ):
                    problems.append(f"{method.upper()} {path}: {status} without its error body")
        assert problems == []

    def test_the_named_functions_answer_with_realistic_examples(self, doc: dict[str, Any]) -> None:
        def answer_example(path: str, method: str) -> Any:
            op = doc["paths"][path][method]
            status = next(s for s in op["responses"] if s.startswith("2"))
            return examples_of(op["responses"][status]["content"]["application/json"])

        bulk = answer_example("/api-jobs/bulk-sync", "post")
        assert bulk
        assert bulk[0]["data"]["failed"] >= 1
        assert any(r["action"] == "error" and r["details"] for r in bulk[0]["data"]["records"])
        for path, method in (
            ("/api-jobs", "post"),
            ("/api-jobs/sync", "put"),
            ("/api-erp-sync/sync", "post"),
            ("/api-erp-sync/diff", "post"),
            ("/api-job-lifecycle/{action}", "post"),
            ("/api-operation-lifecycle/{action}", "post"),
            ("/api-batch-lifecycle/{action}", "post"),
            ("/api-webhooks", "post"),
            ("/api-events", "get"),
        ):
            assert answer_example(path, method), (method, path)
        job = doc["paths"]["/api-jobs"]["post"]["requestBody"]["content"]["application/json"]
        nested = job["example"]["parts"][0]["operations"][0]
        assert nested["operation_name"]
        assert nested["estimated_time"]
        bulk_body = doc["paths"]["/api-jobs/bulk-sync"]["post"]["requestBody"]["content"]
        items = examples_of(bulk_body["application/json"])[0]["items"]
        assert len(items) >= 2


def test_every_answer_shows_an_example(doc: dict[str, Any]) -> None:
    """Every success answer that is not a file's bytes shows an example (JSON ones are checked
    against their schema above; the export's NDJSON one is its lines)."""
    without = set()
    for path, method, op in operations(doc):
        for status, answer in op["responses"].items():
            for media_type, media in answer.get("content", {}).items():
                if media.get("schema", {}).get("format") == "binary":
                    continue
                if status.startswith("2") and not examples_of(media):
                    without.add(f"{method.upper()} {path} {status} {media_type}")
    assert sorted(without) == []


def test_the_export_examples_are_a_json_file_and_its_ndjson_lines(doc: dict[str, Any]) -> None:
    content = doc["paths"]["/api-export"]["get"]["responses"]["200"]["content"]
    as_json = content["application/json"]["example"]
    assert as_json["_metadata"]["complete"] is True
    assert as_json["cells"][0]["name"]
    lines = [json.loads(line) for line in content["application/x-ndjson"]["example"].splitlines()]
    assert [line["type"] for line in lines] == ["header", "record", "footer"]
    assert lines[1]["data"] == as_json["cells"][0]


def test_the_signed_file_routes_declare_their_token_answer_not_an_api_key_one(
    doc: dict[str, Any],
) -> None:
    for path, method in (("/files/upload/{token}", "put"), ("/files/download/{token}", "get")):
        answers = doc["paths"][path][method]["responses"]
        assert "401" not in answers, (method, path)
        assert "429" not in answers, (method, path)
        refused = answers["403"]["content"]["application/json"]["example"]["error"]
        assert refused["message"] == "Invalid or expired file URL"
        assert "expired" in answers["403"]["description"]
    download = doc["paths"]["/files/download/{token}"]["get"]["responses"]["200"]["content"]
    assert list(download) == ["*/*"]


def test_no_function_declares_fastapis_validation_answer(doc: dict[str, Any]) -> None:
    """floorsync answers its own error body; FastAPI's `{"detail": […]}` 422 is never sent."""
    assert "HTTPValidationError" not in str(doc)
    assert "422" not in doc["paths"]["/api-parts-images/{part_id}"]["get"]["responses"]


class TestUnitsAndTimeZones:
    def _properties(self, doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        def walk(where: str, schema: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
            if isinstance(schema, dict):
                for name, prop in (schema.get("properties") or {}).items():
                    if isinstance(prop, dict):
                        yield where, name, prop
                for value in schema.values():
                    yield from walk(where, value)
            elif isinstance(schema, list):
                for value in schema:
                    yield from walk(where, value)

        for path, method, op in operations(doc):
            yield from walk(f"{method.upper()} {path}", op)

    def test_every_quantity_and_duration_states_its_unit(self, doc: dict[str, Any]) -> None:
        problems = {
            f"{where}: {name}"
            for where, name, prop in self._properties(doc)
            if name in UNITS and not prop.get("description")
        }
        assert sorted(problems) == []

    def test_every_timestamp_says_it_is_utc(self, doc: dict[str, Any]) -> None:
        def is_timestamp(prop: dict[str, Any]) -> bool:
            options = [prop, *prop.get("anyOf", [])]
            return any(o.get("format") == "date-time" for o in options)

        problems = {
            f"{where}: {name}"
            for where, name, prop in self._properties(doc)
            if is_timestamp(prop) and "UTC" not in prop.get("description", "")
        }
        assert sorted(problems) == []

    def test_every_time_parameter_says_how_its_zone_is_read(self, doc: dict[str, Any]) -> None:
        problems = {
            f"{method.upper()} {path}: {p['name']}"
            for path, method, op in operations(doc)
            for p in op.get("parameters", [])
            if p.get("schema", {}).get("format") in ("date", "date-time")
            and "UTC" not in p.get("description", "")
        }
        assert sorted(problems) == []

    def test_the_readme_table_of_units_matches_the_openapi_one(self) -> None:
        text = README.read_text()
        section = text.split("### Units and time zones", 1)[1].split("\n#", 1)[0]
        rows = dict(re.findall(r"^\| `([a-z_0-9]+)` \| ([^|]+?) \|$", section, re.MULTILINE))
        assert rows == UNITS
        assert "UTC" in section
        assert "RFC 3339" in section
