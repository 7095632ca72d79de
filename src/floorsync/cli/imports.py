"""`floorsync import FILE… --tenant …` and `floorsync imports list|show|resume|cancel|errors|
template` (CSV import §2.2): the same analysis, preview and import as the admin wizard, run in
this process (the job is claimed like a worker would, so no running worker picks it up too).

Exit codes: 0 every row imported (or, with --dry-run, no errors); 1 some rows failed (or the dry
run found errors); 2 usage error; 3 blocked before writing (a file-level or mapping error, or
preview errors with --no-skip-errors); 4 the job failed or was interrupted and can be resumed.

Progress: `rich` bars per phase on a terminal; without one, a line every 5 seconds. Ctrl-C asks
the job to stop after the current batch, then prints the resume command and exits 4.
"""

import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from floorsync.bootstrap import Services, build_services
from floorsync.cli.common import tenant_or_exit
from floorsync.config import get_settings
from floorsync.csv_import import service
from floorsync.csv_import.columns import ENTITY_ORDER
from floorsync.csv_import.decoding import ENCODING_CHOICES
from floorsync.csv_import.duplicates import identical_import
from floorsync.csv_import.headers import IGNORE
from floorsync.csv_import.job import run_job
from floorsync.csv_import.service import ImportSettings, StoredChoices, Upload
from floorsync.csv_import.tasks import WAIT_SECONDS
from floorsync.csv_import.templates import template, template_name, templates_zip
from floorsync.db.repository import TenantScope
from floorsync.errors import FloorsyncError
from floorsync.models.enums import CsvImportStatus, ImportChannel, ImportPhase

imports_app = typer.Typer(help="CSV imports", no_args_is_help=True)

OK, ROWS_FAILED, USAGE, BLOCKED, INTERRUPTED = 0, 1, 2, 3, 4
DELIMITERS = {"auto": None, ",": ",", ";": ";", "tab": "\t", "|": "|", "\\t": "\t"}


