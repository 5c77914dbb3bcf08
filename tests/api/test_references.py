"""URL references through the API: fetched from 127.0.0.1 when allowed, 400 when not."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
import requests

from refvid.billing import balance_of

from .live import LiveServer, body, image_b64, png_server

pytestmark = pytest.mark.slow  # live server and renders: outside the fast lane (-m "not slow")

V1 = "/v1/vidu-q1-reference-to-video"
PNG = base64.b64decode(image_b64(3))


@pytest.fixture
def image_url() -> Iterator[str]:
    with png_server(PNG) as url:
        yield url


def test_url_reference_from_an_allowed_network_renders(serve: Callable[..., LiveServer], image_url: str) -> None:
    server = serve(allow_private_networks=["127.0.0.0/8"])
    key, _, _ = server.key("5")
    response = requests.post(
        server.url + V1, json=body(image_urls=[image_url, image_b64(1)]), headers={"x-api-key": key}
    )
    assert response.status_code == 200, response.text
    assert response.content[4:8] == b"ftyp"


def test_forbidden_url_is_400_naming_the_index_and_not_billed(
    serve: Callable[..., LiveServer], image_url: str
) -> None:
    server = serve(allow_private_networks=[])
    key, _, key_id = server.key("5")
    response = requests.post(
        server.url + V1, json=body(image_urls=[image_b64(1), image_url]), headers={"x-api-key": key}
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "invalid_reference"
    assert "image_urls[1]" in error["error"]
    assert error["remaining_credits"] == "5"
    assert balance_of(server.state.db, key_id) == 5000
