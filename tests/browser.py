"""A real Chromium for page tests: Debian's ``chromium`` driven by Playwright.

``make test`` installs ``chromium`` with apt-get when it is missing; Playwright comes from
the ``dev`` extra and drives that system browser (``playwright install`` is never run, so
no browser is downloaded). Where either is missing the browser tests are skipped with a
message saying what to install.

Fixtures (registered in ``tests/conftest.py``):

- ``browser``: one headless Chromium per test module, started on a fresh, throw-away
  profile (Playwright gives ``launch()`` a new user-data directory and deletes it after).
  Module scope, not session: while Playwright's sync API is running it keeps an asyncio
  loop running on the main thread, so ``asyncio.run()`` fails there (tests of async code
  in another module must not see it; in the same module they cannot use it).
- ``console``: what the page printed: ``console.errors`` holds console errors and uncaught
  exceptions; ``console.unexpected(...)`` filters out the ones a test provoked on purpose.
- ``page``: a new page in its own browser context (empty local storage, cookies, cache),
  hooked to ``console``; closed after the test.
- ``screenshots``: a folder under the system temp dir where tests save PNGs to look at.

Give ``page.wait_for_function`` a function (``"() => …"``), not a bare expression: Playwright
evaluates expressions with ``eval``, which a page with a strict Content-Security-Policy (the
playground's) refuses.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = os.environ.get("REFVID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no update checks, no safe-browsing lists: loopback only
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
SCREENSHOTS = Path(tempfile.gettempdir()) / "refvid-screenshots"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if shutil.which(CHROMIUM) is None:
        return (
            f"no Chromium at {CHROMIUM}: install Debian's browser (apt-get install chromium; "
            "`make test` does it when it runs as root) or set REFVID_CHROMIUM"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: pip install -e '.[dev]' (make test does it)"
    return None


@dataclass
class Console:
    """Console output and uncaught errors of the pages a test opened."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        text = f"{message.type}: {message.text}"
        self.messages.append(text)
        if message.type == "error":
            self.errors.append(text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def unexpected(self, *allowed: str) -> list[str]:
        """Errors whose text contains none of ``allowed`` (e.g. a 401 the test provoked)."""
        return [e for e in self.errors if not any(a in e for a in allowed)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; skipped with a reason where it cannot run."""
    reason = missing_browser()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh page in its own context (nothing stored from other tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    new = context.new_page()
    new.on("console", console.on_message)
    new.on("pageerror", console.on_page_error)
    try:
        yield new
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where tests save screenshots (kept after the run, to be looked at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
