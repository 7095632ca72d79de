"""/docs and /redoc work offline: every script, stylesheet and icon they load is served by
floorsync itself, and they reference no other host."""

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_only_floorsyncs_own_assets(server, page: str) -> None:
    resp = httpx.get(f"{server.base_url}{page}")
    assert resp.status_code == 200
    html = resp.text
    assert "/openapi.json" in html
    external = re.findall(r"""(?:src|href)\s*=\s*["'](https?:)?//""", html)
    assert external == [], "the page loads something from another host"
    assert "cdn" not in html.lower()
    assert "fonts.googleapis" not in html
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/docs/assets/[^"']+)""", html)
    assert assets
    for asset in assets:
        got = httpx.get(f"{server.base_url}{asset}")
        assert got.status_code == 200, asset
        assert len(got.content) > 1000, asset


def test_due_date_is_documented_as_a_date_or_a_date_time(server) -> None:
    doc = httpx.get(f"{server.base_url}/openapi.json", timeout=120).json()
    body = doc["paths"]["/api-jobs"]["post"]["requestBody"]["content"]["application/json"]
    formats = [s.get("format") for s in body["schema"]["properties"]["due_date"]["anyOf"]]
    assert formats == ["date", "date-time", None]


def test_the_change_feed_documents_its_query_parameters(server) -> None:
    doc = httpx.get(f"{server.base_url}/openapi.json", timeout=120).json()
    params = doc["paths"]["/api-events"]["get"]["parameters"]
    assert {p["name"] for p in params if p["in"] == "query"} == {"after", "types", "limit"}


def test_the_event_catalogue_is_listed(server) -> None:
    from floorsync.events.registry import CATALOGUE

    doc = httpx.get(f"{server.base_url}/openapi.json", timeout=120).json()
    description = doc["info"]["description"]
    assert "## Event types" in description
    for event in CATALOGUE.values():
        assert (f"| `{event.name}` |" in description) is not event.reserved
