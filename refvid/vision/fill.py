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
from scipy import ndimage

COARSE_SIDE: Final = 160  # long side of the first fill: big holes are cheap and smooth here
BAND: Final = 6  # edge band re-inpainted at each finer level, in that level's pixels
RADIUS: Final = 4  # cv2.inpaint's neighbourhood


def fill_background(image: np.ndarray, hole: np.ndarray, finest_side: int = 1024) -> np.ndarray:
    """The RGB uint8 ``image`` with the pixels of ``hole`` (bool, any size) filled in.

    ``finest_side`` bounds the long side at which the fill is computed; above it the fill
    is scaled up (a filled hole has no fine detail to lose).
    """
    height, width = image.shape[:2]
    long_side = max(height, width)
    if hole.shape != (height, width):
        hole = cv2.resize(hole.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    if not hole.any():
        return image.copy()
    sides = [min(COARSE_SIDE, long_side)]
    while sides[-1] * 2 < min(finest_side, long_side):
        sides.append(sides[-1] * 2)
    sides.append(min(finest_side, long_side))
    filled: np.ndarray | None = None
    level_hole = hole
    for side in sides:
        scale = side / long_side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        level = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        # A pixel touched by the hole at all is unknown at this level.
        level_hole = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.01
        if filled is None:
            mask = level_hole
        else:
            coarse = cv2.resize(filled, size, interpolation=cv2.INTER_CUBIC)
            level = np.where(level_hole[:, :, None], coarse, level)
            outside = cv2.dilate((~level_hole).astype(np.uint8), np.ones((2 * BAND + 1,) * 2, np.uint8))
            mask = level_hole & (outside > 0)
        filled = cv2.inpaint(level, mask.astype(np.uint8) * 255, RADIUS, cv2.INPAINT_TELEA)
    assert filled is not None
    filled = _add_texture(filled, cv2.resize(image, filled.shape[1::-1], interpolation=cv2.INTER_AREA), level_hole)
    return _blend(image, hole, filled)


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
    """The original outside the hole, the fill inside, through a soft seam just inside the edge."""
    width = image.shape[1]
    fill_scale = filled.shape[1] / width
    feather = max(1.0, 1.5 / fill_scale)
    weight = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), feather)
    weight = np.maximum(weight, hole.astype(np.float32))  # the hole itself is always filled
    ys, xs = np.nonzero(weight > 1 / 255)
    plate = image.copy()
    if not len(ys):
        return plate
    # Only the hole and its seam are upsampled and blended: cheap at 12 MP.
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    fy0, fx0 = int(y0 * fill_scale), int(x0 * fill_scale)
    fy1 = min(filled.shape[0], int(np.ceil(y1 * fill_scale)) + 2)
    fx1 = min(filled.shape[1], int(np.ceil(x1 * fill_scale)) + 2)
    map_x = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * fill_scale - 0.5 - fx0)
    map_y = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * fill_scale - 0.5 - fy0)
    grid_x, grid_y = np.meshgrid(map_x, map_y)
    patch = cv2.remap(filled[fy0:fy1, fx0:fx1], grid_x, grid_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    w = weight[y0:y1, x0:x1, None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    plate[y0:y1, x0:x1] = np.clip(region + w * (patch.astype(np.float32) - region) + 0.5, 0, 255).astype(np.uint8)
    return plate
