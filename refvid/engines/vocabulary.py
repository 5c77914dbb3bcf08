"""The words the engines understand in a prompt, in one place.

Each table maps a regular expression to what it asks for. Patterns are matched
case-insensitively on word boundaries: ``first_match`` takes the entry found earliest in
the text (the prompt's own order), ``any_match`` the first entry of the table found at all.
"""

from __future__ import annotations

import re

Table = list[tuple[re.Pattern[str], str]]


def _table(entries: list[tuple[str, str]]) -> Table:
    return [(re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), value) for pattern, value in entries]


# Phrases that start a new shot inside a sentence; kept with the text that follows them.
SHOT_CUES = re.compile(
    r"(?:,\s*|\s+|^)(?=\b(?:and then|then|cut(?:s|ting)? to|next(?! to\b)|finally|"
    r"after that|afterwards|later|close[- ]?up on|meanwhile|"
    r"(?:whip(?:[- ]?pans?)?|swish(?: pans?)?|dissolv(?:e|es|ing)|cross[- ]?fad(?:e|es|ing)|"
    r"transition(?:s|ing)?|switch(?:es|ing)?|match[- ]cuts?) (?:in)?to\b(?! black))\b)"
    # "back to" starts a shot only after a comma: "pull back to reveal" is a camera move.
    r"|(?:,\s*|^)(?=\bback to\b)",
    re.IGNORECASE,
)
BARE_CUE = re.compile(r"(?:\s*\b(?:and then|then|next|finally|after that|afterwards|later|meanwhile)\b)+", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
BACK_TO = re.compile(r"\b(?:back to|return(?:s|ing)? to|again)\b", re.IGNORECASE)

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
# "One continuous shot", "a single take", "no cuts": the whole video is one shot.
ONE_SHOT = re.compile(
    r"\b(?:(?:in )?(?:one|a single|1)[- ](?:continuous |long |unbroken |uncut )?(?:shot|take)|single[- ]take|"
    r"one[- ]?(?:shot|take|er)|continuous shot|no cuts|without (?:a )?cuts?|uncut)\b",
    re.IGNORECASE,
)
# "Two shots: ...", "in 3 scenes": how many shots the whole video has.
SHOT_COUNT = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|[1-9]|1[0-9])[- ](?:shots|scenes)\b",
                        re.IGNORECASE)
COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
               "ten": 10}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
}
_NOUN = r"(?:reference image|reference|ref|image|img|picture|pic|photo|photograph)"
MENTION_PATTERNS = [
    re.compile(rf"\b{_NOUN}\s*(?:#|no\.?\s*)?\s*(\d+|one|two|three|four|five|six|seven)\b", re.IGNORECASE),
    re.compile(r"(?<![\w@])@\s*(?:image|img|ref)?\s*(\d+)\b", re.IGNORECASE),
    re.compile(
        rf"\b(first|second|third|fourth|fifth|sixth|seventh|last)\s+(?:{_NOUN}|one)\b", re.IGNORECASE
    ),
]

FRAMINGS = _table(
    [
        (r"extreme close[- ]?up|close[- ]?ups?|closeup|detail(?: shot)?|macro|tight shot|up close|"
         r"(?<=in on )(?:(?:the|her|his|their|its) )?(?:\w+'s )?(?:face|eyes)", "close-up"),
        (r"medium(?: close[- ]?up)?(?: shot)?|mid[- ]shot|waist[- ]up|half[- ]body", "medium"),
        (r"wide(?: shot| angle)?|establishing(?: shot)?|full shot|long shot|panoram\w*|landscape shot", "wide"),
    ]
)

