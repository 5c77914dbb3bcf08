"""Soft alpha mattes: a coarse mask (person segmentation or GrabCut) refined along the image's edges.

Refinement is He et al.'s guided filter with the colour image as guide, which snaps a coarse
mask to the picture's own edges and leaves a soft, anti-aliased border. Mattes are made at a
working resolution and brought to full size with the fast guided filter (the linear
coefficients are upsampled, not the matte), so edges stay sharp at any size. Foreground
colour is estimated where alpha is fractional, so a cut-out carries no halo of its old
background.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

from refvid.vision.models import load

SEGMENTATION_MODEL: Final = "selfie_segmentation.tflite"


def person_probability(image: np.ndarray) -> np.ndarray:
    """Probability (float32, image size) that each pixel belongs to a person, from an RGB image."""
    model = load(SEGMENTATION_MODEL)
    tensor = cv2.resize(image, model.input_size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    (output,) = model.run(tensor)
    probability = np.clip(output[:, :, 0], 0, 1)
    height, width = image.shape[:2]
    return cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)


def grabcut_mask(image: np.ndarray, box: tuple[int, int, int, int], probable: np.ndarray | None = None) -> np.ndarray:
    """Foreground mask (bool) of the object inside ``box`` (x0, y0, x1, y1) of an RGB image.

    Outside the box is background for sure; ``probable`` (bool, optional) marks pixels that
    are probably foreground (a saliency seed), the rest of the box probably background.
    """
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    mask = np.full((height, width), cv2.GC_BGD, np.uint8)
    mask[y0:y1, x0:x1] = cv2.GC_PR_BGD
    if probable is not None:
        mask[(mask == cv2.GC_PR_BGD) & probable] = cv2.GC_PR_FGD
    else:
        mask[y0:y1, x0:x1] = cv2.GC_PR_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # cv2.grabCut draws from OpenCV's global RNG when it seeds its colour models.
    cv2.setRNGSeed(0)
    cv2.grabCut(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 4,  # type: ignore[call-overload]
                cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def _box(values: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(values, cv2.CV_32F, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's box-averaged linear coefficients: ``src ≈ sum(a * guide) + b``.

    ``guide`` is float32 (H, W, 3) in 0..1, ``src`` float32 (H, W). Returns a (H, W, 3) and b (H, W).
    """
    mean_i = [_box(guide[:, :, c], radius) for c in range(3)]
    mean_p = _box(src, radius)
    cov = [_box(guide[:, :, c] * src, radius) - mean_i[c] * mean_p for c in range(3)]
    # The guide's 3x3 covariance per pixel, regularised by eps, inverted by cofactors
    # (element-wise on whole planes: many times faster than a batched np.linalg.solve).
    def var(i: int, j: int) -> np.ndarray:
        v = _box(guide[:, :, i] * guide[:, :, j], radius) - mean_i[i] * mean_i[j]
        return v + eps if i == j else v

    rr, rg, rb, gg, gb, bb = var(0, 0), var(0, 1), var(0, 2), var(1, 1), var(1, 2), var(2, 2)
    inv_rr, inv_rg, inv_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    inv_gg, inv_gb, inv_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * inv_rr + rg * inv_rg + rb * inv_rb
    a_r = (inv_rr * cov[0] + inv_rg * cov[1] + inv_rb * cov[2]) / det
    a_g = (inv_rg * cov[0] + inv_gg * cov[1] + inv_gb * cov[2]) / det
    a_b = (inv_rb * cov[0] + inv_gb * cov[1] + inv_bb * cov[2]) / det
    b = mean_p - a_r * mean_i[0] - a_g * mean_i[1] - a_b * mean_i[2]
    a = np.dstack([_box(a_r, radius), _box(a_g, radius), _box(a_b, radius)])
    return a, _box(b, radius)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-aware smoothing of ``src`` (float32 H x W) along the edges of ``guide`` (float32 RGB 0..1)."""
    a, b = guided_coefficients(guide, src, radius, eps)
    return np.einsum("hwc,hwc->hw", a, guide) + b


def refine(image: np.ndarray, coarse: np.ndarray, radius: int, eps: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """A coarse matte (float32 0..1) snapped to the edges of ``image`` (RGB uint8, same size).

    Returns the coefficients (a, b) so the caller can apply them at another resolution.
    """
    guide = image.astype(np.float32) / 255
    return guided_coefficients(guide, coarse.astype(np.float32), radius, eps)


def apply_coefficients(image: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Alpha (float32 0..1) at ``image``'s size from coefficients made at any smaller size."""
    height, width = image.shape[:2]
    size = (width, height)
    same = a.shape[:2] == (height, width)
    alpha = b.copy() if same else cv2.resize(b, size, interpolation=cv2.INTER_LINEAR)
    for channel in range(3):
        # One channel at a time: a 12 MP image never holds a full-size float RGB copy.
        coefficient = a[:, :, channel] if same else cv2.resize(
            np.ascontiguousarray(a[:, :, channel]), size, interpolation=cv2.INTER_LINEAR)
        alpha += coefficient * image[:, :, channel].astype(np.float32) * (1 / 255)
    return np.clip(alpha, 0, 1, out=alpha)


