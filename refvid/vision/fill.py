"""Background plates: a reference with its subject removed and the hole filled.

Inpainting one large hole at one resolution either smears (fine resolution: the fill
cannot reach the middle) or blurs (coarse resolution: the whole plate goes soft). So it is
done as a pyramid: the hole is filled coarsely at a small size, then each finer level keeps
the coarser fill in the hole's interior and inpaints only a band along the hole's edge,
where a camera move reveals the plate first and where its texture must continue the real
picture's. The result is blended into the original through a feathered mask, so the plate
is the untouched photo everywhere outside the hole.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

COARSE_SIDE: Final = 160  # long side of the first fill: big holes are cheap and smooth here
BAND: Final = 6  # edge band re-inpainted at each finer level, in that level's pixels
RADIUS: Final = 4  # cv2.inpaint's neighbourhood


def fill_background(image: np.ndarray, hole: np.ndarray, finest_side: int = 1024) -> np.ndarray:
    """The RGB uint8 ``image`` with the pixels of ``hole`` (bool, any size) filled in.

    ``finest_side`` bounds the long side at which the fill is computed; above it the fill
    is scaled up (a filled hole has no fine detail to lose).
    """
    height, width = image.shape[:2]
    if not hole.any():
        return image.copy()
    long_side = max(height, width)
    sides = [min(COARSE_SIDE, long_side)]
    while sides[-1] * 2 < min(finest_side, long_side):
        sides.append(sides[-1] * 2)
    sides.append(min(finest_side, long_side))
    # Every level is made from the finest one: a 12 MP picture is read once.
    finest_scale = sides[-1] / long_side
    finest = cv2.resize(image, (max(1, round(width * finest_scale)), max(1, round(height * finest_scale))),
                        interpolation=cv2.INTER_AREA) if finest_scale < 1 else image
    hole_float = hole.astype(np.float32)
    filled: np.ndarray | None = None
    level_hole = hole
    for side in sides:
        scale = side / long_side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        level = cv2.resize(finest, size, interpolation=cv2.INTER_AREA) if size != finest.shape[1::-1] else finest
        # A pixel touched by the hole at all is unknown at this level.
        level_hole = cv2.resize(hole_float, size, interpolation=cv2.INTER_AREA if size[0] < hole.shape[1]
                                else cv2.INTER_LINEAR) > 0.01
        if filled is None:
            mask = level_hole
        else:
            coarse = cv2.resize(filled, size, interpolation=cv2.INTER_CUBIC)
            level = np.where(level_hole[:, :, None], coarse, level)
            outside = cv2.dilate((~level_hole).astype(np.uint8), np.ones((2 * BAND + 1,) * 2, np.uint8))
            mask = level_hole & (outside > 0)
        filled = cv2.inpaint(level, mask.astype(np.uint8) * 255, RADIUS, cv2.INPAINT_TELEA)
    assert filled is not None
    filled = _add_texture(filled, finest if finest.shape == filled.shape else
                          cv2.resize(finest, filled.shape[1::-1], interpolation=cv2.INTER_AREA), level_hole)
    return _blend(image, level_hole, filled)


def _add_texture(filled: np.ndarray, level: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Fine detail for the smooth fill: the picture's own texture, mirrored across the hole's edge.

    Each hole pixel takes the high-pass detail of the known pixel at its reflection across
    the nearest edge point (grass stays grass, plaster stays plaster); the structure comes
    from the inpainted fill, so only texture is borrowed, never objects.
    """
    detail = level.astype(np.float32) - cv2.GaussianBlur(level, (0, 0), 2.0).astype(np.float32)
    # Texture, not edges: detail beyond the typical local amplitude (an object's outline) is cut.
    typical = cv2.blur(np.abs(detail), (15, 15))
    detail = np.clip(detail, -typical, typical)
    # Imported here: scipy costs 0.2 s of start-up, and renders without a cut-out never fill.
    from scipy import ndimage

    _, (near_y, near_x) = ndimage.distance_transform_edt(hole, return_indices=True)
    ys, xs = np.nonzero(hole)
    my = 2 * near_y[ys, xs] - ys
    mx = 2 * near_x[ys, xs] - xs
    height, width = hole.shape
    inside = (my >= 0) & (my < height) & (mx >= 0) & (mx < width)
    usable = np.zeros(len(ys), bool)
    usable[inside] = ~hole[my[inside], mx[inside]]
    out = filled.astype(np.float32)
    out[ys[usable], xs[usable]] += detail[my[usable], mx[usable]]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _blend(image: np.ndarray, hole: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """The original outside the hole, the fill inside, through a soft seam at the edge.

    ``hole`` and ``filled`` are at the fill's size; only the hole's bounding box is scaled
    up and blended, so a 12 MP picture costs little more than a copy.
    """
    height, width = image.shape[:2]
    small_h, small_w = hole.shape
    weight = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.0)
    weight = np.maximum(weight, hole.astype(np.float32))  # the hole itself is always filled
    ys, xs = np.nonzero(weight > 1 / 255)
    plate = image.copy()
    if not len(ys):
        return plate
    sx, sy = width / small_w, height / small_h
    # The box in fill pixels (one pixel of margin for the interpolation), then in image pixels.
    fx0, fy0 = max(0, int(xs.min()) - 1), max(0, int(ys.min()) - 1)
    fx1, fy1 = min(small_w, int(xs.max()) + 2), min(small_h, int(ys.max()) + 2)
    x0, y0 = round(fx0 * sx), round(fy0 * sy)
    x1, y1 = min(width, round(fx1 * sx)), min(height, round(fy1 * sy))
    size = (x1 - x0, y1 - y0)
    if size[0] <= 0 or size[1] <= 0:
        return plate
    patch = cv2.resize(filled[fy0:fy1, fx0:fx1], size, interpolation=cv2.INTER_LINEAR)
    w = cv2.resize(weight[fy0:fy1, fx0:fx1], size, interpolation=cv2.INTER_LINEAR)
    region = plate[y0:y1, x0:x1]
    plate[y0:y1, x0:x1] = cv2.blendLinear(patch, region, w, 1 - w)
    return plate
