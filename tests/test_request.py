"""Every field of the contract: its default, and every limit rejected with a clear message."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from refvid.request import GenerationRequest, validation_message

VALID: dict[str, Any] = {"prompt": "a cat on a sofa", "image_urls": ["aGVsbG8="]}


def make(**changes: Any) -> GenerationRequest:
    return GenerationRequest(**{**VALID, **changes})


def error_for(**changes: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        make(**changes)
    return validation_message(caught.value)


def test_defaults_follow_the_contract() -> None:
    request = make()
    assert request.aspect_ratio == "16:9"
    assert request.duration == 5
    assert request.seed == 0
    assert request.bgm is False
    assert request.movement_amplitude == "auto"
    assert request.size == (1920, 1080)
    assert request.frame_count == 120


@pytest.mark.parametrize(("aspect", "size"), [("16:9", (1920, 1080)), ("9:16", (1080, 1920)), ("1:1", (1080, 1080))])
def test_sizes(aspect: str, size: tuple[int, int]) -> None:
    assert make(aspect_ratio=aspect).size == size


def test_frame_count_for_ten_seconds() -> None:
    assert make(duration=10).frame_count == 240


def test_prompt_limits() -> None:
    assert make(prompt="x" * 1500).prompt == "x" * 1500
    assert error_for(prompt="x" * 1501).startswith("prompt: String should have at most 1500 characters")
    assert error_for(prompt="").startswith("prompt: String should have at least 1 character")
    assert "only whitespace" in error_for(prompt="   \n ")
    assert error_for(prompt=None).startswith("prompt:")


def test_prompt_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        GenerationRequest(image_urls=["x"])  # type: ignore[call-arg]
    assert validation_message(caught.value) == "prompt: is required"


def test_image_count_limits() -> None:
    assert len(make(image_urls=["a"] * 7).image_urls) == 7
    assert error_for(image_urls=["a"] * 8).startswith("image_urls: List should have at most 7 items")
    assert error_for(image_urls=[]).startswith("image_urls: List should have at least 1 item")
    assert error_for(image_urls=["a", ""]).startswith("image_urls.1: String should have at least 1 character")
    assert error_for(image_urls="not a list").startswith("image_urls: Input should be a valid list")


@pytest.mark.parametrize("value", ["4:3", "16x9", "", 169])
def test_aspect_ratio_rejects_others(value: object) -> None:
    assert error_for(aspect_ratio=value).startswith("aspect_ratio: must be '16:9', '9:16' or '1:1'")


@pytest.mark.parametrize("value", [0, 4, 6, 7, 15, "5", 5.5])
def test_duration_is_five_or_ten(value: object) -> None:
    assert error_for(duration=value).startswith("duration: must be 5 or 10")


def test_seed_limits() -> None:
    assert make(seed=999_999).seed == 999_999
    assert make(seed=0).seed == 0
    assert error_for(seed=1_000_000).startswith("seed: Input should be less than or equal to 999999")
    assert error_for(seed=-1).startswith("seed: Input should be greater than or equal to 0")
    assert error_for(seed="12").startswith("seed: Input should be a valid integer")
    assert error_for(seed=1.5).startswith("seed: Input should be a valid integer")


def test_whole_numbers_are_integers_however_written() -> None:
    # JSON clients that serialise through floats send 42.0 and 5.0: both fields agree.
    request = make(seed=42.0, duration=10.0)
    assert request.seed == 42 and type(request.seed) is int
    assert request.duration == 10 and type(request.duration) is int
    assert GenerationRequest.model_validate_json('{"prompt": "p", "image_urls": ["a"], "seed": 7.0}').seed == 7
    assert error_for(seed=True).startswith("seed: Input should be a valid integer")
    assert error_for(duration=True).startswith("duration: must be 5 or 10")
    assert error_for(seed=float("nan")).startswith("seed: Input should be a valid integer")


def test_bgm_is_a_boolean() -> None:
    assert make(bgm=True).bgm is True
    assert error_for(bgm="yes").startswith("bgm: Input should be a valid boolean")


@pytest.mark.parametrize("value", ["auto", "small", "medium", "large"])
def test_movement_amplitude_values(value: str) -> None:
    assert make(movement_amplitude=value).movement_amplitude == value


def test_movement_amplitude_rejects_others() -> None:
    assert error_for(movement_amplitude="huge").startswith(
        "movement_amplitude: must be 'auto', 'small', 'medium' or 'large' (got 'huge')"
    )


def test_unknown_fields_are_named() -> None:
    assert error_for(aspect="16:9") == "aspect: is not a field of this request; remove it"


def test_seed_zero_is_replaced_and_others_kept() -> None:
    chosen = make(seed=0).with_seed()
    assert 1 <= chosen.seed <= 999_999
    assert make(seed=42).with_seed().seed == 42
