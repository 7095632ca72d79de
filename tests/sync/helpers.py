"""Bodies and reads shared by the sync tests."""

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from floorsync.models.master import Cell, Job, Material, Operation, Part, Resource
from tests.support.api import count_rows, events

MODELS = {
    "jobs": Job,
    "parts": Part,
    "operations": Operation,
    "cells": Cell,
    "resources": Resource,
    "materials": Material,
}


def key() -> str:
    return f"K-{uuid.uuid4().hex[:10]}"


def job_body(ext: str | None = None, source: str = "SAP", **fields: Any) -> dict[str, Any]:
    ext = ext or key()
    return {"external_id": ext, "external_source": source, "job_number": f"J-{ext}", **fields}


def event_types(sessions: sessionmaker[Session], tenant_id: uuid.UUID, *types: str) -> list[str]:
    return [e.type for e in events(sessions, tenant_id, *types)]


def rows(sessions: sessionmaker[Session], tenant_id: uuid.UUID, entity: str) -> int:
    return count_rows(sessions, tenant_id, MODELS[entity])
