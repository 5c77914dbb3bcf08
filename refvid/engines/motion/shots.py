"""The read prompt -> timed shots: which reference each shot shows, its framing, move and transition.

``script.read_prompt`` splits the prompt into pieces. Title and mood lines that name
nothing a reference shows are not shots. ``casting.cast`` picks each shot's reference
(mentions, then content, then order) for the whole prompt at once. Every camera, framing
and grade word either reaches its shot or leaves a warning naming it. All choices the
prompt leaves open are drawn from the seeded ``rng``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from refvid.engines import vocabulary as vocab
from refvid.engines.motion.casting import Cast, Matcher, Wish, cast, named_at, no_content
from refvid.engines.motion.script import Script, ShotText, attach_direction

MIN_SHOT_FRAMES = 16  # 2/3 s: shorter shots read as flicker, not as a cut
SECONDS_PER_DEFAULT_SHOT = 2.5
FRAMING_CYCLE = ("wide", "medium", "close-up", "medium")

TRANSITION_FRAMES = {"cut": 0, "crossfade": 6, "fade": 12, "whip": 8}
SMOOTH_CROSSFADE_FRAMES = 12


@dataclass
class Shot:
    """One shot of the plan. Frames are [start, end) on the cut timeline."""

    reference: int
    framing: str
    move: str
    transition_in: str
    transition_frames: int
    start: int
    end: int
    text: str
    chosen_by: str  # "mention", "content", "order", "back to", "same subject", "repeat", "only": why this reference
    chosen_words: tuple[str, ...] = ()  # the prompt words that chose it
    then_move: str | None = None  # a second, continuous move: "push in, then pan right"
    grade: str = "none"
    amplitude: str | None = None  # the shot's own amplitude word, if any (the plan resolves it)
    said: dict[str, list[str]] = field(default_factory=dict)  # field -> the prompt's words for it

    def to_dict(self, fps: int) -> dict[str, object]:
        return {
            "image": self.reference + 1,
            "framing": self.framing,
            "move": self.move,
            "then_move": self.then_move,
            "transition_in": self.transition_in,
            "transition_frames": self.transition_frames,
            "start_frame": self.start,
            "end_frame": self.end,
            "start_s": round(self.start / fps, 3),
            "end_s": round(self.end / fps, 3),
            "reference_chosen_by": self.chosen_by,
            "reference_chosen_words": list(self.chosen_words),
            "grade": self.grade,
            "words": {key: list(values) for key, values in self.said.items()},
            "text": self.text,
        }


def shot_count(pieces: int, reference_count: int, frame_count: int, fps: int, *, one_move: bool = False) -> int:
    """How many shots: enough for the prompt and for every reference, within the length.

    A single reference with a single sentence gets several framings, unless that sentence
    asks for a camera move: one continuous move asked for in one sentence stays one shot.
    """
    if one_move and pieces == 1 and reference_count == 1:
        return 1
    wanted = max(pieces, reference_count, math.ceil(frame_count / fps / SECONDS_PER_DEFAULT_SHOT))
    if reference_count == 1:
        wanted = max(wanted, 3)
    return max(1, min(wanted, frame_count // MIN_SHOT_FRAMES))


def plan_shots(
    script: Script,
    reference_count: int,
    frame_count: int,
    fps: int,
    rng: np.random.Generator,
    matcher: Matcher = no_content,
) -> list[Shot]:
    """Turn the read prompt into concrete shots covering exactly ``frame_count`` frames."""
    pieces = _fold_titles(script, reference_count, matcher)
    one_move = len(pieces) == 1 and bool(pieces[0].moves)
    asked = script.shots
    if asked is None:
        count = shot_count(len(pieces), reference_count, frame_count, fps, one_move=one_move)
    else:
        count = max(1, min(asked, frame_count // MIN_SHOT_FRAMES))
        if count < asked:
            script.warnings.append(f"the prompt asks for {asked} shots but {count} fit in the video "
                                   f"(each at least {MIN_SHOT_FRAMES} frames)")
    pieces = _fit_pieces(pieces, count, script.warnings)
    casts = cast([_wish(piece) for piece in pieces], reference_count, matcher)
    room = frame_count // MIN_SHOT_FRAMES - count
    unused = reference_count - len({c.reference for c in casts})
    if unused and room > 0 and asked is None:
        # Every reference appears at least once when the length allows one more shot each.
        count += min(room, unused)
        pieces = _fit_pieces(pieces, count, script.warnings)
        casts = cast([_wish(piece) for piece in pieces], reference_count, matcher)
    missing = sorted(set(range(reference_count)) - {c.reference for c in casts})
    if missing and count >= reference_count and asked is None:
        # No room left: a repeated mention gives way so that every reference is seen.
        casts = cast([_wish(piece) for piece in pieces], reference_count, matcher, cover_first=True)
        script.warnings.append(
            "every reference gets a shot: "
            + ", ".join(f"image {m + 1}" for m in missing)
            + " had none, so a reference named twice is shown once"
        )
    pieces, casts = _place_fillers(pieces, casts, reference_count, matcher)
    for piece in pieces:  # "Camera: handheld, close-ups." directs every shot without its own
        piece.moves = piece.moves or list(script.every_moves)
        piece.framing = piece.framing or script.every_framing
    references = [c.reference for c in casts]
    framings = _assign_framings(pieces, references, rng)
    moves = _assign_moves(pieces, len(script.pieces), rng)
    bounds = _cut_points(count, frame_count, rng)
    shots: list[Shot] = []
    for i, piece in enumerate(pieces):
        transition = "none" if i == 0 else _transition(script, pieces[i - 1], piece)
        frames = TRANSITION_FRAMES.get(transition, 0)
        if transition == "crossfade" and script.transition_style == "crossfade":
            frames = SMOOTH_CROSSFADE_FRAMES
        if i == 0 and piece.transition_in == "fade":
            transition, frames = "fade", TRANSITION_FRAMES["fade"] // 2
        shots.append(
            Shot(
                reference=references[i],
                framing=framings[i],
                move=moves[i][0],
                then_move=moves[i][1],
                transition_in=transition,
                transition_frames=frames,
                start=bounds[i],
                end=bounds[i + 1],
                text=piece.text,
                chosen_by=casts[i].how,
                chosen_words=casts[i].words,
                grade=piece.grade or script.grade,
                amplitude=piece.amplitude,
                said=piece.said,
            )
        )
    _explain_words(shots, pieces, script)
    return shots


def _wish(piece: ShotText) -> Wish:
    return Wish(tuple(piece.mentions), piece.mention_text, frozenset(piece.words), piece.back_to, piece.continues,
                piece.text)


def _fold_titles(script: Script, reference_count: int, matcher: Matcher) -> list[ShotText]:
    """Title and mood lines that no reference matches direct their neighbour instead of
    taking a shot (and a reference) of their own."""
    pieces = list(script.pieces)
    titles = [
        p for p in pieces
        if p.title_like and not any(matcher(frozenset(p.words), r).strength > 0 for r in range(reference_count))
    ]
    if not titles or len(titles) == len(pieces):
        return pieces
    for title in titles:
        script.titles.append(title.text)
        title.direction_only = True
        if title.grade:  # a title's grade and pace speak for the video
            script.grade = script.grade if script.grade != "none" else title.grade
            title.grade = None
        if title.amplitude:
            script.amplitude = script.amplitude or title.amplitude
            title.amplitude = None
    return attach_direction(pieces)


def unshown_warning(script: Script, shown: set[int], reference_count: int) -> str | None:
    """When the prompt's own shot count leaves references out, a warning naming them."""
    hidden = [f"image {r + 1}" for r in range(reference_count) if r not in shown]
    if script.shots is None or not hidden:
        return None
    return (f"the prompt asks for {script.shots} shot{'s' if script.shots != 1 else ''}, so "
            f"{', '.join(hidden)} {'is' if len(hidden) == 1 else 'are'} not shown (a composite such as "
            "'the man from image 1 at the table of image 2' shows two in one shot)")


