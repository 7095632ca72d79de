"""Secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from FLOORSYNC_SECRET_KEY.

Used for webhook signing secrets and planning credentials: values that must be read back, so
they can't be hashed. A sealed value is `version byte ‖ 12-byte nonce ‖ ciphertext+tag`, and
the caller's `context` (e.g. `b"webhook:<id>"`) is bound as associated data, so a ciphertext
copied onto another row does not open.

Key versions:
  0x01  derived from FLOORSYNC_SECRET_KEY (required in production; the settings refuse to start
        without it).
  0x00  development/test only, when no key is set: derived from a fixed, public constant. It
        keeps the code path identical (and lets every process that shares a database open the
        values) but protects nothing; `floorsync demo` users should set a key. Values sealed
        this way still open after a key is configured later; new values use the real key.
"""

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"floorsync secretbox v1"
_DEV_MATERIAL = b"floorsync-insecure-development-key (set FLOORSYNC_SECRET_KEY)"
_NONCE = 12


class SecretBoxError(Exception):
    """A sealed value could not be opened (wrong key, wrong context or tampered)."""


def _derive(material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


class SecretBox:
    def __init__(self, secret_key: str | None) -> None:
        self._keys: dict[int, AESGCM] = {0: AESGCM(_derive(_DEV_MATERIAL))}
        self._current = 0
        if secret_key:
            self._keys[1] = AESGCM(_derive(secret_key.encode("utf-8")))
            self._current = 1

    @property
    def protected(self) -> bool:
        """False while values are sealed with the public development key."""
        return self._current != 0

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return (
            bytes([self._current])
            + nonce
            + self._keys[self._current].encrypt(nonce, plaintext, context)
        )

    def open(self, sealed: bytes, context: bytes) -> bytes:
        if len(sealed) < 1 + _NONCE + 16 or sealed[0] not in self._keys:
            raise SecretBoxError("sealed value has an unknown format or key version")
        try:
            return self._keys[sealed[0]].decrypt(
                sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], context
            )
        except Exception as exc:  # cryptography raises InvalidTag
            raise SecretBoxError("sealed value does not open with this key") from exc
