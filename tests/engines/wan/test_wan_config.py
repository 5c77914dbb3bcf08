"""REFVID_WAN_* settings: defaults, environment, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from refvid.engines.wan import load_settings
from refvid.engines.wan.config import DEFAULT_MODEL, WanSettings
from refvid.errors import EngineUnavailable


def test_defaults_need_a_gpu_and_never_download(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL", "ALLOW_DOWNLOAD", "DEVICE", "RESOLUTION", "FLOW_SHIFT", "STEPS"):
        monkeypatch.delenv(f"REFVID_WAN_{name}", raising=False)
    settings = WanSettings()
    assert settings.model == DEFAULT_MODEL
    assert settings.allow_download is False
    assert settings.device == "auto"
    assert (settings.dtype, settings.vae_dtype) == ("bfloat16", "float32")
    assert settings.base_size == (832, 480)
    assert (settings.fps, settings.segment_frames) == (16, 81)


def test_sampling_defaults_are_the_vace_authors(monkeypatch: pytest.MonkeyPatch) -> None:
    # Wan2.1 generate.py for vace tasks and VACE's vace_wan_inference.py: 50 steps, shift 16,
    # guidance 5, at 480p and 720p alike (3.0/5.0 are the text/image-to-video shifts).
    for name in ("STEPS", "FLOW_SHIFT", "GUIDANCE", "RESOLUTION"):
        monkeypatch.delenv(f"REFVID_WAN_{name}", raising=False)
    for resolution in ("480p", "720p"):
        settings = WanSettings(resolution=resolution)
        assert (settings.steps, settings.resolved_flow_shift, settings.guidance) == (50, 16.0, 5.0)


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFVID_WAN_MODEL", "/models/wan")
    monkeypatch.setenv("REFVID_WAN_STEPS", "12")
    monkeypatch.setenv("REFVID_WAN_OFFLOAD", "group")
    monkeypatch.setenv("REFVID_WAN_VAE_TILING", "1")
    settings = WanSettings()
    assert (settings.model, settings.steps, settings.offload, settings.vae_tiling) == (
        "/models/wan",
        12,
        "group",
        True,
    )


def test_14b_model_defaults_to_720p_and_a_set_flow_shift_wins() -> None:
    settings = WanSettings(model="Wan-AI/Wan2.1-VACE-14B-diffusers")
    assert settings.base_size == (1280, 720)
    assert settings.resolved_flow_shift == 16.0
    assert (
        WanSettings(model="Wan-AI/Wan2.1-VACE-14B-diffusers", flow_shift=4.0).resolved_flow_shift
        == 4.0
    )


def test_custom_resolution() -> None:
    assert WanSettings(resolution="64x48").base_size == (64, 48)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resolution", "1080p"),
        ("resolution", "50x32"),
        ("segment_frames", 80),
        ("overlap_frames", 4),
        ("steps", 0),
        ("offload", "disk"),
    ],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        WanSettings(**{field: value})


def test_bad_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFVID_WAN_SEGMENT_FRAMES", "80")
    with pytest.raises(EngineUnavailable, match=r"REFVID_WAN_SEGMENT_FRAMES.*4k\+1"):
        load_settings()


def test_hub_ids_and_paths_are_told_apart() -> None:
    assert not WanSettings(model="Wan-AI/Wan2.1-VACE-1.3B-diffusers").is_local_path
    assert WanSettings(model="/srv/models/wan").is_local_path
    assert WanSettings(model="./wan").is_local_path
    assert WanSettings(model="weights").is_local_path


def test_cache_key_follows_loading_settings() -> None:
    base = WanSettings()
    assert base.cache_key() == WanSettings(steps=7).cache_key()  # steps do not reload
    assert base.cache_key() != WanSettings(offload="model").cache_key()


def test_a_13b_model_at_720p_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    from refvid.engines.wan.engine import WanEngine
    from refvid.engines.wan.loading import Resolved
    from refvid.request import GenerationRequest

    small = WanSettings(model="/models/Wan2.1-VACE-1.3B-diffusers", resolution="720p")
    assert small.size_warning is not None and "480p" in small.size_warning
    assert WanSettings(model="/models/Wan2.1-VACE-1.3B-diffusers").size_warning is None
    assert WanSettings(model="Wan-AI/Wan2.1-VACE-14B-diffusers").size_warning is None
    request = GenerationRequest.model_validate({"prompt": "a man", "image_urls": ["x"], "seed": 1})
    with caplog.at_level("WARNING"):
        plan = WanEngine(small, Resolved(model_dir="unused", device="cpu")).plan(request, [])
    assert plan.details["warnings"] == [small.size_warning]
    assert "documented for 480p" in caplog.text
