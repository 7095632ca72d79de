"""Sync options (API §4.10), read from the query string and, on bulk and erp-sync requests, from
a body `options` object (the body wins). Unknown or malformed options are 400 BAD_REQUEST."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from floorsync.errors import BadRequest, Detail

Endpoint = Literal["single", "bulk", "erp"]

ALL_OPTIONS = (
    "dry_run",
    "atomic",
    "skip_unchanged",
    "snapshot",
    "replace_children",
    "record_history",
    "batch_size",
    "continue_on_error",
)
_APPLIES: dict[Endpoint, frozenset[str]] = {
    "single": frozenset({"dry_run", "skip_unchanged", "replace_children"}),
    "bulk": frozenset(
        {"dry_run", "atomic", "skip_unchanged", "snapshot", "replace_children", "record_history"}
    ),
    "erp": frozenset(ALL_OPTIONS),
}
_BOOLEAN = (
    "dry_run",
    "atomic",
    "skip_unchanged",
    "replace_children",
    "record_history",
    "continue_on_error",
)


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    atomic: bool = False
    skip_unchanged: bool = True
    # bulk: `True` prunes the endpoint's entity; erp-sync: the entity names to prune.
    snapshot: bool | tuple[str, ...] = False
    replace_children: bool = False
    record_history: bool = True

    def prunes(self, entity: str) -> bool:
        if isinstance(self.snapshot, bool):
            return self.snapshot
        return entity in self.snapshot

    def as_dict(self) -> dict[str, Any]:
        """The options in force, as stored in the sync history."""
        out = asdict(self)
        if isinstance(self.snapshot, tuple):
            out["snapshot"] = list(self.snapshot)
        return out


def _bad(name: str, message: str, value: Any = None) -> BadRequest:
    detail = (
        Detail(name, message, "TYPE_MISMATCH", value)
        if value is not None
        else Detail(name, message, "TYPE_MISMATCH")
    )
    return BadRequest(f"Invalid option {name}: {message}", [detail])


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(name, "must be true or false", value)


def _snapshot(value: Any, endpoint: Endpoint, entities: Sequence[str]) -> bool | tuple[str, ...]:
    if endpoint == "bulk":
        return _boolean("snapshot", value)
    names: list[Any]
    if isinstance(value, str):
        names = [n.strip() for n in value.split(",") if n.strip()]
    elif isinstance(value, list):
        names = value
    elif value is None or value is False:
        return ()
    else:
        raise _bad("snapshot", "must be an array of entity names", value)
    for name in names:
        if not isinstance(name, str) or name not in entities:
            raise _bad("snapshot", f"entity names must be among: {', '.join(entities)}", name)
    return tuple(dict.fromkeys(names))


def parse_options(
    query: Mapping[str, str],
    body_options: Any,
    endpoint: Endpoint,
    *,
    entities: Sequence[str] = (),
) -> SyncOptions:
    """Merge query and body options; refuse unknown or inapplicable ones (400).

    Query parameters that are not sync options at all are ignored (API §1.1); a sync option
    that does not apply to this endpoint, and any unknown key of a body `options`, is refused.
    """
    given: dict[str, Any] = {}
    applies = _APPLIES[endpoint]
    for name in ALL_OPTIONS:
        if name in query:
            if name not in applies:
                raise BadRequest(
                    f"Unknown option: {name}",
                    [
                        Detail(
                            name,
                            f"{name} does not apply to this endpoint",
                            "UNKNOWN_FIELD",
                            query[name],
                        )
                    ],
                )
            given[name] = query[name]
    if body_options is not None:
        if not isinstance(body_options, dict):
            raise BadRequest(
                "options must be a JSON object",
                [Detail("options", "options must be an object", "TYPE_MISMATCH")],
            )
        for name, value in body_options.items():
            if name not in applies:
                raise BadRequest(
                    f"Unknown option: {name}",
                    [Detail(f"options.{name}", f"Unknown option: {name}", "UNKNOWN_FIELD", value)],
                )
            given[name] = value
    kwargs: dict[str, Any] = {}
    for name, value in given.items():
        if name in ("batch_size", "continue_on_error"):
            continue  # accepted for Eryxon compatibility; `atomic` is the switch
        if name == "snapshot":
            kwargs[name] = _snapshot(value, endpoint, entities)
        elif name in _BOOLEAN:
            kwargs[name] = _boolean(name, value)
    return SyncOptions(**kwargs)
