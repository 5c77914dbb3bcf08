"""Staging: which shots are flat, parallax or composite, and what the rendered composite shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from refvid.engines.motion import MotionEngine
from refvid.engines.motion.casting import Evidence, Matcher
from refvid.engines.motion.staging import composite_request
from refvid.generate import generate
from refvid.media.probe import read_frames
from refvid.references import Reference
from refvid.request import GenerationRequest
from refvid.vision.faces import detect_faces
from tests.engines.motion.test_render import orb_matches

COMPOSITE = "The astronaut from image 1 stands at the table of image 2, slow push in. Then back to image 1, pan right."


def request(prompt: str, count: int, **fields: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, image_urls=["x"] * count, **{"seed": 5, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the man from image 1 sits on the bench of image 3", ([0], 2)),
        ("image 1 and image 2 walk in the garden of image 3", ([0, 1], 2)),
        ("@2 at the launch pad of @1", ([1], 0)),
        ("image 1, then image 2", None),
        ("image 1 in the morning", None),
        ("image 1 sits on the bench of image 9", None),
        ("image 1 fades in from black, image 2", None),
    ],
)
def test_a_sentence_that_puts_a_subject_in_a_place(text: str, expected: tuple[list[int], int] | None) -> None:
    assert composite_request(text, 3) == expected


def _named(table: dict[str, int]) -> Matcher:
    """A matcher for which picture answers to which word (what casting's detectors would say)."""
    def match(words: frozenset[str], index: int) -> Evidence:
        hits = tuple(w for w in words if table.get(w) == index)
        return Evidence(float(len(hits)), hits)
    return match


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The cameraman stands at the launch pad of the rocket", ([0], 1)),
        ("the cat sleeps on the sofa, the cameraman beside it", ([2], 0)),
        ("the cameraman and the cat in the garden", None),  # no picture is a garden
        ("the cat at image 2", ([2], 1)),
        ("the cameraman, then the rocket", None),
        ("the man on the rocket", None),  # "man" is answered by two pictures: it names neither
        # Content words name things loosely: a place word must lead from the subjects to the place.
        ("the cameraman in the grey coat films while the cat watches", None),
        ("the cameraman films the cat in the morning", None),
        # Where someone looks is not where they are.
        ("the cat looks at the rocket", None),
        ("the cameraman smiles at the rocket", None),
        ("the cat sits at the rocket", ([2], 1)),
    ],
)
def test_a_sentence_can_name_subject_and_place_by_what_the_pictures_show(
    text: str, expected: tuple[list[int], int] | None
) -> None:
    matcher = _named({"cameraman": 0, "rocket": 1, "cat": 2, "sofa": 0})
    both = _named({"cameraman": 0, "rocket": 1, "cat": 2})

    def ambiguous(words: frozenset[str], index: int) -> Evidence:
        return Evidence(1.0, ("man",)) if words == {"man"} and index in (0, 2) else both(words, index)

    chosen = ambiguous if "man on" in text else matcher
    assert composite_request(text, 3, chosen) == expected


@pytest.mark.parametrize(
    ("prompt", "blended"),
    [
        ("Blend the astronaut and the coffee into one scene.", True),
        ("The astronaut and the cup together in the same scene.", True),
        ("The astronaut, smooth blend to the coffee.", False),
        ("The astronaut, then blend into the coffee.", False),
    ],
)
def test_only_an_explicit_one_scene_request_blends(prompt: str, blended: bool) -> None:
    from refvid.engines.motion.staging import BLEND_WORDS

    assert bool(BLEND_WORDS.search(prompt)) is blended


def test_the_plan_shows_the_layers(demo_refs: list[Reference]) -> None:
    plan = MotionEngine().plan(request(COMPOSITE, 3), demo_refs)
    shots = plan.details["shots"]
    first = shots[0]["layers"]  # type: ignore[index]
    assert first["mode"] == "composite" and first["scene"] == "image 2"
    (subject,) = first["subjects"]
    assert subject["image"] == 1 and subject["matte"] == "image 1" and subject["scale"] > 0
    assert shots[0]["image"] == 2  # type: ignore[index]  # the camera frames the place
    modes = {s["image"]: s["layers"]["mode"] for s in shots[1:]}  # type: ignore[index]
    assert modes.get(1) == "parallax"
    assert modes.get(3, "flat") == "flat"  # the cat fills its frame: shown as a shot
    cutouts = {r["image"]: r["cutout"] for r in plan.details["references"]}  # type: ignore[index]
    assert cutouts[1]["kind"] == "person" and cutouts[1]["presentation"] == "cutout"


