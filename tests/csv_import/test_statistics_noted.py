"""An import's committed batches tell the planner-statistics keeper what they wrote
(db/statistics.py), as the sync service does; a preview (rolled back) tells it nothing."""

from collections import Counter
from typing import Any

import pytest

from floorsync.bootstrap import Services
from floorsync.db.repository import TenantScope
from floorsync.models.enums import ImportPhase
from floorsync.sync import statistics_hook
from tests.csv_import.service_helpers import run, upload

ROWS = 150  # above statistics_hook.MIN_ROWS_NOTED


class _Keeper:
    def __init__(self) -> None:
        self.noted: Counter[str] = Counter()

    def note_writes(self, counts: Any) -> None:
        self.noted.update(counts)


def test_committed_batches_are_noted_and_a_preview_is_not(
    services: Services, scope: TenantScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = _Keeper()
    monkeypatch.setattr(statistics_hook, "analyzer_for", lambda engine: keeper)
    text = "job_number;customer\n" + "".join(f"J-{n};Acme\n" for n in range(ROWS))
    import_id = upload(services, scope, {"jobs.csv": text})
    run(services, scope, import_id, ImportPhase.preview)
    assert keeper.noted == Counter()
    run(services, scope, import_id)
    assert keeper.noted["jobs"] == ROWS
    assert keeper.noted["events"] >= ROWS