def upsample(image: np.ndarray, small_alpha: np.ndarray, a: np.ndarray, b: np.ndarray,
             stretch: tuple[float, float]) -> np.ndarray:
    """Alpha at ``image``'s size from the matte and coefficients made at a smaller size.

    Away from the subject's border the small matte is 0 or 1 and is simply scaled; on the
    border band the guided filter's linear model is evaluated per full-size pixel (the
    fast guided filter), then :func:`sharpen` ed like the small matte, so edges follow the
    full-size picture.
    """
    height, width = image.shape[:2]
    small_h, small_w = small_alpha.shape
    alpha = cv2.resize(small_alpha, (width, height), interpolation=cv2.INTER_LINEAR)
    fractional = ((small_alpha > 0) & (small_alpha < 1)).astype(np.uint8)
    band = cv2.resize(cv2.dilate(fractional, np.ones((3, 3), np.uint8)), (width, height),
                      interpolation=cv2.INTER_NEAREST)
    ys, xs = _nonzero(band)
    if not len(ys):
        return alpha
    map_x = ((xs + 0.5) * (small_w / width) - 0.5).astype(np.float32)
    map_y = ((ys + 0.5) * (small_h / height) - 0.5).astype(np.float32)
    coefficients = _sample(np.dstack([a, b]).astype(np.float32), map_x, map_y)
    pixels = image[ys, xs].astype(np.float32) * (1 / 255)
    values = np.einsum("nc,nc->n", coefficients[:, :3], pixels) + coefficients[:, 3]
    alpha[ys, xs] = sharpen(np.clip(values, 0, 1), *stretch)
    return alpha


def sharpen(alpha: np.ndarray, low: float = 0.1, high: float = 0.9) -> np.ndarray:
    """Stretch alpha so values below ``low`` become 0 and above ``high`` 1 (smoothly in between)."""
    t = np.clip((alpha - low) * (1 / (high - low)), 0, 1).astype(np.float32, copy=False)
    shaped = np.multiply(t, -2, dtype=np.float32)
    shaped += 3
    shaped *= t
    shaped *= t
    return shaped


def estimate_colours(image: np.ndarray, alpha: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Smooth estimates of foreground and background colour (float32 RGB 0..255) at every pixel.

    Normalised convolution: each is the local average of the pixels that surely belong to
    it, spread outward over a few scales so every pixel of the border band gets a value.
    """
    img = image.astype(np.float32)
    results = []
    for weight in ((alpha > 0.95).astype(np.float32), (alpha < 0.05).astype(np.float32)):
        estimate = np.zeros_like(img)
        known = np.zeros(alpha.shape, np.float32)
        for scale in (1, 3, 9):
            r = max(1, radius * scale)
            total = _box(weight, r)
            colour = _box(img * weight[:, :, None], r) / np.maximum(total, 1e-6)[:, :, None]
            fresh = (known == 0) & (total > 1e-3)
            estimate[fresh] = colour[fresh]
            known[fresh] = 1
        fallback = img[weight > 0].mean(axis=0) if weight.any() else img.reshape(-1, 3).mean(axis=0)
        estimate[known == 0] = fallback
        results.append(estimate)
    return results[0], results[1]


def foreground_colour(image: np.ndarray, alpha: np.ndarray, fg_estimate: np.ndarray,
                      bg_estimate: np.ndarray) -> np.ndarray:
    """Foreground colour (uint8 RGB, image size) from I = αF + (1-α)B, given smooth estimates.

    The estimates may be at a smaller size. Only the border band (0 < α < 1) is solved;
    where alpha is small the estimate dominates, so the old background's colour does not
    bleed into the cut-out's edge.
    """
    height, width = alpha.shape
    colour = image.copy()
    fractional = (cv2.inRange(alpha, *_strictly_between(1 / 255, 254 / 255)) if alpha.dtype == np.float32
                  else ((alpha > 1 / 255) & (alpha < 254 / 255)).view(np.uint8))
    ys, xs = _nonzero(fractional)
    if not len(ys):
        return colour
    # Bilinear samples of the small estimates at the band's pixels only.
    sy, sx = fg_estimate.shape[0] / height, fg_estimate.shape[1] / width
    map_x = ((xs + 0.5) * sx - 0.5).astype(np.float32)
    map_y = ((ys + 0.5) * sy - 0.5).astype(np.float32)
    fg, bg = _sample(fg_estimate, map_x, map_y), _sample(bg_estimate, map_x, map_y)
    a = alpha[ys, xs][:, None]
    solved = (image[ys, xs].astype(np.float32) - (1 - a) * bg) / np.maximum(a, 0.05)
    trust = np.clip((a - 0.2) / 0.6, 0, 1)  # alpha 0.2 -> estimate only, 0.8 -> solved only
    mixed = trust * np.clip(solved, 0, 255) + (1 - trust) * fg
    colour[ys, xs] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return colour


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a uint8 mask (rows, then columns, in the same order), a few times faster."""
    points = cv2.findNonZero(mask)
    if points is None:
        empty = np.zeros(0, np.intp)
        return empty, empty
    points = points.reshape(-1, 2)
    return points[:, 1].astype(np.intp), points[:, 0].astype(np.intp)


def _strictly_between(low: float, high: float) -> tuple[float, float]:
    """Bounds for ``cv2.inRange`` (inclusive) on float32 values that keep ``low < v < high``
    as NumPy compares float32 with a Python float (in float32)."""
    return (float(np.nextafter(np.float32(low), np.float32(np.inf))),
            float(np.nextafter(np.float32(high), np.float32(-np.inf))))


def _sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples (N, channels) of ``image`` at float coordinates."""
    count = len(xs)
    # cv2.remap takes maps below 32767 on each side: lay the points out in rows of 1024.
    rows = -(-count // 1024)
    grid_x = np.zeros(rows * 1024, np.float32)
    grid_y = np.zeros(rows * 1024, np.float32)
    grid_x[:count], grid_y[:count] = xs, ys
    out = cv2.remap(image, grid_x.reshape(rows, 1024), grid_y.reshape(rows, 1024), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * 1024, -1)[:count]
