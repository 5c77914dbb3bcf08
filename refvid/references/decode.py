"""Bytes, bare base64 or data URIs -> checked, oriented 8-bit RGB pixels.

Every failure is an :class:`InvalidReference` that says what is wrong and what to change.
"""

from __future__ import annotations

import binascii
import io
import re
from typing import Final

import cv2
import numpy as np
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from refvid.errors import InvalidReference

MIN_SIDE: Final = 128
MAX_ASPECT: Final = 4.0
MAX_BASE64_BYTES: Final = 10 * 1024 * 1024  # "10 MB decoded from base64" (read as MiB)
MAX_PIXELS: Final = 50_000_000
# The largest output frame is 1920 px on either axis (1920x1080, 1080x1920, 1080x1080).
# A reference whose *short* side is 1920 can cover-fill any of them at >= 1 source pixel
# per output pixel, in either orientation, and a same-orientation photo keeps 1.78x
# headroom for the camera's zoom-ins: more pixels than that are never seen. So every
# reference is shrunk at decode to a short side of at most WORKING_SIDE (large JPEGs
# first DCT-scaled by 1/2, 1/4 or 1/8 while both sides stay >= WORKING_SIDE).
WORKING_SIDE: Final = 1920
# Pixels converted to RGB at a time. Pillow holds a decoded PNG or WebP whole (4 bytes a
# pixel, 200 MB at the 50 MP cap); converting it whole to RGB — palette, 16-bit, alpha
# over white — made several more full-size copies (a 3600x13800 PNG peaked at 1.2 GB).
# Strips of rows are converted and shrunk one at a time, so no full-size copy is made.
STRIP_PIXELS: Final = 1 << 21
EXIF_ORIENTATION: Final = 0x0112

_OPENERS: Final[dict[str, type[ImageFile.ImageFile]]] = {
    # Instantiating the three plugins directly (instead of Image.open) means attacker
    # bytes never reach any other format parser, and our own pixel cap runs before
    # Pillow's DecompressionBomb machinery could warn or raise.
    "JPEG": JpegImagePlugin.JpegImageFile,
    "PNG": PngImagePlugin.PngImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
}
_FORMAT_NAMES: Final = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
_OTHER_FORMATS: Final[tuple[tuple[bytes, int, str], ...]] = (
    (b"GIF87a", 0, "a GIF image"),
    (b"GIF89a", 0, "a GIF image"),
    (b"BM", 0, "a BMP image"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"ftypheic", 4, "a HEIC image"),
    (b"ftypheix", 4, "a HEIC image"),
    (b"ftypmif1", 4, "a HEIF image"),
    (b"ftypavif", 4, "an AVIF image"),
    (b"\x00\x00\x00\x0cjP  ", 0, "a JPEG 2000 image"),
    (b"%PDF", 0, "a PDF document"),
    (b"<", 0, "text (HTML, XML or SVG?)"),
)
_WHITESPACE: Final = re.compile(rb"\s+")
_BASE64_STD: Final = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_BASE64_URLSAFE: Final = re.compile(rb"[A-Za-z0-9_-]*={0,2}")
_ACCEPTED: Final = "JPEG, PNG or WebP"


