"""Sources let the plan's analyses go once made, and come out the same when they are made again."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from refvid.engines.motion import MotionEngine
from refvid.engines.motion.render import MotionPlan
from refvid.engines.motion.sources import Source, Sources, _same_pictures, source_key
from refvid.references import Reference
from refvid.request import GenerationRequest
from refvid.vision import cutout as cutout_module
from refvid.vision import models
from refvid.vision.detect import content_key
from tests.conftest import synthetic

# A composite, a parallax shot and a flat one over the three demo photos.
PROMPT = ("The astronaut from image 1 stands at the table of image 2, slow push in. "
          "Then the coffee, image 2, truck left. Then the cat, image 3.")


def _all_sources(plan: MotionPlan, references: list[Reference]) -> list[Source]:
    sources = Sources(plan, references)
    try:
        keys = dict.fromkeys(source_key(n, shot, staging)
                             for n, (shot, staging) in enumerate(zip(plan.shots, plan.stagings, strict=True)))
        return [sources[key] for key in keys]
    finally:
        sources.close()


def _planes(source: Source) -> list[np.ndarray]:
    planes = [source.y, source.u, source.v]
    if source.layers is not None:
        planes += [*source.layers.background, *source.layers.subject, source.layers.alpha,
                   source.layers.alpha_chroma]
    return planes


def test_sources_let_the_cutouts_and_models_go_and_are_the_same_made_again(demo_refs: list[Reference]) -> None:
    request = GenerationRequest(prompt=PROMPT, image_urls=["x"] * 3, seed=5, aspect_ratio="1:1")  # type: ignore[list-item]
    plan = MotionEngine().plan(request, demo_refs)
    assert {s.mode for s in plan.stagings} >= {"composite", "parallax"}, [s.mode for s in plan.stagings]
    first = _all_sources(plan, demo_refs)
    # Every picture's analysis was let go (the plan made them all), and so were the interpreters.
    assert not {content_key(r.image) for r in demo_refs} & set(cutout_module._cache)
    assert models.load.cache_info().currsize == 0
    again = _all_sources(plan, demo_refs)  # the cut-outs are computed again
    assert len(again) == len(first)
    for a, b in zip(first, again, strict=True):
        assert a.scale == b.scale and (a.layers is None) == (b.layers is None)
        assert all(np.array_equal(x, y) for x, y in zip(_planes(a), _planes(b), strict=True))


def test_equal_pictures_are_one_picture(demo_refs: list[Reference]) -> None:
    image = demo_refs[0].image
    references = [Reference(0, image, "a"), Reference(1, demo_refs[1].image, "b"), Reference(2, image.copy(), "c"),
                  Reference(3, np.ascontiguousarray(image[::-1]), "d")]
    assert _same_pictures(references) == [0, 1, 0, 3]


def test_the_pictures_are_let_go_once_every_source_is_made() -> None:
    # Larger than the analyses' own copies (detect keeps pictures up to TEXT_SIDE as they are).
    references = [Reference(i, synthetic(1600, 1200, i), f"r{i}") for i in range(2)]
    request = GenerationRequest(prompt="A wide shot, then a close-up.", image_urls=["x"] * 2, seed=3)  # type: ignore[list-item]
    plan = MotionEngine().plan(request, references)
    pictures = [weakref.ref(r.image) for r in references]
    sources = Sources(plan, references)
    del references
    try:
        for n, (shot, staging) in enumerate(zip(plan.shots, plan.stagings, strict=True)):
            sources[source_key(n, shot, staging)]
        gc.collect()
        assert all(picture() is None for picture in pictures)
    finally:
        sources.close()
