"""RGB <-> I420 (yuv420p) with the BT.709 limited-range matrix the output is tagged with.

OpenCV's ``COLOR_RGB2YUV_I420`` uses BT.601 coefficients; tagging that as BT.709 would
shift colours in every player, so the matrix is applied here with ``cv2.transform``
(one SIMD pass) and chroma is averaged 2x2 with ``INTER_AREA``.
"""

from __future__ import annotations

import cv2
import numpy as np

_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB

# Rows give Y, U (Cb), V (Cr) from R, G, B in 0..255, limited range (16-235 / 16-240).
_RGB_TO_YUV = np.array(
    [
        [_KR * 219 / 255, _KG * 219 / 255, _KB * 219 / 255, 16.0],
        [-_KR / (2 * (1 - _KB)) * 224 / 255, -_KG / (2 * (1 - _KB)) * 224 / 255, 0.5 * 224 / 255, 128.0],
        [0.5 * 224 / 255, -_KG / (2 * (1 - _KR)) * 224 / 255, -_KB / (2 * (1 - _KR)) * 224 / 255, 128.0],
    ],
    dtype=np.float64,
)
_YUV_TO_RGB = np.linalg.inv(np.vstack([_RGB_TO_YUV, [0, 0, 0, 1]]))[:3]

BLACK_YUV = (16, 128, 128)


def rgb_to_yuv444(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W, 3) uint8 Y, U, V at full resolution."""
    return cv2.transform(rgb, _RGB_TO_YUV)


def yuv444_to_planes(yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split full-resolution YUV into a Y plane and 2x2-averaged U and V planes."""
    height, width = yuv.shape[:2]
    y = np.ascontiguousarray(yuv[:, :, 0])
    chroma = cv2.resize(yuv[:, :, 1:], ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA)
    return y, np.ascontiguousarray(chroma[:, :, 0]), np.ascontiguousarray(chroma[:, :, 1])


def planes_to_i420(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Stack planes into the (H * 3 // 2, W) layout of a yuv420p frame (even sizes only)."""
    height, width = y.shape
    out = np.empty((height * 3 // 2, width), dtype=np.uint8)
    out[:height] = y
    out[height:].reshape(-1)[: u.size] = u.reshape(-1)
    out[height:].reshape(-1)[u.size :] = v.reshape(-1)
    return out


def rgb_to_i420(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB with even H and W -> (H * 3 // 2, W) uint8 I420, BT.709."""
    return planes_to_i420(*yuv444_to_planes(rgb_to_yuv444(rgb)))


def i420_planes(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes inside an I420 frame."""
    height = frame.shape[0] * 2 // 3
    width = frame.shape[1]
    chroma = frame[height:].reshape(-1)
    quarter = (height // 2) * (width // 2)
    return (
        frame[:height],
        chroma[:quarter].reshape(height // 2, width // 2),
        chroma[quarter:].reshape(height // 2, width // 2),
    )


def i420_to_rgb(frame: np.ndarray) -> np.ndarray:
    """(H * 3 // 2, W) I420, BT.709 limited range -> (H, W, 3) uint8 RGB."""
    y, u, v = i420_planes(frame)
    height, width = y.shape
    size = (width, height)
    yuv = cv2.merge(
        [y, cv2.resize(u, size, interpolation=cv2.INTER_LINEAR), cv2.resize(v, size, interpolation=cv2.INTER_LINEAR)]
    )
    return cv2.transform(yuv, _YUV_TO_RGB)
