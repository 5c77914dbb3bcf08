"""The generation request: every field of the public contract, its default and its limits.

API, CLI and Python client all validate through :class:`GenerationRequest`, so a limit
changed here changes everywhere at once.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)


def _integral(value: object) -> object:
    """A whole JSON number is an integer however it is written: ``5.0`` is ``5``.

    JavaScript has one number type and many clients serialise through floats, so
    ``seed: 42.0`` and ``duration: 5.0`` are accepted alike; ``42.5``, ``"42"`` and
    ``true`` are still refused.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


AspectRatio = Literal["16:9", "9:16", "1:1"]
Duration = Annotated[Literal[5, 10], BeforeValidator(_integral)]
Seed = Annotated[StrictInt, BeforeValidator(_integral)]
MovementAmplitude = Literal["auto", "small", "medium", "large"]

PROMPT_MAX_CHARS = 1500
MAX_REFERENCES = 7
SEED_MAX = 999_999
FPS = 24

# Output frame size for each aspect ratio (1080p on the short side).
FRAME_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1920, 1080),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
}

ImageSource = Annotated[str, Field(min_length=1)]


class GenerationRequest(BaseModel):
    """A validated request: what to render, exactly as the public contract defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(
        min_length=1,
        max_length=PROMPT_MAX_CHARS,
        description="What happens in the video: subjects, shots, camera moves, transitions, mood.",
    )
    image_urls: list[ImageSource] = Field(
        min_length=1,
        max_length=MAX_REFERENCES,
        description="1-7 references: http(s) URLs, data:image/...;base64 URIs, or bare base64.",
    )
    aspect_ratio: AspectRatio = "16:9"
    duration: Duration = Field(5, description="Length in seconds.")
    seed: Seed = Field(0, ge=0, le=SEED_MAX, description="0 picks a seed and reports it.")
    bgm: StrictBool = Field(False, description="Add background music fitted to the video.")
    movement_amplitude: MovementAmplitude = "auto"

    @field_validator("prompt")
    @classmethod
    def _prompt_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must contain text, not only whitespace")
        return value

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height) in pixels."""
        return FRAME_SIZES[self.aspect_ratio]

    @property
    def frame_count(self) -> int:
        """Exactly duration x 24 frames."""
        return self.duration * FPS

    def with_seed(self) -> GenerationRequest:
        """Return this request with a concrete seed: seed 0 is replaced by a random one."""
        if self.seed != 0:
            return self
        return self.model_copy(update={"seed": secrets.randbelow(SEED_MAX) + 1})


def validation_message(error: ValidationError) -> str:
    """One line naming the first invalid field and what to change, for CLI and API alike."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "request"
    message = first["msg"]
    if first["type"] == "literal_error":
        message = f"must be {first['ctx']['expected']}"
    elif first["type"] == "extra_forbidden":
        message = "is not a field of this request; remove it"
    elif first["type"] == "missing":
        message = "is required"
    got = first.get("input")
    shown = "" if first["type"] in ("missing", "extra_forbidden") or isinstance(got, (list, dict)) else f" (got {_short(got)})"
    return f"{field}: {message}{shown}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
