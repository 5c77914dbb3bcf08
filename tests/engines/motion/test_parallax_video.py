"""Parallax measured on the decoded MP4 (issue 13): subject and background move at the planned ratio."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from refvid.generate import generate
from refvid.media.probe import read_frames
from refvid.references import Reference
from refvid.request import GenerationRequest
from tests.conftest import synthetic

pytestmark = pytest.mark.slow


def _ball_on_a_wall() -> np.ndarray:
    """A textured orange disc on a textured blue-green wall: an object the analysis cuts out."""
    height, width = 900, 1600
    wall = synthetic(width, height, 7).astype(np.float32) * 0.45 + np.array([40, 110, 150])
    ball = synthetic(width, height, 8).astype(np.float32) * 0.4 + np.array([150, 70, 20])
    yy, xx = np.mgrid[0:height, 0:width]
    disc = (xx - width / 2) ** 2 + (yy - height * 0.55) ** 2 < (height * 0.24) ** 2
    return np.clip(np.where(disc[:, :, None], ball, wall), 0, 255).astype(np.uint8)


def _shift(a: np.ndarray, b: np.ndarray) -> float:
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, _), _ = cv2.phaseCorrelate(a, b, window)
    return float(dx)


def test_subject_and_background_move_at_the_planned_ratio_in_the_decoded_video(tmp_path: Path) -> None:
    request = GenerationRequest(prompt="The orange ball, truck right.", image_urls=["x"], seed=5, duration=5, bgm=False,
                                movement_amplitude="large")
    result = generate(request, tmp_path / "parallax.mp4", references=[Reference(0, _ball_on_a_wall(), "ball")])
    shot = result.plan["shots"][0]
    assert shot["layers"]["mode"] == "parallax", shot["layers"]
    planned = 1 - shot["layers"]["parallax"]  # the background's share of the subject's motion
    assert planned < 0.9
    frames = list(read_frames(tmp_path / "parallax.mp4"))
    height, width = frames[0].shape[:2]
    # Mid-shot, where the eased truck is fastest. The ball is found by its colour; the wall
    # is measured in the frame's top band, far above the ball.
    middle = (shot["start_frame"] + shot["end_frame"]) // 2
    ratios = []
    for first in range(middle - 30, middle + 30, 6):
        a, b = frames[first], frames[first + 5]
        orange = a[:, :, 0].astype(int) - a[:, :, 2] > 40
        ys, xs = np.nonzero(orange)
        cy, cx = int(np.median(ys)), int(np.median(xs))
        assert cy - 180 > height * 0.15, "the ball stays below the wall's band"
        ball = (slice(cy - 150, cy + 150), slice(cx - 150, cx + 150))  # inside the ball (radius ~350 px)
        wall = (slice(0, round(height * 0.15)), slice(0, width))
        gray_a = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gray_b = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float32)
        subject_shift = _shift(gray_a[ball], gray_b[ball])
        background_shift = _shift(gray_a[wall], gray_b[wall])
        assert abs(subject_shift) > 10, "the camera moves the subject by pixels per frame"
        ratios.append(background_shift / subject_shift)
    assert np.median(ratios) == pytest.approx(planned, abs=0.08), ratios
    assert max(abs(r - planned) for r in ratios) < 0.15, ratios


def _speckled_ball() -> np.ndarray:
    """The ball on its wall, with speckles on the wall (not the ball) for the feature matcher to follow."""
    picture = _ball_on_a_wall()
    speckles = np.random.default_rng(3).random(picture.shape[:2]) < 0.01
    speckles &= picture[:, :, 0].astype(int) - picture[:, :, 2] < 0
    picture[cv2.dilate(speckles.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = (245, 245, 230)
    return picture


def _ball(frame: np.ndarray) -> tuple[float, float, float]:
    """Centre and area of the orange ball in a decoded frame."""
    orange = frame[:, :, 0].astype(int) - frame[:, :, 2] > 40
    ys, xs = np.nonzero(orange)
    return float(xs.mean()), float(ys.mean()), float(orange.sum())


def _off_the_ball(*frames: np.ndarray) -> np.ndarray:
    orange = np.zeros(frames[0].shape[:2], bool)
    for frame in frames:
        orange |= frame[:, :, 0].astype(int) - frame[:, :, 2] > 40
    return cv2.dilate(orange.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0


def _wall_motion(a: np.ndarray, b: np.ndarray, keep_out: np.ndarray) -> np.ndarray:
    """The similarity (2x3) taking the wall in ``a`` to ``b``, fitted to ORB matches off the subject."""
    orb = cv2.ORB_create(2000)
    mask = np.where(keep_out, 0, 255).astype(np.uint8)
    ka, da = orb.detectAndCompute(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), mask)
    kb, db = orb.detectAndCompute(cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), mask)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
    src = np.float32([ka[m.queryIdx].pt for m in matches])
    dst = np.float32([kb[m.trainIdx].pt for m in matches])
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    assert matrix is not None and int(inliers.sum()) > 40
    return matrix


def test_a_dolly_zoom_holds_the_subject_while_the_background_zooms_in(tmp_path: Path) -> None:
    request = GenerationRequest(prompt="The orange ball, dolly zoom.", image_urls=["x"], seed=5, duration=5, bgm=False,
                                movement_amplitude="large")
    result = generate(request, tmp_path / "dolly.mp4", references=[Reference(0, _speckled_ball(), "ball")])
    shot = result.plan["shots"][0]
    assert (shot["move"], shot["layers"]["mode"]) == ("dolly_zoom", "parallax")
    frames = list(read_frames(tmp_path / "dolly.mp4"))
    first, last = frames[0], frames[-1]
    (x0, y0, area0), (x1, y1, area1) = _ball(first), _ball(last)
    assert abs(x1 - x0) < 3 and abs(y1 - y0) < 3, "the subject holds its place"
    assert area1 / area0 == pytest.approx(1.0, abs=0.03), "and its size"
    wall = _wall_motion(first, last, _off_the_ball(first, last))
    assert np.hypot(wall[0, 0], wall[1, 0]) > 1.15, "the world behind it closes in"


def test_an_orbit_around_a_cut_out_subject_sweeps_the_background_behind_it(tmp_path: Path) -> None:
    request = GenerationRequest(prompt="The orange ball, orbit.", image_urls=["x"], seed=5, duration=5, bgm=False)
    result = generate(request, tmp_path / "orbit.mp4", references=[Reference(0, _speckled_ball(), "ball")])
    shot = result.plan["shots"][0]
    assert (shot["move"], shot["layers"]["mode"]) == ("orbit", "parallax")
    frames = list(read_frames(tmp_path / "orbit.mp4"))
    first, last = frames[0], frames[-1]
    width = first.shape[1]
    (x0, y0, _), (x1, y1, _) = _ball(first), _ball(last)
    assert abs(x1 - x0) < 3 and abs(y1 - y0) < 3, "the camera keeps the subject in the middle"
    wall = _wall_motion(first, last, _off_the_ball(first, last))
    assert abs(wall[0, 2]) > 0.12 * width, "while the wall behind it sweeps across the frame"
    assert np.hypot(wall[0, 0], wall[1, 0]) == pytest.approx(1.0, abs=0.03)


def _sharpness(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray.astype(np.float32), cv2.CV_32F).var())


def test_a_shallow_focus_blurs_the_background_and_keeps_the_subject_sharp(tmp_path: Path) -> None:
    picture = _speckled_ball()
    frames = {}
    for name, words in (("sharp", ""), ("bokeh", " Shallow depth of field.")):
        request = GenerationRequest(prompt=f"The orange ball, static.{words}", image_urls=["x"], seed=5, duration=5,
                                    bgm=False)
        result = generate(request, tmp_path / f"{name}.mp4", references=[Reference(0, picture, "ball")])
        assert result.plan["shallow_focus"] is bool(words)
        frames[name] = cv2.cvtColor(list(read_frames(tmp_path / f"{name}.mp4"))[60], cv2.COLOR_RGB2GRAY)
    height = frames["sharp"].shape[0]
    wall = (slice(0, round(height * 0.15)), slice(None))
    assert _sharpness(frames["bokeh"][wall]) < 0.3 * _sharpness(frames["sharp"][wall]), "the wall is out of focus"
    middle = frames["sharp"].shape[1] // 2
    ball = (slice(round(height * 0.45), round(height * 0.65)), slice(middle - 100, middle + 100))
    assert _sharpness(frames["bokeh"][ball]) > 0.8 * _sharpness(frames["sharp"][ball]), "the subject is not"
