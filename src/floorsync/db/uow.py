"""The unit of work: one transaction, owned by the boundary (request, worker iteration, CLI).

Services never commit. Events recorded through `Work.record` are written by the outbox just
before COMMIT; events recorded inside a failed savepoint are dropped with it.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from floorsync.db.repository import TenantScope
from floorsync.kit.clock import Clock
from floorsync.kit.ids import new_id


@dataclass(frozen=True)
class Origin:
    """Where a change came from (`data.origin` of every event)."""

    channel: str = "api"
    api_key_id: uuid.UUID | None = None
    request_id: str | None = None

    def as_dict(self, external_source: str | None) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "external_source": external_source,
            "api_key_id": str(self.api_key_id) if self.api_key_id else None,
            "request_id": self.request_id,
        }


@dataclass
class PendingEvent:
    id: uuid.UUID
    type: str
    entity_type: str
    entity_id: uuid.UUID | None
    data: dict[str, Any]
    # `data` as JSON (db.engine.json_text), when a writer serialised it ahead of the commit
    # while it waited for the database anyway (sync/engine.py); the outbox then writes it as
    # it is. `data` must not change afterwards.
    data_json: str | None = None


def new_event(
    type_: str, entity_type: str, entity_id: uuid.UUID | None, data: dict[str, Any]
) -> PendingEvent:
    return PendingEvent(new_id(), type_, entity_type, entity_id, data)


class EventWriter(Protocol):
    """What writes a unit of work's events just before it commits: the outbox
    (events/outbox.py). A protocol, so the database layer does not import the events above it."""

    clock: Clock

    def write_pending(
        self, session: Session, tenant_id: uuid.UUID, events: list[PendingEvent]
    ) -> object: ...


@dataclass
class Work:
    session: Session
    scope: TenantScope
    clock: Clock
    origin: Origin = field(default_factory=Origin)
    events: list[PendingEvent] = field(default_factory=list)
    discarded: bool = False
    after_commit: list[Any] = field(default_factory=list)
    # `data.origin` per external source: the same for every event of the unit of work.
    _origins: dict[str | None, dict[str, Any]] = field(default_factory=dict, repr=False)

    def record(
        self,
        type_: str,
        entity_type: str,
        entity_id: uuid.UUID | None,
        data: dict[str, Any],
        *,
        external_source: str | None = None,
    ) -> PendingEvent:
        """Buffer an event; `origin` is appended to its data."""
        payload = dict(data)
        origin = self._origins.get(external_source)
        if origin is None:
            origin = self._origins[external_source] = self.origin.as_dict(external_source)
        payload["origin"] = origin
        event = new_event(type_, entity_type, entity_id, payload)
        self.events.append(event)
        return event

    def discard(self) -> None:
        """Roll back instead of committing (dry runs)."""
        self.discarded = True

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction whose events join the buffer only if it is released."""
        mark = len(self.events)
        nested = self.session.begin_nested()
        try:
            yield
            self.session.flush()
            nested.commit()
        except BaseException:
            if nested.is_active:
                nested.rollback()
            del self.events[mark:]
            raise


@contextmanager
def unit_of_work(
    sessions: sessionmaker[Session],
    outbox: EventWriter,
    scope: TenantScope,
    *,
    origin: Origin | None = None,
) -> Iterator[Work]:
    """One transaction: commit on clean exit unless discarded (dry runs), else roll back."""
    work = Work(session=sessions(), scope=scope, clock=outbox.clock, origin=origin or Origin())
    try:
        yield work
        if work.discarded:
            work.session.rollback()
        else:
            work.session.flush()
            outbox.write_pending(work.session, scope.tenant_id, work.events)
            work.session.commit()
            for callback in work.after_commit:
                callback()
    except BaseException:
        work.session.rollback()
        raise
    finally:
        work.session.close()
