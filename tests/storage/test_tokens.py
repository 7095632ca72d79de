"""Signed file-URL tokens (catalogue §2.3): the wire format, expiry under a fake clock, and every
way a token can be wrong."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest

from floorsync.config import Settings
from floorsync.kit.clock import FakeClock
from floorsync.kit.ids import new_id
from floorsync.storage.factory import build_signer
from floorsync.storage.tokens import (
    FileOp,
    FileUrlSigner,
    InvalidFileToken,
    TokenBadSignature,
    TokenExpired,
    TokenMalformed,
    TokenWrongOperation,
    derive_key,
    download_url,
    upload_url,
)

SECRET = "correct horse battery staple"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_by_hand(payload: dict[str, object], secret: str | None = SECRET) -> str:
    """A token built from the spec's description alone, not from the signer."""
    encoded = b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    signature = hmac.new(
        derive_key(secret), b"floorsync.file." + encoded.encode(), hashlib.sha256
    ).digest()
    return f"{encoded}.{b64(signature)}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 8, 15, 0, 400_000, tzinfo=UTC))


@pytest.fixture
def signer(clock: FakeClock) -> FileUrlSigner:
    return FileUrlSigner(SECRET, clock)


class TestWireFormat:
    def test_the_payload_is_compact_sorted_json_with_expiry_file_operation_tenant_and_version(
        self, signer: FileUrlSigner
    ) -> None:
        tenant, file_id = new_id(), new_id()
        signed = signer.issue(tenant_id=tenant, file_id=file_id, op=FileOp.put, ttl_seconds=900)
        encoded, _signature = signed.token.split(".")
        exp = int(datetime(2026, 3, 1, 8, 30, 0, tzinfo=UTC).timestamp())
        assert unb64(encoded).decode() == (
            f'{{"exp":{exp},"fid":"{file_id}","op":"put","tid":"{tenant}","v":1}}'
        )
        assert "=" not in signed.token
        assert signed.expires_at == datetime(2026, 3, 1, 8, 30, 0, tzinfo=UTC)
        assert signed.token == signed_by_hand(
            {"exp": exp, "fid": str(file_id), "op": "put", "tid": str(tenant), "v": 1}
        )

    def test_the_signing_key_is_hkdf_of_the_secret_key_with_the_file_url_info(self) -> None:
        # RFC 5869 HKDF-SHA256 with no salt, written out with hmac to check the derivation.
        prk = hmac.new(b"\x00" * 32, SECRET.encode(), hashlib.sha256).digest()
        okm = hmac.new(prk, b"floorsync/file-urls/v1\x01", hashlib.sha256).digest()
        assert derive_key(SECRET) == okm

    def test_a_verified_token_grants_one_operation_on_one_tenants_file(
        self, signer: FileUrlSigner
    ) -> None:
        tenant, file_id = new_id(), new_id()
        signed = signer.issue(tenant_id=tenant, file_id=file_id, op=FileOp.get, ttl_seconds=60)
        grant = signer.verify(signed.token, FileOp.get)
        assert (grant.tenant_id, grant.file_id, grant.op, grant.expires_at) == (
            tenant,
            file_id,
            FileOp.get,
            signed.expires_at,
        )

    def test_urls_put_the_token_under_the_upload_and_download_routes(
        self, signer: FileUrlSigner
    ) -> None:
        signed = signer.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.put, ttl_seconds=60)
        base = "https://floorsync.example.com/"
        assert (
            upload_url(base, signed) == f"https://floorsync.example.com/files/upload/{signed.token}"
        )
        assert download_url(base, signed) == (
            f"https://floorsync.example.com/files/download/{signed.token}"
        )