MOVES = _table(
    [
        (r"dolly[- ]?zoom\w*|vertigo (?:effect|shot|zoom)|zolly|contra[- ]?zoom|trombone shot", "dolly_zoom"),
        (r"static|locked[- ]off|still camera|still shot|(?:on|from) a tripod|tripod shot|fixed camera|no camera (?:movement|motion)", "static"),
        (r"hand[- ]?held|shaky cam\w*|documentary style", "handheld"),
        (r"orbit\w*|arc(?:s|ing)? (?:around|shot)|circl\w* around|around (?:him|her|it|them)|360|"
         r"rotat(?:es|ing|ion)|turntable|spins? (?:around|slowly)|revolv(?:es|ing) around", "orbit"),
        (r"crane\w*(?: up)?|rises|rising|ascend\w*|boom up|pedestal up|lifts? up", "crane_up"),
        (r"zoom(?:s|ing)? out|pull(?:s|ing)? (?:back|out)|dolly(?:ing)? out|reveal\w*|widen\w*", "pull_out"),
        (r"zoom(?:s|ing)? in(?:to)?|push(?:es|ing)? in|dolly(?:ing)? in|moves? (?:in|closer)|slow zoom|zoom\w*", "push_in"),
        (r"pan(?:s|ning)? (?:to the )?left|pan(?:s|ning)? leftwards?", "pan_left"),
        (r"pan(?:s|ning)? (?:to the )?right|pan(?:s|ning)? rightwards?", "pan_right"),
        (r"(?<!whip )(?<!whip-)(?<!swish )pan(?:s|ning|oramic pan)?", "pan"),
        (r"tilt(?:s|ing)? up(?:wards?)?", "tilt_up"),
        (r"tilt(?:s|ing)? down(?:wards?)?", "tilt_down"),
        (r"tilt(?:s|ing)?", "tilt"),
        (r"(?:truck|track|slide|crab)(?:s|ing)? (?:to the )?left", "truck_left"),
        (r"(?:truck|track|slide|crab)(?:s|ing)? (?:to the )?right", "truck_right"),
        (r"truck\w*|tracking(?: shot)?|track(?:s)? (?:with|along)|dolly(?: shot)?|sliding shot", "truck"),
    ]
)

# Moves the engine picks from (seeded) where the prompt names none: gentle, subject-friendly.
DEFAULT_MOVES = ("push_in", "pull_out", "pan_left", "pan_right", "truck_left", "truck_right", "push_in")

TRANSITIONS_IN = _table(
    [
        (r"whip[- ]?pan\w*|swish\w*|whip\w*", "whip"),
        (r"fade(?:s|d)? (?:in|up) from black|fade(?:s|d)? in|from black", "fade"),
        (r"dissolv\w*|cross[- ]?fad\w*|blend\w*|smooth(?:ly)? (?:transition\w*|into|to)|morph\w*|melts? into", "crossfade"),
        (r"hard cut|smash cut|cut(?:s|ting)? to|jump cut", "cut"),
    ]
)
TRANSITIONS_OUT = _table(
    [(r"fade(?:s|d)? (?:out|to black|through black)|to black|dip to black|fade-out", "fade")]
)
# Words that end the video: "fade to black" / "fade out" at the close of the prompt.
ENDING = re.compile(r"\b(?:fade(?:s|d)? (?:out|to black)|fade-out|dip to black|to black|the end)\b", re.IGNORECASE)
# Words about the transitions in general ("smooth", "hard cuts", "whip pans") set the
# default for every boundary; a transition named in one shot's text only applies there.
TRANSITION_STYLE = _table(
    [
        (r"whip[- ]?pans|swish pans|whip[- ]?pan transitions?|(?:whip[- ]?pans?|swish(?: pans?)?) "
         r"(?:between|for|on|at) (?:all |every |each )?(?:shots?|scenes?|cuts?|transitions?)", "whip"),
        (r"fades? (?:through|to) black between|dips? to black between|fade transitions?|"
         r"fades? between (?:all |every |each )?(?:shots?|scenes?)", "fade"),
        (r"smooth(?:ly)?|seamless\w*|dissolves|cross[- ]?fades|blend\w*|dreamy|flowing|"
         r"(?:dissolves?|cross[- ]?fades?) between (?:all |every |each )?(?:shots?|scenes?)", "crossfade"),
        (r"hard cuts|quick cuts|fast cuts|jump cuts|snappy|cut transitions?|all cuts|only cuts|"
         r"cuts? (?:between|for) (?:all |every |each )?(?:shots?|scenes?)", "cut"),
    ]
)

