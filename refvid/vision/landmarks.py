"""Face landmarks (MediaPipe's 468-point face mesh) and what life needs from them: eyes, mouth, pivot.

The mesh runs on a 192x192 crop around a detected face, rotated so the eyes are level
(as MediaPipe does: the detection box squared and enlarged 1.5x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from refvid.vision.faces import Face
from refvid.vision.models import load

MESH_MODEL: Final = "face_landmark.tflite"
MIN_PRESENCE: Final = 0.5
# Mesh indices (the subject's right eye is on the image's left in a frontal face).
RIGHT_EYE: Final = (33, 133, 159, 145)  # outer corner, inner corner, upper lid, lower lid
LEFT_EYE: Final = (263, 362, 386, 374)
MOUTH: Final = (61, 291, 13, 14)  # corners, inner upper lip, inner lower lip
NOSE_TIP: Final = 1
CHIN: Final = 152
FOREHEAD: Final = 10


@dataclass(frozen=True)
class Eye:
    """One eye in image pixels: its centre, width (corner to corner) and openness (lid gap / width)."""

    centre: tuple[float, float]
    width: float
    openness: float


@dataclass(frozen=True, eq=False)
class FaceLandmarks:
    """The mesh of one face, in image pixels, and the points life animates about."""

    points: np.ndarray  # (468, 2) float32
    presence: float
    right_eye: Eye
    left_eye: Eye
    mouth: tuple[float, float]
    nose: tuple[float, float]
    pivot: tuple[float, float]  # where the head turns: the top of the neck, below the chin
    roll: float  # radians; the eye line's angle (positive: the image-right eye is lower)

    @property
    def face_height(self) -> float:
        """Forehead to chin, in pixels."""
        return float(np.linalg.norm(self.points[FOREHEAD] - self.points[CHIN]))


def face_landmarks(image: np.ndarray, face: Face) -> FaceLandmarks | None:
    """The mesh of ``face`` in an RGB uint8 image, or None when the model sees no face there."""
    model = load(MESH_MODEL)
    side = model.input_size[0]
    (rx, ry), (lx, ly) = face.keypoints[0], face.keypoints[1]
    rotation = -math.atan2(-(float(ly) - float(ry)), float(lx) - float(rx))
    cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    size = max(face.width, face.height) * 1.5
    if size < 8:
        return None
    # Crop pixel (u, v) -> image point: centre + offsets along the rotated axes.
    step = size / side
    ex = np.array([math.cos(rotation), math.sin(rotation)]) * step
    ey = np.array([-math.sin(rotation), math.cos(rotation)]) * step
    origin = np.array([cx, cy]) - (ex + ey) * side / 2
    to_image = np.array([[ex[0], ey[0], origin[0]], [ex[1], ey[1], origin[1]]], np.float64)
    crop = cv2.warpAffine(image, to_image, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    mesh, flag = model.run(crop.astype(np.float32) / 255)
    presence = 1 / (1 + math.exp(-float(np.clip(flag.reshape(-1)[0], -50, 50))))
    if presence < MIN_PRESENCE:
        return None
    local = mesh.reshape(-1, 3)[:, :2].astype(np.float64)
    points = (local @ to_image[:, :2].T + to_image[:, 2]).astype(np.float32)
    chin, forehead = points[CHIN], points[FOREHEAD]
    pivot = chin + (chin - forehead) * 0.25  # a quarter of a face below the chin
    right_eye, left_eye = _eye(points, RIGHT_EYE), _eye(points, LEFT_EYE)
    roll = math.atan2(left_eye.centre[1] - right_eye.centre[1], left_eye.centre[0] - right_eye.centre[0])
    return FaceLandmarks(
        points=points,
        presence=presence,
        right_eye=right_eye,
        left_eye=left_eye,
        mouth=_xy(points[[MOUTH[2], MOUTH[3]]].mean(axis=0)),
        nose=_xy(points[NOSE_TIP]),
        pivot=_xy(pivot),
        roll=roll,
    )


def _eye(points: np.ndarray, index: tuple[int, int, int, int]) -> Eye:
    outer, inner, upper, lower = (points[i] for i in index)
    width = float(np.linalg.norm(outer - inner))
    gap = float(np.linalg.norm(upper - lower))
    return Eye(_xy((outer + inner) / 2), width, gap / width if width > 0 else 0.0)


def _xy(point: np.ndarray) -> tuple[float, float]:
    return float(point[0]), float(point[1])
