"""Webhook signatures (Events and webhooks §6, §7): Standard Webhooks v1 and the Eryxon scheme.

Pure: standard library only. Secrets are strings; a `whsec_` secret's Standard Webhooks key is
the base64-decoded remainder, any other secret's key is its UTF-8 bytes. The Eryxon key is
always the UTF-8 bytes of the whole string.
"""

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence

PREFIX = "whsec_"
MIN_CLIENT_SECRET = 8
MAX_CLIENT_SECRET = 256
SHORT_SECRET = 24


class SecretFormatError(ValueError):
    """A client-supplied secret breaks §7.2."""


def generate_secret() -> str:
    """`whsec_` + padded standard base64 of 32 CSPRNG bytes (50 characters)."""
    return PREFIX + base64.b64encode(os.urandom(32)).decode("ascii")


def standard_key(secret: str) -> bytes:
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX) :], validate=True)
    return secret.encode("utf-8")


def check_client_secret(secret: object) -> list[str]:
    """Validate a client-supplied secret (§7.2); returns warnings, raises SecretFormatError."""
    if not isinstance(secret, str):
        raise SecretFormatError("secret_key must be a string")
    if not MIN_CLIENT_SECRET <= len(secret) <= MAX_CLIENT_SECRET:
        raise SecretFormatError(
            f"secret_key must be {MIN_CLIENT_SECRET}-{MAX_CLIENT_SECRET} characters"
        )
    if not all(0x21 <= ord(c) <= 0x7E for c in secret):
        raise SecretFormatError("secret_key must be printable ASCII without whitespace")
    if secret.startswith(PREFIX):
        try:
            key = base64.b64decode(secret[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise SecretFormatError(
                "a secret_key starting with whsec_ must be valid base64 after the prefix"
            ) from None
        if not 24 <= len(key) <= 64:
            raise SecretFormatError("a whsec_ secret_key must decode to 24-64 bytes")
        return []
    if len(secret) < SHORT_SECRET:
        return [
            f"secret_key is shorter than {SHORT_SECRET} characters; a generated secret (omit secret_key) is recommended."
        ]
    return []


def standard_signature(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,<base64>` entry per secret, newest first."""
    signed = msg_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    entries = []
    for secret in secrets:
        mac = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
        entries.append("v1," + base64.b64encode(mac).decode("ascii"))
    return " ".join(entries)


def eryxon_signature(secret: str, body: bytes) -> str:
    """`X-Eryxon-Signature`: `sha256=<hex>` over the body with the whole secret string as key."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_headers(
    secrets: Sequence[str], msg_id: str, event_type: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Both signatures for one attempt; `secrets` are current first, then the previous one
    while its overlap lasts. The Eryxon header always uses the newest secret alone."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secrets, msg_id, timestamp, body),
        "X-Eryxon-Event": event_type,
        "X-Eryxon-Signature": eryxon_signature(secrets[0], body),
    }
