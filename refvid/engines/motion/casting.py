"""Casting: which reference each shot shows, decided once over the whole prompt.

Three kinds of evidence, strongest first: an explicit mention ("image 2", "@3", "the last
photo"); content, what a reference shows against the words of the shot's sentence (faces
and bodies for people words, OpenCV's cat-face cascades for cats, text lines for pages and
signs, named dominant colours, and the words of the reference's file name); then order.
The assignment is a dynamic programme over shots x (references already shown, last
reference) that maximises the evidence, shows every reference once when it can, avoids
showing one reference twice in a row without a reason and otherwise keeps the prompt's
order. A greedy pass per sentence would let an early sentence take a reference a later
one names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from refvid.engines import vocabulary as vocab
from refvid.references import Reference
from refvid.vision.detect import Analysis, analyse

MENTION = 1000.0
CONTENT = 100.0
COVER = 50.0  # below one content match: a sentence about the cat keeps the cat
REPEAT = 30.0  # the same reference twice in a row, unasked
ORDER = 0.01  # tie-breaker: earlier shots take earlier references
# A sentence naming several pictures by content shows the one it names first: its evidence
# is lifted this far above the strongest other's (a picture matched by file name and by a
# face must not outrank one named first), when its own is at least NAMED (a word that names
# it: a person, a cat, a page or its file name; a colour alone is too loose).
FIRST_NAMED = 0.3
NAMED = 0.6

# File-name words that say nothing about the content.
_NAME_NOISE = frozenset(
    ["img", "image", "images", "pic", "picture", "photo", "photos", "dsc", "dcim", "pxl", "jpg", "jpeg", "png", "webp", "final", "edit", "copy", "new", "ref", "reference"]
)


@dataclass(frozen=True)
class Cast:
    """The reference a shot shows and why: how ("mention", "content", "order", "back to",
    "same subject", "repeat", "only") and the prompt words that chose it (none for order,
    repeat and only)."""

    reference: int
    how: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """How strongly a reference matches some words (0 = not at all), and which words did."""

    strength: float
    words: tuple[str, ...]


Matcher = Callable[[frozenset[str], int], Evidence]
"""``matcher(words, reference) -> Evidence``: content evidence for one shot and one reference."""


def no_content(words: frozenset[str], reference: int) -> Evidence:
    """The matcher when nothing is known about the references (plans made from counts)."""
    return Evidence(0.0, ())


def content_matcher(references: Sequence[Reference], analyses: Sequence[Analysis] | None = None) -> Matcher:
    """A matcher over the references' analyses and file names; detectors run on demand."""
    names = [_name_words(ref.label) for ref in references]
    if analyses is None:
        analyses = [analyse(ref.image) for ref in references]

    def match(words: frozenset[str], index: int) -> Evidence:
        analysis = analyses[index]
        strength = 0.0
        matched: list[str] = []
        singular = {_singular(w) for w in words}
        named = (words | singular) & names[index]
        if named:
            strength += 1.0
            matched += sorted(named)
        person = sorted(vocab.person_words(words))
        if person and (analysis.faces or analysis.bodies):
            surest = max((f.weight for f in (*analysis.faces, *analysis.bodies)), default=0.0)
            strength += 1.0 if analysis.faces else 0.6
            strength += min(0.2, surest / 50)  # a clearer face wins a tie between two people
            matched += person
        cats = sorted(words & vocab.CAT_WORDS)
        if cats and analysis.cats:
            strength += 1.0
            matched += cats
        text = sorted(words & vocab.TEXT_WORDS)
        if text and analysis.text:
            strength += 0.6
            matched += text
        colours = sorted(w for w in words if w in vocab.COLOUR_WORDS)
        if colours:
            shares = dict(analysis.colours)
            for word in colours:
                share = shares.get(vocab.COLOUR_WORDS[word], 0.0)
                # A colour that covers a sixth of the (salience-weighted) picture is "the red one".
                if share >= 0.04:
                    strength += 0.8 * min(1.0, share / 0.16)
                    matched.append(word)
        return Evidence(strength, tuple(dict.fromkeys(matched)))

    return match


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _name_words(label: str) -> frozenset[str]:
    """Words of a reference's file name ("red_car.webp" -> {"red", "car", "auto", ...}); none for base64."""
    label = label.strip()
    if not label or label.startswith("data:") or len(label) > 200 or ("/" not in label and "." not in label):
        return frozenset()
    stem = re.split(r"[/\\]", label.split("?")[0])[-1].rsplit(".", 1)[0]
    words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", stem)} - _NAME_NOISE
    words |= {_singular(w) for w in words}
    # "espresso.webp" also answers to "coffee", "puppy.png" to "dog".
    related = [group for group in vocab.RELATED_WORDS if group & words]
    return frozenset(words.union(*related))


@dataclass(frozen=True)
class Wish:
    """What one shot's text asks of casting (built by the shot planner)."""

    mentions: tuple[int, ...] = ()
    mention_text: str = ""  # the words of the first mention, e.g. "image 2"
    words: frozenset[str] = frozenset()
    back_to: bool = False
    continues: bool = False  # the same subject as the shot before ("Then a close-up.")
    text: str = ""  # the shot's words as written: which picture it names first


def named_at(text: str, words: Sequence[str]) -> int:
    """Where ``text`` first says one of ``words`` (a word or its plural), or ``len(text)``."""
    found = [m.start() for w in words if w
             for m in [re.search(rf"\b{re.escape(w)}(?:e?s)?\b", text, re.IGNORECASE)] if m]
    return min(found, default=len(text))


