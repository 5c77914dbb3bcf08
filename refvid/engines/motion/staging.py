"""Which shots are layered: flat, parallax over a cut-out, or a composite of several references.

Runs at plan time, after casting. Each reference a shot uses is analysed once
(``refvid.vision.cutout``, cached by content hash). A shot of a reference with a usable
cut-out gets parallax; a shot whose sentence puts one reference's subject into another's
place ("the man from image 1 on the bench of image 3"), or a prompt that asks to blend
the references into one scene, gets a composite. Anything the analysis cannot do leaves
the shot flat, with the reason in the plan's warnings; nothing here raises for a picture.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from refvid.engines import vocabulary as vocab
from refvid.engines.motion.casting import Matcher, no_content
from refvid.engines.motion.framing import Box, CanvasLayout, Subject
from refvid.engines.motion.layers import PARALLAX_STRENGTH, Placement, place_subject
from refvid.engines.motion.shots import Shot
from refvid.references import Reference
from refvid.vision.cutout import Cutout, cutout
from refvid.vision.detect import Analysis
from refvid.vision.models import ModelMissing

# "in", "on", "at" ... before a place: "the man from image 1 on the bench of image 3".
PLACE_WORDS: Final = re.compile(
    r"\b(?:in|on|at|inside|into|onto|by|near|beside|next to|in front of|standing on|sitting on|"
    r"sits on|stands in|stands on|walks? (?:in|on|through|into)|arrives? at)\b", re.IGNORECASE)
# "looks at the coffee", "smiles at the camera": where someone looks, not where they are.
_LOOKS: Final = re.compile(r"\b(?:look|stare|gaze|glance|peer|smile|laugh|wave|point|nod|wink|watch)(?:s|es|ed|ing)?\s*$",
                           re.IGNORECASE)
# Only an explicit request for one scene: "blend" alone is a transition word (a long dissolve).
BLEND_WORDS: Final = re.compile(
    r"\b(?:(?:blend|merge|combine|put)\w*\b[^.;]*?\b(?:into|in|together in) (?:one|a single|the same) "
    r"(?:scene|shot|frame|picture|place)|(?:together )?in (?:one|a single|the same) (?:scene|shot|frame)|"
    r"all together|composite)\b", re.IGNORECASE)
MAX_SUBJECTS: Final = 3
# A face or animal face covering this share of a picture shown as a shot makes it a portrait
# (the cat's face in its close-up covers ~4 %; a face in a street scene well under 1 %).
CLOSE_UP_SHARE: Final = 0.02
_WORD: Final = re.compile(r"[^\W\d_]{2,}")
PLACE_GAP_WORDS: Final = 5  # "at the launch pad of the rocket": the place word is this near its place
_CLAUSE_BREAK: Final = re.compile(r"[,;:]|\b(?:while|and|but|as|then|when|where|who|which)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Staging:
    """How one shot is drawn: ``mode`` is "flat", "parallax" or "composite"."""

    mode: str
    strength: float = 0.0  # share of the camera's travel the background does not follow
    subjects: tuple[int, ...] = ()  # references whose cut-outs are drawn (0-based)
    place: int | None = None  # the reference whose picture is the scene
    placements: tuple[Placement, ...] = ()  # in the place's canvas pixels, one per subject
    reason: str = ""

    @property
    def layered(self) -> bool:
        return self.mode != "flat"

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"mode": self.mode}
        if self.mode == "parallax":
            out |= {"background": "filled plate", "subject_matte": f"image {self.subjects[0] + 1}",
                    "parallax": round(self.strength, 3)}
        elif self.mode == "composite":
            out |= {
                "scene": f"image {(self.place or 0) + 1}",
                "parallax": round(self.strength, 3),
                "subjects": [{"image": i + 1, "matte": f"image {i + 1}", **p.to_dict()}
                             for i, p in zip(self.subjects, self.placements, strict=True)],
            }
        if self.reason:
            out["reason"] = self.reason
        return out


def analyse_references(references: Sequence[Reference], used: Sequence[int],
                       warnings: list[str]) -> dict[int, Cutout]:
    """The analysis of each used reference; an empty dict (and one warning) when models are missing."""
    cuts: dict[int, Cutout] = {}
    for i in used:
        try:
            cuts[i] = cutout(references[i].image)
        except ModelMissing as error:
            warnings.append(f"no cut-outs, parallax or composites: {error}")
            return {}
    return cuts


def composite_request(text: str, reference_count: int, matcher: Matcher = no_content,
                      exclude: frozenset[int] = frozenset()) -> tuple[list[int], int] | None:
    """(subjects, place) when a shot's words put referenced subjects into another reference's place.

    By mention ("the man from image 1 on the bench of image 3"): the last reference named is
    the place, the ones before it the subjects, with a place word ("on", "at", "in") between.
    By content, through ``matcher`` ("the cameraman stands at the launch pad of the rocket"):
    stricter, since content words name things loosely ("the woman in the orange suit holds a
    cup while her cat watches" puts nobody in the cat's picture): a place word must come after
    the last subject is named and lead to the place within a few words, in the same clause.
    """
    # Camera and transition words name no subject or place ("fade in from black" is not "in" a black picture).
    text = vocab.mask_vocabulary(text)
    named = [n for n in _mentioned(text, reference_count) if n[2] not in exclude]
    asked = _subjects_and_place(named, text, strict=False)
    if asked is not None or matcher is no_content or reference_count < 2:
        return asked
    for match in _WORD.finditer(text):
        strengths = [matcher(frozenset([match.group(0).lower()]), i).strength for i in range(reference_count)]
        best = max(strengths)
        if best > 0 and strengths.count(best) == 1 and strengths.index(best) not in exclude:
            # (a word two pictures answer to names neither)
            named.append((match.start(), match.end(), strengths.index(best)))
    return _subjects_and_place(named, text, strict=True)


def _mentioned(text: str, reference_count: int) -> list[tuple[int, int, int]]:
    """(start, end, reference) of every "image N", "@N", "the last photo" ... in ``text``."""
    found: list[tuple[int, int, int]] = []
    for pattern in vocab.MENTION_PATTERNS:
        for match in pattern.finditer(text):
            word = match.group(1).lower()
            number = (reference_count if word == "last" else vocab.ORDINALS.get(word)
                      or vocab.NUMBER_WORDS.get(word) or (int(word) if word.isdigit() else 0))
            if 1 <= number <= reference_count:
                found.append((match.start(), match.end(), number - 1))
    return found


def _subjects_and_place(named: list[tuple[int, int, int]], text: str, *, strict: bool) -> tuple[list[int], int] | None:
    first: dict[int, int] = {}
    for start, _, index in sorted(named):
        first.setdefault(index, start)
    if len(first) < 2:
        return None
    order = sorted(first, key=first.__getitem__)
    place, place_start = order[-1], first[order[-1]]
    if strict:
        # From the end of the last word naming a subject to the place: a place word, and few words.
        gap_start = max(end for start, end, index in named if index != place and start < place_start)
        places = [m for m in PLACE_WORDS.finditer(text, gap_start, place_start)
                  if not _LOOKS.search(text, 0, m.start())]
        if not places:
            return None
        lead = text[places[-1].end() : place_start]
        if len(lead.split()) > PLACE_GAP_WORDS or _CLAUSE_BREAK.search(lead):
            return None
    elif not PLACE_WORDS.search(text, first[order[0]], place_start + 1):
        return None
    return order[:-1], place


def stage_shots(
    shots: list[Shot],
    references: Sequence[Reference],
    cuts: dict[int, Cutout],
    amplitudes: list[str],
    layouts: dict[int, CanvasLayout],
    prompt: str,
    warnings: list[str],
    matcher: Matcher = no_content,
    analyses: Sequence[Analysis] | None = None,
) -> list[Staging]:
    """How each shot is drawn. Composite shots get the place as their reference (mutating ``shots``).

    ``matcher`` lets a sentence name its subject and place by content, not only by mention;
    ``analyses`` (the references' detections) keep a close-up of a face or an animal from
    being used as a place.
    """
    blend_all = bool(BLEND_WORDS.search(prompt))
    for i in sorted({shot.reference for shot in shots}):
        if i in cuts and cuts[i].failed:
            warnings.append(f"image {i + 1} could not be analysed ({cuts[i].reason}); its shots are flat")
    stagings = []
    for number, (shot, amplitude) in enumerate(zip(shots, amplitudes, strict=True), start=1):
        strength = PARALLAX_STRENGTH.get(amplitude, PARALLAX_STRENGTH["medium"])
        staged = _composite(shot, references, cuts, layouts, strength, blend_all, number, warnings, matcher,
                            analyses)
        if staged is None:
            cut = cuts.get(shot.reference)
            if cut is not None and cut.usable:
                staged = Staging("parallax", strength, (shot.reference,), shot.reference)
            else:
                reason = cut.reason if cut is not None else ""
                staged = Staging("flat", reason=reason)
        stagings.append(staged)
    return stagings


def _composite(shot: Shot, references: Sequence[Reference], cuts: dict[int, Cutout],
               layouts: dict[int, CanvasLayout], strength: float, blend_all: bool, number: int,
               warnings: list[str], matcher: Matcher, analyses: Sequence[Analysis] | None = None) -> Staging | None:
    asked = composite_request(shot.text, len(references), matcher)
    if asked is None and blend_all and BLEND_WORDS.search(shot.text) and cuts:
        # "blend them into one scene": the place is the shot's own reference unless it is a
        # person; every other reference with a usable cut-out stands in it.
        place = shot.reference
        if cuts.get(place) is not None and cuts[place].usable and cuts[place].kind == "person":
            others = [i for i in sorted(cuts) if not (cuts[i].usable and cuts[i].kind == "person")]
            place = others[0] if others else place
        asked = ([i for i in sorted(cuts) if i != place], place)
    if asked is None:
        return None
    subjects, place = asked
    portraits: set[int] = set()
    while analyses is not None and _close_up(cuts.get(place), analyses[place]):
        # A portrait is no place: the scene is the picture the sentence names before it, if any.
        portraits.add(place)
        retry = composite_request(shot.text, len(references), matcher, frozenset(portraits))
        if retry is None:
            warnings.append(f"shot {number}: image {place + 1} is a close-up of its subject, not a place to put "
                            f"image(s) {[i + 1 for i in subjects]} into: no composite")
            return None
        subjects, place = retry
    usable = [i for i in subjects if i in cuts and cuts[i].usable][:MAX_SUBJECTS]
    skipped = [i + 1 for i in subjects if i not in usable]
    if skipped:
        warnings.append(f"shot {number}: image(s) {skipped} could not be cut out for the composite "
                        f"({'; '.join(cuts[i - 1].reason for i in skipped if i - 1 in cuts) or 'not analysed'})")
    if not usable or place not in layouts:
        return None
    layout = layouts[place]
    scene_w, scene_h = round(layout.image.width), round(layout.image.height)
    own = cuts.get(place)
    avoid = own.box if own is not None and own.usable else None
    placements = []
    for slot, i in enumerate(usable):
        p = place_subject(cuts[i], scene_w, scene_h, slot, len(usable), avoid)
        # Scene (image) pixels -> canvas pixels.
        placements.append(Placement(p.x0 + layout.image.x0, p.y0 + layout.image.y0, p.scale, p.width, p.height))
    shot.reference = place
    return Staging("composite", strength, tuple(usable), place, tuple(placements))


def _close_up(cut: Cutout | None, analysis: Analysis) -> bool:
    """A picture shown as a shot whose face or animal face is large: a portrait, not a place."""
    if cut is None or cut.usable:
        return False  # a subject that can be cut out leaves a place behind it (its plate)
    area = analysis.width * analysis.height
    found = (*analysis.faces, *analysis.cats)
    return any((f.box.x1 - f.box.x0) * (f.box.y1 - f.box.y0) >= CLOSE_UP_SHARE * area for f in found)


def dolly_zoom_or_push_in(shot: Shot, staging: Staging, number: int, warnings: list[str]) -> None:
    """A dolly zoom moves the background apart from the subject: a flat shot gets a push-in instead."""
    if "dolly_zoom" not in (shot.move, shot.then_move):
        return
    if staging.layered and shot.then_move is None:
        return
    why = ("it is a move of its own, not one of two" if staging.layered
           else "it needs a subject cut out from its background, and this shot is a flat picture")
    said = next((w for v, w in vocab.all_matches(vocab.MOVES, shot.text) if v == "dolly_zoom"), "dolly zoom")
    warnings.append(f"shot {number}: {said!r} is shown as a push in: {why}")
    if shot.move == "dolly_zoom":
        shot.move = "push_in"
    else:
        shot.then_move = "push_in"


def framing_subject(staging: Staging, layout: CanvasLayout) -> Subject | None:
    """For a composite, what the camera keeps in frame: the placed subjects (canvas -> image pixels)."""
    if staging.mode != "composite" or not staging.placements:
        return None
    x0 = min(p.x0 for p in staging.placements) - layout.image.x0
    y0 = min(p.y0 for p in staging.placements) - layout.image.y0
    x1 = max(p.x0 + p.width for p in staging.placements) - layout.image.x0
    y1 = max(p.y0 + p.height for p in staging.placements) - layout.image.y0
    return Subject(Box(max(0.0, x0), max(0.0, y0), min(layout.image.width, x1), min(layout.image.height, y1)),
                   "composite")
