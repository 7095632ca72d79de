"""`floorsync worker [--once]` and `floorsync webhooks list | enable | replay | recover`."""

import uuid
from typing import Annotated, Any

import typer

from floorsync.bootstrap import Services, build_services
from floorsync.config import get_settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.db.uow import Origin, unit_of_work
from floorsync.errors import FloorsyncError
from floorsync.models.webhooks import Webhook

webhooks_app = typer.Typer(
    help="Webhook endpoints: list, enable, replay, recover", no_args_is_help=True
)
TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant name, slug or id")]


def _services() -> Services:
    return build_services(get_settings())


def worker_command(
    once: Annotated[
        bool,
        typer.Option("--once", help="run the upkeep that is due and the work due now, and exit"),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(help="delivery threads (default FLOORSYNC_WORKER_DELIVERY_THREADS)"),
    ] = None,
) -> None:
    """Run the background worker: webhook deliveries with retries, the job kinds of
    FLOORSYNC_WORKER_PLUGINS, and the periodic upkeep (expiry, retention), each run at most once
    per interval across all workers. Stops cleanly on SIGTERM/SIGINT (the unit in flight is
    finished and recorded)."""
    from floorsync.cli.startup import prepare
    from floorsync.ops.logs import configure
    from floorsync.webhooks.tasks import DELIVERY
    from floorsync.worker.runner import WorkerRunner

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    prepare(settings)  # exit 2 on an unmigrated database; metrics shared with the API
    runner = WorkerRunner(
        _services(), threads=None if threads is None else {DELIVERY.name: threads}
    )
    if once:
        done = runner.run_once()
        typer.echo(f"delivered {done.pop(DELIVERY.name, 0)} batch(es)")
        for name, units in done.items():
            typer.echo(f"{name}: ran {units} job(s)")
        return
    runner.run_until_signalled()


def _scope(services: Services, tenant: str) -> TenantScope:
    from floorsync.cli.common import tenant_or_exit

    with services.sessions() as session:
        return TenantScope(tenant_or_exit(session, tenant).id)


def _run(services: Services, scope: TenantScope, fn: Any) -> Any:
    try:
        with unit_of_work(
            services.sessions, services.outbox, scope, origin=Origin(channel="cli")
        ) as work:
            return fn(work)
    except FloorsyncError as exc:
        from floorsync.cli.accounts import fail

        raise fail(exc) from None  # the message and one line per field detail


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        typer.echo(f"not a webhook id: {value}", err=True)
        raise typer.Exit(2) from None


@webhooks_app.command("list")
def list_webhooks(tenant: TenantOpt) -> None:
    """The tenant's endpoints with their health."""
    services = _services()
    scope = _scope(services, tenant)
    with services.sessions() as session:
        hooks = list(session.scalars(scoped(Webhook, scope).order_by(Webhook.created_at)))
        if not hooks:
            typer.echo(f"tenant {tenant} has no webhook endpoints (create one: POST /api-webhooks)")
        for hook in hooks:
            state = (
                "active"
                if hook.active
                else f"disabled ({hook.disabled_reason.value if hook.disabled_reason else '?'})"
            )
            typer.echo(
                f"{hook.id}  {state:<20} failures={hook.consecutive_failures:<3} {hook.url}  {','.join(hook.events)}"
            )


@webhooks_app.command("enable")
def enable(webhook_id: str, tenant: TenantOpt) -> None:
    """Re-enable a disabled endpoint."""
    from floorsync.webhooks import service

    services = _services()
    scope = _scope(services, tenant)
    kit = services.webhooks
    _run(
        services,
        scope,
        lambda w: service.enable_webhook(
            w, kit, service.get_webhook(w.session, scope, _id(webhook_id), for_update=True)
        ),
    )
    typer.echo("enabled")


@webhooks_app.command("replay")
def replay(webhook_id: str, event_id: str, tenant: TenantOpt) -> None:
    """Queue one event (evt_…) for the endpoint again."""
    from floorsync.webhooks import service

    services = _services()
    scope = _scope(services, tenant)
    out = _run(
        services,
        scope,
        lambda w: service.replay_event(
            w,
            service.get_webhook(w.session, scope, _id(webhook_id), for_update=True),
            {"event_id": event_id},
        ),
    )
    typer.echo(f"queued {out['queued']}")


@webhooks_app.command("recover")
def recover(
    webhook_id: str,
    tenant: TenantOpt,
    since: Annotated[str, typer.Option(help="start of the window (timestamp)")],
    until: Annotated[str | None, typer.Option(help="end of the window (exclusive)")] = None,
    include_missing: Annotated[
        bool, typer.Option("--include-missing", help="also queue events that never had a delivery")
    ] = False,
) -> None:
    """Re-queue failed (and with --include-missing, missed) deliveries of a time window."""
    from floorsync.webhooks import service

    services = _services()
    scope = _scope(services, tenant)
    body: dict[str, Any] = {"since": since, "include_missing": include_missing}
    if until:
        body["until"] = until
    out = _run(
        services,
        scope,
        lambda w: service.recover(
            w, service.get_webhook(w.session, scope, _id(webhook_id), for_update=True), body
        ),
    )
    typer.echo(f"queued {out['queued']}{' (more remain: run again)' if out['more'] else ''}")
