"""decode.py: real JPEG/PNG/WebP bytes made with Pillow, every limit at its boundary."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from refvid.errors import InvalidReference
from refvid.references.decode import (
    MAX_BASE64_BYTES,
    MAX_PIXELS,
    decode_base64,
    decode_image,
    max_base64_chars,
    sniff_format,
)

from .helpers import encode, quadrants

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def stored_for(displayed: np.ndarray, orientation: int) -> np.ndarray:
    """What a camera stores for ``displayed`` under an EXIF orientation (written from the spec's
    row-0/column-0 table, independently of the decoder's implementation)."""
    d = displayed
    return {
        1: d,  # row 0 = top, column 0 = left
        2: d[:, ::-1],  # row 0 = top, column 0 = right
        3: d[::-1, ::-1],  # row 0 = bottom, column 0 = right
        4: d[::-1, :],  # row 0 = bottom, column 0 = left
        5: d.transpose(1, 0, 2),  # row 0 = left, column 0 = top
        6: d[:, ::-1].transpose(1, 0, 2),  # row 0 = right, column 0 = top
        7: d[::-1, ::-1].transpose(1, 0, 2),  # row 0 = right, column 0 = bottom
        8: d[::-1, :].transpose(1, 0, 2),  # row 0 = left, column 0 = bottom
    }[orientation]


def quadrant_colours(image: np.ndarray) -> list[tuple[int, ...]]:
    h, w = image.shape[:2]
    points = [(h // 4, w // 4), (h // 4, 3 * w // 4), (3 * h // 4, w // 4), (3 * h // 4, 3 * w // 4)]
    # Snap to 0/255: JPEG is lossy, but the flat quadrants stay far from the midpoint.
    return [tuple(int(v > 127) * 255 for v in image[y, x]) for y, x in points]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` but that carries almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_each_accepted_format_decodes_to_rgb(fmt: str) -> None:
    data = encode(quadrants(256, 160), fmt, quality=95) if fmt != "PNG" else encode(quadrants(256, 160), fmt)
    assert sniff_format(data) == fmt
    image = decode_image(data, 0)
    assert image.shape == (160, 256, 3)
    assert image.dtype == np.uint8
    assert image.flags.writeable and image.flags.c_contiguous
    assert quadrant_colours(image) == [RED, GREEN, BLUE, WHITE]


@pytest.mark.parametrize(
    ("fmt", "named"), [("GIF", "a GIF image"), ("BMP", "a BMP image"), ("TIFF", "a TIFF image")]
)
def test_other_image_formats_are_named_and_refused(fmt: str, named: str) -> None:
    data = encode(Image.new("RGB", (200, 200), RED), fmt)
    with pytest.raises(InvalidReference) as info:
        decode_image(data, 3)
    message = str(info.value)
    assert message.startswith("image_urls[3]: ")
    assert named in message and "convert it to JPEG, PNG or WebP" in message


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x00\x00\x00\x18ftypheic" + b"\0" * 64, "a HEIC image"),
        (b"%PDF-1.7\n" + b"\0" * 64, "a PDF document"),
        (b"<!doctype html><html>", "text (HTML, XML or SVG?)"),
        (b'{"error": "not found"}', "JSON text"),
    ],
)
def test_non_images_are_described(data: bytes, named: str) -> None:
    with pytest.raises(InvalidReference, match=r"not a JPEG, PNG or WebP image") as info:
        decode_image(data, 0)
    assert named in str(info.value)


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(InvalidReference, match=r"image_urls\[0\]: is empty"):
        decode_image(b"", 0)


# --- EXIF orientation ---------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_exif_orientations_are_honoured_for_jpeg(orientation: int) -> None:
    displayed = quadrants(256, 160)  # landscape, so a missed 90° turn changes the shape too
    stored = stored_for(displayed, orientation)
    data = encode(stored, "JPEG", quality=95, exif=exif_bytes(orientation))
    image = decode_image(data, 0)
    assert image.shape == displayed.shape
    assert quadrant_colours(image) == [RED, GREEN, BLUE, WHITE]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_is_honoured_for_png_and_webp(fmt: str, orientation: int) -> None:
    displayed = quadrants(256, 160)
    params = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(stored_for(displayed, orientation), fmt, exif=exif_bytes(orientation), **params)
    image = decode_image(data, 0)
    assert np.array_equal(image, displayed)


def test_out_of_range_orientation_is_ignored() -> None:
    data = encode(quadrants(256, 160), "PNG", exif=exif_bytes(9))
    assert np.array_equal(decode_image(data, 0), quadrants(256, 160))


# --- size and aspect limits ---------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(128, 128), (512, 128), (128, 512)])
def test_smallest_and_most_elongated_allowed_sizes_decode(width: int, height: int) -> None:
    image = decode_image(encode(Image.new("RGB", (width, height), BLUE), "PNG"), 0)
    assert image.shape == (height, width, 3)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (127, 200, "is 127×200 pixels; references must be at least 128×128 pixels"),
        (200, 127, "is 200×127 pixels; references must be at least 128×128 pixels"),
        (513, 128, "an aspect ratio of 4.01:1; references must be between 1:4 and 4:1"),
        (128, 513, "an aspect ratio of 1:4.01; references must be between 1:4 and 4:1"),
    ],
)
def test_too_small_or_too_elongated_is_refused(width: int, height: int, expected: str) -> None:
    with pytest.raises(InvalidReference) as info:
        decode_image(encode(Image.new("RGB", (width, height), BLUE), "PNG"), 2)
    assert str(info.value).startswith("image_urls[2]: ")
    assert expected in str(info.value)


def test_size_message_uses_the_displayed_orientation() -> None:
    stored = np.zeros((90, 300, 3), np.uint8)  # stored landscape, displayed portrait 90×300
    data = encode(stored, "JPEG", exif=exif_bytes(6))
    with pytest.raises(InvalidReference, match=r"is 90×300 pixels; references must be at least"):
        decode_image(data, 0)


def test_pixel_cap_is_checked_from_the_header_before_decoding() -> None:
    data = png_header_only(10_000, 6_000)  # 60 MP declared; the pixel data is absent
    assert len(data) < 200
    with pytest.raises(InvalidReference, match=r"is 10000×6000 pixels \(60.0 megapixels\).*at most 50 megapixels"):
        decode_image(data, 0)


def test_pillow_decompression_bomb_warning_and_error_become_invalid_reference() -> None:
    # 100 MP is past Pillow's warning threshold, 400 MP past its error threshold.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for side in (10_000, 20_000):
            with pytest.raises(InvalidReference, match="megapixels"):
                decode_image(png_header_only(side, side), 0)


def test_pixel_cap_applies_to_jpeg_headers() -> None:
    data = bytearray(encode(Image.new("RGB", (200, 200), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30_000, 30_000)
    with pytest.raises(InvalidReference, match=r"30000×30000 pixels \(900.0 megapixels\)"):
        decode_image(bytes(data), 0)


def test_pixel_cap_is_configurable() -> None:
    data = encode(Image.new("RGB", (1000, 1000), RED), "PNG")
    assert decode_image(data, 0, max_pixels=1_000_000).shape == (1000, 1000, 3)
    with pytest.raises(InvalidReference, match=r"at most 0\.999999 megapixels"):
        decode_image(data, 0, max_pixels=999_999)
    assert MAX_PIXELS == 50_000_000


# --- reduced-size decoding ----------------------------------------------------------------


def test_large_jpeg_is_dct_scaled_but_never_below_the_working_side() -> None:
    data = encode(quadrants(3840, 3900), "JPEG", quality=90)
    image = decode_image(data, 0)  # default working side 1920: halves to 1920×1950
    assert image.shape == (1950, 1920, 3)
    assert quadrant_colours(image) == [RED, GREEN, BLUE, WHITE]
    assert decode_image(data, 0, working_side=0).shape == (3900, 3840, 3)


@pytest.mark.parametrize(("size", "expected"), [((1200, 800), (200, 300)), ((1000, 700), (200, 286))])
def test_every_reference_ends_with_its_short_side_at_the_working_side(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    # 1200x800 DCT-scales by 1/4 to exactly 300x200; 1000x700 by 1/2 to 500x350, then shrinks.
    for fmt in ("JPEG", "PNG", "WEBP"):
        image = decode_image(encode(quadrants(*size), fmt), 0, working_side=200)
        assert image.shape[:2] == expected
        assert quadrant_colours(image) == [RED, GREEN, BLUE, WHITE]


def test_orientation_is_applied_after_dct_scaling() -> None:
    displayed = quadrants(800, 1200)
    data = encode(stored_for(displayed, 6), "JPEG", quality=95, exif=exif_bytes(6))
    image = decode_image(data, 0, working_side=200)
    assert image.shape == (300, 200, 3)
    assert quadrant_colours(image) == [RED, GREEN, BLUE, WHITE]


def test_enormous_png_is_resized_with_area_filter() -> None:
    image = decode_image(encode(quadrants(1000, 900), "PNG"), 0, working_side=200)
    assert image.shape == (200, 222, 3)
    assert quadrant_colours(image) == [RED, GREEN, BLUE, WHITE]
    assert decode_image(encode(quadrants(400, 400), "PNG"), 0, working_side=200).shape == (200, 200, 3)
    # Images at or below the working side are left alone.
    small = quadrants(300, 200)
    assert np.array_equal(decode_image(encode(small, "PNG"), 0, working_side=200), small)


def test_strips_give_the_same_pixels_as_one_whole_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    rgba = rng.integers(0, 256, (1000, 700, 4), np.uint8)
    data = encode(Image.fromarray(rgba, "RGBA"), "PNG")
    whole = decode_image(data, 0, working_side=300)
    monkeypatch.setattr("refvid.references.decode.STRIP_PIXELS", 700 * 7)  # 7-row strips
    striped = decode_image(data, 0, working_side=300)
    assert striped.shape == whole.shape == (429, 300, 3)
    assert np.abs(striped.astype(int) - whole.astype(int)).max() <= 1


def test_alpha_over_white_matches_the_exact_formula() -> None:
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, (256, 256, 4), np.uint8)
    image = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), 0)
    c, a = rgba[..., :3].astype(int), rgba[..., 3:4].astype(int)
    assert np.array_equal(image, (c * a + 255 * (255 - a) + 127) // 255)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["RGBA", "I;16", "LA"])
def test_a_tall_png_decodes_within_a_memory_bound(mode: str, tmp_path: Path) -> None:
    # 3600x13800 is 49.7 MP, 1:3.83: inside every limit, about 100-200 KB on the wire.
    # Pillow holds it at up to 4 bytes a pixel (190 MiB); converting it whole used to
    # peak at 1.2 GiB. Measured in a fresh process by its peak resident size.
    path = tmp_path / "tall.png"
    w, h = 3600, 13800
    if mode == "RGBA":
        pixels = np.zeros((h, w, 4), np.uint8)
        pixels[..., 0], pixels[..., 3] = 200, 255
        pixels[h // 3 : h // 2, :, 3] = 0
        image = Image.fromarray(pixels)
    elif mode == "LA":
        image = Image.new("LA", (w, h), (90, 128))
    else:
        image = Image.fromarray((np.arange(w, dtype=np.uint16)[None, :] * 17).repeat(h, 0))
    image.save(path, "PNG", optimize=True)
    del image
    assert path.stat().st_size < 300_000
    script = (
        "import sys\n"
        "from refvid.references.decode import decode_image\n"
        "def kib(name):\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(name))\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "base = kib('VmRSS')\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "image = decode_image(data, 0)\n"
        "print(image.shape[0], image.shape[1], kib('VmHWM') - base)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", script, str(path)], env=env, capture_output=True, text=True, check=True)
    height, width, peak_kib = map(int, out.stdout.split())
    print(f"{mode} 3600x13800 PNG: decoded to {width}x{height}, peak +{peak_kib / 1024:.0f} MiB")
    assert (width, height) == (1920, 7360)
    assert peak_kib < 450 * 1024


# --- pixel formats ------------------------------------------------------------------------


def test_alpha_is_composited_on_white() -> None:
    rgba = np.zeros((128, 128, 4), np.uint8)
    rgba[..., 0] = 255  # red...
    rgba[:, :64, 3] = 0  # ...fully transparent on the left
    rgba[:, 64:, 3] = 128  # ...half transparent on the right
    image = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), 0)
    assert tuple(image[0, 0]) == WHITE
    assert tuple(image[0, 100]) == (255, 127, 127)


def test_palette_with_transparency_and_greyscale_alpha() -> None:
    palette = Image.new("P", (128, 128), 0)
    palette.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    palette.info["transparency"] = 0
    assert tuple(decode_image(encode(palette, "PNG", transparency=0), 0)[5, 5]) == WHITE
    la = Image.new("LA", (128, 128), (0, 255))
    assert tuple(decode_image(encode(la, "PNG"), 0)[5, 5]) == (0, 0, 0)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    values = np.full((128, 128), 65535, np.uint16)
    values[:, 64:] = 32896  # 128 × 257
    image = decode_image(encode(Image.fromarray(values), "PNG"), 0)
    assert tuple(image[0, 0]) == (255, 255, 255)
    assert tuple(image[0, 100]) == (128, 128, 128)


@pytest.mark.parametrize(
    ("mode", "colour", "fmt", "expected"),
    [
        ("L", 200, "JPEG", (200, 200, 200)),
        ("1", 1, "PNG", (255, 255, 255)),
        ("CMYK", (0, 255, 255, 0), "JPEG", (255, 0, 0)),
        ("P", 0, "PNG", (0, 0, 0)),
    ],
)
def test_other_modes_become_rgb(mode: str, colour: object, fmt: str, expected: tuple[int, ...]) -> None:
    image = decode_image(encode(Image.new(mode, (128, 128), colour), fmt), 0)  # type: ignore[arg-type]
    assert image.shape == (128, 128, 3)
    assert np.abs(image[64, 64].astype(int) - expected).max() <= 3


# --- corrupt data -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_data_is_a_clear_error(fmt: str) -> None:
    rng = np.random.default_rng(1)
    data = encode(rng.integers(0, 256, (300, 300, 3), np.uint8), fmt)
    with pytest.raises(InvalidReference, match=r"truncated or corrupt — re-export the image"):
        decode_image(data[: len(data) // 2], 1)


# --- base64 and data URIs -----------------------------------------------------------------


def test_base64_forms_clients_send_are_accepted() -> None:
    data = encode(quadrants(200, 200), "PNG")
    text = base64.b64encode(data).decode()
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    for form in (
        text,
        wrapped,
        text.rstrip("="),
        base64.urlsafe_b64encode(data).decode(),
        f"data:image/png;base64,{text}",
        f"DATA:IMAGE/PNG;BASE64,{text}",
        f"data:image/png;name=cat.png;base64,{text}",
        f"data:image/jpeg;base64,{text}",  # declared type is wrong; the bytes are sniffed
    ):
        assert decode_base64(form, 0) == data
    assert decode_base64("QUJDRA", 0) == b"ABCD"  # padding omitted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data:text/html;base64,PGh0bWw+", "declares type 'text/html', which is not an image"),
        ("data:image/png,%89PNG", "data URI is not base64-encoded"),
        ("data:image/png;base64", "data URI has no ','"),
        ("data:image/png;base64,", "base64 data is empty"),
        ("aGVsbG8gd29ybGQ!", "is not valid base64 (unexpected character '!')"),
        ("QUJDR", "impossible length (cut off?)"),
    ],
)
def test_bad_base64_and_data_uris_are_refused_clearly(text: str, expected: str) -> None:
    with pytest.raises(InvalidReference) as info:
        decode_base64(text, 4)
    assert str(info.value).startswith("image_urls[4]: ")
    assert expected in str(info.value)


def test_base64_size_limit_boundary() -> None:
    exact = base64.b64encode(b"x" * 30).decode()
    assert decode_base64(exact, 0, max_bytes=30) == b"x" * 30
    with pytest.raises(InvalidReference, match=r"at most 2.86102e-05 MB decoded"):
        decode_base64(base64.b64encode(b"x" * 31).decode(), 0, max_bytes=30)


def test_huge_base64_is_refused_from_its_length_alone() -> None:
    # Not valid base64 at all: proves the length check runs before any decoding.
    huge = "!" * (max_base64_chars(MAX_BASE64_BYTES) * 2)
    with pytest.raises(InvalidReference, match=r"base64 references may be at most 10 MB decoded"):
        decode_base64(huge, 0)
    just_over = "A" * (max_base64_chars(MAX_BASE64_BYTES) + 4)
    with pytest.raises(InvalidReference, match=r"decodes to 10.0 MB; base64 references may be at most 10 MB"):
        decode_base64(just_over, 0)


# --- robustness ---------------------------------------------------------------------------

_SEEDS = {
    fmt: encode(np.random.default_rng(2).integers(0, 256, (130, 140, 3), np.uint8), fmt)
    for fmt in ("JPEG", "PNG", "WEBP")
}


@st.composite
def damaged_images(draw: st.DrawFn) -> bytes:
    data = bytearray(_SEEDS[draw(st.sampled_from(sorted(_SEEDS)))])
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


def _decodes_or_refuses(data: bytes) -> None:
    try:
        image = decode_image(data, 0)
    except InvalidReference as exc:
        assert exc.index == 0 and str(exc).startswith("image_urls[0]: ")
    else:
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        assert min(image.shape[:2]) >= 128


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_images())
def test_damaged_images_decode_or_raise_invalid_reference(data: bytes) -> None:
    _decodes_or_refuses(data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP"]), st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_invalid_reference(prefix: bytes, tail: bytes) -> None:
    _decodes_or_refuses(prefix + tail)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_base64_or_invalid_reference(text: str) -> None:
    try:
        decode_base64(text, 0)
    except InvalidReference as exc:
        assert str(exc).startswith("image_urls[0]: ")
