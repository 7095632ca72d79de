"""After a committed sync, tell the planner-statistics keeper what it wrote
(db/statistics.py: it analyses a table that grew a lot, in the background)."""

from collections import Counter
from collections.abc import Iterable, Sequence

from floorsync.db.statistics import analyzer_for
from floorsync.db.uow import Work
from floorsync.entities.spec import get_spec
from floorsync.sync.results import RecordResult, SyncReport

# Fewer rows than this in one run are not worth a look (single-record syncs).
MIN_ROWS_NOTED = 100
_WRITES = ("created", "updated", "deleted")


def written_rows_by_table(reports: Sequence[SyncReport]) -> Counter[str]:
    """Rows each table got written (created, updated or soft-deleted), nested children too."""
    counts: Counter[str] = Counter()

    def walk(entity: str, results: Iterable[RecordResult]) -> None:
        table = get_spec(entity).model.__tablename__
        for result in results:
            if result.action in _WRITES:
                counts[table] += 1
            for key, kids in (result.children or {}).items():
                walk(key, kids)

    for report in reports:
        walk(report.entity, report.results)
        counts[get_spec(report.entity).model.__tablename__] += len(report.pruned)
    return counts


def note_after_commit(work: Work, reports: Sequence[SyncReport]) -> None:
    """Register, on `work`, a callback that reports its writes once it has committed."""
    counts = written_rows_by_table(reports)
    if sum(counts.values()) < MIN_ROWS_NOTED:
        return
    engine = work.session.get_bind().engine
    work.after_commit.append(lambda: analyzer_for(engine).note_writes(counts))
