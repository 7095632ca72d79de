"""Every endpoint that writes runs again when the database rolls its unit of work back for a lock
conflict (http.retry): a new POST, PUT, PATCH or DELETE route cannot forget it."""

from floorsync.http.retry import MARK
from floorsync.http.routing import iter_routes
from tests.support.server import LiveServer

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_write_route_is_retried_on_lock_conflicts(server: LiveServer) -> None:
    writes = [
        route
        for route in iter_routes(server.app.routes)
        if (route.methods or set()) & WRITES
        and route.path != "/{path:path}"  # the 404/405 fallback
    ]
    assert len(writes) > 40
    missing = sorted(
        f"{sorted(r.methods or ())} {r.path}"
        for r in writes
        if not getattr(r.endpoint, MARK, False)
    )
    assert missing == []
