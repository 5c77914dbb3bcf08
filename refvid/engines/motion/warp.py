"""Drawing one shot's frame: window and chroma matrices, warps, layered shots, motion blur.

Each output frame is three ``cv2.warpAffine`` calls with float matrices (sub-pixel, no
integer rounding) written straight into the I420 buffer the encoder takes; a yawed window
is a perspective warp; a fast move averages warps across the frame's exposure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from refvid.engines.motion.camera import CameraPath, corner_travel
from refvid.engines.motion.framing import Window, yaw_homography
from refvid.engines.motion.layers import background_window, composite
from refvid.engines.motion.life import animate_person, breathing_matrix
from refvid.engines.motion.sources import Source, Sources, source_key
from refvid.engines.motion.transitions import Appearance, motion_blur
from refvid.media.color import i420_planes
from refvid.media.spec import VideoSpec

if TYPE_CHECKING:
    from refvid.engines.motion.render import MotionPlan

BLUR_FROM_SPEED = 3.0  # output px per frame at the corners: faster moves get motion blur (at 3 px the
# sub-frame samples are 0.5 px apart, so switching the blur on is not seen)
SHUTTER = 0.5  # of a frame: the exposure the motion blur imitates (a 180 degree shutter)


def draw(
    shown: Appearance, plan: MotionPlan, sources: Sources, spec: VideoSpec, out: np.ndarray,
    scratch: dict[str, np.ndarray],
) -> None:
    """Warp one shot's reference (or its layers) into the I420 buffer ``out`` for this frame."""
    shot = plan.shots[shown.shot]
    staging = plan.stagings[shown.shot]
    source = sources[source_key(shown.shot, shot, staging)]
    path = plan.paths[shown.shot]
    window = path.at(shown.local_frame)
    if source.layers is not None:
        _draw_layers(shown, plan, source, spec, out, scratch, window, path.at(0), path.background_at(shown.local_frame))
    else:
        speed = _corner_speed(path, shown.local_frame, spec)
        if shown.whip or speed <= BLUR_FROM_SPEED:
            _warp(_whipped(window, shown.whip), source, spec, out)
        else:
            # A fast move: average warps at three instants across the frame's exposure, as a
            # camera's shutter would, so the motion reads as motion and not as a strobe.
            _warp(path.at(shown.local_frame - SHUTTER / 3), source, spec, out)
            exposure = np.empty_like(out)
            _warp(window, source, spec, exposure)
            cv2.addWeighted(out, 0.5, exposure, 0.5, 0.0, dst=out)
            _warp(path.at(shown.local_frame + SHUTTER / 3), source, spec, exposure)
            cv2.addWeighted(out, 2 / 3, exposure, 1 / 3, 0.0, dst=out)
    if shown.blur:
        motion_blur(out, shown.blur)


def _draw_layers(
    shown: Appearance, plan: MotionPlan, source: Source, spec: VideoSpec, out: np.ndarray,
    scratch: dict[str, np.ndarray], window: Window, rest: Window, own_background: Window | None = None,
) -> None:
    """Composite a layered shot (plate, subject, life) for this frame; the plate moves less than the subject."""
    assert source.layers is not None
    staging = plan.stagings[shown.shot]
    behind = background_window(window, rest, staging.strength) if own_background is None else own_background
    if shown.whip:
        offset = shown.whip * window.w
        window = Window(window.cx + offset, window.cy, window.w, window.angle)
        behind = Window(behind.cx + offset, behind.cy, behind.w, behind.angle)
    luma = window_matrix(window, source.scale, spec.width, spec.height)
    y, u, v = i420_planes(out)
    person = plan.people[shown.shot]
    back = window_matrix(behind, source.scale, spec.width, spec.height)
    subject = luma
    motion = plan.motions[shown.shot]
    if person is not None:
        # Breathing: the body stretched about its bottom, in full-size canvas pixels.
        breath = breathing_matrix(person, motion.breath(shown.local_frame))
        unscaled = np.vstack([window_matrix(window, 1.0, spec.width, spec.height), [0, 0, 1]])
        subject = np.diag([source.scale, source.scale, 1.0])[:2] @ breath @ unscaled
    composite((y, u, v), source.layers, subject, back, chroma_matrix, scratch)
    if person is not None:
        to_output = cv2.invertAffineTransform(window_matrix(window, 1.0, spec.width, spec.height))
        animate_person((y, u, v), person, to_output, motion, shown.local_frame)


