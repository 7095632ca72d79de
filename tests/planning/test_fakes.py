"""The fake servers themselves, spoken to with a plain HTTP client: behaviour of the §10.3/§10.4
checklists that the adapters never provoke (so later service, end-to-end and benchmark tests can
rely on the fakes being faithful)."""

import base64
from collections.abc import Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest

from tests.planning.fakes.frepple import FakeFrepple, oplan
from tests.planning.fakes.odoo import FakeOdoo

BASIC = "Basic " + base64.b64encode("planner:s3cret-Pässword".encode()).decode()


@pytest.fixture
def fp() -> Iterator[tuple[FakeFrepple, httpx.Client]]:
    fake = FakeFrepple()
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    with httpx.Client(
        base_url=fake.base_url, headers={"Authorization": BASIC}, cookies=no_cookies
    ) as client:
        yield fake, client
    fake.stop()
    assert fake.errors == []


class TestFakeFrepple:
    def test_a_path_without_its_trailing_slash_is_redirected_to_it(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        _, client = fp

        answer = client.get("/api/input/manufacturingorder?format=json")

        assert (answer.status_code, answer.headers["location"]) == (
            301,
            "/api/input/manufacturingorder/?format=json",
        )

    def test_the_api_root_is_a_login_redirect_unless_the_user_is_staff(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp

        denied = client.get("/api/")
        fake.users["planner"].staff = True
        allowed = client.get("/api/")

        assert (denied.status_code, denied.headers["location"]) == (302, "/data/login/?next=/api/")
        assert (allowed.status_code, allowed.headers["content-type"]) == (200, "text/html")

    def test_missing_credentials_get_the_exact_401(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, _ = fp

        answer = httpx.get(f"{fake.base_url}/api/input/resource/")

        assert answer.status_code == 401
        assert answer.json() == {"detail": "Authentication credentials were not provided."}
        assert answer.headers["www-authenticate"] == 'Basic realm="api"'

    def test_a_valid_jwt_is_accepted_and_an_expired_or_forged_one_redirected_to_the_login(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, _ = fp
        url = f"{fake.base_url}/api/input/resource/"

        def get(token: str) -> httpx.Response:
            return httpx.get(url, headers={"Authorization": f"Bearer {token}"})

        assert get(fake.make_jwt("planner")).status_code == 200
        expired = get(fake.make_jwt("planner", expires_in=-10))
        forged = get(fake.make_jwt("planner", secret="other"))
        assert (expired.status_code, expired.headers["location"]) == (
            302,
            "/data/login/?next=%2Fapi%2Finput%2Fresource%2F",
        )
        assert forged.status_code == 302

    def test_filters_validate_like_frepple_and_unknown_ones_are_ignored(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp
        fake.data.add_mo(oplan("MO-1", lastmodified="2026-05-30T10:00:00"))
        url = "/api/input/manufacturingorder/"

        assert client.get(url, params={"status": "bogus"}).json() == {
            "status": ["Select a valid choice. bogus is not one of the available choices."]
        }
        assert client.get(url, params={"status__in": "bogus"}).json() == []
        assert client.get(url, params={"quantity__gte": "abc"}).json() == {
            "quantity__gte": ["Enter a number."]
        }
        assert client.get(url, params={"lastmodified__gte": "soon"}).status_code == 400
        assert (
            len(client.get(url, params={"stauts": "closed"}).json()) == 1
        )  # a typo filters nothing
        # An offset is honoured: 08:30Z is 10:30 in Amsterdam, after the change.
        assert client.get(url, params={"lastmodified__gte": "2026-05-30T08:30:00Z"}).json() == []
        assert len(client.get(url, params={"lastmodified__gte": "2026-05-30 10:00"}).json()) == 1

    def test_a_raw_slash_in_a_detail_path_resolves_like_its_encoded_form(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp
        fake.data.add_mo(oplan("MO/4"))

        assert client.get("/api/input/manufacturingorder/MO/4/").json()["reference"] == "MO/4"
        assert client.get("/api/input/manufacturingorder/MO%2F4/").json()["reference"] == "MO/4"

    def test_a_patch_stores_naive_input_as_given_and_offset_input_as_naive_utc(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp
        fake.data.add_mo(oplan("MO-1"))
        url = "/api/input/manufacturingorder/MO-1/"

        client.patch(
            url, json={"startdate": "2026-06-01T08:00:00", "enddate": "2026-06-01T12:00:00+02:00"}
        )
        bad = client.patch(url, json={"status": "started"})

        stored = fake.data.mos["MO-1"]
        assert (stored["startdate"], stored["enddate"]) == (
            "2026-06-01T08:00:00",
            "2026-06-01T10:00:00",
        )
        assert (bad.status_code, bad.json()) == (
            400,
            {"status": ['"started" is not a valid choice.']},
        )

    def test_children_follow_their_parent_and_a_completed_routing_completes_the_order(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp
        fake.data.add_mo(oplan("MO-1", status="proposed"))
        for step in ("A", "B"):
            fake.data.add_wo(oplan(f"MO-1-{step}", owner="MO-1", status="proposed"))

        client.patch("/api/input/workorder/MO-1-A/", json={"status": "confirmed"})
        assert fake.data.mos["MO-1"]["status"] == "approved"  # a proposed parent is approved
        client.patch("/api/input/manufacturingorder/MO-1/", json={"status": "confirmed"})
        assert {w["status"] for w in fake.data.wos.values()} == {"confirmed"}
        client.patch("/api/input/workorder/MO-1-A/", json={"status": "completed"})
        client.patch("/api/input/workorder/MO-1-B/", json={"status": "completed"})
        assert fake.data.mos["MO-1"]["status"] == "completed"

    def test_a_client_that_sends_the_session_cookie_back_is_refused_on_writes(self) -> None:
        fake = FakeFrepple()
        fake.data.add_mo(oplan("MO-1"))
        try:
            with httpx.Client(base_url=fake.base_url, headers={"Authorization": BASIC}) as client:
                client.get("/api/input/manufacturingorder/MO-1/")  # sets csrftoken and sessionid
                refused = client.patch("/api/input/manufacturingorder/MO-1/", json={"batch": "B"})
        finally:
            fake.stop()

        assert (refused.status_code, refused.json()) == (
            403,
            {"detail": "CSRF Failed: CSRF token missing."},
        )

    def test_with_allow_future_a_completion_keeps_future_dates(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp
        fake.allow_future = True
        fake.data.add_mo(oplan("MO-1", start="2027-01-01T08:00:00", end="2027-01-01T09:00:00"))

        client.patch("/api/input/manufacturingorder/MO-1/", json={"status": "completed"})

        assert fake.data.mos["MO-1"]["startdate"] == "2027-01-01T08:00:00"

    def test_every_list_endpoint_answers_a_plain_array_and_old_servers_have_no_work_orders(
        self, fp: tuple[FakeFrepple, httpx.Client]
    ) -> None:
        fake, client = fp

        for model in ("item", "location", "operationplanresource", "operation", "resource"):
            assert client.get(f"/api/input/{model}/?format=json").json() == []
        fake.workorder_endpoint = False
        missing = client.get("/api/input/workorder/")
        assert (missing.status_code, missing.headers["content-type"]) == (
            404,
            "text/html; charset=utf-8",
        )


def rpc(fake: FakeOdoo, service: str, method: str, *args: Any, rid: int = 1) -> dict[str, Any]:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": rid,
        "params": {"service": service, "method": method, "args": list(args)},
    }
    answer = httpx.post(f"{fake.base_url}/jsonrpc", json=body)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    assert result["id"] == rid
    return result


def execute(
    fake: FakeOdoo,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    password: str = "Odoo-pa55word!",
) -> dict[str, Any]:
    return rpc(
        fake, "object", "execute_kw", fake.database, 2, password, model, method, args, kwargs or {}
    )


def error_name(answer: dict[str, Any]) -> str:
    return str(answer["error"]["data"]["name"])


@pytest.fixture
def odoo17() -> Iterator[FakeOdoo]:
    fake = FakeOdoo(17)
    yield fake
    fake.stop()
    assert fake.errors == []


class TestFakeOdoo:
    def test_authenticate_answers_a_uid_false_or_a_database_error(self, odoo17: FakeOdoo) -> None:
        assert (
            rpc(odoo17, "common", "authenticate", "plant", "integration", "Odoo-pa55word!", {})[
                "result"
            ]
            == 2
        )
        assert (
            rpc(odoo17, "common", "authenticate", "plant", "integration", "nope", {})["result"]
            is False
        )
        unknown = rpc(odoo17, "common", "authenticate", "other", "integration", "x", {})
        assert error_name(unknown) == "psycopg2.OperationalError"
        assert 'database "other" does not exist' in unknown["error"]["data"]["message"]

    def test_every_call_rechecks_the_password(self, odoo17: FakeOdoo) -> None:
        answer = execute(odoo17, "mrp.workcenter", "search_count", [[]], password="wrong")

        assert error_name(answer) == "odoo.exceptions.AccessDenied"
        assert answer["error"]["code"] == 200

    def test_wrong_calls_fail_like_odoo_does(self, odoo17: FakeOdoo) -> None:
        centre = odoo17.add_workcenter("Laser")

        assert (
            "unexpected keyword argument 'limit'"
            in execute(
                odoo17, "mrp.workcenter", "read", [[centre]], {"fields": ["name"], "limit": 1}
            )["error"]["data"]["message"]
        )
        assert (
            execute(odoo17, "mrp.workcenter", "search_read", [[]], {"fields": ["resource_type"]})[
                "error"
            ]["data"]["message"]
            == "Invalid field 'resource_type' on model 'mrp.workcenter'"
        )
        assert (
            "cannot be called remotely"
            in execute(odoo17, "mrp.workcenter", "_read", [[centre]])["error"]["data"]["message"]
        )
        assert (
            error_name(execute(odoo17, "mrp.workcenter", "fly", [[centre]]))
            == "builtins.AttributeError"
        )
        assert (
            error_name(execute(odoo17, "mrp.workcenter", "read", [[centre + 99]]))
            == "odoo.exceptions.MissingError"
        )

    def test_domains_combine_with_prefix_operators_and_archived_records_are_hidden_by_default(
        self, odoo17: FakeOdoo
    ) -> None:
        a = odoo17.add_workcenter("Laser A")
        b = odoo17.add_workcenter("Laser B", active=False)
        c = odoo17.add_workcenter("Saw")

        def ids(domain: list[Any]) -> list[int]:
            return list(execute(odoo17, "mrp.workcenter", "search", [domain])["result"])

        assert ids([]) == [a, c]
        assert ids(["|", ["active", "=", True], ["active", "=", False]]) == [a, b, c]
        assert ids([["name", "ilike", "laser"]]) == [a]
        assert ids(["!", ["id", "in", [a]]]) == [c]
        assert ids(["|", ["id", "=", a], ["name", "=", "Saw"], ["id", "not in", [c]]]) == [a]

    def test_mark_done_answers_the_wizards_unless_told_to_skip_them(self, odoo17: FakeOdoo) -> None:
        steel = odoo17.add_product("Steel")
        mo = odoo17.add_production(
            odoo17.add_product("Frame"), 10, components=[(steel, 5)], consumption="warning"
        )
        execute(odoo17, "mrp.production", "write", [[mo], {"qty_producing": 4}])

        wizard = execute(odoo17, "mrp.production", "button_mark_done", [[mo]])["result"]
        backorder = execute(
            odoo17,
            "mrp.production",
            "button_mark_done",
            [[mo]],
            {"context": {"skip_consumption": True}},
        )["result"]
        done = execute(
            odoo17,
            "mrp.production",
            "button_mark_done",
            [[mo]],
            {
                "context": {
                    "skip_consumption": True,
                    "skip_backorder": True,
                    "skip_redirection": True,
                }
            },
        )

        assert wizard["res_model"] == "mrp.consumption.warning"
        assert backorder["res_model"] == "mrp.production.backorder"
        assert done["result"] is True
        assert odoo17.tables["mrp.production"][mo]["state"] == "done"
        again = execute(odoo17, "mrp.production", "button_mark_done", [[mo]])
        assert error_name(again) == "odoo.exceptions.UserError"

    def test_dates_of_a_done_order_cannot_move_and_a_planned_start_unplans_without_force_date(
        self, odoo17: FakeOdoo
    ) -> None:
        done = odoo17.add_production(odoo17.add_product("A"), 1, state="done")
        planned = odoo17.add_production(odoo17.add_product("B"), 1)

        refused = execute(
            odoo17, "mrp.production", "write", [[done], {"date_start": "2026-07-01 06:00:00"}]
        )
        execute(
            odoo17,
            "mrp.production",
            "write",
            [[planned], {"date_start": "2026-07-01 06:00:00"}],
            {"context": {"force_date": True}},
        )
        execute(
            odoo17, "mrp.production", "write", [[planned], {"date_start": "2026-07-02 06:00:00"}]
        )

        assert refused["error"]["data"]["message"] == (
            "You cannot move a manufacturing order once it is cancelled or done."
        )
        assert odoo17.unplanned == [planned]  # only the write without force_date

    def test_the_error_code_can_be_zero_and_a_non_json_body_is_an_error_envelope(
        self, odoo17: FakeOdoo
    ) -> None:
        odoo17.error_code = 0

        assert execute(odoo17, "mrp.workcenter", "fly", [[]])["error"]["code"] == 0
        bad = httpx.post(
            f"{odoo17.base_url}/jsonrpc",
            content=b"not json",
            headers={"Content-Type": "application/json"},
        )
        assert bad.json()["error"]["data"]["name"] == "werkzeug.exceptions.BadRequest"
        assert httpx.get(f"{odoo17.base_url}/web/login").status_code == 404

    def test_json_2_answers_with_http_statuses(self) -> None:
        fake = FakeOdoo(19)
        key = fake.add_api_key()
        url = f"{fake.base_url}/json/2/mrp.production/read"
        headers = {"Authorization": f"bearer {key}", "X-Odoo-Database": "plant"}
        try:
            unknown_key = httpx.post(
                url, json={"ids": [1]}, headers={**headers, "Authorization": "bearer x"}
            )
            missing = httpx.post(url, json={"ids": [99], "fields": ["name"]}, headers=headers)
            bad_kwarg = httpx.post(url, json={"ids": [1], "limit": 1}, headers=headers)
        finally:
            fake.stop()

        assert (unknown_key.status_code, unknown_key.json()) == (401, "Invalid apikey")
        assert (missing.status_code, missing.json()["name"]) == (
            404,
            "odoo.exceptions.MissingError",
        )
        assert (bad_kwarg.status_code, bad_kwarg.json()["name"]) == (400, "builtins.TypeError")
