"""Subject finding, canvas extension for mismatched shapes, and framing windows."""

from __future__ import annotations

import numpy as np
import pytest

from refvid.engines.motion.framing import (
    Window,
    build_canvas,
    canvas_layout,
    find_subject,
    fit_window,
    frame_subject,
    max_window_width,
    spread_widths,
)
from refvid.references import Reference


def test_face_found_on_the_astronaut(demo_refs: list[Reference]) -> None:
    subject = find_subject(demo_refs[0].image)
    assert subject.kind == "face" and subject.face is not None
    # Eileen Collins' face is in the upper middle of the 512x512 portrait.
    assert 180 < subject.face.cx < 300 and 60 < subject.face.cy < 200
    assert 50 < subject.face.width < 200


def test_saliency_finds_an_off_centre_object() -> None:
    image = np.full((400, 600, 3), 90, np.uint8)
    image[60:160, 420:540] = (250, 40, 40)  # a red box in the top right
    subject = find_subject(image)
    assert subject.kind == "saliency"
    assert subject.box.cx > 330 and subject.box.cy < 200


@pytest.mark.parametrize(("size", "extended"), [((1200, 800), False), ((800, 800), True), ((600, 1200), True), ((1600, 900), False)])
def test_canvas_extends_only_strong_mismatches(size: tuple[int, int], extended: bool) -> None:
    layout = canvas_layout(*size, 16 / 9)
    assert layout.extended is extended
    if extended:
        assert layout.width / layout.height == pytest.approx(16 / 9, rel=0.01)


def test_extended_canvas_is_a_blurred_image_not_bars() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(40, 255, (1200, 600, 3), dtype=np.uint8)
    layout = canvas_layout(600, 1200, 16 / 9)
    canvas = build_canvas(image, layout)
    assert canvas.shape[:2] == (layout.height, layout.width)
    margin = canvas[:, : int(layout.image.x0) - 2]
    assert margin.mean() > 20, "margins must not be black bars"
    assert margin.std() < image.std() / 2, "margins are blurred"
    x0 = round(layout.image.x0)
    assert np.array_equal(canvas[:, x0 : x0 + 600], image), "the picture itself is untouched"


@pytest.mark.parametrize("framing", ["wide", "medium", "close-up"])
def test_framings_contain_the_face_and_tighten(framing: str, demo_refs: list[Reference]) -> None:
    image = demo_refs[0].image
    subject = find_subject(image)
    layout = canvas_layout(image.shape[1], image.shape[0], 16 / 9)
    window = frame_subject(subject, layout, framing, 16 / 9, 1920)
    face = subject.face
    assert face is not None
    x0 = window.cx - window.w / 2 - layout.image.x0
    y0 = window.cy - window.w / (16 / 9) / 2 - layout.image.y0
    assert x0 <= face.x0 and x0 + window.w >= face.x1
    assert y0 <= face.y0 + 5 and y0 + window.w / (16 / 9) >= face.y1 - 5


def test_framing_widths_order(demo_refs: list[Reference]) -> None:
    image = demo_refs[1].image
    layout = canvas_layout(image.shape[1], image.shape[0], 16 / 9)
    subject = find_subject(image)
    widths = [frame_subject(subject, layout, f, 16 / 9, 800).w for f in ("wide", "medium", "close-up")]
    assert widths[0] > widths[1] > widths[2]


def test_fit_window_pulls_inside() -> None:
    layout = canvas_layout(1000, 600, 16 / 9)
    fitted = fit_window(Window(990, 10, 5000, 0.05), layout, 16 / 9)
    assert fitted.w <= max_window_width(layout, 16 / 9, 0.05) + 1e-9
    assert fitted.cx - fitted.w / 2 >= 0 and fitted.cx + fitted.w / 2 <= 1000