@pytest.mark.parametrize(
    ("prompt", "scene"),
    [
        # The cat's close-up is named last, where the place would be: the scene is the table.
        ("The woman from image 1 sits at the table with the cup from image 2, the cat from image 3 on her lap.", 2),
        ("Image 1 stands in front of image 3.", None),
    ],
)
def test_a_close_up_of_an_animal_is_never_the_place(demo_refs: list[Reference], prompt: str, scene: int | None) -> None:
    plan = MotionEngine().plan(request(prompt, 3), demo_refs)
    layers = plan.details["shots"][0]["layers"]  # type: ignore[index]
    if scene is None:
        assert layers["mode"] != "composite"
        assert any("image 3 is a close-up" in w for w in plan.details["warnings"])  # type: ignore[union-attr]
    else:
        assert layers["mode"] == "composite" and layers["scene"] == f"image {scene}", layers


def test_an_analysis_failure_leaves_the_shot_flat_with_the_reason() -> None:
    noise = np.random.default_rng(4).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    plan = MotionEngine().plan(request("image 1, push in", 1), [Reference(0, noise, "noise")])
    layers = plan.details["shots"][0]["layers"]  # type: ignore[index]
    assert layers["mode"] == "flat" and layers["reason"]
    assert any("image 1 could not be analysed" in w for w in plan.details["warnings"])  # type: ignore[attr-defined]
    frames = MotionEngine().render(plan, request("image 1, push in", 1), [Reference(0, noise, "noise")])
    assert next(iter(frames)).shape == (1080 * 3 // 2, 1920)


def test_missing_models_leave_every_shot_flat_with_a_warning(tmp_path: Path) -> None:
    import json
    import os

    from tests.conftest import demo_path

    images = [arg for name in ("astronaut.jpg", "coffee.jpg", "chelsea.jpg") for arg in ("-i", str(demo_path(name)))]
    env = {**os.environ, "REFVID_MODEL_DIR": str(tmp_path)}  # a fresh process: no model loaded yet
    done = subprocess.run([sys.executable, "-m", "refvid.cli", "plan", *images, "-p", COMPOSITE, "--seed", "5"],
                          capture_output=True, text=True, env=env, check=True)
    plan = json.loads(done.stdout)
    details = plan.get("details", plan)
    assert {s["layers"]["mode"] for s in details["shots"]} == {"flat"}
    assert any("make models" in w for w in details["warnings"])


@pytest.mark.slow
def test_the_composite_in_the_video(tmp_path: Path, demo_refs: list[Reference]) -> None:
    req = request(COMPOSITE, 3, aspect_ratio="16:9")
    result = generate(req, tmp_path / "c.mp4", references=demo_refs)
    shot = result.plan["shots"][0]
    placement = shot["layers"]["subjects"][0]
    frames = list(read_frames(tmp_path / "c.mp4"))
    middle = frames[(shot["start_frame"] + shot["end_frame"]) // 2]
    faces = detect_faces(middle)
    assert faces, "no face where the plan put the astronaut"
    # The window maps canvas to frame; the face must sit inside the placed subject's box.
    start, end = shot["camera"]["start"], shot["camera"]["end"]  # eased: halfway at the middle frame
    cx, w = (start[0] + end[0]) / 2, (start[2] + end[2]) / 2
    zoom = middle.shape[1] / w
    face = faces[0]
    fx = (face.box[0] + face.box[2]) / 2 / zoom + cx - w / 2
    assert placement["x"] - 20 < fx < placement["x"] + placement["width"] + 20
    # Outside the subject the scene is the coffee photo, recognisably.
    masked = middle.copy()
    masked[:, max(0, int(face.box[0]) - 100) :] = 0
    assert orb_matches(masked, demo_refs[1].image) > orb_matches(masked, demo_refs[0].image)
    assert all(f[:, :, 0].max() > 40 for f in frames[:: 12])  # never a black frame


def test_the_analysis_is_the_same_in_another_process(demo_refs: list[Reference]) -> None:
    from refvid.vision.cutout import cutout

    def digest(arrays: list[np.ndarray]) -> str:
        import hashlib

        h = hashlib.sha256()
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    here = cutout(demo_refs[0].image)
    code = (
        "import hashlib, numpy as np; from PIL import Image; from refvid.vision.cutout import cutout; "
        "from tests.conftest import demo_path; "
        "c = cutout(np.asarray(Image.open(demo_path('astronaut.jpg')).convert('RGB'))); h = hashlib.sha256(); "
        "[h.update(np.ascontiguousarray(a).tobytes()) for a in (c.matte, c.foreground, c.plate)]; print(h.hexdigest())"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[3])
    assert there.stdout.strip() == digest([here.matte, here.foreground, here.plate])
    assert cv2.countNonZero((np.asarray(here.matte) > 0.5).astype(np.uint8)) > 0