# The API's own amplitude names, said in words: "large movement", "small camera moves".
_MOVEMENT = r"(?:camera )?(?:movements?|motions?|moves?)"
AMPLITUDE_WORDS = _table(
    [
        (rf"(?:large|big|bold|strong|lots of|plenty of|more) {_MOVEMENT}", "large"),
        (rf"(?:medium|moderate|normal|some) {_MOVEMENT}", "medium"),
        (rf"(?:small|minimal|little|tiny|less|not much|slight) {_MOVEMENT}", "small"),
        (r"dramatic\w*|fast|quick\w*|rapid\w*|energetic\w*|dynamic|sweeping|intense\w*|wild\w*|frantic\w*|action", "large"),
        (r"gentl\w*|slow\w*|subtl\w*|calm\w*|soft\w*(?!\s+focus)|still|quiet\w*|serene|peaceful\w*|delicate\w*|barely", "small"),
    ]
)

GRADES = _table(
    [
        (r"black and white|black-and-white|b&w|monochrome|greyscale|grayscale|noir", "noir"),
        (r"vintage|retro|film(?: look| grain| stock)?|old (?:film|movie|footage|photo)s?|old[- ]fashioned|"
         r"classic (?:film|movie)|home movie|faded|sepia|nostalgic|70s|1970s", "vintage"),
        (r"golden hour|sunset|sunrise|dawn|warm\w*|sunny|sunlit|sunshine|cozy|candle\w*", "warm"),
        (r"night\w*|moonlit|moonlight|cool|cold|blue hour|dusk|twilight|icy|winter|rainy|midnight", "cool"),
    ]
)


# A shallow depth of field: the background behind a cut-out subject is drawn out of focus.
SHALLOW_FOCUS = _table(
    [(r"shallow (?:depth of field|focus|dof)|bokeh|soft focus|portrait mode|(?:blurr?(?:ed|y)|defocused|"
      r"out[- ]of[- ]focus) background|background (?:blur|out of focus)|background blurr?(?:ed|y)", "shallow")]
)

# The frame's shape said in words; the request's ``aspect_ratio`` decides it, so a prompt that
# asks for another is told so.
ASPECT_WORDS = _table(
    [
        (r"9\s*:\s*16|vertical (?:video|format|frame|reel)|portrait (?:format|orientation)|"
         r"(?:instagram|tiktok|youtube) (?:reels?|shorts?|story|stories)", "9:16"),
        (r"16\s*:\s*9|widescreen|horizontal (?:video|format|frame)|landscape (?:mode|format|orientation)", "16:9"),
        (r"1\s*:\s*1|square (?:video|format|frame)", "1:1"),
    ]
)

# Things people and animals do that a camera over a still picture cannot show (states such as
# smiling, looking or sleeping are what the picture already shows, so they are not listed).
ACTIONS = re.compile(
    r"\b(?:walk(?:s|ing)?|runs?|running|jump(?:s|ing)?|danc(?:e|es|ing)|wav(?:e|es|ing)|"
    r"winks?|winking|nod(?:s|ding)?|drink(?:s|ing)?|eat(?:s|ing)?|pick(?:s|ing)? up|throw(?:s|ing)?|"
    r"kick(?:s|ing)?|fl(?:y|ies|ying)|swim(?:s|ming)?|climb(?:s|ing)?|sits? down|stands? up|"
    r"turn(?:s|ing)? (?:her|his|its|their) head|hug(?:s|ging)?|kiss(?:es|ing)?|clap(?:s|ping)?|"
    r"talk(?:s|ing)?|speak(?:s|ing)?|sing(?:s|ing)?|play(?:s|ing) (?:the|a|with)|pour(?:s|ing)?|sip(?:s|ping)?)\b",
    re.IGNORECASE,
)

# Camera words the motion engine cannot honour, with the reason the plan gives: it moves a
# camera over still pictures, so it cannot change where they were taken from, their focus
# or what happens in them.
_VIEWPOINT = "the camera moves over your pictures and cannot change the angle they were taken from"
UNSUPPORTED = _table(
    [
        (r"bird'?s?[- ]eye(?: view| shot)?|overhead (?:shot|view|angle)|top[- ]down(?: view| shot)?|"
         r"aerial (?:shot|view)|drone shot|low[- ]angle(?: shot| view)?|high[- ]angle(?: shot| view)?|"
         r"worm'?s?[- ]eye(?: view| shot)?|pov(?: shot)?|point[- ]of[- ]view(?: shot)?|"
         r"over[- ]the[- ]shoulder(?: shot)?|dutch angle|canted angle|fish[- ]?eye(?: lens)?",
         _VIEWPOINT),
        (r"rack focus|focus pull|pull focus|refocus\w*", "the pictures' focus cannot change"),
        (r"time[- ]?lapse|hyper[- ]?lapse|reverse motion|in reverse|rewind\w*",
         "the pictures themselves do not change over time"),
        (r"split[- ]screen", "one picture (or one composite scene) fills the frame at a time"),
    ]
)

