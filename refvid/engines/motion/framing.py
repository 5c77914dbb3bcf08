"""Where the subject is, and which part of a reference each framing shows.

Subjects are found with the frontal-face Haar cascade that ships inside OpenCV, and
otherwise with a saliency estimate (spectral residual plus colour contrast, with a mild
centre prior). A reference whose shape is far from the output's (a portrait photo in
16:9) is placed on a canvas of the output's shape whose margins are a blurred, darkened
extension of the image itself, so no shot ever shows bars or black borders.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# Beyond this ratio between reference and output aspect, crop-to-fill would lose too much
# of the picture (a square in 16:9 keeps only 56% of its height), so the canvas is extended.
EXTEND_BELOW_ASPECT_RATIO = 0.6
# Relative window widths of each framing, against the widest window the canvas allows.
FRAMING_SCALE = {"wide": 1.0, "medium": 0.68, "close-up": 0.45}
MAX_MAGNIFICATION = 6.0  # output px per source px; tighter crops only blur


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixel coordinates (x0, y0 inclusive; x1, y1 exclusive)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Subject:
    """The part of a reference a shot should keep in frame."""

    box: Box
    kind: str  # "face" or "saliency"
    face: Box | None = None  # the largest face, when there is one


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

    def lerp(self, other: Window, t: float) -> Window:
        return Window(
            self.cx + (other.cx - self.cx) * t,
            self.cy + (other.cy - self.cy) * t,
            self.w + (other.w - self.w) * t,
            self.angle + (other.angle - self.angle) * t,
        )


@dataclass(frozen=True)
class CanvasLayout:
    """The canvas a reference is framed on: its size and where the real image sits in it."""

    width: int
    height: int
    image: Box  # the reference's own pixels inside the canvas
    extended: bool


def canvas_layout(image_w: int, image_h: int, aspect: float) -> CanvasLayout:
    """Decide whether a reference is cropped as it is or extended to the output's shape."""
    ratio = (image_w / image_h) / aspect
    if min(ratio, 1 / ratio) >= EXTEND_BELOW_ASPECT_RATIO:
        return CanvasLayout(image_w, image_h, Box(0, 0, image_w, image_h), extended=False)
    if ratio < 1:  # too tall for the output: widen
        width = round(image_h * aspect)
        x0 = (width - image_w) / 2
        return CanvasLayout(width, image_h, Box(x0, 0, x0 + image_w, image_h), extended=True)
    height = round(image_w / aspect)
    y0 = (height - image_h) / 2
    return CanvasLayout(image_w, height, Box(0, y0, image_w, y0 + image_h), extended=True)


