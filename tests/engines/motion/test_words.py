"""Words the prompt uses are honoured where they belong, or the plan says why not (issue 8)."""

from __future__ import annotations

import pytest

from refvid.engines.motion import MotionEngine, MotionPlan
from refvid.engines.motion.script import asked_shot_count
from refvid.references import Reference
from refvid.request import GenerationRequest
from tests.conftest import synthetic

REFS = [Reference(i, synthetic(800, 600, seed=i), f"synthetic {i}") for i in range(3)]


def plan(prompt: str, count: int = 3, **fields: object) -> MotionPlan:
    request = GenerationRequest(prompt=prompt, image_urls=["x"] * count, **{"seed": 9, **fields})  # type: ignore[arg-type]
    return MotionEngine().plan(request, REFS[:count])


def test_fade_to_black_at_the_end_fades_the_video_out() -> None:
    for ending in ("Fade to black.", "fade out", "The dog sleeps and the scene fades to black."):
        result = plan(f"A cat. A dog. {ending}", 2)
        assert result.details["ending"] == "fade"
        assert result.timeline.fade_out > 0
        assert [s.transition_in for s in result.shots][1] != "fade", "not a fade into the last shot"
    assert plan("A cat fades to black. A dog.", 2).details["ending"] == "cut"


def test_whip_pans_between_shots_apply_to_every_transition() -> None:
    for words in ("whip pan between shots", "Whip pans between all shots.", "whip pans"):
        result = plan(f"A cat. A dog. A bird. {words}")
        assert [s.transition_in for s in result.shots[1:]] == ["whip", "whip"], words


def test_all_cuts() -> None:
    assert {s.transition_in for s in plan("A cat. A dog. A bird. All cuts.").shots[1:]} == {"cut"}


def test_push_in_then_pan_right_in_one_sentence_is_one_shot_with_both_moves() -> None:
    result = plan("A lighthouse on a cliff, slow push in, then pan right.", 1)
    assert len(result.shots) == 1
    shot = result.shots[0]
    assert (shot.move, shot.then_move) == ("push_in", "pan_right")
    path = result.paths[0]
    assert path.then is not None and path.end.w < path.start.w and path.then.cx > path.end.cx


def test_a_grade_inside_one_sentence_grades_only_that_shot() -> None:
    result = plan("A cat sleeps at night. A dog runs in the park. A bird sings.")
    assert [s.grade for s in result.shots] == ["cool", "none", "none"]
    assert result.grade == "none"


def test_a_grade_about_the_whole_video_grades_every_shot() -> None:
    for prompt in ("A cat. A dog. A bird. Black and white throughout.", "Vintage film look. A cat. A dog. A bird."):
        result = plan(prompt)
        assert {s.grade for s in result.shots} == {result.grade} and result.grade in ("noir", "vintage")


def test_amplitude_words_belong_to_their_shot() -> None:
    result = plan("A cat, slow push in. A dog, dramatic pan left. A bird.")
    amplitudes = [s["movement_amplitude"] for s in result.details["shots"]]
    assert amplitudes == ["small", "large", "medium"]
    travel = [s["travel"] for s in result.details["shots"]]
    assert travel[0] < travel[1]


def test_the_pace_of_a_camera_sentence_belongs_to_its_move() -> None:
    result = plan("A cat sleeps. The camera slowly tracks to the right. A dog runs. Dramatic.")
    shots = result.details["shots"]
    assert [s["move"] for s in shots[:1]] == ["truck_right"]
    assert [s["movement_amplitude"] for s in shots[:2]] == ["small", "large"]


@pytest.mark.parametrize(
    ("words", "amplitude"),
    [("Large movement.", "large"), ("Big camera moves.", "large"), ("Small movements.", "small"),
     ("Minimal camera motion.", "small"), ("Medium movement.", "medium")],
)
def test_the_apis_amplitude_names_in_words_pace_the_video(words: str, amplitude: str) -> None:
    # Said in a sentence of its own, it is about the whole video and is not a shot of its own.
    result = plan(f"A cat sleeps. A dog runs. {words}", 2)
    assert len(result.shots) == 2
    assert [s["movement_amplitude"] for s in result.details["shots"]] == [amplitude] * 2
    assert result.details["movement_amplitude"] == amplitude
    inside = plan(f"A cat sleeps, pan left, {words.lower().rstrip('.')}.", 1).details["shots"][0]
    assert inside["movement_amplitude"] == amplitude


