"""Paging and filter helpers for the admin list pages."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def filters_from(params: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The filters of `names` that are set in the query string (empty ones mean "any")."""
    return {name: params[name].strip() for name in names if params.get(name, "").strip()}


def _offset(raw: str | None) -> int:
    if raw is None or not raw.isdigit() or len(raw) > 12:
        return 0
    return int(raw)


@dataclass
class Pager:
    """One page of a list: `offset` and `limit`, and (once counted) `total`."""

    offset: int
    limit: int
    total: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, str], limit: int) -> "Pager":
        return cls(_offset(params.get("offset")), limit)

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    def query(self, filters: Mapping[str, Any], offset: int | None) -> dict[str, Any]:
        """The query string of another page of the same list."""
        return {**filters, "offset": offset or None}
