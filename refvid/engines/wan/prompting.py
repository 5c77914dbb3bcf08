"""The text Wan is conditioned on: the user's prompt plus camera and amplitude words.

Wan reads motion from text, so ``movement_amplitude`` becomes a sentence, and when the
prompt names no camera move one gentle move is chosen from the seed, from the same
vocabulary and defaults the motion engine uses. The user's own words always come first
and are never rewritten.
"""

from __future__ import annotations

import random

from refvid.engines.vocabulary import DEFAULT_MOVES, MOVES, any_match
from refvid.request import GenerationRequest

AMPLITUDE_PHRASES: dict[str, str] = {
    "small": "Subtle, gentle motion; the camera moves slowly and only a little.",
    "medium": "Natural motion with a smooth, moderate camera move.",
    "large": "Dynamic, energetic motion with a large, sweeping camera move.",
}

# The motion engine's move names, as a sentence Wan's text encoder understands.
MOVE_SENTENCES: dict[str, str] = {
    "push_in": "The camera slowly pushes in.",
    "pull_out": "The camera slowly pulls back.",
    "pan_left": "The camera pans gently to the left.",
    "pan_right": "The camera pans gently to the right.",
    "truck_left": "The camera tracks slowly to the left.",
    "truck_right": "The camera tracks slowly to the right.",
}

_REFERENCE_SENTENCE = "The subjects look exactly as in the reference images."


def build_prompt(request: GenerationRequest) -> str:
    """The full positive prompt for a request (deterministic in the seed)."""
    parts = [request.prompt.strip()]
    if not parts[0].endswith((".", "!", "?")):
        parts[0] += "."
    if any_match(MOVES, request.prompt) is None:
        move = random.Random(request.seed).choice(DEFAULT_MOVES)
        parts.append(MOVE_SENTENCES.get(move, MOVE_SENTENCES["push_in"]))
    if request.movement_amplitude in AMPLITUDE_PHRASES:
        parts.append(AMPLITUDE_PHRASES[request.movement_amplitude])
    parts.append(_REFERENCE_SENTENCE)
    return " ".join(parts)
