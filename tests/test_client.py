"""The Python client against a live server: sync and async, helpers, errors."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from refvid.client import (
    ApiError,
    AsyncClient,
    Client,
    image_file_to_base64,
    image_url_to_base64,
    image_urls_to_base64,
)
from refvid.documents import ResultDocument, StatusDocument, Submitted
from refvid.jobs.states import Status
from refvid.media.probe import probe

from .api.live import LiveServer, image_b64, png_server
from .api.live import serve as serve  # the live-server fixture

pytestmark = pytest.mark.slow  # live server and renders: outside the fast lane (-m "not slow")

PNG = base64.b64decode(image_b64(5))


@pytest.fixture
def png_url() -> Iterator[str]:
    with png_server(PNG) as url:
        yield url


def test_base64_helpers(tmp_path: Path, png_url: str) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(PNG)
    assert base64.b64decode(image_file_to_base64(path)) == PNG
    assert base64.b64decode(image_url_to_base64(png_url)) == PNG
    assert [base64.b64decode(x) for x in image_urls_to_base64([png_url, png_url])] == [PNG, PNG]


def test_sync_client_generate_submit_wait_download_cancel(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = serve()
    key, _, _ = server.key("10")
    refs = [image_b64(1)]
    with Client(key, base_url=server.url) as client:
        mp4 = client.generate("a scene, then a close-up", refs, aspect_ratio="1:1", seed=3)
        (tmp_path / "a.mp4").write_bytes(mp4)
        assert probe(tmp_path / "a.mp4").frame_count == 120
        assert client.last_headers["x-seed-value"] == "3"

        sub = client.submit("a scene", refs, aspect_ratio="1:1", seed=4, payload={"n": 1}, idempotency_key="k1")
        assert isinstance(sub, Submitted)
        assert client.submit("a scene", refs, aspect_ratio="1:1", seed=4, payload={"n": 1},
                             idempotency_key="k1").request_id == sub.request_id
        seen: list[StatusDocument] = []
        final = client.wait(sub.request_id, progress=seen.append)
        assert final.status == Status.COMPLETED and seen[-1] == final
        result = client.result(sub.request_id)
        assert isinstance(result, ResultDocument)
        assert result.payload == {"n": 1} and result.seed == 4 and result.output is not None
        client.download(sub.request_id, tmp_path / "b.mp4")
        assert probe(tmp_path / "b.mp4").frame_count == 120
        assert client.download(sub.request_id, what="cover")[:2] == b"\xff\xd8"
        assert client.list(limit=5).data[0].request_id == sub.request_id
        with pytest.raises(ApiError) as err:
            client.cancel(sub.request_id)
        queued = client.submit("a scene", refs, aspect_ratio="1:1", seed=5)
        with pytest.raises(TimeoutError):
            client.wait(queued.request_id, timeout=0.3)
        client.cancel(queued.request_id)
        assert err.value.status == 409 and err.value.code == "already_final"
        assert err.value.message.startswith(f"request {sub.request_id} is already COMPLETED")
        # A cancelled request's status and result are documents, not errors, for this client.
        assert client.status(queued.request_id).status == Status.CANCELLED
        assert client.result(queued.request_id).code == "cancelled"
        assert client.credits().remaining_credits == "8"

    with pytest.raises(ValidationError, match="duration"):
        Client("x", base_url=server.url).generate("p", refs, duration=7)
    with pytest.raises(ApiError) as err:
        Client("rv_wrong", base_url=server.url).status("req_x")
    assert err.value.status == 401 and err.value.request_id


def test_async_client(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, _ = server.key("10")

    async def scenario() -> tuple[StatusDocument, ResultDocument, list[str]]:
        async with AsyncClient(key, base_url=server.url) as client:
            sub = await client.submit("a scene", [image_b64(1)], aspect_ratio="1:1")
            seen: list[str] = []

            async def cancel_soon() -> None:
                await asyncio.sleep(0.3)
                await client.cancel(sub.request_id)

            with pytest.raises(TimeoutError, match="QUEUED"):
                await client.wait(sub.request_id, timeout=0.3)
            task = asyncio.create_task(cancel_soon())
            final = await client.wait(sub.request_id, progress=lambda d: seen.append(d.status))
            await task
            return final, await client.result(sub.request_id), seen

    # In a thread of its own: the session's Playwright (browser tests) keeps an event loop
    # running in the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(1) as pool:
        final, result, seen = pool.submit(asyncio.run, scenario()).result()
    assert final.status == "CANCELLED" and seen[0] == "QUEUED" and seen[-1] == "CANCELLED"
    assert result.refunded is True and result.remaining_credits == "10"
