"""Where the subject is, and which part of a reference each framing shows.

Subjects come from ``refvid.vision.detect``: faces (frontal, profile), cat faces, otherwise
the salient region with small bright highlights ignored; text lines are kept whole.

A reference much taller than the output (a portrait photo in 16:9) sits on a canvas of the
output's shape whose margins continue the picture: mirrored at the seam, then more and more
blurred and darkened, so there is no hard edge and never a bar. Only wide shots use those
margins, and only so far that the real picture still fills most of the frame; tighter
framings and every camera move of theirs stay on the real picture. A reference wider than
the output (landscape in 9:16, a panorama in 16:9) is not extended: its shots are
full-height crops that pan across it. A reference too small for the output's 6x enlargement
cap is placed on a canvas large enough for the smallest window the cap allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from refvid.vision.detect import Analysis, Box, analyse

__all__ = [
    "Box", "CanvasLayout", "Subject", "Window", "build_canvas", "canvas_layout", "find_subject", "fit_window",
    "frame_subject", "max_window_width", "shot_area",
]

# Beyond this ratio between reference and output aspect, crop-to-fill would lose too much
# of the picture (a square in 16:9 keeps only 56% of its height), so the canvas is extended.
EXTEND_BELOW_ASPECT_RATIO = 0.6
# Relative window widths of each framing, against the widest window the picture allows.
FRAMING_SCALE = {"wide": 1.0, "medium": 0.68, "close-up": 0.45}
MAX_MAGNIFICATION = 6.0  # output px per source px; tighter crops only blur
REAL_SHARE_MIN = 0.7  # a wide shot on an extended canvas: the real picture fills >= 70% of the width
MIN_WIDTH_STEP = 0.25  # consecutive framings of one reference differ by at least this in width


@dataclass(frozen=True)
class Subject:
    """The part of a reference a shot should keep in frame (image coordinates)."""

    box: Box
    kind: str  # "face", "cat" or "saliency"
    face: Box | None = None  # the largest face, when there is one
    text: tuple[Box, ...] = ()  # lines of text a crop should not cut through


@dataclass(frozen=True)
class Window:
    """What the camera sees: centre and width in canvas pixels, and a roll angle in radians.

    Height follows from the output aspect. Windows are convex in (cx, cy, w), so any
    blend of two windows that fit the canvas fits it too: eased moves never leave it.
    """

    cx: float
    cy: float
    w: float
    angle: float = 0.0
    yaw: float = 0.0  # orbit: the picture's plane turned about its vertical axis, radians

    def lerp(self, other: Window, t: float) -> Window:
        return Window(
            self.cx + (other.cx - self.cx) * t,
            self.cy + (other.cy - self.cy) * t,
            self.w + (other.w - self.w) * t,
            self.angle + (other.angle - self.angle) * t,
            self.yaw + (other.yaw - self.yaw) * t,
        )

    def plus(self, start: Window, end: Window, t: float) -> Window:
        """This window moved by ``t`` of the way from ``start`` to ``end`` (compound moves)."""
        return Window(
            self.cx + (end.cx - start.cx) * t,
            self.cy + (end.cy - start.cy) * t,
            self.w + (end.w - start.w) * t,
            self.angle + (end.angle - start.angle) * t,
            self.yaw + (end.yaw - start.yaw) * t,
        )


ORBIT_FOCAL = 1.2  # the virtual lens of an orbit, in frame widths (about a 45 degree view)


def yaw_extent(yaw: float, aspect: float) -> float:
    """How much larger than the window a yawed view reaches into the picture (1 = not at all)."""
    if yaw == 0.0:
        return 1.0
    c, s = math.cos(yaw), abs(math.sin(yaw))
    u = 0.5  # the far edge in frame widths; the near edge reaches less
    denominator = ORBIT_FOCAL * c - u * s
    x = u * ORBIT_FOCAL / denominator
    y = ORBIT_FOCAL * c / denominator
    return max(x / 0.5, y)


def yaw_homography(yaw: float) -> np.ndarray:
    """3x3 map from centred frame coordinates (frame widths) to the turned plane's coordinates."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, 0.0], [-s / ORBIT_FOCAL, 0.0, c]])


