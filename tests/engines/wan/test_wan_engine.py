"""The wan engine end to end on tiny random weights: frames, seeds, references, progress, cancel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from refvid.engines import get_engine
from refvid.engines.wan import load_wan_engine
from refvid.engines.wan.config import WanSettings
from refvid.engines.wan.engine import WanEngine
from refvid.engines.wan.loading import get_pipeline
from refvid.errors import Cancelled, EngineUnavailable
from refvid.references import Reference
from refvid.request import GenerationRequest

pytestmark = pytest.mark.slow  # renders through the diffusers pipeline: outside the fast lane (-m "not slow")

SMALL_OUTPUT = {"16:9": (64, 36), "9:16": (36, 64), "1:1": (48, 48)}


def _request(**fields: Any) -> GenerationRequest:
    base: dict[str, Any] = {
        "prompt": "a man on the bench then a book",
        "image_urls": ["x"],
        "seed": 7,
    }
    return GenerationRequest.model_validate({**base, **fields})


def _reference(index: int, seed: int) -> Reference:
    image = np.random.default_rng(seed).integers(0, 256, (128, 160, 3), dtype=np.uint8)
    return Reference(index=index, image=image, label=f"random-{seed}")


def _solid(index: int, rgb: tuple[int, int, int]) -> Reference:
    image = np.empty((128, 160, 3), dtype=np.uint8)
    image[:] = rgb
    return Reference(index=index, image=image, label=f"solid-{rgb}")


def _engine(settings: WanSettings) -> WanEngine:
    return WanEngine(settings, load_wan_engine(settings).resolved, output_size=SMALL_OUTPUT)


def _render(
    engine: WanEngine,
    request: GenerationRequest,
    references: list[Reference],
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[np.ndarray]:
    plan = engine.plan(request, references)
    return list(engine.render(plan, request, references, progress, cancelled))


@pytest.fixture()
def engine(tiny_settings: WanSettings) -> WanEngine:
    return _engine(tiny_settings)


@pytest.fixture()
def pipe(engine: WanEngine) -> Any:
    return get_pipeline(engine.settings, engine.resolved)


@pytest.fixture()
def transformer_calls(pipe: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records the keyword arguments of every transformer forward pass."""
    calls: list[dict[str, Any]] = []
    original = pipe.transformer.forward

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(pipe.transformer, "forward", spy)
    return calls


