"""`floorsync planning …`: planning connections (spec §5.5), pulls and the push queue.

    floorsync planning connections add|list|show|test|set|pause|resume|remove
    floorsync planning pull CONNECTION [--full] [--dry-run]
    floorsync planning push CONNECTION --order ID (--start | --complete --good N [--scrap N]) [--at ISO]
    floorsync planning pushes list|retry CONNECTION

Every command takes `--tenant`; `CONNECTION` is the connection's id or name; `--json` prints one
JSON object instead of tables. Exit codes: 0 success, 1 the remote operation failed (the message
names the error kind), 2 usage or validation error. The credential is read from a hidden prompt,
from stdin (`--credential-stdin`) or from a named environment variable (`--credential-env VAR`),
never from an argument (it would end up in the shell history and the process list), and it is
never printed: `••••` plus the last 4 characters of an API key, nothing of a password.
"""

import json
import os
import sys
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func

from floorsync.bootstrap import Services, build_services
from floorsync.cli.common import tenant_or_exit
from floorsync.config import get_settings
from floorsync.db.repository import TenantScope, scoped
from floorsync.kit.timefmt import format_ts, parse_ts
from floorsync.models.enums import DeliveryStatus, PlanningPushKind, PlanningTrigger, RunStatus
from floorsync.models.planning import PlanningPush, PlanningRun
from floorsync.planning.connections import (
    ConnectionExists,
    ConnectionInvalid,
    ConnectionNotFound,
    change_connection,
    config_of,
    create_connection,
    describe,
    find_connection,
    list_connections,
    record_test,
    remove_connection,
)
from floorsync.planning.pushes import push_now, retry_failed
from floorsync.planning.runtime import redactor_for
from floorsync.planning.service import pull, release_pull_lease, take_pull_lease
from floorsync.planning.tasks import planning_deps, pull_lease

planning_app = typer.Typer(
    help="Planning systems (FrePPLe, Odoo MRP): connections, pulls, pushes", no_args_is_help=True
)
connections_app = typer.Typer(help="Planning connections of a tenant", no_args_is_help=True)
pushes_app = typer.Typer(help="The push queue of a connection", no_args_is_help=True)
planning_app.add_typer(connections_app, name="connections")
planning_app.add_typer(pushes_app, name="pushes")

TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant name, slug or id")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
ConnArg = Annotated[str, typer.Argument(help="connection id or name")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="a setting KEY=VALUE (VALUE as JSON, else as text); repeatable"),
]
console = Console()


def _services() -> Services:
    return build_services(get_settings())


def _scope(services: Services, tenant: str) -> TenantScope:
    with services.sessions() as session:
        return TenantScope(tenant_or_exit(session, tenant).id)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _invalid(exc: ConnectionInvalid, as_json: bool) -> typer.Exit:
    if as_json:
        typer.echo(json.dumps({"ok": False, "errors": exc.problems}))
    else:
        for problem in exc.problems:
            typer.echo(f"{problem['field']}: {problem['message']}", err=True)
    return typer.Exit(2)


