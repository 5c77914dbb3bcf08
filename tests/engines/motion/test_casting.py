"""Casting: mentions, then what the references show, then order, decided over the whole prompt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refvid.engines.motion import MotionEngine
from refvid.engines.motion.casting import Evidence, Wish, cast, content_matcher
from refvid.references import Reference
from refvid.request import GenerationRequest
from tests.conftest import synthetic


def plan_images(prompt: str, refs: list[Reference], seconds: int = 5) -> list[tuple[int, str]]:
    request = GenerationRequest(prompt=prompt, image_urls=["x"] * len(refs), seed=7, duration=seconds)  # type: ignore[arg-type]
    plan = MotionEngine().plan(request, refs)
    return [(shot.reference + 1, shot.chosen_by) for shot in plan.shots]


@pytest.fixture(scope="module")
def unnamed(demo_refs: list[Reference]) -> list[Reference]:
    """The demo photos (astronaut, coffee, cat) with no file name to give them away."""
    return [Reference(r.index, r.image, "base64") for r in demo_refs]


def test_a_title_sentence_takes_no_reference(unnamed: list[Reference]) -> None:
    shots = plan_images("A story of a summer trip. The woman waves. Then the coffee. Then the cat.", unnamed)
    assert [image for image, _ in shots] == [1, 2, 3]


def test_people_and_cats_are_cast_by_what_the_photos_show(unnamed: list[Reference]) -> None:
    shots = plan_images("The cat sleeps. The engineer in uniform smiles. A hot drink steams.", unnamed)
    assert shots == [(3, "content"), (1, "content"), (2, "order")]


@pytest.mark.parametrize(
    ("prompt", "order"),
    [
        ("A peaceful morning: coffee on the table, the cat sleeping, the woman getting ready.", [2, 3, 1]),
        ("A commercial: the espresso, the astronaut enjoying it, the cat.", [2, 1, 3]),
        ("Show the cat first, then the woman, and the coffee last.", [3, 1, 2]),
    ],
)
def test_pictures_named_in_one_sentence_are_shown_in_the_order_named(
    demo_refs: list[Reference], prompt: str, order: list[int]
) -> None:
    # The astronaut's picture answers to its file name and to a face; she must still not
    # jump ahead of a picture the sentence names before her.
    assert [image for image, _ in plan_images(prompt, demo_refs)] == order


@pytest.mark.parametrize("who", ["the cameraman", "a cyclist", "the policewoman", "our barista", "the salesperson"])
def test_people_words_not_in_any_list_still_find_the_person(unnamed: list[Reference], who: str) -> None:
    shots = plan_images(f"The cat sleeps. Then {who} stands still.", unnamed)
    assert shots[:2] == [(3, "content"), (1, "content")]


def test_words_that_only_end_like_people_do_not_cast_a_person() -> None:
    from refvid.engines import vocabulary as vocab

    assert vocab.person_words({"playlist", "specimen", "persist", "twist", "mist", "then", "omen"}) == set()


def test_colour_words_find_the_picture_of_that_colour() -> None:
    grey = np.full((300, 400, 3), 120, np.uint8)
    red = grey.copy()
    red[60:240, 80:320] = (210, 25, 30)
    blue = grey.copy()
    blue[60:240, 80:320] = (30, 60, 200)
    refs = [Reference(i, image, "base64") for i, image in enumerate((grey, blue, red))]
    shots = plan_images("The red car parks. Then the blue door opens. Then the street.", refs)
    assert shots[:2] == [(3, "content"), (2, "content")]
    assert shots[2][0] == 1


def test_file_names_count_as_content(demo_refs: list[Reference]) -> None:
    refs = [Reference(r.index, r.image, f"/photos/{name}") for r, name in
            zip(demo_refs, ("captain.jpg", "espresso_shot.webp", "pet.png"), strict=True)]
    shots = plan_images("Steam rises from the espresso. The captain salutes.", refs)
    assert shots[:2] == [(2, "content"), (1, "content")]


def test_file_names_answer_to_related_words(demo_refs: list[Reference]) -> None:
    refs = [Reference(r.index, r.image, f"/photos/{name}") for r, name in
            zip(demo_refs, ("pilot.jpg", "coffee.png", "sofa.webp"), strict=True)]
    shots = plan_images("Our new brand. The espresso steams. Then the couch by the window.", refs)
    assert shots[:2] == [(2, "content"), (3, "content")]


def test_scenes_and_things_answer_to_their_kind(demo_refs: list[Reference]) -> None:
    refs = [Reference(r.index, r.image, f"/photos/{name}") for r, name in
            zip(demo_refs, ("galaxy.jpg", "sunset.png", "garden.webp"), strict=True)]
    shots = plan_images("The park at noon. The clouds turn pink. The stars come out.", refs)
    assert [image for image, _ in shots] == [3, 2, 1]
    # "space" names a topic as often as the sky: it picks no picture.
    assert plan_images("A film about space travel. The park at noon.", refs)[0][1] != "content"


def test_back_to_a_subject_goes_to_the_picture_that_shows_it(demo_refs: list[Reference]) -> None:
    # The sentence that named her showed the espresso (named first): "back to the astronaut"
    # goes to her picture, not to the espresso again.
    shots = plan_images("A promo: the espresso, the astronaut, the cat. Then back to the astronaut.", demo_refs)
    assert shots[0] == (2, "content")
    assert shots[-1] == (1, "content")


def test_explicit_mentions_beat_content(unnamed: list[Reference]) -> None:
    shots = plan_images("The cat in image 1. Then the astronaut in @3.", unnamed)
    assert shots[:2] == [(1, "mention"), (3, "mention")]


def test_more_sentences_than_references_repeat_the_right_ones(unnamed: list[Reference]) -> None:
    shots = plan_images("The cat wakes. The astronaut waves. The cat stretches. The astronaut smiles.", unnamed)
    assert [image for image, _ in shots[:4]] == [3, 1, 3, 1]
    assert 2 in [image for image, _ in shots], "the coffee still gets a shot: there is time"


def test_more_references_than_sentences_all_appear(seven_refs: list[Reference]) -> None:
    shots = plan_images("A parade of friends, then the finale", seven_refs)
    assert sorted(image for image, _ in shots) == [1, 2, 3, 4, 5, 6, 7]


def test_the_plan_records_which_words_chose_the_reference(unnamed: list[Reference]) -> None:
    request = GenerationRequest(prompt="The kitten yawns. Then image 1 waves.", image_urls=["x"] * 3, seed=3)
    shots = MotionEngine().plan(request, unnamed).details["shots"]
    assert shots[0]["reference_chosen_by"] == "content" and shots[0]["reference_chosen_words"] == ["kitten"]
    assert shots[1]["reference_chosen_by"] == "mention" and shots[1]["reference_chosen_words"] == ["image 1"]


def test_content_matcher_reads_file_names_not_base64() -> None:
    image = synthetic(200, 200, 1)
    match = content_matcher([Reference(0, image, "https://x.test/img/red_sports_car.jpg"),
                             Reference(1, image, "iVBORw0KGgoAAAANSUhEUgAA")])
    assert match(frozenset({"car"}), 0).strength > 0
    assert match(frozenset({"car"}), 1).strength == 0


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 7),
    data=st.data(),
)
def test_any_prompt_casts_every_reference_when_there_is_room(n: int, data: st.DataObject) -> None:
    count = data.draw(st.integers(n, 15))
    wishes = data.draw(st.lists(
        st.builds(
            Wish,
            mentions=st.lists(st.integers(0, n - 1), max_size=2, unique=True).map(tuple),
            words=st.frozensets(st.sampled_from(["cat", "man", "red", "book", "sky"]), max_size=2),
            back_to=st.booleans(),
        ),
        min_size=count, max_size=count,
    ))
    liked = data.draw(st.dictionaries(st.sampled_from(["cat", "man", "red", "book", "sky"]), st.integers(0, n - 1)))

    def matcher(words: frozenset[str], reference: int) -> Evidence:
        hits = tuple(sorted(w for w in words if liked.get(w) == reference))
        return Evidence(float(len(hits)), hits)

    casts = cast(wishes, n, matcher, cover_first=True)
    assert len(casts) == count
    assert {c.reference for c in casts} == set(range(n))
    plain = cast(wishes, n, matcher)
    for wish, chosen in zip(wishes, plain, strict=True):
        # A mention is always honoured when coverage is not forced.
        if wish.mentions:
            assert chosen.reference == wish.mentions[0] and chosen.how == "mention"
    for i, (wish, chosen) in enumerate(zip(wishes, plain, strict=True)):
        # Words that match exactly one reference, in a prompt without mentions or returns, pick it.
        targets = {liked[w] for w in wish.words if w in liked}
        if len(targets) == 1 and not any(w.mentions or w.back_to for w in wishes):
            assert chosen.reference in targets, (i, chosen)


def test_with_one_reference_every_shot_says_it_is_the_only_one() -> None:
    wishes = [Wish(words=frozenset({"engine"})), Wish(), Wish(words=frozenset({"garage"}))]
    assert [c.how for c in cast(wishes, 1)] == ["only", "only", "only"]


def test_a_picture_added_to_be_seen_goes_after_the_sentence_naming_it_and_before_the_closing_one(
    demo_refs: list[Reference],
) -> None:
    refs = [Reference(r.index, r.image, f"/photos/{name}") for r, name in
            zip(demo_refs, ("pilot.jpg", "rocket.png", "bike.webp"), strict=True)]
    request = GenerationRequest(prompt="The pilot takes a picture of the rocket. Finally the bike speeds away.",
                                image_urls=["x"] * 3, seed=3, duration=10)
    shots = MotionEngine().plan(request, refs).shots
    assert [(s.reference + 1, s.chosen_by) for s in shots][:2] == [(1, "content"), (2, "content")]
    assert shots[1].chosen_words == ("rocket",) and not shots[1].text
    assert shots[-1].reference == 2 and shots[-1].text.startswith("Finally")


def test_a_picture_added_to_be_seen_goes_before_a_closing_sentence() -> None:
    grey = np.full((300, 400, 3), 120, np.uint8)
    red = grey.copy()
    red[60:240, 80:320] = (210, 25, 30)
    refs = [Reference(0, grey, "base64"), Reference(1, red, "base64"), Reference(2, grey.copy() + 3, "base64")]
    request = GenerationRequest(prompt="Image 1 at dawn. Finally the red car drives off.", image_urls=["x"] * 3,
                                seed=3, duration=10)
    shots = MotionEngine().plan(request, refs).shots
    assert shots[-1].reference == 1 and "Finally" in shots[-1].text
