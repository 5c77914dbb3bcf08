"""The per-reference analysis: the main subject cut out, its background filled, its faces read.

``cutout(image)`` runs once per distinct picture (cached by content hash for the process)
and never raises for a picture it cannot use: it returns a :class:`Cutout` with ``failed``
set and a short ``reason``, and the engine shows that reference as a flat shot. Only a
missing model file raises (:class:`~refvid.vision.models.ModelMissing`, naming `make models`).

People come first: MediaPipe's face detectors and person segmentation. Other subjects
(objects, animals) are cut out with GrabCut when they stand apart from a plain or distinct
background, seeded by how far each pixel's colour is from the picture's border colours.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Final

import cv2
import numpy as np

from refvid.vision import fill, matte
from refvid.vision.detect import content_key, load_cascades
from refvid.vision.faces import Face, detect_faces
from refvid.vision.landmarks import FaceLandmarks, face_landmarks

WORK_SIDE: Final = 640  # long side at which models, GrabCut and the matte's coefficients run
GRABCUT_SIDE: Final = 200  # GrabCut's cost grows fast with pixels; the guided filter restores the edges
FILL_SIDE: Final = 768  # finest level of the background fill
CACHE_SIZE: Final = 6
# Layers of a bigger picture (a long banner or panorama: 1920 x 7360 after decoding) would hold
# a full-size matte, foreground and plate each (~140 MB) in the cache and in every worker; such
# pictures are shown as shots. Ordinary photos after decoding (1920 px short side, 4:3 or 16:9:
# 4.9-6.6 MP) are analysed.
MAX_PIXELS: Final = 8_000_000
EDGE_BAND: Final = 0.05  # share of the long side along the picture's edge where a person pixel needs ...
EDGE_CONFIDENCE: Final = 0.8  # ... at least this probability (elsewhere 0.5), or the colour of
EDGE_COLOUR: Final = 20.0  # ... the confident person pixels around it (Lab distance below this)
MIN_AREA: Final = 0.02  # a subject smaller than this share of the picture is not worth a layer
# GrabCut finding only a fragment means no object stands apart (a close-up, a busy picture).
MIN_OBJECT_AREA: Final = 0.05
PERSON_SHOT_AREA: Final = 0.7  # a person covering more of the picture is shown as a shot
OBJECT_SHOT_AREA: Final = 0.55
CLOSE_UP_FACE: Final = 0.4  # face height / picture height beyond which a portrait is a close-up
MIN_CONTRAST: Final = 12.0  # Lab distance between subject and background at the cut edge
# Share of an object's pixels whose colour is commoner in its background than in itself.
# Beyond it the cut ran through the subject (a close-up: the bundled cat scores 0.42,
# the cup on its table 0.09, the astronaut seen as an object 0.25).
MAX_CONFUSION: Final = 0.35


@dataclass(frozen=True, eq=False)
class Cutout:
    """The main subject of one reference image, and the picture without it.

    All arrays are at the image's own size and read-only (they are shared through the cache).
    Colours are RGB, like :class:`refvid.references.Reference` images.
    """

    kind: str  # "person", "object", or "none" when nothing was found
    presentation: str  # "cutout": usable as a layer; "shot": show the picture as it is
    reason: str  # why this presentation (or why the analysis failed), one short sentence
    failed: bool
    matte: np.ndarray  # float32 (H, W) in 0..1: the subject's soft alpha
    foreground: np.ndarray  # uint8 (H, W, 3) RGB: subject colours, the old background removed at edges
    plate: np.ndarray  # uint8 (H, W, 3) RGB: the picture with the subject removed, hole filled
    box: tuple[int, int, int, int] | None = None  # subject's bounding box (x0, y0, x1, y1), px
    faces: tuple[Face, ...] = ()
    landmarks: tuple[FaceLandmarks, ...] = ()  # for the faces large enough to read, largest first
    touches: tuple[str, ...] = ()  # picture edges the subject is cut by: "top", "bottom", "left", "right"
    seconds: float = field(default=0.0, compare=False)

    @property
    def usable(self) -> bool:
        """True when the subject can be used as its own layer."""
        return not self.failed and self.presentation == "cutout"

    def on_background(self, rgb: tuple[int, int, int]) -> np.ndarray:
        """The subject over a flat colour (uint8 RGB, image size), e.g. white for a VACE reference.

        When there is no subject to isolate (a failed analysis, a close-up with no matte) the
        picture comes back as it is.
        """
        if self.failed or not self.matte.any():
            return np.array(self.foreground)
        alpha = self.matte[:, :, None]
        colour = np.asarray(rgb, np.float32).reshape(1, 1, 3)
        out = colour + alpha * (self.foreground.astype(np.float32) - colour)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


_cache: OrderedDict[str, Cutout] = OrderedDict()
_cache_lock = threading.Lock()
_running: dict[str, threading.Event] = {}  # pictures being analysed now, by content key


def cutout(image: np.ndarray) -> Cutout:
    """The analysis of an RGB uint8 (H, W, 3) picture, computed once per distinct picture.

    A call for a picture another thread is analysing waits for that result instead of
    computing it again (the engine starts the analyses early, on two threads of their own).
    """
    key = content_key(image)
    while True:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
            running = _running.get(key)
            if running is None:
                running = _running[key] = threading.Event()
                break
        running.wait()  # then the cache has it, or that analysis raised and this one retries
    try:
        result = analyse(image)
        with _cache_lock:
            _cache[key] = result
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    finally:
        with _cache_lock:
            del _running[key]
        running.set()
    return result


def forget(image: np.ndarray) -> None:
    """Drop the cached analysis of ``image``, if any: the next :func:`cutout` of it computes it again.

    An analysis holds a full-size matte, foreground and plate (about 50 MB for a 12 MP photo
    after decoding). The motion engine needs them only until its sources are prepared, and a
    process that renders job after job would otherwise keep up to :data:`CACHE_SIZE` of them.
    A caller still holding the :class:`Cutout` keeps it; an analysis in progress is not affected.
    """
    key = content_key(image)
    with _cache_lock:
        _cache.pop(key, None)


def warm_up() -> None:
    """Build now what the first analysis of a fresh process would otherwise build on its way.

    About 0.1 s of one core in OpenCV, with the GIL released, that changes no result: the
    8-bit Lab tables (built on the first conversion, 0.08 s) and the Haar cascades read from
    their files. The engine runs this on a spare thread while the references decode.
    (SciPy's import, 0.25 s for the fill, is not started here: it is Python and would hold
    the GIL the decoding thread needs between its C calls.)
    """
    cv2.cvtColor(np.zeros((1, 1, 3), np.uint8), cv2.COLOR_RGB2LAB)
    load_cascades()


def failed(image: np.ndarray, reason: str) -> Cutout:
    """The analysis of a picture with no usable subject: shown as it is."""
    height, width = image.shape[:2]
    return _frozen(Cutout("none", "shot", reason, True, np.zeros((height, width), np.float32),
                          image, image))


def analyse(image: np.ndarray) -> Cutout:
    """:func:`cutout` without the cache."""
    import time

    start = time.perf_counter()
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 16:
        return failed(np.zeros((16, 16, 3), np.uint8) if image.ndim != 3 else image,
                      "not an RGB picture of at least 16x16 pixels")
    height, width = image.shape[:2]
    if height * width > MAX_PIXELS:
        return _frozen(replace(failed(image, f"the picture is too large for layers ({width}x{height}, over "
                                      f"{MAX_PIXELS / 1e6:.0f} MP): shown as a shot"), failed=False))
    scale = min(1.0, WORK_SIDE / max(height, width))
    work = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                      interpolation=cv2.INTER_AREA) if scale < 1 else image
    gray = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    if float(gray.std()) < 4.0:
        return failed(image, "the picture is nearly uniform: there is no subject to cut out")
    faces = tuple(_scale_face(f, 1 / scale) for f in detect_faces(work))
    subject: np.ndarray | str | None = _person(work, faces, scale) if faces else None
    kind = "person"
    if subject is None:
        subject, kind = _object(work), "object"
    if isinstance(subject, str):
        return _frozen(_with_faces(failed(image, subject), faces))
    if kind == "object" and _colour_confusion(work, subject) > MAX_CONFUSION:
        return _frozen(replace(failed(image, "the subject fills the frame or blends into its surroundings: "
                                      "shown as a shot"), failed=False, kind="object", faces=faces))
    coarse = subject
    area = float(coarse.mean())
    if kind == "object" and area < MIN_OBJECT_AREA:
        # Not a failure: the picture is shown whole, as a shot.
        return _frozen(replace(failed(image, "no subject stands apart from the background "
                                      "(a close-up or a busy picture): shown as a shot"),
                               failed=False, kind="object", faces=faces))
    if area < MIN_AREA:
        return _frozen(_with_faces(failed(image, "the subject is too small to cut out"), faces))

    radius = max(2, round(max(work.shape[:2]) / 80))
    a, b = matte.refine(work, coarse.astype(np.float32), radius, eps=1e-3)
    work_alpha = matte.sharpen(matte.apply_coefficients(work, a, b), 0.15, 0.85)
    alpha = matte.upsample(image, work_alpha, a, b, (0.15, 0.85)) if scale < 1 else work_alpha
    if kind != "person" and _edge_contrast(work, work_alpha) < MIN_CONTRAST:
        return _frozen(_with_faces(failed(image, "the subject does not stand out from its background"), faces))
    # Smooth by construction, so estimated at half the working size.
    half = (max(1, work.shape[1] // 2), max(1, work.shape[0] // 2))
    fg_estimate, bg_estimate = matte.estimate_colours(
        cv2.resize(work, half, interpolation=cv2.INTER_AREA),
        cv2.resize(work_alpha, half, interpolation=cv2.INTER_AREA), max(1, radius // 4))
    foreground = matte.foreground_colour(image, alpha, fg_estimate, bg_estimate)
    grow = max(3, round(max(work.shape[:2]) / 60)) | 1
    hole = cv2.dilate((work_alpha > 0.02).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) > 0
    plate = fill.fill_background(image, hole, FILL_SIDE)

    box = _bounding_box(work_alpha > 0.5, 1 / scale, width, height)
    touches = _touches(work_alpha > 0.5)
    landmarks = tuple(lm for lm in (face_landmarks(image, f) for f in faces[:3]) if lm is not None)
    presentation, reason = _presentation(kind, area, faces, height, touches)
    return _frozen(Cutout(kind, presentation, reason, False, alpha, foreground, plate, box, faces,
                          landmarks, touches, time.perf_counter() - start))


def _person(work: np.ndarray, faces: tuple[Face, ...], scale: float) -> np.ndarray | None:
    """The person mask (bool, work size) when the segmentation agrees with a detected face."""
    probability = matte.person_probability(work)
    mask = probability > 0.5
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    for face in faces:
        x0, y0, x1, y1 = (round(v * scale) for v in face.box)
        region = labels[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
        if region.size and (region > 0).mean() > 0.3:
            keep[np.unique(region[region > 0])] = True
    if not keep.any():
        return None
    return _without_border_slivers(work, keep[labels], probability)


def _without_border_slivers(work: np.ndarray, mask: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """The person mask without doubtful pixels along the picture's edge that do not look like the person.

    Beside an arm that reaches the edge, the segmentation takes the strip of background
    between the arm and the edge (a flag's stripes beside the astronaut) at a middling
    probability (0.4-0.7, where the arm itself is 1.0). In a band along the edge, a pixel the
    model doubts is dropped when its colour is far from the confident person pixels around
    it; a coat cut by the edge that the model doubts looks like the rest of the coat, and stays.
    """
    height, width = mask.shape
    band = max(2, round(max(height, width) * EDGE_BAND))
    near_edge = np.zeros(mask.shape, bool)
    near_edge[:band], near_edge[-band:], near_edge[:, :band], near_edge[:, -band:] = True, True, True, True
    doubtful = mask & near_edge & (probability < EDGE_CONFIDENCE)
    if not doubtful.any():
        return mask
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float32)
    confident = (mask & (probability >= 0.95)).astype(np.float32)
    side = (4 * band + 1, 4 * band + 1)
    weight = cv2.boxFilter(confident, -1, side, normalize=False)
    local = cv2.boxFilter(lab * confident[:, :, None], -1, side, normalize=False) / np.maximum(weight, 1e-3)[:, :, None]
    foreign = doubtful & (weight > 0) & (np.linalg.norm(lab - local, axis=2) > EDGE_COLOUR)
    # A strip, not specks: small disagreements (a strap, a shadow at the bottom edge of a
    # bust) would leave notches in the cut-out's edge.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(foreign.astype(np.uint8), connectivity=8)
    strips = stats[:, cv2.CC_STAT_AREA] >= band * band
    strips[0] = False
    return mask & ~strips[labels]


def _object(work: np.ndarray) -> np.ndarray | str:
    """An object's mask (bool, work size) from GrabCut seeded by border-colour contrast, or why not."""
    height, width = work.shape[:2]
    scale = min(1.0, GRABCUT_SIDE / max(height, width))
    small = cv2.resize(work, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else work
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = lab.shape[:2]
    ring = max(2, round(min(h, w) * 0.03))
    border = np.concatenate([lab[:ring].reshape(-1, 3), lab[-ring:].reshape(-1, 3),
                             lab[:, :ring].reshape(-1, 3), lab[:, -ring:].reshape(-1, 3)])
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(border, 4, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    distance = np.min(np.linalg.norm(lab[:, :, None, :] - centres[None, None], axis=3), axis=2)
    distance = cv2.GaussianBlur(distance, (0, 0), max(1.0, min(h, w) / 100))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    prior = np.exp(-(((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) / (2 * 0.3**2)))
    saliency = distance * (0.5 + 0.5 * prior)
    if float(saliency.max()) < MIN_CONTRAST:
        return "the subject does not stand out from its background"
    seed = saliency > max(MIN_CONTRAST, float(saliency.max()) * 0.35)
    ys, xs = np.nonzero(seed)
    margin = round(0.05 * max(h, w))
    box = (max(1, xs.min() - margin), max(1, ys.min() - margin), min(w - 1, xs.max() + 1 + margin),
           min(h - 1, ys.max() + 1 + margin))
    if box[2] - box[0] < 4 or box[3] - box[1] < 4:
        return "no distinct subject"
    mask = matte.grabcut_mask(small, box, probable=seed)
    # The largest connected part is the subject; specks GrabCut leaves elsewhere are not.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count < 2:
        return "no distinct subject"
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = labels == largest
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST) > 0


def _edge_contrast(work: np.ndarray, alpha: np.ndarray) -> float:
    """Mean Lab distance between the subject just inside its edge and the background just outside."""
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float32)
    inside = alpha > 0.5
    width = max(2, round(max(work.shape[:2]) / 100)) * 2 + 1
    kernel = np.ones((width, width), np.uint8)
    inner = inside & ~(cv2.erode(inside.astype(np.uint8), kernel) > 0)
    outer = ~inside & (cv2.dilate(inside.astype(np.uint8), kernel) > 0)
    if not inner.any() or not outer.any():
        return 0.0
    inner_colour = cv2.blur(lab * inside[:, :, None], (15, 15)) / np.maximum(cv2.blur(inside.astype(np.float32), (15, 15)), 1e-3)[:, :, None]
    outer_colour = cv2.blur(lab * ~inside[:, :, None], (15, 15)) / np.maximum(cv2.blur((~inside).astype(np.float32), (15, 15)), 1e-3)[:, :, None]
    edge = (cv2.dilate(inner.astype(np.uint8), kernel) > 0) & (cv2.dilate(outer.astype(np.uint8), kernel) > 0)
    return float(np.linalg.norm(inner_colour[edge] - outer_colour[edge], axis=1).mean())


def _colour_confusion(work: np.ndarray, mask: np.ndarray) -> float:
    """Share of the subject's pixels whose (coarsely binned) Lab colour is commoner outside it."""
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB) // 32
    bins = lab[:, :, 0].astype(np.int32) * 64 + lab[:, :, 1].astype(np.int32) * 8 + lab[:, :, 2]
    inside = np.bincount(bins[mask], minlength=512) / max(1, int(mask.sum()))
    outside = np.bincount(bins[~mask], minlength=512) / max(1, int((~mask).sum()))
    return float((outside[bins[mask]] > inside[bins[mask]]).mean())


def _presentation(kind: str, area: float, faces: tuple[Face, ...], height: int,
                  touches: tuple[str, ...]) -> tuple[str, str]:
    if kind == "person":
        if faces and faces[0].height / height > CLOSE_UP_FACE:
            return "shot", f"a close-up: the face is {faces[0].height / height:.0%} of the picture's height"
        if area > PERSON_SHOT_AREA:
            return "shot", f"the person fills {area:.0%} of the picture"
        return "cutout", f"a person covering {area:.0%} of the picture, cut out"
    if area > OBJECT_SHOT_AREA or len(touches) >= 3:
        return "shot", f"the {kind} fills the frame ({area:.0%} of the picture)"
    return "cutout", f"an {kind} on a distinct background, cut out"


def _bounding_box(mask: np.ndarray, scale: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return None
    return (max(0, int(xs.min() * scale)), max(0, int(ys.min() * scale)),
            min(width, int(np.ceil((xs.max() + 1) * scale))), min(height, int(np.ceil((ys.max() + 1) * scale))))


def _touches(mask: np.ndarray) -> tuple[str, ...]:
    """The picture edges along which the subject runs for more than a tenth of the edge."""
    edges = {"top": mask[0], "bottom": mask[-1], "left": mask[:, 0], "right": mask[:, -1]}
    return tuple(name for name, line in edges.items() if line.mean() > 0.1)


def _scale_face(face: Face, factor: float) -> Face:
    return Face(tuple(v * factor for v in face.box), face.keypoints * factor, face.score)  # type: ignore[arg-type]


def _with_faces(result: Cutout, faces: tuple[Face, ...]) -> Cutout:
    return replace(result, faces=faces)


def _frozen(result: Cutout) -> Cutout:
    """The same result with read-only views of its arrays (the caller's image stays writable)."""
    def read_only(array: np.ndarray) -> np.ndarray:
        view = array.view()
        view.flags.writeable = False
        return view

    return replace(result, matte=read_only(result.matte), foreground=read_only(result.foreground),
                   plate=read_only(result.plate))
