"""Signatures (Events and webhooks §6): the spec's worked example, and independent verification
by the `standardwebhooks` and `svix` libraries plus a hand-computed Eryxon HMAC."""

import base64
import hashlib
import hmac
import time

import pytest
import standardwebhooks.webhooks as stdwh
import svix.webhooks as svixwh

from floorsync.webhooks.signing import (
    SecretFormatError,
    check_client_secret,
    eryxon_signature,
    generate_secret,
    signature_headers,
    standard_signature,
)

CURRENT = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
PREVIOUS = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
MSG_ID = "evt_5f0c6a3e9b2d4c1e8a7f6b5d4c3b2a19"
BODY = (
    b'{"id":"evt_5f0c6a3e9b2d4c1e8a7f6b5d4c3b2a19","type":"job.updated","event":"job.updated",'
    b'"timestamp":"2026-01-01T00:00:00.000Z","tenant_id":"7d9f0c1e-2b3a-4c5d-8e6f-0a1b2c3d4e5f","sequence":42,'
    b'"data":{"job":{"id":"0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9","job_number":"J-1001","due_date":"2026-02-01T00:00:00.000Z"},'
    b'"changed_fields":["due_date"],"previous":{"due_date":"2026-01-15T00:00:00.000Z"},'
    b'"origin":{"channel":"sync","external_source":"SAP","api_key_id":"3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b",'
    b'"request_id":"9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"}}}'
)


def verify_all(secret: str | bytes, headers: dict[str, str], body: bytes) -> tuple[bool, bool]:
    """(standardwebhooks verdict, svix verdict)."""
    out = []
    for lib, err in (
        (stdwh.Webhook, stdwh.WebhookVerificationError),
        (svixwh.Webhook, svixwh.WebhookVerificationError),
    ):
        try:
            lib(secret).verify(body, dict(headers))
            out.append(True)
        except err:
            out.append(False)
    return out[0], out[1]


def eryxon_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected, e.strip()) for e in headers["X-Eryxon-Signature"].split(",")
    )


class TestWorkedExample:
    def test_the_body_is_the_specified_550_bytes(self) -> None:
        assert len(BODY) == 550
        assert (
            hashlib.sha256(BODY).hexdigest()
            == "d0af5c3ec7d3c6029af0ab783d15b5a3ec5850553c7dfe33eee71c8df47ad075"
        )

    def test_the_current_secret_reproduces_both_specified_values(self) -> None:
        assert (
            standard_signature([CURRENT], MSG_ID, 1767225600, BODY)
            == "v1,pA0ab6QA1oapEPKIUKrtXj5wAmYMd/itIKTk1ZF54uE="
        )
        assert (
            eryxon_signature(CURRENT, BODY)
            == "sha256=9e4556e674146b55877912034b6ff2b73aac8dd6a390fcfe7d9f9ec19a5ef230"
        )

    def test_during_an_overlap_the_standard_header_has_two_entries_newest_first_and_eryxon_one(
        self,
    ) -> None:
        headers = signature_headers([CURRENT, PREVIOUS], MSG_ID, "job.updated", 1767225600, BODY)
        assert headers["webhook-signature"] == (
            "v1,pA0ab6QA1oapEPKIUKrtXj5wAmYMd/itIKTk1ZF54uE= v1,HbdEDtFQT07cJqnCcHr1j7Qbpi9pzPpUKiJNtDWw4CY="
        )
        assert (
            headers["X-Eryxon-Signature"]
            == "sha256=9e4556e674146b55877912034b6ff2b73aac8dd6a390fcfe7d9f9ec19a5ef230"
        )
        assert headers["X-Eryxon-Event"] == "job.updated"

    def test_the_previous_secret_alone_gives_the_specified_eryxon_value(self) -> None:
        assert (
            eryxon_signature(PREVIOUS, BODY)
            == "sha256=2890c0fd878b4e4851a6835f046f74ddf198aadd6d177942cbd63134bdac3811"
        )


class TestIndependentVerifiers:
    """The six-case set, checked by both libraries (which compare the timestamp with the real clock)."""

    def headers(
        self, secrets: list[str], ts: int | None = None, body: bytes = BODY
    ) -> dict[str, str]:
        return signature_headers(secrets, MSG_ID, "job.updated", ts or int(time.time()), body)

    def test_a_valid_signature_verifies(self) -> None:
        assert verify_all(CURRENT, self.headers([CURRENT]), BODY) == (True, True)
        assert eryxon_ok(CURRENT, self.headers([CURRENT]), BODY)

    def test_several_signatures_with_one_valid_verify(self) -> None:
        assert verify_all(CURRENT, self.headers([PREVIOUS, CURRENT]), BODY) == (True, True)

    def test_a_tampered_body_fails(self) -> None:
        h = self.headers([CURRENT])
        assert verify_all(CURRENT, h, BODY.replace(b"J-1001", b"J-1002")) == (False, False)
        assert not eryxon_ok(CURRENT, h, BODY.replace(b"J-1001", b"J-1002"))

    def test_a_wrong_secret_fails(self) -> None:
        assert verify_all(PREVIOUS, self.headers([CURRENT]), BODY) == (False, False)
        assert not eryxon_ok(PREVIOUS, self.headers([CURRENT]), BODY)

    def test_a_stale_timestamp_fails(self) -> None:
        assert verify_all(CURRENT, self.headers([CURRENT], ts=int(time.time()) - 3600), BODY) == (
            False,
            False,
        )

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_missing_headers_fail(self, missing: str) -> None:
        h = self.headers([CURRENT])
        del h[missing]
        assert verify_all(CURRENT, h, BODY) == (False, False)

    def test_during_rotation_both_secrets_verify_the_standard_header_and_only_the_new_one_eryxon(
        self,
    ) -> None:
        h = self.headers([CURRENT, PREVIOUS])
        assert verify_all(CURRENT, h, BODY) == (True, True)
        assert verify_all(PREVIOUS, h, BODY) == (True, True)
        assert eryxon_ok(CURRENT, h, BODY)
        assert not eryxon_ok(PREVIOUS, h, BODY)

    def test_a_client_secret_without_prefix_verifies_with_its_raw_bytes(self) -> None:
        secret = "my-eryxon-secret-1234567890"
        h = self.headers([secret])
        assert verify_all(secret.encode(), h, BODY) == (True, True)
        assert eryxon_ok(secret, h, BODY)


class TestSecrets:
    def test_generated_secrets_are_whsec_base64_of_32_bytes(self) -> None:
        s = generate_secret()
        assert len(s) == 50
        assert s.startswith("whsec_")
        assert len(base64.b64decode(s[6:])) == 32
        assert generate_secret() != s

    @pytest.mark.parametrize(
        "bad",
        [
            "short",
            "has space in it!",
            "x" * 257,
            "whsec_not*base64",
            "whsec_" + base64.b64encode(b"x" * 10).decode(),
            12345,
        ],
    )
    def test_bad_client_secrets_are_refused(self, bad: object) -> None:
        with pytest.raises(SecretFormatError):
            check_client_secret(bad)

    def test_a_short_client_secret_is_accepted_with_a_warning(self) -> None:
        assert check_client_secret("eight888")
        assert not check_client_secret("a" * 24)
