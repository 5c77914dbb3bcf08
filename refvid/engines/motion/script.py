"""The prompt read into pieces: sentences split at cue words, and what each piece asks for.

Each piece that names a subject will become a shot; a piece that only gives direction
("Slow zoom in.") joins a neighbour (the shot before it, unless the prompt opens with
direction), and a second move in the same sentence continues the shot ("push in, then pan
right"). Grade and pace words belong to their sentence's piece unless the sentence is about
the whole video; "fade to black" at the end is the video's ending. ``shots.plan_shots``
turns the pieces into timed shots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from refvid.engines import vocabulary as vocab


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
class Script:
    """What the whole prompt asks for beyond single shots."""

    pieces: list[ShotText]
    transition_style: str | None
    warnings: list[str]
    ending: str | None = None  # "fade": the video fades to black at its end
    grade: str = "none"  # the grade of every shot that has none of its own
    amplitude: str | None = None  # likewise the movement amplitude ("slow", "dramatic" ...)
    titles: list[str] = field(default_factory=list)  # title and mood lines that are not shots
    shots: int | None = None  # the number of shots the prompt asks for in so many words
    # From labelled direction lines ("Camera: handheld, close-ups."): the move(s) and framing of
    # every shot that asks for none of its own, added shots included.
    every_moves: list[str] = field(default_factory=list)
    every_framing: str | None = None


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
    for reason, words in vocab.all_matches(vocab.UNSUPPORTED, prompt):
        warnings.append(f"{words!r} was not used: {reason}")
    _opening(pieces)
    ending = _ending(pieces)
    grade = _global(pieces, "grade") or "none"
    amplitude = _global(pieces, "amplitude")
    every = [p for p in pieces if p.direction_only and p.whole_video]
    pieces = attach_direction(pieces)
    return Script(
        pieces=pieces,
        transition_style=vocab.any_match(vocab.TRANSITION_STYLE, prompt),
        warnings=warnings,
        ending=ending,
        grade=grade,
        amplitude=amplitude,
        shots=asked_shot_count(prompt),
        every_moves=next((list(p.moves) for p in every if p.moves), []),
        every_framing=next((p.framing for p in every if p.framing), None),
    )


def request_warnings(prompt: str, duration: int, aspect_ratio: str) -> list[str]:
    """What the prompt asks for that this engine leaves to the request or cannot do, in words.

    Actions (a camera over still pictures cannot act them out), and a length or frame shape
    the request's own ``duration`` and ``aspect_ratio`` decide otherwise.
    """
    warnings = []
    acts = list(dict.fromkeys(m.group(0).lower() for m in vocab.ACTIONS.finditer(prompt)))
    if acts:
        warnings.append(f"{', '.join(repr(a) for a in acts)} not acted out: this engine moves a camera over your "
                        "pictures and gives people a sway, breathing and blinks; the wan engine generates motion")
    length = vocab.DURATION_WORDS.search(prompt)
    if length:
        word = length.group(1).lower()
        if (int(word) if word.isdigit() else {"five": 5, "ten": 10}[word]) != duration:
            warnings.append(f"{length.group(0)!r} was not used: duration is {duration} s (set duration to 5 or 10)")
    shape = next(((value, said) for value, said in vocab.all_matches(vocab.ASPECT_WORDS, prompt)
                  if value != aspect_ratio), None)
    if shape is not None:
        warnings.append(f"{shape[1]!r} was not used: aspect_ratio is {aspect_ratio!r} "
                        f"(set aspect_ratio to {shape[0]!r} for that frame)")
    return warnings


def asked_shot_count(prompt: str) -> int | None:
    """How many shots the prompt asks for in so many words ("one continuous shot", "three shots"), if it does."""
    if vocab.ONE_SHOT.search(prompt):
        return 1
    found = vocab.SHOT_COUNT.search(prompt)
    if found is None:
        return None
    word = found.group(1).lower()
    return int(word) if word.isdigit() else vocab.COUNT_WORDS[word]


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


def _opening(pieces: list[ShotText]) -> None:
    """ "Fade in from black." after the last shot has no shot to fade into: it opens the video."""
    if len(pieces) < 2:
        return
    last, first = pieces[-1], pieces[0]
    if last.direction_only and last.transition_in == "fade" and first.transition_in is None:
        first.transition_in, last.transition_in = "fade", None
        for key in ("transition",):
            if key in last.said:
                first.said[key] = [*last.said.pop(key), *first.said.get(key, [])]


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

    def speaks_for_all(piece: ShotText) -> bool:
        # "Slowly." sets the pace of the video; "The camera slowly tracks right." paces that move.
        style = piece.direction_only and not (name == "amplitude" and piece.moves)
        return style or piece.whole_video or single

    for piece in pieces:
        value = getattr(piece, name)
        if value and speaks_for_all(piece):
            for other in pieces:
                if getattr(other, name) == value and speaks_for_all(other):
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
    r"all|every|each|our|this|that|these|those|it|its|is|are|for|by|we|you|your|my|new|end|"
    r"only|no|not|without|seconds?|secs?|long|make|makes|like|feel|feels)\b",
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


def attach_direction(pieces: list[ShotText]) -> list[ShotText]:
    """Fold pieces that only give direction into a shot of the prompt.

    A direction sentence belongs to the shot before it ("The cat sleeps. Slow push in."),
    and a transition in it leads out of that shot, unless the prompt opens with direction
    ("Slow push in. The cat sleeps."): that writer puts direction first, so each direction
    sentence goes to the shot after it.
    """
    # Title lines ("A launch day story.", folded or all title words) say nothing about the
    # writer's style; a shot sentence with a title word ("at the launch pad") does.
    first = next((p for p in pieces if not (p.title_like and (p.direction_only or p.words <= vocab.TITLE_WORDS))),
                 None)
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