# Words that make a sentence about the whole video rather than about one shot.
WHOLE_VIDEO = re.compile(
    r"\b(?:throughout|whole (?:video|film|clip|thing)|entire (?:video|film|clip)|all (?:the )?shots|"
    r"every shot|each shot|overall|the (?:video|film|clip) (?:is|has|feels|looks)|"
    r"between (?:all |every |each )?(?:shots?|scenes?))\b"
    # A labelled line ("Camera: handheld, close-ups.", "Style: warm.") directs the whole video.
    r"|^\s*(?:camera|style|look|mood|visuals?|shots?|framing|transitions?|grade|colou?rs?)\s*:",
    re.IGNORECASE,
)
# "10 seconds", "a 5-second clip": the video's length in words (the request's duration decides it).
DURATION_WORDS = re.compile(r"\b(5|10|five|ten)[- ](?:seconds?|secs?|s)\b", re.IGNORECASE)

# What references show, for casting by content. Each group names what a detector finds.
PERSON_WORDS = frozenset(
    ["man", "men", "woman", "women", "person", "people", "persons", "girl", "girls", "boy", "boys", "guy", "guys", "lady", "ladies", "child", "children", "kid", "kids", "baby", "toddler", "teen", "teenager", "he", "she", "him", "her", "his", "hers", "herself", "himself", "face", "faces", "portrait", "selfie", "smile", "smiles", "smiling", "laugh", "laughs", "laughing", "wave", "waves", "waving", "friend", "friends", "couple", "family", "mother", "father", "mom", "mum", "dad", "son", "daughter", "grandma", "grandpa", "grandmother", "grandfather", "engineer", "engineers", "astronaut", "astronauts", "pilot", "doctor", "nurse", "chef", "cook", "worker", "workers", "student", "students", "teacher", "model", "models", "dancer", "dancers", "singer", "musician", "athlete", "runner", "player", "officer", "soldier", "firefighter", "farmer", "scientist", "artist", "businessman", "businesswoman", "customer", "host", "presenter", "bride", "groom", "character", "hero", "heroine", "actor", "actress", "traveler", "traveller", "tourist", "hiker", "surfer", "skier", "rider", "driver", "uniform", "crew", "commander", "captain", "gentleman"]
)
PERSON_WORDS_MORE = frozenset(
    ["photographer", "videographer", "barista", "waiter", "waitress", "baker", "butcher", "vendor", "shopkeeper", "seller", "police", "detective", "king", "queen", "prince", "princess", "knight", "monk", "priest", "nun", "boxer", "climber", "swimmer", "skater", "golfer", "gamer", "programmer", "developer", "designer", "architect", "lawyer", "judge", "mechanic", "carpenter", "plumber", "electrician", "gardener", "sailor", "explorer", "professor", "coach", "parent", "parents", "wife", "husband", "brother", "sister", "uncle", "aunt", "cousin", "boyfriend", "girlfriend", "elder", "elderly", "grandparents", "human", "humans", "individual", "adult", "adults", "founder", "ceo", "employee", "staff", "colleague", "colleagues", "volunteer", "fan", "fans", "audience", "passenger", "stranger", "neighbour", "neighbor", "villager", "warrior", "wizard", "witch", "pirate", "cowboy", "cowgirl", "influencer", "vlogger", "streamer", "speaker", "narrator", "owner"]
)
# Compounds that name people: cameraman, firewoman, salesperson, cyclist, pianist.
_PERSON_ENDINGS = re.compile(r"(?:\w{3,}(?:man|woman|women|person|people)|\w{2,}men|\w{4,}ist)")
_NOT_PEOPLE = frozenset(
    ["specimen", "abdomen", "regimen", "stamen", "ottoman", "yemen", "resist", "insist", "persist", "consist", "subsist",
     "playlist", "checklist", "wishlist", "shortlist", "blacklist", "whitelist", "watchlist", "tracklist", "setlist"]
)


