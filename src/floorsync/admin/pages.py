"""What a page of the admin UI declares: its routes and, optionally, its place in the
navigation bar and a directory of its own templates (see the package docstring)."""

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter


@dataclass(frozen=True)
class NavItem:
    """An entry of the navigation bar. `path` is relative to the admin root (`/webhooks`); the
    entry is highlighted on that path and below it. `testid` becomes `data-testid="nav-<testid>"`.
    Entries are shown in ascending `order`, then in the order the pages were given."""

    label: str
    path: str
    testid: str
    order: int = 100


@dataclass(frozen=True)
class AdminPage:
    router: APIRouter
    nav: NavItem | None = None
    templates: Path | None = None  # searched after the admin's own templates/
