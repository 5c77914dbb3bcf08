"""Prompt -> shot plan: which reference each shot shows, its framing, camera move and transition.

The prompt is split into sentences and then at cue words ("then", "cut to", "back to",
"next", "finally", "close-up on" ...). Each piece that names a subject becomes a shot;
a piece that only gives direction ("Slow zoom in.") applies to its neighbour. Explicit
mentions ("image 2", "second image", "@2", "reference 3") pick the reference; otherwise
references go in order and every reference appears at least once when there are enough
shots. All choices that the prompt leaves open are drawn from the seeded ``rng``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from refvid.engines.motion import vocabulary as vocab

MIN_SHOT_FRAMES = 16  # 2/3 s: shorter shots read as flicker, not as a cut
SECONDS_PER_DEFAULT_SHOT = 2.5
FRAMING_CYCLE = ("wide", "medium", "close-up", "medium")

TRANSITION_FRAMES = {"cut": 0, "crossfade": 6, "fade": 12, "whip": 8}
SMOOTH_CROSSFADE_FRAMES = 12


@dataclass
class ShotText:
    """A piece of the prompt and what it asks for."""

    text: str
    mentions: list[int] = field(default_factory=list)  # 0-based reference indices, in order
    words: set[str] = field(default_factory=set)  # subject words, for "back to the man"
    back_to: bool = False
    framing: str | None = None
    move: str | None = None
    transition_in: str | None = None
    transition_out: str | None = None
    direction_only: bool = False


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
    chosen_by: str  # "mention", "order", "back to", "repeat": why this reference

    def to_dict(self, fps: int) -> dict[str, object]:
        return {
            "image": self.reference + 1,
            "framing": self.framing,
            "move": self.move,
            "transition_in": self.transition_in,
            "transition_frames": self.transition_frames,
            "start_frame": self.start,
            "end_frame": self.end,
            "start_s": round(self.start / fps, 3),
            "end_s": round(self.end / fps, 3),
            "reference_chosen_by": self.chosen_by,
            "text": self.text,
        }


@dataclass
class Script:
    """What the whole prompt asks for beyond single shots."""

    pieces: list[ShotText]
    transition_style: str | None
    warnings: list[str]


def read_prompt(prompt: str, reference_count: int) -> Script:
    """Split ``prompt`` into shot pieces and read cues, mentions and global style."""
    warnings: list[str] = []
    pieces: list[ShotText] = []
    for sentence in vocab.SENTENCE_END.split(prompt.strip()):
        carried = ""
        for part in vocab.SHOT_CUES.split(sentence):
            text = f"{carried} {part.strip(' ,.;:!?-')}".strip()
            # "then back to ...": a bare cue joins the piece that follows it.
            carried = text if vocab.BARE_CUE.fullmatch(text) else ""
            if text and not carried:
                pieces.append(_read_piece(text, reference_count, warnings))
        if carried:
            pieces.append(_read_piece(carried, reference_count, warnings))
    pieces = _attach_direction(pieces)
    return Script(
        pieces=pieces,
        transition_style=vocab.any_match(vocab.TRANSITION_STYLE, prompt),
        warnings=warnings,
    )


def _read_piece(text: str, reference_count: int, warnings: list[str]) -> ShotText:
    mentions = _mentions(text, reference_count, warnings)
    subject = vocab.strip_vocabulary(text)
    for pattern in (*vocab.MENTION_PATTERNS, vocab.BACK_TO):
        subject = pattern.sub(" ", subject)
    subject = _FILLER.sub(" ", subject)
    words = re.findall(r"[^\W\d_]{2,}", subject)
    return ShotText(
        text=text,
        mentions=mentions,
        words={w.lower() for w in words},
        back_to=bool(vocab.BACK_TO.search(text)),
        framing=vocab.first_match(vocab.FRAMINGS, text),
        move=vocab.first_match(vocab.MOVES, text),
        transition_in=vocab.first_match(vocab.TRANSITIONS_IN, text),
        transition_out=vocab.first_match(vocab.TRANSITIONS_OUT, text),
        direction_only=not mentions and not words,
    )


_FILLER = re.compile(
    r"\b(?:then|next|finally|and|the|a|an|on|onto|to|of|with|in|into|out|up|down|left|right|"
    r"at|as|over|from|toward|towards|very|camera|cameras|shot|shots|move|moves|movement|"
    r"motion|transition|transitions|between|throughout|whole|video|scene|everything|style|look)\b",
    re.IGNORECASE,
)


def _mentions(text: str, reference_count: int, warnings: list[str]) -> list[int]:
    found: list[tuple[int, int]] = []
    for pattern in vocab.MENTION_PATTERNS:
        for match in pattern.finditer(text):
            word = match.group(1).lower()
            if word == "last":
                number = reference_count
            elif word in vocab.ORDINALS:
                number = vocab.ORDINALS[word]
            elif word in vocab.NUMBER_WORDS:
                number = vocab.NUMBER_WORDS[word]
            else:
                number = int(word)
            if 1 <= number <= reference_count:
                found.append((match.start(), number - 1))
            else:
                warnings.append(
                    f"the prompt mentions {match.group(0)!r} but there are only "
                    f"{reference_count} reference image(s); that mention was ignored"
                )
    ordered: list[int] = []
    for _, index in sorted(found):
        if index not in ordered:
            ordered.append(index)
    return ordered


def _attach_direction(pieces: list[ShotText]) -> list[ShotText]:
    """Fold pieces that only give direction into the next shot (or the previous one)."""
    shots: list[ShotText] = []
    pending: list[ShotText] = []
    for piece in pieces:
        if piece.direction_only:
            pending.append(piece)
            continue
        for direction in pending:
            _inherit(piece, direction)
        pending = []
        shots.append(piece)
    if pending and shots:
        for direction in pending:
            _inherit(shots[-1], direction, after=True)
    elif pending:
        shots = [pending[0]]
        for direction in pending[1:]:
            _inherit(shots[0], direction)
        shots[0].direction_only = False
    return shots


def _inherit(piece: ShotText, direction: ShotText, *, after: bool = False) -> None:
    piece.framing = piece.framing or direction.framing
    piece.move = piece.move or direction.move
    piece.transition_in = piece.transition_in or direction.transition_in or direction.transition_out
    piece.transition_out = piece.transition_out or direction.transition_out
    piece.text = f"{piece.text}. {direction.text}" if after else f"{direction.text}. {piece.text}"


def shot_count(pieces: int, reference_count: int, frame_count: int, fps: int) -> int:
    """How many shots: enough for the prompt and for every reference, within the length."""
    wanted = max(pieces, reference_count, math.ceil(frame_count / fps / SECONDS_PER_DEFAULT_SHOT))
    if reference_count == 1:
        wanted = max(wanted, 3)
    return max(1, min(wanted, frame_count // MIN_SHOT_FRAMES))


def plan_shots(
    script: Script, reference_count: int, frame_count: int, fps: int, rng: np.random.Generator
) -> list[Shot]:
    """Turn the read prompt into concrete shots covering exactly ``frame_count`` frames."""
    count = shot_count(len(script.pieces), reference_count, frame_count, fps)
    pieces = _fit_pieces(script.pieces, count)
    references, reasons, unused = _assign_references(pieces, reference_count)
    room = frame_count // MIN_SHOT_FRAMES - count
    if unused and room > 0:
        # Every reference appears at least once when the length allows one more shot each.
        count += min(room, len(unused))
        pieces = _fit_pieces(pieces, count)
        references, reasons, unused = _assign_references(pieces, reference_count)
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
                move=moves[i],
                transition_in=transition,
                transition_frames=frames,
                start=bounds[i],
                end=bounds[i + 1],
                text=piece.text,
                chosen_by=reasons[i],
            )
        )
    return shots


def _fit_pieces(pieces: list[ShotText], count: int) -> list[ShotText]:
    """Exactly ``count`` pieces: merge the overflow into the last, pad with empty shots."""
    if not pieces:
        pieces = [ShotText(text="")]
    if len(pieces) > count:
        last = pieces[count - 1]
        for extra in pieces[count:]:
            last.text = f"{last.text}; {extra.text}"
            last.mentions += [m for m in extra.mentions if m not in last.mentions]
        pieces = pieces[:count]
    return pieces + [ShotText(text="") for _ in range(count - len(pieces))]


def _assign_references(
    pieces: list[ShotText], reference_count: int
) -> tuple[list[int], list[str], list[int]]:
    """Reference and reason per piece, plus the references no piece got."""
    # A piece shows its first mention; the others it names still need a shot of their own.
    shown = {piece.mentions[0] for piece in pieces if piece.mentions}
    unused = [i for i in range(reference_count) if i not in shown]
    references: list[int] = []
    reasons: list[str] = []
    for piece in pieces:
        if piece.mentions:
            references.append(piece.mentions[0])
            reasons.append("mention")
        elif piece.back_to and references:
            references.append(_back_to(piece, pieces, references))
            reasons.append("back to")
        elif unused:
            references.append(unused.pop(0))
            reasons.append("order")
        else:
            references.append(((references[-1] if references else -1) + 1) % reference_count)
            reasons.append("repeat")
    return references, reasons, unused


def _back_to(piece: ShotText, pieces: list[ShotText], references: list[int]) -> int:
    """"back to the man": the earliest shot that shared a subject word, else the one before last."""
    for earlier, reference in zip(pieces, references, strict=False):
        if piece.words & earlier.words:
            return reference
    return references[-2] if len(references) >= 2 else references[0]


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


def _assign_moves(pieces: list[ShotText], written: int, rng: np.random.Generator) -> list[str]:
    # A one-piece prompt's camera move ("A man reading. Slow zoom in.") holds for every shot.
    global_move = pieces[0].move if written == 1 else None
    moves: list[str] = []
    for piece in pieces:
        move = piece.move or global_move
        if move is None:
            options = [m for m in vocab.DEFAULT_MOVES if not moves or m != moves[-1]]
            move = str(rng.choice(options))
        elif move in ("pan", "tilt", "truck"):
            suffix = ("_left", "_right") if move != "tilt" else ("_up", "_down")
            move = move + str(rng.choice(suffix))
        moves.append(move)
    return moves


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
