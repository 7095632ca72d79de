"""The shared HTTP behaviour (spec §4.4 classification, §4.6), exercised through the FrePPLe
adapter against the fake server: every fault kind classified, read-only retries, writes never
retried, addresses guarded and pinned, TLS, the body cap, logging and redaction (matrix 45, 48)."""

import base64
import datetime as dt
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path

import pytest
from cryptography import x509

from floorsync.kit.netguard import StaticResolver
from floorsync.planning.base import (
    PlanningProtocolError,
    PlanningRejected,
    PlanningSystem,
    PlanningUnavailable,
)
from floorsync.planning.http import (
    PlanningHttp,
    Redactor,
    decode_json,
    make_planning_http_client,
)
from tests.planning.conftest import FREPPLE_PASSWORD, Expect, MakeAdapter, MakeConfig
from tests.planning.fakes.frepple import FakeFrepple, oplan
from tests.planning.fakes.harness import method_is, path_has
from tests.support.tls import self_signed

STARTED = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)
RESOURCES = path_has("/resource/")


class TestReadFaults:
    @pytest.mark.parametrize(
        ("kind", "options"),
        [
            ("html", {"status": 500}),
            ("empty", {"status": 502, "content_type": "text/html"}),
            (
                "status",
                {
                    "status": 504,
                    "body": b"<html>Gateway Time-out</html>",
                    "content_type": "text/html",
                },
            ),
            ("empty", {"status": 200}),
            ("malformed", {}),
            ("truncate", {}),
            ("reset", {}),
            ("status", {"status": 429}),
            ("status", {"status": 408}),
        ],
    )
    def test_a_transient_fault_on_a_read_is_retried_twice_then_reported_unavailable(
        self,
        kind: str,
        options: dict[str, object],
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
        expect: Expect,
    ) -> None:
        frepple.fault(kind, times=3, match=RESOURCES, **options)  # type: ignore[arg-type]

        error = expect(PlanningUnavailable, make_adapter(frepple_config()).pull_resources)

        assert sleeps == [1.0, 4.0]
        assert len(frepple.requests) == 3
        assert error.system is PlanningSystem.FREPPLE

    def test_a_read_that_fails_once_succeeds_on_the_retry(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
    ) -> None:
        frepple.data.add_resource({"name": "Laser"})
        frepple.fault("reset", match=RESOURCES)

        [laser] = make_adapter(frepple_config()).pull_resources()

        assert laser.name == "Laser"
        assert sleeps == [1.0]

    def test_retry_after_in_seconds_or_as_a_date_sets_the_wait(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
    ) -> None:
        soon = format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20), usegmt=True)
        frepple.fault("status", status=503, headers={"Retry-After": "2"}, match=RESOURCES)
        frepple.fault("status", status=503, headers={"Retry-After": soon}, match=RESOURCES)

        make_adapter(frepple_config()).pull_resources()

        assert sleeps[0] == 2.0
        assert 15 <= sleeps[1] <= 20

    def test_a_retry_after_longer_than_thirty_seconds_is_passed_on_at_once(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
        expect: Expect,
    ) -> None:
        frepple.fault("status", status=503, headers={"Retry-After": "120"}, match=RESOURCES)

        error = expect(PlanningUnavailable, make_adapter(frepple_config()).pull_resources)

        assert error.retry_after == 120.0
        assert error.upstream == 503
        assert sleeps == []
        assert len(frepple.requests) == 1

    def test_a_slow_answer_times_out_as_unavailable(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.fault("delay", delay=1.0, times=3, match=RESOURCES)
        client = make_planning_http_client(read_timeout=0.2)

        error = expect(
            PlanningUnavailable, make_adapter(frepple_config(), http_client=client).pull_resources
        )

        assert "timed out" in error.message
        client.close()

    def test_a_405_is_a_protocol_error_and_is_not_retried(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
        expect: Expect,
    ) -> None:
        frepple.fault("status", status=405, body=b'{"detail": "Method \\"GET\\" not allowed."}')

        expect(PlanningProtocolError, make_adapter(frepple_config()).pull_resources)

        assert sleeps == []

    def test_a_400_on_a_list_is_a_protocol_error_naming_the_query(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        frepple.fault(
            "status", status=400, body=b'{"lastmodified__gte": ["Enter a valid date/time."]}'
        )

        error = expect(
            PlanningProtocolError,
            make_adapter(frepple_config()).pull_work_orders,
            STARTED,
        )

        assert "lastmodified__gte: Enter a valid date/time." in error.message


class TestWriteFaults:
    @pytest.mark.parametrize(
        ("kind", "options"),
        [
            ("html", {"status": 500}),
            ("empty", {"status": 502}),
            ("status", {"status": 503, "headers": {"Retry-After": "1"}}),
            ("reset", {}),
        ],
    )
    def test_a_failed_write_is_unavailable_and_never_retried_inside_the_adapter(
        self,
        kind: str,
        options: dict[str, object],
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        sleeps: list[float],
        expect: Expect,
    ) -> None:
        frepple.data.add_mo(oplan("MO-1"))
        frepple.fault(kind, match=method_is("PATCH"), **options)  # type: ignore[arg-type]

        expect(
            PlanningUnavailable, make_adapter(frepple_config()).push_order_start, "MO-1", STARTED
        )

        assert [r.method for r in frepple.requests] == ["GET", "PATCH"]
        assert sleeps == []
        assert frepple.data.mos["MO-1"]["status"] == "approved"


class TestAddresses:
    def test_a_host_resolving_to_a_cloud_metadata_address_is_refused_before_connecting(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        resolver = StaticResolver({"frepple.plant": ["127.0.0.1", "169.254.169.254"]})
        client = make_planning_http_client(resolver=resolver)
        config = frepple_config(base_url=f"http://frepple.plant:{frepple.port}")

        error = expect(
            PlanningProtocolError, make_adapter(config, http_client=client).pull_resources
        )

        assert "cloud-metadata" in error.message
        assert frepple.requests == []
        client.close()

    def test_a_plant_network_name_resolving_to_a_private_address_is_used_and_pinned(
        self, frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        client = make_planning_http_client(
            resolver=StaticResolver({"frepple.plant": ["127.0.0.1"]})
        )
        config = frepple_config(base_url=f"http://frepple.plant:{frepple.port}")

        make_adapter(config, http_client=client).pull_resources()

        assert frepple.requests[0].headers["host"] == f"frepple.plant:{frepple.port}"
        client.close()

    def test_a_name_that_does_not_resolve_is_unavailable(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        client = make_planning_http_client(resolver=StaticResolver({}))
        config = frepple_config(base_url="http://frepple.plant")

        error = expect(PlanningUnavailable, make_adapter(config, http_client=client).pull_resources)

        assert "DNS" in error.message
        client.close()

    def test_a_refused_connection_is_unavailable(
        self, frepple_config: MakeConfig, make_adapter: MakeAdapter, expect: Expect
    ) -> None:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]

        expect(
            PlanningUnavailable,
            make_adapter(frepple_config(base_url=f"http://127.0.0.1:{port}")).pull_resources,
        )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(
        tmp_path_factory.mktemp("tls"),
        "frepple.test",
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    )


@pytest.fixture
def tls_frepple(certificate: tuple[Path, Path]) -> Iterator[FakeFrepple]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    fake = FakeFrepple(tls=context)
    yield fake
    fake.stop()


class TestTls:
    def test_a_certificate_that_does_not_verify_is_a_protocol_error(
        self,
        tls_frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        config = frepple_config(base_url=tls_frepple.base_url)

        error = expect(PlanningProtocolError, make_adapter(config).pull_resources)

        assert "TLS certificate verification failed" in error.message

    def test_the_ca_bundle_makes_a_private_certificate_verify(
        self,
        tls_frepple: FakeFrepple,
        certificate: tuple[Path, Path],
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
    ) -> None:
        config = frepple_config(base_url=tls_frepple.base_url, ca_bundle=str(certificate[0]))

        assert make_adapter(config).pull_resources() == []
        assert config.warnings == ()

    def test_switching_verification_off_works_and_is_a_warning_for_every_run(
        self, tls_frepple: FakeFrepple, frepple_config: MakeConfig, make_adapter: MakeAdapter
    ) -> None:
        config = frepple_config(base_url=tls_frepple.base_url, verify_tls=False)

        assert make_adapter(config).pull_resources() == []
        assert config.warnings == (
            "TLS certificate verification is switched off for this connection",
        )


class TestBodyCap:
    def test_an_answer_above_the_cap_is_a_protocol_error(self, frepple: FakeFrepple) -> None:
        for n in range(50):
            frepple.data.add_resource({"name": f"Resource {n}"})
        http = PlanningHttp(
            PlanningSystem.FREPPLE,
            make_planning_http_client(),
            owns_client=True,
            redactor=Redactor([]),
            max_body_bytes=1000,
        )

        with pytest.raises(PlanningProtocolError, match="1000-byte cap"):
            http.request(
                "GET",
                f"{frepple.base_url}/api/input/resource/?format=json",
                lambda answer: decode_json(PlanningSystem.FREPPLE, answer, "FrePPLe"),
                read_only=True,
                headers={"Authorization": "Basic cGxhbm5lcjpzM2NyZXQtUMOkc3N3b3Jk"},
            )
        http.close()


class TestLoggingAndRedaction:
    def test_each_request_is_one_debug_line_with_method_url_status_bytes_and_time(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        with caplog.at_level(logging.DEBUG, logger="floorsync.planning.http"):
            make_adapter(frepple_config()).pull_resources()

        [line] = [r for r in caplog.records if r.name == "floorsync.planning.http"]
        assert line.levelno == logging.DEBUG
        assert line.getMessage().startswith(
            f"GET {frepple.base_url}/api/input/resource/?format=json -> 200, 2 bytes, "
        )
        assert line.getMessage().endswith(" ms")

    def test_a_server_echoing_the_password_in_an_error_page_has_it_removed(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        echo = f"<html>login failed for planner / {FREPPLE_PASSWORD}</html>".encode()
        frepple.fault("status", status=500, body=echo, content_type="text/html", times=3)

        error = expect(PlanningUnavailable, make_adapter(frepple_config()).pull_resources)

        assert "login failed for planner / ••••" in (error.excerpt or "")

    def test_field_errors_echoing_an_api_key_have_it_removed_from_the_details(
        self,
        frepple: FakeFrepple,
        frepple_config: MakeConfig,
        make_adapter: MakeAdapter,
        expect: Expect,
    ) -> None:
        key = frepple.add_api_key("planner")
        frepple.data.add_mo(oplan("MO-1"))
        frepple.fault(
            "status",
            status=400,
            body=f'{{"quantity": ["bad value from {key}"]}}'.encode(),
            match=method_is("PATCH"),
        )
        adapter = make_adapter(frepple_config(auth_method="api_key", username=None, credential=key))

        error = expect(
            PlanningRejected, adapter.push_order_completion, "MO-1", Decimal(1), Decimal(0)
        )

        assert error.details == {"quantity": ["bad value from ••••"]}

    @pytest.mark.parametrize(
        "form",
        [
            'p@ss w"rd/é',
            "p%40ss%20w%22rd%2F%C3%A9",
            'p@ss w\\"rd/é',
            'p@ss w\\"rd/\\u00e9',
            base64.b64encode('u:p@ss w"rd/é'.encode()).decode(),
        ],
    )
    def test_the_redactor_removes_the_secret_as_written_encoded_escaped_and_in_a_basic_token(
        self, form: str
    ) -> None:
        redact = Redactor(['p@ss w"rd/é'], username="u")

        assert redact(f"before {form} after") == "before •••• after"
