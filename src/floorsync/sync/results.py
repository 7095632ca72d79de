"""Results are data: a SyncReport of RecordResults in input order, plus counts. The HTTP layer
(bulk, single, erp-sync, diff), the history writer and later the CSV preview all render it.

Per-record error codes (API §4.6):

    VALIDATION_ERROR       the item itself is wrong (shape, fields, aliases, mismatched refs)
    REFERENCE_NOT_FOUND    a reference does not resolve to a live record of the tenant
    CONFLICT               a unique rule is broken by another live record, or a race lost
    DUPLICATE_IN_REQUEST   the key already occurred earlier in the same request
    INTERNAL_ERROR         an unexpected failure while writing (rolled back and logged)
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from floorsync.errors import Detail

# What happened to a record (`action` on the wire).
SyncAction = Literal["created", "updated", "skipped", "deleted", "error", "rolled_back"]
ACTIONS: tuple[SyncAction, ...] = (
    "created",
    "updated",
    "skipped",
    "deleted",
    "error",
    "rolled_back",
)
DIFF_STATUS: dict[str, str] = {  # action → the diff preview's status
    "created": "create",
    "updated": "update",
    "skipped": "unchanged",
    "deleted": "delete",
    "error": "error",
    "rolled_back": "error",
}


@dataclass
class RecordError:
    code: str
    message: str
    details: list[Detail] = field(default_factory=list)

    def details_json(self) -> list[dict[str, Any]]:
        return [d.as_dict() for d in self.details]


@dataclass
class RecordResult:
    index: int | None
    external_id: str | None
    external_source: str | None
    id: uuid.UUID | None
    action: SyncAction
    skipped_reason: str | None = None
    revived: bool = False
    changes: list[dict[str, Any]] | None = None
    children: dict[str, list["RecordResult"]] | None = None
    error: RecordError | None = None
    item: Any = None  # the item exactly as received (results.errors[].item)
    row: Any = None  # the row after the write (or as found), for single-record responses

    def entry(self, *, source: bool = True) -> dict[str, Any]:
        """The record entry of `records[]` / `results[]` (API §4.8), children included."""
        out: dict[str, Any] = {"index": self.index, "external_id": self.external_id}
        if source:
            out["external_source"] = self.external_source
        out["id"] = str(self.id) if self.id is not None else None
        out["action"] = self.action
        if self.skipped_reason is not None:
            out["skipped_reason"] = self.skipped_reason
        if self.revived:
            out["revived"] = True
        if self.changes is not None:
            out["changes"] = self.changes
        if self.children is not None:
            out["children"] = {
                k: [c.entry(source=False) for c in v] for k, v in self.children.items()
            }
        self._add_error(out)
        return out

    def _add_error(self, out: dict[str, Any]) -> None:
        """`error`, `code` and `details` of a failed record (API §4.6), in both vocabularies."""
        if self.error is not None:
            out["error"] = self.error.message
            out["code"] = self.error.code
            if self.error.details:
                out["details"] = self.error.details_json()

    def diff_entry(self, *, source: bool = True) -> dict[str, Any]:
        """The record entry of `api-erp-sync/diff` (status vocabulary create/update/…)."""
        out: dict[str, Any] = {"index": self.index, "external_id": self.external_id}
        if source:
            out["external_source"] = self.external_source
        out["status"] = DIFF_STATUS[self.action]
        out["existing_id"] = (
            str(self.id) if self.id is not None and self.action != "created" else None
        )
        if self.changes is not None and self.action == "updated":
            out["changes"] = self.changes
        if self.children is not None:
            out["children"] = {
                k: [c.diff_entry(source=False) for c in v] for k, v in self.children.items()
            }
        self._add_error(out)
        return out


@dataclass
class SyncReport:
    """What one sync_records call did, for one entity (one bulk request or one erp section)."""

    entity: str
    singular: str
    results: list[RecordResult] = field(default_factory=list)
    pruned: list[RecordResult] = field(default_factory=list)  # snapshot deletions
    nested: bool = False  # the input used nested child arrays
    dry_run: bool = False
    atomic: bool = False
    duration_ms: int = 0
    written_keys: list[str] = field(default_factory=list)  # external ids created or updated

    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter(r.action for r in self.results)
        c["deleted"] += len(self.pruned)
        return c

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.action == "error")

    @property
    def wrote(self) -> bool:
        c = self.counts()
        return bool(c["created"] or c["updated"] or c["deleted"])

    def child_counts(self) -> dict[str, dict[str, int]]:
        """Counts per child entity over the records that were not failed (API §4.9)."""
        counts: dict[str, Counter[str]] = {}

        def walk(result: RecordResult) -> None:
            for key, kids in (result.children or {}).items():
                bucket = counts.setdefault(key, Counter())
                for kid in kids:
                    bucket[kid.action] += 1
                    walk(kid)

        for r in self.results:
            if r.action != "error":
                walk(r)
        return {
            key: {
                "created": c["created"],
                "updated": c["updated"],
                "skipped": c["skipped"],
                "failed": c["error"],
                "deleted": c["deleted"],
            }
            for key, c in counts.items()
        }

    def mark_rolled_back(self) -> None:
        """An atomic run failed: nothing was committed, so the successes become rolled_back."""
        for r in self.results:
            if r.action != "error":
                r.action, r.id, r.skipped_reason, r.revived, r.children = (
                    "rolled_back",
                    None,
                    None,
                    False,
                    None,
                )
        self.pruned = []
        self.written_keys = []


def bulk_payload(
    report: SyncReport, *, group_id: uuid.UUID | None, committed: bool
) -> dict[str, Any]:
    """`data` of POST /api-<entity>/bulk-sync (API §4.8)."""
    c = report.counts()
    out: dict[str, Any] = {
        "total": report.total,
        "created": c["created"],
        "updated": c["updated"],
        "skipped": c["skipped"],
        "failed": c["error"],
        "deleted": c["deleted"],
    }
    if report.atomic:
        out["rolled_back"] = c["rolled_back"]
    out["records"] = [r.entry() for r in report.results] + [r.entry() for r in report.pruned]
    out["results"] = eryxon_results(report)
    if report.nested:
        out["children"] = report.child_counts()
    out["group_id"] = str(group_id) if group_id is not None else None
    out["dry_run"] = report.dry_run
    out["committed"] = committed
    return out


def eryxon_results(report: SyncReport) -> dict[str, Any]:
    c = report.counts()
    return {
        "created": c["created"],
        "updated": c["updated"],
        "skipped": c["skipped"],
        "failed": c["error"],
        "deleted": c["deleted"],
        "errors": [
            {
                "index": r.index,
                "external_id": r.external_id,
                "item": r.item,
                "error": r.error.message,
            }
            for r in report.results
            if r.error is not None
        ],
    }
