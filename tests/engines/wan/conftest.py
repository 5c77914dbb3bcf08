"""Tiny random Wan2.1-VACE weights, built once and saved in the diffusers layout.

Everything here is offline: the components are made from configs, saved with
``save_pretrained`` and loaded back through the engine's real loading path.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub reads it; tests never fetch

from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from refvid.engines.wan.config import WanSettings  # noqa: E402

Z_DIM = 4  # latent channels of the tiny VAE
WORDS = [
    "a",
    "the",
    "man",
    "on",
    "bench",
    "then",
    "close-up",
    "of",
    "book",
    "back",
    "to",
    "cat",
    "dog",
    "walks",
    "camera",
    "slowly",
    "red",
    "blue",
]


def build_tiny_pipeline(folder: Path) -> None:
    """Save a WanVACEPipeline with tiny random components to ``folder``."""
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

    vocab = ["<pad>", "</s>", "<unk>", *WORDS]
    word_level = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(vocab),
            d_model=16,
            d_kv=4,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=16,
        )
    )
    # Same structure as the real VAE (8x spatial, 4x temporal), a few channels wide.
    vae = AutoencoderKLWan(
        base_dim=4,
        z_dim=Z_DIM,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * Z_DIM,
        latents_std=[1.0] * Z_DIM,
    )
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=Z_DIM,
        out_channels=Z_DIM,
        text_dim=16,
        freq_dim=16,
        ffn_dim=32,
        num_layers=2,
        rope_max_seq_len=32,
        vace_layers=[0],
        vace_in_channels=2 * Z_DIM + 64,  # inactive + reactive latents, 8x8 mask
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )
    pipe = WanVACEPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=scheduler,
    )
    pipe.save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wan-tiny") / "Wan2.1-VACE-tiny"
    build_tiny_pipeline(folder)
    return folder


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    # Two threads stall on the CI machines; one is also what makes timings repeatable.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def tiny_settings(tiny_model_dir: Path) -> WanSettings:
    """Settings for fast renders: 48x32 native, two steps, float32 on the CPU."""
    return WanSettings(
        model=str(tiny_model_dir), device="cpu", dtype="float32", resolution="48x32", steps=2
    )
