"""The reference images as VACE is given them: subject or whole photo, on a native-size canvas.

VACE's authors recommend the subject cut out on white over a whole photo (a whole photo
tends to copy its background into the video and morph out of the reference in the first
frames). Where the per-reference analysis (:mod:`refvid.vision.cutout`) finds a usable
subject, that subject on white is the reference; otherwise the whole photo is.

Each image is fitted onto a white canvas of exactly the native size, so the pipeline
(which would otherwise round the size down to a multiple of 8 and resize a second time)
passes it through untouched. diffusers prepends each reference's latent in turn, so the
model sees the last one first; :func:`pipeline_order` reverses the list so that the
model sees them in the prompt's order (image 1 first), as the VACE reference code does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from refvid.references import Reference
from refvid.vision.cutout import Cutout, cutout
from refvid.vision.models import ModelMissing

log = logging.getLogger(__name__)

WHITE = (255, 255, 255)
# Room around a cut-out subject, as a share of its larger side, so edges are not clipped.
SUBJECT_MARGIN = 0.06


@dataclass(frozen=True)
class ReferenceChoice:
    """How one reference is shown to VACE, and why (recorded in the plan)."""

    index: int
    presentation: Literal["cutout", "photo"]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for the plan."""
        return {"index": self.index, "presentation": self.presentation, "reason": self.reason}


def choose(references: Sequence[Reference]) -> list[ReferenceChoice]:
    """For each reference: its subject on white where a usable cut-out exists, else the photo."""
    choices = []
    for reference in references:
        _, choice = _subject_or_photo(reference)
        choices.append(choice)
    return choices


def vace_images(references: Sequence[Reference], width: int, height: int) -> list[np.ndarray]:
    """The images to pass as ``reference_images``, native size, in the pipeline's order."""
    images = [_subject_or_photo(reference)[0] for reference in references]
    return pipeline_order([on_canvas(image, width, height) for image in images])


def pipeline_order(images: list[Any]) -> list[Any]:
    """Reverse: diffusers prepends reference latents one by one, so the last goes first."""
    return images[::-1]


def on_canvas(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Fit an RGB image inside ``width`` x ``height`` (aspect kept) and centre it on white."""
    source_height, source_width = image.shape[:2]
    scale = min(width / source_width, height / source_height)
    fitted_width = min(width, max(1, round(source_width * scale)))
    fitted_height = min(height, max(1, round(source_height * scale)))
    if (fitted_width, fitted_height) != (source_width, source_height):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, (fitted_width, fitted_height), interpolation=interpolation)
    canvas = np.full((height, width, 3), WHITE, dtype=np.uint8)
    top, left = (height - fitted_height) // 2, (width - fitted_width) // 2
    canvas[top : top + fitted_height, left : left + fitted_width] = image
    return canvas


def _subject_or_photo(reference: Reference) -> tuple[np.ndarray, ReferenceChoice]:
    """The image to use and the recorded choice; the analysis is cached by content hash."""
    analysis, problem = _analysis(reference.image)
    if analysis is None:
        return reference.image, ReferenceChoice(reference.index, "photo", problem)
    if not analysis.usable:
        return reference.image, ReferenceChoice(reference.index, "photo", analysis.reason)
    subject = analysis.on_background(WHITE)
    if analysis.box is not None:
        subject = _crop(subject, analysis.box)
    return subject, ReferenceChoice(reference.index, "cutout", analysis.reason)


def _analysis(image: np.ndarray) -> tuple[Cutout | None, str]:
    """The per-reference analysis, or why there is none (whole photos still render)."""
    try:
        return cutout(image), ""
    except ModelMissing as exc:
        log.warning("wan: subject cut-outs unavailable, using whole photos: %s", exc)
        return None, f"no subject analysis: {exc}"


def _crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The subject's box with a small margin, inside the image."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    margin = round(SUBJECT_MARGIN * max(x1 - x0, y1 - y0))
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(width, x1 + margin), min(height, y1 + margin)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image
    return image[y0:y1, x0:x1]
