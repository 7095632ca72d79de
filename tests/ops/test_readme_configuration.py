"""The README's configuration table and the Settings class agree: every setting is documented,
and every documented variable is a setting (other work adds rows; this keeps them honest)."""

import re
from pathlib import Path

from floorsync.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def table_rows() -> list[str]:
    text = README.read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `FLOORSYNC_")]


def documented(known: set[str]) -> set[str]:
    """Variable names of the table's first column; `…_SUFFIX` continues the name before it
    (`FLOORSYNC_ADMIN_LOGIN_ATTEMPTS`, `…_LOGIN_WINDOW_SECONDS`)."""
    names: set[str] = set()
    for row in table_rows():
        previous = ""
        for token in re.findall(r"`([^`]+)`", row.split("|")[1]):
            if token.startswith("FLOORSYNC_"):
                previous = token
                names.add(token)
            elif token.startswith("…_") and previous:
                parts = previous.split("_")
                candidates = ["_".join(parts[:i]) + token[1:] for i in range(len(parts) - 1, 0, -1)]
                match = next((c for c in candidates if c in known), candidates[0])
                names.add(match)
    return names


def settings_variables() -> set[str]:
    return {f"FLOORSYNC_{name.upper()}" for name in Settings.model_fields}


def test_every_setting_is_in_the_configuration_table() -> None:
    known = settings_variables()
    missing = sorted(known - documented(known))
    assert missing == [], f"add these to README's configuration table: {missing}"


def test_every_variable_in_the_table_is_a_setting() -> None:
    known = settings_variables()
    unknown = sorted(documented(known) - known)
    assert unknown == [], f"README documents variables floorsync does not read: {unknown}"
