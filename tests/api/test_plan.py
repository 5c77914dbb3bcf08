"""``POST /v2/plan`` over the wire: the engine's plan for a v2 body, free and rate limited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from refvid.api.plan import DecodedCache
from refvid.billing import balance_of
from refvid.errors import InvalidReference
from refvid.references import SERVER

from .live import LiveServer, body, image_b64, png_server

PLAN = "/v2/plan"


def error_of(response: requests.Response) -> tuple[str, str, list[dict[str, str]]]:
    """(code, message, fields) of an error answer."""
    data: dict[str, Any] = response.json()
    assert isinstance(data["error"], str)
    return data["code"], data["error"], data.get("fields") or []


@pytest.mark.slow  # a live server
def test_plan_is_the_engines_plan_and_costs_nothing(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, key_id = server.key("2")
    two = [image_b64(1, (320, 240)), image_b64(2, (240, 320))]
    data = body(
        prompt="the first picture, wide. Then a close-up of image 2, slow push in",
        image_urls=two, seed=42, bgm=True, webhook_url="https://example.com/hook", payload={"a": 1},
    )
    response = requests.post(server.url + PLAN, json=data, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["cost"] == "1" and answer["remaining_credits"] == "2"
    plan = answer["plan"]
    assert plan["engine"] == "motion" and plan["seed"] == 42
    assert (plan["width"], plan["height"], plan["frame_count"]) == (1080, 1080, 120)
    shots = plan["shots"]
    assert [s["image"] for s in shots] == [1, 2]
    assert shots[1]["framing"] == "close-up" and shots[1]["move"] == "push_in"
    assert shots[0]["start_s"] == 0 and abs(shots[-1]["end_s"] - 5.0) < 1e-6
    assert len(plan["cut_times"]) == len(shots) - 1
    assert plan["music"]["tempo_bpm"] > 0  # bgm plans the music too
    # The same body plans the same way; nothing was charged or queued.
    again = requests.post(server.url + PLAN, json=data, headers={"x-api-key": key}).json()
    assert again["plan"] == plan
    assert balance_of(server.state.db, key_id) == 2000
    listed = requests.get(server.url + "/v2/requests", headers={"x-api-key": key}).json()
    assert listed["data"] == []


@pytest.mark.slow  # a live server
def test_seed_zero_plans_with_a_reported_seed(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, _ = server.key("1")
    plan = requests.post(server.url + PLAN, json=body(seed=0), headers={"x-api-key": key}).json()["plan"]
    assert 1 <= plan["seed"] <= 999_999
    replay = requests.post(server.url + PLAN, json=body(seed=plan["seed"]), headers={"x-api-key": key})
    assert replay.json()["plan"] == plan


@pytest.mark.slow  # a live server
def test_plan_errors_name_what_to_change(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, key_id = server.key("1")
    headers = {"x-api-key": key}

    response = requests.post(server.url + PLAN, json=body())
    assert response.status_code == 401 and error_of(response)[0] == "missing_api_key"
    response = requests.post(server.url + PLAN, json=body(), headers={"x-api-key": "rv_wrong"})
    assert response.status_code == 401 and error_of(response)[0] == "invalid_api_key"

    response = requests.post(server.url + PLAN, json=body(prompt="x" * 1501), headers=headers)
    code, message, fields = error_of(response)
    assert response.status_code == 422 and code == "invalid_field"
    assert [f["field"] for f in fields] == ["prompt"] and "1500" in message

    tiny = image_b64(3, (100, 100))
    response = requests.post(server.url + PLAN, json=body(image_urls=[image_b64(), tiny]), headers=headers)
    code, message, fields = error_of(response)
    assert response.status_code == 400 and code == "invalid_reference"
    assert fields[0]["field"] == "image_urls[1]" and "128" in message

    with png_server(b"not a png") as url:
        response = requests.post(server.url + PLAN, json=body(image_urls=[url]), headers=headers)
    code, message, fields = error_of(response)
    assert response.status_code == 400 and fields[0]["field"] == "image_urls[0]"
    assert balance_of(server.state.db, key_id) == 1000


@pytest.mark.slow  # a live server
def test_plans_have_their_own_rate_limit(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, plan_rate_limit=2, rate_limit=1000)
    key, _, _ = server.key("5")
    headers = {"x-api-key": key}
    codes = [requests.post(server.url + PLAN, json=body(), headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = requests.post(server.url + PLAN, json=body(), headers=headers)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    code, message, _ = error_of(refused)
    assert code == "rate_limited" and "2 plans per minute" in message
    # Submits are counted apart: the plan limit does not block them.
    submit = requests.post(server.url + "/v2/vidu-q1-reference-to-video", json=body(), headers=headers)
    assert submit.status_code == 202


def test_decoded_references_are_reused_by_content_then_evicted() -> None:
    a, b, c = image_b64(1), image_b64(2), image_b64(3)
    cache = DecodedCache()
    first = cache.load([a, b], SERVER)
    again = cache.load([b, a], SERVER)  # reordered: same pixels, new positions
    assert again[0].image is first[1].image and again[1].image is first[0].image
    assert [r.index for r in again] == [0, 1] and again[0].label == first[1].label
    assert not first[0].image.flags.writeable  # nobody can change what the next plan sees
    # A bad source raises as load_references would, naming its position, and is not kept.
    with pytest.raises(InvalidReference) as error:
        cache.load([a, image_b64(4, (100, 100))], SERVER)
    assert error.value.index == 1
    # Bounded in bytes: room for two 256x256 images, so the least recently used goes.
    small = DecodedCache(max_bytes=2 * 256 * 256 * 3)
    kept_a = small.load([a], SERVER)[0].image
    small.load([b], SERVER)
    small.load([a], SERVER)  # a is now the most recent
    small.load([c], SERVER)  # evicts b
    assert small.load([a], SERVER)[0].image is kept_a
    assert small.load([b], SERVER)[0].image is not first[1].image
