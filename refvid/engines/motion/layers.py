"""A shot as layers: a background plate and a cut-out subject that move at different rates.

A reference with a usable cut-out (``refvid.vision.cutout``) is prepared once as two
layers on the same canvas: the plate (the picture with the subject removed and filled)
and the subject (its foreground colours and soft alpha). Each frame warps both with the
camera's window, the background's window moved less than the subject's (it is further
away), and blends them in I420. Whatever the subject uncovers comes from the filled
plate, so nothing black or undefined ever shows.

A composite puts the subject of one reference onto the canvas of another (the place):
scaled to a sensible share of the frame, its feet on the ground line (or a bust on the
bottom edge), colour-matched to the scene (Lab transfer), lit at its edges by the scene
(light wrap), with a soft contact shadow; then it is rendered like any layered shot.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from refvid.engines.motion.framing import Window
from refvid.media.color import rgb_to_yuv444, yuv444_to_planes
from refvid.vision.cutout import Cutout

# Share of the camera's movement the background follows, by movement amplitude: the
# subject moves with the camera, the plate by (1 - strength) of it.
PARALLAX_STRENGTH: Final = {"small": 0.2, "medium": 0.35, "large": 0.5}


Box4 = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixel indices, end exclusive


@dataclass(frozen=True, eq=False)
class Layers:
    """Planes of a layered canvas at working scale: background, subject colours and alpha."""

    background: tuple[np.ndarray, np.ndarray, np.ndarray]  # Y, U, V (U, V at half size)
    subject: tuple[np.ndarray, np.ndarray, np.ndarray]
    alpha: np.ndarray  # uint8 (0..255), luma size
    alpha_chroma: np.ndarray  # uint8 (0..255), chroma size
    # Where alpha is above zero (None: nowhere): each frame blends the subject only there.
    box: Box4 | None = None
    box_chroma: Box4 | None = None


def prepare_layers(background: np.ndarray, subject: np.ndarray, alpha: np.ndarray) -> Layers:
    """Split RGB canvases (same size) and the subject's alpha into the planes each frame warps."""
    by, bu, bv = yuv444_to_planes(rgb_to_yuv444(background))
    sy, su, sv = yuv444_to_planes(rgb_to_yuv444(subject))
    alpha = np.ascontiguousarray(alpha, np.float32)
    alpha_chroma = _to_255(cv2.resize(alpha, (bu.shape[1], bu.shape[0]), interpolation=cv2.INTER_AREA))
    alpha = _to_255(alpha)
    return Layers((by, bu, bv), (sy, su, sv), alpha, alpha_chroma, _nonzero_box(alpha), _nonzero_box(alpha_chroma))


def _to_255(alpha: np.ndarray) -> np.ndarray:
    # 8-bit alpha: a uint8 warp costs 2/3 of a float one and the blend stays in uint8; the
    # output is 8-bit, so a 1/255 step in alpha is below what a frame can show.
    return np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _nonzero_box(alpha: np.ndarray) -> Box4 | None:
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def background_window(window: Window, rest: Window, strength: float) -> Window:
    """Where the background's camera looks: the same move as the subject's, ``strength`` less of it.

    Pans, trucks and cranes move the background by (1 - strength) of the subject's travel;
    push-ins and pull-outs change its scale by that share of the zoom (in log scale), so
    the subject grows against a background that grows less, as with a real dolly.
    """
    keep = 1.0 - strength
    return Window(
        rest.cx + (window.cx - rest.cx) * keep,
        rest.cy + (window.cy - rest.cy) * keep,
        rest.w * math.exp(math.log(window.w / rest.w) * keep),
        window.angle,
    )