def person_words(words: frozenset[str] | set[str]) -> set[str]:
    """The words among ``words`` that name a person: the list above, or a compound such as *cameraman*."""
    return {
        w for w in words
        if w in PERSON_WORDS or w in PERSON_WORDS_MORE or (_PERSON_ENDINGS.fullmatch(w) and w not in _NOT_PEOPLE)
    }


# Words that name the same kind of thing, for matching a prompt's words to a file name's
# ("the espresso" finds coffee.png, "the puppy" finds dog.webp). Singular forms only.
RELATED_WORDS: tuple[frozenset[str], ...] = tuple(frozenset(group.split()) for group in (
    "coffee espresso latte cappuccino americano mocha macchiato brew mug cup",
    "tea teacup teapot matcha",
    "car auto automobile vehicle sedan suv coupe convertible",
    "motorcycle motorbike bike scooter moped",
    "bicycle bike cycle",
    "dog puppy pup doggy hound pooch",
    "cat kitten kitty feline",
    "house home cottage cabin villa",
    "beach shore seaside coast sand",
    "sea ocean wave waves",
    "mountain mountains peak summit hill",
    "forest woods wood trees woodland",
    "city town street downtown skyline",
    "rocket spaceship spacecraft shuttle",
    "astronaut spaceman cosmonaut",
    "phone smartphone iphone mobile cellphone",
    "laptop computer notebook macbook",
    "shoe shoes sneaker sneakers trainer trainers boot boots",
    "bag handbag purse backpack tote",
    "watch wristwatch smartwatch",
    "bottle flask",
    "perfume fragrance cologne scent",
    "cake dessert pastry cupcake",
    "burger hamburger cheeseburger",
    "pizza slice",
    "flower flowers bouquet rose roses blossom",
    "kitchen cafe cafeteria diner restaurant",
    "table desk counter",
    "chair sofa couch armchair bench seat",
    "book novel page pages",
    "boat ship yacht sailboat",
    "plane airplane aeroplane aircraft jet",
    "horse pony stallion mare",
    "bird parrot pigeon sparrow",
    "guitar bass ukulele",
    "camera cameraman photographer",
    "galaxy galaxies stars star cosmos universe nebula milkyway",
    "sky skies clouds cloud sunset sunrise",
    "moon lunar",
    "sun sunshine",
    "garden park lawn yard",
    "road highway",
    "lake river pond",
    "snow snowy winter",
    "desert dunes dune",
    "office workplace",
    "bedroom bed",
    "food meal dish plate",
    "wine glass",
    "beer pint",
    "dress gown",
    "shirt tshirt tee",
    "jacket coat blazer",
    "hat cap beanie",
    "glasses sunglasses spectacles",
    "jewelry jewellery necklace earrings bracelet",
    "toy teddy doll",
    "robot android droid",
    "logo emblem",
))


