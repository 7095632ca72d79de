"""Connection configuration: the §5.1 fields with their defaults and the §5.2 validation rules,
reported field by field."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from floorsync.planning.base import PlanningSystem
from floorsync.planning.config import (
    FreppleSettings,
    OdooSettings,
    PlanningConnectionConfig,
    describe_errors,
)
from floorsync.planning.factory import create_planning_adapter
from floorsync.planning.frepple.adapter import FreppleAdapter
from floorsync.planning.odoo.adapter import OdooAdapter


def frepple(**overrides: Any) -> dict[str, Any]:
    return {
        "system": "frepple",
        "base_url": "https://plan.example.com/frepple/",
        "auth_method": "basic",
        "username": "planner",
        "credential": "pw",
        "settings": {"time_zone": "Europe/Amsterdam"},
        **overrides,
    }


def odoo(**overrides: Any) -> dict[str, Any]:
    return {
        "system": "odoo",
        "base_url": "https://erp.example.com",
        "auth_method": "api_key",
        "username": "integration",
        "credential": "key",
        "settings": {"database": "plant"},
        **overrides,
    }


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        PlanningConnectionConfig.model_validate(data)
    return {p["field"]: p["message"] for p in describe_errors(info.value)}


class TestValidConnections:
    def test_a_frepple_connection_gets_the_documented_defaults(self) -> None:
        config = PlanningConnectionConfig.model_validate(frepple())

        assert config.base_url == "https://plan.example.com/frepple"
        assert (config.display_name, config.pull_enabled, config.push_enabled) == (
            "frepple",
            False,
            False,
        )
        assert config.pull_interval_minutes == 15
        assert config.settings == FreppleSettings(time_zone="Europe/Amsterdam")
        settings = config.settings
        assert isinstance(settings, FreppleSettings)
        assert settings.statuses == ("approved", "confirmed", "completed")
        assert (settings.completion_status, settings.scenario) == ("completed", None)
        assert (settings.reconcile_interval_hours, settings.overlap_minutes) == (24, 5)
        assert (settings.timeout_seconds, settings.max_records_per_pull) == (30, 100_000)
        assert (settings.job_number_prefix, settings.verify_tls, settings.ca_bundle) == (
            "",
            True,
            None,
        )
        assert settings.tooling_categories == ("tool", "tooling", "fixture", "mold", "mould")
        assert settings.personnel_categories == ("labor", "labour", "operator", "personnel")

    def test_an_odoo_connection_gets_the_documented_defaults(self) -> None:
        settings = PlanningConnectionConfig.model_validate(odoo()).settings

        assert settings == OdooSettings(database="plant")
        assert isinstance(settings, OdooSettings)
        assert (settings.version, settings.api, settings.company_id) == ("auto", "auto", None)
        assert (settings.create_backorder, settings.keep_timer_running, settings.scrap_note) == (
            False,
            False,
            True,
        )
        assert settings.page_size == 500

    def test_the_default_scenario_is_the_main_database(self) -> None:
        config = PlanningConnectionConfig.model_validate(
            frepple(settings={"time_zone": "UTC", "scenario": "default"})
        )

        assert isinstance(config.settings, FreppleSettings)
        assert config.settings.scenario is None

    def test_the_credential_never_shows_in_the_config_repr(self) -> None:
        config = PlanningConnectionConfig.model_validate(frepple(credential="hunter2-secret"))

        assert "hunter2-secret" not in repr(config)
        assert "hunter2-secret" not in str(config.model_dump())
        assert config.secret == "hunter2-secret"

    def test_the_factory_picks_the_adapter_by_system_without_any_network_io(self) -> None:
        # These hosts do not exist: building the adapters must not touch the network.
        with create_planning_adapter(PlanningConnectionConfig.model_validate(frepple())) as a:
            assert isinstance(a, FreppleAdapter)
            assert a.system is PlanningSystem.FREPPLE
        with create_planning_adapter(PlanningConnectionConfig.model_validate(odoo())) as b:
            assert isinstance(b, OdooAdapter)
            assert b.system is PlanningSystem.ODOO
        b.close()  # closing twice is fine

    def test_the_factory_refuses_an_unknown_system_instead_of_returning_nothing(self) -> None:
        config = PlanningConnectionConfig.model_construct(**frepple(system="sap"))

        with pytest.raises(ValueError, match="no planning adapter for system 'sap'"):
            create_planning_adapter(config)


class TestRefusedConnections:
    @pytest.mark.parametrize(
        ("base_url", "message"),
        [
            ("ftp://plan.example.com", "absolute http or https URL"),
            ("plan.example.com", "absolute http or https URL"),
            ("https://user:pw@plan.example.com", "user name or password"),
            ("https://plan.example.com/?x=1", "query or a fragment"),
            ("https://plan.example.com/#top", "query or a fragment"),
            ("http://169.254.169.254/frepple", "cloud-metadata"),
            ("https://plan.example.com/frepple/api/", "leave out the trailing /api"),
        ],
    )
    def test_a_bad_frepple_base_url_is_refused_with_the_reason(
        self, base_url: str, message: str
    ) -> None:
        assert message in problems(frepple(base_url=base_url))["base_url"]

    @pytest.mark.parametrize("suffix", ["/jsonrpc", "/web", "/web/"])
    def test_an_odoo_base_url_must_not_include_the_route(self, suffix: str) -> None:
        assert (
            "trailing /jsonrpc or /web"
            in problems(odoo(base_url="https://erp.example.com" + suffix))["base_url"]
        )

    def test_frepple_basic_auth_needs_a_username_and_a_password(self) -> None:
        found = problems(frepple(username=None, credential=None))

        assert found == {
            "username": "required for basic authentication",
            "credential": "a password is required",
        }

    def test_a_frepple_api_key_is_required_but_no_username(self) -> None:
        assert problems(frepple(auth_method="api_key", username=None, credential="")) == {
            "credential": "an API key is required"
        }
        assert (
            PlanningConnectionConfig.model_validate(
                frepple(auth_method="api_key", username=None, credential="k")
            ).username
            is None
        )

    def test_frepple_needs_a_known_time_zone(self) -> None:
        assert problems(frepple(settings={}))["settings.time_zone"] == "Field required"
        assert (
            "unknown time zone 'Mars/Olympus'"
            in problems(frepple(settings={"time_zone": "Mars/Olympus"}))["settings.time_zone"]
        )

    def test_odoo_needs_the_database_the_login_and_the_credential(self) -> None:
        found = problems(odoo(username=" ", credential=None, settings={}))

        assert found == {
            "username": "the Odoo login is required",
            "credential": "a password or API key is required",
            "settings.database": "Field required",
        }

    @pytest.mark.parametrize("settings", [{"api": "json2"}, {"version": "19"}, {"version": 19}])
    def test_json_2_and_version_19_need_an_api_key(self, settings: dict[str, Any]) -> None:
        found = problems(odoo(auth_method="basic", settings={"database": "plant", **settings}))

        assert found == {
            "auth_method": "the JSON-2 API (Odoo 19 and later) needs auth_method api_key"
        }

    def test_json_2_with_an_older_version_is_refused(self) -> None:
        found = problems(odoo(settings={"database": "plant", "api": "json2", "version": "17"}))

        assert found == {"settings.api": "JSON-2 exists from Odoo 19 on"}

    @pytest.mark.parametrize("version", [15, "15", "9"])
    def test_odoo_versions_below_16_are_refused_at_configuration(self, version: Any) -> None:
        assert problems(odoo(settings={"database": "plant", "version": version}))[
            "settings.version"
        ].endswith("is not supported; 16 or later is required")

    def test_a_misspelt_setting_is_refused_rather_than_ignored(self) -> None:
        found = problems(odoo(settings={"database": "plant", "page_sise": 100}))

        assert found == {"settings.page_sise": "Extra inputs are not permitted"}

    def test_frepple_settings_are_not_accepted_on_an_odoo_connection(self) -> None:
        found = problems(odoo(settings={"database": "plant", "time_zone": "UTC"}))

        assert found == {"settings.time_zone": "Extra inputs are not permitted"}

    @pytest.mark.parametrize(
        ("settings", "field"),
        [
            ({"timeout_seconds": 4}, "settings.timeout_seconds"),
            ({"timeout_seconds": 301}, "settings.timeout_seconds"),
            ({"page_size": 49}, "settings.page_size"),
            ({"page_size": 2001}, "settings.page_size"),
            ({"job_number_prefix": "x" * 21}, "settings.job_number_prefix"),
            ({"max_records_per_pull": 0}, "settings.max_records_per_pull"),
            ({"company_id": 0}, "settings.company_id"),
        ],
    )
    def test_numbers_and_lengths_outside_their_range_are_refused(
        self, settings: dict[str, Any], field: str
    ) -> None:
        assert field in problems(odoo(settings={"database": "plant", **settings}))

    @pytest.mark.parametrize("minutes", [0, 1441])
    def test_the_pull_interval_is_one_minute_to_a_day(self, minutes: int) -> None:
        assert "pull_interval_minutes" in problems(frepple(pull_interval_minutes=minutes))

    def test_frepple_statuses_and_completion_status_take_only_frepples_values(self) -> None:
        found = problems(
            frepple(
                settings={
                    "time_zone": "UTC",
                    "statuses": ["approved", "started"],
                    "completion_status": "finished",
                }
            )
        )

        assert set(found) == {"settings.statuses.1", "settings.completion_status"}
        assert (
            "statuses"
            in problems(frepple(settings={"time_zone": "UTC", "statuses": []}))["settings.statuses"]
        )

    def test_the_ca_bundle_must_be_a_file_on_this_host(self, tmp_path: Path) -> None:
        bundle = tmp_path / "ca.pem"
        bundle.write_text("-----BEGIN CERTIFICATE-----\n")

        assert (
            "PEM file"
            in problems(
                frepple(settings={"time_zone": "UTC", "ca_bundle": str(tmp_path / "no.pem")})
            )["settings.ca_bundle"]
        )
        assert PlanningConnectionConfig.model_validate(
            frepple(settings={"time_zone": "UTC", "ca_bundle": str(bundle)})
        ).settings.ca_bundle == str(bundle)

    def test_every_problem_is_reported_at_once(self) -> None:
        found = problems(
            frepple(
                base_url="ftp://x", username=None, settings={"time_zone": "Nowhere", "bogus": 1}
            )
        )

        assert set(found) == {"base_url", "settings.time_zone", "settings.bogus"}
