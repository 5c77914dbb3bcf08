"""Layered shots: parallax at the planned ratio, no hole ever shows, composites put the subject in the place."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from refvid.engines.motion.framing import Window
from refvid.engines.motion.layers import (
    EDGE_MARGIN,
    MIN_FIT,
    PARALLAX_STRENGTH,
    _lab_stats,
    _match_colour,
    background_window,
    build_composite,
    composite,
    place_subject,
    prepare_layers,
)
from refvid.engines.motion.warp import chroma_matrix, window_matrix
from refvid.media.color import i420_planes
from refvid.vision.cutout import Cutout, cutout
from refvid.vision.faces import detect_faces
from tests.vision.conftest import demo_image

WIDTH, HEIGHT = 320, 180


def _render(layers, window: Window, rest: Window, strength: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    frame = np.zeros((HEIGHT * 3 // 2, WIDTH), np.uint8)
    subject = window_matrix(window, 1.0, WIDTH, HEIGHT)
    background = window_matrix(background_window(window, rest, strength), 1.0, WIDTH, HEIGHT)
    composite(i420_planes(frame), layers, subject, background, chroma_matrix, {})
    return frame


def _shift(a: np.ndarray, b: np.ndarray) -> float:
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, _), _ = cv2.phaseCorrelate(a.astype(np.float32), b.astype(np.float32), window)
    return float(dx)


@pytest.mark.parametrize("amplitude", ["small", "large"])
def test_subject_and_background_move_at_the_planned_ratio(amplitude: str) -> None:
    rng = np.random.default_rng(2)

    def texture_of() -> np.ndarray:
        blurred = cv2.GaussianBlur(rng.integers(0, 256, (400, 700, 3), dtype=np.uint8), (0, 0), 2.5)
        return cv2.normalize(blurred, np.empty_like(blurred), 0, 255, cv2.NORM_MINMAX)

    texture, subject = texture_of(), texture_of()
    alpha = np.zeros((400, 700), np.float32)
    alpha[150:260, 300:420] = 1.0
    layers = prepare_layers(texture, subject, alpha)
    strength = PARALLAX_STRENGTH[amplitude]
    rest = Window(350, 200, 560)
    moved = Window(380, 200, 560)  # a 30-canvas-px truck to the right
    first, second = _render(layers, rest, rest, strength), _render(layers, moved, rest, strength)
    scale = WIDTH / 560
    # The subject's box (in output px) and a band of pure background far from it.
    subject_shift = _shift(first[66:120, 140:196], second[66:120, 140:196])
    background_shift = _shift(first[0:56], second[0:56])
    assert subject_shift == pytest.approx(-30 * scale, abs=0.6)
    assert background_shift / subject_shift == pytest.approx(1 - strength, abs=0.06)


def test_the_subject_blended_only_where_it_reaches_matches_a_full_frame_blend() -> None:
    """composite() warps the subject only inside its alpha's reach: the frame is the full-frame blend."""
    rng = np.random.default_rng(5)
    plate = cv2.GaussianBlur(rng.integers(0, 256, (400, 700, 3), dtype=np.uint8), (0, 0), 1.5)
    subject = cv2.GaussianBlur(rng.integers(0, 256, (400, 700, 3), dtype=np.uint8), (0, 0), 1.5)
    alpha = np.zeros((400, 700), np.float32)
    alpha[120:240, 260:380] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), 4)  # a soft edge, zero far from the subject
    alpha[alpha < 1e-3] = 0.0
    layers = prepare_layers(plate, subject, alpha)
    assert layers.box is not None and layers.box[2] - layers.box[0] < 200
    window, rest = Window(330, 190, 420, 0.05), Window(350, 200, 560)
    frame = _render(layers, window, rest, 0.35)
    # The same frame blended over the whole picture in floating point.
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    expected = np.zeros_like(frame)
    fg_luma = window_matrix(window, 1.0, WIDTH, HEIGHT)
    bg_luma = window_matrix(background_window(window, rest, 0.35), 1.0, WIDTH, HEIGHT)
    for n, (out, bg, fg) in enumerate(zip(i420_planes(expected), layers.background, layers.subject, strict=True)):
        size = (out.shape[1], out.shape[0])
        fg_m, bg_m = (fg_luma, bg_luma) if n == 0 else (chroma_matrix(fg_luma), chroma_matrix(bg_luma))
        a = cv2.warpAffine((layers.alpha if n == 0 else layers.alpha_chroma).astype(np.float32) / 255, fg_m, size,
                           flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        back = cv2.warpAffine(bg, bg_m, size, flags=flags, borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        front = cv2.warpAffine(fg, fg_m, size, flags=flags, borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        out[:] = np.clip(front * a + back * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    difference = np.abs(frame.astype(int) - expected)
    assert difference.max() <= 2
    assert (difference > 0).mean() < 0.05


def test_what_the_subject_uncovers_is_the_plate_never_black() -> None:
    plate = np.full((400, 700, 3), (200, 180, 150), np.uint8)
    subject = np.zeros_like(plate)  # a black figure
    alpha = np.zeros((400, 700), np.float32)
    alpha[100:300, 250:450] = 1.0
    layers = prepare_layers(plate, subject, alpha)
    rest = Window(350, 200, 600)
    for step in range(0, 80, 10):
        window = Window(350 + step, 200 - step / 2, 600 * (1 - step / 400))
        frame = _render(layers, window, rest, 0.5)
        y, u, v = i420_planes(frame)
        dark = y < 40
        # Only the figure is dark (its width on screen: 200 canvas px); everything else is plate.
        xs = np.nonzero(dark)[1]
        assert 0 < xs.max() - xs.min() + 1 <= 200 * WIDTH / window.w + 2
        edge = cv2.dilate(dark.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        assert y[~edge].min() > 150
        assert u.min() > 16 and v.min() > 16


def test_a_composite_puts_the_person_in_the_place() -> None:
    person = cutout(demo_image("astronaut.jpg"))
    scene = np.ascontiguousarray(cv2.resize(demo_image("coffee.jpg"), (960, 640), interpolation=cv2.INTER_CUBIC))
    place = place_subject(person, scene.shape[1], scene.shape[0])
    # A bust (cut by its photo's bottom edge) rests on the bottom edge at a sensible height.
    assert place.y0 + place.height == pytest.approx(640, abs=1)
    assert 0.5 < place.height / 640 < 0.9
    background, subject, alpha = build_composite([person], scene, [place])
    picture = (subject * alpha[:, :, None] + background * (1 - alpha[:, :, None])).astype(np.uint8)
    faces = detect_faces(picture)
    assert faces
    cx = (faces[0].box[0] + faces[0].box[2]) / 2
    assert place.x0 < cx < place.x0 + place.width
    outside = alpha < 0.01
    outside[round(place.y0) :, round(place.x0) : round(place.x0 + place.width)] = False
    assert np.abs(picture[outside].astype(int) - scene[outside].astype(int)).mean() < 2


def test_two_subjects_share_the_scene() -> None:
    people = [cutout(demo_image("astronaut.jpg")), cutout(demo_image("coffee.jpg"))]
    scene = np.full((540, 960, 3), 120, np.uint8)
    places = [place_subject(cut, 960, 540, slot, 2) for slot, cut in enumerate(people)]
    assert places[0].x0 + places[0].width <= places[1].x0 + 1
    _, _, alpha = build_composite(people, scene, places)
    left, right = alpha[:, :480], alpha[:, 480:]
    assert left.mean() > 0.1 and right.mean() > 0.05


def test_a_neutral_subject_takes_no_colour_from_the_scene() -> None:
    rng = np.random.default_rng(4)
    grey = np.clip(rng.normal(120, 40, (120, 80)), 0, 255).astype(np.uint8)
    subject = np.dstack([grey] * 3)  # a greyscale photo's subject
    alpha = np.ones((120, 80), np.float32)
    scene = np.zeros((200, 300, 3), np.uint8)
    scene[:] = (210, 120, 40)  # a warm, orange place
    scene[::7] = (90, 40, 10)
    matched = _match_colour(subject, alpha, _lab_stats(scene, None))
    lab = cv2.cvtColor(matched, cv2.COLOR_RGB2LAB).astype(np.float32)
    assert np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128).max() <= 3
    # A coloured subject is still matched toward the scene.
    red = np.dstack([grey, grey // 3, grey // 3])
    before = cv2.cvtColor(red, cv2.COLOR_RGB2LAB).astype(np.float32)[:, :, 2].mean()
    after = cv2.cvtColor(_match_colour(red, alpha, _lab_stats(scene, None)), cv2.COLOR_RGB2LAB)[:, :, 2].mean()
    assert after > before + 5  # yellower, like the scene


def _person_box_cut() -> Cutout:
    """A person cut-out 200 x 300 px in a 400 x 400 picture, standing (not a bust)."""
    matte = np.zeros((400, 400), np.float32)
    matte[50:350, 100:300] = 1.0
    picture = np.full((400, 400, 3), 128, np.uint8)
    return Cutout("person", "cutout", "test", False, matte, picture, picture, (100, 50, 300, 350))


@pytest.mark.parametrize("scene_box", [(150, 100, 640, 500), (150, 0, 820, 540), (20, 0, 880, 540),
                                       (300, 50, 660, 540)])
def test_a_placed_subject_stays_in_the_frame_and_beside_the_scene_subject(
        scene_box: tuple[int, int, int, int]) -> None:
    cut = _person_box_cut()
    planned = place_subject(cut, 960, 540)
    place = place_subject(cut, 960, 540, avoid=scene_box)
    assert place.x0 >= -0.5 and place.x0 + place.width <= 960.5
    assert place.y0 >= -0.5 and place.y0 + place.height <= 540.5
    assert place.scale >= MIN_FIT * planned.scale - 1e-9
    overlap = max(0.0, min(place.x0 + place.width, scene_box[2]) - max(place.x0, scene_box[0]))
    margin = EDGE_MARGIN * 960
    assert place.x0 >= margin - 0.5 and place.x0 + place.width <= 960 - margin + 0.5  # off the edge
    rooms = (scene_box[0] - margin, 960 - margin - scene_box[2])
    if max(rooms) >= MIN_FIT * planned.width:
        assert overlap < 1  # room enough at its smallest: it stands beside, not over
    else:
        # At its smallest, by the frame's edge on the roomier side: the least overlap it can have.
        assert place.width == pytest.approx(MIN_FIT * planned.width)
        assert overlap == pytest.approx(place.width - max(rooms), abs=1)
