"""`api-job-lifecycle`, `api-operation-lifecycle` and `api-batch-lifecycle` (API §5).

`POST /<function>/<action>?id=<uuid>`, checked in this order: unknown action (400
INVALID_OPERATION), missing or malformed id (400), body fields (422), record (404), operator
(422), guard (400 INVALID_STATE_TRANSITION). Other methods get 405 from the routing fallback.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request

from floorsync.entities.fields import Field, FieldError, enum, ident, long_text, short
from floorsync.entities.jobs import JOBS
from floorsync.entities.openapi import query, responses
from floorsync.entities.operations import OPERATIONS
from floorsync.entities.render import render_one
from floorsync.entities.shopfloor.batches import BATCHES, parse_operation_ids
from floorsync.entities.shopfloor.time_entries import TIME_ENTRIES
from floorsync.entities.validation import ExtraErrors
from floorsync.errors import Detail, InvalidOperation, ValidationFailed
from floorsync.http.context import ApiCtx, BodyDep, Ctx, optional_id, required_id
from floorsync.http.retry import retrying
from floorsync.kit.timefmt import format_ts
from floorsync.lifecycle import batches as batch_service
from floorsync.lifecycle import docs, service
from floorsync.lifecycle.monitor import monitor
from floorsync.lifecycle.rules import (
    BATCH_LIFECYCLE_ACTIONS,
    JOB_ACTIONS,
    OPERATION_ACTIONS,
    id_required_message,
    unsupported_action,
)
from floorsync.models.enums import TimeType

_OPERATOR_ID = ident("operator_id", 64)
_OPERATOR_FIELDS: dict[str, Field] = {
    "operator_id": _OPERATOR_ID,
    "operator_name": short("operator_name", 200, trim=True),
    "time_type": enum("time_type", TimeType),
    "notes": long_text("notes"),
}
_BATCH_START_FIELDS = {
    k: _OPERATOR_FIELDS[k] for k in ("operator_id", "operator_name", "time_type")
}
_BATCH_STOP_FIELDS = {k: _OPERATOR_FIELDS[k] for k in ("operator_id", "operator_name")}


def parse_fields(data: dict[str, Any], allowed: dict[str, Field], entity: str) -> dict[str, Any]:
    """Validate a lifecycle body against its few allowed fields (422 with every error)."""
    out: dict[str, Any] = {}
    errors: list[Detail] = []
    for key, value in data.items():
        f = allowed.get(key)
        if f is None:
            errors.append(Detail(key, f"Unknown field: {key}", "UNKNOWN_FIELD", value))
            continue
        if value is None:
            continue
        try:
            out[key] = f.coerce(value)
        except FieldError as err:
            errors.append(err.detail(key, value))
    if errors:
        raise ValidationFailed(entity, errors)
    return out


def operator_input(
    fields: dict[str, Any], query_params: Any, entity: str
) -> service.OperatorInput | None:
    """The operator named by the query (`operator_id` or Eryxon's `user_id`) and/or the body;
    two different identifiers are 422 REFERENCE_MISMATCH."""
    named: list[tuple[str, str]] = []
    errors: list[Detail] = []
    for param in ("operator_id", "user_id"):
        raw = query_params.get(param)
        if raw is None or raw.strip() == "":
            continue
        try:
            named.append((param, _OPERATOR_ID.coerce(raw)))
        except FieldError as err:
            errors.append(
                Detail(param, err.message.replace("operator_id", param), err.constraint, raw)
            )
    if "operator_id" in fields:
        named.append(("operator_id", fields["operator_id"]))
    if not errors and len({value for _, value in named}) > 1:
        errors.append(
            Detail(
                named[1][0],
                "the query and the body name different operators",
                "REFERENCE_MISMATCH",
                named[1][1],
            )
        )
    if errors:
        raise ValidationFailed(entity, errors)
    if not named:
        return None
    return service.OperatorInput(
        operator_id=named[0][1],
        operator_name=fields.get("operator_name"),
        time_type=fields.get("time_type") or TimeType.run.value,
        notes=fields.get("notes"),
    )


def _prelude(
    request: Request,
    body: BodyDep,
    action: str,
    supported: tuple[str, ...] | list[str],
    entity: str,
) -> tuple[uuid.UUID, dict[str, Any]]:
    action = action.strip("/")
    if action not in supported:
        raise InvalidOperation(unsupported_action(action, supported))
    id_ = required_id(request.query_params, id_required_message(entity))
    return id_, body.json_object(optional=True)


_DOC_ID = query(("id", {"type": "string", "format": "uuid"}, "the record's id"))
_DOC_OPERATOR = query(
    ("operator_id", {"type": "string"}, "the operator (badge or employee number)"),
    ("user_id", {"type": "string"}, "Eryxon's name for operator_id"),
)


def lifecycle_router() -> APIRouter:
    router = APIRouter(tags=["lifecycle"])
    job_actions = list(JOB_ACTIONS)
    operation_actions = list(OPERATION_ACTIONS)

    def job_lifecycle(action: str, request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        """Start, stop (= pause), resume or complete a job. Guarded and compare-and-set: a
        transition the job's status does not allow, or one that lost a race, is 400
        INVALID_STATE_TRANSITION. Does not roll down to parts or operations."""
        id_, data = _prelude(request, body, action, job_actions, "job")
        parse_fields(data, {}, "job")
        with ctx.work() as work:
            job, previous, new = service.run_job_action(work, id_, action.strip("/"))
            return ctx.respond(
                {
                    "job": render_one(work.session, ctx.scope, JOBS, job, "single"),
                    "operation": action.strip("/"),
                    "previous_status": previous,
                    "new_status": new,
                },
                200,
                work,
            )

    def operation_lifecycle(action: str, request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        """Start, pause, resume or complete an operation. With an operator (`?operator_id=`,
        `?user_id=` or the body) start/resume open a time entry; pause/complete close the
        operation's open entries and recompute `actual_time`. Status rolls up to the part and
        job in the same transaction (`rolled_up`)."""
        id_, data = _prelude(request, body, action, operation_actions, "operation")
        fields = parse_fields(data, _OPERATOR_FIELDS, "operation")
        operator = operator_input(fields, request.query_params, "operation")
        with ctx.work() as work:
            out = service.run_operation_action(work, id_, action.strip("/"), operator)
            return ctx.respond(
                {
                    "operation": render_one(
                        work.session, ctx.scope, OPERATIONS, out.operation, "single"
                    ),
                    "operation_type": action.strip("/"),
                    "previous_status": out.previous,
                    "new_status": out.new,
                    "time_entry_created": out.created is not None,
                    "time_entry_ended": bool(out.ended),
                    "time_entries_ended": len(out.ended),
                    "time_entry": render_one(
                        work.session, ctx.scope, TIME_ENTRIES, out.created, "nested"
                    )
                    if out.created
                    else None,
                    "rolled_up": [r.as_dict() for r in out.rolled_up],
                },
                200,
                work,
            )

    def batch_lifecycle(action: str, request: Request, ctx: ApiCtx, body: BodyDep) -> Any:
        """`start` (draft/ready → in_progress; operator required unless automated), `stop`
        (in_progress → completed, elapsed time split over the operations) and `add-operations`
        (append to a draft or ready batch)."""
        if action.strip("/") == "monitor":
            return _monitor(request, ctx, body)
        id_, data = _prelude(request, body, action, BATCH_LIFECYCLE_ACTIONS, "batch")
        action = action.strip("/")
        if action == "add-operations":
            return _add_operations(ctx, id_, data)
        fields = parse_fields(
            data, _BATCH_START_FIELDS if action == "start" else _BATCH_STOP_FIELDS, "batch"
        )
        operator = operator_input(fields, {}, "batch")
        with ctx.work() as work:
            run = batch_service.start_batch if action == "start" else batch_service.stop_batch
            out = run(work, id_, operator)
            batch = out.batch
            head: dict[str, Any] = {
                "batch": render_one(work.session, ctx.scope, BATCHES, batch, "single"),
                "previous_status": out.previous,
                "new_status": out.new,
                "batch_id": str(batch.id),
                "status": out.new,
            }
            if action == "start":
                tail: dict[str, Any] = {
                    "operations_started": out.operations_moved,
                    "time_entries_created": len(out.entries_created),
                    "started_at": format_ts(batch.started_at),
                }
            else:
                tail = {
                    "total_minutes": out.total_minutes,
                    "distribution_method": out.method,
                    "distribution": out.distribution,
                    "operations_completed": out.operations_moved,
                    "time_entries_ended": len(out.entries_ended),
                    "completed_at": format_ts(batch.completed_at),
                }
            return ctx.respond(
                {
                    **head,
                    **tail,
                    "monitoring_source": out.monitoring_source,
                    "rolled_up": [r.as_dict() for r in out.rolled_up],
                },
                200,
                work,
            )

    def _monitor(request: Request, ctx: Ctx, body: BodyDep) -> Any:
        """`monitor` (§11): `?id` is optional (without it every batch of the tenant)."""
        id_ = optional_id(request.query_params)
        data = body.json_object(optional=True)
        if data:
            raise ValidationFailed(
                "batch",
                [Detail(k, f"Unknown field: {k}", "UNKNOWN_FIELD", v) for k, v in data.items()],
            )
        with ctx.work() as work:
            out = monitor(work, id_)
            return ctx.respond(
                {
                    "monitored_batches": out.monitored,
                    "created_exceptions": len(out.created),
                    "monitored_at": format_ts(work.clock.now()),
                    "exceptions": out.created,
                    "open_exceptions": out.open_count,
                },
                200,
                work,
            )

    def _add_operations(ctx: Ctx, id_: uuid.UUID, data: dict[str, Any]) -> Any:
        errors = [
            Detail(k, f"Unknown field: {k}", "UNKNOWN_FIELD", v)
            for k, v in data.items()
            if k != "operation_ids"
        ]
        ids: list[uuid.UUID] = []
        if data.get("operation_ids") is None:
            errors.append(
                Detail("operation_ids", "Missing required field: operation_ids", "NOT_NULL")
            )
        else:
            try:
                ids = parse_operation_ids(data["operation_ids"], min_items=1)
            except ExtraErrors as err:
                errors.extend(err.details)
        if errors:
            raise ValidationFailed("batch", errors)
        with ctx.work() as work:
            batch, status = batch_service.add_operations(work, id_, ids)
            return ctx.respond(
                {
                    "batch": render_one(work.session, ctx.scope, BATCHES, batch, "single"),
                    "previous_status": status,
                    "new_status": status,
                    "batch_id": str(batch.id),
                    "operations_added": len(ids),
                },
                200,
                work,
            )

    for function, handler, actions, body, reply, example in (
        (
            "api-job-lifecycle",
            job_lifecycle,
            job_actions,
            docs.JOB_BODY,
            docs.JOB_REPLY,
            docs.JOB_EXAMPLE,
        ),
        (
            "api-operation-lifecycle",
            operation_lifecycle,
            operation_actions,
            docs.OPERATION_BODY,
            docs.OPERATION_REPLY,
            docs.OPERATION_EXAMPLE,
        ),
        (
            "api-batch-lifecycle",
            batch_lifecycle,
            list(BATCH_LIFECYCLE_ACTIONS),
            docs.BATCH_BODY,
            docs.BATCH_REPLY,
            docs.BATCH_EXAMPLE,
        ),
    ):
        params = _DOC_ID + (_DOC_OPERATOR if function == "api-operation-lifecycle" else [])
        doc = {"parameters": params, **body}
        router.add_api_route(
            f"/{function}/{{action:path}}",
            retrying(handler),
            methods=["POST"],
            openapi_extra=doc,
            responses=responses(200, reply, 404, 413, 422, example=example),
            summary=f"{function}: " + ", ".join(actions),
        )
        router.add_api_route(
            f"/{function}",
            _no_action(actions),
            methods=["POST"],
            include_in_schema=False,
            openapi_extra={"parameters": params},
        )
    return router


def _no_action(actions: list[str]) -> Any:
    @retrying  # writes nothing, but every write route is retried (tests/http)
    def handler(_ctx: ApiCtx) -> Any:
        raise InvalidOperation(unsupported_action("", actions))

    return handler