@dataclass(frozen=True)
class CanvasLayout:
    """The canvas a reference is framed on: its size and where the real image sits in it."""

    width: int
    height: int
    image: Box  # the reference's own pixels inside the canvas
    extended: bool

    @property
    def bounds(self) -> Box:
        return Box(0.0, 0.0, float(self.width), float(self.height))


Area = Box | CanvasLayout


def area_box(area: Area) -> Box:
    """The box an area covers (a layout's whole canvas)."""
    return area.bounds if isinstance(area, CanvasLayout) else area


def canvas_layout(image_w: int, image_h: int, aspect: float, output_width: int | None = None) -> CanvasLayout:
    """Decide whether a reference is cropped as it is or extended (see the module doc)."""
    ratio = (image_w / image_h) / aspect
    width, height = float(image_w), float(image_h)
    if ratio < EXTEND_BELOW_ASPECT_RATIO:  # much taller than the output: widen
        width = float(round(image_h * aspect))
    if output_width is not None:
        smallest = output_width / MAX_MAGNIFICATION
        width, height = max(width, smallest), max(height, smallest / aspect)
    width, height = float(round(width)), float(round(height))
    if (width, height) == (image_w, image_h):
        return CanvasLayout(image_w, image_h, Box(0, 0, image_w, image_h), extended=False)
    x0, y0 = round((width - image_w) / 2), round((height - image_h) / 2)
    return CanvasLayout(int(width), int(height), Box(x0, y0, x0 + image_w, y0 + image_h), extended=True)


CANVAS_STRIP = 256  # rows of an extended canvas blended at once

