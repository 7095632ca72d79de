"""Spreadsheet formula injection (CSV import §15): a downloaded cell that starts with `=`, `+`,
`-`, `@`, tab or carriage return gets a leading `'`, so a spreadsheet shows it as text instead
of evaluating it. So that the failed-rows file can come back unchanged, a cell that already
starts with `'` followed by such a character (`'=x`) gets one too; `restore` then removes
exactly the one `'` that `neutralise` added: `restore(neutralise(v)) == v` for every `v`.
"""

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ADDED = re.compile(r"^'+[=+\-@\t\r]")


def neutralise(cell: str) -> str:
    if cell.startswith(TRIGGERS) or _ADDED.match(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """Undo `neutralise` on a cell of a failed-rows file that came back."""
    if _ADDED.match(cell):
        return cell[1:]
    return cell