class TestExpiry:
    def test_a_token_works_until_its_expiry_and_not_at_it(
        self, signer: FileUrlSigner, clock: FakeClock
    ) -> None:
        signed = signer.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.put, ttl_seconds=900)
        clock.advance(899.5)  # 08:29:59.9
        signer.verify(signed.token, FileOp.put)
        clock.advance(0.1)  # 08:30:00.0 = exp
        with pytest.raises(TokenExpired) as raised:
            signer.verify(signed.token, FileOp.put)
        assert (raised.value.status_code, raised.value.code, raised.value.message) == (
            403,
            "FORBIDDEN",
            "Invalid or expired file URL",
        )

    def test_an_expired_token_is_refused_even_with_a_valid_signature(
        self, signer: FileUrlSigner, clock: FakeClock
    ) -> None:
        past = int(clock.now().timestamp()) - 1
        token = signed_by_hand(
            {"exp": past, "fid": str(new_id()), "op": "get", "tid": str(new_id()), "v": 1}
        )
        with pytest.raises(TokenExpired):
            signer.verify(token, FileOp.get)


class TestTampering:
    def test_changing_any_field_of_the_payload_breaks_the_signature(
        self, signer: FileUrlSigner
    ) -> None:
        tenant, file_id = new_id(), new_id()
        signed = signer.issue(tenant_id=tenant, file_id=file_id, op=FileOp.get, ttl_seconds=60)
        encoded, signature = signed.token.split(".")
        payload = json.loads(unb64(encoded))
        changes = {
            "tid": str(new_id()),  # another tenant
            "fid": str(new_id()),  # another file
            "exp": payload["exp"] + 86_400,  # a longer life
            "op": "put",  # another purpose
        }
        for field, value in changes.items():
            forged = dict(payload, **{field: value})
            encoded_forged = b64(json.dumps(forged, sort_keys=True, separators=(",", ":")).encode())
            with pytest.raises(TokenBadSignature):
                signer.verify(f"{encoded_forged}.{signature}", FileOp(forged["op"]))

    def test_a_flipped_signature_bit_is_refused(self, signer: FileUrlSigner) -> None:
        signed = signer.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.get, ttl_seconds=60)
        encoded, signature = signed.token.split(".")
        raw = bytearray(unb64(signature))
        raw[-1] ^= 1
        with pytest.raises(TokenBadSignature):
            signer.verify(f"{encoded}.{b64(bytes(raw))}", FileOp.get)

    def test_a_token_signed_with_another_secret_key_is_refused(
        self, signer: FileUrlSigner, clock: FakeClock
    ) -> None:
        other = FileUrlSigner("another deployment's key", clock)
        signed = other.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.get, ttl_seconds=60)
        with pytest.raises(TokenBadSignature):
            signer.verify(signed.token, FileOp.get)

    def test_an_upload_token_does_not_download_and_a_download_token_does_not_upload(
        self, signer: FileUrlSigner
    ) -> None:
        put = signer.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.put, ttl_seconds=60)
        get = signer.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.get, ttl_seconds=60)
        with pytest.raises(TokenWrongOperation):
            signer.verify(put.token, FileOp.get)
        with pytest.raises(TokenWrongOperation):
            signer.verify(get.token, FileOp.put)

    def test_a_token_names_its_tenant_so_it_never_reaches_another_tenants_file(
        self, signer: FileUrlSigner
    ) -> None:
        # Rows are looked up by the grant's tenant *and* file id: a file id of tenant B in a token
        # issued for tenant A finds nothing, and A's tenant id cannot be swapped for B's (above).
        tenant_a, tenant_b, file_of_b = new_id(), new_id(), new_id()
        signed = signer.issue(tenant_id=tenant_a, file_id=file_of_b, op=FileOp.get, ttl_seconds=60)
        grant = signer.verify(signed.token, FileOp.get)
        assert grant.tenant_id == tenant_a != tenant_b

    @pytest.mark.parametrize(
        "token",
        [
            "",
            ".",
            "abc",
            "a.b.c",
            "payload.",
            ".signature",
            "not base64!.AAAA",
            "e30.AAAA",  # a signature that is not 32 bytes
            "e30=." + "A" * 43,  # padding
            "é.é",
        ],
    )
    def test_a_token_of_the_wrong_shape_is_malformed(
        self, signer: FileUrlSigner, token: str
    ) -> None:
        with pytest.raises(TokenMalformed):
            signer.verify(token, FileOp.get)

    def test_a_second_spelling_of_the_same_signature_bytes_is_malformed(
        self, signer: FileUrlSigner
    ) -> None:
        signed = signer.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.get, ttl_seconds=60)
        encoded, signature = signed.token.split(".")
        # 32 bytes = 43 base64 characters whose last one carries 2 unused bits: flipping them
        # decodes to the same bytes with a lax decoder.
        last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        index = last.index(signature[-1])
        twin = signature[:-1] + last[index ^ 1]
        assert unb64(twin) == unb64(signature)
        with pytest.raises(TokenMalformed):
            signer.verify(f"{encoded}.{twin}", FileOp.get)

    @pytest.mark.parametrize(
        "payload",
        [
            {"exp": 4_000_000_000, "fid": "x", "op": "get", "tid": str(uuid.uuid4()), "v": 1},
            {"exp": 4_000_000_000, "fid": str(uuid.uuid4()), "op": "get", "tid": str(uuid.uuid4()), "v": 2},
            {"exp": "4000000000", "fid": str(uuid.uuid4()), "op": "get", "tid": str(uuid.uuid4()), "v": 1},
            {"exp": 4_000_000_000, "fid": str(uuid.uuid4()), "op": "delete", "tid": str(uuid.uuid4()), "v": 1},
            {"exp": 4_000_000_000, "fid": str(uuid.uuid4()), "op": "get", "v": 1},
            {"exp": 4_000_000_000, "fid": str(uuid.uuid4()), "op": "get", "tid": str(uuid.uuid4()), "v": 1, "max": 9},
        ],
    )  # fmt: skip
    def test_a_signed_payload_this_version_does_not_understand_is_malformed(
        self, signer: FileUrlSigner, payload: dict[str, object]
    ) -> None:
        with pytest.raises(TokenMalformed):
            signer.verify(signed_by_hand(payload), FileOp.get)

    def test_every_failure_is_one_forbidden_error_with_one_message(self) -> None:
        kinds = [TokenMalformed, TokenBadSignature, TokenWrongOperation, TokenExpired]
        assert {k.reason for k in kinds} == {
            "malformed",
            "bad_signature",
            "wrong_operation",
            "expired",
        }
        for kind in kinds:
            error = kind()
            assert isinstance(error, InvalidFileToken)
            assert (error.status_code, error.message) == (403, "Invalid or expired file URL")


