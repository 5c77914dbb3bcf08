"""A continuation segment: what conditions it, which latent frames it pins, and the seam."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from refvid.engines.wan.config import WanSettings
from refvid.engines.wan.continuation import conditioning, join
from refvid.engines.wan.sizes import plan_segments


@pytest.fixture(scope="module")
def pipe(tiny_model_dir: Path) -> Any:
    from diffusers import WanVACEPipeline

    return WanVACEPipeline.from_pretrained(tiny_model_dir, local_files_only=True)


def _latent_mask(pipe: Any, length: int, overlap: int) -> torch.Tensor:
    """The mask as the transformer gets it: diffusers' own preprocessing, per latent frame."""
    width, height = 48, 32
    frames = [np.full((height, width, 3), 200, np.uint8) for _ in range(20)]
    video, mask = conditioning(frames, length, overlap)
    _, mask_tensor, references = pipe.preprocess_conditions(
        video, mask, None, 1, height, width, length, torch.float32, torch.device("cpu")
    )
    latent = pipe.prepare_masks(mask_tensor, references)  # [1, 64, latent frames, h, w]
    return latent[0].amax(dim=(0, 2, 3))  # 0 = the whole latent frame is kept


def test_the_default_overlap_pins_two_latent_frames(pipe: Any) -> None:
    settings = WanSettings()
    segments = plan_segments(10, settings.fps, settings.segment_frames, settings.overlap_frames)
    length = segments.lengths[1]
    per_latent = _latent_mask(pipe, length, segments.overlap)
    assert len(per_latent) == (length - 1) // 4 + 1
    assert per_latent[:2].tolist() == [0.0, 0.0]  # kept: continue from segment 1
    assert set(per_latent[2:].tolist()) == {1.0}  # generated


def test_a_five_frame_overlap_pinned_only_one_latent_frame(pipe: Any) -> None:
    # Why the default changed: nearest sampling over 85 frames keeps frame 1 (latent 0) and
    # lands on frame 5 (latent 1), past a 5-frame overlap.
    assert _latent_mask(pipe, 85, 5)[:2].tolist() == [0.0, 1.0]


def test_conditioning_keeps_the_last_frames_over_gray() -> None:
    frames = [np.full((4, 6, 3), value, np.uint8) for value in range(20)]
    video, mask = conditioning(frames, 85, 9)
    assert len(video) == len(mask) == 85
    assert [int(np.asarray(v)[0, 0, 0]) for v in video[:9]] == list(range(11, 20))
    assert all(np.asarray(m).max() == 0 for m in mask[:9])
    assert all(np.asarray(m).min() == 255 for m in mask[9:])
    assert {int(np.asarray(v).min()) for v in video[9:]} == {128}


def test_segments_join_with_a_crossfade_over_the_overlap() -> None:
    frames = [np.zeros((2, 2, 3), np.uint8) for _ in range(10)]
    segment = [np.full((2, 2, 3), 120, np.uint8) for _ in range(9)]
    join(frames, segment, overlap=5)
    assert len(frames) == 10 + 9 - 5
    levels = [int(frame[0, 0, 0]) for frame in frames]
    assert levels[:5] == [0] * 5
    assert levels[5:10] == [20, 40, 60, 80, 100]  # old frames fade into the re-rendered ones
    assert levels[10:] == [120] * 4
