"""Browser tests: Debian's Chromium (`/usr/bin/chromium`) driven by Playwright for Python
against the live test server on 127.0.0.1. Playwright's own browser downloads are never used
(`playwright install` needs the internet); the system browser is launched by path.

Without /usr/bin/chromium the tests skip with the reason, except in CI (`CI` set, as `.ci/run`
runs), where that is a failure: `.ci/run` installs the package when it is missing.

Every page a test opens may load only from the test server: any other request is aborted and
fails the test, and so does a script error or a Content-Security-Policy violation reported in
the browser's console. `shoot(page, name)` saves a full-page screenshot under var/screenshots/.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# Module scope, not session: while Playwright's sync API runs, its event loop counts as running
# in the main thread, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{reason}; in CI this is a failure (.ci/run installs it)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What a page did that it must not: requests elsewhere, script errors, CSP violations."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []


def _local(url: str, host: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.netloc == host


@pytest.fixture
def context(browser: Any, server: Any) -> Iterator[tuple[Any, Watch]]:
    watch = Watch()
    host = urlsplit(server.base_url).netloc
    ctx = browser.new_context(base_url=server.base_url, viewport=VIEWPORT)

    def guard(route: Any) -> None:
        if _local(route.request.url, host):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    yield ctx, watch
    ctx.close()
    assert watch.outside == [], "a page tried to load from another origin"
    assert watch.errors == [], "the browser reported errors"


def new_page(context: tuple[Any, Watch]) -> Any:
    ctx, watch = context
    page = ctx.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() of destructive forms
    page.on("pageerror", lambda exc: watch.errors.append(f"script error: {exc}"))

    def console(message: Any) -> None:
        # Error pages (403, 404) are expected in some tests and are logged by Chromium as
        # failed resource loads; script errors and CSP violations are not expected anywhere.
        if message.type == "error" and "status of" not in message.text:
            watch.errors.append(message.text)

    page.on("console", console)
    return page


@pytest.fixture
def page(context: tuple[Any, Watch]) -> Any:
    return new_page(context)


def shoot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
