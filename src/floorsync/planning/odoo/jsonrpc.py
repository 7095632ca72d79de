"""Odoo's JSON-RPC transport, for Odoo 16, 17 and 18 (spec §9.1–§9.4).

One route, `POST {base}/jsonrpc`, with `{"jsonrpc": "2.0", "method": "call", "id": n, "params":
{"service", "method", "args"}}`; the id increases per adapter and the answer must echo it.
Success and application failures both come back as HTTP 200: `result`, or `error` with the
exception in `error.data.name` and the text in `data.message` (falling back to `message`).
Any HTTP 404 means there is no JSON-RPC endpoint at the URL; other HTTP failures are classified
like every other planning request.

There is no session: `object.execute_kw(db, uid, password, model, method, args, kwargs)` checks
uid and password (or API key) on every call, so no cookie is kept or sent. When a call fails with
`AccessDenied` or code 100 the transport authenticates once more and repeats the call once with
the new uid; `false` from `authenticate` is refused credentials, never a uid.
"""

from collections.abc import Callable
from itertools import count
from typing import Any

import orjson

from floorsync.planning.base import (
    AuthReason,
    PlanningAuthError,
    PlanningError,
    PlanningProtocolError,
    PlanningSystem,
)
from floorsync.planning.http import JSON_UTF8, Answer, PlanningHttp, decode_json, status_error
from floorsync.planning.odoo.transport import ACCESS_DENIED, READ_ONLY_METHODS, classify

SYSTEM = PlanningSystem.ODOO
# Named parameters sent positionally after the ids, as Odoo's own clients do.
_POSITIONAL = {
    "search_read": ("domain",),
    "search": ("domain",),
    "search_count": ("domain",),
    "write": ("vals",),
    "create": ("vals_list",),
}


class RpcError(Exception):
    """An error envelope, before classification (the caller knows what was being done)."""

    def __init__(self, name: str, message: str, code: int | None) -> None:
        super().__init__(message)
        self.name, self.message, self.code = name, message, code


class JsonRpcTransport:
    kind = "jsonrpc"

    def __init__(
        self, http: PlanningHttp, base_url: str, database: str, login: str, secret: str
    ) -> None:
        self.http, self.url = http, base_url.rstrip("/") + "/jsonrpc"
        self.database, self.login, self._secret = database, login, secret
        self._ids = count(1)
        self.uid: int | None = None

    # ------------------------------------------------------------------------- services

    def version(self) -> dict[str, Any]:
        result = self._rpc(
            "common", "version", [], read_only=True, on_error=_classified("common.version")
        )
        if not isinstance(result, dict):
            raise PlanningProtocolError(SYSTEM, "common.version did not answer an object")
        return result

    def authenticate(self) -> int:
        """The uid for the login; refused credentials and an unknown database are auth errors."""

        def on_error(exc: RpcError) -> PlanningError:
            if self.database in exc.message or "does not exist" in exc.message:
                return PlanningAuthError(
                    SYSTEM,
                    f"Odoo database {self.database!r} does not exist or is not accessible",
                    reason=AuthReason.DATABASE,
                    upstream=exc.name or exc.code,
                )
            return classify(exc.name, exc.message, where="common.authenticate", code=exc.code)

        uid = self._rpc(
            "common",
            "authenticate",
            [self.database, self.login, self._secret, {}],
            read_only=True,
            on_error=on_error,
        )
        if uid is False or uid is None:
            raise PlanningAuthError(
                SYSTEM,
                f"Odoo refused the login {self.login!r} with this password or API key",
                reason=AuthReason.CREDENTIALS,
                upstream="authenticate",
            )
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise PlanningProtocolError(SYSTEM, f"common.authenticate answered {uid!r}, not a uid")
        self.uid = uid
        return uid

    def call(
        self,
        model: str,
        method: str,
        *,
        ids: list[int] | None = None,
        params: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> Any:
        named = dict(params or {})
        positional: list[Any] = [ids] if ids is not None else []
        for name in _POSITIONAL.get(method, ()):
            if name in named:
                positional.append(named.pop(name))
        if context is not None:
            named["context"] = context
        where = f"{model}.{method}"
        if self.uid is None:
            self.authenticate()
        classified = _classified(where)

        def first_try(exc: RpcError) -> PlanningError | None:
            expired = exc.name == ACCESS_DENIED or exc.code == 100
            return None if expired else classified(exc)

        args = [self.database, self.uid, self._secret, model, method, positional, named]
        read_only = method in READ_ONLY_METHODS
        try:
            return self._rpc("object", "execute_kw", args, read_only=read_only, on_error=first_try)
        except RpcError:
            self.authenticate()  # false → PlanningAuthError(credentials)
        args[1] = self.uid
        return self._rpc("object", "execute_kw", args, read_only=read_only, on_error=classified)

    # --------------------------------------------------------------------------- the wire

    def _rpc(
        self,
        service: str,
        method: str,
        args: list[Any],
        *,
        read_only: bool,
        on_error: Callable[[RpcError], PlanningError | None],
    ) -> Any:
        """One JSON-RPC request; returns `result`. An error envelope becomes the error
        `on_error` gives (so temporary ones are retried with the other read-only failures), or
        stays an RpcError when it gives None."""
        request_id = next(self._ids)
        body = orjson.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": request_id,
                "params": {"service": service, "method": method, "args": args},
            }
        )

        def interpret(answer: Answer) -> Any:
            if answer.status == 404:
                raise PlanningProtocolError(
                    SYSTEM,
                    "no Odoo JSON-RPC endpoint at this URL (HTTP 404); check the base URL, or set "
                    "the version explicitly for Odoo releases without /jsonrpc",
                    upstream=404,
                )
            failure = status_error(SYSTEM, answer, "Odoo")
            if failure is not None:
                raise failure
            if not 200 <= answer.status < 300:
                raise PlanningProtocolError(
                    SYSTEM,
                    f"Odoo answered HTTP {answer.status} to JSON-RPC",
                    upstream=answer.status,
                )
            envelope = decode_json(SYSTEM, answer, "Odoo")
            try:
                return _unwrap(envelope, request_id)
            except RpcError as exc:
                error = on_error(exc)
                if error is None:
                    raise
                raise error from None

        return self.http.request(
            "POST",
            self.url,
            interpret,
            read_only=read_only,
            headers={"Content-Type": JSON_UTF8, "Accept": "application/json"},
            body=body,
        )


def _classified(where: str) -> Callable[[RpcError], PlanningError]:
    def classified(exc: RpcError) -> PlanningError:
        return classify(exc.name, exc.message, where=where, code=exc.code)

    return classified


def _unwrap(envelope: Any, request_id: int) -> Any:
    if not isinstance(envelope, dict) or envelope.get("jsonrpc") != "2.0":
        raise PlanningProtocolError(SYSTEM, "Odoo did not answer a JSON-RPC 2.0 envelope")
    if envelope.get("id") != request_id:
        raise PlanningProtocolError(
            SYSTEM, f"Odoo answered JSON-RPC id {envelope.get('id')!r} to request {request_id}"
        )
    if "error" in envelope:
        error: dict[str, Any] = envelope["error"] if isinstance(envelope["error"], dict) else {}
        data: dict[str, Any] = error["data"] if isinstance(error.get("data"), dict) else {}
        message = str(data.get("message") or error.get("message") or "")
        code = error.get("code") if isinstance(error.get("code"), int) else None
        raise RpcError(str(data.get("name") or ""), message, code)
    if "result" not in envelope:
        raise PlanningProtocolError(SYSTEM, "Odoo's JSON-RPC answer has neither result nor error")
    return envelope["result"]
