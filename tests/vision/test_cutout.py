"""The per-reference analysis on real photos: mattes, plates, presentation, and clean failures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from refvid.vision.cutout import MAX_PIXELS, Cutout, analyse, cutout, forget
from refvid.vision.faces import detect_faces
from tests.vision.conftest import ASTRONAUT_MASK, CAMERAMAN_MASK, COFFEE_MASK, polygon_mask


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def results(astronaut: np.ndarray, person: np.ndarray, coffee: np.ndarray, chelsea: np.ndarray) -> dict[str, Cutout]:
    return {"astronaut": cutout(astronaut), "person": cutout(person), "coffee": cutout(coffee),
            "chelsea": cutout(chelsea)}


@pytest.mark.parametrize(
    ("name", "kind", "spec"),
    [("astronaut", "person", ASTRONAUT_MASK), ("person", "person", CAMERAMAN_MASK), ("coffee", "object", COFFEE_MASK)],
)
def test_the_matte_matches_a_hand_drawn_mask(results: dict[str, Cutout], name: str, kind: str, spec: dict) -> None:
    result = results[name]
    assert not result.failed and result.presentation == "cutout" and result.kind == kind, result.reason
    assert result.matte.dtype == np.float32 and result.matte.min() >= 0 and result.matte.max() <= 1
    truth = polygon_mask(result.matte.shape, *spec["polygons"], ellipses=spec["ellipses"])
    assert _iou(result.matte > 0.5, truth) > 0.85
    # Soft but decided: few pixels are neither subject nor background.
    assert ((result.matte > 0.05) & (result.matte < 0.95)).mean() < 0.04


@pytest.mark.parametrize("name", ["astronaut", "person", "coffee"])
def test_no_halo_of_the_old_background(results: dict[str, Cutout], name: str,
                                       request: pytest.FixtureRequest) -> None:
    result = results[name]
    image = request.getfixturevalue(name)
    alpha = result.matte
    edge = (alpha > 0.1) & (alpha < 0.9)
    kernel = np.ones((9, 9), np.uint8)
    inside = cv2.erode((alpha > 0.98).astype(np.uint8), kernel) > 0
    outside = cv2.erode((alpha < 0.02).astype(np.uint8), kernel) > 0
    # The subject's and the old background's colours near each edge pixel.
    def local(mask: np.ndarray) -> np.ndarray:
        weight = cv2.blur(mask.astype(np.float32), (31, 31))
        return cv2.blur(image.astype(np.float32) * mask[:, :, None], (31, 31)) / np.maximum(weight, 1e-3)[:, :, None]

    near = edge & (cv2.blur(inside.astype(np.float32), (31, 31)) > 0.05) & (cv2.blur(outside.astype(np.float32), (31, 31)) > 0.05)
    assert near.sum() > 50
    colour = result.foreground[near].astype(np.float32)
    to_subject = np.linalg.norm(colour - local(inside)[near], axis=1)
    to_background = np.linalg.norm(colour - local(outside)[near], axis=1)
    assert np.median(to_subject) < np.median(to_background)
    white = result.on_background((255, 255, 255))
    assert white.shape == image.shape and white.dtype == np.uint8
    assert np.array_equal(white[alpha == 0], np.full(((alpha == 0).sum(), 3), 255, np.uint8))


def test_the_plate_has_no_subject_left(results: dict[str, Cutout], astronaut: np.ndarray, person: np.ndarray) -> None:
    for result, image in ((results["astronaut"], astronaut), (results["person"], person)):
        core = cv2.erode((result.matte > 0.95).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
        assert core.sum() > 1000
        # No face where the person was, and the core no longer looks like the subject.
        face = result.faces[0]
        for found in detect_faces(np.ascontiguousarray(result.plate)):
            same_place = abs((found.box[0] + found.box[2]) - (face.box[0] + face.box[2])) < face.width
            assert not (same_place and 0.5 < found.width / face.width < 2), found
        outside = result.matte < 0.01
        assert np.array_equal(result.plate[outside][::7], image[outside][::7]) or \
            np.abs(result.plate[outside].astype(int) - image[outside].astype(int)).mean() < 1.5
    orange = np.array([230, 100, 40], np.float32)  # the astronaut's suit
    core = cv2.erode((results["astronaut"].matte > 0.95).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    suit_before = (np.linalg.norm(astronaut[core].astype(np.float32) - orange, axis=1) < 60).mean()
    suit_after = (np.linalg.norm(results["astronaut"].plate[core].astype(np.float32) - orange, axis=1) < 60).mean()
    assert suit_before > 0.25 and suit_after < 0.02, (suit_before, suit_after)


def test_a_person_mask_takes_no_strip_of_background_at_the_edge(results: dict[str, Cutout],
                                                                person: np.ndarray) -> None:
    # Between the astronaut's arm and the left edge the segmentation saw a strip of the flag.
    astronaut = results["astronaut"]
    assert (astronaut.matte[400:, :12] > 0.5).mean() < 0.05
    assert (astronaut.matte[400:, 40:80] > 0.5).mean() > 0.95  # the arm beside it stays
    assert "left" not in astronaut.touches
    # A coat cut by the edge, which the model is less sure of, looks like the coat and stays.
    coat = results["person"].matte[300:460, :15]
    assert (coat > 0.5).mean() > 0.95


def test_people_carry_faces_and_landmarks(results: dict[str, Cutout]) -> None:
    astronaut = results["astronaut"]
    assert len(astronaut.faces) == 1 and len(astronaut.landmarks) == 1
    assert astronaut.box is not None and astronaut.box[1] < 30 and astronaut.box[3] == 512
    assert "bottom" in astronaut.touches


def test_a_close_up_that_fills_the_frame_is_a_shot(results: dict[str, Cutout]) -> None:
    cat = results["chelsea"]
    assert cat.presentation == "shot" and not cat.usable and cat.reason and not cat.failed
    assert np.array_equal(cat.on_background((255, 255, 255)), cat.foreground)  # the picture as it is


def test_a_close_up_portrait_is_a_shot(astronaut: np.ndarray) -> None:
    face = astronaut[40:260, 130:330]  # the head and collar, 220 px tall
    result = analyse(cv2.resize(face, (400, 440)))
    assert result.presentation == "shot" and "close-up" in result.reason
    assert not result.failed and result.landmarks  # life still gets the face


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8), "subject"),
        (np.full((200, 300, 3), 128, np.uint8), "uniform"),
        (np.zeros((10, 10, 3), np.uint8), "16x16"),
        (np.zeros((64, 64), np.uint8), "RGB"),
    ],
    ids=["noise", "flat", "tiny", "gray"],
)
def test_unusable_pictures_fail_cleanly(image: np.ndarray, words: str) -> None:
    result = analyse(image)
    assert result.failed and result.presentation == "shot" and words in result.reason
    assert not result.matte.any()
    assert result.on_background((255, 255, 255)).shape[:2] == result.matte.shape


def test_cached_by_content_and_repeatable(astronaut: np.ndarray) -> None:
    mine = astronaut.copy()
    first = cutout(mine)
    assert cutout(astronaut.copy()) is first
    again = analyse(astronaut)
    assert np.array_equal(again.matte, first.matte) and np.array_equal(again.plate, first.plate)
    assert not first.matte.flags.writeable and mine.flags.writeable
    flat = np.full((100, 100, 3), 9, np.uint8)
    assert analyse(flat).failed and flat.flags.writeable  # the caller's array stays writable


def test_a_forgotten_analysis_is_computed_again_the_same(coffee: np.ndarray) -> None:
    first = cutout(coffee)
    forget(coffee.copy())  # by content, like the cache
    again = cutout(coffee)
    assert again is not first and cutout(coffee) is again
    for name in ("matte", "foreground", "plate"):
        assert np.array_equal(getattr(again, name), getattr(first, name)), name
    assert (again.box, again.touches, again.reason) == (first.box, first.touches, first.reason)
    forget(np.zeros((20, 20, 3), np.uint8))  # never analysed: nothing to do


def test_any_size_and_shape_refvid_accepts(astronaut: np.ndarray) -> None:
    tall = cv2.resize(astronaut, (480, 1920), interpolation=cv2.INTER_AREA)  # 1:4
    result = analyse(tall)
    assert result.matte.shape == (1920, 480) and result.plate.shape == tall.shape
    wide = cv2.resize(astronaut, (2400, 600), interpolation=cv2.INTER_AREA)  # 4:1
    assert analyse(wide).matte.shape == (600, 2400)


def test_a_picture_too_large_for_layers_is_a_shot_not_a_failure() -> None:
    # A long banner after decoding: analysing it would keep ~140 MB of layers per picture.
    height = MAX_PIXELS // 1000 + 8
    banner = np.zeros((height, 1000, 3), np.uint8)
    banner[:, :, 0] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    result = analyse(banner)
    assert result.presentation == "shot" and not result.failed
    assert "too large for layers" in result.reason and f"1000x{height}" in result.reason
    small = cv2.resize(banner, (500, height // 2))
    assert "too large" not in analyse(small).reason


def test_analyses_on_threads_at_once_equal_the_ones_made_one_after_another(
        astronaut: np.ndarray, person: np.ndarray, coffee: np.ndarray, chelsea: np.ndarray) -> None:
    # Planning analyses the references on two threads beside casting's detectors: GrabCut's and
    # k-means' seeded random draws are per thread in OpenCV, so the order and overlap of the
    # analyses change nothing.
    from concurrent.futures import ThreadPoolExecutor

    pictures = [astronaut, coffee, person, chelsea, coffee[::-1].copy()]
    alone = [analyse(picture) for picture in pictures]
    with ThreadPoolExecutor(max_workers=len(pictures)) as pool:
        together = list(pool.map(analyse, pictures))
    for one, other in zip(alone, together, strict=True):
        assert (one.kind, one.presentation, one.reason, one.box, one.touches) == \
            (other.kind, other.presentation, other.reason, other.box, other.touches)
        for a, b in ((one.matte, other.matte), (one.foreground, other.foreground), (one.plate, other.plate)):
            assert np.array_equal(a, b)
