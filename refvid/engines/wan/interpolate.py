"""Retime native frames (16 fps) to the contract's 24 fps and size, motion-compensated.

Between two native frames A and B, a frame at fraction t is drawn by warping both
towards time t along dense optical flow (OpenCV DIS, both directions) and blending
them (1 - t, t). The intermediate flows use the linear-motion approximation of
Super SloMo (Jiang et al., 2018): F_t->A = -(1-t)t F_AB + t^2 F_BA and
F_t->B = (1-t)^2 F_AB - t(1-t) F_BA. A plain crossfade would ghost anything that
moves; this keeps edges where the flow is right and degrades to a blend where it is not.

Flow and warping run at the native size; only the finished frame is upscaled
(Lanczos), so the output is honestly an upscale of the model's resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import cv2
import numpy as np

from refvid.engines.wan.sizes import crop_to_aspect

# Smallest side DIS can build a pyramid on; tiny frames are padded up to it.
_MIN_FLOW_SIDE = 32


class FlowInterpolator:
    """Draws in-between frames for a fixed sequence of native RGB frames."""

    def __init__(self, frames: Sequence[np.ndarray]) -> None:
        self._frames = frames
        self._gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames]
        self._dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_MEDIUM)
        self._pair: tuple[int, np.ndarray, np.ndarray] | None = None
        height, width = frames[0].shape[:2]
        self._grid_x, self._grid_y = np.meshgrid(
            np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
        )

    def frame_at(self, position: float) -> np.ndarray:
        """The frame at a fractional native index (clamped to the sequence)."""
        last = len(self._frames) - 1
        position = min(max(position, 0.0), float(last))
        index = int(position)
        t = position - index
        if t < 1e-6 or index >= last:
            return self._frames[index]
        if t > 1 - 1e-6:
            return self._frames[index + 1]
        forward, backward = self._flows(index)
        flow_to_a = -(1 - t) * t * forward + t * t * backward
        flow_to_b = (1 - t) * (1 - t) * forward - t * (1 - t) * backward
        warped_a = self._warp(self._frames[index], flow_to_a)
        warped_b = self._warp(self._frames[index + 1], flow_to_b)
        return cv2.addWeighted(warped_a, 1.0 - t, warped_b, t, 0.0)

    def _flows(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        # Output positions advance monotonically, so one cached pair serves 1-2 frames.
        if self._pair is None or self._pair[0] != index:
            a, b = self._gray[index], self._gray[index + 1]
            self._pair = (index, self._flow(a, b), self._flow(b, a))
        return self._pair[1], self._pair[2]

    def _flow(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        height, width = source.shape
        pad_y, pad_x = max(0, _MIN_FLOW_SIDE - height), max(0, _MIN_FLOW_SIDE - width)
        if pad_x or pad_y:
            source = cv2.copyMakeBorder(source, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
            target = cv2.copyMakeBorder(target, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
        flow = self._dis.calc(source, target, np.zeros((*source.shape, 2), dtype=np.float32))
        return np.ascontiguousarray(flow[:height, :width])

    def _warp(self, frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
        map_x = self._grid_x + flow[:, :, 0]
        map_y = self._grid_y + flow[:, :, 1]
        return cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def resize_to_output(frame: np.ndarray, out_width: int, out_height: int) -> np.ndarray:
    """Centre-crop to the output aspect, then resample: Lanczos up, area down."""
    height, width = frame.shape[:2]
    x, y, crop_width, crop_height = crop_to_aspect(width, height, out_width, out_height)
    cropped = frame[y : y + crop_height, x : x + crop_width]
    if (crop_width, crop_height) == (out_width, out_height):
        return np.ascontiguousarray(cropped)
    upscale = out_width * out_height > crop_width * crop_height
    interpolation = cv2.INTER_LANCZOS4 if upscale else cv2.INTER_AREA
    return cv2.resize(cropped, (out_width, out_height), interpolation=interpolation)


def retime(
    frames: Sequence[np.ndarray],
    positions: Sequence[float],
    size: tuple[int, int],
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[np.ndarray]:
    """Yield one RGB frame of ``size`` (width, height) per native ``position``."""
    interpolator = FlowInterpolator(frames)
    out_width, out_height = size
    for position in positions:
        if cancelled is not None and cancelled():
            return
        yield resize_to_output(interpolator.frame_at(position), out_width, out_height)
