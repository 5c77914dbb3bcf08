"""The text Wan is conditioned on."""

from __future__ import annotations

from refvid.engines.vocabulary import DEFAULT_MOVES
from refvid.engines.wan.prompting import AMPLITUDE_PHRASES, MOVE_SENTENCES, build_prompt
from refvid.request import GenerationRequest


def _request(prompt: str, amplitude: str = "auto", seed: int = 5) -> GenerationRequest:
    return GenerationRequest.model_validate(
        {"prompt": prompt, "image_urls": ["x"], "movement_amplitude": amplitude, "seed": seed}
    )


def test_user_prompt_comes_first_and_unchanged() -> None:
    text = build_prompt(_request("A man reads on a bench, the camera pans left"))
    assert text.startswith("A man reads on a bench, the camera pans left.")


def test_amplitude_becomes_words() -> None:
    for amplitude, phrase in AMPLITUDE_PHRASES.items():
        assert phrase in build_prompt(_request("A cat", amplitude))
    auto = build_prompt(_request("A cat", "auto"))
    assert not any(phrase in auto for phrase in AMPLITUDE_PHRASES.values())


def test_a_camera_move_is_added_only_when_none_is_named() -> None:
    assert "The camera" not in build_prompt(_request("Slow zoom in on a book"))
    added = build_prompt(_request("A book on a table"))
    assert "The camera" in added
    assert added == build_prompt(_request("A book on a table"))  # same seed, same words
    moves = {build_prompt(_request("A book on a table", seed=seed)) for seed in range(1, 40)}
    assert len(moves) > 1  # the seed picks among several


def test_every_default_move_has_a_sentence() -> None:
    assert set(DEFAULT_MOVES) <= set(MOVE_SENTENCES)


def test_named_moves_in_any_wording_are_respected() -> None:
    for prompt in ("The camera orbits the statue", "handheld shot of a market", "slow crane up"):
        assert not any(s in build_prompt(_request(prompt)) for s in MOVE_SENTENCES.values())