def sniff_format(data: bytes) -> str | None:
    """Return "JPEG", "PNG" or "WEBP" from the magic bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def max_base64_chars(max_bytes: int) -> int:
    """Length of the base64 text (padded, no whitespace) that decodes to ``max_bytes``."""
    return 4 * ((max_bytes + 2) // 3)


def decode_base64(text: str, index: int, *, max_bytes: int = MAX_BASE64_BYTES) -> bytes:
    """Decode a bare base64 string or a ``data:image/...;base64,`` URI to bytes."""
    payload = text.strip()
    if payload[:5].lower() == "data:":
        payload = _data_uri_payload(payload, index)
    limit_mb = max_bytes / 1024 / 1024
    # Cheap refusal before touching the payload: allow a little slack for line breaks.
    if len(payload) > max_base64_chars(max_bytes) * 1.05 + 1024:
        raise InvalidReference(
            index,
            f"base64 data is {len(payload) / 1e6:.1f} million characters (about "
            f"{len(payload) * 3 / 4 / 1024 / 1024:.1f} MB decoded); base64 references may be at "
            f"most {limit_mb:g} MB decoded — send a smaller image or an http(s) URL",
        )
    raw = payload.encode("ascii", errors="replace")
    if _WHITESPACE.search(raw):
        raw = _WHITESPACE.sub(b"", raw)
    if not raw:
        raise InvalidReference(index, "base64 data is empty; send the image's bytes encoded as base64")
    decoded_size = len(raw) * 3 // 4 - (len(raw) - len(raw.rstrip(b"=")))
    if decoded_size > max_bytes:
        raise InvalidReference(
            index,
            f"base64 data decodes to {decoded_size / 1024 / 1024:.1f} MB; base64 references may "
            f"be at most {limit_mb:g} MB decoded — send a smaller image or an http(s) URL",
        )
    return _b64decode(raw, index)


def _data_uri_payload(uri: str, index: int) -> str:
    header, sep, payload = uri.partition(",")
    if not sep:
        raise InvalidReference(
            index, "data URI has no ',' before its data; use data:image/png;base64,<base64 data>"
        )
    params = [p.strip().lower() for p in header[5:].split(";")]
    media_type = params[0]
    if media_type and not media_type.startswith("image/"):
        raise InvalidReference(
            index,
            f"data URI declares type {media_type!r}, which is not an image; send a "
            f"{_ACCEPTED} image as data:image/jpeg;base64,...",
        )
    if "base64" not in params[1:]:
        raise InvalidReference(
            index,
            "data URI is not base64-encoded; use data:image/png;base64,<base64 data> "
            "(percent-encoded data URIs are not accepted)",
        )
    return payload


def _b64decode(raw: bytes, index: int) -> bytes:
    # Lenient about what clients commonly do (missing padding, URL-safe alphabet),
    # strict about anything else, so a file path or prose is not decoded as garbage.
    standard = _BASE64_STD.fullmatch(raw) is not None
    if not standard and _BASE64_URLSAFE.fullmatch(raw) is None:
        bad = _first_invalid_char(raw)
        raise InvalidReference(
            index,
            f"is not valid base64 (unexpected character {bad!r}); send an http(s) URL, a "
            "data:image/...;base64, URI, or the image's bytes encoded as base64",
        )
    body = raw.rstrip(b"=")
    if len(body) % 4 == 1:
        raise InvalidReference(
            index, "base64 data has an impossible length (cut off?); send the complete base64 string"
        )
    padded = body + b"=" * (-len(body) % 4)
    try:
        if standard:
            return binascii.a2b_base64(padded, strict_mode=True)
        return binascii.a2b_base64(padded.replace(b"-", b"+").replace(b"_", b"/"), strict_mode=True)
    except binascii.Error as exc:
        raise InvalidReference(index, f"is not valid base64 ({exc}); send the complete base64 string") from exc


def _first_invalid_char(raw: bytes) -> str:
    for i in range(len(raw)):
        ch = raw[i : i + 1]
        if not re.fullmatch(rb"[A-Za-z0-9+/=_-]", ch):
            return ch.decode("latin-1")
    return "?"


def describe_unknown(data: bytes) -> str:
    """A short guess at what non-image bytes are, for error messages."""
    for magic, offset, name in _OTHER_FORMATS:
        if data[offset : offset + len(magic)] == magic:
            return name
    if data.lstrip()[:1] in (b"{", b"["):
        return "JSON text"
    return "unrecognised data"


def decode_image(
    data: bytes,
    index: int,
    *,
    max_pixels: int = MAX_PIXELS,
    working_side: int = WORKING_SIDE,
) -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes to an oriented (H, W, 3) uint8 RGB array, checking limits."""
    if not data:
        raise InvalidReference(index, f"is empty; send a {_ACCEPTED} image")
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidReference(
            index,
            f"is not a {_ACCEPTED} image (it looks like {describe_unknown(data)}); "
            f"convert it to {_ACCEPTED}",
        )
    name = _FORMAT_NAMES[fmt]
    try:
        img = _OPENERS[fmt](io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(index, None, max_pixels) from exc
    except MemoryError:
        raise
    except Exception as exc:  # Pillow raises many types on malformed headers
        raise _corrupt(index, name, exc) from exc
    with img:
        _check_dimensions(index, img.size, _orientation(img), max_pixels)
        if fmt == "JPEG" and working_side > 0:
            # DCT-domain scaling: Pillow picks the largest 1/2^k that keeps both sides
            # >= the requested size, so nothing below WORKING_SIDE is ever produced.
            img.draft("RGB", (working_side, working_side))
        try:
            img.load()
            rgb = _to_small_rgb(img, working_side)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(index, None, max_pixels) from exc
        except MemoryError:
            raise
        except Exception as exc:  # truncated/corrupt streams surface as OSError, ValueError, ...
            raise _corrupt(index, name, exc) from exc
        orientation = _orientation(img)
    return _apply_orientation(rgb, orientation)


def _corrupt(index: int, name: str, exc: Exception) -> InvalidReference:
    reason = str(exc) or type(exc).__name__
    return InvalidReference(
        index,
        f"could not decode the {name} data ({reason}); the file is truncated or corrupt — "
        "re-export the image and send it again",
    )


def _too_many_pixels(index: int, size: tuple[int, int] | None, max_pixels: int) -> InvalidReference:
    what = f"is {size[0]}×{size[1]} pixels ({size[0] * size[1] / 1e6:.1f} megapixels)" if size else (
        "declares far too many pixels"
    )
    return InvalidReference(
        index,
        f"{what}; references may have at most {max_pixels / 1e6:g} megapixels — "
        "downscale it (4096 px on the long side is plenty)",
    )


def _check_dimensions(
    index: int, stored: tuple[int, int], orientation: int, max_pixels: int
) -> None:
    width, height = (stored[1], stored[0]) if orientation in (5, 6, 7, 8) else stored
    if width * height > max_pixels:
        raise _too_many_pixels(index, (width, height), max_pixels)
    if min(width, height) < MIN_SIDE:
        raise InvalidReference(
            index,
            f"is {width}×{height} pixels; references must be at least {MIN_SIDE}×{MIN_SIDE} "
            "pixels — send a larger image",
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        ratio = max(width, height) / min(width, height)
        shape = f"{ratio:.2f}:1" if width > height else f"1:{ratio:.2f}"
        raise InvalidReference(
            index,
            f"is {width}×{height} pixels, an aspect ratio of {shape}; references must be between "
            "1:4 and 4:1 — crop it closer to the subject",
        )


def _orientation(img: Image.Image) -> int:
    # Read from the raw EXIF block already parsed from the header: img.getexif() on a
    # PNG would force a full decode before the size checks.
    raw = img.info.get("exif")
    if not raw:
        return 1
    try:
        exif = Image.Exif()
        exif.load(raw)
        value = exif.get(EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block should not reject an otherwise fine image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _to_rgb(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img)
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        return _to_rgb(img)
    if mode.startswith("I") or mode == "F":
        values = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16") or mode == "I":  # 16-bit PNG greyscale: 0..65535
            values = values / 257.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        rgba = np.asarray(img.convert("RGBA"))
        return _over_white(cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB), np.ascontiguousarray(rgba[:, :, 3]))
    return np.asarray(img.convert("RGB"))  # L, 1, CMYK, YCbCr, ...


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite straight-alpha ``rgb`` over white, in 8 bits: 255 - (255 - c) * a / 255, rounded."""
    opaque = cv2.merge([alpha, alpha, alpha])
    return np.subtract(255, cv2.multiply(255 - rgb, opaque, scale=1 / 255), dtype=np.uint8)


def _target_size(width: int, height: int, working_side: int) -> tuple[int, int]:
    """(width, height) with the short side at most ``working_side``, the shape kept."""
    short = min(width, height)
    if working_side <= 0 or short <= working_side:
        return width, height
    scale = working_side / short
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_small_rgb(img: Image.Image, working_side: int) -> np.ndarray:
    """The loaded image as 8-bit RGB shrunk to :func:`_target_size`, a strip of rows at a time.

    Each strip is converted (:func:`_to_rgb`) and resized to the final width and to 1/k of
    its height, k the integer part of the shrink factor: strips are a multiple of k rows,
    so area averaging never straddles two strips. A last, small resize brings the height
    from rows/k to the final height.
    """
    width, height = img.size
    out_w, out_h = _target_size(width, height, working_side)
    k = max(1, height // out_h)
    rows = max(k, STRIP_PIXELS // width // k * k)
    if rows >= height and (out_w, out_h) == (width, height):
        return _to_rgb(img)  # small enough to convert in one go, and already the right size
    mid_h = sum(max(1, round(min(rows, height - top) / k)) for top in range(0, height, rows))
    middle = np.empty((mid_h, out_w, 3), np.uint8)
    at = 0
    for top in range(0, height, rows):
        strip = _to_rgb(img.crop((0, top, width, min(height, top + rows))))
        size = (out_w, max(1, round(strip.shape[0] / k)))
        if size != (strip.shape[1], strip.shape[0]):
            strip = cv2.resize(strip, size, interpolation=cv2.INTER_AREA)
        middle[at : at + size[1]] = strip
        at += size[1]
    if mid_h == out_h:
        return middle
    return cv2.resize(middle, (out_w, out_h), interpolation=cv2.INTER_AREA)


def _apply_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    # EXIF 0x0112: how the stored rows/columns map to the displayed image.
    if orientation == 2:
        out = rgb[:, ::-1]
    elif orientation == 3:
        out = rgb[::-1, ::-1]
    elif orientation == 4:
        out = rgb[::-1]
    elif orientation == 5:
        out = rgb.transpose(1, 0, 2)
    elif orientation == 6:
        out = rgb.transpose(1, 0, 2)[:, ::-1]
    elif orientation == 7:
        out = rgb.transpose(1, 0, 2)[::-1, ::-1]
    elif orientation == 8:
        out = rgb.transpose(1, 0, 2)[::-1]
    else:
        out = rgb
    # Callers may draw on the result; np.asarray(PIL image) can be read-only.
    return np.require(out, dtype=np.uint8, requirements=["C", "W"])
