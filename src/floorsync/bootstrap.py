"""The one composition root: `build_services` builds, from Settings, everything the app, the CLI
and the worker share, as a typed `Services` with named fields (Cosmic Python's bootstrap, without
the injection magic). Features receive what they need from it as arguments; nothing installs
itself through module-level hook lists or a string-keyed bag.
"""

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from floorsync.config import Settings
from floorsync.db.engine import make_engine, make_sessionmaker, with_timeouts
from floorsync.events.fanout import make_fanout
from floorsync.events.outbox import Outbox
from floorsync.kit.clock import Clock, SystemClock
from floorsync.kit.secretbox import SecretBox
from floorsync.storage.base import Storage
from floorsync.storage.errors import BackendUnavailable
from floorsync.storage.factory import build_signer, build_storage
from floorsync.storage.tokens import FileUrlSigner
from floorsync.webhooks.config import WebhookKit


@dataclass(frozen=True)
class Services:
    """What an entry point builds once and every request, command and worker thread shares."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    # Writes events and queues their webhook deliveries; after a commit that queued some, it
    # sets `worker_wake`.
    outbox: Outbox
    # Seals values that must be read back (FLOORSYNC_SECRET_KEY): webhook secrets, stored
    # idempotent replies.
    secretbox: SecretBox
    # The webhook feature's settings, DNS resolver and secret box (tests swap the resolver).
    webhooks: WebhookKit
    # Set when a commit queued work; the idle threads of a worker in this process wait on it
    # instead of sleeping for their whole poll interval.
    worker_wake: threading.Event
    # Where uploaded files live (local directory or S3) and the signer of their URLs.
    storage: Storage
    file_signer: FileUrlSigner
    # The other backend, built when a row names it (files written before a switch to S3).
    _backends: dict[str, Storage] = field(default_factory=dict, compare=False, repr=False)

    def storage_of(self, backend: object) -> Storage:
        """The backend a `stored_files` row names (`row.backend`): the configured one, or the
        other one for files written before FLOORSYNC_STORAGE_BACKEND changed. Raises
        BackendUnavailable when that backend is not configured (S3 without a bucket)."""
        name = str(getattr(backend, "value", backend))
        if name == self.storage.backend:
            return self.storage
        if name not in self._backends:
            if name == "s3" and self.settings.s3_bucket is None:
                raise BackendUnavailable("the file is on s3, but FLOORSYNC_S3_BUCKET is not set")
            self._backends[name] = build_storage(self.settings, "s3" if name == "s3" else "local")
        return self._backends[name]

    def close(self) -> None:
        """Dispose of the database engine's connections."""
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    secretbox = SecretBox(key)
    wake = threading.Event()
    return Services(
        settings=settings,
        sessions=with_timeouts(
            make_sessionmaker(
                make_engine(
                    settings.database_url,
                    pool_size=settings.db_pool_size,
                    max_overflow=settings.db_max_overflow,
                    pool_timeout=settings.db_pool_timeout_seconds,
                )
            ),
            lock_ms=settings.db_lock_timeout_ms,
            statement_ms=settings.db_statement_timeout_ms,
        ),
        clock=clock,
        outbox=Outbox(clock, [make_fanout(wake.set)]),
        secretbox=secretbox,
        webhooks=WebhookKit.from_settings(settings, secretbox),
        worker_wake=wake,
        storage=build_storage(settings),
        file_signer=build_signer(settings, clock),
    )
