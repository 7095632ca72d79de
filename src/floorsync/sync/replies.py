"""How the sync endpoints answer a run of the sync service: 200 with the payload their `render`
builds from the outcome, stored for idempotent replay in the unit of work that ends the run."""

from collections.abc import Callable
from typing import Any

from fastapi.responses import Response

from floorsync.db.uow import Work
from floorsync.http.context import Ctx
from floorsync.models.enums import SyncTrigger
from floorsync.sync.options import SyncOptions
from floorsync.sync.service import Sections, SyncOutcome, run_sync

Render = Callable[[SyncOutcome], dict[str, Any]]


def respond_with_sync(
    ctx: Ctx,
    sections: Sections,
    options: SyncOptions,
    *,
    trigger: SyncTrigger,
    channel: str,
    render: Render,
    source_label: str | None = None,
) -> Response:
    replies: list[Response] = []

    def reply(work: Work, outcome: SyncOutcome) -> None:
        replies.append(ctx.respond(render(outcome), 200, work))

    run_sync(
        lambda: ctx.work(channel),
        sections,
        options,
        trigger=trigger,
        source_label=source_label,
        before_commit=reply,
    )
    return replies[-1]