def cast(
    wishes: Sequence[Wish], reference_count: int, matcher: Matcher = no_content, *, cover_first: bool = False
) -> list[Cast]:
    """One reference per shot, chosen together for the whole prompt (see the module doc).

    ``cover_first``: when the video has no room for one more shot, a second mention of a
    reference already shown yields to a reference that would otherwise never appear.
    """
    n = reference_count
    count = len(wishes)
    evidence = [[matcher(wish.words, r) if wish.words and not wish.mentions else Evidence(0.0, ()) for r in range(n)]
                for wish in wishes]
    first = [_first_named(wish, row) for wish, row in zip(wishes, evidence, strict=True)]
    lift = [0.0 if f is None else max(e.strength for e in row) - row[f].strength + FIRST_NAMED
            for f, row in zip(first, evidence, strict=True)]
    # "back to the man": the shot returns to an earlier one that shared a subject word.
    returns: dict[int, int] = {}
    for i, wish in enumerate(wishes):
        if wish.continues and not wish.mentions and i > 0:
            returns[i] = i - 1
        elif wish.back_to and not wish.mentions and i > 0:
            if max((e.strength for e in evidence[i]), default=0.0) >= NAMED:
                # "back to the astronaut" where a picture shows her: that picture, even when the
                # earlier shot that named her showed another (a composite's place, a list's first).
                continue
            earlier = next((j for j in range(i) if wishes[j].words & wish.words and j not in returns), None)
            returns[i] = earlier if earlier is not None else max(0, i - 2)

    def score(i: int, r: int, last: int, mask: int) -> float:
        wish = wishes[i]
        value = -ORDER * ((r - _slot(i, returns)) % n)
        if wish.mentions and cover_first and mask >> wish.mentions[0] & 1:
            value += COVER * 0.8 if r == wish.mentions[0] else 0.0
        elif wish.mentions:
            value += MENTION if r == wish.mentions[0] else -MENTION
        value += CONTENT * evidence[i][r].strength
        if r == first[i]:
            value += CONTENT * lift[i]
        if r == last and not (wish.mentions or evidence[i][r].strength > 0):
            value -= REPEAT
        return value

    # best[(mask, last)] = (score, previous state, reference chosen)
    layers: list[dict[tuple[int, int], tuple[float, tuple[int, int] | None, int]]] = []
    current: dict[tuple[int, int], tuple[float, tuple[int, int] | None, int]] = {(0, -1): (0.0, None, -1)}
    for i in range(count):
        following: dict[tuple[int, int], tuple[float, tuple[int, int] | None, int]] = {}
        for state, (value, _, _) in current.items():
            mask, last = state
            if i in returns:
                key = state  # decided after the pass; keeps the state as it is
                candidate = (value, state, -1)
                if key not in following or candidate[0] > following[key][0]:
                    following[key] = candidate
                continue
            for r in range(n):
                gained = value + score(i, r, last, mask) + (0.0 if mask >> r & 1 else COVER)
                key = (mask | 1 << r, r)
                if key not in following or gained > following[key][0]:
                    following[key] = (gained, state, r)
        layers.append(following)
        current = following
    state = max(current, key=lambda k: current[k][0])
    chosen = [0] * count
    for i in range(count - 1, -1, -1):
        _, previous, r = layers[i][state]
        chosen[i] = r
        state = previous  # type: ignore[assignment]
    for i in sorted(returns):
        chosen[i] = chosen[returns[i]]

    casts: list[Cast] = []
    shown: set[int] = set()
    for i, (wish, r) in enumerate(zip(wishes, chosen, strict=True)):
        if wish.mentions and r == wish.mentions[0]:
            casts.append(Cast(r, "mention", (wish.mention_text,) if wish.mention_text else ()))
        elif i in returns and wish.continues:
            casts.append(Cast(r, "same subject"))
        elif i in returns:
            casts.append(Cast(r, "back to", tuple(sorted(wish.words & wishes[returns[i]].words))))
        elif evidence[i][r].strength > 0:
            casts.append(Cast(r, "content", evidence[i][r].words))
        elif n == 1:
            casts.append(Cast(r, "only"))
        else:
            casts.append(Cast(r, "order" if r not in shown else "repeat"))
        shown.add(r)
    return _everyone(casts, n) if cover_first else casts


def _first_named(wish: Wish, row: Sequence[Evidence]) -> int | None:
    """The reference the shot's words name first, when they name more than one by content."""
    named = [(named_at(wish.text, e.words), r) for r, e in enumerate(row) if e.strength > 0]
    if len(named) < 2 or not wish.text:
        return None
    first = min(named)[1]
    return first if row[first].strength >= NAMED else None


_WEAKEST_FIRST = ("repeat", "only", "back to", "same subject", "order", "content", "mention")


def _everyone(casts: list[Cast], n: int) -> list[Cast]:
    """Give each reference still unseen a shot of one seen twice, the weakest reason first."""
    casts = list(casts)
    for missing in sorted(set(range(n)) - {c.reference for c in casts}):
        counts = {r: sum(1 for c in casts if c.reference == r) for r in range(n)}
        spare = [i for i, c in enumerate(casts) if counts[c.reference] > 1]
        if not spare:
            break
        i = min(spare, key=lambda k: (_WEAKEST_FIRST.index(casts[k].how), -k))
        casts[i] = Cast(missing, "order")
    return casts


def _slot(i: int, returns: dict[int, int]) -> int:
    """The shot's position among shots cast by the programme (returns don't count)."""
    return i - sum(1 for j in returns if j < i)