class TestKeys:
    def test_without_a_secret_key_tokens_use_the_public_development_key_and_say_so(
        self, clock: FakeClock
    ) -> None:
        dev_a, dev_b = FileUrlSigner(None, clock), FileUrlSigner(None, clock)
        assert not dev_a.protected
        assert FileUrlSigner(SECRET, clock).protected
        signed = dev_a.issue(tenant_id=new_id(), file_id=new_id(), op=FileOp.get, ttl_seconds=60)
        dev_b.verify(signed.token, FileOp.get)  # another process without a key agrees
        with pytest.raises(TokenBadSignature):
            FileUrlSigner(SECRET, clock).verify(signed.token, FileOp.get)

    def test_the_file_url_key_is_not_the_secret_key_nor_another_purposes_subkey(self) -> None:
        from floorsync.kit.secretbox import _derive as secretbox_derive

        assert derive_key(SECRET) != SECRET.encode()
        assert derive_key(SECRET) != secretbox_derive(SECRET.encode())
        assert derive_key(SECRET) != derive_key(SECRET + " ")

    def test_the_signer_is_built_from_the_settings_secret_key(self, clock: FakeClock) -> None:
        settings = Settings(environment="test", secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
        signed = build_signer(settings, clock).issue(
            tenant_id=new_id(), file_id=new_id(), op=FileOp.get, ttl_seconds=60
        )
        FileUrlSigner(SECRET, clock).verify(signed.token, FileOp.get)
