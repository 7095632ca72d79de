"""Pure rules: the retry schedule with jitter, Retry-After, and the SSRF guard (Events and
webhooks §5.4, §8) driven by a dict-backed resolver."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from floorsync.kit.netguard import (
    NetguardRefusal,
    ResolveError,
    StaticResolver,
    check_url,
    resolve_for_connect,
    target_from_url,
)
from floorsync.webhooks.schedule import Schedule, after_failure, parse_delays, parse_retry_after

DEFAULT = parse_delays("5,300,1800,7200,18000,36000,50400,72000,86400")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class TestSchedule:
    def test_ten_attempts_each_wait_inside_its_jitter_window_then_exhausted(self) -> None:
        schedule, rng, now = Schedule(DEFAULT), random.Random(1), T0
        for attempt, nominal in enumerate(DEFAULT, start=1):
            step = after_failure(schedule, attempt, now, T0, rng)
            assert step.at is not None
            wait = (step.at - now).total_seconds()
            assert 0.8 * nominal <= wait <= 1.2 * nominal
            now = step.at
        assert after_failure(schedule, 10, now, T0, rng).failure == "exhausted"
        assert 60.5 * 3600 <= (now - T0).total_seconds() <= 90.7 * 3600

    def test_a_retry_past_the_max_age_expires_instead(self) -> None:
        step = after_failure(
            Schedule(DEFAULT), 9, T0 + timedelta(days=3, hours=23), T0, random.Random(1)
        )
        assert step.at is None
        assert step.failure == "expired"

    def test_retry_after_delays_the_next_attempt_but_never_shortens_it(self) -> None:
        step = after_failure(Schedule(DEFAULT), 1, T0, T0, random.Random(1), timedelta(minutes=10))
        assert step.at == T0 + timedelta(minutes=10)
        step = after_failure(Schedule(DEFAULT), 2, T0, T0, random.Random(1), timedelta(seconds=1))
        assert step.at is not None
        assert step.at - T0 >= timedelta(minutes=4)
        step = after_failure(Schedule(DEFAULT), 1, T0, T0, random.Random(1), timedelta(days=3))
        assert step.at == T0 + timedelta(hours=24)

    def test_retry_after_parses_seconds_and_http_dates(self) -> None:
        assert parse_retry_after("120", T0) == timedelta(seconds=120)
        assert parse_retry_after("Sun, 01 Mar 2026 08:01:00 GMT", T0) == timedelta(minutes=1)
        assert parse_retry_after("soon", T0) is None
        assert parse_retry_after(None, T0) is None

    def test_retry_after_values_a_receiver_makes_up_never_raise(self) -> None:
        assert parse_retry_after("9" * 30, T0) == timedelta(hours=24)
        assert parse_retry_after("9" * 5000, T0) == timedelta(hours=24)
        assert parse_retry_after("100000", T0) == timedelta(hours=24)
        assert (
            parse_retry_after("\xb2", T0) is None
        )  # a latin-1 header byte that str.isdigit() accepts


RESOLVER = StaticResolver(
    {
        "erp.example.com": ["93.184.216.34"],
        "loopy.example.com": ["127.0.0.1"],
        "mixed.example.com": ["93.184.216.34", "10.0.0.5"],
    }
)


def constraint(url: str, allow_private: bool = False) -> str | None:
    try:
        check_url(url, RESOLVER, allow_private=allow_private)
    except NetguardRefusal as refusal:
        return refusal.constraint
    return None


class TestSsrfGuard:
    @pytest.mark.parametrize(
        "host",
        [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "0x7f.0.0.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "[64:ff9b::7f00:1]",
            "[2002:7f00:1::]",
            "169.254.169.254",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "[fc00::1]",
            "[fe80::1]",
            "224.0.0.1",
            "localhost",
            "api.localhost",
            "loopy.example.com",
            "mixed.example.com",
            "0.0.0.0",
        ],
    )
    def test_non_public_targets_are_refused(self, host: str) -> None:
        assert constraint(f"https://{host}/hook") == "PRIVATE_ADDRESS"

    def test_a_public_https_target_passes_and_http_needs_https(self) -> None:
        assert constraint("https://erp.example.com/hooks?x=1") is None
        assert constraint("https://93.184.216.34/") is None
        assert constraint("http://erp.example.com/hook") == "HTTPS_REQUIRED"
        assert constraint("http://erp.example.com/hook", allow_private=True) == "HTTPS_REQUIRED"

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://user:pw@erp.example.com/", "CREDENTIALS_IN_URL"),
            ("https://erp.example.com/#frag", "URL_FORMAT"),
            ("ftp://erp.example.com/", "URL_FORMAT"),
            ("not a url", "URL_FORMAT"),
            ("https:///nohost", "URL_FORMAT"),
            ("https://erp.example.com/" + "a" * 2100, "URL_FORMAT"),
        ],
    )
    def test_url_format_rules(self, url: str, expected: str) -> None:
        assert constraint(url) == expected

    def test_an_internationalised_name_is_judged_and_sent_as_its_a_label(self) -> None:
        resolver = StaticResolver(
            {"xn--bcher-kva.example": ["93.184.216.34"], "xn--lokal-kra.example": ["10.0.0.7"]}
        )
        target = check_url("https://Bücher.example/hook", resolver, allow_private=False)
        assert (target.host, target.host_header, target.warnings) == (
            "xn--bcher-kva.example",
            "xn--bcher-kva.example",
            (),
        )
        with pytest.raises(NetguardRefusal) as refused:
            check_url("https://lokal\u00e4.example/hook", resolver, allow_private=False)
        assert refused.value.constraint == "PRIVATE_ADDRESS"
        assert constraint("https://b\u00fccher..example/") == "URL_FORMAT"

    def test_an_unresolvable_name_is_accepted_with_a_warning(self) -> None:
        target = check_url("https://plant-erp.internal/hook", RESOLVER, allow_private=False)
        assert target.warnings

    def test_allow_private_admits_loopback_over_http_but_never_metadata(self) -> None:
        assert constraint("http://127.0.0.1:8080/hook", allow_private=True) is None
        assert constraint("http://localhost:8080/hook", allow_private=True) is None
        assert constraint("http://169.254.169.254/latest", allow_private=True) == "PRIVATE_ADDRESS"
        assert constraint("http://[fd00:ec2::254]/", allow_private=True) == "PRIVATE_ADDRESS"
        assert (
            constraint("http://[::ffff:169.254.169.254]/", allow_private=True) == "PRIVATE_ADDRESS"
        )

    def test_a_name_that_rebinds_to_a_private_address_is_refused_at_connect_time(self) -> None:
        resolver = StaticResolver({"erp.example.com": ["93.184.216.34"]})
        target = check_url("https://erp.example.com/hook", resolver, allow_private=False)
        resolver.names["erp.example.com"] = ["10.1.2.3"]
        with pytest.raises(NetguardRefusal):
            resolve_for_connect(target, resolver, allow_private=False)

    def test_connect_time_pins_a_checked_address(self) -> None:
        target = target_from_url("https://erp.example.com:8443/h")
        assert str(resolve_for_connect(target, RESOLVER, allow_private=False)) == "93.184.216.34"
        assert target.host_header == "erp.example.com:8443"
        with pytest.raises(ResolveError):
            resolve_for_connect(
                target_from_url("https://nowhere.example/h"), RESOLVER, allow_private=False
            )
