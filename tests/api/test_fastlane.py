"""The status fast lane answers like the FastAPI route it stands in for (documents: test_read_documents)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from .live import LiveServer, body

pytestmark = pytest.mark.slow


def test_status_answers_errors_and_metrics_as_the_route_did(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, _ = server.key("10")
    headers = {"x-api-key": key}
    job = requests.post(server.url + "/v2/vidu-q1-reference-to-video", json=body(), headers=headers).json()
    status = f"{server.url}/v2/requests/{job['request_id']}/status"
    ok = requests.get(status, headers=headers)
    assert ok.status_code == 200 and ok.json()["queue_position"] == 1
    assert ok.headers["x-request-id"].startswith("req_") and ok.headers["x-request-id"] != job["request_id"]
    bearer = requests.get(status, headers={"Authorization": f"Bearer {key}"})
    assert bearer.status_code == 200
    missing = requests.get(status)
    assert missing.status_code == 401 and missing.json()["code"] == "missing_api_key"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    unknown = requests.get(f"{server.url}/v2/requests/req_nope/status", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    # Other methods and longer paths are FastAPI's, as before.
    assert requests.post(status, headers=headers).status_code == 405
    assert requests.get(status + "/extra", headers=headers).status_code == 404
    text = requests.get(server.url + "/metrics").text
    assert 'route="/v2/requests/{request_id}/status",status="200"} 2.0' in text
    assert 'route="/v2/requests/{request_id}/status",status="401"} 1.0' in text
