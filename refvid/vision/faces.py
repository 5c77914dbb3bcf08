"""Faces with MediaPipe's BlazeFace detectors (short and full range), run on the whole picture.

Each detection has a box, a score and six keypoints (the eyes, nose tip, mouth centre and
the ear tragions) in image pixels. The short-range model finds faces filling much of the
picture (selfies, portraits), the full-range one smaller faces; their results are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

import cv2
import numpy as np

from refvid.vision.models import load


@dataclass(frozen=True)
class Face:
    """One face: box (x0, y0, x1, y1) and keypoints (6, 2) in image pixels, score in 0..1.

    Keypoints: the subject's right eye (on the image's left for a frontal face), left eye,
    nose tip, mouth centre, right ear tragion, left ear tragion.
    """

    box: tuple[float, float, float, float]
    keypoints: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class _Detector:
    model: str
    strides: tuple[int, ...]
    anchors_per_layer: int  # 2 with the interpolated scale, 1 without
    min_score: float


_SHORT: Final = _Detector("face_detection_short_range.tflite", (8, 16, 16, 16), 2, 0.5)
_FULL: Final = _Detector("face_detection_full_range_sparse.tflite", (4,), 1, 0.6)
MIN_SUPPRESSION_IOU: Final = 0.3


def detect_faces(image: np.ndarray) -> list[Face]:
    """Faces in an RGB uint8 image, largest first (an empty list when there are none)."""
    found = _run(_SHORT, image) + _run(_FULL, image)
    faces = _weighted_nms(found)
    return sorted(faces, key=lambda f: -f.width * f.height)


def _run(detector: _Detector, image: np.ndarray) -> list[Face]:
    model = load(detector.model)
    side = model.input_size[0]
    tensor, scale, pad_x, pad_y = _letterbox(image, side)
    regressors, scores = model.run(tensor * (2 / 255) - 1)
    anchors = _anchors(side, detector.strides, detector.anchors_per_layer)
    logits = np.clip(scores[:, 0].astype(np.float64), -100, 100)
    probability = 1 / (1 + np.exp(-logits))
    keep = np.flatnonzero(probability >= detector.min_score)
    faces = []
    for i in keep:
        raw = regressors[i] / side
        cx, cy = raw[0] + anchors[i, 0], raw[1] + anchors[i, 1]
        w, h = raw[2], raw[3]
        points = raw[4:16].reshape(6, 2) + anchors[i]
        # Square letterbox units -> image pixels.
        to_px = side / scale
        box = ((cx - w / 2) * to_px - pad_x, (cy - h / 2) * to_px - pad_y,
               (cx + w / 2) * to_px - pad_x, (cy + h / 2) * to_px - pad_y)
        keypoints = points * to_px - np.array([pad_x, pad_y])
        faces.append(Face(tuple(float(v) for v in box), keypoints.astype(np.float32),  # type: ignore[arg-type]
                          float(probability[i])))
    return faces


def _letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, float, float, float]:
    """The image scaled to fit a side x side square, centred on black; scale and padding (image px)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    square = np.zeros((side, side, 3), np.float32)
    x0, y0 = (side - w) // 2, (side - h) // 2
    square[y0 : y0 + h, x0 : x0 + w] = small
    return square, scale, x0 / scale, y0 / scale


@cache
def _anchors(side: int, strides: tuple[int, ...], per_layer: int) -> np.ndarray:
    """SSD anchor centres (N, 2) in 0..1, in the order the detector's outputs use."""
    centres = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        count = 0
        while layer < len(strides) and strides[layer] == stride:  # same stride: one grid
            count += per_layer
            layer += 1
        cells = int(np.ceil(side / stride))
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * count
    return np.array(centres, np.float32)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _weighted_nms(faces: list[Face]) -> list[Face]:
    """MediaPipe's weighted suppression: overlapping detections are averaged by score."""
    remaining = sorted(faces, key=lambda f: -f.score)
    merged = []
    while remaining:
        best = remaining[0]
        group = [f for f in remaining if _iou(best.box, f.box) >= MIN_SUPPRESSION_IOU]
        remaining = [f for f in remaining if _iou(best.box, f.box) < MIN_SUPPRESSION_IOU]
        weights = np.array([f.score for f in group])
        box = np.average(np.array([f.box for f in group]), axis=0, weights=weights)
        points = np.average(np.stack([f.keypoints for f in group]), axis=0, weights=weights)
        merged.append(Face(tuple(float(v) for v in box), points.astype(np.float32), best.score))  # type: ignore[arg-type]
    return merged
