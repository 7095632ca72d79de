"""Planning adapters: pull work orders and work centres from a planning system (FrePPLe over its
REST API; Odoo MRP over JSON-RPC for 16–18 and JSON-2 for 19+) and push start and completion
back, behind one ISA-95-flavoured contract (Planning adapters spec §4).

Modules (each says more in its own docstring):

    base        the `PlanningAdapter` Protocol, the canonical dataclasses (`WorkOrder`,
                `JobOrder`, `Equipment`, `MaterialDefinition`, `ConnectionCheck`, `PushResult`)
                and the error tree — standard library only
    config      `PlanningConnectionConfig`: one connection's settings, validated (pure)
    factory     `create_planning_adapter(config, *, http_client=None)`: no I/O
    http        the HTTP client both adapters use: no redirects, no cookies, timeouts, TLS,
                cloud-metadata addresses refused, secrets redacted, read-only retries
    timezones   naive server-local wall time ⇄ aware UTC, with the DST rules
    statuses    upstream status values → `OrderStatus`
    records     canonical data → the records the sync engine takes, and the decisions for
                withdrawn, finished and missing orders (pure)
    frepple/    client · mapping · adapter
    odoo/       transport · jsonrpc · json2 · profiles · mapping · adapter

Adapters never touch the database and never import floorsync's entity, sync or model modules;
no FrePPLe or Odoo JSON leaves `frepple/` or `odoo/`. Everything that crosses the contract is
aware UTC, `Decimal`, stripped strings.

How the pull service (built later on the application core) uses them — nothing here commits,
schedules or stores anything:

1. Load the connection row, decrypt its credential and build `PlanningConnectionConfig`; build
   the adapter with `create_planning_adapter(config)` (the worker may share one client made by
   `http.make_planning_http_client`, and pass its stop event's `wait` as `sleep`). Use it as a
   context manager, from one thread, outside any database transaction.
2. `adapter.pull_resources()` → `records.plan_equipment(…, source=config.system,
   live_cells=…, reconcile=…)` → sync cells, then resources, through `sync.engine` in one unit
   of work; deactivate `plan.deactivate_cells`. The cells the engine accepted and that are active
   are the `active_cells` of the next step.
3. Reconcile (`since=None`) when there is no pull cursor or the last full pull is older than
   `reconcile_interval_hours`, else incremental with `since = cursor − overlap_minutes`:
   `adapter.pull_work_orders(since)` → `records.plan_jobs(orders, source=…, floor=<the live jobs
   of this source with their status and their operations' status>, job_number_prefix=…,
   active_cells=…, reconcile=…)` → send `plan.jobs` in `records.chunk_jobs(…)` chunks (one unit of
   work each), soft-delete `plan.delete_jobs` and `plan.delete_operations` through the engine's
   delete path, put `plan.warnings` into the run's details.
4. Move the cursor to `records.cursor_after(orders, current=cursor)` (the server's clock only).
5. Pushes: for each due push row, `adapter.push_order_start(order_id, started_at)` or
   `adapter.push_order_completion(order_id, good, scrap, completed_at=…)`; `PushResult.outcome`
   is `applied` or `already_applied` (a retry after a lost answer is safe: every sequence reads
   the upstream state first).
6. Failures are decided from the error class alone (`base.error_kind`): `PlanningUnavailable` →
   retry later (honour `retry_after`); `PlanningAuthError` → block the connection until its
   settings change or a test succeeds; `PlanningProtocolError` → record and fix the settings;
   `PlanningRejected` (`PlanningOrderNotFound` = gone, `PlanningNotCompleted`) → give up on that
   request. `test_connection()` never raises for a server-side problem: it returns a
   `ConnectionCheck` the CLI and the admin page can show. `config.warnings` go into every run
   record (TLS verification switched off).

The fake FrePPLe and Odoo servers the adapters are tested against are in `tests/planning/fakes/`.
"""