def build_canvas(image: np.ndarray, layout: CanvasLayout) -> np.ndarray:
    """The reference on its canvas; margins are a blurred, darkened stretch of the image."""
    if not layout.extended:
        return image
    size = (layout.width, layout.height)
    scale = max(layout.width / image.shape[1], layout.height / image.shape[0])
    cover = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    y = (cover.shape[0] - layout.height) // 2
    x = (cover.shape[1] - layout.width) // 2
    background = cover[y : y + layout.height, x : x + layout.width]
    # Blur at a small size (cheap, and a wide kernel) then scale back up.
    small = cv2.resize(background, (max(8, size[0] // 8), max(8, size[1] // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(small.shape[:2]) / 24)
    canvas = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)
    canvas = cv2.convertScaleAbs(canvas, alpha=0.62, beta=8)
    box = layout.image
    canvas[round(box.y0) : round(box.y0) + image.shape[0], round(box.x0) : round(box.x0) + image.shape[1]] = image
    return canvas


@lru_cache(maxsize=1)
def _face_cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's face cascade is missing at {path}")
    return cascade


def find_subject(image: np.ndarray) -> Subject:
    """Locate the subject of an RGB image: faces first, otherwise the salient region."""
    height, width = image.shape[:2]
    # Only faces of at least 1/12 of the picture matter for framing; at 320 px those are
    # still above the cascade's 24 px window, and detection costs a quarter of 640 px.
    scale = min(1.0, 320 / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    side = min(gray.shape)
    faces = _face_cascade().detectMultiScale(
        gray, scaleFactor=1.15, minNeighbors=5, minSize=(max(24, side // 12),) * 2
    )
    if len(faces):
        boxes = [Box(x / scale, y / scale, (x + w) / scale, (y + h) / scale) for x, y, w, h in faces]
        face = max(boxes, key=lambda b: b.width * b.height)
        # Head and shoulders of every face found.
        union = Box(
            min(b.x0 - 0.6 * b.width for b in boxes),
            min(b.y0 - 0.4 * b.height for b in boxes),
            max(b.x1 + 0.6 * b.width for b in boxes),
            max(b.y1 + 1.2 * b.height for b in boxes),
        )
        return Subject(_clip(union, width, height), "face", face)
    return Subject(_salient_box(small, width, height), "saliency")


def _salient_box(small: np.ndarray, width: int, height: int) -> Box:
    """Weighted centre and spread of a saliency map (spectral residual + colour contrast)."""
    size = 64
    lab = cv2.cvtColor(cv2.resize(small, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB)
    gray = lab[:, :, 0].astype(np.float32)
    spectrum = np.fft.fft2(gray)
    log_amplitude = np.log1p(np.abs(spectrum)).astype(np.float32)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    spectral = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    contrast = np.linalg.norm(lab.astype(np.float32) - lab.reshape(-1, 3).mean(axis=0), axis=2)
    saliency = _normalise(cv2.GaussianBlur(spectral.astype(np.float32), (0, 0), 2.5))
    saliency = saliency + _normalise(cv2.GaussianBlur(contrast, (0, 0), 2.5))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1) - 0.5
    saliency *= np.exp(-(xx**2 + yy**2) / (2 * 0.35**2))  # photographers centre subjects
    weights = np.where(saliency >= np.quantile(saliency, 0.8), saliency, 0.0)
    total = float(weights.sum()) or 1.0
    mx = float((weights * xx).sum() / total)
    my = float((weights * yy).sum() / total)
    sx = float(np.sqrt((weights * (xx - mx) ** 2).sum() / total))
    sy = float(np.sqrt((weights * (yy - my) ** 2).sum() / total))
    cx, cy = (mx + 0.5) * width, (my + 0.5) * height
    half_w, half_h = max(2 * sx, 0.12) * width, max(2 * sy, 0.12) * height
    return _clip(Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h), width, height)


def _normalise(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _clip(box: Box, width: float, height: float) -> Box:
    return Box(max(0.0, box.x0), max(0.0, box.y0), min(width, box.x1), min(height, box.y1))


def max_window_width(layout: CanvasLayout, aspect: float, angle: float = 0.0) -> float:
    """The widest window of the output's aspect (rolled by ``angle``) that fits the canvas."""
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    # The rolled window's bounding box is (w c + h s) x (w s + h c) with h = w / aspect.
    return float(min(layout.width / (c + s / aspect), layout.height / (s + c / aspect)))


def fit_window(window: Window, layout: CanvasLayout, aspect: float, margin_angle: float = 0.0) -> Window:
    """Shrink and move ``window`` as little as possible so that it lies inside the canvas."""
    angle = max(abs(window.angle), margin_angle)
    w = min(window.w, max_window_width(layout, aspect, angle))
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    half_x = (w * c + w / aspect * s) / 2
    half_y = (w * s + w / aspect * c) / 2
    cx = float(np.clip(window.cx, half_x, layout.width - half_x))
    cy = float(np.clip(window.cy, half_y, layout.height - half_y))
    return Window(cx, cy, w, window.angle)


def frame_subject(
    subject: Subject, layout: CanvasLayout, framing: str, aspect: float, output_width: int
) -> Window:
    """The resting window of a framing: the subject placed well, inside the canvas."""
    widest = max_window_width(layout, aspect)
    real = max_window_width(_image_only(layout), aspect)
    if framing != "wide" and layout.extended:
        # Tighter framings are measured on the real picture, not on its blurred extension:
        # a medium shot shows as much of it as fits, a close-up less.
        widest = real / FRAMING_SCALE["medium"]
    w = widest * FRAMING_SCALE[framing]
    box = _in_canvas(subject.box, layout)
    cx, cy = box.cx, box.cy
    if framing == "close-up" and subject.face is not None:
        face = _in_canvas(subject.face, layout)
        w = max(w * 0.6, face.height * 2.6 * aspect)
        cx, cy = face.cx, face.cy + 0.1 * face.height  # eyes a little above centre
    elif framing == "medium":
        # Keep the whole subject if it fits, with some air around it.
        w = max(w, min(widest, max(box.width * 1.15, box.height * 1.15 * aspect)))
    w = max(w, output_width / MAX_MAGNIFICATION, 8.0)
    if framing != "wide" and layout.extended:
        # Fit inside the picture itself (its coordinates start at the image's corner).
        x0, y0 = layout.image.x0, layout.image.y0
        inside = fit_window(Window(cx - x0, cy - y0, min(w, real)), _image_only(layout), aspect)
        cx, cy, w = inside.cx + x0, inside.cy + y0, inside.w
    return fit_window(Window(cx, cy, w), layout, aspect)


def _in_canvas(box: Box, layout: CanvasLayout) -> Box:
    """Image coordinates -> canvas coordinates."""
    return Box(box.x0 + layout.image.x0, box.y0 + layout.image.y0, box.x1 + layout.image.x0, box.y1 + layout.image.y0)


def _image_only(layout: CanvasLayout) -> CanvasLayout:
    return CanvasLayout(int(layout.image.width), int(layout.image.height), layout.image, extended=False)
