"""URL references through the API: fetched from 127.0.0.1 when allowed, 400 when not."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from refvid.billing import balance_of

from ..peers import drip_headers, peer
from .live import LiveServer, body, image_b64, png_server, wait_status
from .process import MIB, ServerProcess, status_kib

pytestmark = pytest.mark.slow  # live server and renders: outside the fast lane (-m "not slow")

V1 = "/v1/vidu-q1-reference-to-video"
V2 = "/v2/vidu-q1-reference-to-video"
PNG = base64.b64decode(image_b64(3))


@pytest.fixture
def image_url() -> Iterator[str]:
    with png_server(PNG) as url:
        yield url


def test_url_reference_from_an_allowed_network_renders(serve: Callable[..., LiveServer], image_url: str) -> None:
    server = serve(allow_private_networks=["127.0.0.0/8"])
    key, _, _ = server.key("5")
    response = requests.post(
        server.url + V1, json=body(image_urls=[image_url, image_b64(1)]), headers={"x-api-key": key}
    )
    assert response.status_code == 200, response.text
    assert response.content[4:8] == b"ftyp"


def test_forbidden_url_is_400_naming_the_index_and_not_billed(
    serve: Callable[..., LiveServer], image_url: str
) -> None:
    server = serve(allow_private_networks=[])
    key, _, key_id = server.key("5")
    response = requests.post(
        server.url + V1, json=body(image_urls=[image_b64(1), image_url]), headers={"x-api-key": key}
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "invalid_reference"
    assert "image_urls[1]" in error["error"]
    assert error["remaining_credits"] == "5"
    assert balance_of(server.state.db, key_id) == 5000


@pytest.mark.slow
def test_a_header_dripping_reference_is_cut_off_and_the_worker_moves_on(serve: Callable[..., LiveServer]) -> None:
    server = serve(fetch_timeout=2.0)
    key, _, _ = server.key("10")
    headers = {"x-api-key": key}
    server.wait_workers()
    with peer(drip_headers(0.05)) as drip:
        dripping = requests.post(server.url + V2, json=body(image_urls=[drip.url("/a.png")]), headers=headers).json()
        wait_status(server.url, key, dripping["request_id"], {"PROCESSING"})
        started = time.monotonic()
        waiting = requests.post(server.url + V2, json=body(), headers=headers).json()
        failed = wait_status(server.url, key, dripping["request_id"], {"FAILED"}, timeout=30)
        cut_after = time.monotonic() - started
        done = wait_status(server.url, key, waiting["request_id"], {"COMPLETED"}, timeout=120)
    assert failed["code"] == "invalid_reference"
    assert "took longer than 2 s" in failed["error"]
    assert cut_after < 6  # the 2 s deadline, plus polling; it used to drip for as long as it liked
    assert done["status"] == "COMPLETED"


@pytest.mark.slow
def test_a_cancelled_job_drops_its_download_at_once(serve: Callable[..., LiveServer]) -> None:
    server = serve(fetch_timeout=600.0)
    key, _, _ = server.key("10")
    headers = {"x-api-key": key}
    server.wait_workers()
    with peer(drip_headers(0.05)) as drip:
        dripping = requests.post(server.url + V2, json=body(image_urls=[drip.url("/a.png")]), headers=headers).json()
        wait_status(server.url, key, dripping["request_id"], {"PROCESSING"})
        _until(lambda: drip.open_connections == 1)
        waiting = requests.post(server.url + V2, json=body(), headers=headers).json()
        cancelled_at = time.monotonic()
        requests.post(dripping["cancel_url"], headers=headers).raise_for_status()
        _until(lambda: drip.open_connections == 0)
        dropped_after = time.monotonic() - cancelled_at
        started = wait_status(server.url, key, waiting["request_id"], {"PROCESSING", "COMPLETED"}, timeout=30)
        taken_after = time.monotonic() - cancelled_at
    print(f"cancelled download dropped after {dropped_after:.2f} s, next job taken after {taken_after:.2f} s")
    assert dropped_after < 3 and taken_after < 5
    assert started["status"] in ("PROCESSING", "COMPLETED")
    wait_status(server.url, key, waiting["request_id"], {"COMPLETED"}, timeout=120)


def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.mark.slow
def test_tall_pngs_keep_the_worker_within_a_memory_bound(serve_process: Callable[..., ServerProcess]) -> None:
    # 3600x13800 PNGs of about 200 KB each: one peaked a worker at 1.3 GB, seven at 2.1 GB.
    w, h = 3600, 13800
    pixels = np.zeros((h, w, 4), np.uint8)
    pixels[..., 0], pixels[..., 3] = 200, 255
    pixels[h // 3 : h // 2, :, 3] = 0
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", optimize=True)
    del pixels
    tall = base64.b64encode(buffer.getvalue()).decode()
    server = serve_process()
    key, _, _ = server.key("10")
    server.wait_workers()
    (worker,) = server.worker_pids()
    # A first, ordinary 9:16 render warms the worker up; then its peak is measured afresh.
    warm = requests.post(server.url + V2, json=body(aspect_ratio="9:16"), headers={"x-api-key": key}).json()
    wait_status(server.url, key, warm["request_id"], {"COMPLETED"}, timeout=300)
    idle = status_kib(worker, "VmRSS") * 1024
    Path(f"/proc/{worker}/clear_refs").write_text("5")
    sub = requests.post(
        server.url + V2, json=body(image_urls=[tall] * 3, aspect_ratio="9:16"), headers={"x-api-key": key}
    ).json()
    done = wait_status(server.url, key, sub["request_id"], {"COMPLETED", "FAILED"}, timeout=600)
    growth = status_kib(worker, "VmHWM") * 1024 - idle
    print(f"worker after a warm-up: {idle / MIB:.0f} MiB, peak growth {growth / MIB:.0f} MiB for three tall PNGs")
    assert done["status"] == "COMPLETED", done
    # Measured: about 730 MiB, most of it the motion engine's canvases for three 1920x7360
    # references; the decode alone used to take 1.2 GiB for each.
    assert growth < 1200 * MIB
