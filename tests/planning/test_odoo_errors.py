"""Odoo error classification and re-authentication against the fake server (spec §9.2, §9.4,
§9.10; matrix rows 45–48)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from floorsync.planning.base import (
    AuthReason,
    PlanningAuthError,
    PlanningOrderNotFound,
    PlanningProtocolError,
    PlanningRejected,
    PlanningUnavailable,
)
from tests.planning.conftest import Expect, MakeAdapter, MakeConfig
from tests.planning.fakes.odoo import FakeOdoo

WORKCENTERS = "mrp.workcenter.search_read"
STARTED = datetime(2026, 6, 1, tzinfo=UTC)


def rpc(label: str):  # type: ignore[no-untyped-def]
    return lambda r: r.label == label


class TestHttpFaults:
    @pytest.mark.parametrize("odoo_version", [17, 19])
    @pytest.mark.parametrize(
        ("kind", "options"),
        [
            ("html", {"status": 502}),
            (
                "status",
                {
                    "status": 504,
                    "body": b"<html>Gateway Time-out</html>",
                    "content_type": "text/html",
                },
            ),
            ("malformed", {}),
            ("truncate", {}),
            ("reset", {}),
            ("status", {"status": 503, "headers": {"Retry-After": "3"}}),
        ],
    )
    def test_a_transient_fault_on_a_read_is_retried_twice_then_unavailable(
        self,
        kind: str,
        options: dict[str, object],
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
        expect: Expect,
    ) -> None:
        adapter = make_adapter(odoo_config())
        adapter.test_connection()
        odoo.fault(kind, times=3, match=rpc(WORKCENTERS), **options)  # type: ignore[arg-type]

        expect(PlanningUnavailable, adapter.pull_resources)

        assert len(sleeps) == 2
        assert odoo.labels().count(WORKCENTERS) == 3

    @pytest.mark.parametrize("odoo_version", [17, 19])
    def test_a_button_that_fails_is_not_retried_inside_the_adapter(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
        expect: Expect,
    ) -> None:
        centre = odoo.add_workcenter("Laser")
        mo = odoo.add_production(odoo.add_product("Kit"), 2, steps=[(centre, "Cut", 5)])
        odoo.fault("html", status=502, match=rpc("mrp.workorder.button_start"))

        expect(PlanningUnavailable, make_adapter(odoo_config()).push_order_start, str(mo), STARTED)

        assert odoo.labels().count("mrp.workorder.button_start") == 1
        assert sleeps == []

    @pytest.mark.parametrize("odoo_version", [17])
    def test_an_answer_to_another_request_id_is_a_protocol_error(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        odoo.fault("status", status=200, body=b'{"jsonrpc": "2.0", "id": 999, "result": {}}')

        error = expect(PlanningProtocolError, make_adapter(odoo_config()).pull_resources)

        assert "id 999" in error.message


class TestErrorEnvelopes:
    # The classification does not depend on the profile, only on the transport: JSON-RPC with
    # both error codes real servers send, and JSON-2 (which has no code).
    @pytest.mark.parametrize(
        ("odoo_version", "code"),
        [(17, 200), (17, 0), (19, 200)],
        ids=["jsonrpc", "jsonrpc-code0", "json2"],
    )
    @pytest.mark.parametrize(
        ("name", "message", "expected"),
        [
            ("odoo.exceptions.UserError", "Nothing to do.", PlanningRejected),
            ("odoo.exceptions.ValidationError", "Quantity must be positive.", PlanningRejected),
            (
                "builtins.TypeError",
                "read() got an unexpected keyword argument 'x'",
                PlanningProtocolError,
            ),
            (
                "builtins.ValueError",
                "Invalid field 'foo' on model 'mrp.workcenter'",
                PlanningProtocolError,
            ),
            ("builtins.AttributeError", "type object has no attribute 'x'", PlanningProtocolError),
            ("odoo.exceptions.AccessError", "You are not allowed to access it.", PlanningAuthError),
            (
                "odoo.exceptions.AccessError",
                "Private methods (such as mrp.workcenter._read) cannot be called remotely.",
                PlanningProtocolError,
            ),
            (
                "psycopg2.errors.SerializationFailure",
                "could not serialize access",
                PlanningUnavailable,
            ),
            ("psycopg2.errors.LockNotAvailable", "could not obtain lock", PlanningUnavailable),
            ("psycopg2.errors.UniqueViolation", "duplicate key", PlanningRejected),
            ("odoo.addons.base.SomethingElse", "surprise", PlanningRejected),
        ],
    )
    def test_each_odoo_exception_is_classified_with_odoos_own_message(
        self,
        name: str,
        message: str,
        expected: type[Exception],
        code: int,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        odoo.error_code = code
        adapter = make_adapter(odoo_config())
        adapter.test_connection()
        # Temporary ones must fail every retry to come out.
        odoo.inject(name, message, call=WORKCENTERS, times=3)

        error = expect(expected, adapter.pull_resources)

        assert message in error.message
        if expected is PlanningAuthError:
            assert error.reason is AuthReason.PERMISSION

    @pytest.mark.parametrize("odoo_version", [17])
    def test_the_text_comes_from_data_message_not_the_generic_envelope_message(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        odoo.inject("odoo.exceptions.UserError", "The work center is blocked.", call=WORKCENTERS)

        error = expect(PlanningRejected, make_adapter(odoo_config()).pull_resources)

        assert error.message == "The work center is blocked."
        assert "Odoo Server Error" not in error.message


class TestReauthentication:
    @pytest.mark.parametrize("odoo_version", [16, 17, 18])
    def test_a_changed_uid_is_picked_up_by_one_re_authentication(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        odoo.add_workcenter("Laser")
        adapter = make_adapter(odoo_config())
        adapter.pull_resources()
        odoo.user.uid = 7
        odoo.clear_log()

        [laser] = adapter.pull_resources()

        assert laser.name == "Laser"
        assert odoo.labels() == [WORKCENTERS, "common.authenticate", WORKCENTERS]
        assert odoo.requests[-1].json["params"]["args"][1] == 7

    @pytest.mark.parametrize("odoo_version", [16, 17, 18])
    def test_a_changed_password_is_an_auth_error_after_one_attempt_to_log_in_again(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        adapter = make_adapter(odoo_config())
        adapter.pull_resources()
        odoo.user.password = "Changed-password-2"
        odoo.clear_log()

        error = expect(PlanningAuthError, adapter.pull_resources)

        assert error.reason is AuthReason.CREDENTIALS
        assert odoo.labels() == [WORKCENTERS, "common.authenticate"]

    @pytest.mark.parametrize("odoo_version", [17])
    def test_an_expired_session_is_retried_once_after_logging_in_again(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        adapter = make_adapter(odoo_config())
        adapter.test_connection()
        odoo.inject(
            "odoo.http.SessionExpiredException", "Session expired", code=100, call=WORKCENTERS
        )
        odoo.clear_log()

        assert adapter.pull_resources() == []
        assert odoo.labels() == [WORKCENTERS, "common.authenticate", WORKCENTERS]

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_session_that_stays_expired_is_unavailable(
        self,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        adapter = make_adapter(odoo_config())
        adapter.test_connection()
        odoo.inject(
            "odoo.http.SessionExpiredException",
            "Session expired",
            code=100,
            call=WORKCENTERS,
            times=5,
        )

        expect(PlanningUnavailable, adapter.pull_resources)

        assert odoo.labels().count("common.authenticate") == 2  # the check's and one more

    @pytest.mark.parametrize("odoo_version", [17])
    def test_a_write_refused_with_access_denied_logs_in_again_and_is_sent_once_more(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        mo = odoo.add_production(odoo.add_product("Kit"), 2)
        adapter = make_adapter(odoo_config())
        odoo.inject("odoo.exceptions.AccessDenied", "Access Denied", call="mrp.production.write")

        result = adapter.push_order_start(str(mo), STARTED)

        assert result.upstream_status == "confirmed"
        assert odoo.labels().count("mrp.production.write") == 2
        assert len(odoo.writes) == 1  # the refused one was not applied


class TestJson2Statuses:
    @pytest.mark.parametrize("odoo_version", [19])
    @pytest.mark.parametrize(
        ("status", "body", "expected", "reason"),
        [
            (401, b'"Invalid apikey"', PlanningAuthError, AuthReason.CREDENTIALS),
            (403, b'{"message": "forbidden"}', PlanningAuthError, AuthReason.PERMISSION),
            (
                404,
                b'{"name": "werkzeug.exceptions.NotFound", "message": "Not Found"}',
                PlanningProtocolError,
                None,
            ),
            (400, b'{"message": "bad request"}', PlanningProtocolError, None),
            (422, b'{"message": "cannot do that"}', PlanningRejected, None),
            (429, b'{"message": "slow down"}', PlanningUnavailable, None),
        ],
    )
    def test_json_2_statuses_are_classified_by_their_code(
        self,
        status: int,
        body: bytes,
        expected: type[Exception],
        reason: AuthReason | None,
        odoo: FakeOdoo,
        odoo_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        odoo.fault("status", status=status, body=body, times=3, match=rpc(WORKCENTERS))
        adapter = make_adapter(odoo_config(version="19"))

        error = expect(expected, adapter.pull_resources)

        if reason is not None:
            assert error.reason is reason

    @pytest.mark.parametrize("odoo_version", [19])
    def test_a_missing_order_over_json_2_is_not_found_by_the_exception_name(
        self, odoo: FakeOdoo, odoo_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        expect(
            PlanningOrderNotFound,
            make_adapter(odoo_config()).push_order_completion,
            "4242",
            Decimal(1),
            Decimal(0),
        )

        assert odoo.requests[-1].status == 404
