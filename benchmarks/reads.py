"""Status polling throughput and latency (issue 12): wrk and Python pollers, idle and while rendering.

Run: apt-get install wrk   (Debian's package; the load generator)
     .venv/bin/python benchmarks/reads.py [--api-processes 1,0] [--seconds 10] [--pollers 20]

For each API process count (0 = ``refvid serve``'s default, one per CPU) it starts
``refvid serve`` (one render worker) on a temporary REFVID_HOME and measures
``GET /v2/requests/{id}/status`` of a finished request:
1. ``wrk -t2 -c<pollers> --latency`` with the server idle: requests/s, p50/p99;
2. the same number of closed-loop Python pollers (threads, keep-alive connections): req/s, p50/p99;
3. both again while a 10 s 1080p 16:9 render runs (wrk during one render, pollers during another).
Then, once, the v1 sync endpoint's overhead over ``generate()`` for the same 5 s request,
alternating, medians and their ratio (``--repeat``). Print ``uptime`` alongside: the machine
is shared.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from _pollers import PROMPT, demo_refs, poll, start_server

from refvid.billing import create_key
from refvid.config import Settings
from refvid.db import open_db
from refvid.generate import generate
from refvid.request import GenerationRequest


@dataclass
class Sample:
    """One measurement: requests per second and latency percentiles in ms."""

    what: str
    rps: float
    p50: float
    p99: float
    n: int
    cpu_ms: float | None = None  # server CPU time per request (all its processes)

    def line(self) -> str:
        cpu = "" if self.cpu_ms is None else f"   server CPU {self.cpu_ms:.2f} ms/request"
        return (
            f"  {self.what:<34} {self.rps:8.0f} req/s   p50 {self.p50:7.1f} ms   p99 {self.p99:7.1f} ms"
            f"   n={self.n}{cpu}"
        )


def _uptime() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and every process under it, seconds."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _cpu_seconds(int(child))
    except OSError:
        pass
    return total


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, key: str, connections: int, seconds: float, what: str) -> Sample:
    """``wrk --latency`` against one URL with the key header."""
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
        "-H", f"x-api-key: {key}", url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx.group(1)} error answers")
    return Sample(what, rps, p50, p99, n)


def pollers(url: str, key: str, count: int, seconds: float, what: str, stop: threading.Event | None = None) -> Sample:
    """``count`` closed-loop pollers (``_pollers.poll``) as one sample."""
    latencies, elapsed = poll(url, key, count, seconds, stop)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return Sample(what, len(ordered) / elapsed, statistics.median(ordered) * 1000, p99 * 1000, len(ordered))


def _render(url: str, key: str, body: dict[str, Any]) -> str:
    """Queue a 10 s render and return its id once it is PROCESSING."""
    headers = {"x-api-key": key}
    job = requests.post(url + "/v2/vidu-q1-reference-to-video", json={**body, "duration": 10}, headers=headers).json()
    while requests.get(job["status_url"], headers=headers).json()["status"] == "QUEUED":
        time.sleep(0.01)
    return str(job["request_id"])


def _rendering(url: str, key: str, job_id: str) -> bool:
    doc = requests.get(f"{url}/v2/requests/{job_id}/status", headers={"x-api-key": key}).json()
    return doc["status"] == "PROCESSING"


def measure(processes: int, args: argparse.Namespace, body: dict[str, Any]) -> tuple[list[Sample], Path, str, str, subprocess.Popen[bytes]]:
    home = Path(tempfile.mkdtemp(prefix="refvid-reads-"))
    key = create_key(open_db(Settings(home=home)), "bench", 1_000_000_000).key
    proc, url = start_server(home, REFVID_API_PROCESSES=str(processes))
    warm = requests.post(url + "/v1/vidu-q1-reference-to-video", json=body, headers={"x-api-key": key}, timeout=600)
    assert warm.status_code == 200, warm.text
    status = f"{url}/v2/requests/{warm.headers['x-request-id']}/status"
    cpu = _cpu_seconds(proc.pid)
    samples = [wrk(status, key, args.pollers, args.seconds, f"idle, wrk -c{args.pollers}")]
    # CPU per request holds however busy the machine is: cores / it is the capacity.
    samples[0].cpu_ms = (_cpu_seconds(proc.pid) - cpu) * 1000 / samples[0].n
    samples.append(pollers(status, key, args.pollers, args.seconds, f"idle, {args.pollers} Python pollers"))
    if args.idle_only:
        return samples, home, url, key, proc
    # During a render: poll the finished request while another one renders (wrk cannot stop
    # when the render ends, so it runs for less time than the render takes).
    rendering = _render(url, key, body)
    samples.append(wrk(status, key, args.pollers, 3, f"rendering, wrk -c{args.pollers}"))
    if not _rendering(url, key, rendering):
        print("  (the render ended during wrk: shorten --seconds)")
    while _rendering(url, key, rendering):
        time.sleep(0.2)
    rendering = _render(url, key, body)
    stop = threading.Event()

    def watch() -> None:
        while _rendering(url, key, rendering):
            time.sleep(0.1)
        stop.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    samples.append(pollers(status, key, args.pollers, 60, f"rendering, {args.pollers} Python pollers", stop))
    watcher.join()
    return samples, home, url, key, proc


def sync_overhead(url: str, key: str, home: Path, body: dict[str, Any], repeat: int) -> tuple[float, float]:
    """Medians of ``generate()`` and of ``POST /v1`` for the same request, alternating."""
    request = GenerationRequest.model_validate(body)
    direct: list[float] = []
    served: list[float] = []
    out = home / "direct.mp4"
    for _ in range(repeat):
        started = time.perf_counter()
        generate(request, out, cover=home / "direct.jpg")
        direct.append(time.perf_counter() - started)
        started = time.perf_counter()
        response = requests.post(url + "/v1/vidu-q1-reference-to-video", json=body, headers={"x-api-key": key}, timeout=600)
        served.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.content == out.read_bytes()
    return statistics.median(direct), statistics.median(served)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-processes", default="1,0", help="comma-separated counts; 0 = the default")
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="sync-overhead repetitions (0: skip)")
    parser.add_argument("--idle-only", action="store_true", help="skip the phases during a render")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    body: dict[str, Any] = {"prompt": PROMPT, "image_urls": demo_refs(), "aspect_ratio": "16:9", "seed": 1234}
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {_uptime()}")
    counts = [int(c) for c in args.api_processes.split(",")]
    for n, processes in enumerate(counts):
        samples, home, url, key, proc = measure(processes, args, body)
        try:
            label = "default" if processes == 0 else str(processes)
            print(f"GET /v2/requests/{{id}}/status, API processes: {label}   (load {_uptime()})")
            for sample in samples:
                print(sample.line())
            if n == len(counts) - 1 and args.repeat > 0 and not args.idle_only:
                direct, served = sync_overhead(url, key, home, body, args.repeat)
                print(f"sync endpoint vs generate(), 5 s 16:9 1080p, 3 references, median of {args.repeat}:")
                print(f"  generate() {direct:.2f} s   POST /v1 {served:.2f} s   ratio {served / direct:.3f}x")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            shutil.rmtree(home, ignore_errors=True)
    print(f"load at the end {_uptime()}")


if __name__ == "__main__":
    main()
