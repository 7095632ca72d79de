"""Odoo `test_connection`, version detection and profiles against the fake server (spec §9.2,
§9.5, §9.11; matrix rows 1, 2, 5, 6, 7), for every profile."""

import pytest

from floorsync.planning.base import AuthReason, ErrorKind, PlanningAuthError, PlanningProtocolError
from tests.planning.conftest import Expect, MakeAdapter, MakeConfig, SecretWatch, failed_check
from tests.planning.fakes.odoo import FakeOdoo

FIELDS_GETS = [
    "mrp.production.fields_get",
    "mrp.workorder.fields_get",
    "mrp.workcenter.fields_get",
    "stock.move.fields_get",
    "product.product.fields_get",
]


class TestASuccessfulCheck:
    def test_the_check_detects_the_version_logs_in_proves_mrp_access_and_checks_the_fields(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        check = make_adapter(odoo_config()).test_connection()

        assert check.ok is True, check.message
        transport = "json2" if odoo.version >= 19 else "jsonrpc"
        assert check.capabilities == {f"odoo.{transport}", f"odoo.profile.{odoo.version}"}
        assert check.server_version == f"{odoo.version}.0+e"
        login = [] if odoo.version >= 19 else ["common.authenticate"]
        assert odoo.labels() == [
            "common.version",
            *login,
            "mrp.production.search_count",
            *FIELDS_GETS,
        ]
        [count] = [c for c in odoo.calls if c.method == "search_count"]
        assert count.params == {"domain": [["id", "=", 0]]}
        assert count.context == {"lang": "en_US", "tz": "UTC"}
        assert all("cookie" not in r.headers for r in odoo.requests)

    @pytest.mark.parametrize("odoo_version", [16, 17, 18])
    def test_an_api_key_works_over_json_rpc_in_the_password_position(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        key = odoo.add_api_key()

        check = make_adapter(odoo_config(auth_method="api_key", credential=key)).test_connection()

        assert check.ok is True, check.message
        execute = [r.json["params"]["args"] for r in odoo.requests if r.label.startswith("mrp.")]
        assert {args[2] for args in execute} == {key}

    @pytest.mark.parametrize("odoo_version", [19])
    def test_json_2_sends_the_key_as_bearer_and_the_database_as_a_header(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        config = odoo_config()

        assert make_adapter(config).test_connection().ok is True

        [count] = [r for r in odoo.requests if r.label == "mrp.production.search_count"]
        assert count.path == "/json/2/mrp.production/search_count"
        assert count.authorization == f"bearer {config.secret}"
        assert count.headers["x-odoo-database"] == "plant"
        assert count.json == {"domain": [["id", "=", 0]], "context": {"lang": "en_US", "tz": "UTC"}}

    @pytest.mark.parametrize("odoo_version", [19])
    def test_an_explicit_version_19_skips_detection_and_never_touches_json_rpc(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        odoo.jsonrpc_enabled = False

        check = make_adapter(odoo_config(version="19")).test_connection()

        assert check.ok is True, check.message
        assert check.server_version is None
        assert all(r.path != "/jsonrpc" for r in odoo.requests)

    @pytest.mark.parametrize("odoo_version", [17])
    def test_an_odoo_online_version_maps_to_its_major_profile(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        odoo.saas = True

        check = make_adapter(odoo_config()).test_connection()

        assert "odoo.profile.17" in check.capabilities
        assert check.server_version == "saas~17.2+e"

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_missing_optional_field_is_dropped_and_named_in_the_capabilities(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        odoo.drop_field("mrp.workcenter", "default_capacity")
        odoo.add_workcenter("Laser")
        adapter = make_adapter(odoo_config())

        check = adapter.test_connection()
        [laser] = adapter.pull_resources()

        assert "odoo.without.mrp.workcenter.default_capacity" in check.capabilities
        assert laser.capacity is None
        [read] = [
            c for c in odoo.calls if c.model == "mrp.workcenter" and c.method == "search_read"
        ]
        assert "default_capacity" not in read.params["fields"]

    def test_the_company_restricts_every_call_through_the_context(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        make_adapter(odoo_config(company_id=3)).test_connection()

        assert {str(c.context) for c in odoo.calls} == {
            "{'lang': 'en_US', 'tz': 'UTC', 'allowed_company_ids': [3]}"
        }


class TestRefusedCredentials:
    @pytest.mark.parametrize("odoo_version", [16, 17, 18])
    def test_a_wrong_password_is_an_auth_failure_and_nothing_is_called_after_it(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(odoo_config(credential="Wrong-password-9")).test_connection(),
            secret_watch,
        )

        assert check.error_kind is ErrorKind.AUTH
        assert odoo.labels() == ["common.version", "common.authenticate"]

    @pytest.mark.parametrize("odoo_version", [19])
    def test_an_unknown_api_key_on_json_2_is_an_auth_failure(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(odoo_config(credential="not-a-key-1234")).test_connection(), secret_watch
        )

        assert check.error_kind is ErrorKind.AUTH
        assert "Invalid apikey" in check.message
        assert odoo.labels() == ["common.version", "mrp.production.search_count"]

    def test_an_unknown_database_is_an_auth_failure_with_reason_database(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        error = expect(PlanningAuthError, make_adapter(odoo_config(database="nope")).pull_resources)

        assert error.reason is AuthReason.DATABASE
        assert "database" in error.message

    def test_a_user_without_manufacturing_rights_fails_the_check_on_permission(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        odoo.user.mrp_access = False
        adapter = make_adapter(odoo_config())

        check = failed_check(adapter.test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.AUTH
        assert "not allowed to access" in check.message
        assert odoo.labels()[-1] == "mrp.production.search_count"


class TestWrongSettings:
    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_web_page_at_the_base_url_is_a_protocol_failure(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        odoo.fault("status", status=200, body=b"<html>Intranet</html>", content_type="text/html")

        check = failed_check(make_adapter(odoo_config()).test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.PROTOCOL

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_redirect_to_the_login_page_is_a_protocol_failure_and_not_followed(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        odoo.fault("redirect", status=303, location="/web/login?redirect=%2Fjsonrpc")

        check = failed_check(make_adapter(odoo_config()).test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "unexpected redirect to /web/login" in check.message
        assert [r.path for r in odoo.requests] == ["/jsonrpc"]

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_host_without_json_rpc_is_a_protocol_failure(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(odoo_config(base_url=odoo.base_url + "/erp")).test_connection(),
            secret_watch,
        )

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "no Odoo JSON-RPC endpoint" in check.message

    @pytest.mark.parametrize("odoo_version", [15])
    def test_odoo_15_is_refused_with_a_precise_message(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        error = expect(PlanningProtocolError, make_adapter(odoo_config()).pull_work_orders)

        assert error.message == "Odoo 15 is not supported; 16 or later is required"
        assert odoo.labels() == ["common.version"]

    @pytest.mark.parametrize("odoo_version", [19])
    def test_odoo_19_with_a_password_is_refused_because_json_2_needs_an_api_key(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        config = odoo_config(auth_method="basic", credential="Odoo-pa55word!")

        error = expect(PlanningProtocolError, make_adapter(config).pull_work_orders)

        assert "JSON-2 API, which needs an API key" in error.message
        assert odoo.labels() == ["common.version"]

    @pytest.mark.parametrize("odoo_version", [19])
    def test_a_server_without_json_rpc_cannot_be_detected_and_asks_for_the_version(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        odoo.jsonrpc_enabled = False

        error = expect(PlanningProtocolError, make_adapter(odoo_config()).pull_work_orders)

        assert "set the version explicitly" in error.message

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_missing_required_field_is_a_protocol_failure_naming_model_and_field(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        odoo.drop_field("mrp.workorder", "qty_production")

        check = failed_check(make_adapter(odoo_config()).test_connection(), secret_watch)

        assert check.error_kind is ErrorKind.PROTOCOL
        assert "mrp.workorder has no field 'qty_production'" in check.message

    @pytest.mark.parametrize("odoo_version", [16])
    def test_a_version_set_wrongly_is_caught_by_the_check(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        secret_watch: SecretWatch,
    ) -> None:
        check = failed_check(
            make_adapter(odoo_config(version="17")).test_connection(), secret_watch
        )

        assert check.error_kind is ErrorKind.PROTOCOL
        assert check.message == (
            "the connection says Odoo 17 but the server is 16.0+e; fix the version setting "
            "(or use auto)"
        )

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_pull_with_the_16_profile_on_a_17_server_fails_on_the_missing_16_fields(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        error = expect(
            PlanningProtocolError, make_adapter(odoo_config(version="16")).pull_work_orders
        )

        assert "mrp.production has no field 'date_planned_start'" in error.message
        assert "common.version" not in odoo.labels()
