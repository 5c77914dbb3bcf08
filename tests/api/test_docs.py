"""``/docs`` in a real Chromium: every operation listed, no error banner, nothing fetched elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import requests

from ..browser import Console
from .live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.slow
METHODS = {"get", "post", "put", "patch", "delete"}


def test_docs_render_every_operation_offline(
    serve: Callable[..., LiveServer], page: Page, console: Console, screenshots: Path
) -> None:
    server = serve(workers=0)
    spec = requests.get(server.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    expected = {
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    }
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc == urlsplit(server.url).netloc:
            route.continue_()
        else:  # recorded and refused: the docs must work with no network at all
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server.url + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    page.wait_for_load_state("networkidle")

    shown = {
        f"{block.locator('.opblock-summary-method').inner_text().strip()} "
        f"{block.locator('.opblock-summary-path').get_attribute('data-path')}"
        for block in page.locator(".opblock").all()
    }
    assert shown == expected
    assert page.locator(".errors-wrapper").count() == 0
    assert "Unable to render this definition" not in page.content()
    assert page.locator(".info .title").inner_text().startswith("refvid")
    assert elsewhere == []
    assert console.unexpected() == []
    page.screenshot(path=screenshots / "docs.png", full_page=False)


def test_docs_assets_are_served_from_this_server(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    docs = requests.get(server.url + "/docs")
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    assert "cdn" not in docs.text.lower() and "http" not in docs.text.replace(server.url, "")
    for asset in ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css", "/docs/init.js"):
        assert requests.get(server.url + asset).status_code == 200
    bundle = requests.get(server.url + "/static/swagger/swagger-ui-bundle.js").text
    assert "validatorUrl" in requests.get(server.url + "/docs/init.js").text
    assert len(bundle) > 1_000_000  # the whole of Swagger UI, not a loader