def test_full_contract_through_get_engine(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real mapping: 5 s -> 81 native frames at 16 fps -> 120 frames of 1920x1080 at 24 fps.
    monkeypatch.setenv("REFVID_WAN_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("REFVID_WAN_DEVICE", "cpu")
    monkeypatch.setenv("REFVID_WAN_DTYPE", "float32")
    monkeypatch.setenv("REFVID_WAN_RESOLUTION", "48x32")
    monkeypatch.setenv("REFVID_WAN_STEPS", "2")
    engine = get_engine("wan")
    request = _request()
    references = [_reference(0, 1), _reference(1, 2)]
    plan = engine.plan(request, references)
    assert (plan.spec.width, plan.spec.height, plan.spec.fps) == (1920, 1080, 24)
    assert plan.details["segments"] == [81]
    assert plan.details["native_frames"] == 81
    assert plan.details["upscaled"] is True
    frames = iter(engine.render(plan, request, references))
    count = 0
    for frame in frames:
        assert frame.shape == (1620, 1920)  # I420 of 1920x1080
        assert frame.dtype == np.uint8
        count += 1
    assert count == 120


@pytest.mark.parametrize(
    ("aspect", "native"), [("16:9", (48, 32)), ("9:16", (32, 48)), ("1:1", (32, 32))]
)
def test_each_aspect_renders_its_native_size(
    engine: WanEngine, aspect: str, native: tuple[int, int]
) -> None:
    request = _request(aspect_ratio=aspect)
    plan = engine.plan(request, [_reference(0, 1)])
    assert (plan.details["native_width"], plan.details["native_height"]) == native
    frames = list(engine.render(plan, request, [_reference(0, 1)]))
    width, height = SMALL_OUTPUT[aspect]
    assert len(frames) == 120
    assert {frame.shape for frame in frames} == {(height * 3 // 2, width)}


def test_plan_is_cheap_plain_data(engine: WanEngine) -> None:
    plan = engine.plan(_request(duration=10, movement_amplitude="large"), [_reference(0, 1)])
    data = plan.to_dict()
    assert data["engine"] == "wan"
    assert data["frame_count"] == 240
    assert data["segments"] == [85, 85]
    assert data["overlap_frames"] == 9
    assert data["native_fps"] == 16
    assert "sweeping camera move" in data["prompt"]
    assert plan.cut_times == []


def test_same_seed_same_bytes_different_seed_different_frames(engine: WanEngine) -> None:
    references = [_reference(0, 1)]
    first = _render(engine, _request(seed=11), references)
    again = _render(engine, _request(seed=11), references)
    other = _render(engine, _request(seed=12), references)
    assert b"".join(f.tobytes() for f in first) == b"".join(f.tobytes() for f in again)
    assert not np.array_equal(np.stack(first), np.stack(other))


def test_references_reach_the_vae_and_the_conditioning(
    engine: WanEngine,
    pipe: Any,
    transformer_calls: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded: list[torch.Tensor] = []
    original = pipe.vae.encode

    def spy(x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        encoded.append(x.detach().clone())
        return original(x, *args, **kwargs)

    monkeypatch.setattr(pipe.vae, "encode", spy)
    red, blue = [_solid(0, (230, 20, 20))], [_solid(0, (20, 20, 230))]

    _render(engine, _request(), red)
    red_images = [x for x in encoded if x.shape[2] == 1]  # single frames = reference images
    red_control = transformer_calls[0]["control_hidden_states"].clone()
    encoded.clear()
    transformer_calls.clear()
    _render(engine, _request(), blue)
    blue_images = [x for x in encoded if x.shape[2] == 1]
    blue_control = transformer_calls[0]["control_hidden_states"]

    assert len(red_images) == len(blue_images) == 1
    # The pipeline pads the reference into the frame (white); its centre carries the colour.
    red_rgb = red_images[0][0, :, 0, 16, 24]
    blue_rgb = blue_images[0][0, :, 0, 16, 24]
    assert red_rgb[0] > 0.7 and red_rgb[2] < -0.7
    assert blue_rgb[2] > 0.7 and blue_rgb[0] < -0.7
    # ... and the latents the transformer is conditioned on differ with the references.
    assert not torch.allclose(red_control, blue_control)


def test_several_references_each_become_a_latent_frame(
    engine: WanEngine, transformer_calls: list[dict[str, Any]]
) -> None:
    _render(engine, _request(), [_reference(0, 1)])
    one = transformer_calls[0]["hidden_states"].shape[2]
    transformer_calls.clear()
    _render(engine, _request(), [_reference(0, 1), _reference(1, 2), _reference(2, 3)])
    assert transformer_calls[0]["hidden_states"].shape[2] == one + 2


def test_progress_rises_to_one_once_per_step(engine: WanEngine) -> None:
    seen: list[float] = []
    _render(engine, _request(), [_reference(0, 1)], progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    denoising = [value for value in seen if value <= 0.9]
    assert len(denoising) == engine.settings.steps  # one report per denoising step
    assert len(seen) == engine.settings.steps + 120  # then one per output frame


def test_cancel_stops_within_one_step(
    tiny_settings: WanSettings, pipe: Any, transformer_calls: list[dict[str, Any]]
) -> None:
    engine = _engine(tiny_settings.model_copy(update={"steps": 6}))
    seen: list[float] = []

    def cancelled() -> bool:
        return len(seen) >= 1  # cancel as soon as the first step has reported

    with pytest.raises(Cancelled):
        _render(engine, _request(), [_reference(0, 1)], progress=seen.append, cancelled=cancelled)
    assert len(seen) == 1
    assert len(transformer_calls) == 2  # one step: conditional + unconditional pass
    # The warm pipeline is usable again afterwards.
    transformer_calls.clear()
    assert len(_render(engine, _request(), [_reference(0, 1)])) == 120
    assert len(transformer_calls) == 12


def test_failure_releases_memory_and_keeps_the_engine_usable(
    engine: WanEngine, pipe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[bool] = []
    monkeypatch.setattr("refvid.engines.wan.engine.release_memory", lambda: released.append(True))
    original = pipe.transformer.forward

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated kernel failure")

    monkeypatch.setattr(pipe.transformer, "forward", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        _render(engine, _request(), [_reference(0, 1)])
    assert released == [True]

    def out_of_memory(*args: Any, **kwargs: Any) -> Any:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(pipe.transformer, "forward", out_of_memory)
    with pytest.raises(EngineUnavailable, match=r"out of GPU memory.*REFVID_WAN_OFFLOAD"):
        _render(engine, _request(), [_reference(0, 1)])
    assert released == [True, True]

    monkeypatch.setattr(pipe.transformer, "forward", original)
    assert len(_render(engine, _request(), [_reference(0, 1)])) == 120


def test_ten_seconds_continue_from_the_first_segment(
    engine: WanEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    outputs: list[Any] = []
    original = WanEngine._call

    def spy(self: WanEngine, pipe: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        outputs.append(original(self, pipe, **kwargs))
        return outputs[-1]

    monkeypatch.setattr(WanEngine, "_call", spy)
    frames = _render(engine, _request(duration=10), [_reference(0, 1)])
    assert len(frames) == 240
    assert [call["num_frames"] for call in calls] == [85, 85]
    assert calls[0]["video"] is None and calls[0]["mask"] is None
    video, mask = calls[1]["video"], calls[1]["mask"]
    assert len(video) == len(mask) == 85
    # The last 9 frames of segment 1 condition segment 2 (mask black = keep), the rest is generated.
    segment_one = np.clip(outputs[0].frames[0] * 255 + 0.5, 0, 255).astype(np.uint8)
    for offset in range(9):
        assert np.array_equal(np.asarray(video[offset]), segment_one[76 + offset])
        assert np.asarray(mask[offset]).max() == 0
    assert all(np.asarray(m).min() == 255 for m in mask[9:])
    assert all(np.asarray(v).std() == 0 for v in video[9:])  # flat grey, nothing to keep


def test_render_is_a_stream(engine: WanEngine) -> None:
    request = _request()
    frames: Iterator[np.ndarray] = iter(engine.render(engine.plan(request, []), request, []))
    assert next(frames).shape == (54, 64)


def test_prompts_are_encoded_once_and_the_negative_is_cached(
    engine: WanEngine,
    pipe: Any,
    transformer_calls: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from refvid.engines.wan.loading import clear_cache

    clear_cache()
    pipe = get_pipeline(engine.settings, engine.resolved)
    monkeypatch.setattr(
        pipe.transformer, "forward", _recording(pipe.transformer.forward, transformer_calls)
    )
    encoded: list[str] = []
    original = pipe.encode_prompt

    def spy(prompt: str | None, *args: Any, **kwargs: Any) -> Any:
        if prompt is not None:  # the pipeline's own call only passes our embeddings through
            encoded.append(prompt)
        return original(prompt, *args, **kwargs)

    monkeypatch.setattr(pipe, "encode_prompt", spy)
    _render(engine, _request(duration=10), [_reference(0, 1)])  # two segments
    _render(engine, _request(prompt="a cat walks"), [_reference(0, 1)])
    negative = engine.settings.negative_prompt
    assert encoded.count(negative) == 1
    assert len(encoded) == 3  # prompt 1, negative, prompt 2
    # Wan's text length: 512 tokens, padded with zeros after the prompt.
    assert transformer_calls[0]["encoder_hidden_states"].shape[1] == 512


def _recording(forward: Callable[..., Any], calls: list[dict[str, Any]]) -> Callable[..., Any]:
    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return forward(*args, **kwargs)

    return spy


def test_generate_writes_a_playable_mp4(engine: WanEngine, tmp_path: Path) -> None:
    import av

    from refvid.generate import generate

    output = tmp_path / "wan.mp4"
    result = generate(_request(seed=5), output, engine=engine, references=[_reference(0, 1)])
    assert result.seed == 5
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        frames = [frame for frame in container.decode(stream)]
    assert len(frames) == 120
    assert (frames[0].width, frames[0].height) == SMALL_OUTPUT["16:9"]
    assert stream.average_rate == 24