def test_landscape_in_portrait_is_a_full_height_crop_not_an_extension(demo_refs: list[Reference]) -> None:
    # Issue 8 changed this: a landscape picture in 9:16 is not letterboxed on an extended
    # canvas any more; every framing is a crop of the real picture (wide = full height).
    image = demo_refs[1].image
    aspect = 9 / 16
    layout = canvas_layout(image.shape[1], image.shape[0], aspect, 1080)
    assert not layout.extended
    subject = find_subject(image)
    windows = {f: frame_subject(subject, layout, f, aspect, 1080) for f in ("wide", "medium", "close-up")}
    assert windows["wide"].w / aspect == pytest.approx(image.shape[0], rel=0.01)
    # 400 px of height for 1920 px of output: the enlargement cap leaves little room to tighten.
    assert windows["wide"].w >= windows["medium"].w > windows["close-up"].w >= 1080 / 6 - 1e-6


def test_tight_framings_of_a_portrait_in_landscape_stay_on_the_picture(demo_refs: list[Reference]) -> None:
    image = np.ascontiguousarray(np.rot90(demo_refs[1].image))  # 400x600: portrait
    aspect = 16 / 9
    layout = canvas_layout(image.shape[1], image.shape[0], aspect, 1920)
    assert layout.extended
    subject = find_subject(image)
    for framing in ("medium", "close-up"):
        window = frame_subject(subject, layout, framing, aspect, 1920)
        assert window.cx - window.w / 2 >= layout.image.x0 - 1e-6 and window.cx + window.w / 2 <= layout.image.x1 + 1e-6
    wide = frame_subject(subject, layout, "wide", aspect, 1920)
    assert layout.image.width / wide.w >= 0.7 - 1e-6, "the real picture fills most of a wide frame"


def test_a_face_keeps_the_whole_head_with_eyes_near_the_upper_third(demo_refs: list[Reference]) -> None:
    image = demo_refs[0].image
    subject = find_subject(image)
    face = subject.face
    assert face is not None
    layout = canvas_layout(image.shape[1], image.shape[0], 16 / 9, 1920)
    for framing in ("medium", "close-up"):
        window = frame_subject(subject, layout, framing, 16 / 9, 1920)
        height = window.w / (16 / 9)
        top = window.cy - height / 2
        assert top <= face.y0 - 0.3 * face.height, framing
        eyes = (face.y0 + 0.4 * face.height - top) / height
        assert 0.2 <= eyes <= 0.45, (framing, eyes)


def test_consecutive_framings_of_one_picture_differ_by_a_quarter() -> None:
    widths, similar = spread_widths([1000, 950, 900, 500], [0, 0, 0, 1], [100] * 4)
    assert widths[1] <= 0.75 * widths[0] + 1e-9
    assert abs(widths[2] - widths[1]) >= 0.25 * max(widths[1], widths[2]) - 1e-9 or similar[2]
    _, flags = spread_widths([300, 290], [0, 0], [280, 280])
    assert flags == [False, True], "too small to tighten: the planner cuts instead"


def test_text_lines_are_not_cut_by_a_crop() -> None:
    import cv2

    page = np.full((900, 1200, 3), 235, np.uint8)
    for i in range(9):
        cv2.putText(page, "Lorem ipsum dolor sit amet", (300, 120 + i * 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 2)
    subject = find_subject(page)
    assert subject.text
    layout = canvas_layout(1200, 900, 16 / 9, 1920)
    window = frame_subject(subject, layout, "medium", 16 / 9, 1920)
    x0, x1 = window.cx - window.w / 2, window.cx + window.w / 2
    assert not any(line.x0 + 1 < x0 < line.x1 - 1 or line.x0 + 1 < x1 < line.x1 - 1 for line in subject.text)


def test_a_medium_shot_is_never_made_tighter_than_the_close_up_beside_it() -> None:
    # A close-up held wide by a tall head, then a medium shot that cannot get any wider:
    # the close-up is the one tightened, even as the first shot.
    widths, similar = spread_widths([512, 512, 476], [0, 0, 0], [100] * 3, ["close-up", "medium", "close-up"])
    assert widths[1] == 512 and widths[0] <= 0.75 * 512 + 1e-9 and widths[2] <= 0.75 * 512 + 1e-9
    assert similar == [False, False, False]
