"""load.py: every kind of source, labels that never leak payloads, errors named by index."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from refvid.errors import InvalidReference
from refvid.references import (
    CLI,
    Reference,
    ReferencePolicy,
    UrlFetcher,
    check_inline,
    load_references,
)

from .helpers import Server, encode, quadrants

PNG = encode(quadrants(200, 160), "PNG")
JPEG = encode(quadrants(300, 200), "JPEG", quality=95)
B64 = base64.b64encode(PNG).decode()


def test_every_source_kind_decodes_in_order(server: Server, tmp_path: Path) -> None:
    server.route("/cat.jpg", JPEG)
    path = tmp_path / "dog.webp"
    path.write_bytes(encode(quadrants(160, 200), "WEBP", lossless=True))
    refs = load_references(
        [B64, f"data:image/png;base64,{B64}", server.url("/cat.jpg?X-Amz-Signature=abc"), str(path)],
        ReferencePolicy(allow_paths=True, fetcher=UrlFetcher(allowed_networks=["127.0.0.0/8"])),
    )
    assert [r.index for r in refs] == [0, 1, 2, 3]
    assert all(isinstance(r, Reference) for r in refs)
    assert [r.image.shape for r in refs] == [(160, 200, 3), (160, 200, 3), (200, 300, 3), (200, 160, 3)]
    assert np.array_equal(refs[0].image, quadrants(200, 160))
    kb = max(1, round(len(PNG) / 1000))
    assert refs[0].label == f"base64 ({kb} kB)"
    assert refs[1].label == f"image/png data URI ({kb} kB)"
    assert refs[2].label == f"http://127.0.0.1:{server.port}/cat.jpg"
    assert refs[3].label == str(path)
    assert all(B64[:40] not in r.label and "Signature" not in r.label for r in refs)


def test_fetcher_receives_url_and_index() -> None:
    calls: list[tuple[str, int]] = []

    def fetcher(url: str, index: int) -> bytes:
        calls.append((url, index))
        return JPEG

    refs = load_references([B64, " https://example.com/a.jpg "], ReferencePolicy(fetcher=fetcher))
    assert calls == [("https://example.com/a.jpg", 1)]
    assert refs[1].label == "https://example.com/a.jpg"


def test_default_fetcher_refuses_private_addresses(server: Server, connect_attempts: list[Any]) -> None:
    server.route("/cat.jpg", JPEG)
    with pytest.raises(InvalidReference, match=r"image_urls\[1\]: resolves to 127\.0\.0\.1, a loopback"):
        load_references([B64, server.url("/cat.jpg")])
    assert server.connections == [] and connect_attempts == []


def test_bad_reference_is_named_by_its_index() -> None:
    with pytest.raises(InvalidReference) as info:
        load_references([B64, B64, base64.b64encode(b"GIF89a" + b"\0" * 40).decode()])
    assert info.value.index == 2
    assert str(info.value).startswith("image_urls[2]: is not a JPEG, PNG or WebP image (it looks like a GIF")


@pytest.mark.parametrize(
    "source",
    ["/home/me/cat.jpg", "./cat.png", "../pics/cat", "~/cat.webp", "C:\\Users\\me\\cat.jpg", "images/cat", "cat.jpeg"],
)
def test_paths_are_refused_clearly_without_allow_paths(source: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidReference) as info:
        load_references([source])
    message = str(info.value)
    assert message.startswith("image_urls[0]: looks like a local file path")
    assert "image_file_to_base64" in message


def test_existing_file_is_not_read_without_allow_paths(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    with pytest.raises(InvalidReference, match="looks like a local file path"):
        load_references([str(path)])
    assert load_references([str(path)], CLI)[0].image.shape == (160, 200, 3)


def test_missing_file_with_allow_paths_says_so(tmp_path: Path) -> None:
    with pytest.raises(InvalidReference, match=r"no such file: .*missing\.png; check the path"):
        load_references([str(tmp_path / "missing.png")], CLI)


def test_file_over_the_size_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(InvalidReference, match=r"is 51\.0 MB; references may be at most 50 MB"):
        load_references([str(path)], CLI)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", "is empty; send an http(s) URL"),
        ("   ", "is empty"),
        ("ftp://example.com/cat.jpg", "'ftp:' sources are not supported"),
        ("file:///etc/passwd", "'file:' sources are not supported"),
        ("javascript:alert(1)", "'javascript:' sources are not supported"),
        ("not base64!", "is not valid base64"),
    ],
)
def test_unsupported_sources_are_refused(source: str, expected: str) -> None:
    with pytest.raises(InvalidReference) as info:
        load_references([B64, source])
    assert str(info.value).startswith("image_urls[1]: ")
    assert expected in str(info.value)


def test_non_string_source_is_refused() -> None:
    with pytest.raises(InvalidReference, match=r"image_urls\[0\]: must be a string, not bytes"):
        load_references([PNG])  # type: ignore[list-item]


def test_urls_are_downloaded_concurrently_and_kept_in_order(server: Server) -> None:
    # Each response waits until both requests are in flight: sequential fetching would
    # break the barrier (timeout) and fail the download.
    barrier = threading.Barrier(2, timeout=5)

    def serve(body: bytes) -> Callable[[BaseHTTPRequestHandler], None]:
        def handler(request: BaseHTTPRequestHandler) -> None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                request.send_error(503)
                return
            request.send_response(200)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        return handler

    server.routes["/a.png"] = serve(PNG)
    server.routes["/b.jpg"] = serve(JPEG)
    fetcher = UrlFetcher(allowed_networks=["127.0.0.0/8"])
    refs = load_references([server.url("/a.png"), B64, server.url("/b.jpg")], ReferencePolicy(fetcher=fetcher))
    assert [r.image.shape for r in refs] == [(160, 200, 3), (160, 200, 3), (200, 300, 3)]
    assert [r.label.rsplit("/", 1)[-1] for r in refs] == ["a.png", f"base64 ({max(1, round(len(PNG) / 1000))} kB)", "b.jpg"]


def test_first_bad_reference_by_index_wins_over_a_later_failed_download(server: Server) -> None:
    with pytest.raises(InvalidReference) as info:
        load_references(["not base64!", server.url("/missing.jpg")], ReferencePolicy(fetcher=UrlFetcher(allowed_networks=["127.0.0.0/8"])))
    assert info.value.index == 0


def test_small_gif_as_base64_is_named_as_a_gif_not_a_path() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (250, 10, 10)).save(buf, format="GIF")
    text = base64.b64encode(buf.getvalue()).decode()
    assert "/" in text  # what made it look like a path
    with pytest.raises(InvalidReference) as info:
        load_references([text])
    assert "looks like a GIF image" in str(info.value)
    assert "path" not in str(info.value)


def test_check_inline_decodes_base64_and_data_uris_but_leaves_urls() -> None:
    check_inline([B64, f"data:image/png;base64,{B64}", "https://example.com/a.jpg"])
    with pytest.raises(InvalidReference) as info:
        check_inline(["https://example.com/a.jpg", B64, B64[: len(B64) // 2]])
    assert info.value.index == 2 and "could not decode the PNG data" in str(info.value)
    small = base64.b64encode(encode(quadrants(100, 300), "PNG")).decode()
    with pytest.raises(InvalidReference, match=r"image_urls\[0\]: is 100×300 pixels"):
        check_inline([small])