CAT_WORDS = frozenset(["cat", "cats", "kitten", "kittens", "kitty", "tabby", "feline", "tomcat", "moggy"])
TEXT_WORDS = frozenset(
    ["book", "books", "page", "pages", "text", "words", "letter", "letters", "newspaper", "magazine", "document", "documents", "sign", "signs", "menu", "poster", "posters", "headline", "label", "notebook", "note", "notes", "writing", "handwriting", "manuscript", "recipe"]
)
COLOUR_WORDS = {
    "red": "red", "crimson": "red", "scarlet": "red", "ruby": "red", "cherry": "red",
    "orange": "orange", "amber": "orange", "copper": "orange",
    "yellow": "yellow", "golden": "yellow", "gold": "yellow", "lemon": "yellow", "mustard": "yellow",
    "green": "green", "emerald": "green", "lime": "green", "olive": "green", "mint": "green",
    "blue": "blue", "navy": "blue", "azure": "blue", "cobalt": "blue", "sapphire": "blue",
    "teal": "teal", "turquoise": "teal", "cyan": "teal", "aqua": "teal",
    "purple": "purple", "violet": "purple", "lilac": "purple", "lavender": "purple", "plum": "purple",
    "pink": "pink", "magenta": "pink", "rose": "pink", "fuchsia": "pink",
    "brown": "brown", "beige": "brown", "tan": "brown", "chocolate": "brown", "wooden": "brown",
    "black": "black", "white": "white", "grey": "grey", "gray": "grey", "silver": "grey",
}
# A sentence made of these (with no mention and nothing a reference shows) is a title or a
# mood line, not a shot: "A story of a summer trip.", "Our new collection."
TITLE_WORDS = frozenset(
    ["story", "stories", "tale", "journey", "adventure", "adventures", "collection", "introducing", "presenting", "presents", "welcome", "memories", "memory", "trip", "trips", "diary", "chronicle", "lookbook", "campaign", "launch", "teaser", "trailer", "montage", "highlights", "recap", "celebration", "ode", "edition", "season", "summer", "winter", "spring", "autumn", "fall", "holiday", "holidays", "vacation", "weekend", "day", "life", "moments", "moment", "our", "new", "presents", "brand", "dream", "dreams", "commercial", "advert", "advertisement", "ad", "promo", "promotional", "reel", "showcase", "intro", "movie", "movies",
     "social", "media", "instagram", "tiktok", "youtube", "shorts", "vertical", "horizontal", "widescreen", "format"]
)
# Words about light, mood and style: they direct every shot and name no subject.
MOOD_WORDS = frozenset(
    ["light", "lights", "lighting", "lit", "tones", "tone", "colours", "colors", "colour", "color", "palette", "mood", "moody", "atmosphere", "atmospheric", "vibe", "vibes", "feel", "feeling", "feelings", "aesthetic", "cinematic", "look", "looks", "style", "styled", "grade", "graded", "footage", "music", "soundtrack", "shadows", "contrast", "saturated", "desaturated", "bright", "glow", "glowing", "hazy", "haze", "vibrant", "muted", "pastel", "ambience", "ambiance",
     # Feelings and production values: how it should feel, not what it shows.
     "shaky", "wobbly", "upbeat", "epic", "playful", "joyful", "cheerful", "fun", "melancholic", "melancholy",
     "romantic", "mysterious", "eerie", "elegant", "luxurious", "minimalist", "sleek", "stylish", "polished",
     "professional", "dreamlike", "surreal", "whimsical", "suspenseful", "uplifting", "inspiring",
     "inspirational", "emotional", "tender", "colorful", "colourful", "crisp", "photorealistic",
     "realistic", "stunning", "gorgeous", "beautiful", "lush", "hd", "4k", "8k", "quality"]
)


def first_match(table: Table, text: str) -> str | None:
    """The value of the first entry in ``table`` whose pattern occurs in ``text``."""
    best: tuple[int, str] | None = None
    for pattern, value in table:
        found = pattern.search(text)
        # Earliest position wins between entries; table order breaks ties.
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), value)
    return None if best is None else best[1]


def all_matches(table: Table, text: str) -> list[tuple[str, str]]:
    """Every (value, matched words) of ``table`` in ``text``, in the prompt's order, no overlaps."""
    found: list[tuple[int, int, str, str]] = []
    for pattern, value in table:
        for match in pattern.finditer(text):
            found.append((match.start(), -(match.end() - match.start()), value, match.group(0)))
    found.sort()
    out: list[tuple[str, str]] = []
    end = -1
    for start, negative_length, value, words in found:
        if start >= end:  # the longest match at a position wins; overlapping shorter ones go
            out.append((value, words))
            end = start - negative_length
    return out


def any_match(table: Table, text: str) -> str | None:
    """The value of the first entry (in table order) that occurs anywhere in ``text``."""
    for pattern, value in table:
        if pattern.search(text):
            return value
    return None


_DIRECTION_TABLES = (UNSUPPORTED, SHALLOW_FOCUS, FRAMINGS, MOVES, TRANSITIONS_IN, TRANSITIONS_OUT, TRANSITION_STYLE,
                     AMPLITUDE_WORDS, GRADES)


def strip_vocabulary(text: str) -> str:
    """``text`` without the words of every table: what is left describes the subject."""
    for table in _DIRECTION_TABLES:
        for pattern, _ in table:
            text = pattern.sub(" ", text)
    return text


def mask_vocabulary(text: str) -> str:
    """``text`` with the words of every table blanked out, every other word where it was."""
    for table in _DIRECTION_TABLES:
        for pattern, _ in table:
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text
