"""Odoo's JSON-2 transport, for Odoo 19 and later (spec §9.10).

`POST {base}/json/2/<model>/<method>` with `Authorization: bearer <API key>` and
`X-Odoo-Database`; the body holds the method's named arguments plus `ids` for record methods and
`context`; the answer is the method's return value. There is no `authenticate`: the key
identifies the user. Errors use real HTTP statuses with a JSON body (an object with `name` and
`message`, or a bare string such as `"Invalid apikey"`). An exception raised by Odoo's code (a
`name` that is not a `werkzeug.` HTTP exception) is classified exactly like the JSON-RPC
envelope's, so a `MissingError` is still a missing record and a `UserError` a rejection;
otherwise the status decides (a 400/404 about the database is the `X-Odoo-Database` header
naming no database: auth, reason database): 401 → auth (credentials), 403 → auth (permission), 404 and 400 →
protocol (unknown model or method, malformed call), 422 → rejected, 429/5xx → unavailable.
"""

from typing import Any
from urllib.parse import quote

import orjson

from floorsync.planning.base import (
    AuthReason,
    PlanningAuthError,
    PlanningError,
    PlanningProtocolError,
    PlanningRejected,
    PlanningSystem,
)
from floorsync.planning.http import JSON_UTF8, Answer, PlanningHttp, decode_json, status_error
from floorsync.planning.odoo.transport import READ_ONLY_METHODS, classify

SYSTEM = PlanningSystem.ODOO


class Json2Transport:
    kind = "json2"

    def __init__(self, http: PlanningHttp, base_url: str, database: str, api_key: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self._headers = {
            "Authorization": f"bearer {api_key}",
            "X-Odoo-Database": database,
            "Content-Type": JSON_UTF8,
            "Accept": "application/json",
        }

    def call(
        self,
        model: str,
        method: str,
        *,
        ids: list[int] | None = None,
        params: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> Any:
        body: dict[str, Any] = dict(params or {})
        if ids is not None:
            body["ids"] = ids
        if context is not None:
            body["context"] = context
        where = f"{model}.{method}"
        url = f"{self.base_url}/json/2/{quote(model, safe='.')}/{quote(method, safe='')}"

        def interpret(answer: Answer) -> Any:
            if 200 <= answer.status < 300:
                return decode_json(SYSTEM, answer, "Odoo")
            raise _failure(answer, where)

        return self.http.request(
            "POST",
            url,
            interpret,
            read_only=method in READ_ONLY_METHODS,
            headers=self._headers,
            body=orjson.dumps(body),
        )


def _failure(answer: Answer, where: str) -> PlanningError:
    status = answer.status
    name, message = "", answer.text(500)
    if answer.is_json:
        try:
            body = orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            name = str(body.get("name") or "")
            message = str(body.get("message") or (body.get("data") or {}).get("message") or "")
        elif isinstance(body, str):
            message = body
    if name and not name.startswith("werkzeug."):  # an exception raised by Odoo's code
        return classify(name, message, where=where, upstream=status)
    if status in (400, 404) and "database" in message.lower():
        return PlanningAuthError(
            SYSTEM,
            f"Odoo does not serve the configured database ({message})",
            reason=AuthReason.DATABASE,
            upstream=status,
        )
    if status == 401:
        return PlanningAuthError(
            SYSTEM,
            f"Odoo refused the API key ({message or 'HTTP 401'})",
            reason=AuthReason.CREDENTIALS,
            upstream=status,
        )
    if status == 403:
        return PlanningAuthError(
            SYSTEM,
            f"the Odoo user lacks a right for {where}: {message or 'HTTP 403'}",
            reason=AuthReason.PERMISSION,
            upstream=status,
        )
    if status == 422:
        return PlanningRejected(
            SYSTEM,
            message or f"Odoo refused {where}",
            details={"name": name, "message": message},
            upstream=status,
        )
    generic = status_error(SYSTEM, answer, "Odoo")
    if generic is not None:
        return generic
    hint = "unknown model or method" if status == 404 else "the call was malformed"
    return PlanningProtocolError(
        SYSTEM, f"Odoo {where} answered HTTP {status} ({hint}): {message}", upstream=status
    )
