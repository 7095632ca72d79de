"""Payloads of the job, part and operation lifecycle events (Events and webhooks §2.4; the batch
events' payload is in entities/shopfloor/batches.py), in their contract key order.
The outbox appends `origin`; `caused_by` is set on roll-up events only."""

from datetime import datetime
from typing import Any

from floorsync.kit.timefmt import format_ts


def _status(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def job_payload(
    job: Any,
    *,
    action: str | None,
    previous: str,
    new: str,
    at: datetime,
    caused_by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "job_id": str(job.id),
        "job_number": job.job_number,
        "customer": job.customer,
        "external_source": job.external_source,
        "external_id": job.external_id,
        "action": action,
        "previous_status": previous,
        "new_status": new,
        "timestamp": format_ts(at),
        "started_at": format_ts(job.started_at),
        "completed_at": format_ts(job.completed_at),
        "actual_duration": job.actual_duration,
    }
    if caused_by is not None:
        data["caused_by"] = caused_by
    return data


def part_payload(
    part: Any, job: Any, *, previous: str, new: str, at: datetime, caused_by: dict[str, Any]
) -> dict[str, Any]:
    return {
        "part_id": str(part.id),
        "part_number": part.part_number,
        "job_id": str(part.job_id),
        "job_number": job.job_number if job is not None else None,
        "customer": job.customer if job is not None else None,
        "external_source": part.external_source,
        "external_id": part.external_id,
        "action": None,
        "previous_status": previous,
        "new_status": new,
        "timestamp": format_ts(at),
        "started_at": format_ts(part.started_at),
        "completed_at": format_ts(part.completed_at),
        "caused_by": caused_by,
    }


def operation_payload(
    op: Any,
    part: Any,
    job: Any,
    *,
    action: str,
    previous: str,
    new: str,
    at: datetime,
    operator_id: str | None,
    batch_id: Any = None,
) -> dict[str, Any]:
    return {
        "operation_id": str(op.id),
        "operation_name": op.operation_name,
        "part_id": str(op.part_id),
        "part_number": part.part_number if part is not None else None,
        "job_id": _id(part.job_id if part is not None else None),
        "job_number": job.job_number if job is not None else None,
        "customer": job.customer if job is not None else None,
        "external_source": op.external_source,
        "external_id": op.external_id,
        "action": action,
        "previous_status": previous,
        "new_status": new,
        "timestamp": format_ts(at),
        "cell_id": _id(op.cell_id),
        "estimated_time": op.estimated_time,
        "actual_time": op.actual_time,
        "completion_percentage": op.completion_percentage,
        "operator_id": operator_id,
        "batch_id": _id(batch_id),
    }
