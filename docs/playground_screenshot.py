"""Retake docs/playground.png, the README's picture of the playground (run by hand).

Run: .venv/bin/python docs/playground_screenshot.py   (needs Debian's chromium and Playwright)

A live server on a temporary home, three demo photos, a fixed seed, a real render; the
page is captured at 1280 px, then scaled to 960 px and reduced to 128 colours (~110 KB).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.api.live import LiveServer, make_settings  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.conftest import demo_path  # noqa: E402

PROMPT = (
    "@1 the astronaut smiles at the camera, slow push in. Then a close-up of the coffee (image 2). "
    "Cut to the cat, image 3, looking up, pan right. Warm golden hour look."
)


def main() -> None:
    server = LiveServer(make_settings(Path(tempfile.mkdtemp()))).start()
    key, _, _ = server.key("100")
    server.wait_workers()
    raw = Path(tempfile.mkdtemp()) / "playground.png"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1020})
            page.goto(server.url + "/")
            page.fill("#key", key)
            page.click("#key-save")
            page.set_input_files("#files", [str(demo_path(n)) for n in ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")])
            page.fill("#seed", "42")
            page.fill("#prompt", PROMPT)
            page.wait_for_selector("#timeline[data-shots='3']")
            page.click("#generate")
            page.wait_for_selector("#result-section:not([hidden])", timeout=300_000)
            page.wait_for_function("() => document.getElementById('video').readyState >= 2")
            page.wait_for_function("() => document.querySelector('#history img')?.naturalWidth > 0")
            page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
            page.screenshot(path=raw)
            browser.close()
    finally:
        server.stop()
    image = Image.open(raw).convert("RGB")
    image = image.resize((960, round(image.height * 960 / image.width)), Image.LANCZOS)
    out = ROOT / "docs" / "playground.png"
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":  # worker processes re-import this module: start nothing then
    main()
