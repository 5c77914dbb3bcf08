"""Every error code on the wire, with its JSON body naming what to change."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine

from refvid.api.reads import ReadPath

from .live import LiveServer, body, image_b64

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")

V1 = "/v1/vidu-q1-reference-to-video"
V2 = "/v2/vidu-q1-reference-to-video"


def _error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()
    # The hosted gateway's shape: "error" is the human-readable message, details beside it.
    assert isinstance(error["error"], str) and error["error"]
    assert error["code"] == code
    assert error["request_id"].startswith("req_")
    assert error["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return error


@pytest.fixture
def idle(serve: Callable[..., LiveServer]) -> LiveServer:
    """A server without workers: requests stay queued, nothing renders."""
    return serve(workers=0, max_body_bytes=64 * 1024, rate_limit=1000, max_queue=5)


@pytest.mark.parametrize("path", [V1, V2])
def test_missing_and_unknown_key_are_401(idle: LiveServer, path: str) -> None:
    error = _error(requests.post(idle.url + path, json=body()), 401, "missing_api_key")
    assert "x-api-key" in error["error"]
    error = _error(
        requests.post(idle.url + path, json=body(), headers={"x-api-key": "rv_nope"}),
        401, "invalid_api_key",
    )
    assert "unknown or revoked" in error["error"]


def test_revoked_key_is_401(idle: LiveServer) -> None:
    from refvid.billing import revoke_key

    key, _, key_id = idle.key("10")
    assert revoke_key(idle.state.db, key_id)
    _error(requests.post(idle.url + V2, json=body(), headers={"x-api-key": key}), 401, "invalid_api_key")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"duration": 7}, "duration"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"seed": 1_000_000}, "seed"),
        ({"seed": -1}, "seed"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 1501}, "prompt"),
        ({"image_urls": []}, "image_urls"),
        ({"image_urls": ["a"] * 8}, "image_urls"),
        ({"movement_amplitude": "huge"}, "movement_amplitude"),
        ({"bgm": "yes"}, "bgm"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_field_is_422_naming_it(idle: LiveServer, overrides: dict[str, Any], field: str) -> None:
    key, _, _ = idle.key("10")
    response = requests.post(idle.url + V1, json=body(**overrides), headers={"x-api-key": key})
    error = _error(response, 422, "invalid_field")
    assert field in error["error"]
    assert [f["field"] for f in error["fields"]] == [field]


def test_missing_field_and_bad_json_are_422(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    data = body()
    del data["prompt"]
    error = _error(requests.post(idle.url + V1, json=data, headers={"x-api-key": key}), 422, "invalid_field")
    assert error["fields"][0]["field"] == "prompt"
    json_headers = {"x-api-key": key, "Content-Type": "application/json"}
    error = _error(requests.post(idle.url + V1, data=b"{not json", headers=json_headers), 422, "invalid_json")
    assert "JSON" in error["error"]


def test_v2_only_fields_are_refused_by_v1_and_checked_by_v2(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    response = requests.post(idle.url + V1, json=body(payload={"a": 1}), headers={"x-api-key": key})
    assert "payload" in _error(response, 422, "invalid_field")["error"]
    response = requests.post(
        idle.url + V2, json=body(webhook_url="ftp://example.com/x"), headers={"x-api-key": key}
    )
    assert "webhook_url" in _error(response, 422, "invalid_field")["error"]
    response = requests.post(
        idle.url + V2, json=body(webhook_url="http://169.254.169.254/latest"), headers={"x-api-key": key}
    )
    assert "webhook_url" in _error(response, 422, "invalid_field")["error"]


def test_body_over_the_limit_is_413_with_or_without_content_length(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    big = body(prompt="x", image_urls=["A" * 70_000])
    error = _error(requests.post(idle.url + V1, json=big, headers={"x-api-key": key}), 413, "body_too_large")
    assert "65536 bytes" in error["error"]

    def chunks() -> Any:  # no Content-Length: the server must count while reading
        for _ in range(20):
            yield b" " * 8192

    headers = {"x-api-key": key, "Content-Type": "application/json"}
    response = requests.post(idle.url + V1, data=chunks(), headers=headers)
    _error(response, 413, "body_too_large")


def test_not_enough_credits_is_406_and_nothing_is_charged(idle: LiveServer) -> None:
    key, _, key_id = idle.key("1.5")
    response = requests.post(idle.url + V1, json=body(duration=10), headers={"x-api-key": key})
    error = _error(response, 406, "insufficient_credits")
    assert error["cost"] == "2" and error["remaining_credits"] == "1.5"
    assert "credits" in error["error"]
    from refvid.billing import balance_of

    assert balance_of(idle.state.db, key_id) == 1500


@pytest.mark.parametrize("path", [V1, V2])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_or_missing_content_type_is_406(idle: LiveServer, path: str, content_type: str | None) -> None:
    key, _, _ = idle.key("10")
    headers = {"x-api-key": key, **({"Content-Type": content_type} if content_type else {})}
    response = requests.post(idle.url + path, data=json.dumps(body()), headers=headers)
    error = _error(response, 406, "unsupported_media_type")
    assert "Content-Type: application/json" in error["error"]
    assert (content_type or "missing") in error["error"]
    ok = {"x-api-key": key, "Content-Type": "Application/JSON; charset=utf-8"}
    assert requests.post(idle.url + V2, data=json.dumps(body()), headers=ok).status_code == 202


def test_rate_limit_is_429_with_retry_after(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, rate_limit=2)
    key, _, _ = server.key("100")
    codes = [
        requests.post(server.url + V2, json=body(), headers={"x-api-key": key}).status_code
        for _ in range(3)
    ]
    assert codes[:2] == [202, 202]
    response = requests.post(server.url + V2, json=body(), headers={"x-api-key": key})
    error = _error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1
    reset = datetime.strptime(response.headers["x-rate-limit-reset-at-utc"], "%Y-%m-%dT%H:%M:%SZ")
    wait = reset.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(seconds=-2) < wait - timedelta(seconds=int(response.headers["retry-after"])) < timedelta(seconds=2)
    assert "per minute" in error["error"]
    other, _, _ = server.key("100", name="other")  # limits are per key
    assert requests.post(server.url + V2, json=body(), headers={"x-api-key": other}).status_code == 202


def test_full_queue_is_429_with_retry_after(idle: LiveServer) -> None:
    key, _, _ = idle.key("100")
    for _ in range(5):
        assert requests.post(idle.url + V2, json=body(), headers={"x-api-key": key}).status_code == 202
    response = requests.post(idle.url + V2, json=body(), headers={"x-api-key": key})
    error = _error(response, 429, "queue_full")
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-rate-limit-reset-at-utc"].endswith("Z")
    assert "queue is full" in error["error"]


def test_unknown_route_and_unknown_request_are_404_json(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    _error(requests.get(idle.url + "/v3/nothing"), 404, "not_found")
    error = _error(
        requests.get(idle.url + "/v2/requests/req_unknown/status", headers={"x-api-key": key}),
        404, "not_found",
    )
    assert "req_unknown" in error["error"]


def test_internal_error_is_500_without_stack_trace(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    idle.state.db.read.kw["bind"].dispose()
    original, reads = idle.state.db.read, idle.state.reads
    # Break the store on purpose: the sessions, and the lean read path's own connection.
    broken = ReadPath(idle.state.db)
    idle.state.db.read = None  # type: ignore[assignment]
    broken.engine = create_engine(f"sqlite:///{idle.settings.home}/missing/folder/refvid.db")
    idle.state.reads = broken
    try:
        response = requests.get(idle.url + "/v2/requests", headers={"x-api-key": key})
    finally:
        idle.state.db.read, idle.state.reads = original, reads
    error = _error(response, 500, "internal_error")
    assert "request id" in error["error"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"payload": {"blob": "x" * 70_000}}, "payload"),
        ({"webhook_url": "http://127.0.0.1/" + "a" * 2048}, "webhook_url"),
    ],
)
def test_v2_field_limits(serve: Callable[..., LiveServer], overrides: dict[str, Any], field: str) -> None:
    server = serve(workers=0)
    key, _, _ = server.key("10")
    response = requests.post(server.url + V2, json=body(**overrides), headers={"x-api-key": key})
    assert field in _error(response, 422, "invalid_field")["error"]


def test_idempotency_key_length_is_checked(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    response = requests.post(
        idle.url + V2, json=body(), headers={"x-api-key": key, "Idempotency-Key": "k" * 256}
    )
    assert "Idempotency-Key" in _error(response, 422, "invalid_header")["error"]


def test_not_ready_is_503_in_the_error_shape(idle: LiveServer) -> None:
    original = idle.state.db.read
    idle.state.db.read = None  # type: ignore[assignment]  # the database is unreachable
    try:
        response = requests.get(idle.url + "/readyz")
    finally:
        idle.state.db.read = original
    error = _error(response, 503, "not_ready")
    assert error["status"] == "not ready" and error["problems"][0].startswith("database")
    assert "database" in error["error"]


@pytest.mark.parametrize("path", [V1, V2])
def test_deeply_nested_json_is_422_naming_the_field(idle: LiveServer, path: str) -> None:
    key, _, _ = idle.key("10")
    headers = {"x-api-key": key, "Content-Type": "application/json"}
    # 1000 levels: more than json.loads can parse without a RecursionError.
    raw = '{"prompt": "p", "image_urls": ' + "[" * 1000 + "]" * 1000 + "}"
    error = _error(requests.post(idle.url + path, data=raw, headers=headers), 422, "invalid_field")
    assert error["fields"][0]["field"].startswith("image_urls[0][0]")
    assert "nested more than 32 levels" in error["error"]
    # 300 levels in a v2 payload: 600 bytes that pydantic could not serialise to hash.
    nested: Any = []
    for _ in range(300):
        nested = [nested]
    response = requests.post(idle.url + path, json=body(payload=nested), headers=headers)
    error = _error(response, 422, "invalid_field")
    assert error["fields"][0]["field"].startswith("payload[0][0]")
    assert requests.get(idle.url + "/v2/requests", headers=headers).json()["data"] == []


def test_inline_reference_is_checked_before_any_charge(idle: LiveServer) -> None:
    key, _, key_id = idle.key("1")
    headers = {"x-api-key": key}
    for path in (V1, V2):
        bad = body(image_urls=[image_b64(1), "bm90IGFuIGltYWdl"])  # base64 of "not an image"
        error = _error(requests.post(idle.url + path, json=bad, headers=headers), 400, "invalid_reference")
        assert "image_urls[1]" in error["error"] and error["index"] == 1
        assert error["remaining_credits"] == "1"
    gif = body(image_urls=[_gif_b64()])
    error = _error(requests.post(idle.url + V2, json=gif, headers=headers), 400, "invalid_reference")
    assert "GIF" in error["error"] and "path" not in error["error"]
    # Nothing was charged or queued: the one credit still buys a valid request.
    assert requests.get(idle.url + "/v2/requests", headers=headers).json()["data"] == []
    from refvid.billing import balance_of

    assert balance_of(idle.state.db, key_id) == 1000
    assert requests.post(idle.url + V2, json=body(), headers=headers).status_code == 202


def test_whole_numbers_written_as_floats_are_accepted(idle: LiveServer) -> None:
    key, _, _ = idle.key("10")
    headers = {"x-api-key": key}
    response = requests.post(idle.url + V2, json=body(seed=42.0, duration=5.0), headers=headers)
    assert response.status_code == 202, response.text
    result = requests.get(response.json()["result_url"], headers=headers).json()
    assert result["seed"] == 42 and result["duration"] in (None, 5)
    error = _error(requests.post(idle.url + V2, json=body(seed=42.5), headers=headers), 422, "invalid_field")
    assert error["fields"][0]["field"] == "seed"


def _gif_b64() -> str:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (250, 10, 10)).save(buf, format="GIF")
    return base64.b64encode(buf.getvalue()).decode()
