"""`floorsync files check | purge | prune | migrate`: the file store (api-catalogue-completion
§2.2, §2.7).

- `check`  probes the configured backend as `serve` and `worker` do at start-up (exit 1 with the
           reason when it can't be used);
- `purge`  runs the worker's `storage.purge` now: abandoned uploads (URL expired over an hour
           ago) and deleted files lose their bytes, then their rows;
- `prune --unreferenced --older-than 30d` marks stored attachments that no part, issue or batch
           references as deleted (`--dry-run` lists them only), then purges them;
- `migrate --to s3` moves files written on the other backend to the configured one.
"""

from typing import Annotated

import typer

from floorsync.bootstrap import build_services
from floorsync.cli.common import tenant_or_exit
from floorsync.cli.startup import storage_problem
from floorsync.config import get_settings
from floorsync.files.purge import purge_files, remove_deleted
from floorsync.files.tasks import storage_for
from floorsync.kit.durations import parse_duration

files_app = typer.Typer(help="File storage: check, purge, prune, migrate", no_args_is_help=True)


@files_app.command("check")
def check() -> None:
    """Probe the configured storage backend (local: write and remove a file; S3: head_bucket)."""
    settings = get_settings()
    problem = storage_problem(settings)
    if problem is not None:
        typer.echo(f"floorsync: {problem}", err=True)
        raise typer.Exit(1)
    where = (
        str(settings.storage_local_root)
        if settings.storage_backend == "local"
        else f"s3://{settings.s3_bucket}/{settings.s3_prefix}"
    )
    typer.echo(f"file storage ({settings.storage_backend}) ok: {where}")


@files_app.command("purge")
def purge() -> None:
    """Remove abandoned uploads and deleted files now (the hourly `storage.purge`)."""
    services = build_services(get_settings())
    try:
        report = purge_files(services.sessions, services.clock, storage_for(services))
    finally:
        services.close()
    typer.echo(
        f"expired {report.expired} abandoned upload(s); removed {report.removed} file(s)"
        + (f"; {report.failed} could not be removed (retried next run)" if report.failed else "")
    )
    for line in report.errors[:10]:
        typer.echo(f"  {line}", err=True)
    if report.failed:
        raise typer.Exit(1)


@files_app.command("prune")
def prune(
    unreferenced: Annotated[
        bool,
        typer.Option("--unreferenced", help="required: prune attachments nothing references"),
    ] = False,
    older_than: Annotated[
        str, typer.Option("--older-than", help="only files stored before this long ago")
    ] = "30d",
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="one tenant (name, slug or id); default all")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list, remove nothing")] = False,
) -> None:
    """Remove stored attachments that no part, issue or batch references. Stored files are
    never removed automatically: ERP data may point at them, so this is an operator's call."""
    from floorsync.files.purge import prune_unreferenced

    if not unreferenced:
        typer.echo("floorsync: say what to prune: --unreferenced", err=True)
        raise typer.Exit(2)
    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        typer.echo(f"floorsync: --older-than: {exc}", err=True)
        raise typer.Exit(2) from None
    services = build_services(get_settings())
    try:
        tenant_id = None
        if tenant is not None:
            with services.sessions() as session:
                tenant_id = tenant_or_exit(session, tenant).id
        pruned = prune_unreferenced(
            services.sessions, services.clock, age, tenant_id=tenant_id, dry_run=dry_run
        )
        for tid, path in pruned:
            typer.echo(f"{tid}  {path}")
        if dry_run:
            typer.echo(f"{len(pruned)} unreferenced file(s) would be removed (dry run)")
            return
        report = remove_deleted(services.sessions, storage_for(services))
    finally:
        services.close()
    typer.echo(f"pruned {len(pruned)} unreferenced file(s); removed {report.removed} file(s)")
    if report.failed:
        typer.echo(f"{report.failed} could not be removed (retried by storage.purge)", err=True)
        raise typer.Exit(1)


@files_app.command("migrate")
def migrate(
    to: Annotated[str, typer.Option("--to", help="the backend to move files to: s3 or local")],
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="one tenant (name, slug or id); default all")
    ] = None,
) -> None:
    """Copy stored files from the other backend to `--to` (which must be the configured
    FLOORSYNC_STORAGE_BACKEND), then point their rows at it and remove the old bytes. Files
    stay downloadable throughout; run it again after a failure."""
    from floorsync.files.migrate import migrate_files
    from floorsync.storage.errors import BackendUnavailable

    settings = get_settings()
    if to not in ("s3", "local"):
        typer.echo("floorsync: --to must be s3 or local", err=True)
        raise typer.Exit(2)
    if to != settings.storage_backend:
        typer.echo(
            f"floorsync: --to {to} but FLOORSYNC_STORAGE_BACKEND is {settings.storage_backend}: "
            "switch the setting first, so new uploads go where the files are moved",
            err=True,
        )
        raise typer.Exit(2)
    problem = storage_problem(settings)
    if problem is not None:
        typer.echo(f"floorsync: {problem}", err=True)
        raise typer.Exit(1)
    services = build_services(settings)
    try:
        other = "local" if to == "s3" else "s3"
        try:
            source = services.storage_of(other)
        except BackendUnavailable as exc:
            typer.echo(f"floorsync: cannot read the {other} files: {exc.what}", err=True)
            raise typer.Exit(1) from None
        tenant_id = None
        if tenant is not None:
            with services.sessions() as session:
                tenant_id = tenant_or_exit(session, tenant).id
        report = migrate_files(services.sessions, source, services.storage, tenant_id=tenant_id)
    finally:
        services.close()
    typer.echo(f"moved {report.copied} file(s) from {other} to {to}")
    for line in report.errors[:10]:
        typer.echo(f"  {line}", err=True)
    if report.failed:
        typer.echo(f"{report.failed} file(s) could not be moved (run it again)", err=True)
        raise typer.Exit(1)
