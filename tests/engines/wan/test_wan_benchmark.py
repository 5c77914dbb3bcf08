"""benchmarks/wan_gpu.py: full-size random architectures, and the script itself on the CPU."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "wan_gpu.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1]), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wan_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only exit")
def test_full_size_on_a_cpu_only_machine_says_so_and_exits_0() -> None:
    result = _run("--random-weights", "14b")
    assert result.returncode == 0, result.stderr
    assert "no CUDA device" in result.stdout


@pytest.mark.slow
def test_full_size_architectures_match_the_published_checkpoints() -> None:
    # Built on the meta device: only shapes. The bf16 sizes match the published files
    # (VACE 1.3B ~4.3 GB, 14B ~34.7 GB, UMT5-XXL encoder ~11.4 GB).
    wan_gpu = _script()
    counts = {}
    for kind in ("1.3b", "14b"):
        pipe = wan_gpu.build_pipeline(kind, torch.bfloat16, torch.float32, "meta")
        counts[kind] = {
            name: sum(p.numel() for p in getattr(pipe, name).parameters()) / 1e9
            for name in ("transformer", "text_encoder", "vae")
        }
    assert 2.1 < counts["1.3b"]["transformer"] < 2.2
    assert 17.3 < counts["14b"]["transformer"] < 17.4
    assert 5.6 < counts["14b"]["text_encoder"] < 5.7  # the embedding is tied, as loaded
    assert 0.12 < counts["14b"]["vae"] < 0.13


@pytest.mark.slow
def test_tiny_random_weights_run_on_the_cpu_and_print_one_line_per_setting() -> None:
    result = _run("--random-weights", "tiny", "--only", "step-48x32,clip-none", "--steps", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["setting"] for line in lines] == ["step-48x32", "clip-none"]
    step, clip = lines
    assert step["resolution"] == [48, 32] and step["steps_run"] == 3
    assert step["step_seconds"] > 0 and "clip_seconds_at_50_steps" not in step
    assert clip["clip_seconds_at_50_steps"] > clip["wall_seconds"] > 0
    assert clip["peak_host_rss_gb"] > 0
    assert set(clip["text_encoder_memory_gb"]) == {"before", "after", "peak"}
