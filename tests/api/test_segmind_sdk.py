"""Segmind's official Python SDK, unchanged but for its base URL, against a live ``refvid serve``.

The server runs as a user runs it (``refvid serve`` in its own process, keys made with
``refvid keys create``); the SDK talks to it over loopback exactly as it talks to the hosted
gateway: ``run_sync`` (v1), ``run`` and ``submit_async(...).wait()`` (the v2 queue).
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from segmind import InferenceFailed, SegmindClient, SegmindError
from typer.testing import CliRunner

from refvid.cli import app
from refvid.client import image_file_to_base64
from refvid.media.probe import probe

from .live import image_b64

pytestmark = pytest.mark.slow
SLUG = "vidu-q1-reference-to-video"


@dataclass
class Served:
    url: str
    home: Path

    def key(self, credits: str, name: str = "sdk") -> str:
        """A new key made with the CLI, as an operator makes one."""
        result = CliRunner().invoke(
            app, ["keys", "create", "--name", name, "--credits", credits],
            env={"REFVID_HOME": str(self.home)},
        )
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()[0]

    def sdk(self, key: str) -> SegmindClient:
        # Only the base URL changes; a longer HTTP timeout since v1 holds the call while it renders.
        return SegmindClient(api_key=key, base_url=f"{self.url}/v1", timeout=300)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("home")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ, "REFVID_HOME": str(home), "REFVID_WORKERS": "1",
        "REFVID_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
    }
    command = [sys.executable, "-c", "from refvid.cli import main; main()", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "refvid serve did not start"
            time.sleep(0.1)
        yield Served(url, home)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _params(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "prompt": "the scene, then a close-up",
        "image_urls": [image_b64(2)],
        "aspect_ratio": "1:1",
        "duration": 5,
        "seed": 11,
    }
    data.update(overrides)
    return data


def test_run_sync_gives_the_mp4_and_its_headers(served: Served, tmp_path: Path) -> None:
    client = served.sdk(served.key("5"))
    response = client.run_sync(SLUG, **_params())
    (tmp_path / "sync.mp4").write_bytes(response.content)
    info = probe(tmp_path / "sync.mp4")
    assert (info.width, info.height, info.frame_count) == (1080, 1080, 120)
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["x-seed-value"] == "11" and response.headers["x-cost"] == "1"
    assert response.headers["x-remaining-credits"] == "4"
    assert response.headers["x-request-id"].startswith("req_")


def test_run_returns_an_output_that_downloads_to_the_requested_video(served: Served, tmp_path: Path) -> None:
    client = served.sdk(served.key("5"))
    result = client.run(SLUG, **_params(aspect_ratio="9:16", seed=0))
    assert result["status"] == "COMPLETED"
    assert set(result["metrics"]) >= {"cost", "remaining_credits", "inference_time", "queue_time", "total_time"}
    # As with the hosted gateway, output is a URL that downloads without the key.
    (tmp_path / "run.mp4").write_bytes(requests.get(result["output"], timeout=60).content)
    info = probe(tmp_path / "run.mp4")
    assert (info.width, info.height, info.frame_count) == (1080, 1920, 120)
    assert 1 <= result["seed"] <= 999_999  # seed 0 was made concrete and reported


def test_a_job_failing_in_the_worker_raises_inference_failed_with_the_message(served: Served) -> None:
    client = served.sdk(served.key("5"))
    # Accepted (URLs are fetched by the worker), then nothing answers on port 1.
    job = client.submit_async(SLUG, **_params(image_urls=["http://127.0.0.1:1/ref.png"]))
    with pytest.raises(InferenceFailed) as failed:
        job.wait(timeout=60, interval=0.2)
    assert isinstance(failed.value.detail, str)
    assert failed.value.detail.startswith("image_urls[0]: ") and "connection refused" in failed.value.detail
    assert failed.value.status_body["status"] == "FAILED"
    assert job.result()["status"] == "FAILED"  # the 422 result body is read, not raised


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("bad image", 400, "image_urls[0]"),
        ("unknown key", 401, "API key"),
        ("no credits", 406, "not enough credits"),
        ("bad field", 422, "duration"),
    ],
)
def test_error_detail_is_the_human_readable_message(served: Served, case: str, status: int, words: str) -> None:
    key = "rv_unknown" if case == "unknown key" else served.key("0" if case == "no credits" else "5")
    params = {
        "bad image": _params(image_urls=["bm90IGFuIGltYWdl"]),
        "bad field": _params(duration=7),
    }.get(case, _params())
    for call in ("run_sync", "submit_async"):
        with pytest.raises(SegmindError) as error:
            getattr(served.sdk(key), call)(SLUG, **params)
        assert error.value.status == status
        assert isinstance(error.value.detail, str) and words in error.value.detail


def test_a_cancelled_job_ends_wait_promptly(served: Served) -> None:
    key = served.key("10")
    client = served.sdk(key)
    headers = {"x-api-key": key}
    blocker = client.submit_async(SLUG, **_params(aspect_ratio="16:9", duration=10))
    job = client.submit_async(SLUG, **_params())  # queued behind the blocker
    assert job.status()["status"] == "QUEUED"
    threading.Timer(1.0, lambda: requests.post(job.response_url + "/cancel", headers=headers)).start()
    started = time.monotonic()
    with pytest.raises(SegmindError) as ended:
        job.wait(timeout=120, interval=0.2)
    assert time.monotonic() - started < 10
    assert ended.value.status == 409 and "cancelled by the client" in str(ended.value.detail)
    requests.post(blocker.response_url + "/cancel", headers=headers)


def test_the_hosted_seed_snippet_works_unchanged(served: Served, tmp_path: Path) -> None:
    api_key = served.key("5")
    image = tmp_path / "ref.png"
    image.write_bytes(base64.b64decode(image_b64(4)))
    # The hosted endpoint's example, with only the base URL changed.
    url = f"{served.url}/v1/vidu-q1-reference-to-video"
    data = {
        "prompt": "the man on the bench, then a close-up of the book",
        "image_urls": [image_file_to_base64(image)],
        "aspect_ratio": "16:9",
        "duration": 5,
        "seed": 42,
        "movement_amplitude": "auto",
        "bgm": False,
    }
    headers = {"x-api-key": api_key}
    response = requests.post(url, json=data, headers=headers)
    (tmp_path / "out.mp4").write_bytes(response.content)
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height, info.frame_count) == (1920, 1080, 120)
    assert response.headers["x-seed-value"] == "42"
