"""Routing rules of the contract that a router can't express: unknown functions (404), later
functions (501), unknown sub-routes (400) and wrong methods (405 with Allow), all decided
after authentication, for every path no real route took."""

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from floorsync.errors import (
    BadRequest,
    InvalidOperation,
    MethodNotAllowed,
    NotFound,
    NotImplementedYet,
)
from floorsync.http.context import ApiCtx

# Functions of the catalogue not served yet (501 NOT_IMPLEMENTED stays defined for future ones;
# api-catalogue-completion emptied the list).
LATER_FUNCTIONS: tuple[str, ...] = ()
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Functions whose unknown sub-route has its own message.
SUBROUTE_MESSAGES = {"api-erp-sync": "Invalid endpoint. Use /diff, /sync, or /status"}

RouteTable = dict[str, dict[str, set[str]]]


def iter_routes(routes: list[Any]) -> Any:
    """Every APIRoute, descending into included routers (none of ours has a prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from iter_routes(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def build_route_table(app: FastAPI) -> RouteTable:
    table: RouteTable = defaultdict(lambda: defaultdict(set))
    for route in iter_routes(app.routes):
        if not route.path.startswith("/api-"):
            continue
        function, _, rest = route.path[1:].partition("/")
        table[function]["/" + rest if rest else ""].update(route.methods or ())
    return table


def allowed(methods: set[str]) -> list[str]:
    return [m for m in METHOD_ORDER if m in methods] + ["OPTIONS"]


def split(path: str) -> tuple[str, str]:
    function, _, rest = path.strip("/").partition("/")
    return function, "/" + rest if rest else ""


def _match(routes: dict[str, set[str]], rest: str) -> set[str] | None:
    if rest in routes:
        return routes[rest]
    parts = rest.split("/")
    for pattern, methods in routes.items():
        pat = pattern.split("/")
        if len(pat) == len(parts) and all(
            p == q or (p.startswith("{") and p.endswith("}"))
            for p, q in zip(pat, parts, strict=True)
        ):
            return methods
    return None


def fallback_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route(
        "/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "CONNECT"],
    )
    def unmatched(request: Request, _ctx: ApiCtx) -> Any:
        table: RouteTable = request.app.state.route_table
        function, rest = split(request.url.path)
        method = request.scope.get("state", {}).get("original_method", request.method)
        if function in LATER_FUNCTIONS:
            raise NotImplementedYet(f"{function} is not available in this version of floorsync")
        if function not in table:
            raise NotFound("Unknown endpoint")
        routes = table[function]
        if function.endswith("-lifecycle"):
            methods = set().union(*routes.values())
            if method not in methods:
                raise MethodNotAllowed(method, allowed(methods))
            raise InvalidOperation(f"Invalid operation '{rest.strip('/')}'")
        methods_for_rest = _match(routes, rest)
        if methods_for_rest is None:
            raise BadRequest(SUBROUTE_MESSAGES.get(function, f"Unknown endpoint: {function}{rest}"))
        raise MethodNotAllowed(method, allowed(methods_for_rest))

    return router
