"""Prompt -> shot plan: which reference each shot shows, its framing, camera move and transition.

The prompt is split into sentences and then at cue words ("then", "cut to", "back to",
"next", "finally", "close-up on" ...). Each piece that names a subject becomes a shot;
a piece that only gives direction ("Slow zoom in.") applies to its neighbour, and a second
move in the same sentence continues the shot ("push in, then pan right"). Title and mood
lines that name nothing a reference shows are not shots. ``casting.cast`` picks each
shot's reference (mentions, then content, then order) for the whole prompt at once.
Grade words belong to their sentence's shot unless the sentence is about the whole video;
"fade to black" at the end fades the video out. Every camera, framing and grade word either
reaches its shot or leaves a warning naming it. All choices the prompt leaves open are drawn
from the seeded ``rng``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from refvid.engines import vocabulary as vocab
from refvid.engines.motion.casting import Matcher, Wish, cast, no_content

MIN_SHOT_FRAMES = 16  # 2/3 s: shorter shots read as flicker, not as a cut
SECONDS_PER_DEFAULT_SHOT = 2.5
FRAMING_CYCLE = ("wide", "medium", "close-up", "medium")

TRANSITION_FRAMES = {"cut": 0, "crossfade": 6, "fade": 12, "whip": 8}
SMOOTH_CROSSFADE_FRAMES = 12


@dataclass
class ShotText:
    """A piece of the prompt and what it asks for."""

    text: str
    sentence: int = 0  # which sentence of the prompt it came from
    mentions: list[int] = field(default_factory=list)  # 0-based reference indices, in order
    mention_text: str = ""  # the words of the first mention ("image 2")
    words: set[str] = field(default_factory=set)  # subject words, for content and "back to the man"
    back_to: bool = False
    continues: bool = False  # "Then a close-up.": a new framing of the shot before's subject
    framing: str | None = None
    moves: list[str] = field(default_factory=list)  # one, or two for "push in, then pan right"
    transition_in: str | None = None
    transition_out: str | None = None
    grade: str | None = None  # this shot's own grade ("at night" inside its sentence)
    amplitude: str | None = None  # "slow", "dramatic" ... inside its sentence
    direction_only: bool = False  # names no subject: directs its neighbour
    title_like: bool = False  # a title or mood line ("A story of a summer trip.")
    whole_video: bool = False  # speaks about every shot ("throughout", "between shots")
    said: dict[str, list[str]] = field(default_factory=dict)  # field -> the prompt's words for it

    @property
    def move(self) -> str | None:
        return self.moves[0] if self.moves else None


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


@dataclass
class Script:
    """What the whole prompt asks for beyond single shots."""

    pieces: list[ShotText]
    transition_style: str | None
    warnings: list[str]
    ending: str | None = None  # "fade": the video fades to black at its end
    grade: str = "none"  # the grade of every shot that has none of its own
    amplitude: str | None = None  # likewise the movement amplitude ("slow", "dramatic" ...)
    titles: list[str] = field(default_factory=list)  # title and mood lines that are not shots


def read_prompt(prompt: str, reference_count: int) -> Script:
    """Split ``prompt`` into shot pieces and read cues, mentions, scope and global style."""
    warnings: list[str] = []
    pieces: list[ShotText] = []
    sentences = [s for s in vocab.SENTENCE_END.split(prompt.strip()) if s.strip(" ,.;:!?-")]
    for number, sentence in enumerate(sentences):
        carried = ""
        own: list[ShotText] = []
        for part in vocab.SHOT_CUES.split(sentence):
            text = f"{carried} {part.strip(' ,.;:!?-')}".strip()
            # "then back to ...": a bare cue joins the piece that follows it.
            carried = text if vocab.BARE_CUE.fullmatch(text) else ""
            if text and not carried:
                own.append(_read_piece(text, number, reference_count, warnings))
        if carried:
            own.append(_read_piece(carried, number, reference_count, warnings))
        pieces += _join_sentence(own, whole_sentence=len(own) == 1)
    ending = _ending(pieces)
    grade = _global(pieces, "grade") or "none"
    amplitude = _global(pieces, "amplitude")
    pieces = _attach_direction(pieces)
    return Script(
        pieces=pieces,
        transition_style=vocab.any_match(vocab.TRANSITION_STYLE, prompt),
        warnings=warnings,
        ending=ending,
        grade=grade,
        amplitude=amplitude,
    )


def _read_piece(text: str, sentence: int, reference_count: int, warnings: list[str]) -> ShotText:
    mentions, mention_text = _mentions(text, reference_count, warnings)
    subject = vocab.strip_vocabulary(text)
    for pattern in (*vocab.MENTION_PATTERNS, vocab.BACK_TO):
        subject = pattern.sub(" ", subject)
    subject = _FILLER.sub(" ", subject)
    words = {w.lower() for w in re.findall(r"[^\W\d_]{2,}", subject)}
    subject_words = words - vocab.MOOD_WORDS
    said: dict[str, list[str]] = {}
    for key, table in (("framing", vocab.FRAMINGS), ("move", vocab.MOVES), ("transition", vocab.TRANSITIONS_IN),
                       ("transition_out", vocab.TRANSITIONS_OUT), ("grade", vocab.GRADES),
                       ("amplitude", vocab.AMPLITUDE_WORDS)):
        found = vocab.all_matches(table, text)
        if found:
            said[key] = [words_ for _, words_ in found]
    moves = list(dict.fromkeys(value for value, _ in vocab.all_matches(vocab.MOVES, text)))
    framing = vocab.first_match(vocab.FRAMINGS, text)
    # A cue with a new framing and no subject ("Then a close-up.") is a shot of the same subject.
    continues = not mentions and not subject_words and framing is not None and bool(_LEADING_CUE.match(text))
    return ShotText(
        text=text,
        sentence=sentence,
        mentions=mentions,
        mention_text=mention_text,
        words=subject_words,
        back_to=bool(vocab.BACK_TO.search(text)),
        continues=continues,
        framing=framing,
        moves=moves,
        transition_in=vocab.first_match(vocab.TRANSITIONS_IN, text),
        transition_out=vocab.first_match(vocab.TRANSITIONS_OUT, text),
        grade=vocab.first_match(vocab.GRADES, text),
        amplitude=vocab.first_match(vocab.AMPLITUDE_WORDS, text),
        direction_only=not mentions and not subject_words and not continues,
        title_like=not mentions and bool(subject_words) and bool(subject_words & vocab.TITLE_WORDS),
        whole_video=bool(vocab.WHOLE_VIDEO.search(text)),
        said=said,
    )


def _join_sentence(own: list[ShotText], *, whole_sentence: bool) -> list[ShotText]:
    """Direction after a piece of the same sentence continues that piece's shot.

    "A lighthouse, slow push in, then pan right" is one shot whose camera pushes in and
    then pans: the second move joins the first instead of becoming a shot of its own.
    """
    joined: list[ShotText] = []
    for piece in own:
        if joined and piece.direction_only:
            _inherit(joined[-1], piece, after=True, separator=", ")
            continue
        joined.append(piece)
    for piece in joined:
        piece.title_like = piece.title_like and whole_sentence
    return joined


def _ending(pieces: list[ShotText]) -> str | None:
    """ "fade to black" / "fade out" in the prompt's last piece fades the video's end."""
    if not pieces:
        return None
    last = pieces[-1]
    if last.transition_out == "fade" or vocab.ENDING.search(last.text):
        last.transition_out = None
        return "fade"
    return None


def _global(pieces: list[ShotText], name: str) -> str | None:
    """The grade (or amplitude) of shots without their own: from sentences about no subject
    or about the whole video, or from a prompt of one piece. One inside a shot's sentence
    stays with that shot; so does a title-like one's ("a summer day") until casting finds it
    names no picture (``_fold_titles``)."""
    single = len([p for p in pieces if not p.direction_only]) <= 1
    for piece in pieces:
        value = getattr(piece, name)
        if value and (piece.direction_only or piece.whole_video or single):
            for other in pieces:
                if getattr(other, name) == value and (other.direction_only or other.whole_video or single):
                    setattr(other, name, None)
            return str(value)
    return None


_LEADING_CUE = re.compile(
    r"\s*(?:and then|then|next|finally|after that|afterwards|later|cut(?:s|ting)? to|now)\b", re.IGNORECASE
)

_FILLER = re.compile(
    r"\b(?:then|next|finally|and|the|a|an|on|onto|to|of|with|in|into|out|up|down|left|right|"
    r"at|as|over|from|toward|towards|very|camera|cameras|shot|shots|move|moves|movement|"
    r"motion|transition|transitions|between|throughout|whole|video|scene|everything|style|look|"
    r"all|every|each|our|this|that|these|those|it|its|is|are|for|by|we|you|your|my|new|end)\b",
    re.IGNORECASE,
)


def _mentions(text: str, reference_count: int, warnings: list[str]) -> tuple[list[int], str]:
    found: list[tuple[int, int, str]] = []
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
                found.append((match.start(), number - 1, match.group(0)))
            else:
                warnings.append(
                    f"the prompt mentions {match.group(0)!r} but there are only "
                    f"{reference_count} reference image(s); that mention was ignored"
                )
    ordered: list[int] = []
    for _, index, _ in sorted(found):
        if index not in ordered:
            ordered.append(index)
    return ordered, (min(found)[2] if found else "")


def _attach_direction(pieces: list[ShotText]) -> list[ShotText]:
    """Fold pieces that only give direction into a shot of the prompt.

    A direction sentence belongs to the shot before it ("The cat sleeps. Slow push in."),
    and a transition in it leads out of that shot, unless the prompt opens with direction
    ("Slow push in. The cat sleeps."): that writer puts direction first, so each direction
    sentence goes to the shot after it.
    """
    # Title lines are direction by the time they are folded; they say nothing about the style.
    first = next((p for p in pieces if not p.title_like), None)
    leads = first is not None and first.direction_only
    shots: list[ShotText] = []
    pending: list[ShotText] = []
    for piece in pieces:
        if piece.direction_only and shots and not leads:
            _inherit(shots[-1], piece, after=True, leads_out=True)
            continue
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
            _inherit(shots[0], direction, after=True)
        shots[0].direction_only = False
    return shots


def _inherit(piece: ShotText, direction: ShotText, *, after: bool = False, separator: str = ". ",
             leads_out: bool = False) -> None:
    """``direction``'s words apply to ``piece`` where ``piece`` says nothing itself.

    ``leads_out``: any transition in ``direction`` is the one out of ``piece`` (into the next shot).
    """
    piece.framing = piece.framing or direction.framing
    piece.moves = list(dict.fromkeys([*piece.moves, *direction.moves]))
    if leads_out:
        piece.transition_out = piece.transition_out or direction.transition_in or direction.transition_out
    else:
        piece.transition_in = piece.transition_in or direction.transition_in or direction.transition_out
        piece.transition_out = piece.transition_out or direction.transition_out
    piece.grade = piece.grade or direction.grade
    piece.amplitude = piece.amplitude or direction.amplitude
    piece.whole_video = piece.whole_video or direction.whole_video
    for key, values in direction.said.items():
        piece.said[key] = [*piece.said.get(key, []), *values] if after else [*values, *piece.said.get(key, [])]
    piece.text = f"{piece.text}{separator}{direction.text}" if after else f"{direction.text}{separator}{piece.text}"


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
    count = shot_count(len(pieces), reference_count, frame_count, fps, one_move=one_move)
    pieces = _fit_pieces(pieces, count, script.warnings)
    casts = cast([_wish(piece) for piece in pieces], reference_count, matcher)
    room = frame_count // MIN_SHOT_FRAMES - count
    unused = reference_count - len({c.reference for c in casts})
    if unused and room > 0:
        # Every reference appears at least once when the length allows one more shot each.
        count += min(room, unused)
        pieces = _fit_pieces(pieces, count, script.warnings)
        casts = cast([_wish(piece) for piece in pieces], reference_count, matcher)
    missing = sorted(set(range(reference_count)) - {c.reference for c in casts})
    if missing and count >= reference_count:
        # No room left: a repeated mention gives way so that every reference is seen.
        casts = cast([_wish(piece) for piece in pieces], reference_count, matcher, cover_first=True)
        script.warnings.append(
            "every reference gets a shot: "
            + ", ".join(f"image {m + 1}" for m in missing)
            + " had none, so a reference named twice is shown once"
        )
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
    return Wish(tuple(piece.mentions), piece.mention_text, frozenset(piece.words), piece.back_to, piece.continues)


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
    return _attach_direction(pieces)


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
