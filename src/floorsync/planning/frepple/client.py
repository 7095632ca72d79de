"""The FrePPLe REST client (spec §8.1–§8.4, §8.8): URLs, authentication, list shapes, filters and
the classification of every answer. It returns FrePPLe JSON (dicts) to the adapter only.

* URLs: `{base}[/{scenario}]/api/input/<model>/[<key>/]?format=json…`, always with the trailing
  slash; keys are percent-encoded with no safe characters (`MO/2026/001` → `MO%2F2026%2F001`).
* Auth: `Authorization: Basic …` or `Bearer <API key>` on every request (no session cookies).
* Lists are plain arrays. An opt-in pagination envelope `{count, next, previous, results}` is
  followed while `next` stays on the base URL's scheme, host and port (credentials are never
  sent elsewhere), is not seen twice, within 1,000 pages and `max_records` records.
* Unknown filters are silently ignored by FrePPLe, so the query strings are built here exactly:
  `format=json` first, then the filters in the order given; `__in` lists are comma-separated with
  each key percent-encoded, sent in chunks of at most 100 keys and 6,000 characters, and keys
  containing a comma (which cannot be in such a list) are fetched one by one with the exact
  filter.
* Answers: 401 → auth (credentials); 403 HTML "Invalid API key" → auth (credentials), other
  403 → auth (permission); 302/303 to `/data/login/` → auth (login_redirect), never followed;
  404 "Scenario not in use…" → auth (scenario); 404 with `{"detail"}` on a detail URL → order
  not found; other 404, 405, other 3xx, HTML → protocol; 400 → protocol on a list (we built a
  bad query), rejected with the field messages on a write; 408/425/429/5xx → unavailable.
"""

from collections.abc import Iterator, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from floorsync.planning.base import (
    AuthReason,
    PlanningAuthError,
    PlanningError,
    PlanningOrderNotFound,
    PlanningProtocolError,
    PlanningRejected,
    PlanningSystem,
)
from floorsync.planning.http import JSON_UTF8, Answer, PlanningHttp, decode_json, status_error

SYSTEM = PlanningSystem.FREPPLE
SCENARIO_DENIED = "Scenario not in use, or access is denied"
MAX_PAGES = 1000
IN_CHUNK_KEYS = 100
IN_CHUNK_CHARS = 6000
Context = Literal["list", "detail", "write", "probe"]
Record = dict[str, Any]


def encode(value: str) -> str:
    return quote(value, safe="")


