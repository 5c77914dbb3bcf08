"""BT.709 limited-range conversion, the matrix the output is tagged with."""

from __future__ import annotations

import numpy as np

from refvid.media.color import i420_planes, i420_to_rgb, rgb_to_i420, rgb_to_yuv444


def test_reference_values() -> None:
    pixels = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 0, 255]]], np.uint8)
    yuv = rgb_to_yuv444(pixels)[0].astype(int)
    assert yuv[0].tolist() == [235, 128, 128]
    assert yuv[1].tolist() == [16, 128, 128]
    # BT.709 red and blue (ITU-R BT.709 table, 8-bit): these differ from BT.601's 81/90/240.
    assert np.abs(yuv[2] - [63, 102, 240]).max() <= 1
    assert np.abs(yuv[3] - [32, 240, 118]).max() <= 1


def test_round_trip_on_a_smooth_image() -> None:
    yy, xx = np.mgrid[0:120, 0:160]
    rgb = np.stack([xx * 1.5, yy * 2, 255 - xx], axis=-1).clip(0, 255).astype(np.uint8)
    back = i420_to_rgb(rgb_to_i420(rgb))
    assert np.abs(back.astype(int) - rgb).mean() < 1.5


def test_plane_layout() -> None:
    frame = rgb_to_i420(np.full((4, 6, 3), 255, np.uint8))
    assert frame.shape == (6, 6)
    y, u, v = i420_planes(frame)
    assert y.shape == (4, 6) and u.shape == (2, 3) and v.shape == (2, 3)
    assert (y == 235).all() and (u == 128).all() and (v == 128).all()
