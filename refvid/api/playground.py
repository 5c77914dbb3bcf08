"""The web playground at ``/``: one page of plain HTML, CSS and JS modules from ``api/web/``.

Nothing is built and nothing comes from another host (the Content-Security-Policy says so
to the browser). The page gets the contract's limits from this module, injected as JSON,
so the browser checks references and the prompt against the same numbers as the server.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from refvid.api.deps import app_state
from refvid.billing.credits import format_credits, price
from refvid.references.decode import MAX_ASPECT, MAX_BASE64_BYTES, MAX_PIXELS, MIN_SIDE
from refvid.request import FPS, FRAME_SIZES, MAX_REFERENCES, PROMPT_MAX_CHARS, SEED_MAX

WEB = Path(__file__).parent / "web"
STATIC = "/static/playground"
CONFIG_MARK = "<!--refvid-config-->"

# Pasted URLs are shown as thumbnails (img-src http: https:); everything else is this server.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data: http: https:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


@cache
def _page_template() -> str:
    return (WEB / "index.html").read_text(encoding="utf-8")


def page_config(request: Request) -> dict[str, Any]:
    """The numbers the page checks against: the contract's limits and this server's costs."""
    settings = app_state(request).settings
    return {
        "static": STATIC,
        "engine": settings.engine,
        "max_references": MAX_REFERENCES,
        "prompt_max_chars": PROMPT_MAX_CHARS,
        "seed_max": SEED_MAX,
        "min_side": MIN_SIDE,
        "max_aspect": MAX_ASPECT,
        "max_pixels": MAX_PIXELS,
        "max_base64_bytes": MAX_BASE64_BYTES,
        "max_download_bytes": settings.fetch_max_bytes,
        "max_body_bytes": settings.max_body_bytes,
        "formats": ["image/jpeg", "image/png", "image/webp"],
        "fps": FPS,
        "frame_sizes": {name: list(size) for name, size in FRAME_SIZES.items()},
        "cost": {"5": format_credits(price(settings, 5)), "10": format_credits(price(settings, 10))},
    }


@router.get("/")
def index(request: Request) -> HTMLResponse:
    """The playground page."""
    # "</" cannot appear inside the JSON (it is escaped), so the script element stays closed.
    config = json.dumps(page_config(request)).replace("</", "<\\/")
    html = _page_template().replace(
        CONFIG_MARK, f'<script type="application/json" id="config">{config}</script>'
    )
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(html, headers=headers)


def install(app: FastAPI) -> None:
    """Add ``/`` and the page's static files to ``app``."""
    app.include_router(router)
    app.mount(STATIC, StaticFiles(directory=WEB), name="playground")