def _place_fillers(
    pieces: list[ShotText], casts: list[Cast], reference_count: int, matcher: Matcher
) -> tuple[list[ShotText], list[Cast]]:
    """Move the shots added only so every reference is seen to where the prompt wants them.

    Such a shot starts at the end of the plan. A reference not seen otherwise goes right after
    the sentence that names it by content but gave its shot to another ("The photographer
    takes a picture of the rocket." -> the rocket next); any other added shot goes before a
    closing sentence ("Finally ...", "End on ..."), which stays last.
    """
    fillers = [i for i, (piece, c) in enumerate(zip(pieces, casts, strict=True))
               if not piece.text and c.how in ("order", "repeat")]
    if not fillers:
        return pieces, casts
    casts = list(casts)
    order = [i for i in range(len(pieces)) if i not in fillers]
    named: dict[int, list[tuple[int, int]]] = {}  # sentence -> [(where it names the picture, filler)]
    unnamed: list[int] = []
    for i in fillers:
        found = [(matcher(frozenset(pieces[k].words), casts[i].reference), -k) for k in order]
        evidence, minus_k = max(found, key=lambda item: (item[0].strength, item[1]), default=(None, 0))
        if casts[i].how == "order" and evidence is not None and evidence.strength > 0:
            casts[i] = Cast(casts[i].reference, "content", evidence.words)
            named.setdefault(-minus_k, []).append((named_at(pieces[-minus_k].text, evidence.words), i))
        else:
            unnamed.append(i)
    for k, added in named.items():
        at = order.index(k) + 1
        while at < len(order) and pieces[order[at]].continues:
            at += 1  # "Then a close-up." stays with the shot it continues
        # Several pictures named in one sentence follow it in the order it names them.
        order[at:at] = [i for _, i in sorted(added)]
    closing = bool(order) and bool(_CLOSING.match(pieces[order[-1]].text))
    at = len(order) - 1 if closing else len(order)
    order[at:at] = unnamed
    return [pieces[i] for i in order], [casts[i] for i in order]


