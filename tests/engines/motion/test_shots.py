"""The shot plan read from a prompt: cues, mentions, order, framings, moves, transitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from refvid.engines.motion.script import read_prompt
from refvid.engines.motion.shots import MIN_SHOT_FRAMES, Shot, plan_shots
from refvid.engines.vocabulary import MOVES, first_match


def shots_for(prompt: str, references: int, seconds: int = 5, seed: int = 1) -> list[Shot]:
    script = read_prompt(prompt, references)
    return plan_shots(script, references, seconds * 24, 24, np.random.default_rng(seed))


def images(shots: list[Shot]) -> list[int]:
    return [shot.reference + 1 for shot in shots]


@pytest.mark.parametrize(
    "prompt",
    [
        "A man sits on a bench. Then a close-up of the book. Then the park.",
        "A man sits on a bench, then a book lies open, next the park at dusk",
        "A man sits on a bench; cut to a book; finally the park",
        "A man sits on a bench, close-up on the book, after that the park",
    ],
)
def test_cue_words_split_shots(prompt: str) -> None:
    shots = shots_for(prompt, 3)
    assert len(shots) == 3
    assert images(shots) == [1, 2, 3]


def test_back_to_returns_to_the_subject_named_before() -> None:
    shots = shots_for("The man on the bench, then a close-up of the book, then back to the man", 2)
    assert images(shots) == [1, 2, 1]
    assert shots[2].chosen_by == "back to"
    assert shots[1].framing == "close-up"


def test_pull_back_is_a_camera_move_not_a_cue() -> None:
    shots = shots_for("The astronaut waves, pull back to reveal the rocket", 1)
    assert all(shot.text != "back to reveal the rocket" for shot in shots)
    assert shots[0].move == "pull_out"


@pytest.mark.parametrize(
    ("mention", "expected"),
    [("image 2", 2), ("the second image", 2), ("@2", 2), ("reference 3", 3), ("picture #3", 3),
     ("image three", 3), ("the last image", 3), ("photo 1", 1)],
)
def test_mentions_pick_the_reference(mention: str, expected: int) -> None:
    shots = shots_for(f"Open on {mention} in soft light", 3)
    assert shots[0].reference + 1 == expected
    assert shots[0].chosen_by == "mention"


def test_mentions_in_any_order_and_unmentioned_fill_in() -> None:
    shots = shots_for("@3 runs. Then @1 laughs. Then a dog barks.", 3)
    assert images(shots) == [3, 1, 2]
    assert [s.chosen_by for s in shots] == ["mention", "mention", "order"]


def test_out_of_range_mention_is_ignored_with_a_warning() -> None:
    script = read_prompt("image 9 jumps", 2)
    assert script.warnings and "image 9" in script.warnings[0]
    assert script.pieces[0].mentions == []


def test_references_in_order_and_each_appears() -> None:
    shots = shots_for("A sunny afternoon in the city", 4)
    assert images(shots) == [1, 2, 3, 4]


def test_one_reference_gets_several_framings() -> None:
    shots = shots_for("A woman reading by the window", 1)
    assert len(shots) >= 3
    assert {shot.framing for shot in shots} >= {"wide", "medium", "close-up"}
    assert set(images(shots)) == {1}


def test_seven_references_all_appear_in_five_seconds() -> None:
    shots = shots_for("A parade of friends", 7)
    assert sorted(images(shots)) == [1, 2, 3, 4, 5, 6, 7]
    assert all(shot.end - shot.start >= MIN_SHOT_FRAMES for shot in shots)


def test_shots_tile_the_timeline_exactly() -> None:
    for seconds in (5, 10):
        shots = shots_for("one. two. three. four. five. six. seven. eight. nine. ten. eleven. twelve.", 3, seconds)
        assert shots[0].start == 0 and shots[-1].end == seconds * 24
        assert all(a.end == b.start for a, b in itertools.pairwise(shots))
        assert all(shot.end - shot.start >= MIN_SHOT_FRAMES for shot in shots)


def test_too_many_sentences_are_merged_not_dropped() -> None:
    prompt = " ".join(f"Scene {i} with a red kite." for i in range(12))
    shots = shots_for(prompt, 1, 5)
    assert len(shots) == 120 // MIN_SHOT_FRAMES
    assert "Scene 11" in shots[-1].text


@pytest.mark.parametrize(
    ("words", "move"),
    [("zoom in", "push_in"), ("push in", "push_in"), ("pull back", "pull_out"), ("zoom out", "pull_out"),
     ("reveal", "pull_out"), ("pan left", "pan_left"), ("pan right", "pan_right"), ("tilt up", "tilt_up"),
     ("tilt down", "tilt_down"), ("tracking shot left", "truck_left"), ("truck right", "truck_right"),
     ("orbit", "orbit"), ("arc around", "orbit"), ("static", "static"), ("locked-off", "static"),
     ("handheld", "handheld"), ("crane up", "crane_up"), ("rising", "crane_up")],
)
def test_camera_words(words: str, move: str) -> None:
    assert shots_for(f"A lighthouse on a cliff, {words}", 1)[0].move == move


def test_direction_only_sentence_applies_to_the_shot() -> None:
    shots = shots_for("Slow zoom in. A lighthouse on a cliff.", 1)
    assert shots[0].move == "push_in"
    assert "lighthouse" in shots[0].text


def test_a_direction_sentence_after_a_shot_belongs_to_that_shot() -> None:
    shots = shots_for("The cat sleeps on the sofa. Slow push in. The dog runs in the park. Pan right.", 2)
    assert [(s.move, "cat" in s.text) for s in shots[:2]] == [("push_in", True), ("pan_right", False)]
    assert "Slow push in" in shots[0].text and "Pan right" in shots[1].text


def test_a_transition_sentence_between_shots_leads_out_of_the_one_before() -> None:
    shots = shots_for("The cat sleeps on the sofa. Whip pan. The dog runs in the park.", 2)
    assert [s.transition_in for s in shots] == ["none", "whip"]


def test_a_title_line_and_a_title_word_do_not_make_direction_go_forward() -> None:
    script = read_prompt("A launch day story. The engineer stands at the launch pad. The camera slowly tracks "
                         "to the right. Then the dog runs.", 2)
    engineer = next(p for p in script.pieces if "engineer" in p.text)
    assert engineer.moves == ["truck_right"] and engineer.amplitude == "small"
    assert next(p for p in script.pieces if "dog" in p.text).moves == []


def test_a_prompt_that_opens_with_direction_puts_each_direction_before_its_shot() -> None:
    shots = shots_for("Slow push in. The cat sleeps on the sofa. Pan right. The dog runs in the park.", 2)
    assert [s.move for s in shots[:2]] == ["push_in", "pan_right"]
    assert shots[1].text.startswith("Pan right")


def test_pace_words_in_a_shot_sentence_with_a_title_word_stay_with_that_shot() -> None:
    # "launch" and "summer" are title words, but these sentences name what the pictures show.
    script = read_prompt("The engineer stands at the launch pad, slow push in. Then the dog runs on a summer day.", 2)
    assert script.amplitude is None
    assert [p.amplitude for p in script.pieces] == ["small", None]


def test_a_folded_title_still_sets_the_pace_of_the_video() -> None:
    script = read_prompt("A slow summer story. The cat sleeps on the sofa. The dog runs in the park.", 2)
    shots = plan_shots(script, 2, 120, 24, np.random.default_rng(1))
    assert script.titles == ["A slow summer story"] and script.amplitude == "small"
    assert [s.amplitude for s in shots] == [None, None]


def test_unnamed_moves_are_seeded_and_vary() -> None:
    a = [s.move for s in shots_for("A cat. A dog. A bird. A fish.", 4, seed=1)]
    b = [s.move for s in shots_for("A cat. A dog. A bird. A fish.", 4, seed=1)]
    c = [[s.move for s in shots_for("A cat. A dog. A bird. A fish.", 4, seed=k)] for k in range(2, 8)]
    assert a == b
    assert any(moves != a for moves in c)
    assert all(x != y for x, y in itertools.pairwise(a))


def test_transitions() -> None:
    default = shots_for("A cat. A dog.", 2)
    assert [s.transition_in for s in default] == ["none", "crossfade"]
    assert shots_for("A cat, then cut to a dog", 2)[1].transition_in == "cut"
    assert shots_for("A cat fades to black. A dog.", 2)[1].transition_in == "fade"
    assert shots_for("A cat, then whip pan to a dog", 2)[1].transition_in == "whip"
    smooth = shots_for("Smooth transitions. A cat. A dog. A bird.", 3)
    assert [s.transition_in for s in smooth[1:]] == ["crossfade", "crossfade"]
    assert smooth[1].transition_frames > default[1].transition_frames
    assert [s.transition_in for s in shots_for("Hard cuts. A cat. A dog.", 2)][1] == "cut"


@pytest.mark.parametrize(
    ("prompt", "transition"),
    [("A cat, whip pan to a dog", "whip"), ("A cat dissolves into a dog", "crossfade"),
     ("A cat, transition to a dog", "crossfade"), ("A cat, cut to a dog", "cut")],
)
def test_transition_phrases_also_split_shots(prompt: str, transition: str) -> None:
    shots = shots_for(prompt, 2)
    assert images(shots) == [1, 2]
    assert shots[1].transition_in == transition
    assert shots[0].text == "A cat" or (transition == "crossfade" and "dissolves" not in shots[0].text)


def test_whip_pan_is_a_transition_not_a_camera_pan() -> None:
    assert first_match(MOVES, "whip pan to a dog") is None
    assert first_match(MOVES, "pan to the dog") == "pan"


def test_fade_to_black_is_not_a_shot_cue() -> None:
    shots = shots_for("A cat sleeps and the scene fades to black. A dog wakes.", 2)
    assert images(shots) == [1, 2]
    assert shots[1].transition_in == "fade"


def test_second_mention_in_one_piece_still_gets_a_shot() -> None:
    # Found by the property test: "image 2 @3" showed image 2 and image 1 but never image 3.
    assert sorted(images(shots_for("image 2 @3", 3))) == [1, 2, 3]
