"""Finding the extra, the device and the weights; one warm pipeline per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from refvid.engines import get_engine
from refvid.engines.wan import load_wan_engine
from refvid.engines.wan.config import WanSettings
from refvid.engines.wan.loading import (
    clear_cache,
    encode_prompts,
    get_pipeline,
    place,
    resolve,
)
from refvid.errors import EngineUnavailable

_BLOCKED_IMPORT = """
import sys
sys.modules[{module!r}] = None  # makes `import {module}` raise ImportError
from refvid.engines import get_engine
from refvid.errors import EngineUnavailable
try:
    get_engine("wan")
except EngineUnavailable as exc:
    print("UNAVAILABLE:", exc)
"""


@pytest.mark.slow
@pytest.mark.parametrize("module", ["diffusers", "torch"])
def test_missing_extra_names_the_install_command(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORT.format(module=module)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "UNAVAILABLE:" in result.stdout, result.stderr
    assert repr(module) in result.stdout
    assert "refvid[wan]" in result.stdout


def test_missing_model_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-weights"
    with pytest.raises(EngineUnavailable, match=r"REFVID_WAN_MODEL=.*no such directory"):
        load_wan_engine(WanSettings(model=str(missing), device="cpu"))


def test_directory_without_model_index(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match=r"model_index.json"):
        load_wan_engine(WanSettings(model=str(tmp_path), device="cpu"))


def test_hub_id_not_in_cache_is_not_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(EngineUnavailable, match="REFVID_WAN_ALLOW_DOWNLOAD=1"):
        load_wan_engine(WanSettings(model="Wan-AI/Wan2.1-VACE-1.3B-diffusers", device="cpu"))
    assert not (tmp_path / "empty-cache").exists() or not any((tmp_path / "empty-cache").iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU errors")
@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "REFVID_WAN_DEVICE=cuda but torch sees no CUDA device"),
        ("auto", "needs a GPU .* REFVID_WAN_DEVICE=cpu"),
        ("tpu", "not one of auto, cuda"),
    ],
)
def test_no_suitable_device(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, device: str, message: str
) -> None:
    monkeypatch.setenv("REFVID_WAN_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("REFVID_WAN_DEVICE", device)
    with pytest.raises(EngineUnavailable, match=message):
        get_engine("wan")


def test_offload_needs_a_gpu(tiny_model_dir: Path) -> None:
    with pytest.raises(EngineUnavailable, match="REFVID_WAN_OFFLOAD=none"):
        load_wan_engine(WanSettings(model=str(tiny_model_dir), device="cpu", offload="model"))


def test_broken_weights_are_reported(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text((tiny_model_dir / "model_index.json").read_text())
    settings = WanSettings(model=str(broken), device="cpu", dtype="float32")
    with pytest.raises(EngineUnavailable, match=r"could not load a Wan2.1-VACE pipeline"):
        get_pipeline(settings, resolve(settings))


def test_pipeline_loads_once_and_stays_warm(tiny_settings: WanSettings) -> None:
    clear_cache()
    resolved = resolve(tiny_settings)
    first = get_pipeline(tiny_settings, resolved)
    assert get_pipeline(tiny_settings.model_copy(update={"steps": 9}), resolved) is first
    assert first.scheduler.config.flow_shift == 16.0  # the VACE authors' shift
    assert first.transformer.dtype == torch.float32
    assert first.vae.dtype == torch.float32
    shifted = tiny_settings.model_copy(update={"flow_shift": 7.0})
    second = get_pipeline(shifted, resolved)
    assert second is not first
    assert second.scheduler.config.flow_shift == 7.0


def test_saved_layout_is_the_diffusers_one(tiny_model_dir: Path) -> None:
    index = json.loads((tiny_model_dir / "model_index.json").read_text())
    assert index["_class_name"] == "WanVACEPipeline"
    assert {"vae", "transformer", "text_encoder", "tokenizer", "scheduler"} <= set(index)


def test_text_encoder_on_cpu_cannot_combine_with_model_offload(tiny_model_dir: Path) -> None:
    settings = WanSettings(
        model=str(tiny_model_dir), device="cpu", text_encoder_on_cpu=True, offload="model"
    )
    with pytest.raises(EngineUnavailable, match="TEXT_ENCODER_ON_CPU"):
        resolve(settings)


def test_text_encoder_on_cpu_keeps_it_in_ram(tiny_settings: WanSettings) -> None:
    settings = tiny_settings.model_copy(update={"text_encoder_on_cpu": True})
    pipe = get_pipeline(settings, resolve(settings))
    assert pipe.text_encoder.device.type == "cpu"
    assert settings.cache_key() != tiny_settings.cache_key()


def test_hub_id_found_in_the_local_cache_loads_offline(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    # The layout huggingface_hub writes: refs/main names the snapshot folder.
    cache = tmp_path / "hub"
    repo = cache / "models--example--wan-tiny"
    revision = "0" * 40
    shutil.copytree(tiny_model_dir, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    settings = WanSettings(
        model="example/wan-tiny", device="cpu", dtype="float32", resolution="48x32", vae_tiling=True
    )
    resolved = resolve(settings)
    assert resolved.model_dir == str(repo / "snapshots" / revision)
    pipe = get_pipeline(settings, resolved)
    assert pipe.vae.use_tiling is True


def test_text_encoder_is_frozen_at_load(tiny_settings: WanSettings) -> None:
    pipe = get_pipeline(tiny_settings, resolve(tiny_settings))
    for component in (pipe.text_encoder, pipe.transformer, pipe.vae):
        assert not any(parameter.requires_grad for parameter in component.parameters())
        assert component.training is False


def test_prompt_embeddings_carry_no_autograd_graph(tiny_settings: WanSettings) -> None:
    clear_cache()
    pipe = get_pipeline(tiny_settings, resolve(tiny_settings))
    # Even a text encoder whose weights require grad (as a fresh from_pretrained leaves it)
    # must not leave a graph behind: it would hold ~5 GiB per prompt for UMT5-XXL.
    pipe.text_encoder.requires_grad_(True)
    positive, negative = encode_prompts(tiny_settings, pipe, "a man on the bench", "a cat")
    for embeds in (positive, negative):
        assert embeds.grad_fn is None
        assert embeds.requires_grad is False
    assert positive.shape[1] == 512
    clear_cache()


def _fresh_pipeline(model_dir: Path) -> Any:
    from diffusers import WanVACEPipeline

    return WanVACEPipeline.from_pretrained(model_dir, local_files_only=True)


def _devices(module: torch.nn.Module) -> set[str]:
    return {parameter.device.type for parameter in module.parameters()}


# There is no GPU here, so "cuda" stands for one: placing a pipeline must not move a CPU text
# encoder there, and any attempt would fail loudly ("Torch not compiled with CUDA enabled").
_FAKE_GPU = "cuda"


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="uses 'cuda' as a device that cannot hold weights"
)
@pytest.mark.parametrize("low_cpu_memory", [False, True])
def test_group_offload_leaves_a_cpu_text_encoder_in_ram(
    tiny_model_dir: Path, low_cpu_memory: bool
) -> None:
    from diffusers.hooks.group_offloading import _get_group_onload_device

    pipe = _fresh_pipeline(tiny_model_dir)
    settings = WanSettings(offload="group", text_encoder_on_cpu=True, low_cpu_memory=low_cpu_memory)
    place(pipe, settings, _FAKE_GPU)
    assert _devices(pipe.text_encoder) == {"cpu"}
    with pytest.raises(ValueError, match="not enabled"):
        _get_group_onload_device(pipe.text_encoder)  # no hook will ever move it
    for component in (pipe.transformer, pipe.vae):
        assert _get_group_onload_device(component).type == "cuda"
        assert _devices(component) == {"cpu"}  # offloaded until a layer runs
    assert pipe._execution_device.type == "cuda"  # latents and embeddings go to the GPU


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="uses 'cuda' as a device that cannot hold weights"
)
def test_group_offload_streams_the_text_encoder_when_it_is_not_kept_on_cpu(
    tiny_model_dir: Path,
) -> None:
    from diffusers.hooks.group_offloading import _get_group_onload_device

    pipe = _fresh_pipeline(tiny_model_dir)
    place(pipe, WanSettings(offload="group"), _FAKE_GPU)
    assert _get_group_onload_device(pipe.text_encoder).type == "cuda"
    assert _devices(pipe.text_encoder) == {"cpu"}


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="uses 'cuda' as a device that cannot hold weights"
)
def test_model_offload_keeps_every_component_in_ram_until_used(tiny_model_dir: Path) -> None:
    pipe = _fresh_pipeline(tiny_model_dir)
    place(pipe, WanSettings(offload="model"), _FAKE_GPU)
    for component in (pipe.text_encoder, pipe.transformer, pipe.vae):
        assert _devices(component) == {"cpu"}
    assert pipe._execution_device.type == "cuda"


def test_no_offload_keeps_a_cpu_text_encoder_in_ram(tiny_model_dir: Path) -> None:
    pipe = _fresh_pipeline(tiny_model_dir)
    place(
        pipe, WanSettings(text_encoder_on_cpu=True), "meta"
    )  # "meta": a device that is not the CPU
    assert _devices(pipe.text_encoder) == {"cpu"}
    assert _devices(pipe.transformer) == _devices(pipe.vae) == {"meta"}