def _usage(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(USAGE)


def _services_and_scope(tenant: str) -> tuple[Services, TenantScope, str]:
    services = build_services(get_settings())
    with services.sessions() as session:
        try:
            found = tenant_or_exit(session, tenant)
        except typer.Exit:
            raise typer.Exit(USAGE) from None
        return services, TenantScope(found.id), found.slug


def _pairs(values: list[str], sep: str, what: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        if sep not in value:
            raise _usage(
                f"{what} must look like {'FILE=ENTITY' if sep == '=' else 'FILE:HEADER=FIELD'}: {value!r}"
            )
        left, right = value.split(sep, 1)
        out.append((left, right))
    return out


class Interrupt:
    """Ctrl-C asks the job to stop after its current batch (a second Ctrl-C as well)."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._previous: Any = None

    def __enter__(self) -> "Interrupt":
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        if not self.requested.is_set():
            sys.stderr.write("\ninterrupted: stopping after the current batch…\n")
        self.requested.set()

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


class Reporter:
    """Progress of one phase: a rich bar on a terminal, else a line every 5 seconds."""

    def __init__(self, services: Services, scope: TenantScope, import_id: uuid.UUID, quiet: bool):
        self.services, self.scope, self.import_id = services, scope, import_id
        self.tty = sys.stderr.isatty() and not quiet
        self.quiet = quiet
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.last_line = 0.0
        self.label = ""
        self.every = services.settings.import_progress_seconds

    def start(self, label: str) -> None:
        self.label = label
        self.last_line = time.monotonic()
        if self.tty:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.progress.start()
            self.task = self.progress.add_task(label, total=None, rate="–")

    def update(self) -> None:
        info = service.progress(self.services, self.scope, self.import_id)
        if self.progress is not None and self.task is not None:
            self.progress.update(
                self.task,
                total=info["total_rows"] or None,
                completed=info["processed_rows"],
                rate=f"{info['rows_per_second']:,.0f}",
            )
        elif not self.quiet and time.monotonic() - self.last_line >= self.every:
            self.last_line = time.monotonic()
            eta = info["eta_seconds"]
            typer.echo(
                f"{self.label}: {info['processed_rows']:,}/{info['total_rows']:,} rows "
                f"({info['percent']}%), {info['rows_per_second']:,.0f} rows/s"
                + (f", ETA {eta:.0f} s" if eta is not None else ""),
                err=True,
            )

    def stop(self) -> None:
        if self.progress is not None:
            self.update()
            self.progress.stop()
            self.progress = None


def _run_phase(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    reporter: Reporter,
    label: str,
    stop: Callable[[], bool],
) -> CsvImportStatus | None:
    reporter.start(label)
    told = False
    try:
        while True:
            status = run_job(
                services,
                scope.tenant_id,
                import_id,
                owner=f"cli-{os.getpid()}",
                stopping=stop,
                on_batch=reporter.update,
            )
            if status is not CsvImportStatus.queued:
                return status
            # another import of the tenant runs (one at a time, §11.3): wait for it
            if not told:
                other = service.progress(services, scope, import_id).get("waiting_for")
                typer.echo(
                    f"waiting: import {other} of this tenant is running "
                    "(one import per tenant at a time)",
                    err=True,
                )
                told = True
            if stop():
                return service.cancel(services, scope, import_id)
            time.sleep(WAIT_SECONDS)
    finally:
        reporter.stop()


def _summary(
    services: Services, scope: TenantScope, import_id: uuid.UUID, *, preview: bool
) -> dict[str, Any]:
    info = service.progress(services, scope, import_id)
    info["import_id"] = info.pop("id")
    same = identical_import(services, scope, import_id)  # §11.6: a notice, never a refusal
    info["identical_to"] = str(same.import_id) if same is not None else None
    if preview:
        info["preview"] = info.get("preview") or {}
    else:
        info.pop("preview", None)
    return info


def _print_table(info: dict[str, Any], *, preview: bool) -> None:
    console = Console()
    table = Table(title=f"Import {info['import_id']} — {info['status']}")
    if preview:
        columns = ("create", "update", "unchanged", "error", "delete")
        for name in ("File", "Entity", "Rows", *[c.capitalize() for c in columns]):
            table.add_column(name, justify="left" if name in ("File", "Entity") else "right")
        files = (info.get("preview") or {}).get("files", {})
        totals = dict.fromkeys(columns, 0)
        rows = 0
        for f in info["files"]:
            counts = files.get(str(f["position"]), {})
            rows += f["rows"]
            for c in columns:
                totals[c] += counts.get(c, 0)
            table.add_row(
                f["file"],
                f["entity"] or "?",
                f"{f['rows']:,}",
                *[f"{counts.get(c, 0):,}" for c in columns],
            )
        table.add_row("Total", "", f"{rows:,}", *[f"{totals[c]:,}" for c in columns], style="bold")
    else:
        kinds = ("created", "updated", "unchanged", "failed")
        for name in ("File", "Entity", "Rows", *[k.capitalize() for k in kinds]):
            table.add_column(name, justify="left" if name in ("File", "Entity") else "right")
        for f in info["files"]:
            table.add_row(
                f["file"], f["entity"] or "?", f"{f['rows']:,}", *[f"{f[k]:,}" for k in kinds]
            )
        c = info["counts"]
        table.add_row(
            "Total",
            "",
            f"{info['total_rows']:,}",
            *[f"{c[k]:,}" for k in kinds],
            style="bold",
        )
        if c["deleted"]:
            table.caption = f"deleted (snapshot): {c['deleted']:,}"
    console.print(table)


def _write_downloads(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    errors: Path | None,
    failed: Path | None,
) -> None:
    if errors is not None:
        errors.write_bytes(service.error_report(services, scope, import_id))
    if failed is not None:
        found = service.failed_rows(services, scope, import_id)
        if found is not None:
            failed.write_bytes(found[1])


def _print_issues(
    services: Services, scope: TenantScope, import_id: uuid.UUID, limit: int = 20
) -> None:
    with services.sessions() as session:
        imp = service.get_import(session, scope, import_id)
        found = service.stored_issues(
            session, scope, import_id, service.report_phase(imp), limit=limit
        )
    for _position, issue in found:
        where = f"{issue.file}:{issue.line}" if issue.line else issue.file
        column = f" [{issue.column}]" if issue.column else ""
        typer.echo(f"  {where}{column} {issue.severity} {issue.code}: {issue.message}", err=True)


def import_command(
    files: Annotated[
        list[Path], typer.Argument(help="CSV, TXT or TSV files, or one zip", show_default=False)
    ],
    tenant: Annotated[str, typer.Option("--tenant", help="tenant name, slug or id")],
    source: Annotated[str, typer.Option("--source", help="external_source of every row")] = "csv",
    entity: Annotated[list[str], typer.Option("--entity", help="FILE=ENTITY (repeatable)")] = [],  # noqa: B006
    mapping: Annotated[
        list[str], typer.Option("--map", help="FILE:HEADER=FIELD, FIELD - ignores (repeatable)")
    ] = [],  # noqa: B006
    encoding: Annotated[str, typer.Option("--encoding")] = "auto",
    delimiter: Annotated[str, typer.Option("--delimiter", help="auto , ; tab |")] = "auto",
    decimal: Annotated[str, typer.Option("--decimal", help="auto point comma")] = "auto",
    date_order: Annotated[str, typer.Option("--date-order", help="auto dmy mdy ymd")] = "auto",
    time_zone: Annotated[str, typer.Option("--time-zone")] = "UTC",
    header_line: Annotated[int | None, typer.Option("--header-line", min=1)] = None,
    no_derive_ids: Annotated[bool, typer.Option("--no-derive-ids")] = False,
    empty_clears: Annotated[bool, typer.Option("--empty-clears")] = False,
    snapshot: Annotated[bool, typer.Option("--snapshot")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="preview only; write nothing")] = False,
    no_skip_errors: Annotated[bool, typer.Option("--no-skip-errors")] = False,
    errors: Annotated[Path | None, typer.Option("--errors", help="write the error report")] = None,
    failed_rows: Annotated[Path | None, typer.Option("--failed-rows")] = None,
    remember_mapping: Annotated[
        bool, typer.Option("--remember-mapping/--no-remember-mapping")
    ] = True,
    background: Annotated[
        bool, typer.Option("--background", help="queue it for the worker")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="start the import without asking")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON summary object")] = False,
) -> None:
    """Import CSV files (analysis, preview, import) into a tenant."""
    for path in files:
        if not path.is_file():
            raise _usage(f"no such file: {path}")
    if encoding not in ENCODING_CHOICES:
        raise _usage(f"--encoding must be one of {', '.join(ENCODING_CHOICES)}")
    if delimiter not in DELIMITERS:
        raise _usage("--delimiter must be auto , ; tab or |")
    if decimal not in ("auto", "point", "comma"):
        raise _usage("--decimal must be auto, point or comma")
    if date_order not in ("auto", "dmy", "mdy", "ymd"):
        raise _usage("--date-order must be auto, dmy, mdy or ymd")
    names = {p.name for p in files}
    entities = dict(_pairs(entity, "=", "--entity"))
    for name, value in entities.items():
        if name not in names and name != "*":
            raise _usage(f"--entity names a file that is not given: {name}")
        if value not in ENTITY_ORDER:
            raise _usage(f"unknown entity {value!r} (one of {', '.join(ENTITY_ORDER)})")
    maps: dict[str, dict[str, str]] = {}
    for left, target in _pairs(mapping, "=", "--map"):
        if ":" not in left:
            raise _usage(f"--map must look like FILE:HEADER=FIELD: {left}={target}")
        name, header = left.split(":", 1)
        maps.setdefault(name, {})[header] = target
    services, scope, slug = _services_and_scope(tenant)
    settings = ImportSettings(
        source=source,
        snapshot=snapshot,
        empty_clears=empty_clears,
        skip_errors=not no_skip_errors,
        time_zone=time_zone,
        derive_ids=not no_derive_ids,
        remember_mapping=remember_mapping,
    )
    base = StoredChoices(
        encoding=encoding,
        delimiter=DELIMITERS[delimiter],
        header_line=header_line,
        decimal=decimal,
        date_order=date_order,
    )
    choices = {
        p.name: StoredChoices(**{**base.__dict__, "entity": entities.get(p.name)}) for p in files
    }
    choices["*"] = base
    try:
        import_id = service.create_import(
            services,
            scope,
            [Upload(p.name, p.read_bytes()) for p in files],
            settings,
            channel=ImportChannel.cli,
            choices=choices,
        )
    except FloorsyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(BLOCKED) from None
    _apply_maps(services, scope, import_id, maps)
    blocking = service.confirm_mapping(services, scope, import_id)
    same = identical_import(services, scope, import_id)
    if same is not None:  # a notice, not a refusal (§11.6)
        typer.echo(f"note: {same.message()}", err=True)
    blocked = service.blocking_issues(services, scope, import_id)
    if blocking or blocked:
        typer.echo(f"import {import_id} is blocked before writing:", err=True)
        for issue in blocked:
            where = f" line {issue.line}" if issue.line else ""
            typer.echo(f"  {issue.file}{where}: {issue.code}: {issue.message}", err=True)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "import_id": str(import_id),
                        "status": "blocked",
                        "issues": [
                            {
                                "file": i.file,
                                "line": i.line,
                                "code": str(i.code),
                                "message": i.message,
                            }
                            for i in blocked
                        ],
                    }
                )
            )
        raise typer.Exit(BLOCKED)
    if background:
        service.request(services, scope, import_id, ImportPhase.import_, background=True)
        typer.echo(
            json.dumps({"import_id": str(import_id), "status": "queued"})
            if as_json
            else str(import_id)
        )
        raise typer.Exit(OK)
    reporter = Reporter(services, scope, import_id, quiet=False)
    with Interrupt() as interrupt:
        service.request(services, scope, import_id, ImportPhase.preview, background=False)
        status = _run_phase(
            services, scope, import_id, reporter, "preview", interrupt.requested.is_set
        )
        if interrupt.requested.is_set() or status is not CsvImportStatus.previewed:
            typer.echo("interrupted during the preview; nothing was written", err=True)
            raise typer.Exit(INTERRUPTED)
        preview = _summary(services, scope, import_id, preview=True)
        totals = preview["preview"].get("totals", {})
        if dry_run:
            _write_downloads(services, scope, import_id, errors, failed_rows)
            _report(preview, as_json, preview=True)
            if totals.get("error"):
                _print_issues(services, scope, import_id)
            raise typer.Exit(ROWS_FAILED if totals.get("error") else OK)
        if totals.get("error") and no_skip_errors:
            _write_downloads(services, scope, import_id, errors, None)
            _report(preview, as_json, preview=True)
            _print_issues(services, scope, import_id)
            typer.echo(
                "the preview found errors and --no-skip-errors is set: nothing imported", err=True
            )
            raise typer.Exit(BLOCKED)
        if not yes and sys.stdin.isatty() and sys.stderr.isatty():
            _print_table(preview, preview=True)
            if not typer.confirm("Start the import?", default=True):
                raise typer.Exit(OK)
        elif totals.get("delete") and not yes:
            typer.echo(
                f"the snapshot would delete {totals['delete']} records: confirm with --yes",
                err=True,
            )
            raise typer.Exit(BLOCKED)
        service.request(services, scope, import_id, ImportPhase.import_, background=False)
        status = _run_phase(
            services, scope, import_id, reporter, "importing", interrupt.requested.is_set
        )
    _finish(services, scope, import_id, slug, status, as_json, errors, failed_rows)


def _apply_maps(
    services: Services, scope: TenantScope, import_id: uuid.UUID, maps: dict[str, dict[str, str]]
) -> None:
    if not maps:
        return
    with services.sessions() as session:
        files = [
            (f.position, f.filename, list(f.header or []))
            for f in service.import_files(session, scope, import_id)
        ]
    for name in maps:
        if name not in {f[1] for f in files}:
            raise _usage(f"--map names a file that is not given: {name}")
    for position, name, header in files:
        if name not in maps:
            continue
        try:
            manual = service.manual_from_fields(
                header, {h: (t if t != "-" else IGNORE) for h, t in maps[name].items()}
            )
        except FloorsyncError as exc:
            raise _usage(f"--map {name}: {exc}") from None
        service.change_file(services, scope, import_id, position, {"manual": manual})


def _report(info: dict[str, Any], as_json: bool, *, preview: bool) -> None:
    if as_json:
        typer.echo(json.dumps(info, default=str))
    else:
        _print_table(info, preview=preview)


def _finish(
    services: Services,
    scope: TenantScope,
    import_id: uuid.UUID,
    slug: str,
    status: CsvImportStatus | None,
    as_json: bool,
    errors: Path | None,
    failed_rows: Path | None,
) -> None:
    _write_downloads(services, scope, import_id, errors, failed_rows)
    info = _summary(services, scope, import_id, preview=False)
    _report(info, as_json, preview=False)
    if status in (CsvImportStatus.completed,):
        raise typer.Exit(OK)
    if status is CsvImportStatus.partial:
        _print_issues(services, scope, import_id)
        raise typer.Exit(ROWS_FAILED)
    reason = info.get("failure_reason")
    typer.echo(
        f"import {import_id} is {info['status']}"
        + (f" ({reason})" if reason else "")
        + f"; resume it with: floorsync imports resume {import_id} --tenant {slug}",
        err=True,
    )
    raise typer.Exit(INTERRUPTED)


def _import_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _usage(f"not an import id: {value}") from None


@imports_app.command("list")
def imports_list(
    tenant: Annotated[str, typer.Option("--tenant")],
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Past imports, newest first."""
    services, scope, _slug = _services_and_scope(tenant)
    rows = service.list_imports(services, scope, limit=limit)
    entries = [
        {
            "id": str(r.id),
            "created_at": r.created_at.isoformat(),
            "channel": r.channel.value,
            "status": r.status.value,
            "source": r.external_source,
            "rows": r.total_rows,
            "created": r.created_count,
            "updated": r.updated_count,
            "unchanged": r.skipped_count,
            "failed": r.failed_count,
        }
        for r in rows
    ]
    if as_json:
        typer.echo(json.dumps(entries))
        return
    table = Table()
    for name in (
        "Id",
        "Created",
        "Channel",
        "Status",
        "Source",
        "Rows",
        "Created",
        "Updated",
        "Unchanged",
        "Failed",
    ):
        table.add_column(name)
    for e in entries:
        table.add_row(*[str(v) if not isinstance(v, int) else f"{v:,}" for v in e.values()])
    Console().print(table)


@imports_app.command("show")
def imports_show(
    import_id: Annotated[str, typer.Argument()],
    tenant: Annotated[str, typer.Option("--tenant")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Status, progress and counts of one import."""
    services, scope, _slug = _services_and_scope(tenant)
    try:
        info = _summary(services, scope, _import_id(import_id), preview=False)
    except FloorsyncError as exc:
        raise _usage(str(exc)) from None
    _report(info, as_json, preview=False)


@imports_app.command("resume")
def imports_resume(
    import_id: Annotated[str, typer.Argument()],
    tenant: Annotated[str, typer.Option("--tenant")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Resume a failed, cancelled or abandoned import here, at its resume point."""
    services, scope, slug = _services_and_scope(tenant)
    ident = _import_id(import_id)
    try:
        service.resume(services, scope, ident, background=False)
    except FloorsyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(USAGE) from None
    reporter = Reporter(services, scope, ident, quiet=False)
    with Interrupt() as interrupt:
        status = _run_phase(
            services, scope, ident, reporter, "importing", interrupt.requested.is_set
        )
    _finish(services, scope, ident, slug, status, as_json, None, None)


@imports_app.command("cancel")
def imports_cancel(
    import_id: Annotated[str, typer.Argument()],
    tenant: Annotated[str, typer.Option("--tenant")],
) -> None:
    """Cancel a queued import, or ask a running one to stop after its current batch."""
    services, scope, _slug = _services_and_scope(tenant)
    try:
        status = service.cancel(services, scope, _import_id(import_id))
    except FloorsyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(USAGE) from None
    typer.echo(
        f"import {import_id}: {'cancel requested' if status is CsvImportStatus.running else status.value}"
    )


@imports_app.command("errors")
def imports_errors(
    import_id: Annotated[str, typer.Argument()],
    tenant: Annotated[str, typer.Option("--tenant")],
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """The error report (errors.csv) of an import."""
    services, scope, _slug = _services_and_scope(tenant)
    try:
        data = service.error_report(services, scope, _import_id(import_id))
    except FloorsyncError as exc:
        raise _usage(str(exc)) from None
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        output.write_bytes(data)


@imports_app.command("template")
def imports_template(
    entity: Annotated[str, typer.Argument(help="an entity, or all (templates.zip)")],
    delimiter: Annotated[str, typer.Option("--delimiter", help=", or ;")] = ",",
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """An import template (CSV import §13): one entity's CSV, or all of them as a zip."""
    if delimiter not in (",", ";"):
        raise _usage("--delimiter must be , or ;")
    variant: Any = delimiter
    if entity == "all":
        data = templates_zip(variant)
        target = output or Path("templates.zip")
        target.write_bytes(data)
        typer.echo(str(target))
        return
    if entity not in ENTITY_ORDER:
        raise _usage(f"unknown entity {entity!r} (one of {', '.join(ENTITY_ORDER)} or all)")
    text = template(entity, variant)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(str(output))


__all__ = ["import_command", "imports_app", "template_name"]
