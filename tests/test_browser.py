"""The browser fixture itself: the system Chromium starts, runs module scripts and reports errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .browser import Console

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_chromium_runs_modules_and_reports_errors(page: Page, console: Console, screenshots: Path) -> None:
    page.set_content(
        "<!DOCTYPE html><p id=out>…</p>"
        "<script type=module>document.getElementById('out').textContent = `ok ${1 + 1}`;"
        "console.error('on purpose'); setTimeout(() => { throw new Error('boom'); });</script>"
    )
    assert page.locator("#out").text_content() == "ok 2"
    page.wait_for_timeout(50)
    assert any("on purpose" in e for e in console.errors)
    assert any("boom" in e for e in console.errors)
    assert console.unexpected("on purpose", "boom") == []
    assert "HeadlessChrome" in page.evaluate("navigator.userAgent")
    page.screenshot(path=screenshots / "smoke.png")
    assert (screenshots / "smoke.png").stat().st_size > 0