def _whipped(window: Window, whip: float) -> Window:
    if not whip:
        return window
    return Window(window.cx + whip * window.w, window.cy, window.w, window.angle, window.yaw)


def _corner_speed(path: CameraPath, frame: int, spec: VideoSpec) -> float:
    """How far the frame's corners move around ``frame``, in output px per frame."""
    if path.frames < 2 or (path.start == path.last() and not path.sway):
        return 0.0
    before, after = path.at(max(0, frame - 0.5)), path.at(min(path.frames - 1, frame + 0.5))
    return corner_travel(before, after, spec.width / spec.height, spec.width)


def _warp(window: Window, source: Source, spec: VideoSpec, out: np.ndarray) -> None:
    """Draw ``window`` of ``source`` into the I420 buffer ``out`` (affine, or perspective for a yaw)."""
    y, u, v = i420_planes(out)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (spec.width // 2, spec.height // 2)
    if window.yaw:
        luma3 = perspective_matrix(window, source.scale, spec.width, spec.height)
        chroma3 = _LUMA_TO_CHROMA3 @ luma3 @ _CHROMA_TO_LUMA
        cv2.warpPerspective(source.y, luma3, (spec.width, spec.height), dst=y, flags=flags,
                            borderMode=cv2.BORDER_REFLECT101)
        cv2.warpPerspective(source.u, chroma3, size, dst=u, flags=flags, borderMode=cv2.BORDER_REFLECT101)
        cv2.warpPerspective(source.v, chroma3, size, dst=v, flags=flags, borderMode=cv2.BORDER_REFLECT101)
        return
    luma = window_matrix(window, source.scale, spec.width, spec.height)
    cv2.warpAffine(source.y, luma, (spec.width, spec.height), dst=y, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    chroma = chroma_matrix(luma)
    cv2.warpAffine(source.u, chroma, size, dst=u, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    cv2.warpAffine(source.v, chroma, size, dst=v, flags=flags, borderMode=cv2.BORDER_REFLECT101)


def perspective_matrix(window: Window, scale: float, width: int, height: int) -> np.ndarray:
    """3x3 map from output pixel indices to source pixel indices for a yawed window."""
    step = window.w * scale  # source px per frame width
    to_centred = np.array([[1 / width, 0, (0.5 - width / 2) / width], [0, 1 / width, (0.5 - height / 2) / width], [0, 0, 1]])
    to_source = np.array([[step, 0, window.cx * scale - 0.5], [0, step, window.cy * scale - 0.5], [0, 0, 1]])
    return to_source @ yaw_homography(window.yaw) @ to_centred


def window_matrix(window: Window, scale: float, width: int, height: int) -> np.ndarray:
    """2x3 matrix from output pixel indices to source pixel indices (pixel centres)."""
    step = window.w * scale / width
    c, s = math.cos(window.angle) * step, math.sin(window.angle) * step
    # Output pixel u has its centre at u + 0.5; source index = continuous coordinate - 0.5.
    ox, oy = 0.5 - width / 2, 0.5 - height / 2
    tx = window.cx * scale + c * ox - s * oy - 0.5
    ty = window.cy * scale + s * ox + c * oy - 0.5
    return np.array([[c, -s, tx], [s, c, ty]], dtype=np.float64)


# Chroma sample j sits at luma coordinate 2j + 0.5 (both as pixel indices).
_CHROMA_TO_LUMA = np.array([[2.0, 0.0, 0.5], [0.0, 2.0, 0.5], [0.0, 0.0, 1.0]])
_LUMA_TO_CHROMA3 = np.linalg.inv(_CHROMA_TO_LUMA)
_LUMA_TO_CHROMA = _LUMA_TO_CHROMA3[:2]


def chroma_matrix(luma: np.ndarray) -> np.ndarray:
    """The same mapping between the half-resolution chroma planes."""
    return _LUMA_TO_CHROMA @ np.vstack([luma, [0.0, 0.0, 1.0]]) @ _CHROMA_TO_LUMA
