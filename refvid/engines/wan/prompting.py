"""The text Wan is conditioned on: the user's prompt plus camera and amplitude words.

Wan reads motion from text, so ``movement_amplitude`` becomes a sentence, and when the
prompt names no camera move one gentle move is chosen from the seed, like the motion
engine does. The user's own words always come first and are never rewritten.
"""

from __future__ import annotations

import random
import re

from refvid.request import GenerationRequest

AMPLITUDE_PHRASES: dict[str, str] = {
    "small": "Subtle, gentle motion; the camera moves slowly and only a little.",
    "medium": "Natural motion with a smooth, moderate camera move.",
    "large": "Dynamic, energetic motion with a large, sweeping camera move.",
}

# Words that show the prompt already directs the camera.
_CAMERA_WORDS = re.compile(
    r"\b(zoom\w*|push(es|ing)? in|pull(s|ing)? (back|out)|pan(s|ning)?|tilt\w*|truck\w*|track\w*|"
    r"dolly|orbit\w*|arc(s|ing)?|static|locked[- ]off|handheld|crane|rise|rising|"
    r"close-?up|wide shot|camera)\b",
    re.IGNORECASE,
)

_DEFAULT_MOVES = (
    "The camera slowly pushes in.",
    "The camera slowly pulls back.",
    "The camera pans gently to the right.",
    "The camera pans gently to the left.",
    "The camera arcs slowly around the subject.",
)

_REFERENCE_SENTENCE = "The subjects look exactly as in the reference images."


def build_prompt(request: GenerationRequest) -> str:
    """The full positive prompt for a request (deterministic in the seed)."""
    parts = [request.prompt.strip()]
    if not parts[0].endswith((".", "!", "?")):
        parts[0] += "."
    if not _CAMERA_WORDS.search(request.prompt):
        parts.append(random.Random(request.seed).choice(_DEFAULT_MOVES))
    if request.movement_amplitude in AMPLITUDE_PHRASES:
        parts.append(AMPLITUDE_PHRASES[request.movement_amplitude])
    parts.append(_REFERENCE_SENTENCE)
    return " ".join(parts)
