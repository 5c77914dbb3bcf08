"""Life: bounded, smooth head sway, blinks at natural intervals, seeded atmosphere."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from refvid.engines.motion.life import (
    BLINK_EVERY,
    SWAY_DEGREES,
    Atmosphere,
    Motion,
    Person,
    animate_person,
    atmosphere_for,
)
from refvid.media.color import i420_planes, rgb_to_i420
from refvid.vision.cutout import cutout
from tests.vision.conftest import demo_image

FPS = 24


def test_sway_is_bounded_smooth_and_seeded() -> None:
    motion = Motion.draw(np.random.default_rng(3), 240, FPS)
    angles = np.array([motion.angle(f) for f in range(240)])
    assert np.abs(angles).max() <= math.radians(SWAY_DEGREES) + 1e-9
    assert np.abs(angles).max() > math.radians(SWAY_DEGREES) * 0.3  # it does move
    assert np.abs(np.diff(angles)).max() < math.radians(0.08)  # no jumps between frames
    again = Motion.draw(np.random.default_rng(3), 240, FPS)
    assert again == motion
    assert Motion.draw(np.random.default_rng(4), 240, FPS) != motion


def test_blinks_come_at_natural_intervals() -> None:
    motion = Motion.draw(np.random.default_rng(8), 240, FPS)
    gaps = np.diff(motion.blinks) / FPS
    assert len(motion.blinks) >= 2
    assert gaps.min() >= BLINK_EVERY[0] - 0.05 and gaps.max() <= BLINK_EVERY[1] + 0.05
    closed = [f for f in range(240) if motion.lid(f) == 1.0]
    assert closed and all(any(0 <= f - b < 5 for b in motion.blinks) for f in closed)


@pytest.mark.parametrize("seconds", [1.0, 1.6, 2.2])
def test_a_short_shot_of_a_person_still_blinks(seconds: float) -> None:
    frames = round(seconds * FPS)
    for seed in range(40):
        blinks = Motion.draw(np.random.default_rng(seed), frames, FPS).blinks
        assert blinks and all(b + 5 <= frames for b in blinks), (seed, blinks)


@pytest.fixture(scope="module")
def astronaut_frame() -> tuple[np.ndarray, Person]:
    image = demo_image("astronaut.jpg")
    cut = cutout(image)
    assert cut.box is not None and cut.landmarks
    person = Person.from_landmarks(cut.landmarks[0], (0.0, 0.0), cut.box[3])
    return rgb_to_i420(image), person


def test_the_head_moves_sub_pixel_smoothly_and_nothing_far_away_moves(
    astronaut_frame: tuple[np.ndarray, Person],
) -> None:
    base, person = astronaut_frame
    motion = Motion(((1.0, 2.0, 0.0),), 4.0, 0.0, (), FPS)
    identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    crowns, shifts = [], []
    previous = None
    for f in range(0, 24):
        frame = base.copy()
        animate_person(i420_planes(frame), person, identity, motion, f)
        y = i420_planes(frame)[0]
        head = y[40:150, 160:300].astype(np.float32)
        if previous is not None:
            window = cv2.createHanningWindow((head.shape[1], head.shape[0]), cv2.CV_32F)
            (dx, dy), _ = cv2.phaseCorrelate(previous, head, window)
            shifts.append(math.hypot(dx, dy))
        previous = head
        crowns.append(y)
        # Far from the head (the helmet, the flag) every pixel is untouched.
        assert np.array_equal(y[400:, :], i420_planes(base)[0][400:, :])
    assert max(shifts) < 0.8  # sub-pixel from frame to frame
    total = np.abs(crowns[6].astype(int) - crowns[0].astype(int))[20:200, 140:320]
    assert total.mean() > 0.5  # but it does move over a quarter second


def test_a_blink_covers_the_eyes_then_opens_them(astronaut_frame: tuple[np.ndarray, Person]) -> None:
    person = astronaut_frame[1]
    assert len(person.eyes) == 2
    identity = np.array([[2.0, 0, 0], [0, 2.0, 0]])  # eyes twice as big on screen
    big = rgb_to_i420(cv2.resize(demo_image("astronaut.jpg"), (1024, 1024), interpolation=cv2.INTER_CUBIC))
    motion = Motion(((0.0, 5.0, 0.0),), 4.0, 0.0, (10,), FPS)
    frames = {}
    for f in (9, 11, 16):
        frame = big.copy()
        animate_person(i420_planes(frame), person, identity, motion, f)
        frames[f] = i420_planes(frame)[0]
    (ex, ey, ew) = person.eyes[0]
    box = (slice(round(2 * ey - 0.25 * 2 * ew), round(2 * ey + 0.25 * 2 * ew)),
           slice(round(2 * (ex - ew / 3)), round(2 * (ex + ew / 3))))
    open_eye, shut_eye, reopened = frames[9][box], frames[11][box], frames[16][box]
    assert np.array_equal(open_eye, i420_planes(big)[0][box])
    assert shut_eye.astype(float).min() > open_eye.astype(float).min() + 15  # the dark iris is covered
    assert np.array_equal(reopened, open_eye)


def test_atmosphere_words() -> None:
    assert atmosphere_for("golden hour, drifting dust, vintage look") == ("light", "dust", "grain")
    assert atmosphere_for("snow falls on the town") == ("snow",)
    assert atmosphere_for("a quiet morning") == ()


@pytest.mark.parametrize("effects", [("light",), ("snow",), ("dust",), ("grain",)])
def test_atmosphere_is_seeded_and_visible(effects: tuple[str, ...]) -> None:
    base = np.full((180 * 3 // 2, 320), 128, np.uint8)
    base[:180] = 100
    frames = []
    for seed in (7, 7, 8):
        frame = base.copy()
        Atmosphere(effects, 320, 180, FPS, seed).apply(frame, 30)
        frames.append(frame)
    assert np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[0], base)
    assert not np.array_equal(frames[0], frames[2])
    assert frames[0][:180].min() >= 16 and frames[0][:180].max() <= 235
