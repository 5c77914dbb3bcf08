"""Per-reference analysis: faces, cats, colours, highlights that are not the subject, text lines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from refvid.references import Reference
from refvid.vision.detect import CAT_SIDES, Analysis, Found, analyse, colour_names


def test_the_astronaut_has_a_face_and_the_cat_a_cat_face(demo_refs: list[Reference]) -> None:
    astronaut, coffee, cat = (analyse(r.image) for r in demo_refs)
    assert astronaut.faces and 180 < astronaut.faces[0].box.cx < 300
    assert not coffee.faces and not cat.faces
    assert cat.cats and not coffee.cats and not astronaut.cats


def test_analysis_is_cached_by_content(demo_refs: list[Reference]) -> None:
    image = demo_refs[1].image
    assert analyse(image) is analyse(image.copy())
    assert analyse(image) is not analyse(demo_refs[2].image)


def test_dominant_colours_are_named() -> None:
    image = np.full((300, 400, 3), 128, np.uint8)
    image[50:250, 100:300] = (210, 25, 30)
    colours = dict(analyse(image).colours)
    assert set(colours) <= set(colour_names())
    assert colours["red"] > 0.25 and colours["grey"] > 0.25 and "blue" not in colours


def test_small_bright_highlights_are_not_the_subject() -> None:
    rng = np.random.default_rng(1)
    image = np.full((400, 600, 3), 70, np.uint8)
    image[150:330, 330:520] = (40, 150, 210)  # the subject, right of centre
    for x, y in rng.integers((20, 20), (250, 120), size=(6, 2)):
        cv2.circle(image, (int(x), int(y)), 4, (255, 255, 255), -1)  # point lights top left
    box = analyse(image).salient
    assert box.cx > 330 and box.cy > 170


def test_text_lines_are_found_on_a_page_and_not_on_a_photo(demo_refs: list[Reference]) -> None:
    page = np.full((900, 700, 3), 235, np.uint8)
    for i in range(10):
        cv2.putText(page, "The quick brown fox jumps", (40, 90 + i * 70), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (20, 20, 20), 2)
    lines = analyse(page).text
    assert len(lines) >= 10
    assert all(40 <= b.cy <= 800 for b in lines)
    assert not analyse(demo_refs[1].image).text


def test_text_that_is_large_in_a_small_picture_is_still_text() -> None:
    # A cropped photo of a page or a sign: each line is about a tenth of the picture's height.
    page = np.full((190, 380, 3), 235, np.uint8)
    for i in range(5):
        cv2.putText(page, "markers are pixels", (8, 28 + i * 36), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    lines = analyse(page).text
    assert len(lines) >= 4
    assert all(0.05 * 190 <= b.height <= 0.2 * 190 for b in lines)


def test_a_face_the_cascades_miss_is_found_and_casts_its_picture(demo_refs: list[Reference]) -> None:
    from refvid.engines.motion.casting import content_matcher
    from tests.vision.conftest import cameraman

    person = cameraman()  # a greyscale man in profile behind a film camera
    faces = analyse(person).faces
    assert faces and 120 < faces[0].box.cx < 300 and faces[0].box.y1 < 260
    refs = [Reference(0, demo_refs[1].image, "base64"), Reference(1, person, "base64")]
    match = content_matcher(refs)
    assert match(frozenset({"cameraman"}), 1).strength > 0 and match(frozenset({"cameraman"}), 0).strength == 0


def _cats_every_size(image: np.ndarray) -> tuple[Found, ...]:
    """``Analysis.cats`` as it was: the cascade run at every one of ``CAT_SIDES``, repeats included."""
    analysis = Analysis(image)
    found: list[Found] = []
    for side in CAT_SIDES:
        small, scale = analysis._shrunk(side)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        found += analysis._detect("frontalcatface", gray, scale, "cat_face", max(20, min(gray.shape) // 10), 2)
    humans = [f.box for f in analysis.faces if f.weight > 2.0]
    kept = [f for f in found if f.weight > 0.0 and all(f.box.overlap(h) < 0.3 for h in humans)]
    return tuple(sorted(kept, key=lambda f: -f.box.area))


@pytest.mark.parametrize(("left", "side"), [(100, 300), (150, None), (0, 360), (0, None)])
def test_a_small_picture_finds_the_same_cats_looked_at_once_per_size(demo_refs: list[Reference], left: int,
                                                                      side: int | None) -> None:
    # Below 400 or 320 px the picture is looked at as it is for more than one of the sizes:
    # that pass runs once and its hits count once per size, as when it ran each time.
    cat = demo_refs[2].image[:, left:]
    if side is not None:
        cat = cv2.resize(cat, (side, round(cat.shape[0] * side / cat.shape[1])), interpolation=cv2.INTER_AREA)
    expected = _cats_every_size(cat)
    assert Analysis(cat).cats == expected
    if left:
        assert expected  # crops close to the face: the cascade finds it at these sizes
