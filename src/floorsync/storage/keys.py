"""Storage keys: where a file's bytes live, made only of server-generated UUIDs.

A key is `<tenant id>/<file id>` (catalogue §2.1). No client string (filename, job number, path)
ever reaches a file-system path or an S3 key, so path traversal is impossible by construction;
the type enforces it: it holds two `uuid.UUID` values, and parsing a stored key accepts nothing
but two canonical lower-case UUIDs separated by one slash.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Self

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY = re.compile(rf"({_UUID})/({_UUID})")


@dataclass(frozen=True, slots=True)
class StorageKey:
    tenant_id: uuid.UUID
    file_id: uuid.UUID

    def __post_init__(self) -> None:
        # A str that merely looks like a UUID is refused too: only parsed UUIDs make a key.
        if type(self.tenant_id) is not uuid.UUID or type(self.file_id) is not uuid.UUID:
            raise TypeError("a StorageKey is made of uuid.UUID values only")

    @classmethod
    def parse(cls, text: str) -> Self:
        """The key stored in `stored_files.storage_key`; anything else is a ValueError."""
        match = _KEY.fullmatch(text)
        if match is None:
            raise ValueError(f"not a storage key: {text!r}")
        return cls(uuid.UUID(match[1]), uuid.UUID(match[2]))

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.file_id}"

    @property
    def shard(self) -> str:
        """Two hex digits that spread a tenant's files over 256 directories.

        The spec (§2.2) names the *first* two hex digits of the file id, but file ids are UUIDv7,
        whose first digits are a millisecond timestamp: every file of the next decades would land
        in one directory. The last two digits are random, so they spread the files evenly.
        """
        return self.file_id.hex[-2:]
