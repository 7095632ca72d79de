"""Build the configured backend and signer from the settings (called by the composition root)."""

from floorsync.config import Settings
from floorsync.kit.clock import Clock
from floorsync.storage.base import BackendName, Storage
from floorsync.storage.local import LocalStorage
from floorsync.storage.tokens import FileUrlSigner


def build_storage(settings: Settings, backend: BackendName | None = None) -> Storage:
    """The configured backend, or the one named: rows record their backend, so files written
    before a switch to S3 are still read from the local directory until they are migrated."""
    if (backend or settings.storage_backend) == "s3":
        from floorsync.storage.s3 import S3Storage  # boto3 is the optional `floorsync[s3]` extra

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.storage_local_root)


def build_signer(settings: Settings, clock: Clock) -> FileUrlSigner:
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    return FileUrlSigner(key, clock)
