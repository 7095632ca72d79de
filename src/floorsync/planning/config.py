"""`PlanningConnectionConfig`: the validated, immutable view of one planning connection (spec §5.1)
with its credential decrypted, which is what the adapter factory receives. Pure: storage,
encryption and the CLI are elsewhere.

Validation rules (§5.2), reported field by field (`describe_errors`):

* `base_url` is an absolute http(s) URL with a host and no user-info, query or fragment; its
  trailing `/` is removed. FrePPLe base URLs must not end in `/api`, Odoo base URLs not in
  `/jsonrpc` or `/web` (the adapters add those). A cloud-metadata address is refused.
* FrePPLe: `basic` needs `username` and a password, `api_key` needs a key; `settings.time_zone`
  is required and must be a zone known to zoneinfo.
* Odoo: `settings.database`, `username` and the credential are required; `api = json2` or
  `version = 19` needs `auth_method = api_key`; JSON-2 exists from 19 on only; versions below 16
  are refused.
* Unknown `settings` keys are refused, so a misspelt option is never silently ignored.
"""

from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from floorsync.kit.netguard import address_refusal, parse_ip
from floorsync.planning.base import PlanningSystem
from floorsync.planning.timezones import zone

AuthMethod = Literal["basic", "api_key"]
FREPPLE_STATUSES = ("proposed", "approved", "confirmed", "completed", "closed")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reconcile_interval_hours: Annotated[int, Field(ge=0)] = 24
    overlap_minutes: Annotated[int, Field(ge=0, le=1440)] = 5
    timeout_seconds: Annotated[int, Field(ge=5, le=300)] = 30
    max_records_per_pull: Annotated[int, Field(ge=1)] = 100_000
    job_number_prefix: Annotated[str, Field(max_length=20)] = ""
    verify_tls: bool = True
    ca_bundle: str | None = None

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_is_a_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError("ca_bundle must name a PEM file on this host")
        return value


class FreppleSettings(_Settings):
    scenario: str | None = None
    time_zone: str
    statuses: tuple[Literal["proposed", "approved", "confirmed", "completed", "closed"], ...] = (
        "approved",
        "confirmed",
        "completed",
    )
    completion_status: Literal["completed", "closed"] = "completed"
    tooling_categories: tuple[str, ...] = ("tool", "tooling", "fixture", "mold", "mould")
    personnel_categories: tuple[str, ...] = ("labor", "labour", "operator", "personnel")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)  # ValueError names the zone
        return value

    @field_validator("scenario")
    @classmethod
    def _scenario_is_a_path_segment(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value or value == "default":
            return None
        if "/" in value or any(c.isspace() for c in value):
            raise ValueError("scenario must be a scenario name without '/' or spaces")
        return value

    @field_validator("statuses")
    @classmethod
    def _some_statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("statuses must name at least one status")
        return value

    @field_validator("tooling_categories", "personnel_categories")
    @classmethod
    def _lower_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.strip().lower() for w in value if w.strip())


class OdooSettings(_Settings):
    database: Annotated[str, Field(min_length=1)]
    version: Literal["auto", "16", "17", "18", "19"] = "auto"
    api: Literal["auto", "jsonrpc", "json2"] = "auto"
    company_id: Annotated[int, Field(ge=1)] | None = None
    create_backorder: bool = False
    keep_timer_running: bool = False
    scrap_note: bool = True
    page_size: Annotated[int, Field(ge=50, le=2000)] = 500

    @field_validator("version", mode="before")
    @classmethod
    def _supported_version(cls, value: Any) -> Any:
        text = str(value).strip() if isinstance(value, int | str) else value
        if isinstance(text, str) and text.isdigit() and int(text) < 16:
            raise ValueError(f"Odoo {text} is not supported; 16 or later is required")
        return text