def _settings(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise _fail(f"--set {pair!r}: expected KEY=VALUE", 2)
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out[key.strip()] = value
    return out


def _credential(stdin: bool, env: str | None, *, prompt: bool) -> str | None:
    if stdin and env:
        raise _fail("use --credential-stdin or --credential-env, not both", 2)
    if stdin:
        return sys.stdin.readline().rstrip("\r\n") or None
    if env:
        value = os.environ.get(env)
        if not value:
            raise _fail(f"environment variable {env} is not set", 2)
        return value
    if prompt:
        return str(typer.prompt("Password or API key", hide_input=True))
    return None


def _connection(services: Services, scope: TenantScope, ident: str) -> uuid.UUID:
    with services.sessions() as session:
        try:
            return find_connection(session, scope, ident).id
        except ConnectionNotFound as exc:
            raise _fail(str(exc), 2) from None


def _print(data: dict[str, Any], as_json: bool, title: str = "") -> None:
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    table = Table(title=title or None, show_header=False)
    for key, value in data.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else str(value)
        table.add_row(key, shown)
    console.print(table)


def _test(services: Services, scope: TenantScope, connection_id: uuid.UUID) -> dict[str, Any]:
    deps = planning_deps(services)
    with services.sessions() as session:
        config = config_of(find_connection(session, scope, str(connection_id)), deps.secretbox)
    with deps.adapters(config) as adapter:
        check = adapter.test_connection()
    redact = redactor_for(config)
    with services.sessions.begin() as session:
        row = find_connection(session, scope, str(connection_id))
        record_test(row, check, services.clock.now())
        if row.last_error:
            row.last_error = redact(row.last_error)
    return {
        "ok": check.ok,
        "system": check.system.value,
        "server_version": check.server_version,
        "capabilities": sorted(check.capabilities),
        "error_kind": check.error_kind.value if check.error_kind else None,
        "message": redact(check.message),
        "elapsed_ms": check.elapsed_ms,
    }


# ------------------------------------------------------------------------------ connections


@connections_app.command("add")
def add_command(
    tenant: TenantOpt,
    system: Annotated[str, typer.Option("--system", help="frepple or odoo")],
    base_url: Annotated[str, typer.Option("--base-url")],
    auth: Annotated[str, typer.Option("--auth", help="basic or api_key")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    username: Annotated[str | None, typer.Option("--username")] = None,
    credential_stdin: Annotated[bool, typer.Option("--credential-stdin")] = False,
    credential_env: Annotated[str | None, typer.Option("--credential-env")] = None,
    set_: SetOpt = None,
    interval: Annotated[int, typer.Option("--interval", help="pull interval (minutes)")] = 15,
    no_pull: Annotated[bool, typer.Option("--no-pull")] = False,
    no_push: Annotated[bool, typer.Option("--no-push")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a connection, test it, and switch pulls and pushes on when the test succeeds."""
    services = _services()
    scope = _scope(services, tenant)
    credential = _credential(credential_stdin, credential_env, prompt=sys.stdin.isatty())
    try:
        with services.sessions.begin() as session:
            row = create_connection(
                session,
                scope,
                services.secretbox,
                services.clock.now(),
                system=system,
                base_url=base_url,
                auth_method=auth,
                credential=credential,
                username=username,
                name=name,
                settings=_settings(set_),
                pull_interval_minutes=interval,
            )
            connection_id = row.id
    except ConnectionInvalid as exc:
        raise _invalid(exc, as_json) from None
    except ConnectionExists as exc:
        raise _fail(str(exc), 2) from None
    check = _test(services, scope, connection_id)
    with services.sessions.begin() as session:
        row = find_connection(session, scope, str(connection_id))
        if check["ok"]:
            row.pull_enabled = not no_pull
            row.push_enabled = not no_push
        shown = describe(row, services.secretbox)
    _print({"connection": shown, "test": check} if as_json else shown, as_json, "connection")
    if not as_json:
        _print(check, False, "test")
    if not check["ok"]:
        typer.echo(
            f"test failed ({check['error_kind']}): pulls and pushes stay off; fix the settings "
            "with `floorsync planning connections set` and run `… test`",
            err=True,
        )
        raise typer.Exit(1)


def _counts(services: Services, scope: TenantScope, connection_id: uuid.UUID) -> dict[str, int]:
    with services.sessions() as session:
        rows = session.execute(
            scoped(PlanningPush, scope)
            .with_only_columns(PlanningPush.status, func.count())
            .where(PlanningPush.connection_id == connection_id)
            .group_by(PlanningPush.status)
        ).all()
    found = {str(status.value): int(n) for status, n in rows}
    return {s.value: found.get(s.value, 0) for s in DeliveryStatus}


@connections_app.command("list")
def list_command(tenant: TenantOpt, as_json: JsonOpt = False) -> None:
    """Connections with last test, last pull, pending and failed pushes."""
    services = _services()
    scope = _scope(services, tenant)
    with services.sessions() as session:
        rows = [describe(r, services.secretbox) for r in list_connections(session, scope)]
    for row in rows:
        row["pushes"] = _counts(services, scope, uuid.UUID(row["id"]))
    if as_json:
        typer.echo(json.dumps({"connections": rows}))
        return
    table = Table(
        "name",
        "system",
        "base url",
        "pull",
        "push",
        "last test",
        "last pull",
        "cursor",
        "pending",
        "failed",
        "error",
    )
    for r in rows:
        table.add_row(
            r["name"],
            r["system"],
            r["base_url"],
            "on" if r["pull_enabled"] else "off",
            "on" if r["push_enabled"] else "off",
            {True: "ok", False: "FAILED", None: "-"}[r["last_test_ok"]],
            f"{r['last_pull_at'] or '-'} {r['last_pull_status'] or ''}",
            r["pull_cursor"] or "-",
            str(r["pushes"]["pending"]),
            str(r["pushes"]["failed"]),
            (r["last_error"] or "")[:80],
        )
    console.print(table)


@connections_app.command("show")
def show_command(tenant: TenantOpt, connection: ConnArg, as_json: JsonOpt = False) -> None:
    """Settings (credential masked), state, and the latest runs."""
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    with services.sessions() as session:
        shown = describe(find_connection(session, scope, str(connection_id)), services.secretbox)
        runs = session.scalars(
            scoped(PlanningRun, scope)
            .where(PlanningRun.connection_id == connection_id)
            .order_by(PlanningRun.started_at.desc())
            .limit(10)
        ).all()
        shown["recent_runs"] = [
            {
                "kind": r.kind.value,
                "trigger": r.trigger.value,
                "status": r.status.value,
                "started_at": str(r.started_at),
                "records_received": r.records_received,
                "error": f"{r.error_class.value}: {r.error_message}" if r.error_class else None,
                "warnings": len((r.details or {}).get("warnings", [])),
                "sync_group_id": str(r.sync_group_id) if r.sync_group_id else None,
            }
            for r in runs
        ]
    shown["pushes"] = _counts(services, scope, connection_id)
    _print(shown, as_json, "connection")


@connections_app.command("test")
def check_command(tenant: TenantOpt, connection: ConnArg, as_json: JsonOpt = False) -> None:
    """Run the connection test (read-only calls); exit 0 if it is ok, 1 if not. A successful
    test lifts a block set by an authentication failure."""
    services = _services()
    scope = _scope(services, tenant)
    try:
        check = _test(services, scope, _connection(services, scope, connection))
    except ConnectionInvalid as exc:
        raise _invalid(exc, as_json) from None
    _print(check, as_json, "test")
    if not check["ok"]:
        raise typer.Exit(1)


@connections_app.command("set")
def set_command(
    tenant: TenantOpt,
    connection: ConnArg,
    base_url: Annotated[str | None, typer.Option("--base-url")] = None,
    auth: Annotated[str | None, typer.Option("--auth")] = None,
    username: Annotated[str | None, typer.Option("--username")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    interval: Annotated[int | None, typer.Option("--interval")] = None,
    credential_stdin: Annotated[bool, typer.Option("--credential-stdin")] = False,
    credential_env: Annotated[str | None, typer.Option("--credential-env")] = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change settings (`--set KEY=null` removes a setting); lifts an authentication block."""
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    credential = _credential(credential_stdin, credential_env, prompt=False)
    try:
        with services.sessions.begin() as session:
            row = change_connection(
                session,
                find_connection(session, scope, str(connection_id)),
                services.secretbox,
                services.clock.now(),
                settings=_settings(set_),
                credential=credential,
                base_url=base_url,
                auth_method=auth,
                username=username,
                name=name,
                pull_interval_minutes=interval,
            )
            shown = describe(row, services.secretbox)
    except ConnectionInvalid as exc:
        raise _invalid(exc, as_json) from None
    _print(shown, as_json, "connection")


def _switch(
    tenant: str, connection: str, pulls: bool, pushes: bool, on: bool, as_json: bool
) -> None:
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    both = not pulls and not pushes
    with services.sessions.begin() as session:
        row = find_connection(session, scope, str(connection_id))
        if pulls or both:
            row.pull_enabled = on
        if pushes or both:
            row.push_enabled = on
        row.updated_at = services.clock.now()
        shown = describe(row, services.secretbox)
    _print(
        {k: shown[k] for k in ("name", "pull_enabled", "push_enabled", "last_test_ok")},
        as_json,
        "connection",
    )


PullFlag = Annotated[bool, typer.Option("--pull", help="only scheduled pulls")]
PushFlag = Annotated[bool, typer.Option("--push", help="only pushes")]


@connections_app.command("pause")
def pause_command(
    tenant: TenantOpt,
    connection: ConnArg,
    pulls: PullFlag = False,
    pushes: PushFlag = False,
    as_json: JsonOpt = False,
) -> None:
    """Switch scheduled pulls and/or pushes off (manual pulls still work; lifecycle events of
    the paused period are not pushed)."""
    _switch(tenant, connection, pulls, pushes, False, as_json)


@connections_app.command("resume")
def resume_command(
    tenant: TenantOpt,
    connection: ConnArg,
    pulls: PullFlag = False,
    pushes: PushFlag = False,
    as_json: JsonOpt = False,
) -> None:
    """Switch scheduled pulls and/or pushes back on."""
    _switch(tenant, connection, pulls, pushes, True, as_json)


@connections_app.command("remove")
def remove_command(tenant: TenantOpt, connection: ConnArg, as_json: JsonOpt = False) -> None:
    """Delete the connection with its runs and pushes (pulled records stay)."""
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    with services.sessions.begin() as session:
        remove_connection(session, find_connection(session, scope, str(connection_id)))
    _print({"removed": str(connection_id)}, as_json)


# ------------------------------------------------------------------------------------ pulls


@planning_app.command("pull")
def pull_command(
    tenant: TenantOpt,
    connection: ConnArg,
    full: Annotated[bool, typer.Option("--full", help="a full (reconcile) pull")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="run the pull through the sync engine's dry run: print the counts and the "
            "would-be actions, write nothing (no records, history, run records or cursor)",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run one pull now (also when scheduled pulls are paused); exit 1 when it failed."""
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    deps = planning_deps(services)
    owner = f"cli-{uuid.uuid4().hex[:12]}"
    # A dry run writes nothing, not even the pull lease.
    if not dry_run and not take_pull_lease(deps, scope, connection_id, owner, pull_lease(services)):
        raise _fail("another pull of this connection is running; try again later", 1)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage == "done":
                    return
                label = {
                    "resources": "work centres",
                    "work_orders": "work orders received",
                    "jobs": "job chunks written",
                }[stage]
                if stage not in tasks:
                    tasks[stage] = bar.add_task(label, total=total or None)
                bar.update(tasks[stage], completed=done, total=total or None)

            outcome = pull(
                deps,
                scope,
                connection_id,
                trigger=PlanningTrigger.cli,
                full=full,
                progress=progress,
                renew=lambda: take_pull_lease(
                    deps, scope, connection_id, owner, pull_lease(services)
                ),
                dry_run=dry_run,
                owner=None if dry_run else owner,
            )
    except ConnectionInvalid as exc:
        raise _invalid(exc, as_json) from None
    finally:
        if not dry_run:
            release_pull_lease(deps, scope, connection_id, owner)
    data = {
        "connection": outcome.connection,
        "dry_run": outcome.dry_run,
        "mode": outcome.mode,
        "status": outcome.status.value,
        "since": str(outcome.since) if outcome.since else None,
        "cursor_before": str(outcome.cursor_before) if outcome.cursor_before else None,
        "cursor_after": str(outcome.cursor_after) if outcome.cursor_after else None,
        "received": outcome.received,
        "counts": outcome.counts,
        "warnings": outcome.warnings[:50],
        "error_class": outcome.error_class,
        "error": outcome.error,
        "seconds": round(outcome.seconds, 2),
    }
    if dry_run:
        data["would"] = outcome.changes
    _print(data, as_json, "pull (dry run, nothing written)" if dry_run else "pull")
    if outcome.status is RunStatus.failed:
        typer.echo(f"pull failed ({outcome.error_class}): {outcome.error}", err=True)
        raise typer.Exit(1)


# ----------------------------------------------------------------------------------- pushes


@planning_app.command("push")
def push_command(
    tenant: TenantOpt,
    connection: ConnArg,
    order: Annotated[str, typer.Option("--order", help="the order's id upstream")],
    start: Annotated[bool, typer.Option("--start", help="push a start")] = False,
    complete: Annotated[bool, typer.Option("--complete", help="push a completion")] = False,
    good: Annotated[
        str | None, typer.Option("--good", help="good quantity (with --complete)")
    ] = None,
    scrap: Annotated[str, typer.Option("--scrap", help="scrap quantity (with --complete)")] = "0",
    at: Annotated[
        str | None, typer.Option("--at", help="ISO 8601 time of the start or completion")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Push a start or a completion now, directly through the adapter (not through the queue;
    recorded as a run with trigger `cli`); exit 1 when the planning system refused or failed."""
    if start == complete:
        raise _fail("give exactly one of --start and --complete", 2)
    if start and good is not None:
        raise _fail("--good and --scrap go with --complete", 2)
    if complete and good is None:
        raise _fail("--complete needs --good N", 2)
    when = None
    if at is not None:
        try:
            when = parse_ts(at)
        except ValueError:
            raise _fail(f"--at: not an ISO 8601 date-time: {at!r}", 2) from None
    quantities: dict[str, str] = {}
    for name, value in (("good", good), ("scrap", scrap)):
        if value is None:
            continue
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise _fail(f"--{name}: not a number: {value!r}", 2) from None
        if not number.is_finite():
            raise _fail(f"--{name}: not a finite number: {value!r}", 2)
        quantities[name] = str(number)
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    if start:
        kind = PlanningPushKind.order_start
        payload: dict[str, Any] = {"started_at": format_ts(when or services.clock.now())}
    else:
        kind = PlanningPushKind.order_completion
        payload = {
            "quantity_good": quantities["good"],
            "quantity_scrap": quantities["scrap"],
            "completed_at": format_ts(when),
        }
    try:
        done = push_now(planning_deps(services), scope, connection_id, kind, order, payload)
    except ConnectionInvalid as exc:
        raise _invalid(exc, as_json) from None
    data = {
        "kind": done.kind.value,
        "order": done.order,
        "outcome": done.outcome,
        "upstream_status": done.upstream_status,
        "error_class": done.error_class,
        "error": done.error,
        "run": str(done.run_id),
    }
    _print(data, as_json, "push")
    if done.outcome is None:
        typer.echo(f"push failed ({done.error_class}): {done.error}", err=True)
        raise typer.Exit(1)


@pushes_app.command("list")
def pushes_list_command(
    tenant: TenantOpt,
    connection: ConnArg,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, succeeded, failed")
    ] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The connection's push rows, newest first."""
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise _fail("--status must be pending, succeeded or failed", 2)
    with services.sessions() as session:
        stmt = scoped(PlanningPush, scope).where(PlanningPush.connection_id == connection_id)
        if status is not None:
            stmt = stmt.where(PlanningPush.status == status)
        rows = session.scalars(stmt.order_by(PlanningPush.seq.desc()).limit(limit)).all()
        out = [
            {
                "id": str(r.id),
                "seq": r.seq,
                "kind": r.kind.value,
                "order": r.order_external_id,
                "status": r.status.value,
                "failure_reason": r.failure_reason.value if r.failure_reason else None,
                "attempts": r.attempts,
                "next_attempt_at": str(r.next_attempt_at),
                "last_error": r.last_error,
                "payload": r.payload,
            }
            for r in rows
        ]
    if as_json:
        typer.echo(json.dumps({"pushes": out}))
        return
    table = Table("seq", "kind", "order", "status", "attempts", "next attempt", "error")
    for p in out:
        table.add_row(
            str(p["seq"]),
            p["kind"],
            p["order"],
            p["status"] + (f" ({p['failure_reason']})" if p["failure_reason"] else ""),
            str(p["attempts"]),
            p["next_attempt_at"],
            (p["last_error"] or "")[:80],
        )
    console.print(table)


@pushes_app.command("retry")
def pushes_retry_command(
    tenant: TenantOpt,
    connection: ConnArg,
    push: Annotated[str | None, typer.Option("--push", help="one push id")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Put failed pushes back to pending with a fresh max-age window."""
    if (push is None) == (not all_failed):
        raise _fail("give --push ID or --all-failed", 2)
    services = _services()
    scope = _scope(services, tenant)
    connection_id = _connection(services, scope, connection)
    try:
        push_id = uuid.UUID(push) if push else None
    except ValueError:
        raise _fail(f"not a push id: {push!r}", 2) from None
    count = retry_failed(planning_deps(services), scope, connection_id, push_id=push_id)
    _print({"retried": count}, as_json)
