"""Signed, expiring file-URL tokens (catalogue §2.3).

A token is `<payload>.<signature>`, both base64url without padding:
- `payload` is the compact, key-sorted JSON
  `{"exp":<unix s>,"fid":"<file id>","op":"put"|"get","tid":"<tenant id>","v":1}`;
- `signature` is HMAC-SHA256 over the ASCII of `floorsync.file.` + the encoded payload, keyed with
  HKDF-SHA256(FLOORSYNC_SECRET_KEY, info `floorsync/file-urls/v1`, 32 bytes): a subkey used for
  nothing else, so a file URL can never be replayed as another signed value (or vice versa).

Verification checks, in this order: the shape (two base64url parts, a 32-byte signature), the
signature (constant time, over the payload bytes as received, so nothing unauthenticated is
parsed as JSON), then the payload (exactly those keys, `v` = 1), the operation the route expects
and the expiry (`exp` must still be in the future). Each failure is its own error class, for logs
and tests; the client sees one 403 "Invalid or expired file URL" for all of them.

What a token does *not* carry: the file's type, size limit and state. They come from the
`stored_files` row, looked up by the token's tenant **and** file id, so a token can only ever
reach the one file of the one tenant it was issued for. Single use needs no nonce: every issued
upload URL names a fresh file id, and the row's state machine (`pending` → `uploading` under a
compare-and-set → `stored`) admits one successful PUT per file id; a second PUT finds the row
`stored` (409). Download tokens are deliberately reusable until they expire.

Without FLOORSYNC_SECRET_KEY (development and tests only; production refuses to start) the key
is derived from a fixed public constant, as `kit.secretbox` does: every process sharing the data
agrees on it and URLs survive restarts, but anyone can forge them; `protected` says so.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from floorsync.errors import Forbidden
from floorsync.kit.clock import Clock

_INFO = b"floorsync/file-urls/v1"
_DEV_MATERIAL = b"floorsync-insecure-development-key (set FLOORSYNC_SECRET_KEY)"
_CONTEXT = b"floorsync.file."
_VERSION = 1
_SIGNATURE_BYTES = 32
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_FIELDS = frozenset({"exp", "fid", "op", "tid", "v"})
MESSAGE = "Invalid or expired file URL"


class FileOp(StrEnum):
    put = "put"  # PUT /files/upload/{token}
    get = "get"  # GET|HEAD /files/download/{token}


class InvalidFileToken(Forbidden):
    """403 FORBIDDEN, one message for every cause (§2.3); the subclass says which."""

    reason = "invalid"

    def __init__(self) -> None:
        super().__init__(MESSAGE)


class TokenMalformed(InvalidFileToken):
    reason = "malformed"


class TokenBadSignature(InvalidFileToken):
    reason = "bad_signature"


class TokenWrongOperation(InvalidFileToken):
    reason = "wrong_operation"


class TokenExpired(InvalidFileToken):
    reason = "expired"


@dataclass(frozen=True)
class FileGrant:
    """What a verified token allows: one operation on one tenant's file, until `expires_at`."""

    tenant_id: uuid.UUID
    file_id: uuid.UUID
    op: FileOp
    expires_at: datetime


@dataclass(frozen=True)
class SignedToken:
    token: str
    expires_at: datetime  # the token's exp: what responses report as expires_at / expires_in


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: the base64 decoder skips stray characters and ignores unused trailing bits, so
    only the one canonical spelling of the bytes is accepted (no two tokens for one value)."""
    if not _B64URL.fullmatch(text):
        raise ValueError("not unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(raw) != text:
        raise ValueError("not the canonical encoding")
    return raw


def derive_key(secret_key: str | None) -> bytes:
    material = secret_key.encode("utf-8") if secret_key else _DEV_MATERIAL
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


class FileUrlSigner:
    def __init__(self, secret_key: str | None, clock: Clock) -> None:
        self._key = derive_key(secret_key)
        self._clock = clock
        self.protected = bool(secret_key)

    def issue(
        self, *, tenant_id: uuid.UUID, file_id: uuid.UUID, op: FileOp, ttl_seconds: int
    ) -> SignedToken:
        exp = int(self._clock.now().timestamp()) + ttl_seconds
        payload = {"exp": exp, "fid": str(file_id), "op": op.value, "tid": str(tenant_id), "v": 1}
        encoded = _b64encode(
            json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")
        )
        return SignedToken(
            f"{encoded}.{_b64encode(self._sign(encoded))}", datetime.fromtimestamp(exp, UTC)
        )

    def verify(self, token: str, op: FileOp) -> FileGrant:
        encoded, signature = self._split(token)
        if not hmac.compare_digest(signature, self._sign(encoded)):
            raise TokenBadSignature()
        grant = self._grant(encoded)
        if grant.op is not op:
            raise TokenWrongOperation()
        if self._clock.now() >= grant.expires_at:
            raise TokenExpired()
        return grant

    def _sign(self, encoded_payload: str) -> bytes:
        return hmac.new(
            self._key, _CONTEXT + encoded_payload.encode("ascii"), hashlib.sha256
        ).digest()

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        if not token.isascii() or token.count(".") != 1:
            raise TokenMalformed()
        encoded, sig_text = token.split(".")
        try:
            _b64decode(encoded)
            signature = _b64decode(sig_text)
        except (ValueError, binascii.Error):
            raise TokenMalformed() from None
        if len(signature) != _SIGNATURE_BYTES:
            raise TokenMalformed()
        return encoded, signature

    @staticmethod
    def _grant(encoded: str) -> FileGrant:
        # Only reached with a valid signature, i.e. a payload this key signed; still checked
        # field by field so a change of format can never be misread.
        try:
            payload: Any = json.loads(_b64decode(encoded))
            if not isinstance(payload, dict) or payload.keys() != _FIELDS:
                raise ValueError("unexpected fields")
            if payload["v"] != _VERSION or type(payload["exp"]) is not int:
                raise ValueError("unknown version or expiry")
            return FileGrant(
                tenant_id=uuid.UUID(payload["tid"]),
                file_id=uuid.UUID(payload["fid"]),
                op=FileOp(payload["op"]),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except (ValueError, TypeError, OverflowError, OSError, binascii.Error):
            raise TokenMalformed() from None


def upload_url(base_url: str, token: SignedToken) -> str:
    return f"{base_url.rstrip('/')}/files/upload/{token.token}"


def download_url(base_url: str, token: SignedToken) -> str:
    return f"{base_url.rstrip('/')}/files/download/{token.token}"