def test_unused_words_are_named_in_a_warning() -> None:
    result = plan("A cat, wide shot, close-up, push in, pan left, tilt up.", 1)
    warnings = " ".join(result.details["warnings"])
    assert "'close-up'" in warnings and "'tilt up'" in warnings
    words = plan("A cat, dramatic zoom in.", 1, movement_amplitude="small").details["warnings"]
    assert any("'dramatic'" in w and "movement_amplitude" in w for w in words)


def test_then_a_close_up_is_a_new_framing_of_the_same_subject() -> None:
    result = plan("The cat, wide shot. Then a close-up. Then the dog.", 2)
    assert [(s.reference, s.framing) for s in result.shots[:2]] == [(0, "wide"), (0, "close-up")]
    assert result.shots[1].chosen_by == "same subject"
    assert result.shots[1].transition_in == "cut", "framings of one picture cut rather than ghost"
    assert result.shots[2].reference == 1


@pytest.mark.parametrize(
    ("prompt", "count"),
    [
        ("The cat sleeps in one continuous shot.", 1), ("A single take of the cat.", 1), ("The cat, no cuts.", 1),
        ("Two shots: the cat, then the dog.", 2), ("The city in 3 scenes.", 3), ("A wide shot of the cat.", None),
        ("The first shot shows two cats.", None), ("Shot on film, the cat.", None),
    ],
)
def test_a_shot_count_in_so_many_words_is_read(prompt: str, count: int | None) -> None:
    assert asked_shot_count(prompt) == count


def test_an_asked_shot_count_is_kept_and_the_pictures_left_out_are_named() -> None:
    one = plan("The cat sleeps on the sofa in one continuous shot, slow push in.")
    assert len(one.shots) == 1 and one.shots[0].move == "push_in"
    assert any("asks for 1 shot" in w and "are not shown" in w for w in one.details["warnings"])
    two = plan("Two shots: image 3, then image 1.")
    assert [s.reference for s in two.shots] == [2, 0]
    assert any("image 2 is not shown" in w for w in two.details["warnings"])
    assert len(plan("The cat, then the dog, then the bird.").shots) >= 3  # no count asked: every picture


@pytest.mark.parametrize(
    ("words", "why"),
    [("bird's eye view", "angle"), ("low angle shot", "angle"), ("POV shot", "angle"), ("rack focus", "focus"),
     ("time-lapse", "over time"), ("split screen", "one picture")],
)
def test_camera_words_the_engine_cannot_do_are_named_with_the_reason(words: str, why: str) -> None:
    result = plan(f"A cat sleeps, {words}. A dog runs.", 2)
    warning = next(w for w in result.details["warnings"] if repr(words) in w)
    assert why in warning
    # They describe the camera, not the subject: casting and the shot count are unchanged.
    assert len(result.shots) == 2


def test_next_to_is_a_place_not_a_new_shot() -> None:
    result = plan("The cat sleeps next to the dog.", 2)
    assert result.shots[0].text == "The cat sleeps next to the dog"


def test_a_mood_line_is_not_a_shot_of_its_own() -> None:
    for mood in ("Handheld camera, shaky.", "Upbeat, bright colors.", "Epic and stunning, 4K."):
        result = plan(f"A cat sleeps. A dog runs. {mood}", 2)
        assert len(result.shots) == 2, mood


def test_a_dolly_zoom_on_a_flat_picture_is_a_push_in_with_the_reason() -> None:
    result = plan("A cat, dolly zoom.", 1)
    shot = result.details["shots"][0]
    assert shot["layers"]["mode"] == "flat", "the synthetic pictures have no subject to cut out"
    assert shot["move"] == "push_in"
    assert any("'dolly zoom' is shown as a push in" in w for w in result.details["warnings"])
    both = plan("A cat, dolly zoom, then pan left.", 1).details
    assert both["shots"][0]["move"] == "push_in"
    assert any("not one of two" in w or "flat picture" in w for w in both["warnings"])


