"""API latency while a video renders, and the sync endpoint's overhead over ``generate()``.

Run: .venv/bin/python benchmarks/api_latency.py [--pollers 20] [--seconds 8] [--repeat 3]

Starts ``refvid serve`` (one worker) as a subprocess on 127.0.0.1 with a temporary REFVID_HOME.
1. ``GET /v2/requests/{id}/status`` latency, p50/p99, from N concurrent pollers: first with
   the server idle (baseline), then while a 1080p 16:9 10 s render is running; the ratio of
   the two is printed. The pollers are ``_pollers.poll``'s, shared with ``reads.py``
   (``http.client`` since that sharing; the RESULTS.md numbers before it came from ``requests``).
2. The same 5 s 1080p request (three demo photos, fixed seed) rendered by ``generate()`` in
   this process and through ``POST /v1/...`` end to end, alternating, medians and ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from _pollers import PROMPT, demo_refs, poll, start_server

from refvid.billing import create_key
from refvid.config import Settings
from refvid.db import open_db
from refvid.generate import generate
from refvid.request import GenerationRequest


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0, help="polling window for each phase")
    parser.add_argument("--repeat", type=int, default=3, help="sync-overhead repetitions")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="refvid-bench-"))
    key = create_key(open_db(Settings(home=home)), "bench", 1_000_000_000).key
    proc, url = start_server(home)
    headers = {"x-api-key": key}
    refs = demo_refs()
    body: dict[str, Any] = {"prompt": PROMPT, "image_urls": refs, "aspect_ratio": "16:9", "seed": 1234}
    try:
        warm = requests.post(url + "/v1/vidu-q1-reference-to-video", json=body, headers=headers, timeout=600)
        assert warm.status_code == 200, warm.text

        # Baseline: poll a finished request while nothing renders.
        idle_id = warm.headers["x-request-id"]
        idle, _ = poll(f"{url}/v2/requests/{idle_id}/status", key, args.pollers, args.seconds / 2)
        long = requests.post(
            url + "/v2/vidu-q1-reference-to-video", json={**body, "duration": 10}, headers=headers
        ).json()
        while requests.get(long["status_url"], headers=headers).json()["status"] == "QUEUED":
            time.sleep(0.01)
        busy_url = f"{url}/v2/requests/{long['request_id']}/status"
        busy, _ = poll(busy_url, key, args.pollers, args.seconds, only="PROCESSING")

        request = GenerationRequest.model_validate(body)
        direct: list[float] = []
        served: list[float] = []
        out = home / "direct.mp4"
        for _ in range(args.repeat):
            started = time.perf_counter()
            generate(request, out, cover=home / "direct.jpg")
            direct.append(time.perf_counter() - started)
            started = time.perf_counter()
            response = requests.post(url + "/v1/vidu-q1-reference-to-video", json=body, headers=headers, timeout=600)
            served.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.content == out.read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    ms = 1000.0
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"status latency, {args.pollers} concurrent pollers:")
    print(f"  idle server      n={len(idle):5d}  p50 {statistics.median(idle) * ms:7.1f} ms  "
          f"p99 {_percentile(idle, 0.99) * ms:7.1f} ms")
    print(f"  during 1080p render n={len(busy):5d}  p50 {statistics.median(busy) * ms:7.1f} ms  "
          f"p99 {_percentile(busy, 0.99) * ms:7.1f} ms")
    print(f"  ratio busy/idle  p50 {statistics.median(busy) / statistics.median(idle):.2f}x  "
          f"p99 {_percentile(busy, 0.99) / _percentile(idle, 0.99):.2f}x")
    d, s = statistics.median(direct), statistics.median(served)
    print(f"sync endpoint vs generate(), 5 s 16:9 1080p, 3 references, median of {args.repeat}:")
    print(f"  generate() {d:.2f} s   POST /v1 {s:.2f} s   overhead {s - d:+.2f} s   ratio {s / d:.2f}x")


if __name__ == "__main__":
    main()
