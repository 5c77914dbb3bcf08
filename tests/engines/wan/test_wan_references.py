"""References as VACE gets them: native-size white canvas, untouched by the pipeline, in order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from refvid.engines.wan import load_wan_engine
from refvid.engines.wan.config import WanSettings
from refvid.engines.wan.engine import WanEngine
from refvid.engines.wan.loading import get_pipeline
from refvid.engines.wan.references import choose, on_canvas, pipeline_order, vace_images
from refvid.references import Reference
from refvid.request import GenerationRequest

SMALL_OUTPUT = {"16:9": (64, 36), "9:16": (36, 64), "1:1": (48, 48)}


def _solid(index: int, rgb: tuple[int, int, int], size: tuple[int, int] = (160, 128)) -> Reference:
    width, height = size
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = rgb
    return Reference(index=index, image=image, label=f"solid-{rgb}")


def _request() -> GenerationRequest:
    return GenerationRequest.model_validate(
        {"prompt": "the man then the book", "image_urls": ["x", "y"], "seed": 3}
    )


@pytest.fixture()
def engine(tiny_settings: WanSettings) -> WanEngine:
    return WanEngine(tiny_settings, load_wan_engine(tiny_settings).resolved, SMALL_OUTPUT)


def test_canvas_is_exactly_the_native_size_with_white_around_the_picture() -> None:
    tall = np.zeros((200, 100, 3), np.uint8)
    canvas = on_canvas(tall, 48, 32)
    assert canvas.shape == (32, 48, 3)
    columns = np.flatnonzero(canvas[16, :, 0] == 0)  # the picture, scaled to 16x32, centred
    assert (columns.min(), columns.max()) == (16, 31)
    assert canvas[:, :16].min() == 255 and canvas[:, 32:].min() == 255
    exact = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    assert np.array_equal(on_canvas(exact, 48, 32), exact)


def test_pipeline_order_reverses_for_diffusers_prepending() -> None:
    assert pipeline_order([1, 2, 3]) == [3, 2, 1]


def _square_on_a_plain_background(index: int) -> Reference:
    image = np.full((400, 600, 3), 240, np.uint8)
    image[100:300, 200:400] = (200, 30, 30)
    return Reference(index=index, image=image, label="square")


def test_a_subject_that_stands_apart_goes_in_cut_out_on_white() -> None:
    square, flat = _square_on_a_plain_background(0), _solid(1, (90, 90, 90))
    choices = choose([square, flat])
    assert [(c.index, c.presentation) for c in choices] == [(0, "cutout"), (1, "photo")]
    assert "uniform" in choices[1].reason
    flat_image, subject = vace_images([square, flat], 48, 32)  # pipeline order: last first
    assert np.array_equal(flat_image, on_canvas(flat.image, 48, 32))
    # Cropped to the subject: the square fills the canvas' height, white beside it.
    assert tuple(subject[16, 24]) == pytest.approx((200, 30, 30), abs=30)
    assert subject[16, 0].min() > 235 and subject[16, 47].min() > 235


def test_without_model_files_whole_photos_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from refvid.vision.models import ModelMissing

    def missing(image: np.ndarray) -> Any:
        raise ModelMissing("model file x.tflite is missing: run `make models`")

    monkeypatch.setattr("refvid.engines.wan.references.cutout", missing)
    (choice,) = choose([_square_on_a_plain_background(0)])
    assert choice.presentation == "photo"
    assert "make models" in choice.reason


def _vae_inputs(pipe: Any, monkeypatch: pytest.MonkeyPatch) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    original = pipe.vae.encode

    def spy(x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        if x.shape[2] == 1:  # one frame: a reference image
            seen.append(x.detach().clone())
        return original(x, *args, **kwargs)

    monkeypatch.setattr(pipe.vae, "encode", spy)
    return seen


def _transformer_inputs(pipe: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    original = pipe.transformer.forward

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(pipe.transformer, "forward", spy)
    return calls


def test_references_reach_the_pipeline_untouched_and_in_the_prompts_order(
    engine: WanEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = get_pipeline(engine.settings, engine.resolved)
    encoded = _vae_inputs(pipe, monkeypatch)
    calls = _transformer_inputs(pipe, monkeypatch)
    red, blue = _solid(0, (230, 20, 20)), _solid(1, (20, 20, 230), size=(90, 160))
    request = _request()
    plan = engine.plan(request, [red, blue])
    list(engine.render(plan, request, [red, blue]))

    # Exactly our native-size canvases, to the last bit: no second resize in the pipeline.
    width, height = plan.details["native_width"], plan.details["native_height"]
    expected = [on_canvas(ref.image, width, height) for ref in (blue, red)]  # pipeline order
    assert len(encoded) == 2
    for tensor, canvas in zip(encoded, expected, strict=True):
        assert tuple(tensor.shape) == (1, 3, 1, height, width)
        as_pixels = (tensor[0, :, 0].permute(1, 2, 0).numpy() + 1.0) * 127.5
        assert np.abs(as_pixels - canvas).max() < 1e-3

    # diffusers prepends each in turn, so the model sees image 1 (red) first.
    control = calls[0]["control_hidden_states"]
    red_input = next(t for t in list(encoded) if t[0, 0].mean() > 0.5)
    blue_input = next(t for t in list(encoded) if t[0, 2].mean() > 0.5)
    with torch.no_grad():
        red_latent, blue_latent = (
            pipe.vae.encode(t).latent_dist.mode()[0, :, 0] for t in (red_input, blue_input)
        )
    z = red_latent.shape[0]
    assert torch.allclose(control[0, :z, 0], red_latent, atol=1e-5)
    assert torch.allclose(control[0, :z, 1], blue_latent, atol=1e-5)
    # Flat colours have no subject: whole photos, and the plan says so.
    assert [r["presentation"] for r in plan.details["references"]] == ["photo", "photo"]