def test_a_frame_shape_in_the_prompt_that_the_request_does_not_ask_for_is_named() -> None:
    warnings = plan("A vertical video for TikTok. A cat sleeps. A dog runs.", 2).details["warnings"]
    assert any("'vertical video' was not used: aspect_ratio is '16:9'" in w and "'9:16'" in w for w in warnings)
    assert len(plan("A vertical video for TikTok. A cat sleeps. A dog runs.", 2).shots) == 2, "not a shot of its own"
    quiet = plan("A 9:16 reel. A cat sleeps.", 1, aspect_ratio="9:16").details["warnings"]
    assert not any("aspect_ratio" in w for w in quiet)


def test_pushing_in_on_a_face_ends_on_a_close_up() -> None:
    for words in ("The camera pushes in on her face.", "Zoom in on the cat's eyes."):
        shot = plan(f"A cat sleeps. {words}", 1).shots[0]
        assert (shot.framing, shot.move) == ("close-up", "push_in"), words


def test_actions_the_camera_cannot_show_are_named_once() -> None:
    warnings = plan("The man walks in and waves. Then the dog runs and the man waves again.", 2).details["warnings"]
    acts = [w for w in warnings if "not acted out" in w]
    assert len(acts) == 1 and all(f"'{a}'" in acts[0] for a in ("walks", "waves", "runs"))
    assert "wan engine" in acts[0]
    # States a picture already shows are not actions to warn about.
    assert not any("not acted out" in w for w in plan("The cat sleeps. The woman smiles.", 2).details["warnings"])


def test_fade_in_from_black_after_the_last_shot_opens_the_video() -> None:
    result = plan("A cat sleeps. A dog runs. Fade in from black.", 2)
    assert [s.transition_in for s in result.shots] == ["fade", "crossfade"]
    assert result.details["ending"] == "cut"


def test_a_length_in_words_that_the_request_does_not_ask_for_is_named() -> None:
    result = plan("A cat sleeps. A dog runs. 10 seconds of calm.", 2)
    assert any("'10 seconds' was not used: duration is 5 s" in w for w in result.details["warnings"])
    assert len(result.shots) == 2 and {s["movement_amplitude"] for s in result.details["shots"]} == {"small"}
    quiet = plan("A cat sleeps, a ten-second clip.", 1, duration=10).details["warnings"]
    assert not any("duration" in w for w in quiet)


def test_a_labelled_camera_line_directs_every_shot() -> None:
    result = plan("A cat sleeps. A dog runs. A bird sings. Camera: handheld, close-ups.", 3)
    assert [(s.move, s.framing) for s in result.shots] == [("handheld", "close-up")] * 3
    # Unlabelled, the same words direct the shot before them.
    result = plan("A cat sleeps. A dog runs. A bird sings. Handheld, close-ups.", 3)
    assert (result.shots[2].move, result.shots[2].framing) == ("handheld", "close-up")
    assert result.shots[0].move != "handheld"


def test_only_and_no_do_not_make_a_direction_line_a_shot() -> None:
    result = plan("Image 3 first. Then image 1. Then image 2. Hard cuts only, no transitions.", 3)
    assert [s.reference for s in result.shots] == [2, 0, 1]
    assert {s.transition_in for s in result.shots[1:]} == {"cut"}


def test_a_shallow_focus_is_read_and_flat_shots_are_named() -> None:
    result = plan("A cat sleeps, soft focus. A dog runs.", 2)
    assert result.details["shallow_focus"] is True
    assert any("'soft focus' blurs the background" in w and "[1, 2]" in w for w in result.details["warnings"])
    # "soft focus" is a look, not a pace.
    assert {s["movement_amplitude"] for s in result.details["shots"]} == {"medium"}
    assert plan("A cat sleeps. A dog runs.", 2).details["shallow_focus"] is False


def test_a_look_line_is_a_grade_for_every_shot_not_a_shot() -> None:
    result = plan("Make it look like an old movie. A cat sleeps. A dog runs.", 2)
    assert len(result.shots) == 2 and {s.grade for s in result.shots} == {"vintage"}
    assert plan("The cat at dusk.", 1).shots[0].grade == "cool"


def test_a_tripod_in_the_picture_is_not_a_locked_off_camera() -> None:
    assert plan("The cameraman sets up his tripod.", 1).shots[0].move != "static"
    assert plan("The cameraman, shot from a tripod.", 1).shots[0].move == "static"