class PlanningConnectionConfig(BaseModel):
    """One planning connection, validated. `credential` is the password or API key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: PlanningSystem
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    base_url: str
    auth_method: AuthMethod
    username: str | None = None
    credential: SecretStr | None = None
    pull_enabled: bool = False
    pull_interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    push_enabled: bool = False
    settings: FreppleSettings | OdooSettings

    @model_validator(mode="wrap")
    @classmethod
    def _settings_of_the_system(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Validate `settings` with the class of the connection's system (a plain union would
        report both classes' errors), keeping the `settings.` prefix on its errors and reporting
        them together with the other fields' errors."""
        problems: list[InitErrorDetails] = []
        if isinstance(data, dict) and not isinstance(data.get("settings"), _Settings):
            model: type[_Settings] = (
                OdooSettings if str(data.get("system")) == PlanningSystem.ODOO else FreppleSettings
            )
            try:
                data = {**data, "settings": model.model_validate(data.get("settings") or {})}
            except ValidationError as exc:
                problems = [_prefixed(e, "settings") for e in exc.errors()]
                data = {**data, "settings": model.model_construct()}
        try:
            config = handler(data)
        except ValidationError as exc:
            problems = [_prefixed(e) for e in exc.errors()] + problems
        else:
            problems = [
                InitErrorDetails(type="value_error", loc=(where,), input=data, ctx={"error": why})
                for where, why in _rule_problems(config)
            ] + problems
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return config

    @field_validator("name", "username")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @field_validator("base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        text = value.strip()
        try:
            parts = urlsplit(text)
            host = parts.hostname
            _ = parts.port
        except ValueError:
            raise ValueError("base_url is not a valid URL") from None
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise ValueError("base_url must be an absolute http or https URL with a host")
        if parts.username is not None or "@" in parts.netloc:
            raise ValueError("base_url must not contain a user name or password")
        if parts.query or parts.fragment or "?" in text or "#" in text:
            raise ValueError("base_url must not have a query or a fragment")
        literal = parse_ip(host)
        if literal is not None and address_refusal(literal, allow_private=True):
            raise ValueError(f"host {host} is not allowed (cloud-metadata address)")
        return text.rstrip("/")

    @property
    def display_name(self) -> str:
        return self.name or self.system.value

    @property
    def secret(self) -> str:
        return self.credential.get_secret_value() if self.credential is not None else ""

    @property
    def warnings(self) -> tuple[str, ...]:
        """Conditions every run record of this connection must mention."""
        if not self.settings.verify_tls:
            return ("TLS certificate verification is switched off for this connection",)
        return ()


def _rule_problems(config: PlanningConnectionConfig) -> list[tuple[str, str]]:
    """The §5.2 rules that involve several fields, as (field, message) pairs."""
    out: list[tuple[str, str]] = []
    path = urlsplit(config.base_url).path.rstrip("/").lower()
    settings = config.settings
    if config.system is PlanningSystem.FREPPLE:
        if path.endswith("/api"):
            out.append(("base_url", "leave out the trailing /api (the adapter adds it)"))
        if config.auth_method == "basic" and not config.username:
            out.append(("username", "required for basic authentication"))
        if not config.secret:
            what = "a password" if config.auth_method == "basic" else "an API key"
            out.append(("credential", f"{what} is required"))
        return out
    if path.endswith(("/jsonrpc", "/web")):
        out.append(("base_url", "leave out the trailing /jsonrpc or /web (the adapter adds it)"))
    if not config.username:
        out.append(("username", "the Odoo login is required"))
    if not config.secret:
        out.append(("credential", "a password or API key is required"))
    if isinstance(settings, OdooSettings):
        if (settings.api == "json2" or settings.version == "19") and (
            config.auth_method != "api_key"
        ):
            out.append(
                ("auth_method", "the JSON-2 API (Odoo 19 and later) needs auth_method api_key")
            )
        if settings.api == "json2" and settings.version in ("16", "17", "18"):
            out.append(("settings.api", "JSON-2 exists from Odoo 19 on"))
    return out


def _prefixed(error: Any, *prefix: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=error["type"],
        loc=(*prefix, *error["loc"]),
        input=error.get("input"),
        ctx=error.get("ctx", {}),
    )


def describe_errors(exc: ValidationError) -> list[dict[str, str]]:
    """`[{field, message}]` for a failed validation, one entry per problem (for the CLI)."""
    out: list[dict[str, str]] = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(p) for p in error["loc"])
        out.append({"field": where or "connection", "message": message})
    return out
