"""Unknown query parameters (README, API §1.1).

A misspelt safety option must never write: `POST /api-jobs/bulk-sync?dryrun=true` would
otherwise sync for real. So every endpoint that writes (POST, PUT, PATCH, DELETE: syncs, bulk
and ERP syncs, lifecycles, creates, updates, deletes) answers 400 BAD_REQUEST naming each unknown
parameter and listing the ones it accepts. Reads keep ignoring unknown parameters, because
clients of the compatible API send some, but say so: the response carries
`X-Ignored-Query-Params: a,b` and the access line `ignored_params=a,b`.

What a route accepts is what its OpenAPI operation declares (`openapi_extra["parameters"]` with
`in: query`, and FastAPI's own query parameters), so the documentation and the check cannot
disagree.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fastapi import Request

from floorsync.errors import BadRequest, Detail
from floorsync.http.responses import RESPONSE_HEADERS

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Every route tolerates `?id=`: the API's record-id parameter, which a create ignores (Eryxon
# clients send it, and the suite checks that it is ignored) and which selects nothing unsafe
# anywhere else.
ALWAYS_ACCEPTED = frozenset({"id"})
IGNORED_HEADER = "X-Ignored-Query-Params"
_CACHE = "_floorsync_query_params"


def _dependant_params(dependant: Any) -> Iterator[str]:
    for param in getattr(dependant, "query_params", ()):
        yield param.alias
    for sub in getattr(dependant, "dependencies", ()):
        yield from _dependant_params(sub)


def accepted(route: Any) -> frozenset[str] | None:
    """The query parameters a route declares (cached on the route); None for a route that is
    not an API operation (the catch-all, a mount)."""
    cached = getattr(route, _CACHE, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if getattr(route, "dependant", None) is None or route.path == "/{path:path}":
        return None
    declared = (getattr(route, "openapi_extra", None) or {}).get("parameters", [])
    names = frozenset(
        [p["name"] for p in declared if isinstance(p, dict) and p.get("in") == "query"]
        + list(_dependant_params(route.dependant))
    )
    setattr(route, _CACHE, names)
    return names


def _safe(name: str) -> str:
    """A parameter name as it can appear in a header (printable ASCII, no commas)."""
    return quote(name, safe="!#$%&'*+-.^_`|~:;/[]{}()<>@?=")[:100]


def check_query_params(request: Request) -> None:
    """Refuse unknown query parameters on a write (400); on a read, report them."""
    names = accepted(request.scope.get("route"))
    if names is None:
        return
    unknown = [
        k
        for k in dict.fromkeys(request.query_params.keys())
        if k not in names and k not in ALWAYS_ACCEPTED
    ]
    if not unknown:
        return
    method = request.scope.get("state", {}).get("original_method", request.method)
    listing = ", ".join(sorted(names)) or "none"
    if method in WRITE_METHODS:
        plural = "s" if len(unknown) > 1 else ""
        raise BadRequest(
            f"Unknown query parameter{plural}: {', '.join(unknown)} (this endpoint accepts: {listing})",
            [
                Detail(
                    name,
                    f"unknown query parameter; accepted: {listing}",
                    "UNKNOWN_FIELD",
                    request.query_params.get(name),
                )
                for name in unknown
            ],
        )
    state = request.scope.setdefault("state", {})
    state["ignored_query_params"] = [_safe(n) for n in unknown]
    state.setdefault(RESPONSE_HEADERS, {})[IGNORED_HEADER] = ",".join(state["ignored_query_params"])