class FreppleClient:
    def __init__(
        self,
        http: PlanningHttp,
        base_url: str,
        authorization: str,
        *,
        scenario: str | None = None,
        max_records: int = 100_000,
    ) -> None:
        self.http, self.base_url, self.max_records = http, base_url.rstrip("/"), max_records
        self.scenario = scenario
        self._root = self.base_url + (f"/{encode(scenario)}" if scenario else "")
        self._headers = {"Authorization": authorization, "Accept": "application/json"}
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme.lower(), origin.hostname, _port(origin.scheme, origin.port))

    # ------------------------------------------------------------------------------ URLs

    def url(
        self, model: str, key: str | None = None, params: Sequence[tuple[str, str]] = ()
    ) -> str:
        path = f"{self._root}/api/input/{model}/"
        if key is not None:
            path += f"{encode(key)}/"
        query = "&".join(["format=json", *(f"{k}={v}" for k, v in params)])
        return f"{path}?{query}"

    # ----------------------------------------------------------------------------- reads

    def fetch(self, model: str, params: Sequence[tuple[str, str]] = ()) -> list[Record]:
        """Every record matching the (already encoded) filters, following an envelope."""
        return self._collect(self.url(model, params=params), "list")

    def probe(self, model: str, field: str) -> bool:
        """The capability probe `?{field}=__floorsync_probe__`: True when the endpoint answers a
        list, False when it does not exist (404)."""
        url = self.url(model, params=[(field, "__floorsync_probe__")])
        return self.http.request(
            "GET", url, self._probe_answer, read_only=True, headers=self._headers
        )

    def fetch_in(
        self,
        model: str,
        field: str,
        keys: Sequence[str],
        params: Sequence[tuple[str, str]] = (),
    ) -> list[Record]:
        """Records whose `field` is one of `keys`: `field__in` chunks, comma keys one by one."""
        records: list[Record] = []
        for chunk in self.in_chunks(field, keys):
            if isinstance(chunk, str):
                records.extend(self.fetch(model, [(field, encode(chunk)), *params]))
            else:
                records.extend(self.fetch(model, [(f"{field}__in", ",".join(chunk)), *params]))
        return records

    @staticmethod
    def in_chunks(field: str, keys: Sequence[str]) -> Iterator[list[str] | str]:
        """Encoded `__in` chunks (lists) of at most 100 keys and 6,000 characters of query; a key
        containing a comma is yielded alone, unencoded (a str), for an exact filter."""
        chunk: list[str] = []
        size = len(field) + len("__in=") + len("format=json&") + 64  # room for the other filters
        for key in dict.fromkeys(keys):
            if "," in key:
                yield key
                continue
            item = encode(key)
            if chunk and (len(chunk) >= IN_CHUNK_KEYS or size + len(item) + 1 > IN_CHUNK_CHARS):
                yield chunk
                chunk, size = [], len(field) + len("__in=") + len("format=json&") + 64
            chunk.append(item)
            size += len(item) + 1
        if chunk:
            yield chunk

    def get(self, model: str, key: str) -> Record:
        """One record by primary key; 404 → PlanningOrderNotFound."""
        url = self.url(model, key)

        def interpret(answer: Answer) -> Record:
            data = self._json(answer, "detail")
            if isinstance(data, list) and len(data) == 1:  # a development-line detail shape
                data = data[0]
            if not isinstance(data, dict):
                raise PlanningProtocolError(SYSTEM, f"GET {model}/{key}/ did not answer an object")
            return data

        return self.http.request("GET", url, interpret, read_only=True, headers=self._headers)

    # ---------------------------------------------------------------------------- writes

    def patch(self, model: str, key: str, body: bytes) -> None:
        """PATCH one record (never retried here). Only the 2xx status matters: 9.17 answers the
        record, the development line a summary."""

        def interpret(answer: Answer) -> None:
            if not 200 <= answer.status < 300:
                raise self._failure(answer, "write")

        headers = {**self._headers, "Content-Type": JSON_UTF8.replace("utf-8", "UTF-8")}
        self.http.request(
            "PATCH", self.url(model, key), interpret, read_only=False, headers=headers, body=body
        )

    # -------------------------------------------------------------------------- answers

    def _collect(self, first_url: str, context: Context) -> list[Record]:
        records: list[Record] = []
        seen = {first_url}
        url: str | None = first_url
        pages = 0
        while url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise PlanningProtocolError(SYSTEM, f"more than {MAX_PAGES} pages in one list")
            data = self.http.request(
                "GET", url, lambda a: self._json(a, context), read_only=True, headers=self._headers
            )
            if isinstance(data, list):
                if pages > 1:
                    raise PlanningProtocolError(SYSTEM, "a list page answered a plain array")
                page, next_url = data, None
            elif isinstance(data, dict) and isinstance(data.get("results"), list):
                page, next_url = data["results"], data.get("next")
            else:
                raise PlanningProtocolError(
                    SYSTEM, f"unexpected list shape ({type(data).__name__}) from {first_url}"
                )
            if not all(isinstance(r, dict) for r in page):
                raise PlanningProtocolError(SYSTEM, "a list contained something other than records")
            records.extend(page)
            if next_url is not None or pages > 1:
                self._check_cap(records)
            url = self._next(next_url, seen)
        return records

    def _check_cap(self, records: list[Record]) -> None:
        """A paged list longer than the pull cap (plain arrays are capped by the adapter, which
        counts work orders)."""
        if len(records) > self.max_records:
            raise PlanningProtocolError(
                SYSTEM,
                f"the list has more than max_records_per_pull = {self.max_records} records",
            )

    def _next(self, next_url: Any, seen: set[str]) -> str | None:
        if next_url is None:
            return None
        if not isinstance(next_url, str):
            raise PlanningProtocolError(SYSTEM, "the list envelope's next is not a URL")
        parts = urlsplit(next_url)
        try:
            origin = (parts.scheme.lower(), parts.hostname, _port(parts.scheme, parts.port))
        except ValueError:
            origin = ("", None, 0)
        if origin != self._origin:
            raise PlanningProtocolError(
                SYSTEM,
                f"the list envelope's next URL {next_url} leaves the base URL's host; "
                "not followed (credentials are not sent there)",
            )
        if next_url in seen:
            raise PlanningProtocolError(
                SYSTEM, f"the list envelope's next URL {next_url} was already read (a loop)"
            )
        seen.add(next_url)
        return next_url

    def _probe_answer(self, answer: Answer) -> bool:
        if answer.status == 404 and not _scenario_denied(answer):
            return False
        data = self._json(answer, "probe")
        if not isinstance(data, list | dict):
            raise PlanningProtocolError(SYSTEM, "the probe did not answer a list")
        return True

    def _json(self, answer: Answer, context: Context) -> Any:
        if not 200 <= answer.status < 300:
            raise self._failure(answer, context)
        return decode_json(SYSTEM, answer, "FrePPLe", exact_numbers=True)

    def _failure(self, answer: Answer, context: Context) -> PlanningError:
        status = answer.status
        where = f"{answer.method} {urlsplit(answer.url).path}"
        if status in (301, 302, 303, 307, 308) and self._is_login(answer.location):
            return PlanningAuthError(
                SYSTEM,
                f"{where} was redirected to the login page: the credentials or token were refused",
                reason=AuthReason.LOGIN_REDIRECT,
                upstream=status,
            )
        if status == 401:
            return PlanningAuthError(
                SYSTEM,
                f"FrePPLe refused the credentials: {_detail(answer) or 'HTTP 401'}",
                reason=AuthReason.CREDENTIALS,
                upstream=status,
            )
        if status == 403:
            text = answer.text(200)
            if not answer.is_json and text.lstrip().startswith("Invalid API key"):
                return PlanningAuthError(
                    SYSTEM,
                    "FrePPLe refused the API key (unknown or expired)",
                    reason=AuthReason.CREDENTIALS,
                    upstream=status,
                )
            return PlanningAuthError(
                SYSTEM,
                f"the FrePPLe user lacks a permission for {where}: {_detail(answer) or text}",
                reason=AuthReason.PERMISSION,
                upstream=status,
            )
        if status == 404:
            if _scenario_denied(answer) and self.scenario is None:
                # FrePPLe reads the first path segment of an unknown URL as a scenario name.
                return PlanningProtocolError(
                    SYSTEM,
                    f"{where}: FrePPLe took a segment of the base URL's path for a scenario; "
                    "check the base URL",
                    upstream=status,
                )
            if _scenario_denied(answer):
                return PlanningAuthError(
                    SYSTEM,
                    f"scenario {self.scenario!r} is not in use or not accessible to this user",
                    reason=AuthReason.SCENARIO,
                    upstream=status,
                )
            if context in ("detail", "write") and _detail(answer) is not None:
                return PlanningOrderNotFound(
                    SYSTEM,
                    "order not found in FrePPLe",
                    details={"detail": _detail(answer)},
                    upstream=status,
                )
            return PlanningProtocolError(
                SYSTEM,
                f"{where} answered 404: no FrePPLe API there; check the base URL",
                upstream=status,
            )
        if status == 405:
            return PlanningProtocolError(
                SYSTEM, f"{where} is not allowed (HTTP 405); check the base URL", upstream=status
            )
        # 400 is a validation error: of our query on a read (we built it badly), of the change
        # on a write. Other 4xx refusals of a write are rejections too.
        if status == 400 or (context == "write" and status in (409, 410, 412, 413, 415, 422)):
            body = _json_or_none(answer)
            details = body if isinstance(body, dict) else {"body": answer.text(500)}
            if context == "write":
                return PlanningRejected(
                    SYSTEM,
                    f"FrePPLe refused the change: {_field_messages(details)}",
                    details=details,
                    upstream=status,
                )
            return PlanningProtocolError(
                SYSTEM,
                f"FrePPLe refused the query {where}: {_field_messages(details)}",
                upstream=status,
            )
        generic = status_error(SYSTEM, answer, "FrePPLe")
        if generic is not None:
            return generic
        return PlanningProtocolError(
            SYSTEM, f"{where} answered HTTP {status}", upstream=status, excerpt=answer.text(300)
        )

    def _is_login(self, location: str) -> bool:
        path = urlsplit(location).path
        prefixes = {"", urlsplit(self.base_url).path.rstrip("/")}
        if self.scenario:
            prefixes |= {f"{p}/{encode(self.scenario)}" for p in list(prefixes)}
        return any(path.startswith(f"{p}/data/login/") for p in prefixes)


def _port(scheme: str, port: int | None) -> int:
    return port or (443 if scheme.lower() == "https" else 80)


def _scenario_denied(answer: Answer) -> bool:
    return answer.status == 404 and answer.text(200).strip().startswith(SCENARIO_DENIED)


def _json_or_none(answer: Answer) -> Any:
    if not answer.is_json:
        return None
    try:
        return decode_json(SYSTEM, answer, "FrePPLe")
    except PlanningError:
        return None


def _detail(answer: Answer) -> str | None:
    body = _json_or_none(answer)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return None


def _field_messages(details: dict[str, Any]) -> str:
    parts = []
    for field, messages in details.items():
        shown = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        parts.append(f"{field}: {shown}")
    return ", ".join(parts) or "no details"