_CLOSING = re.compile(r"\s*(?:finally|lastly|in the end|at the end|to end|to finish|end(?:s|ing)? (?:on|with))\b",
                      re.IGNORECASE)


def _fit_pieces(pieces: list[ShotText], count: int, warnings: list[str]) -> list[ShotText]:
    """Exactly ``count`` pieces: merge the overflow into the last, pad with empty shots."""
    if not pieces:
        pieces = [ShotText(text="")]
    pieces = [_copy(p) for p in pieces]
    if len(pieces) > count:
        warnings.append(
            f"the prompt describes {len(pieces)} shots but {count} fit in the video "
            f"(each at least {MIN_SHOT_FRAMES} frames); the last ones share the final shot"
        )
        last = pieces[count - 1]
        for extra in pieces[count:]:
            last.text = f"{last.text}; {extra.text}"
            last.mentions += [m for m in extra.mentions if m not in last.mentions]
            last.moves = list(dict.fromkeys([*last.moves, *extra.moves]))
            last.framing = last.framing or extra.framing
            last.grade = last.grade or extra.grade
            for key, values in extra.said.items():
                last.said[key] = [*last.said.get(key, []), *values]
        pieces = pieces[:count]
    return pieces + [ShotText(text="") for _ in range(count - len(pieces))]


def _copy(piece: ShotText) -> ShotText:
    return replace(piece, mentions=list(piece.mentions), moves=list(piece.moves),
                   said={k: list(v) for k, v in piece.said.items()})


def _assign_framings(pieces: list[ShotText], references: list[int], rng: np.random.Generator) -> list[str]:
    seen: dict[int, int] = {}
    single = len(set(references)) == 1
    framings: list[str] = []
    for piece, reference in zip(pieces, references, strict=True):
        appearance = seen.get(reference, 0)
        seen[reference] = appearance + 1
        if piece.framing:
            framings.append(piece.framing)
        elif single or appearance > 0:
            # Repeated subject: step through framings so the shots differ.
            framings.append(FRAMING_CYCLE[appearance % len(FRAMING_CYCLE)])
        else:
            framings.append(str(rng.choice(["wide", "wide", "medium"])))
    return framings


def _assign_moves(pieces: list[ShotText], written: int, rng: np.random.Generator) -> list[tuple[str, str | None]]:
    # A one-piece prompt's camera move ("A man reading. Slow zoom in.") holds for every shot.
    global_moves = pieces[0].moves if written == 1 else []
    moves: list[tuple[str, str | None]] = []
    for piece in pieces:
        asked = piece.moves or global_moves
        if not asked:
            options = [m for m in vocab.DEFAULT_MOVES if not moves or m != moves[-1][0]]
            moves.append((str(rng.choice(options)), None))
            continue
        concrete = [_side(move, rng) for move in asked[:2]]
        moves.append((concrete[0], concrete[1] if len(concrete) > 1 else None))
    return moves


def _side(move: str, rng: np.random.Generator) -> str:
    """"pan" without a side gets one (seeded)."""
    if move in ("pan", "tilt", "truck"):
        suffix = ("_left", "_right") if move != "tilt" else ("_up", "_down")
        return move + str(rng.choice(suffix))
    return move


def _cut_points(count: int, frame_count: int, rng: np.random.Generator) -> list[int]:
    """Shot boundaries: near-equal lengths with a seeded +-15% variation, each >= MIN_SHOT_FRAMES."""
    weights = rng.uniform(0.85, 1.15, size=count)
    spare = frame_count - count * MIN_SHOT_FRAMES
    extra = np.floor(np.cumsum(weights) / weights.sum() * spare + 1e-9).astype(int)
    return [0] + [int((i + 1) * MIN_SHOT_FRAMES + extra[i]) for i in range(count)]


def _transition(script: Script, before: ShotText, after: ShotText) -> str:
    return (
        before.transition_out
        or after.transition_in
        or script.transition_style
        or "crossfade"
    )


def _explain_words(shots: list[Shot], pieces: list[ShotText], script: Script) -> None:
    """A warning for every camera, framing, transition and grade word the plan does not use."""
    for number, (shot, piece) in enumerate(zip(shots, pieces, strict=True), start=1):
        used: dict[str, set[str | None]] = {
            "framing": {shot.framing}, "move": {shot.move, shot.then_move}, "grade": {shot.grade}
        }
        for key, table in (("framing", vocab.FRAMINGS), ("move", vocab.MOVES), ("grade", vocab.GRADES)):
            for value, words in vocab.all_matches(table, piece.text):
                if value not in used[key] and not any(str(u).startswith(value) for u in used[key]):
                    why = {
                        "framing": f"the shot is already framed {shot.framing!r}",
                        "move": "a shot takes at most two camera moves, one after the other",
                        "grade": f"the shot is graded {shot.grade!r}",
                    }[key]
                    script.warnings.append(f"shot {number}: {words!r} was not used: {why}")
        if number == 1 and piece.transition_in in ("whip", "crossfade", "cut") and piece.said.get("transition"):
            script.warnings.append(
                f"shot 1: {piece.said['transition'][0]!r} was not used: there is no shot before the first one"
            )
