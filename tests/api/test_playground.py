"""The playground at ``/`` in a real Chromium against a live ``refvid serve`` on loopback."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

from refvid.media.probe import probe

from ..browser import Console
from ..conftest import demo_path
from .live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

# What would make the page load something from another host.
REMOTE = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|from\s+["'](https?:)?//|import\(\s*["'](https?:)?//""")

PROMPT = "The astronaut smiles at the camera, wide. Then a close-up of the coffee (image 2), slow push in."

# Records every value the page gives a <progress>, so a test sees progress advance.
RECORD_PROGRESS = """
window.__progress = [];
const d = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, "value");
Object.defineProperty(HTMLProgressElement.prototype, "value", {
  configurable: true,
  get() { return d.get.call(this); },
  set(v) { window.__progress.push(Number(v)); d.set.call(this, v); },
});
"""


@pytest.mark.slow  # a live server
def test_page_is_local_only_and_carries_the_limits(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    response = requests.get(server.url + "/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    html = response.text
    assert '"max_references": 7' in html and '"prompt_max_chars": 1500' in html and '"min_side": 128' in html
    # Everything the page loads comes from this server: no CDN, no web fonts.
    assets = ("app.js", "api.js", "fields.js", "references.js", "result.js", "timeline.js", "history.js")
    for asset in (*assets, "style.css", "icon.svg"):
        got = requests.get(f"{server.url}/static/playground/{asset}")
        assert got.status_code == 200, asset
        assert not REMOTE.search(got.text), asset
    assert not REMOTE.search(html)


def open_playground(page: Page, server: LiveServer, key: str) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#key", key)
    page.click("#key-save")


def loopback_only(page: Page) -> list[str]:
    """Start recording requests that leave 127.0.0.1; returns the (live) list."""
    outside: list[str] = []

    def check(request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        host = urlsplit(url).hostname
        if url.startswith(("http:", "https:", "ws:")) and host != "127.0.0.1":
            outside.append(url)

    page.on("request", check)
    return outside


@pytest.mark.slow
def test_make_a_video_from_the_browser(
    serve: Callable[..., LiveServer], page: Page, console: Console, screenshots: Path, tmp_path: Path
) -> None:
    server = serve()
    key, _, _ = server.key("5")
    server.wait_workers()
    outside = loopback_only(page)
    page.add_init_script(RECORD_PROGRESS)
    open_playground(page, server, key)
    assert page.evaluate("localStorage.getItem('refvid.apiKey')") == key
    assert "local storage" in page.text_content("#key-where")
    assert key not in page.url

    # Two references through the file picker: thumbnails, in order.
    page.set_input_files("#files", [str(demo_path("astronaut.jpg")), str(demo_path("coffee.jpg"))])
    page.wait_for_function("() => document.querySelectorAll('#slots .slot img').length === 2")
    assert page.text_content("#refs-count") == "2 / 7"
    assert page.locator("#slots .slot .tag").all_text_contents() == ["@1", "@2"]

    # The prompt, its counter, and the free plan drawn as a two-shot timeline.
    page.check("input[name=aspect_ratio][value='1:1']")
    page.fill("#seed", "42")
    page.fill("#prompt", PROMPT)
    assert page.text_content("#prompt-count") == f"{len(PROMPT)} / 1500"
    page.wait_for_selector("#timeline[data-shots='2']")
    page.wait_for_function("() => [...document.querySelectorAll('#timeline .shot img')].every(i => i.complete && i.naturalWidth > 0)")
    shots = page.locator("#timeline .shot")
    assert shots.count() == 2
    assert "@1" in shots.nth(0).inner_text() and "@2" in shots.nth(1).inner_text()
    assert "close-up" in shots.nth(1).inner_text() and "push in" in shots.nth(1).inner_text()
    assert "seed 42" in page.text_content("#plan-meta")
    page.screenshot(path=screenshots / "playground-plan.png", full_page=True)

    # The plan follows the prompt (debounced): a third sentence adds a shot.
    page.fill("#prompt", PROMPT + " Finally back to the astronaut, pull back.")
    page.wait_for_selector("#timeline[data-shots='3']")
    page.fill("#prompt", PROMPT)
    page.wait_for_selector("#timeline[data-shots='2']")

    # Submit from the keyboard (Ctrl+Enter in the prompt): queue position, progress from the
    # event stream, then a playable video.
    page.focus("#prompt")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#run-section:not([hidden])")
    page.wait_for_selector("#result-section:not([hidden])", timeout=120_000)
    page.wait_for_function("() => document.getElementById('video').readyState >= 2", timeout=20_000)
    duration = page.evaluate("document.getElementById('video').duration")
    assert abs(duration - 5.0) < 0.1
    assert page.evaluate("document.getElementById('video').videoWidth") == 1080
    assert page.evaluate("document.getElementById('video').poster").startswith("blob:")
    seen = [v for v in page.evaluate("window.__progress") if 0 < v < 1]
    assert len(set(seen)) >= 2 and seen == sorted(seen), seen  # it advanced, never went back
    assert page.evaluate("document.getElementById('progress').value") == 1
    facts = dict(zip(page.locator("#result-facts dt").all_text_contents(),
                     page.locator("#result-facts dd").all_text_contents(), strict=True))
    assert facts["Seed"] == "42" and facts["Cost"] == "1 credit" and facts["Credits left"] == "4"
    assert page.text_content("#credits") == "4 credits left"
    request_id = facts["Request"]

    # The download link gives the MP4 itself.
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "download.mp4"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"{request_id}.mp4"
    info = probe(saved)
    assert (info.width, info.height, info.frame_count) == (1080, 1080, 120)

    # History: the request, newest first, completed, with its cover.
    entry = page.locator(f"#history li[data-id='{request_id}']")
    entry.wait_for()
    assert entry.get_attribute("data-status") == "COMPLETED"
    assert page.locator("#history li").first.get_attribute("data-id") == request_id
    page.wait_for_function(
        f"() => document.querySelector(\"#history li[data-id='{request_id}'] img\")?.naturalWidth > 0"
    )
    page.evaluate("document.getElementById('video').pause()")
    page.screenshot(path=screenshots / "playground-done.png", full_page=True)

    # The same page at phone width, in dark mode.
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=screenshots / "playground-phone-dark.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert outside == []
    assert console.unexpected() == []


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def small_png(tmp_path: Path, size: tuple[int, int]) -> Path:
    path = tmp_path / f"small-{size[0]}x{size[1]}.png"
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.slow
def test_refusals_show_beside_their_field(
    serve: Callable[..., LiveServer], page: Page, console: Console, screenshots: Path, tmp_path: Path
) -> None:
    server = serve(workers=0)
    key, _, _ = server.key("5")
    plans: list[str] = []
    page.on("request", lambda r: plans.append(r.url) if r.url.endswith("/v2/plan") else None)
    # Listening early turns on the interception of file dialogs before any key is pressed.
    page.on("filechooser", lambda chooser: None)

    # A wrong key: the server's 401 message next to the key field.
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#key", "rv_not_a_real_key")
    page.click("#key-save")
    page.wait_for_function("() => document.getElementById('key-error').textContent.length > 0")
    assert "unknown or revoked" in page.text_content("#key-error")
    assert page.get_attribute("#key", "aria-invalid") == "true"

    # A too-small image is refused in the browser, before anything is sent.
    page.fill("#key", key)
    page.click("#key-save")
    page.fill("#prompt", "a slow push in")
    page.set_input_files("#files", [str(small_png(tmp_path, (100, 100)))])
    page.wait_for_function("() => document.getElementById('refs-error').textContent.length > 0")
    message = page.text_content("#refs-error")
    assert "100×100" in message and "at least 128×128" in message
    assert page.locator("#slots .slot").count() == 0
    # A text file named like an image, and a long thin strip: refused too.
    fake = tmp_path / "fake.png"
    fake.write_text("hello")
    page.set_input_files("#files", [str(fake), str(small_png(tmp_path, (1000, 200)))])
    page.wait_for_function("() => document.getElementById('refs-error').textContent.includes('1:4')")
    assert "not a JPEG, PNG or WebP" in page.text_content("#refs-error")
    assert page.locator("#slots .slot").count() == 0
    # A pasted image (Ctrl+V of a picture) goes through the same checks.
    page.evaluate(
        """async () => {
             const canvas = document.createElement("canvas"); canvas.width = 300; canvas.height = 60;
             const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
             const data = new DataTransfer(); data.items.add(new File([blob], "clip.png", {type: "image/png"}));
             document.body.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
           }"""
    )
    page.wait_for_function("() => document.getElementById('refs-error').textContent.includes('300×60')")
    assert "clip.png is 300×60 pixels" in page.text_content("#refs-error")
    assert page.locator("#slots .slot").count() == 0
    assert plans == []

    # By keyboard: Enter on the drop zone opens the file picker.
    page.focus("#drop")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(demo_path("chelsea.jpg")))
    page.wait_for_selector("#slots .slot img")
    # A pasted URL becomes a reference; this one the server cannot fetch, and its 400
    # lands on that slot, wherever it has been moved to.
    url = f"http://127.0.0.1:{closed_port()}/missing.png"
    page.evaluate(
        """url => { const data = new DataTransfer(); data.setData("text/plain", url);
           document.body.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true})); }""",
        url,
    )
    page.wait_for_function("() => document.querySelectorAll('#slots .slot').length === 2")
    page.locator("#slots .slot").nth(1).locator("button[data-action=left]").click()
    assert page.locator("#slots .slot .slot-info").first.text_content() == "URL · no preview here; the server will fetch it"
    page.wait_for_selector("#slots .slot.invalid")
    bad = page.locator("#slots .slot").nth(0)
    assert "image_urls[0]" in page.text_content("#refs-error") and url in page.text_content("#refs-error")
    assert bad.locator(".slot-error").count() == 1
    assert page.locator("#slots .slot").nth(1).locator(".slot-error").count() == 0
    page.screenshot(path=screenshots / "playground-errors.png", full_page=True)
    # Removing it by keyboard clears the error and the plan comes back.
    bad.locator("button[data-action=remove]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#timeline[data-shots]:not([data-shots='0'])")
    assert page.locator("#slots .slot.invalid").count() == 0

    # A prompt over the limit is refused in the browser with the count.
    page.fill("#prompt", "x" * 1501)
    assert "over" in (page.get_attribute("#prompt-count", "class") or "")
    page.click("#generate")
    assert "1501 characters" in page.text_content("#prompt-error")
    assert console.unexpected("status of 401", "status of 400", "ERR_CONNECTION_REFUSED") == []


@pytest.mark.slow
def test_cancel_shows_the_refund(
    serve: Callable[..., LiveServer], page: Page, console: Console, screenshots: Path
) -> None:
    server = serve(workers=0)  # nothing renders: the request waits in the queue
    key, _, _ = server.key("3")
    open_playground(page, server, key)
    page.set_input_files("#files", [str(demo_path("chelsea.jpg"))])
    page.fill("#prompt", "the cat looks up, slow push in")
    page.check("input[name=duration][value='10']")
    assert "2 credits" in page.text_content("#cost-line")
    page.click("#dice")  # a random seed, and the plan follows it
    seed = int(page.input_value("#seed"))
    assert 1 <= seed <= 999_999
    page.wait_for_function(f"() => document.getElementById('plan-meta').textContent.includes('seed {seed}')")
    page.click("#generate")
    page.wait_for_function("() => document.getElementById('run-status').textContent.includes('position 1')")
    assert page.text_content("#credits") == "1 credit left"
    page.click("#cancel")
    page.wait_for_function("() => document.getElementById('run-note').textContent.includes('refunded')")
    assert page.text_content("#run-note") == "Cancelled: 2 credits refunded — 3 left."
    assert page.text_content("#credits") == "3 credits left"
    page.wait_for_selector("#history li[data-status=CANCELLED]")
    assert page.is_enabled("#generate")
    page.screenshot(path=screenshots / "playground-cancelled.png", full_page=True)
    assert console.unexpected() == []


@pytest.mark.slow
def test_a_failed_render_is_refunded_and_named_at_its_reference(
    serve: Callable[..., LiveServer], page: Page, console: Console
) -> None:
    server = serve()
    key, _, _ = server.key("2")
    server.wait_workers()
    open_playground(page, server, key)
    page.fill("#prompt", "a slow push in")
    page.fill("#url", f"http://127.0.0.1:{closed_port()}/gone.png")
    page.click("#url-form button")
    page.wait_for_selector("#slots .slot.invalid")  # the free plan already says so…
    page.click("#generate")  # …but the request can still be sent: the worker refuses it
    page.wait_for_function("() => document.getElementById('run-status').textContent === 'Failed.'")
    assert page.text_content("#run-note") == "Not charged: 1 credit refunded."
    page.wait_for_function("() => document.getElementById('credits').textContent === '2 credits left'")
    assert "image_urls[0]" in page.text_content("#refs-error")
    assert page.locator("#slots .slot.invalid .slot-error").count() == 1
    page.wait_for_selector("#history li[data-status=FAILED] .entry-error")
    assert "could not download" in page.text_content("#history li[data-status=FAILED] .entry-error")
    assert page.is_enabled("#generate")
    assert console.unexpected("status of 400", "ERR_CONNECTION_REFUSED") == []  # 400: the plan
