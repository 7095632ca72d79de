"""The pure parts of the FrePPLe and Odoo mappings that the fake-server tests do not pin down
one by one: durations, expected minutes, roles, push bodies, Odoo values and versions."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from floorsync.planning.base import EquipmentRole, PlanningProtocolError
from floorsync.planning.frepple import mapping as frepple
from floorsync.planning.odoo import mapping as odoo
from floorsync.planning.odoo.adapter import major_version
from floorsync.planning.timezones import zone
from floorsync.planning.values import clean_str, parse_decimal, plain_decimal

AMS = zone("Europe/Amsterdam")


class TestFreppleValues:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("00:45:00", timedelta(minutes=45)),
            ("1 02:00:00", timedelta(days=1, hours=2)),
            ("00:00:01.5", timedelta(seconds=1, microseconds=500000)),
            ("100 00:00:00", timedelta(days=100)),
            ("soon", None),
            (None, None),
        ],
    )
    def test_django_durations_are_read(self, text: str | None, expected: timedelta | None) -> None:
        assert frepple.parse_duration(text) == expected

    def test_expected_minutes_follow_the_operation_type(self) -> None:
        start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
        end = start + timedelta(minutes=90)
        fixed = {"type": "fixed_time", "duration": "00:20:00"}
        per = {"type": "time_per", "duration": "00:05:00", "duration_per": "00:00:30"}
        routing = {"type": "routing", "duration": "01:00:00"}

        assert frepple.expected_minutes(fixed, Decimal(10), start, end) == Decimal(20)
        assert frepple.expected_minutes(per, Decimal(10), start, end) == Decimal(10)
        assert frepple.expected_minutes(routing, Decimal(10), start, end) == Decimal(90)
        assert frepple.expected_minutes(None, Decimal(10), None, end) is None

    @pytest.mark.parametrize(
        ("category", "subcategory", "role"),
        [
            ("Machine", None, EquipmentRole.WORK_CENTER),
            ("TOOLING", None, EquipmentRole.TOOLING),
            (None, "injection moulds", EquipmentRole.TOOLING),
            ("operators", "tool", EquipmentRole.PERSONNEL),
            (None, None, EquipmentRole.WORK_CENTER),
        ],
    )
    def test_a_resources_role_is_a_substring_match_with_personnel_first(
        self, category: str | None, subcategory: str | None, role: EquipmentRole
    ) -> None:
        record = {"name": "R", "category": category, "subcategory": subcategory}

        assert frepple.role_of(record, ("tool", "mould"), ("operator",)) is role

    def test_a_start_body_keeps_the_planned_duration_and_a_completion_body_the_good_quantity(
        self,
    ) -> None:
        current = {
            "status": "approved",
            "startdate": "2026-06-02T08:00:00",
            "enddate": "2026-06-02T10:30:00",
        }
        at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

        assert frepple.start_body(current, at, AMS) == {
            "status": "confirmed",
            "startdate": "2026-06-01T14:00:00",
            "enddate": "2026-06-01T16:30:00",
        }
        assert frepple.completion_body(current, Decimal("47.50"), "closed", None, AMS) == {
            "status": "closed",
            "quantity": "47.5",
        }
        assert (
            frepple.completion_body(
                {**current, "status": "closed"}, Decimal(1), "closed", None, AMS
            )
            is None
        )

    def test_a_record_without_a_quantity_is_a_protocol_error_naming_it(self) -> None:
        with pytest.raises(PlanningProtocolError, match="MO-1: quantity is missing"):
            frepple.work_order({"reference": "MO-1", "status": "approved"}, [], {}, AMS)


class TestOdooValues:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (2.5, Decimal("2.5")),
            (0.1, Decimal("0.1")),
            (1 / 3, Decimal("0.333333")),
            (7, Decimal(7)),
            (False, None),
            (None, None),
        ],
    )
    def test_floats_are_read_through_their_repr_and_rounded_to_six_places(
        self, value: object, expected: Decimal | None
    ) -> None:
        assert odoo.odoo_decimal(value) == expected

    def test_many2one_values_are_id_and_name_or_nothing(self) -> None:
        assert odoo.many2one([5, "Laser"]) == (5, "Laser")
        assert odoo.many2one(False) is None
        with pytest.raises(ValueError, match="not a many2one"):
            odoo.many2one("Laser")

    @pytest.mark.parametrize(
        ("info", "major"),
        [
            ([17, 0, 0, "final", 0, "e"], 17),
            (["saas~17", 2, 0, "final", 0, ""], 17),
            (["saas~18.3", 0, 0, "final", 0, ""], 18),
            ([19, 0, 0, "final", 0, ""], 19),
        ],
    )
    def test_the_major_version_comes_from_server_version_info(
        self, info: list[object], major: int
    ) -> None:
        assert major_version({"server_version_info": info}) == major

    def test_an_unreadable_version_is_a_protocol_error(self) -> None:
        with pytest.raises(PlanningProtocolError, match="cannot read the Odoo version"):
            major_version({"server_version_info": ["master"]})

    def test_a_record_with_a_wrong_value_type_is_a_protocol_error_naming_model_and_field(
        self,
    ) -> None:
        with pytest.raises(PlanningProtocolError, match=r"mrp.workcenter\(3\): default_capacity"):
            odoo.equipment({"id": 3, "name": "W", "active": True, "default_capacity": "lots"})


class TestValues:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (Decimal("48.00000000"), "48"),
            (Decimal("47.5"), "47.5"),
            (Decimal("4.8E+1"), "48"),
            (Decimal("0.00100"), "0.001"),
            (Decimal("0E-8"), "0"),
            (Decimal("1E+3"), "1000"),
        ],
    )
    def test_decimals_are_written_in_plain_notation(self, value: Decimal, text: str) -> None:
        assert plain_decimal(value) == text

    @pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", True, [1]])
    def test_a_value_that_is_no_finite_number_is_refused(self, value: object) -> None:
        with pytest.raises(ValueError, match="not a"):
            parse_decimal(value)

    def test_strings_are_stripped_and_empty_ones_become_none(self) -> None:
        assert (clean_str("  MO-1 "), clean_str("   "), clean_str(False), clean_str(None)) == (
            "MO-1",
            None,
            None,
            None,
        )
