"""The motion engine's frames, checked in the decoded MP4 the way a viewer would see them."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from refvid.engines.motion import MotionEngine
from refvid.generate import generate
from refvid.media.color import i420_planes
from refvid.media.probe import read_frames
from refvid.references import Reference
from refvid.request import GenerationRequest
from tests.conftest import synthetic


def request(prompt: str, count: int, **fields: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, image_urls=["x"] * count, **{"seed": 11, **fields})  # type: ignore[arg-type]


def orb_matches(frame: np.ndarray, reference: np.ndarray) -> int:
    """Good ORB feature matches between a frame and a reference: survives crop, zoom and grade."""
    orb = cv2.ORB_create(nfeatures=1500)
    gray_f = cv2.cvtColor(cv2.resize(frame, None, fx=0.5, fy=0.5), cv2.COLOR_RGB2GRAY)
    gray_r = cv2.cvtColor(reference, cv2.COLOR_RGB2GRAY)
    _, df = orb.detectAndCompute(gray_f, None)
    _, dr = orb.detectAndCompute(gray_r, None)
    if df is None or dr is None:
        return 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(df, dr, k=2)
    return sum(1 for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance)


@pytest.mark.slow
def test_every_reference_appears_where_planned(tmp_path: Path, demo_refs: list[Reference]) -> None:
    req = request("The astronaut, then the coffee, then the cat", 3)
    result = generate(req, tmp_path / "v.mp4", references=demo_refs)
    frames = list(read_frames(tmp_path / "v.mp4"))
    shots = result.plan["shots"]
    seen = set()
    for shot in shots:
        middle = frames[(shot["start_frame"] + shot["end_frame"]) // 2]
        scores = [orb_matches(middle, ref.image) for ref in demo_refs]
        best = int(np.argmax(scores)) + 1
        assert best == shot["image"], (shot, scores)
        assert scores[best - 1] >= 2 * sorted(scores)[-2] + 5, scores
        seen.add(best)
    assert seen == {1, 2, 3}


def _bright(width: int, height: int, seed: int) -> np.ndarray:
    return (synthetic(width, height, seed).astype(np.uint16) * 160 // 255 + 80).astype(np.uint8)


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
def test_no_black_borders(aspect: str) -> None:
    # Bright references of awkward shapes (portrait, panorama, tiny) so any uncovered
    # edge would show as video black.
    refs = [
        Reference(0, _bright(300, 1100, 1), "portrait"),
        Reference(1, _bright(1200, 320, 2), "panorama"),
        Reference(2, _bright(130, 140, 3), "tiny"),
    ]
    req = request("one, handheld. Then two, orbit. Then three, pan left, large", 3, aspect_ratio=aspect)
    engine = MotionEngine()
    plan = engine.plan(req, refs)
    for index, frame in enumerate(engine.render(plan, req, refs)):
        y, _, _ = i420_planes(frame)
        edges = np.concatenate([y[0], y[-1], y[:, 0], y[:, -1]])
        assert edges.min() > 40, f"frame {index} has a dark border pixel ({edges.min()})"


@pytest.mark.slow
def test_motion_inside_a_shot_is_smooth_in_the_decoded_video(tmp_path: Path) -> None:
    ref = Reference(0, synthetic(1600, 900, 5), "texture")
    req = request("A mural, pan right, large. Static.", 1, movement_amplitude="large")
    result = generate(req, tmp_path / "pan.mp4", references=[ref])
    shot = result.plan["shots"][0]
    assert shot["camera"]["start"][0] < shot["camera"]["end"][0], "the camera pans"
    lo, hi = shot["start_frame"], shot["end_frame"] - shot["transition_frames"]
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in read_frames(tmp_path / "pan.mp4")][lo:hi]
    window = cv2.createHanningWindow(frames[0].shape[::-1], cv2.CV_32F)
    shifts = np.array([cv2.phaseCorrelate(a, b, window)[0] for a, b in itertools.pairwise(frames)])
    speed = np.abs(shifts[:, 0])
    assert speed.max() > 1.0, "the pan moves by pixels per frame"
    change = np.abs(np.diff(shifts, axis=0)).max()
    assert change < 0.5, f"camera motion changes by {change:.2f} px between frames"


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_other_frames(tmp_path: Path, demo_refs: list[Reference]) -> None:
    req = request("A quiet morning", 3, aspect_ratio="1:1", seed=321)
    a = generate(req, tmp_path / "a.mp4", references=demo_refs)
    generate(req, tmp_path / "b.mp4", references=demo_refs)
    c = generate(req.model_copy(update={"seed": 322}), tmp_path / "c.mp4", references=demo_refs)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    assert a.plan != c.plan
    fa = next(read_frames(tmp_path / "a.mp4", every=60))
    fc = next(read_frames(tmp_path / "c.mp4", every=60))
    assert np.abs(fa.astype(int) - fc).mean() > 2


@pytest.mark.slow
def test_seed_zero_picks_and_reports_a_seed(tmp_path: Path, demo_refs: list[Reference]) -> None:
    result = generate(request("A cat", 1, seed=0, aspect_ratio="1:1"), tmp_path / "z.mp4", references=demo_refs[2:])
    assert 1 <= result.seed <= 999_999 and result.plan["seed"] == result.seed


def test_cancel_stops_and_leaves_no_file(tmp_path: Path, demo_refs: list[Reference]) -> None:
    from refvid.errors import Cancelled

    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    with pytest.raises(Cancelled):
        generate(request("A cat", 1), tmp_path / "c.mp4", references=demo_refs[:1], cancelled=cancelled)
    assert not any(tmp_path.iterdir())


def test_warming_up_starts_one_background_thread_per_process() -> None:
    # The CLI calls it before decoding: OpenCV's Lab tables and the cascades are built on a
    # spare core meanwhile. A second call (another engine object) starts nothing more.
    import refvid.engines.motion.render as motion

    MotionEngine().warm_up()
    first = motion._warming
    MotionEngine().warm_up()
    assert first is not None and motion._warming is first
    first.join(timeout=30)
    assert not first.is_alive()
