"""FrePPLe `test_connection` against the fake server (spec §8.9–§8.10; matrix rows 1–6)."""

from datetime import UTC, datetime
from decimal import Decimal

from floorsync.planning.base import AuthReason, ErrorKind, PlanningAuthError
from tests.planning.conftest import (
    FREPPLE_USER,
    Expect,
    MakeAdapter,
    MakeConfig,
    SecretWatch,
    failed_check,
)
from tests.planning.fakes.frepple import FakeFrepple, User, oplan

PROBE = ["__floorsync_probe__"]
STARTED = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


class TestASuccessfulCheck:
    def test_basic_auth_probes_orders_work_orders_and_resources_and_never_calls_the_api_root(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        check = make_adapter(frepple_config()).test_connection()

        assert check.ok is True, check.message
        assert check.error_kind is None
        assert check.capabilities == frozenset({"frepple.workorder_endpoint"})
        assert check.server_version is None
        assert [(r.method, r.path, r.query) for r in frepple.requests] == [
            ("GET", "/api/input/manufacturingorder/", {"format": ["json"], "reference": PROBE}),
            ("GET", "/api/input/workorder/", {"format": ["json"], "reference": PROBE}),
            ("GET", "/api/input/resource/", {"format": ["json"], "name": PROBE}),
        ]
        assert all(r.authorization.startswith("Basic ") for r in frepple.requests)
        assert all(r.headers["accept"] == "application/json" for r in frepple.requests)
        assert all(r.headers["user-agent"].startswith("floorsync/") for r in frepple.requests)

    def test_an_api_key_is_sent_as_a_bearer_token(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        key = frepple.add_api_key(FREPPLE_USER)

        check = make_adapter(
            frepple_config(auth_method="api_key", username=None, credential=key)
        ).test_connection()

        assert check.ok is True, check.message
        assert {r.authorization for r in frepple.requests} == {f"Bearer {key}"}

    def test_a_server_before_9_13_is_fine_without_the_work_order_endpoint(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.workorder_endpoint = False

        check = make_adapter(frepple_config()).test_connection()

        assert check.ok is True, check.message
        assert check.capabilities == frozenset()
        assert "owner" in check.message

    def test_a_scenario_is_a_url_prefix(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.scenarios["what-if"] = type(frepple.data)()

        check = make_adapter(frepple_config(scenario="what-if")).test_connection()

        assert check.ok is True, check.message
        assert {r.path.split("/api/")[0] for r in frepple.requests} == {"/what-if"}

    def test_the_session_cookies_the_server_sets_are_never_sent_back(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        adapter = make_adapter(frepple_config())
        adapter.test_connection()
        adapter.pull_work_orders()
        adapter.push_order_completion("MO-1", Decimal(10), Decimal(0))

        assert len(frepple.requests) > 5
        assert all("cookie" not in r.headers for r in frepple.requests)
        assert frepple.requests[-1].method == "PATCH"
        assert frepple.requests[-1].status == 200  # a sent-back sessionid would be "CSRF Failed"


class TestRefusedCredentials:
    def test_a_wrong_password_is_an_auth_failure_and_the_check_stops_there(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(frepple_config(credential="wrong-Password-123")).test_connection(),
            secret_watch,
        )

        assert check.error_kind is ErrorKind.AUTH
        assert "Invalid username/password." in check.message
        assert len(frepple.requests) == 1
        assert frepple.requests[0].status == 401

    def test_an_unknown_api_key_is_an_auth_failure(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        adapter = make_adapter(
            frepple_config(auth_method="api_key", username=None, credential="not-a-known-key-42")
        )

        check = failed_check(adapter.test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.AUTH
        assert "API key" in check.message
        assert [r.status for r in frepple.requests] == [403]

    def test_a_redirect_to_the_login_page_is_an_auth_failure_and_is_not_followed(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
        expect: Expect,
    ) -> None:
        frepple.login_redirect_all = True
        adapter = make_adapter(frepple_config())

        check = failed_check(adapter.test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.AUTH
        assert "login" in check.message
        assert [r.status for r in frepple.requests] == [302]
        assert all(not r.path.startswith("/data/login/") for r in frepple.requests)

    def test_a_pull_redirected_to_the_login_page_raises_an_auth_error_with_that_reason(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.login_redirect_all = True
        error = expect(PlanningAuthError, make_adapter(frepple_config()).pull_resources)

        assert error.reason is AuthReason.LOGIN_REDIRECT
        assert error.upstream == 302

    def test_a_read_only_user_passes_the_check_and_fails_its_first_push_on_permission(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.users["viewer"] = User("Viewer-pass-1", can_change=False)
        frepple.data.add_mo(oplan("MO-1"))
        adapter = make_adapter(frepple_config(username="viewer", credential="Viewer-pass-1"))

        assert adapter.test_connection().ok is True
        error = expect(PlanningAuthError, adapter.push_order_start, "MO-1", STARTED)

        assert error.reason is AuthReason.PERMISSION
        assert "permission" in error.message
        assert frepple.data.mos["MO-1"]["status"] == "approved"


class TestWrongSettings:
    def test_an_unknown_scenario_is_an_auth_failure_with_reason_scenario(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
        expect: Expect,
    ) -> None:
        adapter = make_adapter(frepple_config(scenario="nope"))

        check = failed_check(adapter.test_connection(), secret_watch)
        error = expect(PlanningAuthError, adapter.pull_resources)

        assert check.error_kind is ErrorKind.AUTH
        assert error.reason is AuthReason.SCENARIO
        assert "nope" in check.message

    def test_a_scenario_the_user_may_not_use_is_refused_like_an_unknown_one(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.scenarios["secret-plan"] = type(frepple.data)()
        frepple.users["planner"].scenarios = {"other"}

        error = expect(
            PlanningAuthError, make_adapter(frepple_config(scenario="secret-plan")).pull_resources
        )

        assert error.reason is AuthReason.SCENARIO

    def test_a_base_url_whose_path_frepple_takes_for_a_scenario_is_a_protocol_failure(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(frepple_config(base_url=frepple.base_url + "/planning")).test_connection(),
            secret_watch,
        )

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "check the base URL" in check.message

    def test_a_base_url_without_frepple_behind_it_is_a_protocol_failure(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(frepple_config(base_url=frepple.base_url + "/www/site")).test_connection(),
            secret_watch,
        )

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "404" in check.message
        assert len(frepple.requests) == 1

    def test_a_base_url_of_a_web_page_is_a_protocol_failure(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        frepple.fault("status", status=200, body=b"<html>Welcome</html>", content_type="text/html")

        check = failed_check(make_adapter(frepple_config()).test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "text/html" in check.message

    def test_a_redirecting_host_is_a_protocol_failure_and_the_redirect_is_not_followed(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        frepple.fault("redirect", status=301, location=frepple.base_url + "/moved/")

        check = failed_check(make_adapter(frepple_config()).test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "unexpected redirect to" in check.message
        assert [r.path for r in frepple.requests] == ["/api/input/manufacturingorder/"]

    def test_a_server_that_is_down_makes_the_check_say_unavailable(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
        sleeps: list[float],
    ) -> None:
        frepple.fault("status", status=503, times=3)

        check = failed_check(make_adapter(frepple_config()).test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.UNAVAILABLE
        assert sleeps == [1.0, 4.0]
        assert check.elapsed_ms >= 0
