"""Per-tenant rate limits (API §1.13): N requests per fixed window of W seconds, windows aligned
to multiples of W since the Unix epoch. The default (no limit) writes nothing and sends no
headers.

The counter lives in the database (`rate_limit_counters`), so every API process shares it: one
`INSERT … ON CONFLICT DO UPDATE SET count = count + 1 WHERE count < N RETURNING count` in a
short transaction of its own. A request refused with 429 is not counted (the conditional update
writes nothing), so a client that keeps retrying doesn't push its own reset further away.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from floorsync.db.repository import TenantScope, tenant_filter
from floorsync.errors import Detail, RateLimited
from floorsync.kit.timefmt import format_ts
from floorsync.models.tenancy import RateLimitCounter, Tenant

DEFAULT_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateLimitState:
    """Where the tenant stands in the current window after this request."""

    limit: int
    window: int  # seconds
    remaining: int
    reset: int  # Unix time (seconds) at which the window ends
    exceeded: bool
    now: datetime

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset - self.now.timestamp()))

    def error(self) -> RateLimited:
        info: dict[str, Any] = {
            "limit": self.limit,
            "remaining": 0,
            "resetAt": format_ts(datetime.fromtimestamp(self.reset, UTC)),
            "retryAfter": self.retry_after,
        }
        message = (
            f"Rate limit exceeded: {self.limit} requests per {self.window} seconds. "
            f"Retry after {self.retry_after} seconds."
        )
        # `details` is an array as on every other error (issue 15); `rateLimitInfo` keeps the
        # object Eryxon clients read (API §1.8). The X-RateLimit-* headers are added by the
        # middleware, like on every other response.
        return RateLimited(
            message,
            [Detail("rate_limit", message, "RATE_LIMIT", info)],
            headers={"Retry-After": str(self.retry_after)},
            info=info,
        )


def _upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(RateLimitCounter)
    if dialect == "sqlite":
        return sqlite.insert(RateLimitCounter)
    raise NotImplementedError(f"no rate-limit counter for the {dialect} dialect")


def tenant_limit(session: Session, tenant_id: Any) -> tuple[int, int] | None:
    """The tenant's (requests, window seconds), or None when it is unlimited (reads only)."""
    row = session.execute(
        select(Tenant.rate_limit_requests, Tenant.rate_limit_window_seconds).where(
            Tenant.id == tenant_id
        )
    ).first()
    if row is None or row.rate_limit_requests is None:
        return None
    window = (
        row.rate_limit_window_seconds
        if row.rate_limit_window_seconds > 0
        else DEFAULT_WINDOW_SECONDS
    )
    return int(row.rate_limit_requests), int(window)


def count_request(
    session: Session, tenant_id: Any, now: datetime, limit: int, window: int
) -> RateLimitState:
    """Count one request of the tenant in the current window; the caller commits, right away
    (the counter must not wait for the request's own work)."""
    epoch = int(now.timestamp())
    start = epoch - epoch % window
    reset = start + window
    count: int | None = None
    if limit > 0:
        stmt = _upsert(session).values(tenant_id=tenant_id, window_start=start, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[RateLimitCounter.tenant_id, RateLimitCounter.window_start],
            set_={"count": RateLimitCounter.count + 1},
            where=RateLimitCounter.count < limit,
        ).returning(RateLimitCounter.count)
        count = session.execute(stmt).scalar_one_or_none()
        if count == 1:  # the window's first request: forget the tenant's earlier windows
            session.execute(
                delete(RateLimitCounter).where(
                    tenant_filter(RateLimitCounter, TenantScope(tenant_id)),
                    RateLimitCounter.window_start < start,
                )
            )
    if count is None:
        return RateLimitState(limit, window, 0, reset, True, now)
    return RateLimitState(limit, window, max(0, limit - count), reset, False, now)