def build_canvas(image: np.ndarray, layout: CanvasLayout) -> np.ndarray:
    """The reference on its canvas: margins mirror the picture, blurring and darkening outward."""
    if not layout.extended:
        return image
    box = layout.image
    left, top = int(box.x0), int(box.y0)
    right, bottom = layout.width - left - image.shape[1], layout.height - top - image.shape[0]
    mirrored = _reflect(image, top, bottom, left, right)
    # Blur at a small size (cheap, and a wide kernel) then scale back up.
    size = (layout.width, layout.height)
    small = cv2.resize(mirrored, (max(8, size[0] // 8), max(8, size[1] // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(small.shape[:2]) / 30)
    blurred = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)
    light = cv2.GaussianBlur(mirrored, (0, 0), sigmaX=max(1.0, min(image.shape[:2]) / 150))
    # Distance from the picture, as a fraction of a ramp: 0 at the seam, 1 far out.
    ramp = max(4.0, 0.12 * min(image.shape[:2]))
    xs = np.arange(layout.width, dtype=np.float32)
    ys = np.arange(layout.height, dtype=np.float32)
    dx = np.maximum(np.maximum(box.x0 - xs, xs - (box.x1 - 1)), 0.0)
    dy = np.maximum(np.maximum(box.y0 - ys, ys - (box.y1 - 1)), 0.0)
    # A strip of rows at a time: the float32 temporaries of a whole 12 MP canvas peak at ~700 MB.
    canvas = np.empty((layout.height, layout.width, 3), np.uint8)
    across = dx[None, :] ** 2
    for y0 in range(0, layout.height, CANVAS_STRIP):
        y1 = min(layout.height, y0 + CANVAS_STRIP)
        distance = np.sqrt(dy[y0:y1, None] ** 2 + across)
        t = np.minimum(distance / ramp, 1.0)[:, :, None]
        shade = 1.0 - 0.3 * np.minimum(distance / (4 * ramp), 1.0)[:, :, None]
        strip = (light[y0:y1].astype(np.float32) * (1 - t) + blurred[y0:y1].astype(np.float32) * t) * shade
        canvas[y0:y1] = np.clip(strip + 0.5, 0, 255).astype(np.uint8)
    canvas[top : top + image.shape[0], left : left + image.shape[1]] = image
    return canvas


def _reflect(image: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """Mirror ``image`` outward by the given margins (repeating the mirror where they are larger)."""
    out = image
    while top > 0 or bottom > 0 or left > 0 or right > 0:
        h, w = out.shape[:2]
        t, b = min(top, h - 1), min(bottom, h - 1)
        lft, rgt = min(left, w - 1), min(right, w - 1)
        out = cv2.copyMakeBorder(out, t, b, lft, rgt, cv2.BORDER_REFLECT_101)
        top, bottom, left, right = top - t, bottom - b, left - lft, right - rgt
    return out


def find_subject(image: np.ndarray | Analysis) -> Subject:
    """Locate the subject of an RGB image (or of its analysis): faces first, then a cat's
    face, otherwise the salient region."""
    analysis = image if isinstance(image, Analysis) else analyse(image)
    box, kind, face = analysis.subject()
    return Subject(box, kind, face, analysis.text)


def max_window_width(area: Area, aspect: float, angle: float = 0.0) -> float:
    """The widest window of the output's aspect (rolled by ``angle``) that fits ``area``."""
    box = area_box(area)
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    # The rolled window's bounding box is (w c + h s) x (w s + h c) with h = w / aspect.
    return float(min(box.width / (c + s / aspect), box.height / (s + c / aspect)))


def fit_window(window: Window, area: Area, aspect: float, margin_angle: float = 0.0) -> Window:
    """Shrink and move ``window`` as little as possible so that it lies inside ``area``."""
    box = area_box(area)
    angle = max(abs(window.angle), margin_angle)
    reach = yaw_extent(window.yaw, aspect)
    w = min(window.w, max_window_width(box, aspect, angle) / reach)
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    half_x = (w * c + w / aspect * s) / 2 * reach
    half_y = (w * s + w / aspect * c) / 2 * reach
    cx = float(np.clip(window.cx, box.x0 + half_x, box.x1 - half_x))
    cy = float(np.clip(window.cy, box.y0 + half_y, box.y1 - half_y))
    return Window(cx, cy, w, window.angle, window.yaw)


def shot_area(layout: CanvasLayout, framing: str, aspect: float, output_width: int) -> Box:
    """Where a shot's camera may look: the whole canvas for wide shots, else the real picture.

    A picture smaller than the enlargement cap's smallest window gets that window's room,
    centred on it (the only case where a tight shot shows some of the extension).
    """
    if framing == "wide" or not layout.extended:
        return layout.bounds
    picture = layout.image
    smallest = output_width / MAX_MAGNIFICATION
    width, height = max(picture.width, smallest), max(picture.height, smallest / aspect)
    x0 = float(np.clip(picture.cx - width / 2, 0, layout.width - width))
    y0 = float(np.clip(picture.cy - height / 2, 0, layout.height - height))
    return Box(x0, y0, x0 + width, y0 + height)


def wide_width(layout: CanvasLayout, aspect: float, output_width: int) -> float:
    """The wide framing's width: the whole picture, but on an extended canvas no wider than
    keeps the real picture at ``REAL_SHARE_MIN`` of the frame (and never over the cap)."""
    widest = max_window_width(layout, aspect)
    if not layout.extended:
        return widest
    inside = max_window_width(layout.image, aspect)
    share = max(inside, min(layout.image.width, layout.image.height * aspect) / REAL_SHARE_MIN)
    return float(min(widest, max(share, output_width / MAX_MAGNIFICATION)))


def frame_subject(
    subject: Subject, layout: CanvasLayout, framing: str, aspect: float, output_width: int
) -> Window:
    """The resting window of a framing: the subject placed well, inside its shot's area."""
    area = shot_area(layout, framing, aspect, output_width)
    widest = wide_width(layout, aspect, output_width)
    if framing != "wide":
        # Tighter framings are measured on the real picture, not on its extension.
        widest = max_window_width(area, aspect)
        widest = widest / FRAMING_SCALE["medium"] if layout.extended else widest
    w = widest * FRAMING_SCALE[framing]
    box = _in_canvas(subject.box, layout)
    cx, cy = box.cx, box.cy
    if subject.face is not None:
        face = _in_canvas(subject.face, layout)
        if framing == "close-up":
            # Whole head (hair above the detector's box) with room: 3.4 face heights tall.
            w = max(w * 0.6, face.height * 3.4 * aspect)
        elif framing == "medium":
            w = max(w, face.height * 5.5 * aspect)
        w = min(w, max_window_width(area, aspect))
        # Eyes (about 40% down the detector's box) on the upper third line of the frame.
        eyes = face.y0 + 0.4 * face.height
        cx, cy = face.cx, eyes + (w / aspect) / 6
        head_top = face.y0 - 0.45 * face.height
        cy = min(cy, head_top + (w / aspect) / 2)  # never cut through the head
    elif framing == "medium":
        # Keep the whole subject if it fits, with some air around it.
        w = max(w, min(widest, max(box.width * 1.15, box.height * 1.15 * aspect)))
    w = max(w, output_width / MAX_MAGNIFICATION, 8.0)
    window = fit_window(Window(cx, cy, w), area, aspect)
    return _keep_text_whole(window, subject, layout, area, aspect)


def _keep_text_whole(window: Window, subject: Subject, layout: CanvasLayout, area: Box, aspect: float) -> Window:
    """Move the window's edges off text lines: a line cut in half reads as a mistake."""
    if not subject.text:
        return window
    lines = [_in_canvas(line, layout) for line in subject.text]
    for _ in range(2):
        x0, x1 = window.cx - window.w / 2, window.cx + window.w / 2
        cut = [b for b in lines if b.x0 < x0 < b.x1 or b.x0 < x1 < b.x1]
        if not cut:
            break
        # Widen to take the cut lines in whole, as far as the area allows.
        left = min([x0, *(b.x0 for b in cut)])
        right = max([x1, *(b.x1 for b in cut)])
        w = min(right - left + 0.02 * window.w, max_window_width(area, aspect))
        window = fit_window(Window((left + right) / 2, window.cy, w), area, aspect)
    return window


def _in_canvas(box: Box, layout: CanvasLayout) -> Box:
    """Image coordinates -> canvas coordinates."""
    return box.shifted(layout.image.x0, layout.image.y0)


def magnification_warning(index: int, layout: CanvasLayout, image_w: int, image_h: int, output: tuple[int, int]) -> str | None:
    """A warning when a reference is too small to fill the output within the enlargement cap."""
    width, height = output
    aspect = width / height
    fill = max_window_width(Box(0, 0, image_w, image_h), aspect)
    if width / fill <= MAX_MAGNIFICATION + 1e-9:
        return None
    return (
        f"image {index + 1} is {image_w}x{image_h}: filling {width}x{height} would enlarge it "
        f"{width / fill:.1f}x, so its shots are framed wider (at most {MAX_MAGNIFICATION:.0f}x) "
        f"and show some background around it; a larger picture looks sharper"
    )


def spread_widths(widths: list[float], references: list[int], floors: list[float],
                  framings: list[str] | None = None) -> tuple[list[float], list[bool]]:
    """Consecutive shots of one reference at least ``MIN_WIDTH_STEP`` apart in width.

    Of two too-similar windows, the one with the tighter framing (``framings``: close-up <
    medium < wide; with the same framing, or none given, the narrower window) is narrowed
    to a quarter under the other, not below its floor (the enlargement cap), so a medium
    shot never ends up tighter than the close-up beside it. Returns the widths and, per
    shot, whether it still looks too much like the shot before it (the planner then cuts
    instead of dissolving, which would ghost).
    """
    out = list(widths)
    similar = [False] * len(widths)
    for i in range(1, len(out)):
        if references[i] != references[i - 1]:
            continue
        a, b = out[i - 1], out[i]
        if abs(a - b) >= MIN_WIDTH_STEP * max(a, b) - 1e-9:
            continue
        here, before = (_TIGHTNESS[framings[i]], _TIGHTNESS[framings[i - 1]]) if framings else (0, 0)
        narrow_this = b <= a if here == before else here < before
        free_before = i - 1 == 0 or references[i - 2] != references[i - 1]  # no shot before it to keep apart from
        if narrow_this and a * (1 - MIN_WIDTH_STEP) >= floors[i]:
            out[i] = a * (1 - MIN_WIDTH_STEP)
        elif not narrow_this and free_before and b * (1 - MIN_WIDTH_STEP) >= floors[i - 1]:
            out[i - 1] = b * (1 - MIN_WIDTH_STEP)
        else:
            similar[i] = True
    return out, similar


_TIGHTNESS = {"close-up": 0, "medium": 1, "wide": 2}

