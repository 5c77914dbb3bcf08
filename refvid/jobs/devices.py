"""The GPUs a ``refvid worker`` may share out among its render processes (one each)."""

from __future__ import annotations

import os
import shutil
import subprocess


def visible_gpus() -> list[str]:
    """GPU ids to hand out: ``CUDA_VISIBLE_DEVICES`` if set, else what ``nvidia-smi -L`` lists.

    Empty on a machine without NVIDIA GPUs (the motion engine needs none).
    """
    declared = os.environ.get("CUDA_VISIBLE_DEVICES")
    if declared is not None:
        return [part.strip() for part in declared.split(",") if part.strip() and part.strip() != "-1"]
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        listed = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(n) for n, line in enumerate(line for line in listed.splitlines() if line.startswith("GPU "))]