def composite(out_planes: tuple[np.ndarray, np.ndarray, np.ndarray], layers: Layers,
              subject_luma: np.ndarray, background_luma: np.ndarray, chroma: Callable[[np.ndarray], np.ndarray],
              scratch: dict[str, np.ndarray]) -> None:
    """Warp both layers into ``out_planes`` (Y, U, V of an I420 frame) and blend them.

    ``subject_luma`` and ``background_luma`` are 2x3 matrices from output pixels to canvas
    pixels (``WARP_INVERSE_MAP``); ``chroma`` turns a luma matrix into the chroma planes' one.
    ``scratch`` holds per-size buffers reused frame to frame. The subject is warped and
    blended only inside the output box its alpha can reach: everywhere else its alpha is
    exactly zero and the blend would return the background unchanged.
    """
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    region: tuple[Box4, np.ndarray] | None = None
    for index, (plane_bg, plane_fg, out) in enumerate(zip(layers.background, layers.subject, out_planes,
                                                           strict=True)):
        size = (out.shape[1], out.shape[0])
        luma = index == 0
        bg_matrix = background_luma if luma else chroma(background_luma)
        cv2.warpAffine(plane_bg, bg_matrix, size, dst=out, flags=flags, borderMode=cv2.BORDER_REFLECT101)
        if index < 2:  # U and V share one alpha
            fg_matrix = subject_luma if luma else chroma(subject_luma)
            box = _reach(fg_matrix, layers.box if luma else layers.box_chroma, size)
            region = None
            if box is not None:
                # The same map with the box's corner as the origin of the output.
                region = box, np.hstack([fg_matrix[:, :2], fg_matrix[:, 2:] + fg_matrix[:, :2] @ [[box[0]], [box[1]]]])
                alpha = _buffer(scratch, f"alpha{index}", out.shape, np.uint8)[: box[3] - box[1], : box[2] - box[0]]
                inverse = _buffer(scratch, f"inverse{index}", out.shape, np.uint8)[: alpha.shape[0], : alpha.shape[1]]
                source = layers.alpha if luma else layers.alpha_chroma
                cv2.warpAffine(source, region[1], alpha.shape[::-1], dst=alpha, flags=flags,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                cv2.bitwise_not(alpha, dst=inverse)  # 255 - alpha
        if region is None:
            continue
        (x0, y0, x1, y1), matrix = region
        shared = min(index, 1)
        alpha = scratch[f"alpha{shared}"][: y1 - y0, : x1 - x0]
        inverse = scratch[f"inverse{shared}"][: y1 - y0, : x1 - x0]
        fg = _buffer(scratch, f"fg{index}", out.shape, np.uint8)[: y1 - y0, : x1 - x0]
        cv2.warpAffine(plane_fg, matrix, (x1 - x0, y1 - y0), dst=fg, flags=flags, borderMode=cv2.BORDER_REFLECT101)
        window = out[y0:y1, x0:x1]
        # subject * a + background * (1 - a), each product rounded to 8 bits (at most one level
        # from the exact blend; a = 0 and a = 1 exact).
        cv2.multiply(fg, alpha, dst=fg, scale=1 / 255)
        cv2.multiply(window, inverse, dst=window, scale=1 / 255)
        cv2.add(window, fg, dst=window)


def _reach(matrix: np.ndarray, box: Box4 | None, size: tuple[int, int]) -> Box4 | None:
    """The output pixels whose sample (``matrix``: output -> canvas) can touch ``box``, clipped to ``size``."""
    if box is None:
        return None
    # A bilinear sample at canvas point q reads floor(q) and floor(q) + 1: it touches the
    # box when q lies within (x0 - 1, x1) x (y0 - 1, y1).
    x0, y0, x1, y1 = box
    corners = np.array([[x0 - 1, y0 - 1], [x1, y0 - 1], [x0 - 1, y1], [x1, y1]], np.float64)
    inverse = cv2.invertAffineTransform(matrix)
    points = corners @ inverse[:, :2].T + inverse[:, 2]
    # One pixel of margin each way for the warp's fixed-point rounding of coordinates.
    left = max(0, math.floor(points[:, 0].min()) - 1)
    top = max(0, math.floor(points[:, 1].min()) - 1)
    right = min(size[0], math.ceil(points[:, 0].max()) + 2)
    bottom = min(size[1], math.ceil(points[:, 1].max()) + 2)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def _buffer(scratch: dict[str, np.ndarray], key: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    buffer = scratch.get(key)
    if buffer is None or buffer.shape != shape:
        buffer = scratch[key] = np.empty(shape, dtype)
    return buffer


# --- composites: the subject of one reference in the place of another ---------------------

PERSON_HEIGHT: Final = 0.62  # a standing person's share of the scene's height
BUST_HEIGHT: Final = 0.72  # a person cut by the bottom edge (a bust) fills this much from the bottom
OBJECT_HEIGHT: Final = 0.38
GROUND_LINE: Final = 0.9  # where feet stand, as a share of the scene's height from the top
# A subject may shrink to this share of its planned size to stand beside the scene's own
# subject rather than over it; smaller would read as a different scale of thing.
MIN_FIT: Final = 0.75
EDGE_MARGIN: Final = 0.04  # share of the scene's width kept between a subject placed aside and the edge
# Chroma (Lab, 8-bit units) below which a subject counts as neutral and its colour is not
# moved toward the scene's; full matching from twice this.
NEUTRAL_CHROMA: Final = 6.0


@dataclass(frozen=True)
class Placement:
    """Where a subject goes in the scene: its box in scene pixels and its scale."""

    x0: float
    y0: float
    scale: float
    width: float
    height: float

    def to_dict(self) -> dict[str, float]:
        return {"x": round(self.x0, 1), "y": round(self.y0, 1), "scale": round(self.scale, 4),
                "width": round(self.width, 1), "height": round(self.height, 1)}


def place_subject(cut: Cutout, scene_w: int, scene_h: int, slot: int = 0, slots: int = 1,
                  avoid: tuple[int, int, int, int] | None = None) -> Placement:
    """Scale and position for ``cut``'s subject in a scene of the given size.

    People stand with their feet on the ground line and a sensible height; a bust (cut
    by its picture's bottom edge) rests on the frame's bottom edge. With several subjects
    the scene's width is shared among ``slots``; ``avoid`` (the scene's own subject box)
    pushes the subject to the side with more room so the place stays recognisable, shrunk
    (down to ``MIN_FIT``) to fit that room; when even that does not fit it stands by the
    frame's edge (``EDGE_MARGIN`` from it), covering as little of the scene's subject as it
    can. The box always lies inside the scene.
    """
    assert cut.box is not None
    x0, y0, x1, y1 = cut.box
    width, height = x1 - x0, y1 - y0
    bust = "bottom" in cut.touches
    share = (BUST_HEIGHT if bust else PERSON_HEIGHT) if cut.kind == "person" else OBJECT_HEIGHT
    scale = share * scene_h / height
    scale = min(scale, 0.9 * scene_w / max(1, slots) / width)
    w, h = width * scale, height * scale
    bottom = scene_h if bust else GROUND_LINE * scene_h
    lane = scene_w / max(1, slots)
    centre = lane * (slot + 0.5)
    if slots == 1 and avoid is not None:
        # Room beside the scene's subject, short of a margin at the frame's edge (a subject
        # touching the edge is cut by the slightest push-in).
        margin = EDGE_MARGIN * scene_w
        left_room, right_room = avoid[0] - margin, scene_w - margin - avoid[2]
        room = max(left_room, right_room)
        if w > room:
            fit = max(MIN_FIT, room / w)
            scale, w, h = scale * fit, w * fit, h * fit
        if left_room > right_room:
            centre = margin + left_room / 2 if w <= left_room else margin + w / 2
        else:
            centre = avoid[2] + right_room / 2 if w <= right_room else scene_w - margin - w / 2
        centre = min(max(centre, w / 2), scene_w - w / 2)
    return Placement(centre - w / 2, bottom - h, scale, w, h)


def build_composite(cuts: Sequence[Cutout], scene: np.ndarray, placements: Sequence[Placement],
                    foregrounds: Sequence[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scene with a shadow under each subject, and one subject canvas with its alpha.

    Returns (background RGB, subject RGB, alpha float32), all of the scene's size. Each
    subject is colour-matched to the scene and light-wrapped at its edges; ``foregrounds``
    (graded copies of each cut-out's foreground colours) replace ``cut.foreground``.
    """
    scene_h, scene_w = scene.shape[:2]
    background = scene.astype(np.float32)
    colour = scene.astype(np.float32)  # where no subject is, the scene's colours (clean bilinear edges)
    alpha = np.zeros((scene_h, scene_w), np.float32)
    scene_lab = _lab_stats(scene, None)
    blurred_scene = cv2.GaussianBlur(scene, (0, 0), max(2.0, scene_w / 120)).astype(np.float32)
    for n, (cut, place) in enumerate(zip(cuts, placements, strict=True)):
        assert cut.box is not None
        x0, y0, x1, y1 = cut.box
        crop_alpha = np.asarray(cut.matte[y0:y1, x0:x1])
        colours = foregrounds[n] if foregrounds is not None else cut.foreground
        crop = _match_colour(np.asarray(colours[y0:y1, x0:x1]), crop_alpha, scene_lab)
        # Crop pixel i lands at x0 + (i + 0.5) * scale - 0.5 (pixel centres line up).
        shift = 0.5 * place.scale - 0.5
        matrix = np.array([[place.scale, 0, place.x0 + shift], [0, place.scale, place.y0 + shift]], np.float64)
        warped = cv2.warpAffine(crop, matrix, (scene_w, scene_h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        warped_alpha = cv2.warpAffine(crop_alpha, matrix, (scene_w, scene_h), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        _shadow(background, place)
        wrapped = _light_wrap(warped, warped_alpha, blurred_scene)
        # Later subjects stand in front ("over", kept un-premultiplied).
        a = warped_alpha[:, :, None]
        merged = a + alpha[:, :, None] * (1 - a)
        colour = np.where(merged > 1e-4, (wrapped * a + colour * alpha[:, :, None] * (1 - a))
                          / np.maximum(merged, 1e-4), colour)
        alpha = merged[:, :, 0]
    return (np.clip(background + 0.5, 0, 255).astype(np.uint8),
            np.clip(colour + 0.5, 0, 255).astype(np.uint8), alpha)


def _lab_stats(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)
    if mask is not None:
        lab = lab[mask.reshape(-1)]
    return np.stack([lab.mean(axis=0), lab.std(axis=0) + 1e-3])


def _match_colour(crop: np.ndarray, alpha: np.ndarray, scene: np.ndarray, strength: float = 0.45) -> np.ndarray:
    """Reinhard transfer of the subject's Lab statistics part of the way toward the scene's.

    Lightness follows less than colour: a subject keeps its own contrast and shading but
    takes on the scene's light colour and overall brightness. A near-neutral subject (a
    greyscale photo, a silver object) keeps its chroma as it is: shifting its mean toward a
    warm scene would tint it, and stretching its tiny chroma spread would turn noise into colour.
    """
    inside = alpha > 0.5
    if inside.sum() < 16:
        return crop
    own = _lab_stats(crop, inside)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[:, :, 1][inside] - 128, lab[:, :, 2][inside] - 128)
    colourful = float(np.clip((np.percentile(chroma, 90) - NEUTRAL_CHROMA) / NEUTRAL_CHROMA, 0, 1))
    weights = np.array([0.5, colourful, colourful]) * strength
    mean = own[0] + (scene[0] - own[0]) * weights
    std = own[1] + (scene[1] - own[1]) * weights * 0.5
    lab = (lab - own[0].astype(np.float32)) * (std / own[1]).astype(np.float32) + mean.astype(np.float32)
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def _light_wrap(subject: np.ndarray, alpha: np.ndarray, blurred_scene: np.ndarray, amount: float = 0.35) -> np.ndarray:
    """Scene light spilling over the subject's edges: strongest where the edge is, gone inside."""
    edge = 1 - cv2.GaussianBlur(alpha, (0, 0), max(1.5, alpha.shape[1] / 400))
    wrap = np.clip(edge, 0, 1)[:, :, None] * amount
    return subject * (1 - wrap) + blurred_scene * wrap


def _shadow(background: np.ndarray, place: Placement) -> None:
    """A soft contact shadow: a flat blurred ellipse on the ground under the subject."""
    scene_h, scene_w = background.shape[:2]
    foot_y = place.y0 + place.height
    if foot_y >= scene_h - 1:  # a bust on the bottom edge casts nothing visible
        return
    footprint = np.zeros((scene_h, scene_w), np.float32)
    centre = (round(place.x0 + place.width / 2), round(foot_y))
    axes = (max(2, round(place.width * 0.45)), max(1, round(place.width * 0.07)))
    cv2.ellipse(footprint, centre, axes, 0, 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(footprint, (0, 0), max(2.0, place.width * 0.05))
    background *= (1 - 0.45 * shadow)[:, :, None]
